/*
 * targets.c - the fuzz entry points (see targets.h).  Inputs are copied
 * into exact-size buffers so the sanitizers see any read past the end.
 */
#include "targets.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../forms/builtin.h"
#include "../forms/form.h"
#include "../forms/form_store.h"
#include "../forms/registry.h"
#include "../responses/response.h"
#include "../responses/response_json.h"
#include "../lib/csv.h"
#include "../db/db.h"
#include "../responses/import.h"
#include "../responses/records.h"
#include "../lib/period.h"
#include "../lib/url.h"
#include "../collector/link.h"
#include "../office/user.h"
#include "../monitor/hours.h"
#include "../lib/fold.h"
#include "../lib/utf8.h"
#include "../monitor/comments.h"

const struct fuzz_target fuzz_targets[] = {
	{ "csv", fuzz_csv },
	{ "form", fuzz_form },
	{ "period", fuzz_period },
	{ "import", fuzz_import },
	{ "body", fuzz_body },
	{ "date", fuzz_date },
	{ "weight", fuzz_weight },
	{ "url", fuzz_url },
	{ "expires", fuzz_expires },
	{ "account", fuzz_account },
	{ "hours", fuzz_hours },
	{ "fold", fuzz_fold },
	{ "records", fuzz_records },
	{ NULL, NULL }
};

/* A stream over a private copy of the input (freed by close_input).
 * fmemopen needs a size > 0, so an empty input is one byte, consumed. */
static FILE *open_input(const uint8_t *data, size_t size, char **copy)
{
	FILE *fp;

	*copy = malloc(size + 1);
	if (!*copy)
		return NULL;
	if (size)
		memcpy(*copy, data, size);
	fp = fmemopen(*copy, size ? size : 1, "r");
	if (fp && size == 0)
		fgetc(fp);
	return fp;
}

static void close_input(FILE *fp, char *copy)
{
	if (fp)
		fclose(fp);
	free(copy);
}

int fuzz_csv(const uint8_t *data, size_t size)
{
	char *copy;
	FILE *fp = open_input(data, size, &copy);
	struct csv_reader *r;
	struct err e;
	int rc;

	r = fp ? csv_reader_new(fp, "fuzz.csv") : NULL;
	while (r && (rc = csv_read_record(r, &e)) == 1) {
		for (size_t i = 0; i < csv_nfields(r); i++) {
			const char *hint;
			double v;

			if (strlen(csv_field(r, i)) != csv_field_len(r, i))
				abort();
			/* a number is never negative or NaN, and has only the file's decimal mark */
			if (csv_parse_decimal(csv_field(r, i), csv_decimal_comma(r), &v, &hint) == 0 &&
			    (!(v >= 0) || strchr(csv_field(r, i), csv_decimal_comma(r) ? '.' : ',')))
				abort();
		}
	}
	csv_reader_free(r);
	close_input(fp, copy);
	return 0;
}

int fuzz_form(const uint8_t *data, size_t size)
{
	struct form *f = NULL;
	struct err e;
	char *copy = malloc(size + 1);

	if (!copy)
		return 0;
	if (size)
		memcpy(copy, data, size);
	if (form_parse(copy, size, "fuzz.json", &f, &e) == 0) {
		char *canon = form_canonical_json(f);

		/* a valid form's canonical text must itself be a valid form */
		struct form *again = NULL;

		if (!canon || form_parse(canon, strlen(canon), "canon", &again, &e) != 0)
			abort();
		form_free(again);
		free(canon);
	}
	form_free(f);
	free(copy);
	return 0;
}

int fuzz_period(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	struct period p;
	int64_t ts;
	int32_t day;
	int q;

	if (!s)
		return 0;
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	if (period_parse(s, &p, NULL) == 0 && p.last_day < p.first_day)
		abort();
	period_parse_timestamp(s, &ts, &day, NULL);
	period_parse_quarter(s, &q, NULL);
	free(s);
	return 0;
}

/* One in-memory database with the shipped forms and registry, reused. */
static sqlite3 *import_db;
static struct registry *import_reg;
static struct form *import_form;
static struct form **all_forms;
static size_t n_all_forms;

static void import_setup(void)
{
	struct err e;
	int added = 0;

	if (db_open(":memory:", DB_CREATE, &import_db, &e) || builtin_load_forms(import_db, &added, &e) ||
	    builtin_load_registry(import_db, &e) || registry_read(import_db, &import_reg, &e) ||
	    form_store_get(import_db, "kiosk-2018", &import_form, &e) ||
	    form_store_get_all(import_db, &all_forms, &n_all_forms, &e)) {
		fprintf(stderr, "fuzz_import setup: %s\n", e.text);
		abort();
	}
}

