/*
 * store.c - idempotent response writes (see store.h).  Strata and PSU codes
 * are interned into their tables; the last one seen is cached because
 * imports and kiosks send runs of rows from the same stratum and PSU.
 */
#include "store.h"

#include <stdlib.h>
#include <string.h>
#include <gnutls/crypto.h>

#include "../db/db.h"
#include "../lib/strbuf.h"

struct store {
	sqlite3 *db;
	long long form_id;
	sqlite3_stmt *find, *insert, *stratum_get, *stratum_add, *psu_get, *psu_add;
	struct strbuf canon;
	char last_stratum[RESPONSE_MAX_CODE + 1];
	long long last_stratum_id;
	char last_psu[RESPONSE_MAX_CODE + 1];
	long long last_psu_id;
	long long last_psu_stratum;
};

int store_open(sqlite3 *db, const char *form_code, struct store **out, struct err *e)
{
	struct store *s = calloc(1, sizeof(*s));
	sqlite3_stmt *st = NULL;
	int rc;

	if (!s)
		return err_set(e, ERR_NOMEM, "out of memory");
	s->db = db;
	strbuf_init(&s->canon, 64 * 1024);
	rc = db_prepare(db, "SELECT id, code FROM forms WHERE code = ?1", &st, e);
	if (rc)
		goto out;
	sqlite3_bind_text(st, 1, form_code, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = err_set_field(e, ERR_NOT_FOUND, "form", "unknown form '%s'", form_code);
		goto out;
	}
	s->form_id = sqlite3_column_int64(st, 0);
	rc = db_prepare(db, "SELECT digest FROM responses WHERE form_id = ?1 AND response_id = ?2",
			&s->find, e);
	if (!rc)
		rc = db_prepare(db, "INSERT INTO responses(form_id, response_id, ts, day, agency_id, "
				"sector_id, channel, dossier_code, stratum_id, psu_id, weight, answers, "
				"choices, comment, digest) VALUES "
				"(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
				&s->insert, e);
	if (!rc)
		rc = db_prepare(db, "SELECT id FROM strata WHERE code = ?1", &s->stratum_get, e);
	if (!rc)
		rc = db_prepare(db, "INSERT INTO strata(code) VALUES (?1)", &s->stratum_add, e);
	if (!rc)
		rc = db_prepare(db, "SELECT id FROM psus WHERE stratum_id = ?1 AND code = ?2",
				&s->psu_get, e);
	if (!rc)
		rc = db_prepare(db, "INSERT INTO psus(stratum_id, code) VALUES (?1, ?2)", &s->psu_add, e);
out:
	sqlite3_finalize(st);
	if (rc) {
		store_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void store_reset_cache(struct store *s)
{
	s->last_stratum[0] = '\0';
	s->last_stratum_id = 0;
	s->last_psu[0] = '\0';
	s->last_psu_id = 0;
	s->last_psu_stratum = 0;
}

void store_free(struct store *s)
{
	if (!s)
		return;
	sqlite3_finalize(s->find);
	sqlite3_finalize(s->insert);
	sqlite3_finalize(s->stratum_get);
	sqlite3_finalize(s->stratum_add);
	sqlite3_finalize(s->psu_get);
	sqlite3_finalize(s->psu_add);
	strbuf_release(&s->canon);
	free(s);
}

/* The id of a code in an intern table: look it up, insert it when missing. */
static int intern(struct store *s, sqlite3_stmt *get, sqlite3_stmt *add, long long parent,
		  const char *code, long long *id, struct err *e)
{
	int rc = 0, bind = 1;

	if (parent) {
		sqlite3_bind_int64(get, bind, parent);
		sqlite3_bind_int64(add, bind, parent);
		bind++;
	}
	sqlite3_bind_text(get, bind, code, -1, SQLITE_STATIC);
	sqlite3_bind_text(add, bind, code, -1, SQLITE_STATIC);
	if (sqlite3_step(get) == SQLITE_ROW) {
		*id = sqlite3_column_int64(get, 0);
	} else if (sqlite3_step(add) == SQLITE_DONE) {
		*id = sqlite3_last_insert_rowid(s->db);
	} else {
		rc = db_fail(s->db, e, "storing a stratum or PSU");
	}
	sqlite3_reset(get);
	sqlite3_reset(add);
	sqlite3_clear_bindings(get);
	sqlite3_clear_bindings(add);
	return rc;
}

static int design_ids(struct store *s, const struct response *r, long long *stratum,
		      long long *psu, struct err *e)
{
	const char *code = response_stratum(r);
	int rc;

	if (strcmp(code, s->last_stratum) != 0 || !s->last_stratum_id) {
		rc = intern(s, s->stratum_get, s->stratum_add, 0, code, &s->last_stratum_id, e);
		if (rc)
			return rc;
		strcpy(s->last_stratum, code);
	}
	*stratum = s->last_stratum_id;
	*psu = 0;
	if (!r->psu[0])
		return 0;
	if (s->last_psu_stratum != *stratum || strcmp(r->psu, s->last_psu) != 0) {
		rc = intern(s, s->psu_get, s->psu_add, *stratum, r->psu, &s->last_psu_id, e);
		if (rc)
			return rc;
		strcpy(s->last_psu, r->psu);
		s->last_psu_stratum = *stratum;
	}
	*psu = s->last_psu_id;
	return 0;
}

/* A canonical encoding of everything a response says: two responses are the
 * same submission exactly when their encodings are equal.  Numbers go in as
 * their bytes (weights are finite and > 0, so each has one encoding). */
static int digest_response(struct store *s, const struct response *r,
			   uint8_t digest[STORE_DIGEST_BYTES], struct err *e)
{
	const struct form *f = r->form;
	struct strbuf *sb = &s->canon;
	int64_t ts = r->ts;
	int32_t channel = r->channel;
	uint8_t full[32];

	const char *const text[] = { f->id, r->response_id, r->agency->code, r->sector->code,
				     r->dossier, response_stratum(r), r->psu };

	strbuf_reset(sb);
	for (size_t i = 0; i < sizeof(text) / sizeof(text[0]); i++) {
		strbuf_addstr(sb, text[i]);
		strbuf_addch(sb, 0x1f);
	}
	strbuf_add(sb, &ts, sizeof(ts));
	strbuf_add(sb, &channel, sizeof(channel));
	strbuf_add(sb, &r->weight, sizeof(r->weight));
	strbuf_add(sb, r->answers, f->n_items);
	strbuf_addch(sb, 0x1f);
	strbuf_add(sb, r->choices, f->n_choices);
	strbuf_addch(sb, 0x1f);
	strbuf_addstr(sb, r->comment);
	if (sb->failed)
		return err_set(e, ERR_NOMEM, "out of memory");
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, sb->buf, sb->len, full) < 0)
		return err_set(e, ERR_INTERNAL, "SHA-256 failed");
	memcpy(digest, full, STORE_DIGEST_BYTES);
	return 0;
}

