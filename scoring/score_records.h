/*
 * score_records.h - the per-dossier rate (docs/onestop.md, "Dossier records
 * and the per-dossier rate"): from the one-stop system's dossier records,
 * per deciding agency and sector, for a period and each of its months, the
 * dossiers finished, the shares finished late, with a complaint and rated
 * unhappy, and the share with none of the three -- the national real-time
 * index's satisfaction measure (QĐ 766/QĐ-TTg 2022), unrated dossiers
 * counting as satisfied.  Formatting is in reports/rep_records.c.
 */
#ifndef SIPAS_SCORE_RECORDS_H
#define SIPAS_SCORE_RECORDS_H

#include <sqlite3.h>

#include "../forms/registry.h"
#include "../lib/err.h"
#include "../lib/period.h"

/* What a group holds in one period or month.  A cell is one agency, sector
 * and period (or month); it is covered when a record of it was finished
 * then.  Only covered cells are counted, so a city-wide figure is never
 * some agencies' ratings over other agencies' dossiers: cells and
 * active_cells say how many of how many. */
struct score_records_counts {
	long finished;      /* dossiers finished */
	long late;          /* ... after their due_at */
	long complaint;     /* ... with a complaint */
	long unhappy;       /* ... rated unhappy (see score_records_run) */
	long none;          /* ... with none of the three */
	long cells;         /* covered cells */
	long active_cells;  /* cells with a record finished or a rating */
};

struct score_records_group {
	const struct registry_entry *agency;  /* NULL = all agencies; borrowed */
	const struct registry_entry *sector;  /* NULL = all sectors; borrowed */
	struct score_records_counts period;
	struct score_records_counts *months;  /* [n_months] */
};

struct score_records {
	struct period period;
	int first_month;                      /* year * 12 + month - 1 of the period's first day */
	int n_months;                         /* the months the period touches */
	size_t n_groups;
	struct score_records_group *groups;   /* [0] all agencies; then each agency, by
						 id; then each agency and sector */
};

/* Count the records finished within p.  A dossier is rated unhappy when a
 * rating (any form, not held back by an unfinished import) has its code
 * as dossier_code and, as agency, the record's deciding agency or the
 * office that received it, and answers the form's overall question below
 * the middle of its scale: the counter form's lowest face, the survey's
 * 1 or 2.  Groups are those with an active cell.  On success *out is owned
 * by the caller (score_records_free).  ERR_DB, ERR_NOMEM; ERR_INTERNAL
 * when a record names an agency or sector not in reg. */
int score_records_run(sqlite3 *db, const struct registry *reg, const struct period *p,
		      struct score_records **out, struct err *e);

/* The share of c's dossiers with none of the three flags: 1 with *rate
 * set, or 0 when c has no dossier finished. */
int score_records_rate(const struct score_records_counts *c, double *rate);

/* Write month i of r as YYYY-MM into buf (at least 8 bytes). */
void score_records_month_label(const struct score_records *r, int i, char *buf);

/* NULL-safe. */
void score_records_free(struct score_records *r);

#endif
