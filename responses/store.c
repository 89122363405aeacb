/*
 * store.c - idempotent response writes (see store.h).  Strata and PSU codes
 * are interned into their tables; the last one seen is cached because
 * imports and kiosks send runs of rows from the same stratum and PSU.
 *
 * A staging store writes the same columns to TEMP tables instead (the
 * stratum and PSU as codes, with the file's line), so that an import checks
 * a whole file holding no lock on the live tables; store_stage_copy then
 * moves the rows in parts, one INSERT ... SELECT a part, as rows of an
 * import that readers do not see until it is done.
 */
#include "store.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <gnutls/crypto.h>

#include "../db/db.h"
#include "../forms/form.h"
#include "../forms/registry.h"
#include "../lib/period.h"

/* The staging tables: one row per staged response (rowid = file order),
 * and the distinct stratum and PSU codes they use.  No uniqueness is
 * declared: the rows load faster without indexes, and store_stage_check
 * then finds what the file repeats with indexes built once, in bulk. */
static const char stage_schema[] =
	"CREATE TEMP TABLE staged("
	"  line INTEGER NOT NULL, response_id TEXT NOT NULL, ts INTEGER NOT NULL, day INTEGER NOT NULL,"
	"  agency_id INTEGER NOT NULL, sector_id INTEGER NOT NULL, channel INTEGER NOT NULL,"
	"  dossier_code TEXT, stratum TEXT NOT NULL, psu TEXT, weight REAL NOT NULL,"
	"  answers BLOB NOT NULL, choices BLOB NOT NULL, comment TEXT, digest BLOB NOT NULL);"
	"CREATE TEMP TABLE staged_strata(code TEXT PRIMARY KEY) WITHOUT ROWID;"
	"CREATE TEMP TABLE staged_psus(stratum TEXT, code TEXT, PRIMARY KEY (stratum, code)) WITHOUT ROWID;";

static const char stage_drop[] =
	"DROP TABLE IF EXISTS temp.staged; DROP TABLE IF EXISTS temp.staged_strata;"
	"DROP TABLE IF EXISTS temp.staged_psus;";

/* What the two kinds of store prepare.  Parameters ?2..?8 and ?11..?15 of
 * `insert` are the response's own columns (bind_content); ?1, ?9, ?10 and
 * ?16 differ: form or line, stratum and PSU as ids or codes, received_at;
 * the live store's ?17 is the kiosk that posted it. */
static const struct store_sql {
	const char *find, *insert, *stratum_get, *stratum_add, *psu_get, *psu_add;
} live_sql = {
	"SELECT digest, " DB_VISIBLE("responses") " FROM responses "
	"WHERE form_id = ?1 AND response_id = ?2 AND agency_id = ?3",
	"INSERT INTO responses(form_id, response_id, ts, day, agency_id, sector_id, channel, "
	"dossier_code, stratum_id, psu_id, weight, answers, choices, comment, digest, received_at, "
	"device_id, seq, officer_id) "
	"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, " DB_NEXT_SEQ ", "
	/* the officer on duty at the kiosk, if the shift is of the rating's
	 * day: read in the statement from the row the writer touches for the
	 * kiosk's post anyway, so no query of its own, and never stale (a
	 * shift set or an officer disabled by another process counts at once) */
	"(SELECT officer_id FROM devices WHERE id = ?17 AND officer_day = ?4))",
	"SELECT id FROM strata WHERE code = ?1",
	"INSERT INTO strata(code) VALUES (?1)",
	"SELECT id FROM psus WHERE stratum_id = ?1 AND code = ?2",
	"INSERT INTO psus(stratum_id, code) VALUES (?1, ?2)",
}, stage_sql = {
	NULL,
	"INSERT INTO temp.staged(line, response_id, ts, day, agency_id, sector_id, channel, "
	"dossier_code, stratum, psu, weight, answers, choices, comment, digest) "
	"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
	NULL,
	"INSERT OR IGNORE INTO temp.staged_strata(code) VALUES (?1)",
	NULL,
	"INSERT OR IGNORE INTO temp.staged_psus(stratum, code) VALUES (?1, ?2)",
};

