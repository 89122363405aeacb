/*
 * array.h - growing a plain C array by doubling: the one place that does
 * the realloc dance for the many small tables (cells, strata, PSUs, groups,
 * registry rows, rate-limit buckets).
 */
#ifndef SIPAS_ARRAY_H
#define SIPAS_ARRAY_H

#include <stddef.h>

/* Make room for element index n (at least n + 1 elements of `size` bytes)
 * in the array whose pointer is at `items_ptr` and capacity at *cap; the
 * capacity doubles from 16.  0, or -1 on out of memory (array unchanged). */
int array_reserve(void *items_ptr, size_t *cap, size_t n, size_t size);

#define ARRAY_RESERVE(items, cap, n) array_reserve(&(items), &(cap), (n), sizeof(*(items)))

#endif
