/*
 * writer.c - group commit (see writer.h).  One thread owns the write
 * connection.  Jobs queue under a mutex; the thread takes the whole queue,
 * stores each response (a refused one undoes only itself), commits once,
 * checks that the files it committed to are still the database, fills the
 * outcomes, and calls each job's done().  A run job (the console's writes)
 * runs in the same transaction inside a savepoint of its own.  A job's state (enum
 * col_job_state) is asserted at each of its steps.
 */
#include "writer.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>

#include "../lib/array.h"
#include "../db/db.h"
#include "../lib/clock.h"
#include "../lib/period.h"
#include "../monitor/alert.h"
#include "errors.h"

/* Which file a path named when the writer opened it. */
struct file_id {
	dev_t dev;
	ino_t ino;
};

struct col_writer {
	sqlite3 *db;
	sqlite3_stmt *begin, *commit, *rollback;
	sqlite3_stmt *savepoint, *release, *undo;   /* around a run job */
	sqlite3_stmt *touch;          /* a device's last_post_at and ratings today */
	struct form_store_entry {     /* one per form id, opened on first use */
		char *form;
		struct store *store;
	} *stores;
	size_t n_stores, cap_stores;
	double busy_until;            /* the writer thread's busy handler gives up then */
	/* the storage: immutable after start but for `gone` */
	char *path, *wal_path, *dir;
	struct file_id db_id, wal_id;
	atomic_int gone;              /* set once: the path names another file */
	/* /healthz's write-lock probe: its own connection, used under probe_lock */
	pthread_mutex_t probe_lock;
	sqlite3 *probe;
	sqlite3_stmt *probe_begin, *probe_rollback;
	double probe_at;
	atomic_int lock_ok;           /* the probe's last answer */
	double began_at;              /* the writer's last BEGIN that worked (under lock) */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct col_write_job *head, *tail;
	int stopping;
	uint64_t commits, stored;
	struct alert_engine *alerts;  /* NULL: no alerts (sipas serve --no-alerts) */
	double check_at;              /* when the periodic rules run next (monotonic) */
};

/* What holds of a job in `state`: it has work of one kind and someone to
 * tell, and once DONE every item (or the run) has one outcome whose code
 * is its error's. */
static void assert_job_state(const struct col_write_job *j, enum col_job_state state)
{
	assert(j->state == state);
	assert(j->done);
	assert(j->run ? j->n == 0 && !j->items : j->n > 0 && j->items);
	if (state != COL_JOB_DONE)
		return;
	assert(j->code == j->err.code);
	for (size_t i = 0; i < j->n; i++) {
		const struct col_write_item *it = &j->items[i];

		assert(it->code == it->err.code);
		assert(!it->duplicate || it->code == ERR_OK);
	}
}

/* Move a job on to `next`, the step after its current one. */
static void job_step(struct col_write_job *j, enum col_job_state next)
{
	assert_job_state(j, (enum col_job_state)(next - 1));
	j->state = next;
	assert_job_state(j, next);
}

static int store_for(struct col_writer *w, const char *form_id, struct store **out, struct err *e)
{
	struct form_store_entry *en;
	int rc;

	for (size_t i = 0; i < w->n_stores; i++) {
		if (strcmp(w->stores[i].form, form_id) == 0) {
			*out = w->stores[i].store;
			return 0;
		}
	}
	if (ARRAY_RESERVE(w->stores, w->cap_stores, w->n_stores) < 0)
		return err_set(e, ERR_NOMEM, "out of memory");
	en = &w->stores[w->n_stores];
	en->form = strdup(form_id);
	if (!en->form)
		return err_set(e, ERR_NOMEM, "out of memory");
	rc = store_open(w->db, form_id, &en->store, e);
	if (rc) {
		free(en->form);
		return rc;
	}
	w->n_stores++;
	*out = en->store;
	return 0;
}

static int errno_is_full(int n)
{
	return n == ENOSPC || n == EDQUOT || n == EFBIG;
}

