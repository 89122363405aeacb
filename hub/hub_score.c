/*
 * hub_score.c - national scores from the hub (see hub_score.h): check that
 * the provinces' forms agree, build the national registry, and stream the
 * period's rows with COPY (binary) into scoring's accumulator through a
 * score_source.  Codes become ids here: agencies and sectors through the
 * registry, strata and PSUs numbered as they come, each namespaced by its
 * province so that two provinces' "SO-XD" strata stay two strata.
 */
#include "hub_score.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub_pg.h"
#include "hub_schema.h"
#include "../db/db.h"
#include "../forms/builtin.h"
#include "../lib/array.h"
#include "../lib/strbuf.h"

/* ---- names to ids: open addressing on the key's bytes ---- */

struct name_slot {
	char *key;          /* NULL: free */
	size_t len;
	long long id;
};

struct names {
	struct name_slot *v;
	size_t mask, n;
	long long last_id;  /* the ids names_intern gave */
};

static uint64_t name_hash(const char *k, size_t len)
{
	uint64_t h = 1469598103934665603ull;   /* FNV-1a */

	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)k[i]) * 1099511628211ull;
	return h;
}

static struct name_slot *names_slot(const struct names *m, const char *k, size_t len)
{
	for (size_t i = name_hash(k, len) & m->mask;; i = (i + 1) & m->mask) {
		struct name_slot *s = &m->v[i];

		if (!s->key || (s->len == len && memcmp(s->key, k, len) == 0))
			return s;
	}
}

/* The id of key k, or 0. */
static long long names_get(const struct names *m, const char *k, size_t len)
{
	return m->v ? names_slot(m, k, len)->id : 0;
}

/* Map k to id (k not there yet).  -1 when out of memory. */
static int names_put(struct names *m, const char *k, size_t len, long long id)
{
	struct name_slot *s;

	if ((m->n + 1) * 2 > m->mask + 1 || !m->v) {
		struct names bigger = { NULL, m->v ? m->mask * 2 + 1 : 63, 0, m->last_id };

		if (!(bigger.v = calloc(bigger.mask + 1, sizeof(*bigger.v))))
			return -1;
		for (size_t i = 0; m->v && i <= m->mask; i++)
			if (m->v[i].key) {
				*names_slot(&bigger, m->v[i].key, m->v[i].len) = m->v[i];
				bigger.n++;
			}
		free(m->v);
		*m = bigger;
	}
	s = names_slot(m, k, len);
	if (!(s->key = malloc(len ? len : 1)))
		return -1;
	memcpy(s->key, k, len);
	s->len = len;
	s->id = id;
	m->n++;
	return 0;
}

/* The id of k, a new one (1, 2, ...) the first time.  -1 when out of memory. */
static long long names_intern(struct names *m, const char *k, size_t len)
{
	long long id = names_get(m, k, len);

	if (id)
		return id;
	if (names_put(m, k, len, m->last_id + 1) < 0)
		return -1;
	return ++m->last_id;
}

static void names_release(struct names *m)
{
	for (size_t i = 0; m->v && i <= m->mask; i++)
		free(m->v[i].key);
	free(m->v);
	memset(m, 0, sizeof(*m));
}

/* The key of a province's code: "PROVINCE\0CODE" into buf (at least
 * HUB_MAX_PROVINCE + 2 + REGISTRY_MAX_CODE * 4 bytes); its length, or 0
 * when the code is too long to be one the province could hold. */
#define KEY_MAX (HUB_MAX_PROVINCE + 2 + REGISTRY_MAX_CODE * 4)
static size_t province_key(char *buf, const char *province, size_t plen, const char *code, size_t clen)
{
	if (plen > HUB_MAX_PROVINCE || clen > REGISTRY_MAX_CODE * 4)
		return 0;
	memcpy(buf, province, plen);
	buf[plen] = '\0';
	memcpy(buf + plen + 1, code, clen);
	return plen + 1 + clen;
}

/* ---- the national registry ---- */

static int cmp_code(const void *a, const void *b)
{
	return strcmp(((const struct registry_entry *)a)->code, ((const struct registry_entry *)b)->code);
}

