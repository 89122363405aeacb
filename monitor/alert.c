/*
 * alert.c - the alert engine (see alert.h): the CUSUMs fed by each stored
 * kiosk rating, the periodic rules, and what every opening and closing
 * writes (the alerts row, one outbox row per endpoint covering the agency).
 */
#include "alert.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../db/db.h"
#include "../forms/form_store.h"
#include "../lib/array.h"
#include "../lib/intmap.h"
#include "../lib/period.h"
#include "../scoring/score.h"
#include "cusum.h"
#include "hours.h"
#include "outbox.h"
#include "stats.h"

/* One table for the kinds: the alerts table's names, in enum order. */
enum alert_kind { KIND_LOW_SATISFACTION, KIND_BELOW_TARGET, KIND_SILENT_DEVICE };
static const char *const kind_names[] = { "low_satisfaction", "below_target", "silent_device" };

/* ---- opening, closing, notifying ---- */

/* Unix seconds as ISO 8601 in Vietnam time, into out (32 bytes). */
static void iso_time(int64_t t, char *out)
{
	time_t local = (time_t)(t + PERIOD_TZ_SECONDS);
	struct tm tm;

	strftime(out, 32, "%Y-%m-%dT%H:%M:%S+07:00", gmtime_r(&local, &tm));
}

static json_t *time_or_null(sqlite3_stmt *st, int col)
{
	char iso[32];

	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return json_null();
	iso_time(sqlite3_column_int64(st, col), iso);
	return json_string(iso);
}

static json_t *text_or_null(sqlite3_stmt *st, int col)
{
	const char *s = (const char *)sqlite3_column_text(st, col);

	return s ? json_string(s) : json_null();
}

int alert_json(sqlite3 *db, long long alert_id, json_t **out, struct err *e)
{
	sqlite3_stmt *st = NULL;
	json_t *o = NULL, *evidence;
	int rc = db_prepare(db, "SELECT a.id, a.kind, g.code, s.code, d.public_id, d.counter, a.opened_at, "
			    "a.closed_at, a.evidence FROM alerts a JOIN agencies g ON g.id = a.agency_id "
			    "LEFT JOIN sectors s ON s.id = a.sector_id LEFT JOIN devices d ON d.id = a.device_id "
			    "WHERE a.id = ?1", &st, e), step;

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, alert_id);
	step = sqlite3_step(st);
	if (step != SQLITE_ROW) {
		rc = step == SQLITE_DONE ? err_set(e, ERR_NOT_FOUND, "no alert %lld", alert_id)
					 : db_fail(db, e, "reading an alert");
		goto out;
	}
	evidence = json_loads((const char *)sqlite3_column_text(st, 8), 0, NULL);
	o = json_pack("{s:I, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o}",
		      "id", (json_int_t)sqlite3_column_int64(st, 0),
		      "kind", (const char *)sqlite3_column_text(st, 1),
		      "agency", (const char *)sqlite3_column_text(st, 2),
		      "sector", text_or_null(st, 3), "device", text_or_null(st, 4),
		      "counter", text_or_null(st, 5), "opened_at", time_or_null(st, 6),
		      "closed_at", time_or_null(st, 7), "evidence", evidence ? evidence : json_object());
	if (!o)
		rc = err_set(e, ERR_NOMEM, "out of memory");
	*out = o;
out:
	sqlite3_finalize(st);
	return rc;
}

/* Queue event ("alert.opened", "alert.closed") about alert_id for every
 * endpoint, not removed, that covers its agency: one for all agencies, the
 * agency's own, or one of an agency above it. */
static int notify(sqlite3 *db, long long alert_id, const char *event, int64_t now, struct err *e)
{
	sqlite3_stmt *st = NULL;
	json_t *alert = NULL, *msg = NULL;
	char *body = NULL;
	int rc = alert_json(db, alert_id, &alert, e), step;

	if (rc)
		return rc;
	msg = json_pack("{s:s, s:O}", "event", event, "alert", alert);
	body = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
	if (!body) {
		rc = err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	rc = db_prepare(db, "WITH RECURSIVE up(id) AS (SELECT agency_id FROM alerts WHERE id = ?1 "
			"UNION SELECT a.parent_id FROM agencies a JOIN up ON a.id = up.id WHERE a.parent_id IS NOT NULL) "
			"SELECT id FROM notify_endpoints WHERE removed_at IS NULL "
			"AND (agency_id IS NULL OR agency_id IN (SELECT id FROM up)) ORDER BY id", &st, e);
	if (rc)
		goto out;
	sqlite3_bind_int64(st, 1, alert_id);
	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW)
		rc = outbox_add(db, sqlite3_column_int64(st, 0), alert_id, event, body, now, NULL, e);
	if (!rc && step != SQLITE_DONE)
		rc = db_fail(db, e, "reading notification endpoints");
out:
	sqlite3_finalize(st);
	free(body);
	json_decref(msg);
	json_decref(alert);
	return rc;
}

