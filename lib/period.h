/*
 * period.h - calendar days and reporting periods in Vietnam time (UTC+7).
 * A day is counted from 1970-01-01; a period is an inclusive range of days
 * written "2026Q3", "2026", or "2026-07-01..2026-09-30".  Time zones other
 * than the offset written in a timestamp are not handled.
 */
#ifndef SIPAS_PERIOD_H
#define SIPAS_PERIOD_H

#include <stdint.h>

#include "err.h"

#define PERIOD_TZ_SECONDS (7 * 3600) /* Vietnam: UTC+7, no daylight saving */

struct period {
	int32_t first_day, last_day;  /* inclusive */
	char label[32];               /* as written by the user, normalised */
};

/* Parse `YYYY-MM-DD` (local midnight) or ISO 8601 `YYYY-MM-DDTHH:MM[:SS[.f]][Z|±HH:MM]`
 * (no offset = UTC+7).  On success set *ts (Unix seconds) and *day (the day
 * in Vietnam time) and return 0; else ERR_INVALID with the reason in `e`. */
int period_parse_timestamp(const char *s, int64_t *ts, int32_t *day, struct err *e);

/* Parse a day written `YYYY-MM-DD` (a date alone, no time): 0 with *day
 * set and, when start is not NULL, *start its first second (Unix); -1
 * otherwise (the caller names the field). */
int period_parse_day(const char *s, int32_t *day, int64_t *start);

/* Parse a period (see above) into `p`; ERR_INVALID with the reason otherwise. */
int period_parse(const char *s, struct period *p, struct err *e);

/* Parse a quarter "YYYYQn" into an ordinal (year * 4 + n - 1); ERR_INVALID otherwise. */
int period_parse_quarter(const char *s, int *ordinal, struct err *e);

/* The quarter ordinal containing `day`. Can't fail. */
int period_quarter_of_day(int32_t day);

/* The period of quarter `ordinal` (label "YYYYQn"). Can't fail. */
void period_of_quarter(int ordinal, struct period *p);

/* Write `day` as YYYY-MM-DD into buf (at least 11 bytes). Can't fail. */
void period_format_day(int32_t day, char *buf);

/* Today's date in Vietnam time. */
int32_t period_today(void);

/* 0 when p has begun by `today` (a day as period_today gives); else
 * ERR_INVALID, field "period", saying when it begins.  A period that has
 * not begun holds no ratings: scoring, reporting or publishing it would
 * read as "nobody rated". */
int period_check_started(const struct period *p, int32_t today, struct err *e);

#endif
