/*
 * scores_cache.h - the replies of GET /api/scores kept in memory, plain
 * and gzipped (docs/collector.md).  A published period's figures change
 * only when it is withdrawn and published again, yet anyone may ask for
 * them: so each reply is built once (read, filtered, compressed) and then
 * copied out, after one small read that checks the publication is still
 * the one cached (published_stamp).
 */
#ifndef SIPAS_SCORES_CACHE_H
#define SIPAS_SCORES_CACHE_H

#include <sqlite3.h>

#include "../lib/err.h"
#include "../lib/strbuf.h"

struct col_scores_cache;

/* A new, empty cache; NULL when out of memory.  Free with
 * col_scores_cache_free (NULL-safe). */
struct col_scores_cache *col_scores_cache_new(void);
void col_scores_cache_free(struct col_scores_cache *c);

/* Append to `out` the score JSON of the published `form` and `period`
 * grouped as `by` (enum score_by set), gzipped when `gzip` is set and that
 * is smaller (*gzipped says which).  ERR_NOT_FOUND when not published.
 * Thread-safe; `db` is the calling thread's connection and `stamp_kept`
 * its place for the prepared stamp read (published_stamp). */
int col_scores_cache_reply(struct col_scores_cache *c, sqlite3 *db, sqlite3_stmt **stamp_kept,
			   const char *form, const char *period, int by, int gzip, struct strbuf *out,
			   int *gzipped,
			   struct err *e);

#endif
