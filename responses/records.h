/*
 * records.h - the one-stop system's dossier records (docs/onestop.md,
 * "Dossier records and the per-dossier rate"): one record per dossier of a
 * deciding agency, checked field by field, and stored in dossier_records
 * so that the newest version of each dossier wins, whichever way it came
 * in (POST /api/dossiers or `sipas dossiers import --records`) and in
 * whatever order.
 */
#ifndef SIPAS_RECORDS_H
#define SIPAS_RECORDS_H

#include <stdint.h>
#include <stdio.h>
#include <jansson.h>
#include <sqlite3.h>

#include "../forms/registry.h"
#include "../lib/csv.h"
#include "../lib/err.h"

#define RECORDS_MAX_CODE 64          /* a dossier's code, as a rating's dossier_code */
#define RECORDS_MAX_PROCEDURE 300    /* a procedure's code or name, in bytes */
#define RECORDS_MAX_BATCH 500        /* records in one POST /api/dossiers */
#define RECORDS_FUTURE_SECONDS 600   /* how far ahead of the clock updated_at may be */

/* The fields of a record, in the order of the CSV export's columns. */
enum records_field {
	RECORDS_DOSSIER, RECORDS_AGENCY, RECORDS_RECEIVED_BY, RECORDS_SECTOR, RECORDS_PROCEDURE,
	RECORDS_CHANNEL, RECORDS_RECEIVED_AT, RECORDS_DUE_AT, RECORDS_FINISHED_AT, RECORDS_COMPLAINT,
	RECORDS_UPDATED_AT, RECORDS_N_FIELDS
};

/* The field names ("dossier", "agency", ...), indexed by enum records_field,
 * then NULL: the CSV header's columns and the JSON members alike. */
extern const char *const records_fields[RECORDS_N_FIELDS + 1];

/* One checked record.  Times are Unix seconds. */
struct records_record {
	char dossier[RECORDS_MAX_CODE + 1];
	const struct registry_entry *agency;       /* the deciding agency; borrowed */
	const struct registry_entry *received_by;  /* the office that took it in; borrowed */
	const struct registry_entry *sector;       /* borrowed */
	char procedure[RECORDS_MAX_PROCEDURE + 1];
	const char *channel;                       /* "direct", "online" or "postal"; static */
	int64_t received_at;
	int has_due, has_finished;
	int64_t due_at;                            /* when has_due */
	int64_t finished_at;                       /* when has_finished */
	int32_t finished_day;                      /* when has_finished: its day in Vietnam time */
	int complaint;                             /* 0 or 1 */
	int64_t updated_at;
};

/* Check one record given as text: value[f] for each enum records_field,
 * "" (or NULL) when absent.  `now` (Unix seconds) bounds updated_at.  0
 * with *out filled, or ERR_INVALID with e->field naming the field and the
 * text saying why.  Borrows reg for *out's agencies and sector. */
int records_check(const struct registry *reg, const char *const *value, int64_t now,
		  struct records_record *out, struct err *e);

/* The same for one JSON object of a POST /api/dossiers body: its members
 * are the fields, strings (complaint also 0/1 or false/true; the optional
 * ones also null); an unknown member is refused by name. */
int records_check_json(const struct registry *reg, json_t *obj, int64_t now, struct records_record *out,
		       struct err *e);

/* What storing a record did. */
enum records_outcome {
	RECORDS_STORED,      /* a dossier not stored before */
	RECORDS_UPDATED,     /* newer than the stored version, which it replaced */
	RECORDS_UNCHANGED,   /* as old as the stored version: ignored */
	RECORDS_OLDER        /* older than the stored version: ignored */
};

/* "stored", "updated", "unchanged" or "older".  Can't fail. */
const char *records_outcome_name(int outcome);

/* The prepared statements that store records on one connection. */
struct records_store;

/* Prepare them on db; *out is owned (records_store_free).  ERR_DB. */
int records_store_new(sqlite3 *db, struct records_store **out, struct err *e);

/* Store r (inside the caller's transaction), stamped stored_at = now:
 * inserted, or replacing the stored version of its agency and dossier
 * when r's updated_at is newer, else ignored; *outcome says which.  ERR_DB. */
int records_store_put(struct records_store *st, const struct records_record *r, int64_t now, int *outcome,
		      struct err *e);

/* NULL-safe. */
void records_store_free(struct records_store *st);

struct records_stats {
	long rows;                       /* data rows read */
	long outcomes[RECORDS_OLDER + 1]; /* of them, by enum records_outcome */
};

/* Load the one-stop system's CSV export on fp (named `name` in messages;
 * `size` its bytes for the progress line, 0 when unknown), its header row
 * naming records_fields in any order (received_by, due_at and finished_at
 * may be left out), in one transaction.  Streamed: one row in memory at
 * a time.  Every row is checked: a bad one is listed in *bad ("NAME:LINE:
 * column X: why", the first CSV_LISTED_ROWS by line) and any bad row
 * refuses the file, nothing stored, `e` summing them up. */
int records_import_csv(sqlite3 *db, const struct registry *reg, FILE *fp, const char *name, uint64_t size,
		       int64_t now, struct records_stats *stats, struct csv_bad_rows *bad, struct err *e);

#endif