struct store {
	sqlite3 *db;
	long long form_id;
	char form_code[FORM_MAX_ID + 1];
	int staging;                  /* writes go to the staging tables */
	long staged;                  /* rows in them */
	long long copied_upto;        /* the last staged rowid copied (store_stage_copy) */
	sqlite3_stmt *find, *insert, *stratum_get, *stratum_add, *psu_get, *psu_add;
	char last_stratum[RESPONSE_MAX_CODE + 1];
	long long last_stratum_id;
	char last_psu[RESPONSE_MAX_CODE + 1];
	long long last_psu_id;
	long long last_psu_stratum;
};

/* Prepare `sql` into *st unless it is NULL (a statement the kind of store lacks). */
static int prepare_some(sqlite3 *db, const char *sql, sqlite3_stmt **st, struct err *e)
{
	return sql ? db_prepare(db, sql, st, e) : 0;
}

static int open_store(sqlite3 *db, const char *form_code, int staging, struct store **out,
		      struct err *e)
{
	const struct store_sql *q = staging ? &stage_sql : &live_sql;
	struct store *s = calloc(1, sizeof(*s));
	sqlite3_stmt *st = NULL;
	int rc;

	if (!s)
		return err_set(e, ERR_NOMEM, "out of memory");
	s->db = db;
	rc = db_prepare(db, "SELECT id, code FROM forms WHERE code = ?1", &st, e);
	if (rc)
		goto out;
	sqlite3_bind_text(st, 1, form_code, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = err_set_field(e, ERR_NOT_FOUND, "form", "unknown form '%s'", form_code);
		goto out;
	}
	s->form_id = sqlite3_column_int64(st, 0);
	snprintf(s->form_code, sizeof(s->form_code), "%s", form_code);
	if (staging) {
		/* the staging tables live as long as the store (store_free drops them) */
		s->staging = 1;
		rc = db_exec(db, stage_drop, e);
		if (!rc)
			rc = db_exec(db, stage_schema, e);
		if (rc)
			goto out;
	}
	rc = prepare_some(db, q->find, &s->find, e);
	if (!rc)
		rc = prepare_some(db, q->insert, &s->insert, e);
	if (!rc)
		rc = prepare_some(db, q->stratum_get, &s->stratum_get, e);
	if (!rc)
		rc = prepare_some(db, q->stratum_add, &s->stratum_add, e);
	if (!rc)
		rc = prepare_some(db, q->psu_get, &s->psu_get, e);
	if (!rc)
		rc = prepare_some(db, q->psu_add, &s->psu_add, e);
out:
	sqlite3_finalize(st);
	if (rc) {
		store_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

int store_open(sqlite3 *db, const char *form_code, struct store **out, struct err *e)
{
	return open_store(db, form_code, 0, out, e);
}

int store_stage_open(sqlite3 *db, const char *form_code, struct store **out, struct err *e)
{
	return open_store(db, form_code, 1, out, e);
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
	if (s->staging)
		db_exec(s->db, stage_drop, NULL);
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

/* A canonical encoding in a buffer of fixed size, so that a digest costs no
 * allocation on a request thread: every field it holds is bounded (ids,
 * codes and the comment by their arrays, registry codes by
 * REGISTRY_MAX_CODE), and `over` says a longer one came anyway. */
#define CANON_MAX (FORM_MAX_ID + 2 * REGISTRY_MAX_CODE + sizeof(((struct response *)0)->response_id) + \
		   3 * sizeof(((struct response *)0)->dossier) + FORM_MAX_ITEMS + FORM_MAX_CHOICES + \
		   sizeof(((struct response *)0)->comment) + 64)
struct canon {
	uint8_t buf[CANON_MAX];
	size_t len;
	int over;
};

static void canon_add(struct canon *c, const void *p, size_t n)
{
	if (n > CANON_MAX - c->len) {
		c->over = 1;
		return;
	}
	memcpy(c->buf + c->len, p, n);
	c->len += n;
}

static void canon_sep(struct canon *c)
{
	canon_add(c, "\x1f", 1);
}

/* A canonical encoding of everything a response says: two responses are the
 * same submission exactly when their encodings are equal.  Numbers go in as
 * their bytes (weights are finite and > 0, so each has one encoding). */
int store_digest(const struct response *r, uint8_t digest[STORE_DIGEST_BYTES], struct err *e)
{
	const struct form *f = r->form;
	struct canon c;
	int64_t ts = r->ts;
	int32_t channel = r->channel;
	uint8_t full[32];

	const char *const text[] = { f->id, r->response_id, r->agency->code, r->sector->code,
				     r->dossier, response_stratum(r), r->psu };

	c.len = 0;
	c.over = 0;
	for (size_t i = 0; i < sizeof(text) / sizeof(text[0]); i++) {
		canon_add(&c, text[i], strlen(text[i]));
		canon_sep(&c);
	}
	canon_add(&c, &ts, sizeof(ts));
	canon_add(&c, &channel, sizeof(channel));
	canon_add(&c, &r->weight, sizeof(r->weight));
	canon_add(&c, r->answers, f->n_items);
	canon_sep(&c);
	canon_add(&c, r->choices, f->n_choices);
	canon_sep(&c);
	canon_add(&c, r->comment, strlen(r->comment));
	if (c.over)
		return err_set(e, ERR_INTERNAL, "response %s is longer than its fields allow", r->response_id);
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, c.buf, c.len, full) < 0)
		return err_set(e, ERR_INTERNAL, "SHA-256 failed");
	memcpy(digest, full, STORE_DIGEST_BYTES);
	return 0;
}

