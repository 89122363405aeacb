/*
 * ratelimit.c - token buckets (see ratelimit.h).  The buckets sit in one
 * array of at most COL_RATELIMIT_MAX_KEYS, found by key through an intmap
 * and chained by index from the most to the least recently used: a new key
 * in a full table takes the least recently used bucket, so a flood of new
 * keys (addresses) evicts only idle ones, never resets everyone's limits.
 */
#include "ratelimit.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/array.h"

#define NONE UINT32_MAX

void col_ratelimit_init(struct col_ratelimit *rl, double per_minute, double burst)
{
	memset(rl, 0, sizeof(*rl));
	pthread_mutex_init(&rl->lock, NULL);
	rl->per_second = per_minute / 60.0;
	rl->burst = burst < 1 ? 1 : burst;
	rl->newest = rl->oldest = NONE;
}

static void unlink_bucket(struct col_ratelimit *rl, uint32_t i)
{
	struct col_bucket *b = &rl->buckets[i];

	if (b->newer != NONE)
		rl->buckets[b->newer].older = b->older;
	else
		rl->newest = b->older;
	if (b->older != NONE)
		rl->buckets[b->older].newer = b->newer;
	else
		rl->oldest = b->newer;
}

static void push_newest(struct col_ratelimit *rl, uint32_t i)
{
	struct col_bucket *b = &rl->buckets[i];

	b->newer = NONE;
	b->older = rl->newest;
	if (rl->newest != NONE)
		rl->buckets[rl->newest].newer = i;
	rl->newest = i;
	if (rl->oldest == NONE)
		rl->oldest = i;
}

/* The bucket of key, refilled to `now` and made the most recently used;
 * NULL when out of memory.  Called with the lock held. */
static struct col_bucket *bucket_of(struct col_ratelimit *rl, uint64_t key, double now)
{
	struct col_bucket *b;
	long found = intmap_get(&rl->index, key);
	uint32_t i;
	int rc;

	if (found >= 0) {
		i = (uint32_t)found;
		unlink_bucket(rl, i);
	} else if (rl->n == COL_RATELIMIT_MAX_KEYS) {
		i = rl->oldest;
		assert(i != NONE);
		unlink_bucket(rl, i);
		intmap_del(&rl->index, rl->buckets[i].key);
		/* into the room the old key left: the index does not grow */
		rc = intmap_put(&rl->index, key, i);
		assert(rc == 0);
		(void)rc;
	} else {
		if (ARRAY_RESERVE(rl->buckets, rl->cap, rl->n) < 0 ||
		    intmap_put(&rl->index, key, (uint32_t)rl->n) < 0)
			return NULL;
		i = (uint32_t)rl->n++;
	}
	b = &rl->buckets[i];
	if (found < 0) {
		b->key = key;
		b->tokens = rl->burst;
		b->last = now;
	}
	push_newest(rl, i);
	/* Requests stamp their arrival and take later, so times come out of
	 * order: a bucket's clock never runs back, and an earlier time refills
	 * nothing (else it would drain the bucket below zero). */
	if (now > b->last) {
		b->tokens = fmin(rl->burst, b->tokens + (now - b->last) * rl->per_second);
		b->last = now;
	}
	assert(b->tokens >= 0 && b->tokens <= rl->burst);
	return b;
}

size_t col_ratelimit_take_n(struct col_ratelimit *rl, uint64_t key, double now, size_t n, int *wait)
{
	struct col_bucket *b;
	size_t granted = n;

	*wait = 0;
	if (rl->per_second <= 0 || n == 0)
		return n;
	pthread_mutex_lock(&rl->lock);
	b = bucket_of(rl, key, now);
	/* out of memory: fail open rather than refuse everyone */
	if (b) {
		/* tokens lie in [0, burst]: the floor converts */
		if ((double)n > b->tokens)
			granted = (size_t)floor(b->tokens);
		b->tokens -= (double)granted;
		if (granted < n)
			*wait = (int)ceil((1 - b->tokens) / rl->per_second);
	}
	pthread_mutex_unlock(&rl->lock);
	return granted;
}

int col_ratelimit_take(struct col_ratelimit *rl, uint64_t key, double now)
{
	int wait;

	return col_ratelimit_take_n(rl, key, now, 1, &wait) == 1 ? 0 : wait;
}

void col_ratelimit_refund(struct col_ratelimit *rl, uint64_t key)
{
	long found;

	if (rl->per_second <= 0)
		return;
	pthread_mutex_lock(&rl->lock);
	found = intmap_get(&rl->index, key);
	if (found >= 0)
		rl->buckets[found].tokens = fmin(rl->burst, rl->buckets[found].tokens + 1);
	pthread_mutex_unlock(&rl->lock);
}

void col_ratelimit_release(struct col_ratelimit *rl)
{
	intmap_release(&rl->index);
	free(rl->buckets);
	rl->buckets = NULL;
	pthread_mutex_destroy(&rl->lock);
}