/* Whether the write connection's last I/O error was a full disk, or a
 * write past a file size limit (RLIMIT_FSIZE, EFBIG).  The errno is read
 * from the files (the database's and the WAL's): the connection's copy,
 * sqlite3_system_errno, is taken from the global errno later and was
 * measured to be 0 by then after a failed WAL append. */
static int io_error_is_full(struct col_writer *w)
{
	sqlite3_file *wal = NULL;
	int main_errno = 0, wal_errno = 0;

	sqlite3_file_control(w->db, "main", SQLITE_FCNTL_LAST_ERRNO, &main_errno);
	if (sqlite3_file_control(w->db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal) == SQLITE_OK && wal &&
	    wal->pMethods)
		wal->pMethods->xFileControl(wal, SQLITE_FCNTL_LAST_ERRNO, &wal_errno);
	return errno_is_full(sqlite3_system_errno(w->db)) || errno_is_full(main_errno) ||
	       errno_is_full(wal_errno);
}

/* Fill e with what a failed statement on the write connection means for
 * the client: a full disk (SQLITE_FULL, or an I/O error whose errno says
 * so), another process's write lock held past the writer's wait, or
 * another database failure.  Returns e->code. */
static int storage_fail(struct col_writer *w, struct err *e, const char *context)
{
	int code = sqlite3_extended_errcode(w->db) & 0xff;

	if (code == SQLITE_FULL || (code == SQLITE_IOERR && io_error_is_full(w)))
		return err_set(e, COL_ERR_STORAGE_FULL, "%s: the disk is full: nothing was stored, retry later",
			       context);
	if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
		return err_set(e, COL_ERR_BUSY, "%s: another process holds the database's write lock "
			       "(an import?): nothing was stored, retry later", context);
	return db_fail(w->db, e, context);
}

/* Run a prepared statement that returns no rows (BEGIN, COMMIT, ROLLBACK). */
static int step_once(struct col_writer *w, sqlite3_stmt *st, struct err *e)
{
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : storage_fail(w, e, "writing");

	sqlite3_reset(st);
	return rc;
}

/* SQLite's busy handler for the write connection: wait, with short
 * sleeps, until the oldest job of the group has waited
 * COL_WRITER_BUSY_SECONDS. */
static int busy_wait(void *arg, int count)
{
	static const long sleep_us[] = { 1000, 2000, 5000, 10000 };
	struct col_writer *w = arg;
	double left = w->busy_until - clock_seconds();
	long us = sleep_us[count < 3 ? count : 3];
	struct timespec ts;

	if (left <= 0)
		return 0;
	if (us > left * 1e6)
		us = (long)(left * 1e6) + 1;
	ts.tv_sec = 0;
	ts.tv_nsec = us * 1000;
	nanosleep(&ts, NULL);
	return 1;
}

static int file_id_of(const char *path, struct file_id *out)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return -1;
	out->dev = st.st_dev;
	out->ino = st.st_ino;
	return 0;
}

static int same_file(const char *path, const struct file_id *want)
{
	struct file_id now;

	return file_id_of(path, &now) == 0 && now.dev == want->dev && now.ino == want->ino;
}

/* 0 while the database path and its WAL name the files the writer opened.
 * Once they do not, nothing it writes can reach the database any more
 * (an unlinked file, or one a restore renamed over): from then on always
 * COL_ERR_STORAGE_GONE, logged once with the path for the operator. */
static int check_identity(struct col_writer *w, struct err *e)
{
	const char *what = NULL;

	if (!atomic_load(&w->gone)) {
		if (!same_file(w->path, &w->db_id))
			what = "the database file";
		else if (!same_file(w->wal_path, &w->wal_id))
			what = "its write-ahead log";
		if (!what)
			return 0;
		if (!atomic_exchange(&w->gone, 1))
			fprintf(stderr, "sipas serve: %s: %s was removed or replaced since the start; "
				"nothing more is stored: restart the collector\n", w->path, what);
	}
	return err_set(e, COL_ERR_STORAGE_GONE, "the database file was removed or replaced: nothing "
		       "can be stored until the collector is restarted");
}