/* How a response contradicts a stored one, in one table so that the
 * collector and an import say it alike. */
enum conflict {           /* numbers, as the staging queries yield them */
	CONFLICT_DOSSIER = 0,    /* its dossier code is another response's */
	CONFLICT_CONTENT = 1,    /* its id is stored with other content */
	CONFLICT_PENDING = 2     /* its id is a row of an import not done (so not seen) yet */
};

static int conflict_fail(struct err *e, enum conflict why, const char *response_id, const char *dossier,
			 const char *form_code)
{
	switch (why) {
	case CONFLICT_CONTENT:
		return err_set_field(e, ERR_CONFLICT, "response_id",
				     "response '%s' is already stored with different content", response_id);
	case CONFLICT_PENDING:
		return err_set_field(e, ERR_CONFLICT, "response_id",
				     "response '%s' is in an import not finished yet", response_id);
	case CONFLICT_DOSSIER:
		break;
	}
	return err_set_field(e, ERR_CONFLICT, "dossier_code", "dossier '%s' already has a response to form %s",
			     dossier, form_code);
}

/* The stored row with r's id: *found is 0 when there is none; a visible
 * one with the same digest is r again, anything else a conflict. */
static int check_existing(struct store *s, const struct response *r,
			  const uint8_t digest[STORE_DIGEST_BYTES], int *found, struct err *e)
{
	int rc = 0, step;

	sqlite3_bind_int64(s->find, 1, s->form_id);
	sqlite3_bind_text(s->find, 2, r->response_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s->find, 3, r->agency->id);
	step = sqlite3_step(s->find);
	*found = step == SQLITE_ROW;
	if (step == SQLITE_ROW) {
		const void *stored = sqlite3_column_blob(s->find, 0);

		if (!sqlite3_column_int(s->find, 1))
			rc = conflict_fail(e, CONFLICT_PENDING, r->response_id, r->dossier, s->form_code);
		else if (sqlite3_column_bytes(s->find, 0) != STORE_DIGEST_BYTES ||
			 memcmp(stored, digest, STORE_DIGEST_BYTES) != 0)
			rc = conflict_fail(e, CONFLICT_CONTENT, r->response_id, r->dossier, s->form_code);
	} else if (step != SQLITE_DONE) {
		rc = db_fail(s->db, e, "looking up a response");
	}
	sqlite3_reset(s->find);
	return rc;
}

