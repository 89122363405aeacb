/*
 * dossiers.h - how many dossiers each agency handled per sector and period,
 * from the one-stop system: the denominator of the counter method's
 * dossier-based rate (docs/scoring.md, "Counter method").  A period is a
 * quarter (YYYYQn) or a month (YYYY-MM); a quarter's total is its quarter
 * row when there is one, else the sum of its months.
 */
#ifndef SIPAS_DOSSIERS_H
#define SIPAS_DOSSIERS_H

#include <stdint.h>
#include <stdio.h>
#include <sqlite3.h>

#include "../forms/registry.h"
#include "../lib/err.h"

struct dossier_stats {
	long rows;        /* data rows read and stored */
	long replaced;    /* stored rows of the same (period, agency) removed first */
};

/* Load the CSV `period,agency,sector,dossiers` on fp (named `name` in
 * messages) in one transaction: a bad row refuses the file
 * ("NAME:LINE: column X: why") and nothing changes.  The file replaces the
 * stored rows of every (period, agency) it contains, and only those. */
int dossier_import(sqlite3 *db, const struct registry *reg, FILE *fp, const char *name,
		   struct dossier_stats *stats, struct err *e);

/* Call fn(agency_id, sector_id, dossiers) for every agency and sector with
 * a total in the quarters first_quarter..last_quarter (ordinals), summed
 * over them.  Stops at fn's non-zero return. */
int dossier_totals(sqlite3 *db, int first_quarter, int last_quarter,
		   int (*fn)(long long agency_id, long long sector_id, long long dossiers, void *arg),
		   void *arg, struct err *e);

#endif
