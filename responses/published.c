/*
 * published.c - what is published (see published.h): the published days,
 * the stored figures and report files, the publications log; storing and
 * withdrawing a publication.  Every statement on those tables is here.
 */
#include "published.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../db/db.h"
#include "../forms/form.h"

/* A published form and period, as days. */
struct published_period {
	char form[FORM_MAX_ID + 1];
	struct period period;
};

struct published_days {
	size_t n;
	struct published_period period[];
};

int published_days_read(sqlite3 *db, struct published_days **out, struct err *e)
{
	struct published_days *p = NULL;
	sqlite3_stmt *st = NULL;
	long long n;
	int rc = db_query_int(db, "SELECT count(*) FROM published", &n, e), step = SQLITE_DONE;

	/* a period published between the two reads waits for the next snapshot */
	if (!rc)
		rc = db_prepare(db, "SELECT f.code, p.period FROM published p JOIN forms f ON f.id = p.form_id",
				&st, e);
	if (rc)
		goto out;
	p = calloc(1, sizeof(*p) + (size_t)n * sizeof(p->period[0]));
	if (!p) {
		rc = err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	while ((step = sqlite3_step(st)) == SQLITE_ROW && p->n < (size_t)n) {
		struct published_period *pp = &p->period[p->n];
		struct period per;

		/* labels were parsed when published; one that no longer parses holds no day */
		if (period_parse((const char *)sqlite3_column_text(st, 1), &per, NULL) != 0)
			continue;
		snprintf(pp->form, sizeof(pp->form), "%s", (const char *)sqlite3_column_text(st, 0));
		pp->period = per;
		p->n++;
	}
	if (step != SQLITE_DONE && step != SQLITE_ROW)
		rc = db_fail(db, e, "reading the published periods");
out:
	sqlite3_finalize(st);
	if (rc) {
		free(p);
		return rc;
	}
	*out = p;
	return 0;
}

const struct period *published_days_period(const struct published_days *p, const char *form_code,
					     int32_t day)
{
	for (size_t i = 0; i < p->n; i++)
		if (day >= p->period[i].period.first_day && day <= p->period[i].period.last_day &&
		    strcmp(p->period[i].form, form_code) == 0)
			return &p->period[i].period;
	return NULL;
}

int published_days_has(const struct published_days *p, const char *form_code, int32_t day)
{
	return published_days_period(p, form_code, day) != NULL;
}

void published_days_free(struct published_days *p)
{
	free(p);
}

int published_stamp(sqlite3 *db, sqlite3_stmt **kept, const char *form, const char *period_label,
			struct published_stamp *stamp, struct err *e)
{
	sqlite3_stmt *own = NULL, **st = kept ? kept : &own;
	int rc = 0;

	if (!*st)
		rc = db_prepare(db, "SELECT (SELECT max(l.id) FROM publications l WHERE l.form_id = p.form_id "
				"AND l.period = p.period), p.published_at FROM published p "
				"JOIN forms f ON f.id = p.form_id WHERE f.code = ?1 AND p.period = ?2", st, e);
	if (rc)
		return rc;
	sqlite3_bind_text(*st, 1, form, -1, SQLITE_STATIC);
	sqlite3_bind_text(*st, 2, period_label, -1, SQLITE_STATIC);
	switch (sqlite3_step(*st)) {
	case SQLITE_ROW:
		stamp->serial = sqlite3_column_int64(*st, 0);   /* 0: published before the log */
		stamp->published_at = sqlite3_column_int64(*st, 1);
		break;
	case SQLITE_DONE:
		rc = err_set_field(e, ERR_NOT_FOUND, "period", "this period is not published");
		break;
	default:
		rc = db_fail(db, e, "reading what is published");
	}
	sqlite3_reset(*st);
	sqlite3_clear_bindings(*st);
	sqlite3_finalize(own);
	return rc;
}

int published_scores(sqlite3 *db, const char *form, const char *period_label, const char *grouping,
		     char **text, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = db_prepare(db, "SELECT s.json FROM published_scores s JOIN forms f ON f.id = s.form_id "
			    "WHERE f.code = ?1 AND s.period = ?2 AND s.grouping = ?3", &st, e);

	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, form, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, period_label, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, grouping, -1, SQLITE_STATIC);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		*text = strdup(sqlite3_column_text(st, 0) ? (const char *)sqlite3_column_text(st, 0) : "");
		if (!*text)
			rc = err_set(e, ERR_NOMEM, "out of memory");
		break;
	case SQLITE_DONE:
		rc = err_set_field(e, ERR_NOT_FOUND, "period", "this period is not published");
		break;
	default:
		rc = db_fail(db, e, "reading the published scores");
	}
	sqlite3_finalize(st);
	return rc;
}