static void store_one(struct col_writer *w, struct col_write_item *it)
{
	struct store *st = NULL;
	int rc;

	/* No savepoint is needed: a refused INSERT undoes itself (SQLite
	 * rolls back the statement, not the transaction), and the stratum it
	 * may have interned before is harmless: strata count only through
	 * the responses that use them. */
	err_clear(&it->err);
	it->duplicate = 0;
	rc = store_for(w, it->response->form->id, &st, &it->err);
	if (!rc)
		rc = store_put(st, it->response, it->digest, &it->duplicate, &it->err);
	if (rc)
		it->duplicate = 0;
	it->code = rc;
}

/* Note when a kiosk last posted (sipas device list) and count the
 * ratings it had stored today (the console's overview); a failure here
 * costs no rating (unless it ends the transaction: see store_jobs). */
static void touch_device(struct col_writer *w, long long device_id, uint64_t stored)
{
	time_t now = time(NULL);

	sqlite3_bind_int64(w->touch, 1, device_id);
	sqlite3_bind_int64(w->touch, 2, (sqlite3_int64)now);
	sqlite3_bind_int64(w->touch, 3, (sqlite3_int64)((now + PERIOD_TZ_SECONDS) / 86400));
	sqlite3_bind_int64(w->touch, 4, (sqlite3_int64)stored);
	sqlite3_step(w->touch);
	sqlite3_reset(w->touch);
}

/* Feed the alert engine the responses of j newly stored; as for
 * touch_device, a failure costs no rating: it is logged, and ends the
 * group only when it ended the transaction. */
static int alert_job(struct col_writer *w, struct col_write_job *j, struct err *e)
{
	int64_t now = (int64_t)time(NULL);
	struct err why;

	for (size_t i = 0; i < j->n; i++) {
		const struct col_write_item *it = &j->items[i];

		if (it->code != 0 || it->duplicate)
			continue;
		if (alert_rating(w->alerts, j->reg, it->response, j->device_id, now, &why) != 0) {
			fprintf(stderr, "sipas serve: alerts: %s\n", why.text);
			if (sqlite3_get_autocommit(w->db))
				return storage_fail(w, e, "updating the alerts");
		}
	}
	return 0;
}

/* Run a run job in the open transaction, inside a savepoint: a run that
 * fails (a refused account, say) undoes only its own writes.  Fills the
 * job's outcome; returns non-zero only when the failure ended the whole
 * transaction (as for a response, see store_jobs). */
static int run_one(struct col_writer *w, struct col_write_job *j, struct err *e)
{
	err_clear(&j->err);
	if (step_once(w, w->savepoint, e) != 0)
		return e->code;
	j->code = j->run(w->db, j->run_arg, &j->err);
	if (j->code == ERR_DB)
		j->code = storage_fail(w, &j->err, "writing a console change");
	j->err.code = j->code;
	if (sqlite3_get_autocommit(w->db)) {
		*e = j->err;
		return e->code ? e->code : storage_fail(w, e, "writing a console change");
	}
	if (j->code && step_once(w, w->undo, e) != 0)
		return e->code;
	return step_once(w, w->release, e);
}

/* Store every response of the group in the open transaction.  A refused
 * response (a conflict) undoes only its own statement.  But on a full disk
 * or an I/O error SQLite rolls back the whole transaction by itself: what
 * follows would be stored one autocommit at a time and COMMIT would find
 * no transaction, so such a failure fails the group (e says why). */
static int store_jobs(struct col_writer *w, struct col_write_job *jobs, uint64_t *stored, struct err *e)
{
	for (struct col_write_job *j = jobs; j; j = j->next) {
		uint64_t before = *stored;

		if (j->run && run_one(w, j, e) != 0)
			return e->code;
		for (size_t i = 0; i < j->n; i++) {
			struct col_write_item *it = &j->items[i];

			store_one(w, it);
			if (it->code == ERR_DB)
				it->code = storage_fail(w, &it->err, "storing a response");
			if (sqlite3_get_autocommit(w->db)) {
				*e = it->err;
				return e->code ? e->code : storage_fail(w, e, "storing a response");
			}
			*stored += it->code == 0 && !it->duplicate;
		}
		if (j->device_id) {
			touch_device(w, j->device_id, *stored - before);
			if (sqlite3_get_autocommit(w->db))
				return storage_fail(w, e, "noting a kiosk's last post");
			if (w->alerts && j->reg && alert_job(w, j, e) != 0)
				return e->code;
		}
	}
	return 0;
}

