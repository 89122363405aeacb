/*
 * static.h - the collector's pages and their assets: the files of
 * collector/www/, compiled into the binary by collector/www_embed.sh, each
 * with its content type, a gzipped copy made at build time (the kiosk's
 * page must stay small on a slow counter network), and an ETag for each
 * (a hash of the bytes), so a browser revalidates them cheaply and a new
 * build is never served stale.
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
	const unsigned char *gz;      /* the same, gzipped */
	size_t gz_size;
	char gz_etag[24];             /* "\"" 16 hex digits "-gz\"" */
};

/* The content type for a file name, by its extension.  Can't fail. */
const char *col_static_type(const char *name);

/* The file called `name` (no directory), or NULL when there is none.  The
 * result lives as long as the process.  Thread-safe. */
const struct col_static *col_static_find(const char *name);

#endif