int fuzz_import(const uint8_t *data, size_t size)
{
	static struct import_report report;   /* no notices: report.published stays NULL */
	struct import_stats stats;
	struct err e;
	long long before = 0, after = 0;
	char *copy;
	FILE *fp;
	int rc;

	if (!import_db)
		import_setup();
	fp = open_input(data, size, &copy);
	db_query_int(import_db, "SELECT count(*) FROM responses", &before, &e);
	/* odd sizes skip empty questionnaires, even ones refuse them */
	rc = fp ? import_csv(import_db, import_reg, import_form, fp, "fuzz.csv", size,
			     size % 2 ? IMPORT_SKIP_EMPTY : 0, &stats, &report, &e) : 0;
	db_query_int(import_db, "SELECT count(*) FROM responses", &after, &e);
	/* all or nothing: a refused file stores nothing */
	if ((rc && after != before) || (!rc && report.rows.bad) || report.rows.listed > CSV_LISTED_ROWS)
		abort();
	if (!rc && (after != before + stats.added || stats.skipped > stats.rows || (size % 2 == 0 && stats.skipped)))
		abort();
	close_input(fp, copy);
	return 0;
}

int fuzz_body(const uint8_t *data, size_t size)
{
	struct response *r;
	json_error_t jerr;
	struct err e;
	json_t *doc;

	if (!import_db)
		import_setup();
	doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc)
		return 0;
	r = malloc(sizeof(*r));
	if (r && response_from_json(doc, all_forms, n_all_forms, import_reg, r, &e) == 0) {
		/* an accepted post is complete and on its form's scale */
		if (!r->form || !r->agency || !r->sector || !r->response_id[0] || !r->has_ts)
			abort();
		for (size_t i = 0; i < r->form->n_items; i++)
			if (r->answers[i] > r->form->scale_max - r->form->scale_min + 1)
				abort();
	}
	free(r);
	json_decref(doc);
	return 0;
}

/* The input as a NUL-terminated string (it ends at its first NUL byte);
 * owned by the caller, NULL when out of memory. */
static char *input_string(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s) {
		if (size)
			memcpy(s, data, size);
		s[size] = '\0';
	}
	return s;
}

/* A fixed clock, so that a crash reproduces: 2026-12-01T00:00:00Z. */
#define FUZZ_NOW 1796083200
#define FUZZ_TODAY ((int32_t)((FUZZ_NOW + PERIOD_TZ_SECONDS) / 86400))

int fuzz_date(const uint8_t *data, size_t size)
{
	char *s = input_string(data, size), again[40];
	struct response *r = malloc(sizeof(*r));
	int64_t ts, ts2, local;
	int32_t day, day2;
	struct err e;
	int ok;

	if (!s || !r || period_parse_timestamp(s, &ts, &day, NULL) != 0)
		goto out;
	/* the day is the instant's date in Vietnam time */
	local = ts + PERIOD_TZ_SECONDS;
	if (day != (local >= 0 ? local / 86400 : (local - 86399) / 86400))
		abort();
	/* the instant survives a round trip through its UTC form (years the parser takes) */
	if (ts >= 0 && ts < 253402300800LL) {
		time_t t = (time_t)ts;
		struct tm tm;

		if (!gmtime_r(&t, &tm) || !strftime(again, sizeof(again), "%Y-%m-%dT%H:%M:%SZ", &tm) ||
		    period_parse_timestamp(again, &ts2, &day2, NULL) != 0 || ts2 != ts || day2 != day)
			abort();
	}
	/* the import's and the collector's windows take exactly what they say */
	response_init(r, NULL);
	r->ts = ts;
	r->day = day;
	r->has_ts = 1;
	ok = response_check_date(r, FUZZ_TODAY, &e) == 0;
	if (ok != (day >= RESPONSE_FIRST_DAY && day <= FUZZ_TODAY + 1) ||
	    (!ok && strcmp(e.field, "submitted_at") != 0))
		abort();
	ok = response_check_received(r, FUZZ_NOW, 30 * 86400, &e) == 0;
	if (ok != (ts >= FUZZ_NOW - 30 * 86400 && ts <= FUZZ_NOW + RESPONSE_MAX_AHEAD) ||
	    (ok && r->received_at != FUZZ_NOW) || (!ok && strcmp(e.field, "submitted_at") != 0))
		abort();
out:
	free(r);
	free(s);
	return 0;
}

