/*
 * rep_publish.h - publishing a period: its scores are computed once and
 * stored (for the default grouping and for agency × sector), with the
 * quarter's report as rendered then, so the public figures never move when
 * late ratings arrive; withdrawing them takes the period down.  The stored
 * figures read back in the shapes their readers need: the JSON that
 * GET /api/scores serves and the whole quarter for the report's trend.
 * The tables themselves are responses/published.c's.
 */
#ifndef SIPAS_REP_PUBLISH_H
#define SIPAS_REP_PUBLISH_H

#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

#include "../lib/err.h"
#include "../forms/form.h"
#include "../lib/period.h"
#include "../scoring/score.h"

/* The audit log's head as the caller writes it: hex digits of a SHA-256. */
#define REP_AUDIT_HEAD_HEX 64

/* Who publishes or withdraws, and the record the caller keeps of it (the
 * audit log: reports/ does not know it, the caller does).  record is
 * called inside the write transaction that makes the change, so both
 * commit or neither does; it records `action` ("publish", "withdraw") on
 * `subject` ("2026Q3: sipas-2017, kiosk-2018") and puts the log's head
 * after that record into head (REP_AUDIT_HEAD_HEX digits and a NUL).
 * name and head are stored with each row of the publications log, and a
 * published report's page shows the head. */
struct rep_actor {
	const char *name;      /* a console login, or cli:OS-USER */
	int (*record)(void *arg, sqlite3 *db, const char *action, const char *subject, char *head,
		      struct err *e);
	void *arg;
};

/* Compute and store the scores of `period` for form `form`, or, when form
 * is NULL, for every form with responses in the period; raked to the
 * margins at rake_path when it is not NULL.  The scores are computed on one
 * snapshot of the database, then stored in one transaction.  Publishing is
 * per quarter, once it has ended (`now`, Unix seconds, gives the day in
 * Vietnam time): ERR_INVALID for a period that is not a quarter, for a
 * quarter not yet begun, and for one not yet ended unless `early` (then the
 * publication and its report are marked early), recorded by who (see
 * struct rep_actor).  ERR_CONFLICT when a form
 * is already published for the period (withdraw it first); ERR_NOT_FOUND
 * for an unknown form or a period without responses.  *published gets how
 * many forms were published. */
int rep_publish(sqlite3 *db, const struct period *period, const char *form, const char *rake_path,
		int64_t now, int early, const struct rep_actor *who, int *published, struct err *e);

/* Take down `period` for `form` (NULL: every form), recorded by who as
 * rep_publish is; *withdrawn gets how many forms were.  ERR_NOT_FOUND when
 * nothing was published. */
int rep_withdraw(sqlite3 *db, const struct period *period, const char *form, const struct rep_actor *who,
		 int *withdrawn, struct err *e);

/* Whether the stored figures of a published form and period still equal
 * what the database gives now (late ratings, a re-import): *published is 1
 * when the period is published, and then *differs 1 when a fresh
 * computation of the default grouping differs from the stored one. */
int rep_published_differs(sqlite3 *db, const struct period *period, const char *form, int *published,
			  int *differs, struct err *e);

/* The stored score JSON of a published form and period, grouped as `by`
 * (a set of enum score_by; 0 = agency then sector), its numbers written
 * shortest (rep_json_dumps) whenever it was published: what
 * GET /api/scores serves.  *text is owned by the caller (free).
 * ERR_NOT_FOUND when the period is not published. */
int rep_published_scores(sqlite3 *db, const char *form, const char *period_label, int by, char **text,
			 struct err *e);

/* The whole-period figures of `form` for a published period, as stored: a
 * result with one group (index, elements, criteria, n, n_eff, df), for the
 * report's trend.  *out is owned (score_result_free).  ERR_NOT_FOUND when
 * not published. */
int rep_published_whole(sqlite3 *db, const struct form *form, const struct period *period,
			struct score_result **out, struct err *e);

#endif
