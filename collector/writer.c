/*
 * writer.c - group commit (see writer.h).  One thread owns the write
 * connection.  Jobs queue under a mutex; the thread takes the whole queue,
 * stores each response (a refused one undoes only itself), commits once,
 * fills the results, and calls each job's done().
 */
#include "writer.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../lib/array.h"
#include "../db/db.h"
#include "../lib/secret.h"

struct col_writer {
	sqlite3 *db;
	sqlite3_stmt *begin, *commit, *rollback;
	sqlite3_stmt *touch;          /* a device's last_post_at */
	struct secret_mac *receipt_mac;
	struct form_store_entry {     /* one per form id, opened on first use */
		char *form;
		struct store *store;
	} *stores;
	size_t n_stores, cap_stores;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct col_write_job *head, *tail;
	int stopping;
	uint64_t commits, stored;
};

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

/* The receipt: HMAC of the form, response id and content digest, so the
 * same submission always gets the same receipt and nobody can mint one. */
static void make_receipt(struct col_writer *w, const struct response *r,
			 const uint8_t digest[STORE_DIGEST_BYTES], char *out)
{
	uint8_t mac[SECRET_HASH_BYTES];

	secret_mac_add(w->receipt_mac, r->form->id, strlen(r->form->id) + 1);
	secret_mac_add(w->receipt_mac, r->response_id, strlen(r->response_id) + 1);
	secret_mac_add(w->receipt_mac, digest, STORE_DIGEST_BYTES);
	secret_mac_end(w->receipt_mac, mac);
	secret_hex(mac, 16, out);
}

/* Run a prepared statement that returns no rows (BEGIN, COMMIT, ROLLBACK). */
static int step_once(struct col_writer *w, sqlite3_stmt *st, struct err *e)
{
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(w->db, e, "writing");

	sqlite3_reset(st);
	return rc;
}

static void store_one(struct col_writer *w, const struct response *r, struct col_write_result *res)
{
	uint8_t digest[STORE_DIGEST_BYTES];
	struct store *st = NULL;
	int rc;

	/* No savepoint is needed: a refused INSERT undoes itself (SQLite
	 * rolls back the statement, not the transaction), and the stratum it
	 * may have interned before is harmless: strata count only through
	 * the responses that use them. */
	err_clear(&res->err);
	rc = store_for(w, r->form->id, &st, &res->err);
	if (!rc)
		rc = store_put(st, r, &res->duplicate, digest, &res->err);
	if (rc)
		res->duplicate = 0;
	else
		make_receipt(w, r, digest, res->receipt);
	res->code = rc;
}

/* Note when a kiosk last posted (sipas device list); a failure here
 * costs no rating. */
static void touch_device(struct col_writer *w, long long device_id)
{
	sqlite3_bind_int64(w->touch, 1, device_id);
	sqlite3_bind_int64(w->touch, 2, (sqlite3_int64)time(NULL));
	sqlite3_step(w->touch);
	sqlite3_reset(w->touch);
}

/* Store a batch of jobs in one transaction. */
static void run_jobs(struct col_writer *w, struct col_write_job *jobs)
{
	struct err e;
	uint64_t stored = 0;
	int rc = step_once(w, w->begin, &e);

	for (struct col_write_job *j = jobs; j; j = j->next) {
		for (size_t i = 0; i < j->n; i++) {
			if (rc) {
				j->results[i].code = rc;
				j->results[i].err = e;
				continue;
			}
			store_one(w, j->responses[i], &j->results[i]);
			stored += j->results[i].code == 0 && !j->results[i].duplicate;
		}
		if (!rc && j->device_id)
			touch_device(w, j->device_id);
	}
	if (!rc && step_once(w, w->commit, &e) != 0) {
		/* nothing of this transaction is on disk: nobody gets a 2xx */
		step_once(w, w->rollback, NULL);
		for (size_t i = 0; i < w->n_stores; i++)
			store_reset_cache(w->stores[i].store);
		for (struct col_write_job *j = jobs; j; j = j->next)
			for (size_t i = 0; i < j->n; i++) {
				j->results[i].code = ERR_DB;
				j->results[i].err = e;
			}
		stored = 0;
	}
	pthread_mutex_lock(&w->lock);
	w->commits += !rc;
	w->stored += stored;
	pthread_mutex_unlock(&w->lock);
	/* the next pointer is read first: a job may be freed once done */
	for (struct col_write_job *j = jobs, *next; j; j = next) {
		next = j->next;
		j->done(j->arg);
	}
}

static void *writer_main(void *arg)
{
	struct col_writer *w = arg;

	for (;;) {
		struct col_write_job *jobs;

		pthread_mutex_lock(&w->lock);
		while (!w->head && !w->stopping)
			pthread_cond_wait(&w->wake, &w->lock);
		jobs = w->head;
		w->head = w->tail = NULL;
		if (!jobs && w->stopping) {
			pthread_mutex_unlock(&w->lock);
			return NULL;
		}
		pthread_mutex_unlock(&w->lock);
		run_jobs(w, jobs);
	}
}

void col_writer_enqueue(struct col_writer *w, struct col_write_job *job)
{
	job->next = NULL;
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
	sqlite3_finalize(w->touch);
	secret_mac_free(w->receipt_mac);
	db_close(w->db);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->wake);
	free(w);
}

int col_writer_start(const char *path, const uint8_t *key, struct col_writer **out, struct err *e)
{
	struct col_writer *w = calloc(1, sizeof(*w));
	int rc;

	if (!w)
		return err_set(e, ERR_NOMEM, "out of memory");
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	rc = secret_mac_new(key, SECRET_KEY_BYTES, &w->receipt_mac, e);
	if (!rc)
		rc = db_open(path, 0, &w->db, e);
	if (!rc)
		rc = db_prepare(w->db, "BEGIN IMMEDIATE", &w->begin, e);
	if (!rc)
		rc = db_prepare(w->db, "COMMIT", &w->commit, e);
	if (!rc)
		rc = db_prepare(w->db, "ROLLBACK", &w->rollback, e);
	if (!rc)
		rc = db_prepare(w->db, "UPDATE devices SET last_post_at = ?2 WHERE id = ?1", &w->touch, e);
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