static int add_entry(struct registry_entry **v, size_t *n, size_t *cap, const char *province,
		     const char *code, const char *name, const char *level)
{
	struct registry_entry *en;

	if (ARRAY_RESERVE(*v, *cap, *n) < 0)
		return -1;
	en = &(*v)[*n];
	memset(en, 0, sizeof(*en));
	en->id = (long long)++*n;
	en->valid_from = REGISTRY_ALWAYS_FROM;
	en->valid_to = REGISTRY_STILL_VALID;
	if (!province)
		en->code = strdup(code);
	else if (asprintf(&en->code, "%s.%s", province, code) < 0)
		en->code = NULL;
	en->name = strdup(name);
	en->level = strdup(level);
	return en->code && en->name && en->level ? 0 : -1;
}

static int add_target(struct registry *reg, size_t *cap, int scope, long long ref, double threshold, int from)
{
	if (ARRAY_RESERVE(reg->targets, *cap, reg->n_targets) < 0)
		return -1;
	reg->targets[reg->n_targets++] = (struct registry_target){ scope, ref, threshold, from };
	return 0;
}

/* The targets shipped in the binary (forms/registry/targets.csv): the one
 * for all, and those of the sectors reg has. */
static int builtin_targets(struct registry *reg, size_t *cap, struct err *e)
{
	struct registry *shipped = NULL;
	sqlite3 *mem = NULL;
	int rc = db_open(":memory:", DB_CREATE, &mem, e);

	if (!rc)
		rc = builtin_load_registry(mem, e);
	if (!rc)
		rc = registry_read(mem, &shipped, e);
	for (size_t i = 0; !rc && i < shipped->n_targets; i++) {
		const struct registry_target *t = &shipped->targets[i];
		const struct registry_entry *s = t->scope == SCOPE_SECTOR ? registry_sector_by_id(shipped, t->ref_id) : NULL;
		const struct registry_entry *ours = s ? registry_sector(reg, s->code) : NULL;

		if ((t->scope == SCOPE_ALL || ours) &&
		    add_target(reg, cap, t->scope, ours ? ours->id : 0, t->threshold, t->from_quarter) < 0)
			rc = err_set(e, ERR_NOMEM, "out of memory");
	}
	registry_free(shipped);
	db_close(mem);
	return rc;
}

/* The SQL condition on a table's `province` column for the provinces
 * scored: those that pushed form $1, or only $2 when given. */
#define SCORED_PROVINCES(t) \
	"EXISTS (SELECT 1 FROM " HUB_SCHEMA ".province_forms f WHERE f.province = " t ".province " \
	"AND f.code = $1) AND ($2::text IS NULL OR " t ".province = $2)"

/* The agencies of the scored provinces, namespaced, with their history;
 * each agency's key in `keys` maps to its entry's id (with by_province,
 * to its province's).  Ids are in (province, code) order, bytewise, the
 * order of the groups. */
static int read_agencies(PGconn *conn, const char *const params[2], int by_province, struct registry *reg,
			 struct names *keys, struct err *e)
{
	PGresult *res = NULL, *prov = NULL;
	size_t cap = 0;
	char key[KEY_MAX];
	int rc;