/* Bind an id, NULL when 0. */
static void bind_id(sqlite3_stmt *st, int i, long long id)
{
	if (id)
		sqlite3_bind_int64(st, i, id);
	else
		sqlite3_bind_null(st, i);
}

/* Open an alert of `kind` (its episode, if one is not open already) with
 * evidence (borrowed); *id gets the open episode's id either way.  A new
 * one is notified. */
static int open_alert(sqlite3 *db, int kind, long long agency_id, long long sector_id, long long device_id,
		      json_t *evidence, int64_t now, long long *id, struct err *e)
{
	sqlite3_stmt *st = NULL;
	char *text = json_dumps(evidence, JSON_COMPACT | JSON_SORT_KEYS);
	int rc, step, added = 0;

	if (!text)
		return err_set(e, ERR_NOMEM, "out of memory");
	rc = db_prepare(db, "INSERT INTO alerts(kind, agency_id, sector_id, device_id, opened_at, evidence) "
			"VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING RETURNING id", &st, e);
	if (rc)
		goto out;
	sqlite3_bind_text(st, 1, kind_names[kind], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, agency_id);
	bind_id(st, 3, sector_id);
	bind_id(st, 4, device_id);
	sqlite3_bind_int64(st, 5, now);
	sqlite3_bind_text(st, 6, text, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		added = 1;
		step = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	st = NULL;
	if (step != SQLITE_DONE) {
		rc = db_fail(db, e, "opening an alert");
		goto out;
	}
	if (added) {
		rc = notify(db, *id, "alert.opened", now, e);
		goto out;
	}
	/* the episode is open already */
	rc = db_prepare(db, "SELECT id FROM alerts WHERE kind = ?1 AND agency_id = ?2 AND ifnull(sector_id, 0) = ?3 "
			"AND ifnull(device_id, 0) = ?4 AND closed_at IS NULL", &st, e);
	if (rc)
		goto out;
	sqlite3_bind_text(st, 1, kind_names[kind], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, agency_id);
	sqlite3_bind_int64(st, 3, sector_id);
	sqlite3_bind_int64(st, 4, device_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	else
		rc = db_fail(db, e, "reading an open alert");
out:
	sqlite3_finalize(st);
	free(text);
	return rc;
}

/* Close alert id if it is open, and notify. */
static int close_alert(sqlite3 *db, long long id, int64_t now, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = db_prepare(db, "UPDATE alerts SET closed_at = ?2 WHERE id = ?1 AND closed_at IS NULL", &st, e);

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, now);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db, e, "closing an alert");
	else if (sqlite3_changes(db) == 1)
		rc = notify(db, id, "alert.closed", now, e);
	sqlite3_finalize(st);
	return rc;
}

/* What every rule's evidence holds of a share: ratings, satisfied, the
 * share and its Wilson interval, and the target. */
static json_t *share_evidence(long long n, long long satisfied, double target)
{
	double lo, hi;

	wilson_interval(satisfied, n, ALERT_CONFIDENCE, &lo, &hi);
	return json_pack("{s:I, s:I, s:f, s:f, s:f, s:f, s:f}", "ratings", (json_int_t)n,
			 "satisfied", (json_int_t)satisfied, "share", n ? (double)satisfied / (double)n : 0.0,
			 "lo", lo, "hi", hi, "confidence", ALERT_CONFIDENCE, "target", target);
}

/* ---- low satisfaction: the CUSUMs ---- */

/* A chart's design for one target, and the run that closes its episode. */
struct design_entry {
	struct cusum_design d;
	long long close_after;   /* ratings without a signal, at or above target, that close an episode */
};

