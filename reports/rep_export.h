/*
 * rep_export.h - how the open data writes numbers: every number as the
 * shortest decimal that reads back to the same double (0.95, not
 * 0.94999999999999996), in CSV and in JSON; and the Excel-VN copy of a CSV
 * (';' between fields, decimal commas, a UTF-8 BOM) for Excel with
 * Vietnamese regional settings, which opens it as it opens its own files.
 */
#ifndef SIPAS_REP_EXPORT_H
#define SIPAS_REP_EXPORT_H

#include <stddef.h>
#include <stdio.h>
#include <jansson.h>

#include "../lib/err.h"
#include "../lib/strbuf.h"
#include "../scoring/score.h"

#define REP_NUM_MAX 32   /* bytes a number takes, with its NUL */

/* v as the shortest of "%.15g", "%.16g", "%.17g" that strtod reads back as
 * v, into buf (REP_NUM_MAX bytes). */
void rep_num_shortest(double v, char buf[REP_NUM_MAX]);

/* Append a CSV field to sb: ',' then v written shortest, or nothing after
 * the ',' when v is not known (an empty field, never a made-up 0). */
void rep_csv_num(struct strbuf *sb, int known, double v);

/* The four CSV fields of an estimate, each with its ',': est, se, lo, hi,
 * empty where not known. */
void rep_csv_estimate(struct strbuf *sb, const struct score_estimate *est);

/* v as a JSON real, or null when not known.  A new reference. */
json_t *rep_json_num(int known, double v);

/* Set "est", "se", "lo" and "hi" of an estimate on object o, null where
 * not known. */
void rep_json_estimate(json_t *o, const struct score_estimate *est);

/* json_dumps(doc, flags) with every real written shortest (a whole number
 * keeps its ".0", so it reads back as a real).  Owned by the caller (free);
 * NULL on out of memory. */
char *rep_json_dumps(const json_t *doc, size_t flags);

/* The same into fp, with a final newline; 0, or -1 on a write error or out of memory. */
int rep_json_dumpf(const json_t *doc, size_t flags, FILE *fp);

/* Rewrite `csv` (a scores CSV as rep_score_csv writes it: a header, ','
 * between fields) for Excel in Vietnamese settings into out: a UTF-8 BOM,
 * ';' between fields, the decimal point of every number column a comma;
 * text columns (named in rep_export.c) kept as they are, quoted when they
 * hold a ';'.  0, ERR_NOMEM, or ERR_INTERNAL when `csv` cannot be read. */
int rep_csv_excel_vn(const char *csv, size_t len, struct strbuf *out, struct err *e);

/* rep_score_csv(r) rewritten by rep_csv_excel_vn, into fp; 0, or an
 * err_code with the reason in e. */
int rep_score_csv_excel_vn(const struct score_result *r, FILE *fp, struct err *e);

#endif
