/*
 * ratelimit.c - token buckets (see ratelimit.h).
 */
#include "ratelimit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/array.h"

void col_ratelimit_init(struct col_ratelimit *rl, double per_minute, double burst)
{
	memset(rl, 0, sizeof(*rl));
	pthread_mutex_init(&rl->lock, NULL);
	rl->per_second = per_minute / 60.0;
	rl->burst = burst < 1 ? 1 : burst;
}

int col_ratelimit_take(struct col_ratelimit *rl, uint64_t key, double now)
{
	struct col_bucket *b;
	long i;
	int wait = 0;

	if (rl->per_second <= 0)
		return 0;
	pthread_mutex_lock(&rl->lock);
	i = intmap_get(&rl->index, key);
	if (i < 0) {
		if (rl->n == COL_RATELIMIT_MAX_KEYS) {
			intmap_release(&rl->index);
			rl->n = 0;
		}
		if (ARRAY_RESERVE(rl->buckets, rl->cap, rl->n) < 0)
			goto out;   /* out of memory: fail open rather than refuse everyone */
		if (intmap_put(&rl->index, key, (uint32_t)rl->n) < 0)
			goto out;
		rl->buckets[rl->n].tokens = rl->burst;
		rl->buckets[rl->n].last = now;
		i = (long)rl->n++;
	}
	b = &rl->buckets[i];
	b->tokens = fmin(rl->burst, b->tokens + (now - b->last) * rl->per_second);
	b->last = now;
	if (b->tokens >= 1)
		b->tokens -= 1;
	else
		wait = (int)ceil((1 - b->tokens) / rl->per_second);
out:
	pthread_mutex_unlock(&rl->lock);
	return wait;
}

void col_ratelimit_release(struct col_ratelimit *rl)
{
	intmap_release(&rl->index);
	free(rl->buckets);
	rl->buckets = NULL;
	pthread_mutex_destroy(&rl->lock);
}
