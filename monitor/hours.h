/*
 * hours.h - an agency's opening hours (docs/monitoring.md, "Alerts"): the
 * times its counters serve citizens, in Vietnam time (UTC+7, no daylight
 * saving), as `sipas agency hours` sets them.  The alerts count time in
 * opening hours only: a kiosk is silent after two opening hours without a
 * post, not after a night or a Sunday; an agency's day ends when its last
 * opening range of the day does.
 *
 * A spec is one or more groups separated by ';', each a day or a range of
 * days (Mon Tue Wed Thu Fri Sat Sun), a space, and comma-separated time
 * ranges HH:MM-HH:MM in increasing order that do not overlap, e.g.
 * "Mon-Fri 07:30-11:30,13:30-17:00; Sat 07:30-11:30".  A day not named is
 * closed; a day named twice is an error.
 */
#ifndef SIPAS_HOURS_H
#define SIPAS_HOURS_H

#include <stdint.h>
#include <sqlite3.h>

#include "../lib/err.h"

#define HOURS_DEFAULT "Mon-Fri 07:30-11:30,13:30-17:00"
#define HOURS_MAX_RANGES 8      /* per day */
#define HOURS_MAX_SPEC 256      /* bytes of a spec */

/* Opening ranges per weekday (0 = Monday), minutes since local midnight,
 * start < end, increasing and disjoint.  Plain values. */
struct hours {
	int n[7];
	int16_t start[7][HOURS_MAX_RANGES];
	int16_t end[7][HOURS_MAX_RANGES];
};

/* Parse spec into *out.  ERR_INVALID whose text names the part at fault
 * (e.g. "hours: 'Mon-Fry': unknown day 'Fry'") and e->field "hours". */
int hours_parse(const char *spec, struct hours *out, struct err *e);

/* The hours of agency_id: its opening_hours row, else HOURS_DEFAULT.  If
 * spec is not NULL it receives the spec in force (HOURS_MAX_SPEC + 1
 * bytes).  ERR_DB, or ERR_INVALID when a stored spec no longer parses. */
int hours_for_agency(sqlite3 *db, long long agency_id, struct hours *out, char *spec, struct err *e);

/* Store spec (already parsed by hours_parse) for agency_id, inside the
 * caller's transaction.  ERR_DB on failure. */
int hours_store(sqlite3 *db, long long agency_id, const char *spec, struct err *e);

/* 1 when the agency is open at Unix time t, else 0. */
int hours_is_open(const struct hours *h, int64_t t);

/* Unix time at which the day's opening ends on local day `day` (days since
 * 1970-01-01 in Vietnam time), or -1 when it does not open that day. */
int64_t hours_day_end(const struct hours *h, int32_t day);

/* Seconds of opening time in [t1, t2); 0 when t2 <= t1. */
int64_t hours_open_seconds(const struct hours *h, int64_t t1, int64_t t2);

#endif
