/*
 * static.c - the compiled-in pages (see static.h).  The table is described
 * once, on first use, by content type and ETag.
 */
#include "static.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/secret.h"

/* Emitted by www_embed.sh: {name, data, size, gz, gz_size} rows ended by
 * a NULL name. */
struct col_www_file {
	const char *name;
	const unsigned char *data;
	size_t size;
	const unsigned char *gz;
	size_t gz_size;
};

extern const struct col_www_file col_www_files[];


static const struct {
	const char *ext;
	const char *type;
} types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".svg", "image/svg+xml" },
	{ ".json", "application/json; charset=utf-8" },
	{ ".webmanifest", "application/manifest+json" },
	{ ".png", "image/png" },
	{ ".ico", "image/x-icon" },
	{ ".csv", "text/csv; charset=utf-8" },
	{ ".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" },
};

static struct col_static *files;   /* one per compiled-in file, made once */
static size_t n_files;
static pthread_once_t described = PTHREAD_ONCE_INIT;

const char *col_static_type(const char *name)
{
	const char *dot = strrchr(name, '.');

	for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return "application/octet-stream";
}

static void describe(void)
{
	size_t n = 0;

	while (col_www_files[n].name)
		n++;
	files = calloc(n, sizeof(*files));
	if (!files) {
		fprintf(stderr, "sipas: out of memory describing the pages: every page answers 404\n");
		return;
	}
	for (const struct col_www_file *f = col_www_files; f->name; f++) {
		struct col_static *s = &files[n_files++];
		uint8_t hash[SECRET_HASH_BYTES];
		char hex[2 * SECRET_HASH_BYTES + 1];

		s->name = f->name;
		s->data = f->data;
		s->size = f->size;
		s->content_type = col_static_type(f->name);
		s->gz = f->gz;
		s->gz_size = f->gz_size;
		if (secret_hash(f->data, f->size, hash, NULL) != 0)
			memset(hash, 0, sizeof(hash));
		secret_hex(hash, sizeof(hash), hex);
		snprintf(s->etag, sizeof(s->etag), "\"%.16s\"", hex);
		snprintf(s->gz_etag, sizeof(s->gz_etag), "\"%.16s-gz\"", hex);
	}
}

const struct col_static *col_static_find(const char *name)
{
	pthread_once(&described, describe);
	for (size_t i = 0; i < n_files; i++)
		if (strcmp(files[i].name, name) == 0)
			return &files[i];
	return NULL;
}
