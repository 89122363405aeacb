/*
 * clock.h - the monotonic clock, in the two units sipas measures with:
 * seconds as a double (timings, rate limits, waits) and whole milliseconds
 * (deadlines kept in atomics).  Never set back, unlike the wall clock:
 * what the collector and the import time must not jump with NTP.
 */
#ifndef SIPAS_CLOCK_H
#define SIPAS_CLOCK_H

/* Seconds since an arbitrary start (CLOCK_MONOTONIC).  Can't fail. */
double clock_seconds(void);

/* The same clock in whole milliseconds.  Can't fail. */
long long clock_ms(void);

#endif
