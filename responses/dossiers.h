/*
 * dossiers.h - how many dossiers each agency handled per sector and period,
 * from the one-stop system: the denominator of the counter method's
 * dossier-based rate (docs/scoring.md, "Counter method").  A period is a
 * quarter (YYYYQn) or a month (YYYY-MM); a quarter's total is its quarter
 * row when there is one, else the sum of its three months when all three
 * are loaded, else unknown.
 */
#ifndef SIPAS_DOSSIERS_H
#define SIPAS_DOSSIERS_H

#include <stdint.h>
#include <stdio.h>
#include <sqlite3.h>

#include "../forms/registry.h"
#include "../lib/csv.h"
#include "../lib/err.h"

struct dossier_stats {
	long rows;        /* data rows read and stored */
	long replaced;    /* stored rows of the same (period, agency) removed first */
};

/* Load the CSV `period,agency,sector,dossiers` on fp (named `name` in
 * messages) in one transaction.  Every row is checked: a bad one is
 * counted and listed in *bad ("NAME:LINE: column X: why", the first
 * CSV_LISTED_ROWS by line; a file that stops being CSV stops the check at
 * that line), and any bad row refuses the file, nothing changed, `e`
 * then summing them up.  The file replaces the stored rows of every
 * (period, agency) it contains, and only those. */
int dossier_import(sqlite3 *db, const struct registry *reg, FILE *fp, const char *name,
		   struct dossier_stats *stats, struct csv_bad_rows *bad, struct err *e);

/* The dossier total of one agency and sector in one quarter.  A quarter
 * row gives it; without one, its months are summed only when all three are
 * loaded, since a missing month would pass for a month without dossiers. */
struct dossier_cell {
	long long agency_id, sector_id;
	int quarter;          /* ordinal (year * 4 + quarter - 1) */
	int complete;         /* 1: a quarter row, or all three months */
	unsigned months;      /* without a quarter row: the months loaded, bit 0 the
			       * quarter's first month */
	long long dossiers;   /* complete cells: the quarter's total; else 0 */
};

/* Call fn for every agency, sector and quarter of first_quarter..
 * last_quarter (ordinals) with any dossier row, complete or not, in
 * agency id, sector id and quarter order.  Stops at fn's non-zero return,
 * which it returns; else 0, or ERR_DB. */
int dossier_cells(sqlite3 *db, int first_quarter, int last_quarter,
		  int (*fn)(const struct dossier_cell *cell, void *arg), void *arg, struct err *e);

#endif