struct alert_engine {
	sqlite3 *db;
	sqlite3_stmt *feed, *reset, *forget;
	const struct registry *reg;     /* the registry the cache below was filled from */
	struct intmap targets;          /* (agency, sector, quarter) -> design index + 1, 0 = no target */
	struct design_entry *designs;
	size_t n_designs, cap_designs;
};

int alert_engine_open(sqlite3 *db, struct alert_engine **out, struct err *e)
{
	struct alert_engine *ae = calloc(1, sizeof(*ae));
	int rc;

	if (!ae)
		return err_set(e, ERR_NOMEM, "out of memory");
	ae->db = db;
	ae->targets = (struct intmap)INTMAP_INIT;
	/* one statement per chart and rating: its step, and what the rules need back */
	rc = db_prepare(db, "INSERT INTO cusums(scope, ref_id, sector_id, value, ratings, unsatisfied) "
			"VALUES (?1, ?2, ?3, max(0, ?4), 1, ?5) ON CONFLICT DO UPDATE SET "
			"value = max(0, value + ?4), ratings = ratings + 1, unsatisfied = unsatisfied + ?5 "
			"RETURNING value, ratings, unsatisfied, ifnull(alert_id, 0)", &ae->feed, e);
	if (!rc)
		rc = db_prepare(db, "UPDATE cusums SET value = 0, ratings = 0, unsatisfied = 0, signals = signals + 1, "
				"alert_id = ?4 WHERE scope = ?1 AND ref_id = ?2 AND sector_id = ?3", &ae->reset, e);
	if (!rc)
		rc = db_prepare(db, "UPDATE cusums SET alert_id = NULL WHERE scope = ?1 AND ref_id = ?2 AND sector_id = ?3",
				&ae->forget, e);
	if (rc) {
		alert_engine_free(ae);
		return rc;
	}
	*out = ae;
	return 0;
}

void alert_engine_free(struct alert_engine *ae)
{
	if (!ae)
		return;
	sqlite3_finalize(ae->feed);
	sqlite3_finalize(ae->reset);
	sqlite3_finalize(ae->forget);
	intmap_release(&ae->targets);
	free(ae->designs);
	free(ae);
}

/* The design for agency, sector and quarter q, NULL when no target is in
 * force; cached per registry (a reloaded one empties the cache). */
static int design_for(struct alert_engine *ae, const struct registry *reg, long long agency_id,
		      long long sector_id, int q, const struct design_entry **out, struct err *e)
{
	uint64_t key = ((uint64_t)agency_id << 40) ^ ((uint64_t)sector_id << 16) ^ (uint64_t)(q & 0xffff);
	const struct registry_target *t;
	struct err why;
	long got;
	size_t i;

	if (ae->reg != reg) {
		intmap_release(&ae->targets);
		ae->reg = reg;
	}
	got = intmap_get(&ae->targets, key);
	if (got < 0) {
		t = score_target(reg, agency_id, sector_id, q);
		for (i = 0; t && i < ae->n_designs && ae->designs[i].d.target != t->threshold; i++)
			;
		if (t && i == ae->n_designs) {
			struct design_entry *de;

			if (ARRAY_RESERVE(ae->designs, ae->cap_designs, ae->n_designs) < 0)
				return err_set(e, ERR_NOMEM, "out of memory");
			de = &ae->designs[ae->n_designs];
			/* a target of 1 leaves no unsatisfied rate to be in control at */
			if (t->threshold >= 1 || cusum_design_make(t->threshold, ALERT_ODDS_RATIO, ALERT_ARL_IN_CONTROL,
								  &de->d, &why) != 0) {
				t = NULL;
			} else {
				de->close_after = (long long)(ALERT_CLOSE_RUNS * cusum_arl(&de->d, de->d.p1) + 0.5);
				ae->n_designs++;
			}
		}
		got = t ? (long)i + 1 : 0;
		if (intmap_put(&ae->targets, key, (uint32_t)got) < 0)
			return err_set(e, ERR_NOMEM, "out of memory");
	}
	*out = got ? &ae->designs[got - 1] : NULL;
	return 0;
}

static void bind_chart(sqlite3_stmt *st, const char *scope, long long ref_id, long long sector_id)
{
	sqlite3_bind_text(st, 1, scope, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, ref_id);
	sqlite3_bind_int64(st, 3, sector_id);
}

static int step_chart(struct alert_engine *ae, sqlite3_stmt *st, const char *what, struct err *e)
{
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(ae->db, e, what);

	sqlite3_reset(st);
	return rc;
}

