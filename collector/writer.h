/*
 * writer.h - the collector's only database writer, with group commit
 * (SPEC §6.1).  Request threads hand in checked responses and wait; the
 * writer thread stores everything that queued up meanwhile in one
 * transaction, commits (synchronous=FULL: on disk when COMMIT returns), and
 * only then wakes the waiting requests.  So every 2xx is durable, and many
 * concurrent posts share one fsync.
 */
#ifndef SIPAS_WRITER_H
#define SIPAS_WRITER_H

#include <stdint.h>

#include "../forms/response.h"
#include "../lib/err.h"
#include "../lib/store.h"

struct col_writer;

/* The outcome for one response. */
struct col_write_result {
	int code;                 /* ERR_OK, ERR_CONFLICT, or another err_code */
	int duplicate;
	char receipt[33];         /* 32 hex digits, when code is ERR_OK */
	struct err err;           /* when code is not ERR_OK */
};

/* Open the writer's own connection to `path` and start its thread.
 * `key` (borrowed, SECRET_KEY_BYTES) derives receipts. */
int col_writer_start(const char *path, const uint8_t *key, struct col_writer **out, struct err *e);

/* Store n responses (borrowed until it returns) and wait until their
 * transaction is committed or failed; results[i] for responses[i].  Each
 * response succeeds or fails on its own.  Safe from any thread. */
void col_writer_submit(struct col_writer *w, const struct response *const *responses, size_t n,
		       struct col_write_result *results);

/* Transactions committed and responses stored so far (for /metrics). */
void col_writer_stats(struct col_writer *w, uint64_t *commits, uint64_t *stored);

/* Finish what is queued, stop the thread, close.  NULL-safe. */
void col_writer_stop(struct col_writer *w);

#endif