	rc = hub_query(conn, "SELECT a.province, a.code, a.name, a.level, a.parent, "
		       "a.valid_from - date '1970-01-01', a.valid_to - date '1970-01-01', a.successor "
		       "FROM " HUB_SCHEMA ".agencies a WHERE " SCORED_PROVINCES("a")
		       " ORDER BY a.province COLLATE \"C\", a.code COLLATE \"C\"",
		       2, params, &res, e);
	if (!rc && by_province)
		rc = hub_query(conn, "SELECT p.province FROM " HUB_SCHEMA ".provinces p WHERE "
			       SCORED_PROVINCES("p") " ORDER BY p.province COLLATE \"C\"", 2, params, &prov, e);
	if (rc)
		goto out;
	for (int i = 0; by_province && i < PQntuples(prov) && !rc; i++)
		if (add_entry(&reg->agencies, &reg->n_agencies, &cap, NULL, PQgetvalue(prov, i, 0),
			      PQgetvalue(prov, i, 0), "province") < 0)
			rc = err_set(e, ERR_NOMEM, "out of memory");
	for (int i = 0; i < PQntuples(res) && !rc; i++) {
		const char *p = PQgetvalue(res, i, 0), *code = PQgetvalue(res, i, 1);
		size_t len = province_key(key, p, strlen(p), code, strlen(code));
		long long id = 0;

		if (!len) {
			rc = err_set(e, ERR_INVALID, "the hub's agency %s.%s has too long a code", p, code);
			break;
		}
		if (by_province) {
			for (size_t k = 0; k < reg->n_agencies && !id; k++)
				if (strcmp(reg->agencies[k].code, p) == 0)
					id = reg->agencies[k].id;
		} else if (add_entry(&reg->agencies, &reg->n_agencies, &cap, p, code, PQgetvalue(res, i, 2),
				     PQgetvalue(res, i, 3)) == 0) {
			struct registry_entry *en = &reg->agencies[reg->n_agencies - 1];

			id = en->id;
			if (!PQgetisnull(res, i, 5))
				en->valid_from = atoi(PQgetvalue(res, i, 5));
			if (!PQgetisnull(res, i, 6))
				en->valid_to = atoi(PQgetvalue(res, i, 6));
			if (!PQgetisnull(res, i, 7) && *PQgetvalue(res, i, 7) &&
			    asprintf(&en->successor, "%s.%s", p, PQgetvalue(res, i, 7)) < 0) {
				en->successor = NULL;
				id = 0;
			}
		}
		if (!id || names_put(keys, key, len, id) < 0)
			rc = err_set(e, ERR_NOMEM, "out of memory");
	}
	if (rc || by_province)
		goto out;
	/* parents and successors by their namespaced codes, once all are in */
	qsort(reg->agencies, reg->n_agencies, sizeof(*reg->agencies), cmp_code);
	for (int i = 0; i < PQntuples(res); i++) {
		char code[KEY_MAX];
		const struct registry_entry *en, *to;

		snprintf(code, sizeof(code), "%s.%s", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
		en = registry_agency(reg, code);
		if (!PQgetisnull(res, i, 4) && *PQgetvalue(res, i, 4)) {
			snprintf(code, sizeof(code), "%s.%s", PQgetvalue(res, i, 0), PQgetvalue(res, i, 4));
			if ((to = registry_agency(reg, code)))
				((struct registry_entry *)en)->parent_id = to->id;
		}
		if (en->successor && (to = registry_agency(reg, en->successor)))
			((struct registry_entry *)en)->successor_id = to->id;
	}
out:
	if (!rc && by_province)
		qsort(reg->agencies, reg->n_agencies, sizeof(*reg->agencies), cmp_code);
	PQclear(res);
	PQclear(prov);
	return rc;
}

/* The national registry of the scored provinces, and the keys of their
 * agencies and sectors to its ids. */
static int read_registry(PGconn *conn, const char *const params[2], int by_province, struct registry **out,
			 struct names *agencies, struct names *sectors, struct err *e)
{
	struct registry *reg = calloc(1, sizeof(*reg));
	PGresult *res = NULL;
	size_t cap = 0;
	int rc;

	if (!reg)
		return err_set(e, ERR_NOMEM, "out of memory");
	rc = read_agencies(conn, params, by_province, reg, agencies, e);
	if (!rc)
		rc = hub_query(conn, "SELECT s.code, min(s.name) FROM " HUB_SCHEMA ".sectors s WHERE "
			       SCORED_PROVINCES("s") " GROUP BY 1 ORDER BY s.code COLLATE \"C\"", 2, params, &res, e);
	for (int i = 0; !rc && i < PQntuples(res); i++) {
		const char *code = PQgetvalue(res, i, 0);

		if (add_entry(&reg->sectors, &reg->n_sectors, &cap, NULL, code, PQgetvalue(res, i, 1), "") < 0 ||
		    names_put(sectors, code, strlen(code), (long long)reg->n_sectors) < 0)
			rc = err_set(e, ERR_NOMEM, "out of memory");
	}
	PQclear(res);
	res = NULL;
	cap = 0;
	if (!rc)
		rc = builtin_targets(reg, &cap, e);
	if (!rc && !by_province)
		rc = hub_query(conn, "SELECT t.province || '.' || t.code, t.threshold, t.from_quarter FROM "
			       HUB_SCHEMA ".targets t WHERE t.scope = 'agency' AND " SCORED_PROVINCES("t"),
			       2, params, &res, e);
	for (int i = 0; !rc && res && i < PQntuples(res); i++) {
		const struct registry_entry *a = registry_agency(reg, PQgetvalue(res, i, 0));

		if (a && add_target(reg, &cap, SCOPE_AGENCY, a->id, strtod(PQgetvalue(res, i, 1), NULL),
				    atoi(PQgetvalue(res, i, 2))) < 0)
			rc = err_set(e, ERR_NOMEM, "out of memory");
	}
	PQclear(res);
	if (rc) {
		registry_free(reg);
		return rc;
	}
	*out = reg;
	return 0;
}

/* ---- the form ---- */

/* The form of code params[0] that the scored provinces pushed (one
 * content for all of them), and those provinces as an array literal
 * ('{DN,HP}') into provinces. */
static int read_form(PGconn *conn, const char *const params[2], struct form **out, struct strbuf *provinces,
		     struct err *e)
{
	PGresult *res = NULL;
	int rc = hub_query(conn, "SELECT f.province, encode(f.hash, 'hex'), (SELECT count(DISTINCT hash) FROM "
			   HUB_SCHEMA ".province_forms g WHERE g.code = $1 AND ($2::text IS NULL OR g.province = $2)) "
			   "FROM " HUB_SCHEMA ".province_forms f WHERE f.code = $1 AND ($2::text IS NULL OR "
			   "f.province = $2) ORDER BY 2, 1", 2, params, &res, e);

