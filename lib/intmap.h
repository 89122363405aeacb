/*
 * intmap.h - an open-addressing hash map from 64-bit keys to 32-bit
 * values, for the hot loops of scoring (cells, PSUs, raking combinations)
 * and the collector's rate-limit index.
 * Keys are compared exactly; growth doubles the table.  Not thread-safe.
 */
#ifndef SIPAS_INTMAP_H
#define SIPAS_INTMAP_H

#include <stddef.h>
#include <stdint.h>

struct intmap {
	uint64_t *keys;
	uint32_t *values;
	unsigned char *used;
	size_t cap;      /* a power of two, or 0 */
	size_t count;
};

#define INTMAP_INIT { NULL, NULL, NULL, 0, 0 }

/* The value stored for key, or -1 when absent. Can't fail. */
long intmap_get(const struct intmap *m, uint64_t key);

/* Store key -> value (replacing); 0, or -1 on out of memory (map unchanged). */
int intmap_put(struct intmap *m, uint64_t key, uint32_t value);

/* Remove key; 0, or -1 when it was absent.  Can't fail otherwise. */
int intmap_del(struct intmap *m, uint64_t key);

/* Free the table; the map is empty and reusable. NULL-safe. */
void intmap_release(struct intmap *m);

#endif
