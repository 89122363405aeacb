/*
 * array.c - doubling growth for plain arrays (see array.h).
 */
#include "array.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int array_reserve(void *items_ptr, size_t *cap, size_t n, size_t size)
{
	void *items, *p;
	size_t want = *cap ? *cap : 16;

	if (n < *cap)
		return 0;
	while (want <= n) {
		if (want > SIZE_MAX / 2 / size)
			return -1;
		want *= 2;
	}
	memcpy(&items, items_ptr, sizeof(items));
	p = realloc(items, want * size);
	if (!p)
		return -1;
	memcpy(items_ptr, &p, sizeof(p));
	*cap = want;
	return 0;
}
