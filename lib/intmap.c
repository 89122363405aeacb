/*
 * intmap.c - linear-probing hash map of uint64 -> uint32 (see intmap.h).
 * The load factor stays at or below 1/2.
 */
#include "intmap.h"

#include <stdlib.h>

/* A 64-bit mix (the finaliser of MurmurHash3) so sequential ids spread. */
static uint64_t mix(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ull;
	k ^= k >> 33;
	return k;
}

long intmap_get(const struct intmap *m, uint64_t key)
{
	if (!m->cap)
		return -1;
	for (size_t i = mix(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		if (!m->used[i])
			return -1;
		if (m->keys[i] == key)
			return (long)m->values[i];
	}
}

static int intmap_grow(struct intmap *m)
{
	struct intmap bigger = INTMAP_INIT;

	bigger.cap = m->cap ? m->cap * 2 : 64;
	bigger.keys = malloc(bigger.cap * sizeof(*bigger.keys));
	bigger.values = malloc(bigger.cap * sizeof(*bigger.values));
	bigger.used = calloc(bigger.cap, 1);
	if (!bigger.keys || !bigger.values || !bigger.used) {
		intmap_release(&bigger);
		return -1;
	}
	for (size_t i = 0; i < m->cap; i++)
		if (m->used[i])
			intmap_put(&bigger, m->keys[i], m->values[i]);
	intmap_release(m);
	*m = bigger;
	return 0;
}

int intmap_put(struct intmap *m, uint64_t key, uint32_t value)
{
	size_t i;

	if ((m->count + 1) * 2 > m->cap && intmap_grow(m) < 0)
		return -1;
	for (i = mix(key) & (m->cap - 1); m->used[i]; i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == key) {
			m->values[i] = value;
			return 0;
		}
	}
	m->used[i] = 1;
	m->keys[i] = key;
	m->values[i] = value;
	m->count++;
	return 0;
}

int intmap_del(struct intmap *m, uint64_t key)
{
	size_t mask = m->cap - 1, i, j;

	if (!m->cap)
		return -1;
	for (i = mix(key) & mask; !m->used[i] || m->keys[i] != key; i = (i + 1) & mask)
		if (!m->used[i])
			return -1;
	/* Backward-shift deletion: move each later entry of the probe run
	 * into the hole unless its home slot lies cyclically in (i, j], where
	 * a lookup starting at home would not pass the hole.  No tombstones,
	 * so lookups stay as short as after inserts alone. */
	for (j = (i + 1) & mask; m->used[j]; j = (j + 1) & mask) {
		size_t home = mix(m->keys[j]) & mask;

		if (((j - home) & mask) < ((j - i) & mask))
			continue;
		m->keys[i] = m->keys[j];
		m->values[i] = m->values[j];
		i = j;
	}
	m->used[i] = 0;
	m->count--;
	return 0;
}

void intmap_release(struct intmap *m)
{
	if (!m)
		return;
	free(m->keys);
	free(m->values);
	free(m->used);
	m->keys = NULL;
	m->values = NULL;
	m->used = NULL;
	m->cap = 0;
	m->count = 0;
}