	if (rc)
		return rc;
	if (PQntuples(res) == 0) {
		rc = err_set_field(e, ERR_NOT_FOUND, "form", params[1] ? "province %2$s has pushed no form %1$s"
				   : "no province has pushed form %s", params[0], params[1]);
		goto out;
	}
	if (strcmp(PQgetvalue(res, 0, 2), "1") != 0) {
		struct strbuf listed;

		/* the provinces grouped by content, each content by the start of its hash */
		strbuf_init(&listed, 1024);
		for (int i = 0; i < PQntuples(res); i++) {
			const char *hash = PQgetvalue(res, i, 1);
			int first = i == 0 || strcmp(hash, PQgetvalue(res, i - 1, 1)) != 0;
			int last = i + 1 == PQntuples(res) || strcmp(hash, PQgetvalue(res, i + 1, 1)) != 0;

			strbuf_addf(&listed, "%s%s", i == 0 ? "" : first ? "; " : ", ", PQgetvalue(res, i, 0));
			if (last)
				strbuf_addf(&listed, " (%.12s)", hash);
		}
		rc = err_set_field(e, ERR_CONFLICT, "form", "form %s differs between provinces: %s; "
				   "score them apart with --province", params[0], strbuf_str(&listed));
		strbuf_release(&listed);
		goto out;
	}
	/* an array literal: province codes need no quoting (hub_province_ok) */
	for (int i = 0; i < PQntuples(res); i++)
		strbuf_addf(provinces, "%s%s", i ? "," : "'{", PQgetvalue(res, i, 0));
	strbuf_addstr(provinces, "}'");
	{
		const char *hash[1] = { PQgetvalue(res, 0, 1) };
		PGresult *doc = NULL;

		rc = hub_query(conn, "SELECT json FROM " HUB_SCHEMA ".forms WHERE hash = decode($1, 'hex')", 1,
			       hash, &doc, e);
		if (!rc && PQntuples(doc) != 1)
			rc = err_set(e, ERR_INTERNAL, "the hub has no content for form %s", params[0]);
		if (!rc)
			rc = form_parse(PQgetvalue(doc, 0, 0), (size_t)PQgetlength(doc, 0, 0), params[0], out, e);
		PQclear(doc);
	}
out:
	PQclear(res);
	return rc;
}

/* ---- the rows ---- */

struct hub_source {
	PGconn *conn;
	const char *copy;           /* the COPY statement */
	struct names *agencies, *sectors;
	struct names strata, psus;  /* "PROVINCE\0STRATUM", stratum id then PSU code */
	char *buf;                  /* the last row's message */
	int copying, header_seen;
};

static int hub_source_open(void *arg, int whole, struct err *e)
{
	struct hub_source *s = arg;
	PGresult *res = PQexec(s->conn, s->copy);
	int ok = PQresultStatus(res) == PGRES_COPY_OUT;

	(void)whole;   /* a few bytes a row: they come either way */
	PQclear(res);
	if (!ok)
		return hub_fail(s->conn, e, "reading responses from the hub");
	s->copying = 1;
	s->header_seen = 0;
	return 0;
}

static void hub_source_close(void *arg)
{
	struct hub_source *s = arg;
	PGresult *res;
	char *buf;

	PQfreemem(s->buf);
	s->buf = NULL;
	/* a reading cut short: the rest of the stream is read and dropped, so
	 * that the connection is ready for the next statement */
	while (s->copying && PQgetCopyData(s->conn, &buf, 0) > 0)
		PQfreemem(buf);
	while (s->copying && (res = PQgetResult(s->conn)))
		PQclear(res);
	s->copying = 0;
}

/* Binary COPY fields: a 32-bit big-endian length (-1: NULL), then the bytes. */
struct field_reader {
	const unsigned char *p, *end;
};

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The next field: 1 with *v and *len, 0 for NULL, -1 when the message is short. */
static int next_field(struct field_reader *r, const char **v, size_t *len)
{
	int32_t n;

	if (r->end - r->p < 4)
		return -1;
	n = (int32_t)be32(r->p);
	r->p += 4;
	if (n < 0)
		return 0;
	if (r->end - r->p < n)
		return -1;
	*v = (const char *)r->p;
	*len = (size_t)n;
	r->p += n;
	return 1;
}

enum { F_PROVINCE, F_AGENCY, F_SECTOR, F_STRATUM, F_PSU, F_WEIGHT, F_ANSWERS, F_CHOICES, F_DAY, N_FIELDS };

/* Turn one row's fields into a score_row. */
static int decode_row(struct hub_source *s, const char *const *v, const size_t *len, const int *given,
		      struct score_row *row, struct err *e)
{
	char key[KEY_MAX];
	size_t klen;
	uint64_t bits = 0;

