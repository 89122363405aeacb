/*
 * published.h - what is published, the one home of the tables that hold it
 * (docs/design.md, "Storage"): which form and period are public
 * (`published`), their figures as computed then (`published_scores`), the
 * quarter's report as rendered then (`published_files`) and the log of
 * publications (`publications`).  `sipas publish` stores and withdraws
 * through here (reports/rep_publish.c computes what it stores); the
 * collector serves the stored figures and files and marks late ratings with
 * the published days; the import says which rows fall in a published
 * period; the report's trend reads an earlier quarter's figures.  Nothing
 * here computes a score.  Transactions belong to the caller.
 */
#ifndef SIPAS_PUBLISHED_H
#define SIPAS_PUBLISHED_H

#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

#include "../lib/err.h"
#include "../lib/period.h"

/* The groupings stored for each published form and period: the score JSON
 * of `sipas score` by agency then sector, and by agency × sector. */
#define PUBLISHED_GROUPING_DEFAULT "default"
#define PUBLISHED_GROUPING_PAIR "agency,sector"

/* --- the days of the published periods, for ratings that come late --- */

/* The days of the periods published so far, read on db: a rating for one
 * of them is stored, but the figures published for it do not change.  The
 * count and the rows are two reads: a period published between them is
 * left for the next call.  *out is owned (published_days_free). */
struct published_days;
int published_days_read(sqlite3 *db, struct published_days **out, struct err *e);

/* The period published for form `form_code` that holds `day` (its label,
 * "2026Q3", and days), owned by p; NULL when there is none. */
const struct period *published_days_period(const struct published_days *p, const char *form_code,
					   int32_t day);

/* 1 when `day` falls in a period published for form `form_code`, else 0. */
int published_days_has(const struct published_days *p, const char *form_code, int32_t day);

/* NULL-safe. */
void published_days_free(struct published_days *p);

/* --- reading what was published --- */

/* Which publication of a form's period: it changes whenever the period is
 * withdrawn and published again, so a cache of its figures can be checked
 * with one small read. */
struct published_stamp {
	long long serial;         /* the last id of the publications log, never reused */
	long long published_at;   /* Unix seconds */
};

/* The stamp of a published form and period.  `kept` NULL: the statement
 * is prepared and finalized in the call; else a place keeping it prepared
 * for the next call on the same connection (NULL at first; the caller
 * finalizes it).  ERR_NOT_FOUND when the period is not published. */
int published_stamp(sqlite3 *db, sqlite3_stmt **kept, const char *form, const char *period_label,
		    struct published_stamp *stamp, struct err *e);

/* The score JSON stored for a published form and period in `grouping`
 * (PUBLISHED_GROUPING_*), as it was stored.  *text is owned by the caller
 * (free).  ERR_NOT_FOUND when the period is not published. */
int published_scores(sqlite3 *db, const char *form, const char *period_label, const char *grouping,
		     char **text, struct err *e);

/* A file of the report published for a quarter (index.html, scores.csv,
 * ...): *data (owned by the caller, free) gets its bytes, *size their
 * count.  ERR_NOT_FOUND when there is none. */
int published_file(sqlite3 *db, const char *period_label, const char *name, char **data, size_t *size,
		   struct err *e);

/* *has gets 1 when a report is published for the quarter, else 0. */
int published_has_report(sqlite3 *db, const char *period_label, int *has, struct err *e);

/* Call fn for every quarter with a published report, newest first; a
 * non-zero return of fn stops the listing. */
int published_reports(sqlite3 *db, int (*fn)(const char *period_label, void *arg), void *arg,
		      struct err *e);

/* --- publishing and withdrawing (inside the caller's write transaction) --- */

/* Make form `form` public for `period_label` since `published_at` (Unix
 * seconds), `early` when before the quarter ended, with its figures:
 * json_default and json_pair, the score JSON of the two groupings.  Logged
 * with who did it (`actor`) and the audit log's head then (`audit_head`,
 * hex; either NULL: unknown).  ERR_CONFLICT when it is already published
 * (withdraw it first). */
int published_add(sqlite3 *db, const char *form, const char *period_label, int64_t published_at, int early,
		  const char *json_default, const char *json_pair, const char *actor, const char *audit_head,
		  struct err *e);

/* Store file `name` (size bytes) of the report published for the quarter. */
int published_add_file(sqlite3 *db, const char *period_label, const char *name, const void *data,
		       size_t size, struct err *e);

/* Take down `period_label` for `form` (NULL: every form), logged with
 * actor and audit_head as published_add's, with the quarter's report when
 * `with_report`; *withdrawn gets how many forms were.  ERR_NOT_FOUND when
 * nothing was published. */
int published_withdraw(sqlite3 *db, const char *period_label, const char *form, int with_report,
		       const char *actor, const char *audit_head, int *withdrawn, struct err *e);

#endif