/* Store a batch of jobs in one transaction. */
static void run_jobs(struct col_writer *w, struct col_write_job *jobs)
{
	struct err e;
	uint64_t stored = 0;
	int began = 0, rc;

	err_clear(&e);
	w->busy_until = jobs->queued_at + COL_WRITER_BUSY_SECONDS;
	rc = check_identity(w, &e);
	if (!rc) {
		rc = step_once(w, w->begin, &e);
		began = !rc;
	}
	if (!rc)
		rc = store_jobs(w, jobs, &stored, &e);
	if (!rc)
		rc = step_once(w, w->commit, &e);
	/* after the fsync: a commit into files that are no longer the
	 * database is lost, so nobody gets a 2xx for it */
	if (!rc)
		rc = check_identity(w, &e);
	if (rc) {
		if (!sqlite3_get_autocommit(w->db))
			step_once(w, w->rollback, NULL);
		if (began)
			for (size_t i = 0; i < w->n_stores; i++)
				store_reset_cache(w->stores[i].store);
		for (struct col_write_job *j = jobs; j; j = j->next) {
			if (j->run) {
				j->code = rc;
				j->err = e;
			}
			for (size_t i = 0; i < j->n; i++) {
				j->items[i].code = rc;
				j->items[i].duplicate = 0;
				j->items[i].err = e;
			}
		}
		stored = 0;
	}
	pthread_mutex_lock(&w->lock);
	if (began)
		w->began_at = clock_seconds();
	w->commits += !rc;
	w->stored += stored;
	pthread_mutex_unlock(&w->lock);
	/* the next pointer is read first: a job may be freed once done */
	for (struct col_write_job *j = jobs, *next; j; j = next) {
		next = j->next;
		job_step(j, COL_JOB_DONE);
		j->done(j->arg);
	}
}

/* The periodic alert rules in a transaction of their own, at the time
 * now; a failure is logged and the next run tries again. */
static void run_check(struct col_writer *w)
{
	struct err e;
	int rc;

	err_clear(&e);
	w->busy_until = clock_seconds() + COL_WRITER_BUSY_SECONDS;
	rc = check_identity(w, &e);
	if (!rc)
		rc = step_once(w, w->begin, &e);
	if (!rc) {
		rc = alert_check(w->db, (int64_t)time(NULL), &e);
		if (!rc)
			rc = step_once(w, w->commit, &e);
		if (rc && !sqlite3_get_autocommit(w->db))
			step_once(w, w->rollback, NULL);
	}
	if (rc)
		fprintf(stderr, "sipas serve: alerts: %s\n", e.text);
}

/* Wait for jobs, or (alerts on) until the periodic rules are due. */
static struct col_write_job *wait_for_jobs(struct col_writer *w, int *check)
{
	struct col_write_job *jobs;

	*check = 0;
	pthread_mutex_lock(&w->lock);
	while (!w->head && !w->stopping && !*check) {
		if (!w->alerts) {
			pthread_cond_wait(&w->wake, &w->lock);
		} else {
			double left = w->check_at - clock_seconds();
			struct timespec until;

			if (left <= 0) {
				*check = 1;
				break;
			}
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += (time_t)left;
			until.tv_nsec += (long)((left - (double)(time_t)left) * 1e9);
			if (until.tv_nsec >= 1000000000L) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&w->wake, &w->lock, &until);
		}
	}
	jobs = w->head;
	w->head = w->tail = NULL;
	pthread_mutex_unlock(&w->lock);
	return jobs;
}

