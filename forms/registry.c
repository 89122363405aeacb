/*
 * registry.c - loading and looking up agencies, sectors and targets (see
 * registry.h).  Files are checked row by row with the line number of every
 * problem; the caller's transaction makes a failed load leave no trace.
 */
#include "registry.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/array.h"
#include "../lib/csv.h"
#include "../db/db.h"
#include "../lib/period.h"
#include "../lib/strbuf.h"

/* 1 if s is a well-formed registry code (1..32 of [A-Za-z0-9._-]). */
static int registry_code_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > REGISTRY_MAX_CODE)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-'))
			return 0;
	return 1;
}

/* Open `r` on fp, read and map the header. */
static int open_table(FILE *fp, const char *name, const char *const *cols, const int *required,
		      long *col, struct csv_reader **out, struct err *e)
{
	struct csv_reader *r = csv_reader_new(fp, name);
	int rc;

	if (!r)
		return err_set(e, ERR_NOMEM, "out of memory");
	rc = csv_read_record(r, e);
	if (rc == 0)
		rc = err_set(e, ERR_INVALID, "%s: empty file (a header row is required)", name);
	if (rc == 1)
		rc = csv_map_header(r, cols, required, col, e);
	if (rc) {
		csv_reader_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

/* The next data row, checking its field count; 1 row, 0 end, < 0 error. */
static int next_row(struct csv_reader *r, size_t ncols, long *rows, struct err *e)
{
	int rc = csv_read_record(r, e);

	if (rc != 1)
		return rc;
	if (csv_nfields(r) != ncols)
		return err_set(e, ERR_INVALID, "%s:%ld: %zu fields, the header has %zu", csv_name(r),
			       csv_line(r), csv_nfields(r), ncols);
	if (++*rows > REGISTRY_MAX_ROWS)
		return err_set(e, ERR_TOO_LARGE, "%s:%ld: more than %d rows", csv_name(r),
			       csv_line(r), REGISTRY_MAX_ROWS);
	return 1;
}

static int load_sectors(sqlite3 *db, FILE *fp, const char *name, struct err *e)
{
	static const char *const cols[] = { "code", "name", NULL };
	static const int required[] = { 1, 1 };
	long col[2], rows = 0;
	struct csv_reader *r = NULL;
	sqlite3_stmt *st = NULL;
	int rc;

	rc = open_table(fp, name, cols, required, col, &r, e);
	if (rc)
		return rc;
	rc = db_prepare(db, "INSERT INTO sectors(code, name) VALUES (?1, ?2) "
			"ON CONFLICT(code) DO UPDATE SET name = excluded.name", &st, e);
	while (!rc && (rc = next_row(r, 2, &rows, e)) == 1) {
		const char *code = csv_field(r, (size_t)col[0]), *nm = csv_field(r, (size_t)col[1]);

		rc = 0;
		if (!registry_code_ok(code))
			rc = csv_row_fail(r, e, "code", "'%s' is not a code (1 to 32 of A-Z a-z 0-9 . _ -)", code);
		else if (!*nm)
			rc = csv_row_fail(r, e, "name", "empty");
		if (rc)
			break;
		sqlite3_bind_text(st, 1, code, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, nm, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = db_fail(db, e, name);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	csv_reader_free(r);
	return rc;
}

/* Agencies are inserted first and linked to their parents and successors
 * in a second pass, so either may come later in the file. */
struct pending_link {
	long line;
	const char *column;   /* "parent" or "successor" */
	int32_t valid_to;     /* successor links: the agency's last day */
	char code[REGISTRY_MAX_CODE + 1];
	char target[REGISTRY_MAX_CODE + 1];
};

/* A link's error: "FILE:LINE: column C: why". */
static int link_fail(struct err *e, const char *name, const struct pending_link *l, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int link_fail(struct err *e, const char *name, const struct pending_link *l, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return err_set_field(e, ERR_INVALID, l->column, "%s:%ld: column %s: %s", name, l->line, l->column, why);
}

static int set_links(sqlite3 *db, const char *name, const struct pending_link *links, size_t n,
		     struct err *e)
{
	sqlite3_stmt *find = NULL, *set[2] = { NULL, NULL };
	int rc = db_prepare(db, "SELECT id FROM agencies WHERE code = ?1", &find, e);

	if (!rc)
		rc = db_prepare(db, "UPDATE agencies SET parent_id = ?2 WHERE code = ?1", &set[0], e);
	if (!rc)
		rc = db_prepare(db, "UPDATE agencies SET successor_id = ?2 WHERE code = ?1", &set[1], e);
	for (size_t i = 0; !rc && i < n; i++) {
		sqlite3_stmt *st = set[strcmp(links[i].column, "successor") == 0];

		if (strcmp(links[i].code, links[i].target) == 0) {
			rc = link_fail(e, name, &links[i], "'%s' cannot be its own %s", links[i].code,
				       links[i].column);
			break;
		}
		sqlite3_bind_text(find, 1, links[i].target, -1, SQLITE_STATIC);
		if (sqlite3_step(find) != SQLITE_ROW) {
			rc = link_fail(e, name, &links[i], "unknown agency '%s'", links[i].target);
			break;
		}
		sqlite3_bind_text(st, 1, links[i].code, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, sqlite3_column_int64(find, 0));
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = db_fail(db, e, name);
		sqlite3_reset(find);
		sqlite3_reset(st);
	}
	sqlite3_finalize(find);
	sqlite3_finalize(set[0]);
	sqlite3_finalize(set[1]);
	return rc;
}

/* Successors, once linked: no cycle (with the agencies loaded before, too),
 * and each valid on the day after its predecessor's last, so that every
 * rating of an ended agency has somewhere to go. */
static int check_successors(sqlite3 *db, const char *name, const struct pending_link *links, size_t n,
			    struct err *e)
{
	sqlite3_stmt *cycle = NULL, *valid = NULL;
	int rc = db_prepare(db, "WITH RECURSIVE walk(start, cur, depth) AS ("
			    "  SELECT id, successor_id, 1 FROM agencies WHERE code = ?1 "
			    "  UNION ALL SELECT w.start, a.successor_id, w.depth + 1 FROM walk w "
			    "  JOIN agencies a ON a.id = w.cur WHERE w.cur <> w.start AND w.depth <= ?2) "
			    "SELECT count(*) FROM walk WHERE cur = start", &cycle, e);

	if (!rc)
		rc = db_prepare(db, "SELECT (s.valid_from IS NULL OR s.valid_from <= ?2) AND "
				"(s.valid_to IS NULL OR s.valid_to >= ?2) FROM agencies s WHERE s.code = ?1",
				&valid, e);
	for (size_t i = 0; !rc && i < n; i++) {
		char day[16];

		if (strcmp(links[i].column, "successor"))
			continue;
		sqlite3_bind_text(cycle, 1, links[i].code, -1, SQLITE_STATIC);
		sqlite3_bind_int64(cycle, 2, REGISTRY_MAX_ROWS);
		if (sqlite3_step(cycle) != SQLITE_ROW)
			rc = db_fail(db, e, name);
		else if (sqlite3_column_int64(cycle, 0))
			rc = link_fail(e, name, &links[i], "successors run in a cycle back to '%s'", links[i].code);
		sqlite3_reset(cycle);
		if (rc)
			break;
		sqlite3_bind_text(valid, 1, links[i].target, -1, SQLITE_STATIC);
		sqlite3_bind_int(valid, 2, links[i].valid_to + 1);
		if (sqlite3_step(valid) != SQLITE_ROW)
			rc = db_fail(db, e, name);
		else if (!sqlite3_column_int(valid, 0)) {
			period_format_day(links[i].valid_to + 1, day);
			rc = link_fail(e, name, &links[i], "'%s' is not valid on %s, the day after valid_to",
				       links[i].target, day);
		}
		sqlite3_reset(valid);
	}
	sqlite3_finalize(cycle);
	sqlite3_finalize(valid);
	return rc;
}

/* An optional date column: "" is open (*day untouched, *given 0);
 * otherwise YYYY-MM-DD. */
static int date_field(struct csv_reader *r, const char *column, const char *v, int32_t *day, int *given,
		      struct err *e)
{
	*given = *v != '\0';
	if (!*given)
		return 0;
	if (period_parse_day(v, day, NULL))
		return csv_row_fail(r, e, column, "'%s' is not a date (YYYY-MM-DD)", v);
	return 0;
}

static int add_link(struct pending_link **links, size_t *n, size_t *alloc, long line, const char *column,
		    int32_t valid_to, const char *code, const char *target, struct err *e)
{
	struct pending_link *l;

	if (ARRAY_RESERVE(*links, *alloc, *n) < 0)
		return err_set(e, ERR_NOMEM, "out of memory");
	l = &(*links)[(*n)++];
	l->line = line;
	l->column = column;
	l->valid_to = valid_to;
	snprintf(l->code, sizeof(l->code), "%s", code);
	snprintf(l->target, sizeof(l->target), "%s", target);
	return 0;
}

/* The columns of agencies.csv; the last three (the agency's history) are
 * optional, and a file without them leaves the stored history as it is. */
enum { A_CODE, A_NAME, A_LEVEL, A_PARENT, A_FROM, A_TO, A_SUCCESSOR, A_COLUMNS };

static int load_agencies(sqlite3 *db, FILE *fp, const char *name, struct err *e)
{
	static const char *const cols[] = { "code", "name", "level", "parent", "valid_from", "valid_to",
					    "successor", NULL };
	static const int required[] = { 1, 1, 1, 1, 0, 0, 0 };
	long col[A_COLUMNS], rows = 0;
	struct csv_reader *r = NULL;
	sqlite3_stmt *st = NULL, *history = NULL;
	struct pending_link *links = NULL;
	size_t n_links = 0, alloc = 0, ncols = 4;
	int rc, has_history;

	rc = open_table(fp, name, cols, required, col, &r, e);
	if (rc)
		return rc;
	for (int i = A_FROM; i < A_COLUMNS; i++)
		ncols += col[i] >= 0;
	has_history = ncols > 4;
	rc = db_prepare(db, "INSERT INTO agencies(code, name, level) VALUES (?1, ?2, ?3) "
			"ON CONFLICT(code) DO UPDATE SET name = excluded.name, level = excluded.level, "
			"parent_id = NULL", &st, e);
	if (!rc)
		rc = db_prepare(db, "UPDATE agencies SET valid_from = ?2, valid_to = ?3, successor_id = NULL "
				"WHERE code = ?1", &history, e);
	while (!rc && (rc = next_row(r, ncols, &rows, e)) == 1) {
		const char *v[A_COLUMNS];
		int32_t from = 0, to = 0;
		int has_from = 0, has_to = 0;

		for (int i = 0; i < A_COLUMNS; i++)
			v[i] = col[i] >= 0 ? csv_field(r, (size_t)col[i]) : "";
		rc = 0;
		if (!registry_code_ok(v[A_CODE]))
			rc = csv_row_fail(r, e, "code", "'%s' is not a code (1 to 32 of A-Z a-z 0-9 . _ -)", v[A_CODE]);
		else if (!*v[A_NAME])
			rc = csv_row_fail(r, e, "name", "empty");
		else if (strcmp(v[A_LEVEL], "province") && strcmp(v[A_LEVEL], "department") &&
			 strcmp(v[A_LEVEL], "district") && strcmp(v[A_LEVEL], "commune"))
			rc = csv_row_fail(r, e, "level", "'%s' is not province, department, district or commune",
					  v[A_LEVEL]);
		else if (*v[A_PARENT] && !registry_code_ok(v[A_PARENT]))
			rc = csv_row_fail(r, e, "parent", "'%s' is not a code", v[A_PARENT]);
		if (!rc)
			rc = date_field(r, "valid_from", v[A_FROM], &from, &has_from, e);
		if (!rc)
			rc = date_field(r, "valid_to", v[A_TO], &to, &has_to, e);
		if (!rc && has_from && has_to && to < from)
			rc = csv_row_fail(r, e, "valid_to", "%s is before valid_from", v[A_TO]);
		if (!rc && strpbrk(v[A_SUCCESSOR], ",; /|"))
			rc = csv_row_fail(r, e, "successor", "'%s' names several agencies: a split is not "
					  "supported (one successor only)", v[A_SUCCESSOR]);
		else if (!rc && *v[A_SUCCESSOR] && !registry_code_ok(v[A_SUCCESSOR]))
			rc = csv_row_fail(r, e, "successor", "'%s' is not a code", v[A_SUCCESSOR]);
		else if (!rc && *v[A_SUCCESSOR] && !has_to)
			rc = csv_row_fail(r, e, "successor", "an agency with a successor needs valid_to, its last day");
		if (rc)
			break;
		sqlite3_bind_text(st, 1, v[A_CODE], -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, v[A_NAME], -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 3, v[A_LEVEL], -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = db_fail(db, e, name);
		sqlite3_reset(st);
		if (!rc && has_history) {
			sqlite3_bind_text(history, 1, v[A_CODE], -1, SQLITE_TRANSIENT);
			if (has_from)
				sqlite3_bind_int(history, 2, from);
			else
				sqlite3_bind_null(history, 2);
			if (has_to)
				sqlite3_bind_int(history, 3, to);
			else
				sqlite3_bind_null(history, 3);
			if (sqlite3_step(history) != SQLITE_DONE)
				rc = db_fail(db, e, name);
			sqlite3_reset(history);
		}
		if (!rc && *v[A_PARENT])
			rc = add_link(&links, &n_links, &alloc, csv_line(r), "parent", 0, v[A_CODE], v[A_PARENT], e);
		if (!rc && *v[A_SUCCESSOR])
			rc = add_link(&links, &n_links, &alloc, csv_line(r), "successor", to, v[A_CODE],
				      v[A_SUCCESSOR], e);
	}
	if (!rc)
		rc = set_links(db, name, links, n_links, e);
	if (!rc)
		rc = check_successors(db, name, links, n_links, e);
	free(links);
	sqlite3_finalize(history);
	sqlite3_finalize(st);
	csv_reader_free(r);
	return rc;
}

static int load_targets(sqlite3 *db, FILE *fp, const char *name, struct err *e)
{
	static const char *const cols[] = { "scope", "code", "threshold", "from_period", NULL };
	static const int required[] = { 1, 1, 1, 1 };
	long col[4], rows = 0;
	struct csv_reader *r = NULL;
	sqlite3_stmt *st = NULL, *known = NULL;
	int rc;

	rc = open_table(fp, name, cols, required, col, &r, e);
	if (rc)
		return rc;
	rc = db_exec(db, "DELETE FROM targets", e);
	if (!rc)
		rc = db_prepare(db, "INSERT INTO targets(scope, code, threshold, from_quarter) "
				"VALUES (?1, ?2, ?3, ?4)", &st, e);
	if (!rc)
		rc = db_prepare(db, "SELECT 1 FROM agencies WHERE ?1 = 'agency' AND code = ?2 "
				"UNION ALL SELECT 1 FROM sectors WHERE ?1 = 'sector' AND code = ?2",
				&known, e);
	while (!rc && (rc = next_row(r, 4, &rows, e)) == 1) {
		const char *scope = csv_field(r, (size_t)col[0]), *code = csv_field(r, (size_t)col[1]);
		const char *thr = csv_field(r, (size_t)col[2]), *from = csv_field(r, (size_t)col[3]);
		int is_all = strcmp(scope, "all") == 0, quarter = 0;
		double threshold = 0;
		const char *hint = "";
		int bad_threshold = csv_parse_decimal(thr, csv_decimal_comma(r), &threshold, &hint) != 0 ||
				    !(threshold > 0 && threshold <= 1);

		rc = 0;
		if (!is_all && strcmp(scope, "sector") && strcmp(scope, "agency"))
			rc = csv_row_fail(r, e, "scope", "'%s' is not all, sector or agency", scope);
		else if (is_all && *code)
			rc = csv_row_fail(r, e, "code", "must be empty for scope all, not '%s'", code);
		else if (!is_all && !*code)
			rc = csv_row_fail(r, e, "code", "required for scope %s", scope);
		else if (bad_threshold)
			rc = csv_row_fail(r, e, "threshold", "'%s' is not a proportion in (0, 1]%s", thr, hint);
		else if (period_parse_quarter(from, &quarter, NULL))
			rc = csv_row_fail(r, e, "from_period", "'%s' is not a quarter (YYYYQn)", from);
		if (!rc && !is_all) {
			sqlite3_bind_text(known, 1, scope, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(known, 2, code, -1, SQLITE_TRANSIENT);
			if (sqlite3_step(known) != SQLITE_ROW)
				rc = csv_row_fail(r, e, "code", "unknown code '%s'", code);
			sqlite3_reset(known);
		}
		if (rc)
			break;
		sqlite3_bind_text(st, 1, scope, -1, SQLITE_TRANSIENT);
		if (is_all)
			sqlite3_bind_null(st, 2);
		else
			sqlite3_bind_text(st, 2, code, -1, SQLITE_TRANSIENT);
		sqlite3_bind_double(st, 3, threshold);
		sqlite3_bind_int(st, 4, quarter);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = db_fail(db, e, name);
		sqlite3_reset(st);
	}
	if (!rc) {
		long long dups;

		rc = db_query_int(db, "SELECT count(*) FROM (SELECT 1 FROM targets "
				  "GROUP BY scope, code, from_quarter HAVING count(*) > 1)", &dups, e);
		if (!rc && dups)
			rc = err_set(e, ERR_INVALID, "%s: a scope and code has two targets for the same period",
				     name);
	}
	sqlite3_finalize(known);
	sqlite3_finalize(st);
	csv_reader_free(r);
	return rc;
}

int registry_load(sqlite3 *db, FILE *agencies, const char *agencies_name, FILE *sectors,
		  const char *sectors_name, FILE *targets, const char *targets_name, struct err *e)
{
	int rc = load_agencies(db, agencies, agencies_name, e);

	if (!rc)
		rc = load_sectors(db, sectors, sectors_name, e);
	if (!rc)
		rc = load_targets(db, targets, targets_name, e);
	return rc;
}

int registry_load_dir(sqlite3 *db, const char *dir, struct err *e)
{
	static const char *const files[3] = { "agencies.csv", "sectors.csv", "targets.csv" };
	struct strbuf path[3];
	FILE *fp[3] = { NULL, NULL, NULL };
	int rc = 0;

	for (int i = 0; i < 3; i++) {
		strbuf_init(&path[i], 4096);
		strbuf_addf(&path[i], "%s/%s", dir, files[i]);
	}
	for (int i = 0; i < 3 && !rc; i++) {
		if (path[i].failed) {
			rc = err_set(e, ERR_INVALID, "%s: path too long", dir);
			break;
		}
		fp[i] = fopen(strbuf_str(&path[i]), "rb");
		if (!fp[i])
			rc = err_set(e, ERR_IO, "%s: cannot open: %s", strbuf_str(&path[i]), strerror(errno));
	}
	if (!rc)
		rc = registry_load(db, fp[0], strbuf_str(&path[0]), fp[1], strbuf_str(&path[1]),
				   fp[2], strbuf_str(&path[2]), e);
	for (int i = 0; i < 3; i++) {
		if (fp[i])
			fclose(fp[i]);
		strbuf_release(&path[i]);
	}
	return rc;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct registry_entry *)a)->code,
		      ((const struct registry_entry *)b)->code);
}

static int read_entries(sqlite3 *db, const char *sql, struct registry_entry **out, size_t *n,
			struct err *e)
{
	sqlite3_stmt *st = NULL;
	struct registry_entry *v = NULL;
	size_t alloc = 0, count = 0;
	int rc = db_prepare(db, sql, &st, e), step;

	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
		struct registry_entry *en;

		if (ARRAY_RESERVE(v, alloc, count) < 0) {
			rc = err_set(e, ERR_NOMEM, "out of memory");
			break;
		}
		en = &v[count++];
		en->id = sqlite3_column_int64(st, 0);
		en->code = strdup((const char *)sqlite3_column_text(st, 1));
		en->name = strdup((const char *)sqlite3_column_text(st, 2));
		en->level = strdup((const char *)sqlite3_column_text(st, 3));
		en->parent_id = sqlite3_column_int64(st, 4);
		en->valid_from = sqlite3_column_type(st, 5) == SQLITE_NULL ? REGISTRY_ALWAYS_FROM
			       : sqlite3_column_int(st, 5);
		en->valid_to = sqlite3_column_type(st, 6) == SQLITE_NULL ? REGISTRY_STILL_VALID
			     : sqlite3_column_int(st, 6);
		en->successor_id = sqlite3_column_int64(st, 7);
		en->successor = sqlite3_column_type(st, 8) == SQLITE_NULL ? NULL
			      : strdup((const char *)sqlite3_column_text(st, 8));
		if (!en->code || !en->name || !en->level || (sqlite3_column_type(st, 8) != SQLITE_NULL && !en->successor))
			rc = err_set(e, ERR_NOMEM, "out of memory");
	}
	if (!rc && step != SQLITE_DONE)
		rc = db_fail(db, e, "reading the registry");
	sqlite3_finalize(st);
	if (v)
		qsort(v, count, sizeof(*v), cmp_entry);
	*out = v;
	*n = count;
	return rc;
}

int registry_read(sqlite3 *db, struct registry **out, struct err *e)
{
	struct registry *reg = calloc(1, sizeof(*reg));
	sqlite3_stmt *st = NULL;
	size_t alloc = 0;
	int rc, step = SQLITE_DONE;

	if (!reg)
		return err_set(e, ERR_NOMEM, "out of memory");
	rc = read_entries(db, "SELECT a.id, a.code, a.name, a.level, coalesce(a.parent_id, 0), a.valid_from, "
			  "a.valid_to, coalesce(a.successor_id, 0), s.code FROM agencies a "
			  "LEFT JOIN agencies s ON s.id = a.successor_id", &reg->agencies, &reg->n_agencies, e);
	if (!rc)
		rc = read_entries(db, "SELECT id, code, name, '', 0, NULL, NULL, 0, NULL FROM sectors", &reg->sectors,
				  &reg->n_sectors, e);
	if (!rc)
		rc = db_prepare(db, "SELECT t.scope, coalesce(a.id, s.id, 0), t.threshold, t.from_quarter "
				"FROM targets t LEFT JOIN agencies a ON t.scope = 'agency' AND a.code = t.code "
				"LEFT JOIN sectors s ON t.scope = 'sector' AND s.code = t.code "
				"ORDER BY t.from_quarter", &st, e);
	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
		struct registry_target *t;
		const char *scope = (const char *)sqlite3_column_text(st, 0);

		if (ARRAY_RESERVE(reg->targets, alloc, reg->n_targets) < 0) {
			rc = err_set(e, ERR_NOMEM, "out of memory");
			break;
		}
		t = &reg->targets[reg->n_targets++];
		t->scope = strcmp(scope, "all") == 0 ? SCOPE_ALL
			 : strcmp(scope, "sector") == 0 ? SCOPE_SECTOR : SCOPE_AGENCY;
		t->ref_id = sqlite3_column_int64(st, 1);
		t->threshold = sqlite3_column_double(st, 2);
		t->from_quarter = sqlite3_column_int(st, 3);
	}
	if (!rc && step != SQLITE_DONE)
		rc = db_fail(db, e, "reading targets");
	sqlite3_finalize(st);
	if (rc) {
		registry_free(reg);
		return rc;
	}
	*out = reg;
	return 0;
}

static const struct registry_entry *find_code(const struct registry_entry *v, size_t n,
					      const char *code)
{
	struct registry_entry key = { .code = (char *)code };

	return n ? bsearch(&key, v, n, sizeof(*v), cmp_entry) : NULL;
}

static const struct registry_entry *find_id(const struct registry_entry *v, size_t n, long long id)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].id == id)
			return &v[i];
	return NULL;
}