	for (int f = 0; f < N_FIELDS; f++)
		if (!given[f] && f != F_PSU)
			return err_set(e, ERR_INTERNAL, "the hub sent a response without field %d", f);
	if (len[F_WEIGHT] != 8 || len[F_DAY] != 4)
		return err_set(e, ERR_INTERNAL, "the hub sent a malformed response");
	klen = province_key(key, v[F_PROVINCE], len[F_PROVINCE], v[F_AGENCY], len[F_AGENCY]);
	if (!klen || !(row->agency_id = names_get(s->agencies, key, klen)))
		return err_set(e, ERR_INVALID, "a response of province %.*s names agency %.*s, not in its registry "
			       "on the hub", (int)len[F_PROVINCE], v[F_PROVINCE], (int)len[F_AGENCY], v[F_AGENCY]);
	if (!(row->sector_id = names_get(s->sectors, v[F_SECTOR], len[F_SECTOR])))
		return err_set(e, ERR_INVALID, "a response of province %.*s names sector %.*s, not in its registry "
			       "on the hub", (int)len[F_PROVINCE], v[F_PROVINCE], (int)len[F_SECTOR], v[F_SECTOR]);
	klen = province_key(key, v[F_PROVINCE], len[F_PROVINCE], v[F_STRATUM], len[F_STRATUM]);
	if (!klen)
		return err_set(e, ERR_INVALID, "a response of province %.*s has too long a stratum",
			       (int)len[F_PROVINCE], v[F_PROVINCE]);
	if ((row->stratum_id = names_intern(&s->strata, key, klen)) < 0)
		return err_set(e, ERR_NOMEM, "out of memory");
	row->psu_id = 0;
	if (given[F_PSU]) {
		if (len[F_PSU] > REGISTRY_MAX_CODE * 4)
			return err_set(e, ERR_INVALID, "a response of province %.*s has too long a PSU",
				       (int)len[F_PROVINCE], v[F_PROVINCE]);
		memcpy(key, &row->stratum_id, sizeof(row->stratum_id));
		memcpy(key + sizeof(row->stratum_id), v[F_PSU], len[F_PSU]);
		if ((row->psu_id = names_intern(&s->psus, key, sizeof(row->stratum_id) + len[F_PSU])) < 0)
			return err_set(e, ERR_NOMEM, "out of memory");
	}
	for (int i = 0; i < 8; i++)
		bits = bits << 8 | (unsigned char)v[F_WEIGHT][i];
	memcpy(&row->weight, &bits, sizeof(row->weight));
	row->answers = (const uint8_t *)v[F_ANSWERS];
	row->n_answers = len[F_ANSWERS];
	row->choices = (const uint8_t *)v[F_CHOICES];
	row->n_choices = len[F_CHOICES];
	row->day = (int32_t)be32((const unsigned char *)v[F_DAY]);
	return 0;
}

static int hub_source_next(void *arg, struct score_row *row, struct err *e)
{
	static const unsigned char signature[11] = "PGCOPY\n\377\r\n";
	struct hub_source *s = arg;
	struct field_reader r;
	const char *v[N_FIELDS] = { NULL };
	size_t len[N_FIELDS] = { 0 };
	int given[N_FIELDS] = { 0 }, n, nfields;

	for (;;) {
		PQfreemem(s->buf);
		s->buf = NULL;
		n = PQgetCopyData(s->conn, &s->buf, 0);
		if (n == -1) {
			PGresult *res = PQgetResult(s->conn);
			int ok = PQresultStatus(res) == PGRES_COMMAND_OK;

			PQclear(res);
			while ((res = PQgetResult(s->conn)))
				PQclear(res);
			s->copying = 0;
			return ok ? SCORE_SOURCE_END : hub_fail(s->conn, e, "reading responses from the hub");
		}
		if (n < 0)
			return hub_fail(s->conn, e, "reading responses from the hub");
		r.p = (const unsigned char *)s->buf;
		r.end = r.p + n;
		if (!s->header_seen) {   /* the signature, flags, and an extension to skip */
			if (n < 19 || memcmp(r.p, signature, sizeof(signature)) != 0 || be32(r.p + 15) > (uint32_t)n - 19)
				return err_set(e, ERR_INTERNAL, "the hub's COPY stream has no binary header");
			r.p += 19 + be32(r.p + 15);
			s->header_seen = 1;
		}
		if (r.end - r.p < 2)
			return err_set(e, ERR_INTERNAL, "the hub sent a malformed response");
		nfields = (int16_t)((unsigned)r.p[0] << 8 | r.p[1]);
		r.p += 2;
		if (nfields == -1)
			continue;   /* the trailer; the end follows */
		if (nfields != N_FIELDS)
			return err_set(e, ERR_INTERNAL, "the hub sent %d fields, not %d", nfields, N_FIELDS);
		for (int f = 0; f < N_FIELDS; f++) {
			int got = next_field(&r, &v[f], &len[f]);

			if (got < 0)
				return err_set(e, ERR_INTERNAL, "the hub sent a malformed response");
			given[f] = got;
		}
		return decode_row(s, v, len, given, row, e);
	}
}

/* The period's rows of form_code in `provinces` (an array literal), as
 * "FROM ... WHERE ...".  A plain filter on the partitions' scan, so that
 * rows come in the order they were stored. */
static char *rows_sql(PGconn *conn, const char *form_code, const char *provinces, const struct period *p)
{
	char *form_lit = PQescapeLiteral(conn, form_code, strlen(form_code));
	char *sql = NULL;

	if (form_lit &&
	    asprintf(&sql, "FROM " HUB_SCHEMA ".responses r WHERE r.form = %s AND r.quarter BETWEEN %d AND %d "
		     "AND r.day BETWEEN %d AND %d AND r.province = ANY (%s::text[])",
		     form_lit, period_quarter_of_day(p->first_day), period_quarter_of_day(p->last_day),
		     p->first_day, p->last_day, provinces) < 0)
		sql = NULL;
	PQfreemem(form_lit);
	return sql;
}

/* Number the strata and PSUs of the rows in code order, province by
 * province, before the rows come: the order a province's import numbers
 * its own, so that the sums of the design add up in the same order as
 * they do in a database holding the same rows (to the last bit, not only
 * to rounding). */
static int number_strata(struct hub_source *s, const char *rows, struct err *e)
{
	PGresult *res = NULL;
	char *sql = NULL, key[KEY_MAX];
	int rc;

	if (asprintf(&sql, "SELECT r.province, r.stratum, r.psu %s GROUP BY 1, 2, 3 ORDER BY r.province COLLATE \"C\", "
		     "r.stratum COLLATE \"C\", r.psu COLLATE \"C\"", rows) < 0)
		return err_set(e, ERR_NOMEM, "out of memory");
	rc = hub_query(s->conn, sql, 0, NULL, &res, e);
	free(sql);
	for (int i = 0; !rc && i < PQntuples(res); i++) {
		const char *p = PQgetvalue(res, i, 0), *stratum = PQgetvalue(res, i, 1), *psu = PQgetvalue(res, i, 2);
		size_t len = province_key(key, p, strlen(p), stratum, strlen(stratum)), plen = strlen(psu);
		long long id = len ? names_intern(&s->strata, key, len) : 0;

		if (!len || plen > REGISTRY_MAX_CODE * 4)
			continue;   /* the rows' own check names it */
		memcpy(key, &id, sizeof(id));
		memcpy(key + sizeof(id), psu, plen);
		if (id < 0 || (!PQgetisnull(res, i, 2) && names_intern(&s->psus, key, sizeof(id) + plen) < 0))
			rc = err_set(e, ERR_NOMEM, "out of memory");
	}
	PQclear(res);
	return rc;
}

int hub_score_run(PGconn *conn, const char *form_code, const char *province, int by,
		  const struct period *period, struct hub_scores **out, struct err *e)
{
	const char *params[2] = { form_code, province };
	int by_province = by == HUB_SCORE_BY_PROVINCE;
	struct score_options opts = { by_province ? SCORE_BY_AGENCY : by, NULL };
	struct names agencies = { NULL, 0, 0, 0 }, sectors = { NULL, 0, 0, 0 };
	struct hub_source hs = { conn, NULL, &agencies, &sectors, { NULL, 0, 0, 0 }, { NULL, 0, 0, 0 }, NULL, 0, 0 };
	struct score_source src = { hub_source_open, hub_source_next, hub_source_close, &hs };
	struct hub_scores *s = calloc(1, sizeof(*s));
	struct strbuf provinces;
	char *rows = NULL, *sql = NULL;
	int rc;

	strbuf_init(&provinces, 0);

	if (!s)
		return err_set(e, ERR_NOMEM, "out of memory");
	if (province && !hub_province_ok(province)) {
		rc = err_set_field(e, ERR_INVALID, "province", "--province '%s' is not 1 to %d letters, digits or '-'",
				   province, HUB_MAX_PROVINCE);
		goto out;
	}
	/* one snapshot for the registry and both readings of the rows */
	rc = hub_exec(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", e);
	if (rc)
		goto out;
	rc = hub_schema_check(conn, e);
	if (!rc)
		rc = hub_check_reader(conn, e);
	if (!rc)
		rc = read_form(conn, params, &s->form, &provinces, e);
	if (!rc)
		rc = read_registry(conn, params, by_province, &s->reg, &agencies, &sectors, e);
	if (!rc && (provinces.failed || !(rows = rows_sql(conn, form_code, strbuf_str(&provinces), period)) ||
		    asprintf(&sql, "COPY (SELECT r.province, r.agency, r.sector, r.stratum, r.psu, r.weight, r.answers, "
			     "r.choices, r.day %s) TO STDOUT (FORMAT binary)", rows) < 0))
		rc = err_set(e, ERR_NOMEM, "out of memory");
	hs.copy = sql;
	/* rows in storage order (the order they were pushed in, which is the
	 * province's own): one worker, and no scan in a key's order; the sums
	 * then add up alike on every run and as in the province's database.
	 * The numbering groups by hashing, not by sorting every row; neither
	 * plan gains from compiling (jit) */
	if (!rc)
		rc = hub_exec(conn, "SET LOCAL max_parallel_workers_per_gather = 0; SET LOCAL enable_indexscan = off; "
			      "SET LOCAL enable_indexonlyscan = off; SET LOCAL enable_sort = off; SET LOCAL jit = off", e);
	if (!rc)
		rc = number_strata(&hs, rows, e);
	if (!rc)
		rc = score_run_source(&src, s->reg, s->form, period, &opts, &s->res, e);
	if (!rc && by_province)
		s->res->unit = "province";
	hub_exec(conn, "COMMIT", NULL);
out:
	free(rows);
	free(sql);
	strbuf_release(&provinces);
	names_release(&agencies);
	names_release(&sectors);
	names_release(&hs.strata);
	names_release(&hs.psus);
	if (rc) {
		hub_scores_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void hub_scores_free(struct hub_scores *s)
{
	if (!s)
		return;
	score_result_free(s->res);
	registry_free(s->reg);
	form_free(s->form);
	free(s);
}