int fuzz_weight(const uint8_t *data, size_t size)
{
	char *s = input_string(data, size), *point = input_string(data, size), *comma;
	struct response *r = malloc(sizeof(*r));
	/* a ',' in the input: read it as a file with a decimal comma would */
	struct response_field weight = { .kind = FIELD_WEIGHT, .name = "weight", .spreadsheet = 1 };
	struct err e;

	if (!s || !point || !r)
		goto out;
	weight.decimal_comma = strchr(s, ',') != NULL;
	comma = strchr(point, ',');
	if (comma)
		*comma = '.';
	response_init(r, NULL);
	if (response_set_text(r, NULL, &weight, s, &e) != 0) {
		if (strcmp(e.field, "weight") != 0)
			abort();
	} else if (!*s) {
		if (r->weight != 1.0)   /* empty: the default */
			abort();
	} else {
		/* a plain decimal (no sign, hex, inf or nan) with the file's decimal
		 * mark, in range, read as the same text with a point is */
		if (!isfinite(r->weight) || r->weight < RESPONSE_MIN_WEIGHT || r->weight > RESPONSE_MAX_WEIGHT ||
		    strspn(point, "0123456789.eE+-") != strlen(point) || !strchr("0123456789.", point[0]) ||
		    (weight.decimal_comma && strchr(s, '.')) || strtod(point, NULL) != r->weight)
			abort();
	}
out:
	free(r);
	free(point);
	free(s);
	return 0;
}

int fuzz_url(const uint8_t *data, size_t size)
{
	char *s = input_string(data, size), out[URL_MAX], again[URL_MAX];
	struct err e;

	if (!s)
		return 0;
	if (url_normalise(s, "url", out, &e) == 0) {
		/* one address, one spelling: normalising it again changes nothing */
		const char *authority = strstr(out, "://");

		if (url_normalise(out, "url", again, &e) != 0 || strcmp(out, again) != 0 ||
		    strncmp(out, "http", 4) != 0 || strpbrk(out, "?# ") || !authority ||
		    memchr(authority, '@', strcspn(authority + 3, "/") + 3))
			abort();
	} else if (strcmp(e.field, "url") != 0) {
		abort();
	}
	free(s);
	return 0;
}

int fuzz_expires(const uint8_t *data, size_t size)
{
	char *s = input_string(data, size), again[32];
	int64_t exp;

	/* a signed link's expiry has one spelling: what "%lld" prints */
	if (s && link_parse_expires(s, &exp) == 0) {
		snprintf(again, sizeof(again), "%lld", (long long)exp);
		if (strcmp(again, s) != 0 || exp < 1 || exp > LINK_MAX_EXPIRES)
			abort();
	}
	free(s);
	return 0;
}

/* Dossier records: an input starting with '{' is a POST /api/dossiers
 * body, each record checked; anything else a `dossiers import --records`
 * file, which is stored whole or not at all. */
int fuzz_records(const uint8_t *data, size_t size)
{
	static struct csv_bad_rows bad;
	struct records_stats stats;
	struct records_record rec;
	struct err e;
	long long before = 0, after = 0;
	char *copy;
	FILE *fp;
	int rc;

	if (!import_db)
		import_setup();
	if (size && data[0] == '{') {
		json_t *doc = json_loadb((const char *)data, size, 0, NULL), *item;
		size_t i;

		json_array_foreach(json_object_get(doc, "dossiers"), i, item)
			if (records_check_json(import_reg, item, 1800000000, &rec, &e) == 0 &&
			    (!rec.agency || !rec.sector || !rec.received_by || (rec.has_finished &&
			     rec.finished_at < rec.received_at)))
				abort();
		json_decref(doc);
		return 0;
	}
	fp = open_input(data, size, &copy);
	db_query_int(import_db, "SELECT count(*) FROM dossier_records", &before, &e);
	rc = fp ? records_import_csv(import_db, import_reg, fp, "fuzz.csv", size, 1800000000, &stats, &bad, &e) : 0;
	db_query_int(import_db, "SELECT count(*) FROM dossier_records", &after, &e);
	/* all or nothing; then empty again for the next input */
	if ((rc && after != before) || (!rc && bad.bad) || bad.listed > CSV_LISTED_ROWS ||
	    (!rc && after - before != stats.outcomes[RECORDS_STORED]))
		abort();
	db_exec(import_db, "DELETE FROM dossier_records", NULL);
	close_input(fp, copy);
	return 0;
}

void fuzz_cleanup(void)
{
	form_store_free_all(all_forms, n_all_forms);
	all_forms = NULL;
	n_all_forms = 0;
	form_free(import_form);
	registry_free(import_reg);
	db_close(import_db);
	import_form = NULL;
	import_reg = NULL;
	import_db = NULL;
}