const struct registry_entry *registry_agency(const struct registry *reg, const char *code)
{
	return find_code(reg->agencies, reg->n_agencies, code);
}

const struct registry_entry *registry_sector(const struct registry *reg, const char *code)
{
	return find_code(reg->sectors, reg->n_sectors, code);
}

const struct registry_entry *registry_agency_by_id(const struct registry *reg, long long id)
{
	return find_id(reg->agencies, reg->n_agencies, id);
}

const struct registry_entry *registry_sector_by_id(const struct registry *reg, long long id)
{
	return find_id(reg->sectors, reg->n_sectors, id);
}

int registry_check_valid(const struct registry_entry *a, int32_t day, struct err *e)
{
	char when[16];

	if (day < a->valid_from) {
		period_format_day(a->valid_from, when);
		return err_set_field(e, ERR_INVALID, "agency", "%s begins on %s", a->code, when);
	}
	if (day <= a->valid_to)
		return 0;
	period_format_day(a->valid_to, when);
	if (!a->successor)
		return err_set_field(e, ERR_INVALID, "agency", "%s ended on %s and has no successor", a->code, when);
	return err_set_field(e, ERR_INVALID, "agency", "%s ended on %s: its successor is %s", a->code, when,
			     a->successor);
}

const struct registry_entry *registry_agency_at(const struct registry *reg, long long id, int32_t day)
{
	const struct registry_entry *a = registry_agency_by_id(reg, id);

	/* the loader refuses cycles, and each successor outlives the one
	 * before it; n steps bound the walk all the same */
	for (size_t steps = 0; a && a->valid_to < day && a->successor_id && steps < reg->n_agencies; steps++) {
		const struct registry_entry *next = registry_agency_by_id(reg, a->successor_id);

		if (!next)
			break;
		a = next;
	}
	return a;
}

static void free_entries(struct registry_entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].code);
		free(v[i].name);
		free(v[i].level);
		free(v[i].successor);
	}
	free(v);
}

void registry_free(struct registry *reg)
{
	if (!reg)
		return;
	free_entries(reg->agencies, reg->n_agencies);
	free_entries(reg->sectors, reg->n_sectors);
	free(reg->targets);
	free(reg);
}