/* One rating on the chart scope/ref_id of sector_id (agency_id's; the
 * counter device_id, 0 for the agency's chart). */
static int feed(struct alert_engine *ae, const struct design_entry *de, const char *scope, long long ref_id,
		long long agency_id, long long sector_id, long long device_id, int unsatisfied, int64_t now,
		struct err *e)
{
	const struct cusum_design *d = &de->d;
	double value;
	long long n, bad, open_id, id = 0;
	json_t *ev, *more;
	int rc;

	bind_chart(ae->feed, scope, ref_id, sector_id);
	sqlite3_bind_double(ae->feed, 4, unsatisfied ? d->w_unsatisfied : d->w_satisfied);
	sqlite3_bind_int(ae->feed, 5, unsatisfied);
	if (sqlite3_step(ae->feed) != SQLITE_ROW) {
		rc = db_fail(ae->db, e, "updating a CUSUM");
		sqlite3_reset(ae->feed);
		return rc;
	}
	value = sqlite3_column_double(ae->feed, 0);
	n = sqlite3_column_int64(ae->feed, 1);
	bad = sqlite3_column_int64(ae->feed, 2);
	open_id = sqlite3_column_int64(ae->feed, 3);
	sqlite3_reset(ae->feed);
	if (cusum_signals(d, value)) {
		ev = share_evidence(n, n - bad, d->target);
		more = json_pack("{s:s, s:f, s:f, s:f, s:I}", "scope", scope, "cusum", value, "h", d->h,
				 "odds_ratio", d->odds_ratio, "unsatisfied", (json_int_t)bad);
		if (!ev || !more || json_object_update(ev, more) != 0) {
			json_decref(ev);
			json_decref(more);
			return err_set(e, ERR_NOMEM, "out of memory");
		}
		json_decref(more);
		rc = open_alert(ae->db, KIND_LOW_SATISFACTION, agency_id, sector_id, device_id, ev, now, &id, e);
		json_decref(ev);
		if (rc)
			return rc;
		bind_chart(ae->reset, scope, ref_id, sector_id);
		sqlite3_bind_int64(ae->reset, 4, id);
		return step_chart(ae, ae->reset, "restarting a CUSUM", e);
	}
	/* a run long enough that a fall to the design's odds ratio would
	 * almost surely have signalled again, and back at target */
	if (open_id && n >= de->close_after && (double)(n - bad) >= d->target * (double)n) {
		rc = close_alert(ae->db, open_id, now, e);
		if (rc)
			return rc;
		bind_chart(ae->forget, scope, ref_id, sector_id);
		return step_chart(ae, ae->forget, "closing a CUSUM's episode", e);
	}
	return 0;
}

int alert_rating(struct alert_engine *ae, const struct registry *reg, const struct response *r,
		 long long device_id, int64_t now, struct err *e)
{
	const struct form *f = r->form;
	const struct design_entry *de;
	int answer = r->answers[f->overall], unsatisfied, rc;

	assert(device_id > 0 && r->agency && r->sector);
	if (!answer)
		return 0;
	rc = design_for(ae, reg, r->agency->id, r->sector->id, period_quarter_of_day(r->day), &de, e);
	if (rc || !de)
		return rc;
	unsatisfied = !form_is_satisfied(f, answer - 1 + f->scale_min);
	rc = feed(ae, de, "device", device_id, r->agency->id, r->sector->id, device_id, unsatisfied, now, e);
	if (!rc)
		rc = feed(ae, de, "agency", r->agency->id, r->agency->id, r->sector->id, 0, unsatisfied, now, e);
	return rc;
}

/* ---- the periodic rules ---- */

/* The ratings of a counter (device_id) or of the whole agency (0) in one
 * sector, over below_target's window. */
struct tally {
	long long device_id, sector_id, n, satisfied;
	int seen;                 /* an open alert of this key was matched */
};

struct tallies {
	struct tally *v;
	size_t n, cap;
};

static struct tally *tally_find(struct tallies *t, long long device_id, long long sector_id)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].device_id == device_id && t->v[i].sector_id == sector_id)
			return &t->v[i];
	return NULL;
}

static int tally_add(struct tallies *t, long long device_id, long long sector_id, long long n, long long satisfied,
		     struct err *e)
{
	struct tally *x = tally_find(t, device_id, sector_id);