/* The input's lines are an account's login, name, role, agency and
 * password, as `sipas user add` and the console's users screen take them:
 * the checks, then the account added (and rolled back) in a real
 * in-memory database. */
int fuzz_account(const uint8_t *data, size_t size)
{
	char *s = input_string(data, size), *save = NULL, token[USER_TOKEN_HEX + 1];
	const char *field[5] = { "", "", "", "", "" }, *agency[1];
	struct err e;
	size_t n = 0;

	if (!s)
		return 0;
	for (char *line = strtok_r(s, "\n", &save); line && n < 5; line = strtok_r(NULL, "\n", &save))
		field[n++] = line;
	user_check_login(field[0], &e);
	user_check_password_rules(field[4], &e);
	if (!import_db)
		import_setup();
	agency[0] = field[3];
	if (db_exec(import_db, "BEGIN IMMEDIATE", &e) == 0) {
		user_add(import_db, field[0], field[1], user_role_parse(field[2]), agency, field[3][0] ? 1 : 0, FUZZ_NOW,
			 token, &e);
		db_exec(import_db, "ROLLBACK", &e);
	}
	free(s);
	return 0;
}

int fuzz_hours(const uint8_t *data, size_t size)
{
	char *s = input_string(data, size);
	struct hours h;
	struct err e;

	if (!s)
		return 0;
	if (hours_parse(s, &h, &e) == 0) {
		/* what parses is ranges in order within a day, and the counts agree */
		int64_t week = 0, t0 = 1764522000;   /* 2025-12-01 00:00 in Vietnam, a Monday */

		for (int d = 0; d < 7; d++)
			for (int i = 0; i < h.n[d]; i++) {
				if (h.start[d][i] < 0 || h.end[d][i] > 24 * 60 || h.start[d][i] >= h.end[d][i] ||
				    (i > 0 && h.start[d][i] < h.end[d][i - 1]))
					abort();
				week += (h.end[d][i] - h.start[d][i]) * 60;
			}
		if (hours_open_seconds(&h, t0, t0 + 7 * 86400) != week ||
		    hours_open_seconds(&h, t0, t0 + 70 * 86400) != 10 * week)
			abort();
	} else if (strcmp(e.field, "hours") != 0 || e.code != ERR_INVALID) {
		abort();
	}
	free(s);
	return 0;
}

/* 1 if s[0..n) holds a combining mark U+0300-U+036F (UTF-8 CC 80 to CD AF). */
static int has_mark(const char *s, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++)
		if (((unsigned char)s[i] == 0xCC && (unsigned char)s[i + 1] >= 0x80) ||
		    ((unsigned char)s[i] == 0xCD && (unsigned char)s[i + 1] <= 0xAF && (unsigned char)s[i + 1] >= 0x80))
			return 1;
	return 0;
}

int fuzz_fold(const uint8_t *data, size_t size)
{
	char *copy = malloc(size ? size : 1), *once = NULL, *twice = NULL;
	struct strbuf query = STRBUF_INIT;
	sqlite3_stmt *st = NULL;
	sqlite3 *db = NULL;
	size_t n1, n2;
	int step;

	if (!copy)
		return 0;
	if (size)
		memcpy(copy, data, size);
	once = fold_text(copy, size, &n1);
	if (!once)
		goto out;
	/* any bytes give valid UTF-8 in lower case without marks, no longer
	 * than 3 bytes a byte, and folding it again changes nothing */
	if (!utf8_valid(once, n1) || n1 > 3 * size || strlen(once) != n1 || has_mark(once, n1))
		abort();
	for (size_t i = 0; i < n1; i++)
		if (once[i] >= 'A' && once[i] <= 'Z')
			abort();
	twice = fold_text(once, n1, &n2);
	if (twice && (n2 != n1 || memcmp(once, twice, n1) != 0))
		abort();
	/* a search of those words (up to a NUL) is never FTS5 syntax */
	free(copy);
	if (size > COMMENTS_WORDS_MAX || !(copy = input_string(data, size)) ||
	    comments_match_query(copy, &query) != 0 || !query.len)
		goto out;
	if (sqlite3_open(":memory:", &db) != SQLITE_OK ||
	    sqlite3_exec(db, "CREATE VIRTUAL TABLE t USING fts5(a); INSERT INTO t VALUES ('thai do cong chuc')",
			 NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT count(*) FROM t WHERE t MATCH ?1", -1, &st, NULL) != SQLITE_OK)
		abort();
	sqlite3_bind_text(st, 1, strbuf_str(&query), -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step != SQLITE_ROW)
		abort();
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	strbuf_release(&query);
	free(twice);
	free(once);
	free(copy);
	return 0;
}