/* Bind the columns every store writes the same way (see store_sql). */
static void bind_content(sqlite3_stmt *st, const struct response *r,
			 const uint8_t digest[STORE_DIGEST_BYTES])
{
	const struct form *f = r->form;

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
	sqlite3_bind_double(st, 11, r->weight);
	sqlite3_bind_blob(st, 12, r->answers, (int)f->n_items, SQLITE_STATIC);
	sqlite3_bind_blob(st, 13, r->choices, (int)f->n_choices, SQLITE_STATIC);
	if (r->comment[0])
		sqlite3_bind_text(st, 14, r->comment, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 14);
	sqlite3_bind_blob(st, 15, digest, STORE_DIGEST_BYTES, SQLITE_STATIC);
}

int store_put(struct store *s, const struct response *r, const uint8_t digest[STORE_DIGEST_BYTES],
	      int *duplicate, struct err *e)
{
	sqlite3_stmt *st = s->insert;
	long long stratum, psu;
	int found, rc, step;

	assert(!s->staging);
	rc = design_ids(s, r, &stratum, &psu, e);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, s->form_id);
	bind_content(st, r, digest);
	sqlite3_bind_int64(st, 9, stratum);
	if (psu)
		sqlite3_bind_int64(st, 10, psu);
	else
		sqlite3_bind_null(st, 10);
	sqlite3_bind_int64(st, 16, r->received_at ? r->received_at : (int64_t)time(NULL));
	if (r->device_id)
		sqlite3_bind_int64(st, 17, r->device_id);
	else
		sqlite3_bind_null(st, 17);
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
		return conflict_fail(e, CONFLICT_DOSSIER, r->response_id, r->dossier, r->form->id);
	*duplicate = 1;
	return 0;
}

/* Record a staged row's stratum and PSU codes for store_stage_copy to
 * intern, once per run of equal codes. */
static int stage_codes(struct store *s, const char *stratum, const char *psu, struct err *e)
{
	int rc = 0;

	if (strcmp(stratum, s->last_stratum) != 0 || !s->last_stratum_id) {
		sqlite3_bind_text(s->stratum_add, 1, stratum, -1, SQLITE_STATIC);
		if (sqlite3_step(s->stratum_add) != SQLITE_DONE)
			rc = db_fail(s->db, e, "staging a stratum");
		sqlite3_reset(s->stratum_add);
		if (rc)
			return rc;
		strcpy(s->last_stratum, stratum);
		s->last_stratum_id = 1;      /* staged: no id yet, only "seen" */
		s->last_psu[0] = '\0';
	}
	if (!psu[0] || strcmp(psu, s->last_psu) == 0)
		return 0;
	sqlite3_bind_text(s->psu_add, 1, stratum, -1, SQLITE_STATIC);
	sqlite3_bind_text(s->psu_add, 2, psu, -1, SQLITE_STATIC);
	if (sqlite3_step(s->psu_add) != SQLITE_DONE)
		rc = db_fail(s->db, e, "staging a PSU");
	sqlite3_reset(s->psu_add);
	if (!rc)
		strcpy(s->last_psu, psu);
	return rc;
}

int store_stage(struct store *s, const struct response *r, long line, struct err *e)
{
	uint8_t digest[STORE_DIGEST_BYTES];
	sqlite3_stmt *st = s->insert;
	const char *stratum = response_stratum(r);
	int rc;

	assert(s->staging);
	rc = store_digest(r, digest, e);
	if (!rc)
		rc = stage_codes(s, stratum, r->psu, e);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, line);
	bind_content(st, r, digest);
	sqlite3_bind_text(st, 9, stratum, -1, SQLITE_STATIC);
	if (r->psu[0])
		sqlite3_bind_text(st, 10, r->psu, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 10);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(s->db, e, "staging a response");
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (!rc)
		s->staged++;
	return rc;
}

/* The staged rows that repeat an earlier row's `key` (the agency's
 * response id or dossier code): rowid, line, the key and whether the
 * digest is the earlier row's. */
