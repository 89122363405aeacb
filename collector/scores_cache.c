/*
 * scores_cache.c - GET /api/scores replies built once (see scores_cache.h).
 *
 * A small table of entries, each the reply for one (form, period, by)
 * with the stamp of the publication it was read from.  A request reads
 * the stamp (one indexed row), and when it matches copies the entry out
 * under the lock; otherwise it builds the reply outside the lock and puts
 * it in place of the entry used least recently.  The number of entries is
 * fixed, so memory is bounded whatever is asked.
 */
#include "scores_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../reports/rep_publish.h"
#include "../responses/published.h"

#define CACHE_ENTRIES 32
#define KEY_MAX 64               /* longer form ids are served, not cached */

struct scores_entry {
	char form[KEY_MAX], period[KEY_MAX];
	int by;
	struct published_stamp stamp;
	struct strbuf plain, gz;     /* gz empty: gzip would not be smaller */
	unsigned long long used;     /* the cache's clock at the last use; 0 = free */
};

struct col_scores_cache {
	pthread_mutex_t lock;
	unsigned long long clock;
	struct scores_entry entries[CACHE_ENTRIES];
};

struct col_scores_cache *col_scores_cache_new(void)
{
	struct col_scores_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	pthread_mutex_init(&c->lock, NULL);
	for (size_t i = 0; i < CACHE_ENTRIES; i++) {
		strbuf_init(&c->entries[i].plain, 0);
		strbuf_init(&c->entries[i].gz, 0);
	}
	return c;
}

void col_scores_cache_free(struct col_scores_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < CACHE_ENTRIES; i++) {
		strbuf_release(&c->entries[i].plain);
		strbuf_release(&c->entries[i].gz);
	}
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* Append the gzip (RFC 1952) of `in` to `out`; -1 when out of memory. */
static int gzip_into(const struct strbuf *in, struct strbuf *out)
{
	z_stream z;
	uLong bound;
	int rc;

	memset(&z, 0, sizeof(z));
	/* windowBits 15 + 16: a gzip header and trailer, as browsers expect */
	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	bound = deflateBound(&z, (uLong)in->len) + 32;
	if (strbuf_grow(out, bound) < 0) {
		deflateEnd(&z);
		return -1;
	}
	z.next_in = (Bytef *)in->buf;
	z.avail_in = (uInt)in->len;
	z.next_out = (Bytef *)out->buf + out->len;
	z.avail_out = (uInt)bound;
	rc = deflate(&z, Z_FINISH);
	out->len += bound - z.avail_out;
	out->buf[out->len] = '\0';
	deflateEnd(&z);
	return rc == Z_STREAM_END ? 0 : -1;
}

static int same_key(const struct scores_entry *en, const char *form, const char *period, int by)
{
	return en->used && en->by == by && strcmp(en->form, form) == 0 && strcmp(en->period, period) == 0;
}

/* Copy the entry's reply into out (the lock is held). */
static int copy_out(const struct scores_entry *en, int gzip, struct strbuf *out, int *gzipped)
{
	const struct strbuf *from = gzip && en->gz.len ? &en->gz : &en->plain;

	*gzipped = from == &en->gz;
	return strbuf_add(out, from->buf, from->len);
}

int col_scores_cache_reply(struct col_scores_cache *c, sqlite3 *db, sqlite3_stmt **stamp_kept,
			   const char *form, const char *period, int by, int gzip, struct strbuf *out,
			   int *gzipped,
			   struct err *e)
{
	struct scores_entry fresh, *slot;
	char *text = NULL;
	int rc, cacheable = strlen(form) < KEY_MAX && strlen(period) < KEY_MAX;

	memset(&fresh, 0, sizeof(fresh));
	*gzipped = 0;
	rc = published_stamp(db, stamp_kept, form, period, &fresh.stamp, e);
	if (rc)
		return rc;
	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; cacheable && i < CACHE_ENTRIES; i++) {
		struct scores_entry *en = &c->entries[i];

		if (same_key(en, form, period, by) && en->stamp.serial == fresh.stamp.serial &&
		    en->stamp.published_at == fresh.stamp.published_at) {
			en->used = ++c->clock;
			rc = copy_out(en, gzip, out, gzipped) < 0 ? err_set(e, ERR_NOMEM, "out of memory") : 0;
			pthread_mutex_unlock(&c->lock);
			return rc;
		}
	}
	pthread_mutex_unlock(&c->lock);

	/* build it outside the lock: other periods' replies go on meanwhile */
	strbuf_init(&fresh.plain, 0);
	strbuf_init(&fresh.gz, 0);
	rc = rep_published_scores(db, form, period, by, &text, e);
	if (rc)
		goto out;
	if (strbuf_addstr(&fresh.plain, text) < 0 || strbuf_addch(&fresh.plain, '\n') < 0 ||
	    gzip_into(&fresh.plain, &fresh.gz) < 0) {
		rc = err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	if (fresh.gz.len >= fresh.plain.len)
		strbuf_reset(&fresh.gz);
	fresh.by = by;
	if (cacheable) {
		strcpy(fresh.form, form);
		strcpy(fresh.period, period);
	}
	pthread_mutex_lock(&c->lock);
	if (copy_out(&fresh, gzip, out, gzipped) < 0) {
		rc = err_set(e, ERR_NOMEM, "out of memory");
	} else if (cacheable) {
		/* the entry of this key if another request put one, else the
		 * least recently used */
		slot = &c->entries[0];
		for (size_t i = 0; i < CACHE_ENTRIES; i++) {
			if (same_key(&c->entries[i], form, period, by)) {
				slot = &c->entries[i];
				break;
			}
			if (c->entries[i].used < slot->used)
				slot = &c->entries[i];
		}
		fresh.used = ++c->clock;
		/* swap: the old entry's buffers are released below */
		struct scores_entry old = *slot;
		*slot = fresh;
		fresh = old;
	}
	pthread_mutex_unlock(&c->lock);
out:
	strbuf_release(&fresh.plain);
	strbuf_release(&fresh.gz);
	free(text);
	return rc;
}
