/*
 * writer.h - the collector's only database writer, with group commit
 * (docs/collector.md).  Requests hand in jobs of checked responses and are
 * suspended; the writer thread stores everything that queued up meanwhile in
 * one transaction, commits (synchronous=FULL: on disk when COMMIT returns),
 * and only then calls each job's `done`, which resumes its request.  So
 * every 2xx is durable, and many concurrent posts share one fsync.
 *
 * It also watches its storage (docs/collector.md, "Storage faults and
 * /healthz"): before BEGIN and after each COMMIT it checks that the
 * database path and its WAL still name the files it has open, else every
 * result of that commit and of all later jobs is COL_ERR_STORAGE_GONE until
 * a restart; a full disk fails the whole commit with COL_ERR_STORAGE_FULL
 * and the next one just works when space returns; another process's write
 * lock is waited for at most COL_WRITER_BUSY_SECONDS (COL_ERR_BUSY).
 */
#ifndef SIPAS_WRITER_H
#define SIPAS_WRITER_H

#include <stdint.h>

#include "../responses/response.h"
#include "../lib/err.h"
#include "../lib/secret.h"
#include "../responses/store.h"

struct col_writer;

/* The longest a job waits, from its enqueue, for a write lock another
 * process holds (sipas import, a backup, an operator's sqlite3). */
#define COL_WRITER_BUSY_SECONDS 2.0
/* /healthz's write-lock probe: how long it waits, and how often it runs. */
#define COL_WRITER_PROBE_WAIT_MS 200
#define COL_WRITER_PROBE_EVERY_SECONDS 1.0

/* The outcome for one response. */
struct col_write_result {
	int code;                 /* ERR_OK, ERR_CONFLICT, another err_code or a
				     col_err_code (errors.h) */
	int duplicate;
	char receipt[33];         /* 32 hex digits, when code is ERR_OK */
	struct err err;           /* when code is not ERR_OK */
};

/* Open the writer's own connection to `path` and start its thread.
 * `key` (borrowed, SECRET_KEY_BYTES) derives receipts. */
int col_writer_start(const char *path, const uint8_t *key, struct col_writer **out, struct err *e);

/* A unit of work: n responses, their results, and who to call after the
 * commit.  Owned by the caller, who must keep it (and what it points to)
 * alive until done(arg) has been called. */
struct col_write_job {
	const struct response *const *responses;
	size_t n;
	struct col_write_result *results;    /* results[i] for responses[i] */
	long long device_id;                 /* the posting kiosk, 0 = none */
	void (*done)(void *arg);             /* called on the writer thread */
	void *arg;
	double queued_at;                    /* set by col_writer_enqueue */
	struct col_write_job *next;          /* the writer's queue */
};

/* Queue a job; returns at once.  Each response succeeds or fails on its
 * own; done() runs once its transaction is committed or failed.  Safe from
 * any thread. */
void col_writer_enqueue(struct col_writer *w, struct col_write_job *job);

/* The receipt of a stored response: the HMAC (mac, keyed with the server
 * key) of its form code, response id and content digest, as 32 hex digits
 * into out[33], so the same submission always gets the same receipt and
 * nobody can mint one.  Can't fail. */
void col_writer_receipt(struct secret_mac *mac, const char *form, const char *response_id,
			const uint8_t digest[STORE_DIGEST_BYTES], char out[33]);

/* Transactions committed and responses stored so far (for /metrics). */
void col_writer_stats(struct col_writer *w, uint64_t *commits, uint64_t *stored);

/* What /healthz reports of the storage. */
struct col_storage_health {
	int replaced;            /* the path or its WAL names another file, or none */
	int write_lock;          /* 1: a write transaction could begin within
				    COL_WRITER_PROBE_WAIT_MS (checked at most every
				    COL_WRITER_PROBE_EVERY_SECONDS; the last answer between) */
	uint64_t free_bytes;     /* available on the database's filesystem */
};

/* Check the storage now.  Safe from any thread; never holds the write
 * lock longer than a BEGIN IMMEDIATE and its ROLLBACK. */
void col_writer_health(struct col_writer *w, struct col_storage_health *out);

/* Finish what is queued, stop the thread, close.  NULL-safe. */
void col_writer_stop(struct col_writer *w);

#endif
