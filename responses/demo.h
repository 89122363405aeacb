/*
 * demo.h - realistic synthetic responses for the shipped registry: agencies
 * that differ in satisfaction (a few below target), sectors that fit each
 * agency, clustered survey days as PSUs, design weights, missing items, and
 * a slow improvement quarter by quarter so trends show.  Deterministic for
 * a given seed (GSL's MT19937).  Used by `sipas demo` and the benchmarks.
 */
#ifndef SIPAS_DEMO_H
#define SIPAS_DEMO_H

#include <stdint.h>
#include <stdio.h>
#include <sqlite3.h>

#include "../lib/err.h"
#include "../forms/form.h"
#include "../forms/registry.h"

struct demo_stats {
	long stored;   /* responses written */
	long records;  /* dossier records written */
};

/* Where a form's counter ratings come from (a form without service
 * elements: a kiosk's).  add is called once per agency and such form,
 * inside the demo's transaction, with the sectors the ratings are of; it
 * sets *device_id to the kiosk that posts them (0: none).  0 or an error. */
struct demo_kiosks {
	int (*add)(void *arg, const char *form, const char *agency, const char *const *sectors,
		   size_t n_sectors, long long *device_id, struct err *e);
	void *arg;
};

/* Fill db, inside the caller's transaction, with `n_quarters` quarters
 * ending with quarter ordinal `last_quarter` for every form in `forms` and
 * every agency of `reg`; with kiosks (may be NULL), the counter ratings
 * carry the kiosk it gives, and the quarter after last_quarter gets them
 * from its first day to the day before `today` (a day as period_today
 * gives), so that the live views have data.  Every third agency that has
 * existed throughout also gets the one-stop system's dossier records of
 * the survey's quarters, twice as many dossiers as survey responses, whose
 * codes are those the phone survey's responses carry (the per-dossier
 * rate, with partial coverage).  ERR_CONFLICT when the database already
 * holds responses. */
int demo_fill_db(sqlite3 *db, const struct registry *reg, struct form *const *forms,
		 size_t n_forms, int last_quarter, int n_quarters, const struct demo_kiosks *kiosks,
		 int32_t today, unsigned long seed, struct demo_stats *stats, struct err *e);

#define DEMO_QUARTERS 4       /* complete quarters a demo fills at least */
#define DEMO_MAX_QUARTERS 8   /* ... and at most, reaching back to a merger */

/* How many quarters, ending with `last_quarter`, the demo fills: the last
 * DEMO_QUARTERS, or back to the quarter in which the registry's latest
 * merger within DEMO_MAX_QUARTERS took effect (an agency's valid_to, with a
 * successor), so that a trend across it has data on both sides. */
int demo_quarters(const struct registry *reg, int last_quarter);

/* Write `rows` responses to `form` in quarter `quarter` as an import CSV
 * (docs/design.md) to `out`, spread over the agencies of `reg` that existed
 * in it, each on its own days; ERR_INVALID when none did. */
int demo_write_csv(FILE *out, const struct registry *reg, const struct form *form, int quarter,
		   long rows, unsigned long seed, struct err *e);

#endif