	if (!x) {
		if (ARRAY_RESERVE(t->v, t->cap, t->n) < 0)
			return err_set(e, ERR_NOMEM, "out of memory");
		x = &t->v[t->n++];
		memset(x, 0, sizeof(*x));
		x->device_id = device_id;
		x->sector_id = sector_id;
	}
	x->n += n;
	x->satisfied += satisfied;
	return 0;
}

/* Count the kiosk ratings of agency_id submitted on days d0..d1 with an
 * overall answer, and the satisfied ones, per counter and sector and per
 * sector, over every form: the satisfied answers are matched as bytes of
 * the stored answers (value - min + 1, store.c). */
static int count_window(sqlite3 *db, struct form *const *forms, size_t n_forms, long long agency_id, int32_t d0,
			int32_t d1, struct tallies *t, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = db_prepare(db, "SELECT ifnull(device_id, 0), sector_id, count(*), "
			    "sum(instr(?5, substr(answers, ?4, 1)) > 0) FROM responses r "
			    "WHERE form_id = (SELECT id FROM forms WHERE code = ?1) AND agency_id = ?2 "
			    "AND day BETWEEN ?3 AND ?6 AND channel = ?7 AND substr(answers, ?4, 1) != x'00' AND "
			    DB_VISIBLE("r") " GROUP BY 1, 2", &st, e), step = SQLITE_DONE;

	for (size_t i = 0; !rc && i < n_forms; i++) {
		const struct form *f = forms[i];
		uint8_t satisfied[32];
		int n_sat = 0;

		for (int v = f->scale_min; v <= f->scale_max && n_sat < (int)sizeof(satisfied); v++)
			if (form_is_satisfied(f, v))
				satisfied[n_sat++] = (uint8_t)(v - f->scale_min + 1);
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, f->id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, agency_id);
		sqlite3_bind_int(st, 3, d0);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)f->overall + 1);
		sqlite3_bind_blob(st, 5, satisfied, n_sat, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 6, d1);
		sqlite3_bind_int(st, 7, CHANNEL_KIOSK);
		while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
			long long device_id = sqlite3_column_int64(st, 0), sector_id = sqlite3_column_int64(st, 1);
			long long n = sqlite3_column_int64(st, 2), k = sqlite3_column_int64(st, 3);

			rc = tally_add(t, 0, sector_id, n, k, e);
			if (!rc && device_id)
				rc = tally_add(t, device_id, sector_id, n, k, e);
		}
		if (!rc && step != SQLITE_DONE)
			rc = db_fail(db, e, "counting the last 30 days' ratings");
	}
	sqlite3_finalize(st);
	return rc;
}

/* Open alerts of `kind` of agency_id (all agencies when 0), as (id,
 * device, sector) in a tallies' keys (id in n). */
static int open_alerts(sqlite3 *db, int kind, long long agency_id, struct tallies *out, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = db_prepare(db, "SELECT id, ifnull(device_id, 0), ifnull(sector_id, 0) FROM alerts "
			    "WHERE kind = ?1 AND (?2 = 0 OR agency_id = ?2) AND closed_at IS NULL", &st, e), step;

	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, kind_names[kind], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, agency_id);
	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW)
		rc = tally_add(out, sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2),
			       sqlite3_column_int64(st, 0), 0, e);
	if (!rc && step != SQLITE_DONE)
		rc = db_fail(db, e, "reading open alerts");
	sqlite3_finalize(st);
	return rc;
}

/* below_target for agency_id on the window ending with day: open where the
 * Wilson upper bound is under the target, close the agency's open ones
 * where it is not (no rating in the window: the bound is 1). */
