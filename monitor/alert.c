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
#include "notify.h"
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

/* Queue event ("alert.opened", "alert.closed") about alert_id, the alert
 * as alert_json makes it, for every endpoint that covers its agency
 * (notify_queue_alert). */
static int notify(sqlite3 *db, long long alert_id, const char *event, int64_t now, struct err *e)
{
	sqlite3_stmt *st = NULL;
	json_t *alert = NULL, *msg = NULL;
	char *body = NULL;
	long long agency_id = 0;
	int rc = alert_json(db, alert_id, &alert, e);

	if (!rc)
		rc = db_prepare(db, "SELECT agency_id FROM alerts WHERE id = ?1", &st, e);
	if (!rc) {
		sqlite3_bind_int64(st, 1, alert_id);
		if (sqlite3_step(st) == SQLITE_ROW)
			agency_id = sqlite3_column_int64(st, 0);
		else
			rc = db_fail(db, e, "reading an alert");
	}
	msg = rc ? NULL : json_pack("{s:s, s:O}", "event", event, "alert", alert);
	body = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
	if (!rc && !body)
		rc = err_set(e, ERR_NOMEM, "out of memory");
	if (!rc)
		rc = notify_queue_alert(db, agency_id, alert_id, event, body, now, NULL, e);
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

/* One chart as the table cusums has it, plus whether it changed since the
 * last flush. */
enum chart_scope { CHART_DEVICE, CHART_AGENCY };
static const char *const scope_names[] = { "device", "agency" };

struct chart {
	int scope;                       /* enum chart_scope */
	long long ref_id, sector_id;
	double value;
	long long ratings, unsatisfied, signals;
	long long alert_id;              /* its open episode, 0 = none */
	int dirty;
};

struct alert_engine {
	sqlite3 *db;
	sqlite3_stmt *load, *save;
	const struct registry *reg;     /* the registry the cache below was filled from */
	struct intmap targets;          /* (agency, sector, quarter) -> design index + 1, 0 = no target */
	struct design_entry *designs;
	size_t n_designs, cap_designs;
	/* the charts read so far, written back by alert_flush; as committed
	 * once alert_discard has dropped what a rollback undid */
	struct intmap index;            /* chart_key -> index in charts */
	struct chart *charts;
	size_t n_charts, cap_charts;
	size_t *dirty;                  /* indexes of the charts changed since the last flush */
	size_t n_dirty, cap_dirty;
};

int alert_engine_open(sqlite3 *db, struct alert_engine **out, struct err *e)
{
	struct alert_engine *ae = calloc(1, sizeof(*ae));
	int rc;

	if (!ae)
		return err_set(e, ERR_NOMEM, "out of memory");
	ae->db = db;
	ae->targets = (struct intmap)INTMAP_INIT;
	ae->index = (struct intmap)INTMAP_INIT;
	rc = db_prepare(db, "SELECT value, ratings, unsatisfied, signals, ifnull(alert_id, 0) FROM cusums "
			"WHERE scope = ?1 AND ref_id = ?2 AND sector_id = ?3", &ae->load, e);
	if (!rc)
		rc = db_prepare(db, "INSERT INTO cusums(scope, ref_id, sector_id, value, ratings, unsatisfied, signals, "
				"alert_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO UPDATE SET "
				"value = excluded.value, ratings = excluded.ratings, unsatisfied = excluded.unsatisfied, "
				"signals = excluded.signals, alert_id = excluded.alert_id", &ae->save, e);
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
	sqlite3_finalize(ae->load);
	sqlite3_finalize(ae->save);
	intmap_release(&ae->targets);
	intmap_release(&ae->index);
	free(ae->designs);
	free(ae->charts);
	free(ae->dirty);
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

/* The chart of scope, ref_id and sector_id: cached, else read (or new);
 * *out is its index in ae->charts. */
static int chart_get(struct alert_engine *ae, int scope, long long ref_id, long long sector_id, size_t *out,
		     struct err *e)
{
	uint64_t key = ((uint64_t)ref_id << 33) ^ ((uint64_t)sector_id << 1) ^ (uint64_t)scope;
	long got = intmap_get(&ae->index, key);
	struct chart *c;
	int step;

	if (got >= 0) {
		*out = (size_t)got;
		assert(ae->charts[*out].ref_id == ref_id && ae->charts[*out].sector_id == sector_id);
		return 0;
	}
	if (ARRAY_RESERVE(ae->charts, ae->cap_charts, ae->n_charts) < 0 ||
	    ARRAY_RESERVE(ae->dirty, ae->cap_dirty, ae->n_charts) < 0)
		return err_set(e, ERR_NOMEM, "out of memory");
	c = &ae->charts[ae->n_charts];
	memset(c, 0, sizeof(*c));
	c->scope = scope;
	c->ref_id = ref_id;
	c->sector_id = sector_id;
	sqlite3_bind_text(ae->load, 1, scope_names[scope], -1, SQLITE_STATIC);
	sqlite3_bind_int64(ae->load, 2, ref_id);
	sqlite3_bind_int64(ae->load, 3, sector_id);
	step = sqlite3_step(ae->load);
	if (step == SQLITE_ROW) {
		c->value = sqlite3_column_double(ae->load, 0);
		c->ratings = sqlite3_column_int64(ae->load, 1);
		c->unsatisfied = sqlite3_column_int64(ae->load, 2);
		c->signals = sqlite3_column_int64(ae->load, 3);
		c->alert_id = sqlite3_column_int64(ae->load, 4);
	}
	sqlite3_reset(ae->load);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return db_fail(ae->db, e, "reading a CUSUM");
	if (intmap_put(&ae->index, key, (uint32_t)ae->n_charts) < 0)
		return err_set(e, ERR_NOMEM, "out of memory");
	*out = ae->n_charts++;
	return 0;
}

int alert_flush(struct alert_engine *ae, struct err *e)
{
	int rc = 0;

	for (size_t i = 0; !rc && i < ae->n_dirty; i++) {
		struct chart *c = &ae->charts[ae->dirty[i]];

		sqlite3_bind_text(ae->save, 1, scope_names[c->scope], -1, SQLITE_STATIC);
		sqlite3_bind_int64(ae->save, 2, c->ref_id);
		sqlite3_bind_int64(ae->save, 3, c->sector_id);
		sqlite3_bind_double(ae->save, 4, c->value);
		sqlite3_bind_int64(ae->save, 5, c->ratings);
		sqlite3_bind_int64(ae->save, 6, c->unsatisfied);
		sqlite3_bind_int64(ae->save, 7, c->signals);
		bind_id(ae->save, 8, c->alert_id);
		if (sqlite3_step(ae->save) != SQLITE_DONE)
			rc = db_fail(ae->db, e, "storing a CUSUM");
		sqlite3_reset(ae->save);
		c->dirty = 0;
	}
	ae->n_dirty = 0;
	return rc;
}

void alert_discard(struct alert_engine *ae)
{
	intmap_release(&ae->index);
	ae->n_charts = 0;
	ae->n_dirty = 0;
}

/* One rating on chart i (of agency_id, in its sector; the counter
 * device_id, 0 for the agency's chart). */
static int feed(struct alert_engine *ae, const struct design_entry *de, size_t i, long long agency_id,
		long long device_id, int unsatisfied, int64_t now, struct err *e)
{
	const struct cusum_design *d = &de->d;
	struct chart *c = &ae->charts[i];
	json_t *ev, *more;
	int rc = 0;

	if (!c->dirty) {
		c->dirty = 1;
		ae->dirty[ae->n_dirty++] = i;
	}
	c->value = cusum_step(d, c->value, unsatisfied);
	c->ratings++;
	c->unsatisfied += unsatisfied;
	if (cusum_signals(d, c->value)) {
		ev = share_evidence(c->ratings, c->ratings - c->unsatisfied, d->target);
		more = json_pack("{s:s, s:f, s:f, s:f, s:I}", "scope", scope_names[c->scope], "cusum", c->value,
				 "h", d->h, "odds_ratio", d->odds_ratio, "unsatisfied", (json_int_t)c->unsatisfied);
		if (!ev || !more || json_object_update(ev, more) != 0)
			rc = err_set(e, ERR_NOMEM, "out of memory");
		/* a signal within an open episode extends it */
		if (!rc && !c->alert_id)
			rc = open_alert(ae->db, KIND_LOW_SATISFACTION, agency_id, c->sector_id, device_id, ev, now,
					&c->alert_id, e);
		json_decref(ev);
		json_decref(more);
		c->value = 0;
		c->ratings = 0;
		c->unsatisfied = 0;
		c->signals++;
		return rc;
	}
	/* a run long enough that a fall to the design's odds ratio would
	 * almost surely have signalled again, and back at target */
	if (c->alert_id && c->ratings >= de->close_after &&
	    (double)(c->ratings - c->unsatisfied) >= d->target * (double)c->ratings) {
		rc = close_alert(ae->db, c->alert_id, now, e);
		c->alert_id = 0;
	}
	return rc;
}

int alert_rating(struct alert_engine *ae, const struct registry *reg, const struct response *r,
		 long long device_id, int64_t now, struct err *e)
{
	const struct form *f = r->form;
	const struct design_entry *de;
	int answer = r->answers[f->overall], unsatisfied, rc;
	size_t counter, agency;

	assert(device_id > 0 && r->agency && r->sector);
	if (!answer)
		return 0;
	rc = design_for(ae, reg, r->agency->id, r->sector->id, period_quarter_of_day(r->day), &de, e);
	if (rc || !de)
		return rc;
	unsatisfied = !form_is_satisfied(f, answer - 1 + f->scale_min);
	rc = chart_get(ae, CHART_DEVICE, device_id, r->sector->id, &counter, e);
	if (!rc)
		rc = chart_get(ae, CHART_AGENCY, r->agency->id, r->sector->id, &agency, e);
	if (!rc)
		rc = feed(ae, de, counter, r->agency->id, device_id, unsatisfied, now, e);
	if (!rc)
		rc = feed(ae, de, agency, r->agency->id, 0, unsatisfied, now, e);
	return rc;
}

/* ---- the periodic rules ---- */

/* The ratings of a counter (device_id) or of the whole agency (0) in one
 * sector, over below_target's window; or an open alert of that key. */
struct tally {
	long long device_id, sector_id, n, satisfied;
	long long alert_id;       /* an open alert's id (open_alerts) */
	int seen;                 /* that alert is still below target */
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

/* The tally of device_id and sector_id in t, added when new; NULL when out
 * of memory (e filled). */
static struct tally *tally_get(struct tallies *t, long long device_id, long long sector_id, struct err *e)
{
	struct tally *x = tally_find(t, device_id, sector_id);

	if (!x) {
		if (ARRAY_RESERVE(t->v, t->cap, t->n) < 0) {
			err_set(e, ERR_NOMEM, "out of memory");
			return NULL;
		}
		x = &t->v[t->n++];
		memset(x, 0, sizeof(*x));
		x->device_id = device_id;
		x->sector_id = sector_id;
	}
	return x;
}

static int tally_add(struct tallies *t, long long device_id, long long sector_id, long long n, long long satisfied,
		     struct err *e)
{
	struct tally *x = tally_get(t, device_id, sector_id, e);

	if (!x)
		return e->code;
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

/* Open alerts of `kind` of agency_id (all agencies when 0), by device and
 * sector, each with its alert_id. */
static int open_alerts(sqlite3 *db, int kind, long long agency_id, struct tallies *out, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = db_prepare(db, "SELECT id, ifnull(device_id, 0), ifnull(sector_id, 0) FROM alerts "
			    "WHERE kind = ?1 AND (?2 = 0 OR agency_id = ?2) AND closed_at IS NULL", &st, e), step;

	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, kind_names[kind], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, agency_id);
	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
		struct tally *x = tally_get(out, sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2), e);

		if (x)
			x->alert_id = sqlite3_column_int64(st, 0);
		else
			rc = e->code;
	}
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
			rc = close_alert(db, open.v[i].alert_id, now, e);
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

/* A kiosk in service (paired, or its token typed in and used) as the
 * silent rule sees it. */
struct kiosk {
	long long id, agency_id, open_id;
	int64_t since, last_post;   /* since: the later of its last post and its pairing */
	long long queued, growing;
};

static int read_kiosks(sqlite3 *db, struct kiosk **out, size_t *n, struct err *e)
{
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int rc = db_prepare(db, "SELECT d.id, d.agency_id, max(ifnull(d.last_post_at, 0), ifnull(d.paired_at, 0)), "
			    "ifnull(d.last_post_at, 0), ifnull(d.queued, 0), d.queue_growing, "
			    "(SELECT a.id FROM alerts a WHERE a.kind = 'silent_device' AND a.device_id = d.id "
			    "AND a.closed_at IS NULL) FROM devices d WHERE d.role = 'kiosk' AND d.revoked_at IS NULL "
			    "AND (d.paired_at IS NOT NULL OR d.last_post_at IS NOT NULL) ORDER BY d.agency_id, d.id",
			    &st, e), step;

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
			rc = close_alert(db, revoked.v[i].alert_id, now, e);
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
