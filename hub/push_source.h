/*
 * push_source.h - what `sipas push` reads from a province's database
 * (docs/hub.md, "Pushing a province"): opened read-only, its rows written
 * as lines of PostgreSQL's COPY text format, ready to stream to the hub.
 *
 * Responses come in visibility order (docs/design.md): collector ratings
 * by responses.seq, the rows of a done import by imports.seq and then by
 * id, the two merged into one stream after a position (seq, id).  Each
 * call reads one batch in one short read transaction of its own, so that
 * a long push never holds back a live collector's WAL checkpoint.
 */
#ifndef SIPAS_PUSH_SOURCE_H
#define SIPAS_PUSH_SOURCE_H

#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

#include "../lib/err.h"
#include "../lib/strbuf.h"

#define PUSH_IDENTITY_MAX 64

/* A place in the visibility order: the last visibility number sent and,
 * within it (an import's rows share one), the last row id sent. */
struct push_pos {
	int64_t seq;
	int64_t row;
};

struct push_source;

/* Open the database at `path` read-only and read its identity (settings
 * 'identity'); rows are written for `province` (borrowed, must outlive the
 * source).  *out owned (push_source_close).  ERR_DB, ERR_NOT_FOUND when the
 * database has no identity. */
int push_source_open(const char *path, const char *province, struct push_source **out, struct err *e);

/* The database's identity (32 hex characters); owned by the source. */
const char *push_source_identity(const struct push_source *src);

/* NULL-safe. */
void push_source_close(struct push_source *src);

/* The columns of sipas.responses that push_source_responses writes, in
 * the order of its lines. */
#define PUSH_RESPONSE_COLUMNS \
	"province, quarter, form, agency, response_id, day, ts, sector, channel, dossier_code, stratum, psu, " \
	"weight, answers, choices, digest"

/* Append to `copy` the COPY lines of up to `limit` visible responses after
 * `after`, in visibility order; *rows gets how many and *last the position
 * of the last one (after, when none).  ERR_DB, ERR_NOMEM. */
int push_source_responses(struct push_source *src, const struct push_pos *after, size_t limit,
			  struct strbuf *copy, size_t *rows, struct push_pos *last, struct err *e);

/* The columns of sipas.dossier_records that push_source_records writes. */
#define PUSH_RECORD_COLUMNS \
	"province, agency, code, received_by, sector, procedure, channel, received_at, due_at, finished_at, " \
	"finished_day, complaint, updated_at"

/* Append the COPY lines of up to `limit` dossier records stored after
 * record number `after`, in that numbering's order; *rows and *last as
 * for responses. */
int push_source_records(struct push_source *src, int64_t after, size_t limit, struct strbuf *copy,
			size_t *rows, int64_t *last, struct err *e);

/* The province's tables that are sent whole, each replacing what the hub
 * held of the province: the hub table its stage copies the columns of,
 * those columns, the query that reads them here (?1 is the province), and
 * the statements that move the stage (push_stage_TABLE) into the hub ($1
 * is the province): NULL for the usual pair, delete the province's rows
 * of the table, then insert the stage's. */
struct push_table {
	const char *table;     /* in HUB_SCHEMA */
	const char *columns;
	const char *query;
	const char *load[3];   /* NULL-terminated, or load[0] NULL */
};
#define PUSH_N_TABLES 6
extern const struct push_table push_tables[PUSH_N_TABLES];

/* Read every table of push_tables, in one read transaction (the registry
 * as one version of it): copies[i] gets table i's COPY lines, rows[i] its
 * count.  The caller owns copies (strbuf_release). */
int push_source_tables(struct push_source *src, struct strbuf *copies, size_t *rows, struct err *e);

#endif