static void *writer_main(void *arg)
{
	struct col_writer *w = arg;

	for (;;) {
		struct col_write_job *jobs;
		int check;

		jobs = wait_for_jobs(w, &check);
		if (check) {
			run_check(w);
			w->check_at = clock_seconds() + COL_WRITER_CHECK_SECONDS;
		}
		if (!jobs) {
			if (check)
				continue;
			return NULL;   /* stopping, and nothing left */
		}
		for (struct col_write_job *j = jobs; j; j = j->next)
			job_step(j, COL_JOB_STORING);
		run_jobs(w, jobs);
	}
}

int col_writer_enable_alerts(struct col_writer *w, struct err *e)
{
	struct alert_engine *ae = NULL;
	int rc;

	/* the writer thread only waits for work until a job is queued */
	pthread_mutex_lock(&w->lock);
	assert(!w->alerts && !w->head);
	rc = alert_engine_open(w->db, &ae, e);
	if (!rc) {
		w->alerts = ae;
		w->check_at = clock_seconds();
		pthread_cond_signal(&w->wake);
	}
	pthread_mutex_unlock(&w->lock);
	return rc;
}

void col_writer_enqueue(struct col_writer *w, struct col_write_job *job)
{
	job_step(job, COL_JOB_QUEUED);
	job->next = NULL;
	job->queued_at = clock_seconds();
	pthread_mutex_lock(&w->lock);
	if (w->tail)
		w->tail->next = job;
	else
		w->head = job;
	w->tail = job;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
}

void col_writer_stats(struct col_writer *w, uint64_t *commits, uint64_t *stored)
{
	pthread_mutex_lock(&w->lock);
	*commits = w->commits;
	*stored = w->stored;
	pthread_mutex_unlock(&w->lock);
}

/* Whether a write transaction can begin within COL_WRITER_PROBE_WAIT_MS.
 * Yes when the writer began one within the last
 * COL_WRITER_PROBE_EVERY_SECONDS (under load the lock is free only for
 * moments between commits, which a probe could miss).  Else a probe on
 * its own connection: it holds the lock only between BEGIN IMMEDIATE and
 * ROLLBACK (no write, no fsync), runs at most once per
 * COL_WRITER_PROBE_EVERY_SECONDS, and a request that finds it running
 * takes the last answer instead of waiting: however often /healthz is
 * asked, the writer is not held up, and no more than one worker thread
 * waits on the probe. */
static int probe_write_lock(struct col_writer *w)
{
	double began_at;
	int ok;

	pthread_mutex_lock(&w->lock);
	began_at = w->began_at;
	pthread_mutex_unlock(&w->lock);
	if (began_at && clock_seconds() - began_at < COL_WRITER_PROBE_EVERY_SECONDS)
		return 1;
	if (pthread_mutex_trylock(&w->probe_lock) != 0)
		return atomic_load(&w->lock_ok);
	if (clock_seconds() - w->probe_at >= COL_WRITER_PROBE_EVERY_SECONDS) {
		ok = sqlite3_step(w->probe_begin) == SQLITE_DONE;
		sqlite3_reset(w->probe_begin);
		if (ok) {
			sqlite3_step(w->probe_rollback);
			sqlite3_reset(w->probe_rollback);
		}
		atomic_store(&w->lock_ok, ok);
		w->probe_at = clock_seconds();
	}
	pthread_mutex_unlock(&w->probe_lock);
	return atomic_load(&w->lock_ok);
}

void col_writer_health(struct col_writer *w, struct col_storage_health *out)
{
	struct statvfs fs;

	memset(out, 0, sizeof(*out));
	out->replaced = check_identity(w, NULL) != 0;
	out->write_lock = probe_write_lock(w);
	if (statvfs(w->dir, &fs) == 0)
		out->free_bytes = (uint64_t)fs.f_bavail * fs.f_frsize;
}