#define REPEATS(key) \
	"SELECT s.rowid AS rowid, s.line AS line, s." key " AS code, s.digest = f.digest AS same " \
	"FROM (SELECT agency_id, " key ", min(rowid) AS first FROM temp.staged " \
	"WHERE " key " IS NOT NULL GROUP BY agency_id, " key " HAVING count(*) > 1) g " \
	"JOIN temp.staged s ON s.agency_id = g.agency_id AND s." key " = g." key " AND s.rowid > g.first " \
	"JOIN temp.staged f ON f.rowid = g.first"

/* Step `st` (finalized here), whose rows are a staged row's line, response
 * id and dossier code and how it contradicts another (enum conflict),
 * telling refuse() of each; *refused counts them. */
static int refuse_each(struct store *s, sqlite3_stmt *st, store_refuse_fn refuse, void *arg, long *refused,
		       struct err *e)
{
	int rc = 0, step = SQLITE_DONE;

	*refused = 0;
	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
		struct err why;

		conflict_fail(&why, (enum conflict)sqlite3_column_int(st, 3), (const char *)sqlite3_column_text(st, 1),
			      (const char *)sqlite3_column_text(st, 2), s->form_code);
		(*refused)++;
		rc = refuse(arg, (long)sqlite3_column_int64(st, 0), &why);
	}
	if (!rc && step != SQLITE_DONE)
		rc = db_fail(s->db, e, "checking the staged responses");
	sqlite3_finalize(st);
	return rc;
}

/* Refuse every repeat `sql` yields (see refuse_each), then drop them
 * (drop_sql) from the staging table when there were any: a well-formed
 * file has none, and each query scans the whole staging index. */
static int refuse_repeats(struct store *s, const char *sql, const char *drop_sql, store_refuse_fn refuse,
			  void *arg, struct err *e)
{
	sqlite3_stmt *st = NULL;
	long refused = 0;
	int rc = db_prepare(s->db, sql, &st, e);

	if (!rc)
		rc = refuse_each(s, st, refuse, arg, &refused, e);
	if (!rc && refused)
		rc = db_exec(s->db, drop_sql, e);
	if (!rc && refused)
		s->staged -= sqlite3_changes(s->db);
	return rc;
}

int store_stage_check(struct store *s, long *duplicates, store_refuse_fn refuse, void *arg,
		      struct err *e)
{
	int rc;

	assert(s->staging);
	*duplicates = 0;
	rc = db_exec(s->db, "CREATE INDEX temp.staged_by_id ON staged(agency_id, response_id);"
		     "CREATE INDEX temp.staged_by_dossier ON staged(agency_id, dossier_code) "
		     "WHERE dossier_code IS NOT NULL", e);
	/* an id again with other content; then, the identical repeats dropped,
	 * a dossier again is another response's */
	if (!rc)
		rc = refuse_repeats(s, "SELECT line, code, NULL, 1 FROM (" REPEATS("response_id") ") WHERE NOT same "
				    "ORDER BY rowid", "DELETE FROM temp.staged WHERE rowid IN (SELECT rowid FROM ("
				    REPEATS("response_id") ") WHERE NOT same)", refuse, arg, e);
	if (!rc)
		rc = db_exec(s->db, "DELETE FROM temp.staged WHERE rowid IN (SELECT rowid FROM ("
			     REPEATS("response_id") ") WHERE same)", e);
	if (!rc) {
		*duplicates = sqlite3_changes(s->db);
		s->staged -= *duplicates;
		rc = refuse_repeats(s, "SELECT line, NULL, code, 0 FROM (" REPEATS("dossier_code") ") ORDER BY rowid",
				    "DELETE FROM temp.staged WHERE rowid IN (SELECT rowid FROM (" REPEATS("dossier_code")
				    "))", refuse, arg, e);
	}
	return rc;
}

/* Interning, once before the first copy, so that every staged code has
 * its id. */
static const char intern_sql[] =
	"INSERT OR IGNORE INTO strata(code) SELECT code FROM temp.staged_strata;"
	"INSERT OR IGNORE INTO psus(stratum_id, code) SELECT st.id, p.code FROM temp.staged_psus p "
	"JOIN strata st ON st.code = p.stratum";

