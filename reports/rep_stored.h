/*
 * rep_stored.h - what `sipas publish` stored, read back: a published
 * period's score JSON (by grouping), its quarter's report files, the list
 * of published quarters, and the whole-period figures of a published
 * quarter for the report's trend.  The collector and the report read the
 * public figures only through here.
 */
#ifndef SIPAS_REP_STORED_H
#define SIPAS_REP_STORED_H

#include <stddef.h>
#include <sqlite3.h>

#include "../forms/form.h"
#include "../lib/err.h"
#include "../lib/period.h"
#include "../scoring/score.h"

/* The groupings stored for each published form and period. */
#define REP_GROUPING_DEFAULT "default"          /* agencies, then sectors */
#define REP_GROUPING_PAIR "agency,sector"

/* A file of the report published for a quarter (index.html, scores.csv,
 * ...): *data (owned by the caller, free) gets its bytes, *size their
 * count.  ERR_NOT_FOUND when there is none. */
int rep_published_file(sqlite3 *db, const char *period_label, const char *name, char **data,
		       size_t *size, struct err *e);

/* Call fn for every quarter with a published report, newest first. */
int rep_published_reports(sqlite3 *db, int (*fn)(const char *period_label, void *arg), void *arg,
			  struct err *e);

/* Which publication of a form's period: it changes whenever the period is
 * withdrawn and published again, so a cache of its figures can be checked
 * with one small read. */
struct rep_stamp {
	long long serial;         /* the last id of the publications log, never reused */
	long long published_at;   /* Unix seconds */
};

/* The stamp of a published form and period.  `kept` NULL: the statement
 * is prepared and finalized in the call; else a place keeping it prepared
 * for the next call on the same connection (NULL at first; the caller
 * finalizes it).  ERR_NOT_FOUND when the period is not published. */
int rep_published_stamp(sqlite3 *db, sqlite3_stmt **kept, const char *form, const char *period_label,
			struct rep_stamp *stamp, struct err *e);

/* The stored score JSON of a published form and period, grouped as `by`
 * (a set of enum score_by; 0 = agency then sector).  *text is owned by the
 * caller (free).  ERR_NOT_FOUND when the period is not published. */
int rep_published_scores(sqlite3 *db, const char *form, const char *period_label, int by, char **text,
			 struct err *e);

/* The whole-period figures of `form` for a published period, as stored: a
 * result with one group (index, elements, criteria, n, n_eff, df).
 * *out is owned (score_result_free).  ERR_NOT_FOUND when not published. */
int rep_published_whole(sqlite3 *db, const struct form *form, const struct period *period,
			struct score_result **out, struct err *e);

#endif
