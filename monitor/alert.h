/*
 * alert.h - the alert engine (docs/monitoring.md, "Alerts"): three rules
 * that open an alert once per episode and close it when the condition
 * clears, each open and close writing its notifications to the outbox in
 * the same transaction.
 *
 *   low_satisfaction  a Bernoulli CUSUM per (counter, sector) and per
 *                     (agency, sector) over the kiosk ratings in the order
 *                     they are stored (alert_rating, on the collector's
 *                     single writer, in the transaction that stores them);
 *   below_target      the 30-day Wilson 95 % upper bound under the target,
 *                     evaluated once a day when the agency's opening ends;
 *   silent_device     a paired kiosk without a post for two opening hours,
 *                     or whose queue of unsent ratings keeps growing.
 *
 * The last two are alert_check's, which the collector runs once a minute as
 * a job of its writer and the tests call with an injected time.
 */
#ifndef SIPAS_ALERT_H
#define SIPAS_ALERT_H

#include <stdint.h>
#include <jansson.h>
#include <sqlite3.h>

#include "../lib/err.h"
#include "../forms/registry.h"
#include "../responses/response.h"

#define ALERT_ODDS_RATIO 2.0        /* the CUSUM is designed to detect this rise in the odds of "unsatisfied" */
#define ALERT_ARL_IN_CONTROL 5000.0 /* ratings between false alarms at target, at least, on average */
#define ALERT_CLOSE_RUNS 3          /* an episode closes after this many out-of-control run lengths ... */
#define ALERT_WINDOW_DAYS 30        /* below_target's window, ending on the evaluated day */
#define ALERT_CONFIDENCE 0.95       /* of its Wilson interval (and the evidence's) */
#define ALERT_SILENT_SECONDS 7200   /* opening time without a post that makes a kiosk silent */
#define ALERT_QUEUE_GROWING 3       /* heartbeats in a row with a longer queue */

struct alert_engine;

/* An engine writing on db (borrowed: the collector's write connection,
 * which must outlive it).  *out is owned (alert_engine_free). */
int alert_engine_open(sqlite3 *db, struct alert_engine **out, struct err *e);

/* Feed the CUSUMs of the rating r (checked and just stored, not a
 * duplicate) that kiosk device_id (devices.id) posted: its (counter,
 * sector) and (agency, sector) charts, in control at 1 - the target reg
 * gives the agency and sector for the rating's quarter (score_target).  A
 * rating without an overall answer, or with no target in force, feeds
 * none.  A chart that signals opens its low_satisfaction alert (or extends
 * the one open) and restarts at 0; an open episode closes as
 * docs/monitoring.md says.  Runs inside the caller's write transaction and
 * never commits; now stamps what it opens or closes.  ERR_DB or ERR_NOMEM. */
int alert_rating(struct alert_engine *ae, const struct registry *reg, const struct response *r,
		 long long device_id, int64_t now, struct err *e);

/* Free an engine; NULL-safe. */
void alert_engine_free(struct alert_engine *ae);

/* The periodic rules at Unix time now: below_target for every agency whose
 * opening ended since its last evaluation (at most once a day), and
 * silent_device for every paired, unrevoked kiosk.  Opens and closes
 * alerts with their outbox rows in the caller's write transaction; never
 * commits.  ERR_DB, ERR_NOMEM, or ERR_INVALID when a stored opening-hours
 * spec no longer parses. */
int alert_check(sqlite3 *db, int64_t now, struct err *e);

/* The alert alert_id as /api/alerts serves it and its notifications carry:
 * {"id","kind","agency","sector","device","counter","opened_at","closed_at",
 * "evidence"}, codes rather than ids (sector and device null when the rule
 * has none; device is the kiosk's public id), times ISO 8601 in Vietnam
 * time, closed_at null while open, evidence the object the rule stored.
 * *out is a new reference.  ERR_NOT_FOUND, ERR_DB or ERR_NOMEM. */
int alert_json(sqlite3 *db, long long alert_id, json_t **out, struct err *e);

#endif