/* sql on one file of a quarter's report: ?1 the quarter, ?2 the file. */
static int prepare_file(sqlite3 *db, const char *sql, const char *period_label, const char *name,
			sqlite3_stmt **st, struct err *e)
{
	int rc = db_prepare(db, sql, st, e);

	if (!rc) {
		sqlite3_bind_text(*st, 1, period_label, -1, SQLITE_STATIC);
		sqlite3_bind_text(*st, 2, name, -1, SQLITE_STATIC);
	}
	return rc;
}

int published_file(sqlite3 *db, const char *period_label, const char *name, char **data,
		       size_t *size, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = prepare_file(db, "SELECT content FROM published_files WHERE period = ?1 AND name = ?2",
			      period_label, name, &st, e);

	if (rc)
		return rc;
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = err_set(e, ERR_NOT_FOUND, "not published");
	} else {
		*size = (size_t)sqlite3_column_bytes(st, 0);
		*data = malloc(*size ? *size : 1);
		if (!*data)
			rc = err_set(e, ERR_NOMEM, "out of memory");
		else if (*size)
			memcpy(*data, sqlite3_column_blob(st, 0), *size);
	}
	sqlite3_finalize(st);
	return rc;
}

int published_has_report(sqlite3 *db, const char *period_label, int *has, struct err *e)
{
	return db_query_exists(db, "SELECT 1 FROM published_files WHERE period = ?1",
			       (const char *const[]){ period_label }, 1, has, e);
}

int published_reports(sqlite3 *db, int (*fn)(const char *period_label, void *arg), void *arg,
			  struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = db_prepare(db, "SELECT DISTINCT period FROM published_files ORDER BY period DESC", &st, e);

	while (!rc && sqlite3_step(st) == SQLITE_ROW)
		if (fn((const char *)sqlite3_column_text(st, 0), arg))
			break;
	sqlite3_finalize(st);
	return rc;
}

/* Add to the publications log one row per published form of the period
 * (`form` NULL: every form) with `action`, who did it and the audit log's
 * head: run after publishing and before withdrawing, inside their
 * transaction. */
static int log_publications(sqlite3 *db, const char *period_label, const char *form, const char *action,
			    const char *actor, const char *audit_head, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = db_prepare(db, "INSERT INTO publications(form_id, period, action, at, actor, audit_head) "
			    "SELECT form_id, period, ?3, CAST(strftime('%s', 'now') AS INTEGER), ?4, ?5 FROM published "
			    "WHERE period = ?1 AND (?2 IS NULL OR form_id = (SELECT id FROM forms WHERE code = ?2))",
			    &st, e);

	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, period_label, -1, SQLITE_STATIC);
	if (form)
		sqlite3_bind_text(st, 2, form, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, action, -1, SQLITE_STATIC);
	if (actor)
		sqlite3_bind_text(st, 4, actor, -1, SQLITE_STATIC);
	if (audit_head)
		sqlite3_bind_text(st, 5, audit_head, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db, e, "logging the publication");
	sqlite3_finalize(st);
	return rc;
}

