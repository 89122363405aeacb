/*
 * rep_stored.c - reading what publishing stored (see rep_stored.h): a
 * published period's score JSON, its report's files, and the list of
 * published quarters.  Nothing here computes a score.
 */
#include "rep_stored.h"

#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "rep_export.h"
#include "../db/db.h"

int rep_published_file(sqlite3 *db, const char *period_label, const char *name, char **data,
		       size_t *size, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = db_prepare(db, "SELECT content FROM published_files WHERE period = ?1 AND name = ?2",
			    &st, e);

	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, period_label, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
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

int rep_published_reports(sqlite3 *db, int (*fn)(const char *period_label, void *arg), void *arg,
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

/* Keep the whole-period group and the groups of one kind (the other key
 * null) of a default-grouping document. */
static void keep_groups(json_t *doc, const char *null_key)
{
	json_t *groups = json_object_get(doc, "groups");

	for (size_t i = json_array_size(groups); i-- > 1;)
		if (!json_is_null(json_object_get(json_array_get(groups, i), null_key)))
			json_array_remove(groups, i);
}

int rep_published_stamp(sqlite3 *db, sqlite3_stmt **kept, const char *form, const char *period_label,
			struct rep_stamp *stamp, struct err *e)
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

int rep_published_scores(sqlite3 *db, const char *form, const char *period_label, int by, char **text,
			 struct err *e)
{
	int pair = (by & SCORE_BY_AGENCY_SECTOR) != 0;
	const char *null_key = pair ? NULL : by == SCORE_BY_AGENCY ? "sector" : by == SCORE_BY_SECTOR ? "agency" : NULL;
	sqlite3_stmt *st = NULL;
	const char *stored;
	json_t *doc;
	int rc = db_prepare(db, "SELECT s.json FROM published_scores s JOIN forms f ON f.id = s.form_id "
			    "WHERE f.code = ?1 AND s.period = ?2 AND s.grouping = ?3", &st, e);

	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, form, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, period_label, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, pair ? REP_GROUPING_PAIR : REP_GROUPING_DEFAULT, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = err_set_field(e, ERR_NOT_FOUND, "period", "this period is not published");
		goto out;
	}
	stored = (const char *)sqlite3_column_text(st, 0);
	/* written again even when whole, so periods published before numbers
	 * were written shortest read as the newer ones do */
	doc = json_loads(stored ? stored : "", 0, NULL);
	if (!doc) {
		rc = err_set(e, ERR_INTERNAL, "stored scores of %s %s are not JSON", form, period_label);
		goto out;
	}
	if (null_key)
		keep_groups(doc, null_key);
	*text = rep_json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	if (!*text)
		rc = err_set(e, ERR_NOMEM, "out of memory");
out:
	sqlite3_finalize(st);
	return rc;
}

/* An estimate of a stored score JSON document back into its struct. */
static void estimate_from_json(json_t *o, struct score_estimate *est)
{
	json_t *v = json_object_get(o, "est"), *se = json_object_get(o, "se");
	json_t *lo = json_object_get(o, "lo"), *hi = json_object_get(o, "hi");
	const char *ci = json_string_value(json_object_get(o, "ci"));

	memset(est, 0, sizeof(*est));
	est->defined = json_is_number(v);
	est->est = json_number_value(v);
	est->has_se = json_is_number(se);
	est->se = json_number_value(se);
	est->has_bounds = json_is_number(lo) && json_is_number(hi);
	est->lo = json_number_value(lo);
	est->hi = json_number_value(hi);
	for (int k = SCORE_CI_NONE; ci && k <= SCORE_CI_CLOPPER_PEARSON; k++)
		if (strcmp(ci, score_ci_name(k)) == 0)
			est->ci = k;
	est->n = (long)json_integer_value(json_object_get(o, "n"));
}

int rep_published_whole(sqlite3 *db, const struct form *form, const struct period *period,
			struct score_result **out, struct err *e)
{
	struct score_result *res = NULL;
	json_t *doc = NULL, *all;
	char *text = NULL;
	int rc = rep_published_scores(db, form->id, period->label, 0, &text, e);

	if (rc)
		return rc;
	doc = json_loads(text, 0, NULL);
	all = json_array_get(json_object_get(doc, "groups"), 0);
	res = calloc(1, sizeof(*res));
	if (!doc || !all || !res) {
		rc = err_set(e, doc ? ERR_NOMEM : ERR_INTERNAL, "the stored scores of %s %s cannot be read",
			     form->id, period->label);
		goto out;
	}
	res->form = form;
	res->period = *period;
	{
		const char *weights = json_string_value(json_object_get(doc, "weights"));

		res->raked = weights && strcmp(weights, "raked") == 0;
	}
	res->groups = calloc(1, sizeof(*res->groups));
	if (res->groups) {
		res->n_groups = 1;
		res->groups[0].items = calloc(form->n_items, sizeof(*res->groups[0].items));
		res->groups[0].elements = calloc(form->n_elements ? form->n_elements : 1,
						 sizeof(*res->groups[0].elements));
	}
	if (!res->groups || !res->groups[0].items || !res->groups[0].elements) {
		rc = err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	{
		struct score_group *g = &res->groups[0];

		g->n = (long)json_integer_value(json_object_get(all, "n"));
		g->n_eff = json_number_value(json_object_get(all, "n_eff"));
		g->df = (long)json_integer_value(json_object_get(all, "df"));
		estimate_from_json(json_object_get(all, "index"), &g->index);
		for (size_t i = 0; i < form->n_elements; i++)
			estimate_from_json(json_object_get(json_object_get(all, "elements"), form->elements[i].id),
					   &g->elements[i]);
		for (size_t k = 0; k < form->n_items; k++)
			estimate_from_json(k == form->overall ? json_object_get(all, "overall")
					   : json_object_get(json_object_get(all, "criteria"), form->items[k].id),
					   &g->items[k]);
		res->rows = g->n;
	}
out:
	json_decref(doc);
	free(text);
	if (rc) {
		score_result_free(res);
		return rc;
	}
	*out = res;
	return 0;
}