/* Release everything but the thread (not started, or joined). */
static void writer_free(struct col_writer *w)
{
	for (size_t i = 0; i < w->n_stores; i++) {
		store_free(w->stores[i].store);
		free(w->stores[i].form);
	}
	free(w->stores);
	sqlite3_finalize(w->begin);
	sqlite3_finalize(w->commit);
	sqlite3_finalize(w->rollback);
	sqlite3_finalize(w->savepoint);
	sqlite3_finalize(w->release);
	sqlite3_finalize(w->undo);
	sqlite3_finalize(w->touch);
	alert_engine_free(w->alerts);
	db_close(w->db);
	sqlite3_finalize(w->probe_begin);
	sqlite3_finalize(w->probe_rollback);
	db_close(w->probe);
	free(w->path);
	free(w->wal_path);
	free(w->dir);
	pthread_mutex_destroy(&w->probe_lock);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->wake);
	free(w);
}

/* Keep the path, its WAL's and its directory's, and which files they name
 * now that the connection has them open (db_open read the database, so
 * SQLite has opened or created the WAL). */
static int remember_files(struct col_writer *w, const char *path, struct err *e)
{
	const char *slash = strrchr(path, '/');

	w->path = strdup(path);
	if (asprintf(&w->wal_path, "%s-wal", path) < 0)
		w->wal_path = NULL;
	w->dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
	if (!w->path || !w->wal_path || !w->dir)
		return err_set(e, ERR_NOMEM, "out of memory");
	if (file_id_of(w->path, &w->db_id) != 0 || file_id_of(w->wal_path, &w->wal_id) != 0)
		return err_set(e, ERR_IO, "%s: cannot find the database or its write-ahead log: %s", path,
			       strerror(errno));
	return 0;
}

int col_writer_start(const char *path, struct col_writer **out, struct err *e)
{
	struct col_writer *w = calloc(1, sizeof(*w));
	int rc;

	if (!w)
		return err_set(e, ERR_NOMEM, "out of memory");
	pthread_mutex_init(&w->lock, NULL);
	pthread_mutex_init(&w->probe_lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	w->probe_at = -COL_WRITER_PROBE_EVERY_SECONDS;
	atomic_init(&w->lock_ok, 1);   /* until the first probe says otherwise */
	rc = db_open(path, 0, &w->db, e);
	if (!rc)
		rc = remember_files(w, path, e);
	if (!rc) {
		sqlite3_busy_handler(w->db, busy_wait, w);
		rc = db_prepare(w->db, "BEGIN IMMEDIATE", &w->begin, e);
	}
	if (!rc)
		rc = db_prepare(w->db, "COMMIT", &w->commit, e);
	if (!rc)
		rc = db_prepare(w->db, "ROLLBACK", &w->rollback, e);
	if (!rc)
		rc = db_prepare(w->db, "SAVEPOINT run_job", &w->savepoint, e);
	if (!rc)
		rc = db_prepare(w->db, "RELEASE run_job", &w->release, e);
	if (!rc)
		rc = db_prepare(w->db, "ROLLBACK TO run_job", &w->undo, e);
	if (!rc)
		rc = db_prepare(w->db, "UPDATE devices SET last_post_at = ?2, rated_today = CASE WHEN "
				"rated_day = ?3 THEN rated_today + ?4 ELSE ?4 END, rated_day = ?3 WHERE id = ?1", &w->touch, e);
	if (!rc)
		rc = db_open(path, 0, &w->probe, e);
	if (!rc) {
		sqlite3_busy_timeout(w->probe, COL_WRITER_PROBE_WAIT_MS);
		rc = db_prepare(w->probe, "BEGIN IMMEDIATE", &w->probe_begin, e);
	}
	if (!rc)
		rc = db_prepare(w->probe, "ROLLBACK", &w->probe_rollback, e);
	if (!rc && pthread_create(&w->thread, NULL, writer_main, w) != 0)
		rc = err_set(e, ERR_INTERNAL, "cannot start the writer thread");
	if (rc) {
		writer_free(w);
		return rc;
	}
	*out = w;
	return 0;
}

void col_writer_stop(struct col_writer *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = 1;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	writer_free(w);
}
