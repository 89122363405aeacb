/*
 * static.h - the collector's pages and their assets: the files of
 * collector/www/, compiled into the binary by collector/www_embed.sh, each
 * with its content type and an ETag (a hash of its bytes), so a browser
 * revalidates them cheaply and a new build is never served stale.
 */
#ifndef SIPAS_COL_STATIC_H
#define SIPAS_COL_STATIC_H

#include <stddef.h>

struct col_static {
	const char *name;             /* the file name in collector/www/ */
	const unsigned char *data;
	size_t size;
	const char *content_type;
	char etag[20];                /* "\"" 16 hex digits "\"" */
};

/* The file called `name` (no directory), or NULL when there is none.  The
 * result lives as long as the process.  Thread-safe. */
const struct col_static *col_static_find(const char *name);

#endif