int published_add(sqlite3 *db, const char *form, const char *period_label, int64_t published_at, int early,
		  const char *json_default, const char *json_pair, const char *actor, const char *audit_head,
		  struct err *e)
{
	const char *const grouping[] = { PUBLISHED_GROUPING_DEFAULT, PUBLISHED_GROUPING_PAIR };
	const char *const json[] = { json_default, json_pair };
	sqlite3_stmt *pub = NULL, *scores = NULL;
	int rc = db_prepare(db, "INSERT INTO published(form_id, period, published_at, early) "
			    "SELECT id, ?2, ?3, ?4 FROM forms WHERE code = ?1", &pub, e);

	if (!rc)
		rc = db_prepare(db, "INSERT INTO published_scores(form_id, period, grouping, json) "
				"SELECT id, ?2, ?3, ?4 FROM forms WHERE code = ?1", &scores, e);
	if (!rc) {
		sqlite3_bind_text(pub, 1, form, -1, SQLITE_STATIC);
		sqlite3_bind_text(pub, 2, period_label, -1, SQLITE_STATIC);
		sqlite3_bind_int64(pub, 3, published_at);
		sqlite3_bind_int(pub, 4, early);
		if (sqlite3_step(pub) != SQLITE_DONE)
			rc = sqlite3_extended_errcode(db) == SQLITE_CONSTRAINT_PRIMARYKEY
				? err_set(e, ERR_CONFLICT, "%s %s is already published: take it down first "
					  "(sipas publish --withdraw --period %s --form %s)", form, period_label,
					  period_label, form)
				: db_fail(db, e, "publishing");
	}
	if (!rc)
		rc = log_publications(db, period_label, form, "publish", actor, audit_head, e);
	for (size_t g = 0; !rc && g < sizeof(grouping) / sizeof(grouping[0]); g++) {
		sqlite3_bind_text(scores, 1, form, -1, SQLITE_STATIC);
		sqlite3_bind_text(scores, 2, period_label, -1, SQLITE_STATIC);
		sqlite3_bind_text(scores, 3, grouping[g], -1, SQLITE_STATIC);
		sqlite3_bind_text(scores, 4, json[g], -1, SQLITE_STATIC);
		if (sqlite3_step(scores) != SQLITE_DONE)
			rc = db_fail(db, e, "storing published scores");
		sqlite3_reset(scores);
	}
	sqlite3_finalize(pub);
	sqlite3_finalize(scores);
	return rc;
}

int published_add_file(sqlite3 *db, const char *period_label, const char *name, const void *data,
		       size_t size, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = prepare_file(db, "INSERT INTO published_files(period, name, content) VALUES (?1, ?2, ?3)",
			      period_label, name, &st, e);

	if (rc)
		return rc;
	sqlite3_bind_blob64(st, 3, data, size, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db, e, "storing the published report");
	sqlite3_finalize(st);
	return rc;
}

int published_withdraw(sqlite3 *db, const char *period_label, const char *form, int with_report,
		       const char *actor, const char *audit_head, int *withdrawn, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = log_publications(db, period_label, form, "withdraw", actor, audit_head, e);

	if (!rc)
		rc = db_prepare(db, "DELETE FROM published WHERE period = ?1 AND "
				"(?2 IS NULL OR form_id = (SELECT id FROM forms WHERE code = ?2))", &st, e);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, period_label, -1, SQLITE_STATIC);
	if (form)
		sqlite3_bind_text(st, 2, form, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db, e, "withdrawing");
	else if ((*withdrawn = sqlite3_changes(db)) == 0)
		rc = err_set(e, ERR_NOT_FOUND, "%s%s%s is not published", period_label, form ? " of " : "",
			     form ? form : "");
	sqlite3_finalize(st);
	st = NULL;
	if (!rc && with_report)
		rc = db_prepare(db, "DELETE FROM published_files WHERE period = ?1", &st, e);
	if (st) {
		sqlite3_bind_text(st, 1, period_label, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = db_fail(db, e, "withdrawing the report");
		sqlite3_finalize(st);
	}
	return rc;
}
