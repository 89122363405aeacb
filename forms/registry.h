/*
 * registry.h - agencies, sectors and targets (docs/design.md): loading the three
 * registry CSV files into the database, and an in-memory copy for lookups
 * by code while importing, collecting and scoring.  Registries are small
 * (hundreds of rows), so they are read whole.
 */
#ifndef SIPAS_REGISTRY_H
#define SIPAS_REGISTRY_H

#include <stdint.h>
#include <stdio.h>
#include <sqlite3.h>

#include "../lib/err.h"

#define REGISTRY_MAX_CODE 32
#define REGISTRY_MAX_ROWS 100000

enum registry_scope { SCOPE_ALL = 0, SCOPE_SECTOR = 1, SCOPE_AGENCY = 2 };

struct registry_entry {
	long long id;
	char *code;
	char *name;
	char *level;          /* agencies only: province, department, district or commune */
	long long parent_id;  /* agencies only: 0 when none */
	int32_t valid_from;   /* agencies only: its first day (Vietnam time); REGISTRY_ALWAYS_FROM: none */
	int32_t valid_to;     /* its last day; REGISTRY_STILL_VALID: it has not ended */
	long long successor_id;  /* what it was merged into; 0: none */
	char *successor;      /* that agency's code, or NULL */
};

#define REGISTRY_ALWAYS_FROM INT32_MIN
#define REGISTRY_STILL_VALID INT32_MAX

struct registry_target {
	int scope;            /* enum registry_scope */
	long long ref_id;     /* agency or sector id; 0 for SCOPE_ALL */
	double threshold;
	int from_quarter;     /* year * 4 + quarter - 1 */
};

struct registry {
	size_t n_agencies;
	struct registry_entry *agencies;  /* sorted by code */
	size_t n_sectors;
	struct registry_entry *sectors;   /* sorted by code */
	size_t n_targets;
	struct registry_target *targets;
};

/* Load agencies.csv, sectors.csv and targets.csv from the open streams into
 * db, inside the caller's transaction.  Agencies and sectors are added or
 * updated by code (never deleted: responses refer to them); targets are
 * replaced.  Errors are "FILE:LINE: column X: why". */
int registry_load(sqlite3 *db, FILE *agencies, const char *agencies_name, FILE *sectors,
		  const char *sectors_name, FILE *targets, const char *targets_name,
		  struct err *e);

/* Load the three files from directory `dir`. */
int registry_load_dir(sqlite3 *db, const char *dir, struct err *e);

/* Read the stored registry; *out is owned by the caller (registry_free). */
int registry_read(sqlite3 *db, struct registry **out, struct err *e);

/* Lookups by code or id; NULL when absent.  The entry is owned by the registry. */
const struct registry_entry *registry_agency(const struct registry *reg, const char *code);
const struct registry_entry *registry_sector(const struct registry *reg, const char *code);
const struct registry_entry *registry_agency_by_id(const struct registry *reg, long long id);
const struct registry_entry *registry_sector_by_id(const struct registry *reg, long long id);

/* 0 when agency a existed on `day` (Vietnam time), else ERR_INVALID naming
 * the field agency: "X ended on DAY: its successor is Y" (or "... and has
 * no successor"), or "X begins on DAY". */
int registry_check_valid(const struct registry_entry *a, int32_t day, struct err *e);

/* The agency that agency id stands for at `day`: itself, or, when it had
 * ended by then, its successor's, followed to the last that still existed
 * on `day` (or the last one).  Owned by reg; NULL for an unknown id. */
const struct registry_entry *registry_agency_at(const struct registry *reg, long long id, int32_t day);

/* Free a registry; NULL-safe. */
void registry_free(struct registry *reg);

#endif