static int below_target(sqlite3 *db, const struct registry *reg, struct form *const *forms, size_t n_forms,
			long long agency_id, int32_t day, int64_t now, struct err *e)
{
	struct tallies counts = { 0 }, open = { 0 };
	int q = period_quarter_of_day(day);
	char from[16], to[16];
	int rc = count_window(db, forms, n_forms, agency_id, day - (ALERT_WINDOW_DAYS - 1), day, &counts, e);

	if (!rc)
		rc = open_alerts(db, KIND_BELOW_TARGET, agency_id, &open, e);
	period_format_day(day - (ALERT_WINDOW_DAYS - 1), from);
	period_format_day(day, to);
	for (size_t i = 0; !rc && i < counts.n; i++) {
		const struct tally *c = &counts.v[i];
		const struct registry_target *t = score_target(reg, agency_id, c->sector_id, q);
		struct tally *o = tally_find(&open, c->device_id, c->sector_id);
		long long id;
		double lo, hi;
		json_t *ev, *more;

		/* as scoring, no verdict on fewer than SCORE_MIN_N ratings: on one
		 * unhappy rating alone the upper bound is already 0.79 */
		if (!t || c->n < SCORE_MIN_N)
			continue;
		wilson_interval(c->satisfied, c->n, ALERT_CONFIDENCE, &lo, &hi);
		if (hi >= t->threshold)
			continue;     /* an open one is closed below */
		if (o)
			o->seen = 1;
		ev = share_evidence(c->n, c->satisfied, t->threshold);
		more = json_pack("{s:s, s:s, s:i}", "from", from, "to", to, "window_days", ALERT_WINDOW_DAYS);
		if (!ev || !more || json_object_update(ev, more) != 0)
			rc = err_set(e, ERR_NOMEM, "out of memory");
		if (!rc)
			rc = open_alert(db, KIND_BELOW_TARGET, agency_id, c->sector_id, c->device_id, ev, now, &id, e);
		json_decref(ev);
		json_decref(more);
	}
	for (size_t i = 0; !rc && i < open.n; i++)
		if (!open.v[i].seen)
			rc = close_alert(db, open.v[i].n, now, e);
	free(counts.v);
	free(open.v);
	return rc;
}

static int32_t local_day_of(int64_t t)
{
	return (int32_t)((t + PERIOD_TZ_SECONDS) / 86400);
}

/* The latest day, within the last week, whose opening has ended by now;
 * 0 when none. */
static int32_t day_ended(const struct hours *h, int64_t now)
{
	int32_t today = local_day_of(now);

	for (int32_t d = today; d > today - 7; d--) {
		int64_t end = hours_day_end(h, d);

		if (end >= 0 && end <= now)
			return d;
	}
	return 0;
}

/* What one check loads only when an agency is due: the registry (targets)
 * and the forms. */
struct check_data {
	struct registry *reg;
	struct form **forms;
	size_t n_forms;
};

static int run_below_target(sqlite3 *db, struct check_data *cd, int64_t now, struct err *e)
{
	sqlite3_stmt *st = NULL, *done = NULL;
	struct hours h;
	int rc = db_prepare(db, "SELECT g.id, ifnull(a.below_target_day, 0) FROM agencies g "
			    "LEFT JOIN alert_days a ON a.agency_id = g.id ORDER BY g.id", &st, e), step;

	if (!rc)
		rc = db_prepare(db, "INSERT INTO alert_days(agency_id, below_target_day) VALUES (?1, ?2) "
				"ON CONFLICT (agency_id) DO UPDATE SET below_target_day = excluded.below_target_day",
				&done, e);
	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
		long long agency_id = sqlite3_column_int64(st, 0);
		int32_t last = (int32_t)sqlite3_column_int64(st, 1), day;

		rc = hours_for_agency(db, agency_id, &h, NULL, e);
		day = rc ? 0 : day_ended(&h, now);
		if (!day || day <= last)
			continue;
		if (!cd->reg)
			rc = registry_read(db, &cd->reg, e);
		if (!rc && !cd->forms)
			rc = form_store_get_all(db, &cd->forms, &cd->n_forms, e);
		if (!rc)
			rc = below_target(db, cd->reg, cd->forms, cd->n_forms, agency_id, day, now, e);
		if (!rc) {
			sqlite3_bind_int64(done, 1, agency_id);
			sqlite3_bind_int(done, 2, day);
			if (sqlite3_step(done) != SQLITE_DONE)
				rc = db_fail(db, e, "noting the day evaluated");
			sqlite3_reset(done);
		}
	}
	if (!rc && step != SQLITE_DONE)
		rc = db_fail(db, e, "reading agencies");
	sqlite3_finalize(st);
	sqlite3_finalize(done);
	return rc;
}

/* A paired kiosk as the silent rule sees it. */
struct kiosk {
	long long id, agency_id, open_id;
	int64_t since, last_post;   /* since: the later of its last post and its pairing */
	long long queued, growing;
};

