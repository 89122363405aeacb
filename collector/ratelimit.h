/*
 * ratelimit.h - token buckets keyed by device or client address
 * (docs/collector.md): each key may make `rate` requests per minute on
 * average with bursts up to `burst`.  Over the limit the caller answers 429 with the
 * Retry-After this returns.  Thread-safe; memory bounded by
 * COL_RATELIMIT_MAX_KEYS: when full, a new key takes the bucket of the
 * least recently used one.
 */
#ifndef SIPAS_RATELIMIT_H
#define SIPAS_RATELIMIT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "../lib/intmap.h"

#define COL_RATELIMIT_MAX_KEYS 100000

struct col_ratelimit {
	pthread_mutex_t lock;
	double per_second, burst;   /* per_second 0 = unlimited */
	struct intmap index;          /* key -> its index in buckets */
	struct col_bucket {
		double tokens, last;
		uint64_t key;
		uint32_t newer, older;    /* the recency list, by index */
	} *buckets;
	size_t n, cap;
	uint32_t newest, oldest;      /* UINT32_MAX when empty */
};

/* Set up a limiter of `per_minute` requests (0 = no limit) and `burst`. */
void col_ratelimit_init(struct col_ratelimit *rl, double per_minute, double burst);

/* Take one token for key at time `now` (seconds).  Returns 0 when allowed,
 * else the seconds to wait (>= 1) before the next request would be.  Times
 * may come in any order (requests stamp their arrival and take later): a
 * key's bucket refills only by time past the latest it saw, so it holds 0
 * to burst tokens and grants at most burst + rate x the span of its times. */
int col_ratelimit_take(struct col_ratelimit *rl, uint64_t key, double now);

/* Take up to n tokens at once (a batch's items): returns how many were
 * granted, and when fewer than n, *wait is the seconds until the next one
 * (else 0). */
size_t col_ratelimit_take_n(struct col_ratelimit *rl, uint64_t key, double now, size_t n, int *wait);

/* Give key back one token it took (an attempt that turned out not to
 * count: a console sign-in that succeeded), up to the burst.  A key
 * evicted meanwhile gets nothing back. */
void col_ratelimit_refund(struct col_ratelimit *rl, uint64_t key);

void col_ratelimit_release(struct col_ratelimit *rl);

#endif
