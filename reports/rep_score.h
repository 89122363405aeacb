/*
 * rep_score.h - a score result (scoring/score.h) as the score JSON (docs/scoring.md), as
 * CSV (one row per group and estimate, the layout of the R reference
 * files), or as a table for the terminal.  Formatting only: no statistics.
 */
#ifndef SIPAS_REP_SCORE_H
#define SIPAS_REP_SCORE_H

#include <stdio.h>
#include <jansson.h>

#include "../scoring/score.h"

/* The score JSON document; owned by the caller (json_decref), NULL on out of memory. */
json_t *rep_score_json(const struct score_result *r);

/* Write the CSV to fp; 0, or ERR_IO. */
int rep_score_csv(const struct score_result *r, FILE *fp);

/* Write the terminal table to fp; 0, or ERR_IO. */
int rep_score_table(const struct score_result *r, FILE *fp);

#endif