/* One part of the copy: the staged rows with rowids in (?4, ?5], as rows
 * of import ?3.  The insert skips rows whose id or dossier is taken (ON
 * CONFLICT DO NOTHING: WHERE true keeps ON from reading as a join's). */
static const char copy_sql[] =
	"INSERT INTO responses(form_id, response_id, ts, day, agency_id, sector_id, channel, dossier_code, "
	"stratum_id, psu_id, weight, answers, choices, comment, digest, received_at, import_id) "
	"SELECT ?1, s.response_id, s.ts, s.day, s.agency_id, s.sector_id, s.channel, s.dossier_code, "
	"st.id, ps.id, s.weight, s.answers, s.choices, s.comment, s.digest, ?2, ?3 "
	"FROM temp.staged s JOIN strata st ON st.code = s.stratum "
	"LEFT JOIN psus ps ON ps.stratum_id = st.id AND ps.code = s.psu "
	"WHERE s.rowid > ?4 AND s.rowid <= ?5 ORDER BY s.rowid ON CONFLICT DO NOTHING";

/* The staged rows that contradict a stored response not of import ?2 (0:
 * any): its id with another digest, or with the same one in an import not
 * done, or its dossier code under another id; in file order, as
 * refuse_each reads them. */
static const char conflicts_sql[] =
	"SELECT s.line, s.response_id, s.dossier_code, (SELECT CASE WHEN r.digest != s.digest THEN 1 "
	"WHEN NOT " DB_VISIBLE("r") " THEN 2 END FROM responses r WHERE r.form_id = ?1 "
	"AND r.agency_id = s.agency_id AND r.response_id = s.response_id AND r.import_id IS NOT ?2) AS id_taken "
	"FROM temp.staged s WHERE id_taken IS NOT NULL OR (s.dossier_code IS NOT NULL AND EXISTS (SELECT 1 "
	"FROM responses r WHERE r.form_id = ?1 AND r.agency_id = s.agency_id AND r.dossier_code = s.dossier_code "
	"AND r.import_id IS NOT ?2 AND r.response_id != s.response_id)) ORDER BY s.rowid";

int store_stage_conflicts(struct store *s, long long import_id, store_refuse_fn refuse, void *arg,
			  struct err *e)
{
	sqlite3_stmt *st = NULL;
	long refused;
	int rc;

	assert(s->staging);
	rc = db_prepare(s->db, conflicts_sql, &st, e);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, s->form_id);
	sqlite3_bind_int64(st, 2, import_id);
	return refuse_each(s, st, refuse, arg, &refused, e);
}

int store_stage_copy(struct store *s, long long import_id, int64_t received_at, long n, long *added,
		     int *done, struct err *e)
{
	sqlite3_stmt *st = NULL;
	long long last;
	int rc = 0;

	assert(s->staging && import_id > 0 && n > 0);
	if (!s->copied_upto)
		rc = db_exec(s->db, intern_sql, e);
	if (!rc)
		rc = db_query_int(s->db, "SELECT coalesce(max(rowid), 0) FROM temp.staged", &last, e);
	if (!rc)
		rc = db_prepare(s->db, copy_sql, &st, e);
	if (rc)
		return rc;
	/* rowids past a dropped repeat are not dense: a part may hold fewer
	 * than n rows, never more */
	sqlite3_bind_int64(st, 1, s->form_id);
	sqlite3_bind_int64(st, 2, received_at);
	sqlite3_bind_int64(st, 3, import_id);
	sqlite3_bind_int64(st, 4, s->copied_upto);
	sqlite3_bind_int64(st, 5, s->copied_upto + n);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(s->db, e, "copying the staged responses");
	sqlite3_finalize(st);
	if (rc)
		return rc;
	*added = sqlite3_changes(s->db);
	s->copied_upto += n;
	*done = s->copied_upto >= last;
	return 0;
}

long store_staged(const struct store *s)
{
	return s->staged;
}