static int read_kiosks(sqlite3 *db, struct kiosk **out, size_t *n, struct err *e)
{
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int rc = db_prepare(db, "SELECT d.id, d.agency_id, max(ifnull(d.last_post_at, 0), d.paired_at), "
			    "ifnull(d.last_post_at, 0), ifnull(d.queued, 0), d.queue_growing, "
			    "(SELECT a.id FROM alerts a WHERE a.kind = 'silent_device' AND a.device_id = d.id "
			    "AND a.closed_at IS NULL) FROM devices d WHERE d.role = 'kiosk' AND d.revoked_at IS NULL "
			    "AND d.paired_at IS NOT NULL ORDER BY d.agency_id, d.id", &st, e), step;

	*out = NULL;
	*n = 0;
	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
		struct kiosk *k;

		if (ARRAY_RESERVE(*out, cap, *n) < 0) {
			rc = err_set(e, ERR_NOMEM, "out of memory");
			break;
		}
		k = &(*out)[(*n)++];
		k->id = sqlite3_column_int64(st, 0);
		k->agency_id = sqlite3_column_int64(st, 1);
		k->since = sqlite3_column_int64(st, 2);
		k->last_post = sqlite3_column_int64(st, 3);
		k->queued = sqlite3_column_int64(st, 4);
		k->growing = sqlite3_column_int64(st, 5);
		k->open_id = sqlite3_column_int64(st, 6);
	}
	if (!rc && step != SQLITE_DONE)
		rc = db_fail(db, e, "reading kiosks");
	sqlite3_finalize(st);
	return rc;
}

static int silent_evidence(const struct kiosk *k, int64_t silent, json_t **out, struct err *e)
{
	char last[32];

	if (k->last_post)
		iso_time(k->last_post, last);
	*out = json_pack("{s:s, s:o, s:I, s:I, s:I, s:I}",
			 "reason", silent >= ALERT_SILENT_SECONDS ? "no_post" : "queue_growing",
			 "last_post_at", k->last_post ? json_string(last) : json_null(),
			 "silent_opening_seconds", (json_int_t)silent, "threshold_seconds",
			 (json_int_t)ALERT_SILENT_SECONDS, "queued", (json_int_t)k->queued,
			 "queue_growing", (json_int_t)k->growing);
	return *out ? 0 : err_set(e, ERR_NOMEM, "out of memory");
}

static int run_silent(sqlite3 *db, int64_t now, struct err *e)
{
	struct kiosk *ks = NULL;
	struct tallies revoked = { 0 };
	struct hours h;
	long long hours_of = 0;
	size_t n = 0;
	int rc = read_kiosks(db, &ks, &n, e);

	for (size_t i = 0; !rc && i < n; i++) {
		const struct kiosk *k = &ks[i];
		int64_t silent;
		long long id;
		json_t *ev = NULL;

		if (k->agency_id != hours_of) {
			rc = hours_for_agency(db, k->agency_id, &h, NULL, e);
			hours_of = k->agency_id;
			if (rc)
				break;
		}
		silent = hours_open_seconds(&h, k->since, now);
		if (silent >= ALERT_SILENT_SECONDS || k->growing >= ALERT_QUEUE_GROWING) {
			if (k->open_id)
				continue;
			rc = silent_evidence(k, silent, &ev, e);
			if (!rc)
				rc = open_alert(db, KIND_SILENT_DEVICE, k->agency_id, 0, k->id, ev, now, &id, e);
			json_decref(ev);
		} else if (k->open_id) {
			rc = close_alert(db, k->open_id, now, e);
		}
	}
	/* a kiosk revoked or unpaired is no longer expected to post */
	if (!rc)
		rc = open_alerts(db, KIND_SILENT_DEVICE, 0, &revoked, e);
	for (size_t i = 0; !rc && i < revoked.n; i++) {
		int listed = 0;

		for (size_t j = 0; j < n && !listed; j++)
			listed = ks[j].id == revoked.v[i].device_id;
		if (!listed)
			rc = close_alert(db, revoked.v[i].n, now, e);
	}
	free(revoked.v);
	free(ks);
	return rc;
}

int alert_check(sqlite3 *db, int64_t now, struct err *e)
{
	struct check_data cd = { 0 };
	int rc = run_below_target(db, &cd, now, e);

	if (!rc)
		rc = run_silent(db, now, e);
	registry_free(cd.reg);
	form_store_free_all(cd.forms, cd.n_forms);
	return rc;
}
