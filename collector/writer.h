/*
 * writer.h - the collector's only database writer, with group commit
 * (docs/collector.md).  Requests hand in jobs of checked responses, each
 * with its digest (and receipt) already computed on the request's thread,
 * so the single writer does only what must be serial: the writer thread
 * stores everything that queued up meanwhile in one transaction, commits
 * (synchronous=FULL: on disk when COMMIT returns), and only then calls
 * each job's `done`, which resumes its request.  So every 2xx is durable,
 * and many concurrent posts share one fsync.  The console's writes
 * (sessions, accounts, audit entries) are jobs of a second kind, a
 * function run in the same transaction: no worker thread ever waits for
 * the write lock.
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
#include <sqlite3.h>

#include "../responses/response.h"
#include "../lib/err.h"
#include "../responses/store.h"

struct col_writer;

/* The longest a job waits, from its enqueue, for a write lock another
 * process holds (sipas import, a backup, an operator's sqlite3). */
#define COL_WRITER_BUSY_SECONDS 2.0
/* /healthz's write-lock probe: how long it waits, and how often it runs. */
#define COL_WRITER_PROBE_WAIT_MS 200
#define COL_WRITER_PROBE_EVERY_SECONDS 1.0

/* One response of a job: what the caller hands in, and the writer's answer. */
struct col_write_item {
	const struct response *response;      /* checked, borrowed */
	uint8_t digest[STORE_DIGEST_BYTES];   /* store_digest(response), by the caller */
	/* the outcome, by the writer: */
	int code;                 /* ERR_OK, ERR_CONFLICT, another err_code or a
				     col_err_code (errors.h); always err.code */
	int duplicate;            /* only when code is ERR_OK */
	struct err err;           /* why, when code is not ERR_OK */
};

/* Where a job is; each step is taken once, in this order, and asserted. */
enum col_job_state {
	COL_JOB_NEW,              /* filled by its caller (zeroed memory is NEW) */
	COL_JOB_QUEUED,           /* col_writer_enqueue: the writer's until done() */
	COL_JOB_STORING,          /* taken by the writer thread into a group */
	COL_JOB_DONE              /* committed or failed, every item answered */
};

/* A unit of work, of one of two kinds: n responses and their outcomes;
 * or a function, run(db, run_arg, &err), that writes what it likes (a
 * console session, an account, an audit entry) in the group's
 * transaction, inside a savepoint of its own: a run that fails undoes only
 * itself, like a refused response.  run must not commit, must not block,
 * and may not keep db.  Either way, who to call after the commit.  Owned
 * by the caller, who must keep it (and what it points to) alive until
 * done(arg) has been called. */
struct col_write_job {
	struct col_write_item *items;
	size_t n;                            /* at least 1; 0 for a run */
	int (*run)(sqlite3 *db, void *run_arg, struct err *e);  /* NULL for responses */
	void *run_arg;
	int code;                            /* a run's outcome, by the writer: as an item's */
	struct err err;                      /* why, when code is not ERR_OK */
	long long device_id;                 /* the posting kiosk, 0 = none */
	const struct registry *reg;          /* the registry its responses were checked
						against, for the alerts' targets; borrowed */
	void (*done)(void *arg);             /* called on the writer thread */
	void *arg;
	enum col_job_state state;
	double queued_at;                    /* set by col_writer_enqueue */
	struct col_write_job *next;          /* the writer's queue */
};

/* Open the writer's own connection to `path` and start its thread. */
int col_writer_start(const char *path, struct col_writer **out, struct err *e);

/* Run the alert engine (docs/monitoring.md, "Alerts") from now on: each
 * kiosk rating stored feeds its CUSUMs in the transaction that stores it
 * (a job with device_id and reg), and once every COL_WRITER_CHECK_SECONDS
 * the writer runs the periodic rules (alert_check) in a transaction of its
 * own.  Call once, before the first job is queued.  ERR_DB or ERR_NOMEM. */
#define COL_WRITER_CHECK_SECONDS 60
int col_writer_enable_alerts(struct col_writer *w, struct err *e);

/* Queue a NEW job; returns at once.  Each response (or run) succeeds or
 * fails on its own; done() runs once its transaction is committed or
 * failed, with the job DONE.  Safe from any thread. */
void col_writer_enqueue(struct col_writer *w, struct col_write_job *job);

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
