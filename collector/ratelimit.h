/*
 * ratelimit.h - token buckets keyed by device or client address
 * (docs/collector.md): each key may make `rate` requests per minute on
 * average with bursts up to `burst`.  Over the limit the caller answers 429 with the
 * Retry-After this returns.  Thread-safe; memory bounded by
 * COL_RATELIMIT_MAX_KEYS (the table starts afresh when full).
 */
#ifndef SIPAS_RATELIMIT_H
#define SIPAS_RATELIMIT_H

#include <pthread.h>
#include <stdint.h>

#include "../lib/intmap.h"

#define COL_RATELIMIT_MAX_KEYS 100000

struct col_ratelimit {
	pthread_mutex_t lock;
	double per_second, burst;   /* per_second 0 = unlimited */
	struct intmap index;
	struct col_bucket { double tokens, last; } *buckets;
	size_t n, cap;
};

/* Set up a limiter of `per_minute` requests (0 = no limit) and `burst`. */
void col_ratelimit_init(struct col_ratelimit *rl, double per_minute, double burst);

/* Take one token for key at time `now` (seconds).  Returns 0 when allowed,
 * else the seconds to wait (>= 1) before the next request would be. */
int col_ratelimit_take(struct col_ratelimit *rl, uint64_t key, double now);

void col_ratelimit_release(struct col_ratelimit *rl);

#endif
