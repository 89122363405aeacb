/*
 * rep_records.h - the per-dossier rate (scoring/score_records.h) as JSON, as
 * CSV (one row per group and period or month: the open data), as a table
 * for the terminal (`sipas score --per-dossier`), and as the report's
 * table.  Formatting only.
 */
#ifndef SIPAS_REP_RECORDS_H
#define SIPAS_REP_RECORDS_H

#include <stdio.h>
#include <jansson.h>

#include "../lib/strbuf.h"
#include "../scoring/score_records.h"

/* {"period", "groups": [{"agency", "sector", "period": COUNTS, "months":
 * [{"month", COUNTS...}]}]}, COUNTS being finished, late, complaint,
 * unhappy, none, their shares and the coverage; owned by the caller
 * (json_decref), NULL on out of memory. */
json_t *rep_records_json(const struct score_records *r);

/* Write the CSV to fp; 0, or ERR_IO. */
int rep_records_csv(const struct score_records *r, FILE *fp);

/* Write the terminal table (the period, then each month) to fp; 0, or ERR_IO. */
int rep_records_table(const struct score_records *r, FILE *fp);

/* The report's table of the quarter's per-dossier rate by agency, with
 * the city-wide figure and what it covers, appended to sb (HTML). */
void rep_records_html(const struct score_records *r, struct strbuf *sb);

#endif