static int check_existing(struct store *s, const struct response *r,
			  const uint8_t digest[STORE_DIGEST_BYTES], int *found, struct err *e)
{
	int rc = 0, step;

	sqlite3_bind_int64(s->find, 1, s->form_id);
	sqlite3_bind_text(s->find, 2, r->response_id, -1, SQLITE_STATIC);
	step = sqlite3_step(s->find);
	*found = step == SQLITE_ROW;
	if (step == SQLITE_ROW) {
		const void *stored = sqlite3_column_blob(s->find, 0);

		if (sqlite3_column_bytes(s->find, 0) != STORE_DIGEST_BYTES ||
		    memcmp(stored, digest, STORE_DIGEST_BYTES) != 0)
			rc = err_set_field(e, ERR_CONFLICT, "response_id",
					   "response '%s' is already stored with different content",
					   r->response_id);
	} else if (step != SQLITE_DONE) {
		rc = db_fail(s->db, e, "looking up a response");
	}
	sqlite3_reset(s->find);
	return rc;
}

int store_put(struct store *s, const struct response *r, int *duplicate,
	      uint8_t digest[STORE_DIGEST_BYTES], struct err *e)
{
	const struct form *f = r->form;
	sqlite3_stmt *st = s->insert;
	long long stratum, psu;
	int found, rc, step;

	rc = digest_response(s, r, digest, e);
	if (!rc)
		rc = design_ids(s, r, &stratum, &psu, e);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, s->form_id);
	sqlite3_bind_text(st, 2, r->response_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, r->ts);
	sqlite3_bind_int(st, 4, r->day);
	sqlite3_bind_int64(st, 5, r->agency->id);
	sqlite3_bind_int64(st, 6, r->sector->id);
	sqlite3_bind_int(st, 7, r->channel);
	if (r->dossier[0])
		sqlite3_bind_text(st, 8, r->dossier, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 8);
	sqlite3_bind_int64(st, 9, stratum);
	if (psu)
		sqlite3_bind_int64(st, 10, psu);
	else
		sqlite3_bind_null(st, 10);
	sqlite3_bind_double(st, 11, r->weight);
	sqlite3_bind_blob(st, 12, r->answers, (int)f->n_items, SQLITE_STATIC);
	sqlite3_bind_blob(st, 13, r->choices, (int)f->n_choices, SQLITE_STATIC);
	if (r->comment[0])
		sqlite3_bind_text(st, 14, r->comment, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 14);
	sqlite3_bind_blob(st, 15, digest, STORE_DIGEST_BYTES, SQLITE_STATIC);
	step = sqlite3_step(st);
	sqlite3_reset(st);
	if (step == SQLITE_DONE) {
		*duplicate = 0;
		return 0;
	}
	if (step != SQLITE_CONSTRAINT_UNIQUE)
		return db_fail(s->db, e, "storing a response");
	/* Taken: the same response again, or another one with this id or dossier. */
	rc = check_existing(s, r, digest, &found, e);
	if (rc)
		return rc;
	if (!found)
		return err_set_field(e, ERR_CONFLICT, "dossier_code",
				     "dossier '%s' already has a response to form %s", r->dossier, f->id);
	*duplicate = 1;
	return 0;
}
