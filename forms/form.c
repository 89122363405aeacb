/*
 * form.c - form JSON validation (see form.h).  Validation is strict: unknown
 * keys, wrong types and every inconsistency are refused with the JSON path of
 * the problem, because a form defines what every later answer means.
 */
#include "form.h"

#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_MAX_LEN 256

/* Names a CSV import uses for its own columns: no question may take them. */
static const char *const reserved_ids[] = {
	"response_id", "submitted_at", "agency", "sector", "channel", "dossier_code",
	"stratum", "psu", "weight", "comment", "index", NULL
};

/* A JSON path below `parent` (ids are at most 64 bytes and forms at most
 * three levels deep, so PATH_MAX_LEN always fits). */
static void subpath(char *out, const char *parent, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void subpath(char *out, const char *parent, const char *fmt, ...)
{
	size_t n = strlen(parent);
	va_list ap;

	assert(n < PATH_MAX_LEN / 2);
	memcpy(out, parent, n);
	va_start(ap, fmt);
	vsnprintf(out + n, PATH_MAX_LEN - n, fmt, ap);
	va_end(ap);
}

struct validator {
	struct form *f;
	struct err *e;
	json_t *seen;   /* id -> path where it was first defined */
};

static int bad(struct validator *v, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int bad(struct validator *v, const char *path, const char *fmt, ...)
{
	char why[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return err_set(v->e, ERR_INVALID, "%s: %s", path, why);
}

/* Refuse keys of `obj` outside the NULL-terminated `allowed` list. */
static int check_keys(struct validator *v, json_t *obj, const char *path,
		      const char *const *allowed)
{
	const char *key;
	json_t *val;

	json_object_foreach(obj, key, val) {
		int ok = 0;

		for (size_t i = 0; allowed[i]; i++)
			if (strcmp(key, allowed[i]) == 0)
				ok = 1;
		if (!ok)
			return bad(v, path, "unknown key '%s'", key);
	}
	return 0;
}

static json_t *need(struct validator *v, json_t *obj, const char *path, const char *key,
		    json_type type, const char *type_name)
{
	json_t *val = json_object_get(obj, key);

	if (!val) {
		bad(v, path, "missing '%s'", key);
		return NULL;
	}
	if (json_typeof(val) != type && !(type == JSON_REAL && json_is_integer(val))) {
		bad(v, path, "'%s' must be %s", key, type_name);
		return NULL;
	}
	return val;
}

/* An id: 1..64 bytes of [A-Za-z0-9._-], unique across the form and not reserved. */
static int check_id(struct validator *v, json_t *obj, const char *path, const char **out)
{
	json_t *id = need(v, obj, path, "id", JSON_STRING, "a string");
	const char *s;
	char idpath[PATH_MAX_LEN];
	json_t *first;

	if (!id)
		return ERR_INVALID;
	s = json_string_value(id);
	subpath(idpath, path, ".id");
	if (json_string_length(id) == 0 || json_string_length(id) > FORM_MAX_ID)
		return bad(v, idpath, "must be 1 to %d characters", FORM_MAX_ID);
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-'))
			return bad(v, idpath, "'%s' may only hold letters, digits, '.', '_' and '-'", s);
	for (size_t i = 0; reserved_ids[i]; i++)
		if (strcmp(s, reserved_ids[i]) == 0)
			return bad(v, idpath, "'%s' is reserved for a response field", s);
	first = json_object_get(v->seen, s);
	if (first)
		return bad(v, idpath, "duplicate id '%s' (first at %s)", s, json_string_value(first));
	json_object_set_new(v->seen, s, json_string(idpath));
	*out = s;
	return 0;
}

/* A text in several languages: {"vi": "...", "en": "..."}; vi required. */
static int check_texts(struct validator *v, json_t *obj, const char *path, const char *key,
		       int required)
{
	json_t *t = json_object_get(obj, key);
	const char *lang;
	json_t *val;
	char p[PATH_MAX_LEN];

	subpath(p, path, ".%s", key);
	if (!t)
		return required ? bad(v, path, "missing '%s'", key) : 0;
	if (!json_is_object(t))
		return bad(v, p, "must be an object of texts by language");
	if (!json_is_string(json_object_get(t, "vi")))
		return bad(v, p, "missing the Vietnamese text 'vi'");
	json_object_foreach(t, lang, val) {
		if (strlen(lang) != 2)
			return bad(v, p, "'%s' is not a two-letter language code", lang);
		if (!json_is_string(val) || json_string_length(val) == 0)
			return bad(v, p, "'%s' must be a non-empty string", lang);
	}
	return 0;
}

/* Label lists by language, each of exactly `count` non-empty strings. */
static int check_labels(struct validator *v, json_t *labels, const char *path, size_t count)
{
	const char *lang;
	json_t *list, *s;
	size_t i;

	if (!json_is_object(labels))
		return bad(v, path, "must be an object of label lists by language");
	if (!json_object_get(labels, "vi"))
		return bad(v, path, "missing the Vietnamese labels 'vi'");
	json_object_foreach(labels, lang, list) {
		if (!json_is_array(list) || json_array_size(list) != count)
			return bad(v, path, "'%s' must be a list of %zu labels", lang, count);
		json_array_foreach(list, i, s)
			if (!json_is_string(s) || json_string_length(s) == 0)
				return bad(v, path, "'%s'[%zu] must be a non-empty string", lang, i);
	}
	return 0;
}

static int check_scale(struct validator *v, json_t *root)
{
	static const char *const keys[] = { "min", "max", "satisfied", "labels", NULL };
	json_t *scale = need(v, root, "$", "scale", JSON_OBJECT, "an object");
	json_t *min, *max, *sat, *labels, *x;
	struct form *f = v->f;
	size_t i;

	if (!scale || check_keys(v, scale, "$.scale", keys))
		return ERR_INVALID;
	min = need(v, scale, "$.scale", "min", JSON_INTEGER, "an integer");
	max = min ? need(v, scale, "$.scale", "max", JSON_INTEGER, "an integer") : NULL;
	if (!max)
		return ERR_INVALID;
	if (json_integer_value(min) < 0 || json_integer_value(max) > 100)
		return bad(v, "$.scale", "points must lie within 0..100");
	if (json_integer_value(max) <= json_integer_value(min))
		return bad(v, "$.scale", "max must be greater than min");
	if (json_integer_value(max) - json_integer_value(min) + 1 > FORM_MAX_SCALE)
		return bad(v, "$.scale", "at most %d points", FORM_MAX_SCALE);
	f->scale_min = (int)json_integer_value(min);
	f->scale_max = (int)json_integer_value(max);
	sat = need(v, scale, "$.scale", "satisfied", JSON_ARRAY, "an array");
	if (!sat)
		return ERR_INVALID;
	if (json_array_size(sat) == 0)
		return bad(v, "$.scale.satisfied", "must name at least one value");
	json_array_foreach(sat, i, x) {
		char p[64];
		json_int_t val;
		uint32_t bit;

		snprintf(p, sizeof(p), "$.scale.satisfied[%zu]", i);
		if (!json_is_integer(x))
			return bad(v, p, "must be an integer");
		val = json_integer_value(x);
		if (val < f->scale_min || val > f->scale_max)
			return bad(v, p, "%lld is off the scale %d..%d", (long long)val,
				   f->scale_min, f->scale_max);
		bit = 1u << (val - f->scale_min);
		if (f->satisfied_mask & bit)
			return bad(v, p, "%lld is listed twice", (long long)val);
		f->satisfied_mask |= bit;
	}
	if (f->satisfied_mask == (1u << (f->scale_max - f->scale_min + 1)) - 1)
		return bad(v, "$.scale.satisfied", "cannot hold every point of the scale");
	labels = json_object_get(scale, "labels");
	if (!labels)
		return bad(v, "$.scale", "missing 'labels' (one per point, in Vietnamese at least)");
	return check_labels(v, labels, "$.scale.labels",
			    (size_t)(f->scale_max - f->scale_min + 1));
}

static int add_item(struct validator *v, const char *id, int element)
{
	struct form *f = v->f;

	if (f->n_items == FORM_MAX_ITEMS)
		return bad(v, "$", "more than %d questions", FORM_MAX_ITEMS);
	f->items[f->n_items].id = id;
	f->items[f->n_items].element = element;
	f->n_items++;
	return 0;
}

static int check_question(struct validator *v, json_t *q, const char *path, int element)
{
	static const char *const keys[] = { "id", "text", NULL };
	const char *id;

	if (!json_is_object(q))
		return bad(v, path, "must be an object");
	if (check_keys(v, q, path, keys) || check_id(v, q, path, &id) ||
	    check_texts(v, q, path, "text", 1))
		return ERR_INVALID;
	return add_item(v, id, element);
}

static int check_elements(struct validator *v, json_t *root)
{
	static const char *const keys[] = { "id", "weight", "title", "criteria", NULL };
	json_t *elements = json_object_get(root, "elements"), *el, *crit, *c;
	struct form *f = v->f;
	size_t i, j;

	if (!elements)
		return 0;
	if (!json_is_array(elements))
		return bad(v, "$.elements", "must be an array");
	f->elements = calloc(json_array_size(elements) + 1, sizeof(*f->elements));
	if (!f->elements)
		return err_set(v->e, ERR_NOMEM, "out of memory");
	json_array_foreach(elements, i, el) {
		char path[PATH_MAX_LEN], cpath[PATH_MAX_LEN];
		struct form_element *fe = &f->elements[i];
		json_t *w;

		snprintf(path, sizeof(path), "$.elements[%zu]", i);
		if (!json_is_object(el))
			return bad(v, path, "must be an object");
		if (check_keys(v, el, path, keys) || check_id(v, el, path, &fe->id) ||
		    check_texts(v, el, path, "title", 1))
			return ERR_INVALID;
		fe->weight = 1;
		w = json_object_get(el, "weight");
		if (w) {
			if (!json_is_number(w))
				return bad(v, path, "'weight' must be a number");
			fe->weight = json_number_value(w);
			if (!(fe->weight > 0) || !isfinite(fe->weight))
				return bad(v, path, "'weight' must be greater than 0");
		}
		crit = json_object_get(el, "criteria");
		if (!json_is_array(crit))
			return bad(v, path, "'criteria' must be an array");
		if (json_array_size(crit) == 0)
			return bad(v, path, "element '%s' has no criteria", fe->id);
		fe->first = f->n_items;
		json_array_foreach(crit, j, c) {
			subpath(cpath, path, ".criteria[%zu]", j);
			if (check_question(v, c, cpath, (int)i))
				return ERR_INVALID;
		}
		fe->count = f->n_items - fe->first;
		f->n_elements++;
	}
	return 0;
}

static int check_values(struct validator *v, json_t *q, const char *path, struct form_choice *c)
{
	json_t *values = json_object_get(q, "values"), *x, *labels;
	size_t i;

	if (!json_is_array(values) || json_array_size(values) == 0)
		return bad(v, path, "'values' must be a non-empty array");
	if (json_array_size(values) > FORM_MAX_VALUES)
		return bad(v, path, "at most %d values", FORM_MAX_VALUES);
	c->values = calloc(json_array_size(values), sizeof(*c->values));
	if (!c->values)
		return err_set(v->e, ERR_NOMEM, "out of memory");
	json_array_foreach(values, i, x) {
		if (!json_is_string(x) || json_string_length(x) == 0 ||
		    json_string_length(x) > FORM_MAX_ID)
			return bad(v, path, "values[%zu] must be a string of 1 to %d characters", i,
				   FORM_MAX_ID);
		for (size_t k = 0; k < i; k++)
			if (strcmp(c->values[k], json_string_value(x)) == 0)
				return bad(v, path, "value '%s' is listed twice", json_string_value(x));
		c->values[i] = json_string_value(x);
		c->n_values++;
	}
	labels = json_object_get(q, "labels");
	if (labels) {
		char lpath[PATH_MAX_LEN];

		subpath(lpath, path, ".labels");
		return check_labels(v, labels, lpath, c->n_values);
	}
	return 0;
}

/* Follow-up condition: {"when": {"overall": [1]}} names one rated item and values. */
static int check_when(struct validator *v, json_t *q, const char *path, struct form_choice *c)
{
	json_t *when = json_object_get(q, "when"), *vals, *x;
	const char *item;
	long idx;
	size_t i;

	if (!json_is_object(when) || json_object_size(when) != 1)
		return bad(v, path, "'when' must be an object naming one question");
	json_object_foreach(when, item, vals) {
		idx = form_item_index(v->f, item);
		if (idx < 0)
			return bad(v, path, "'when' names '%s', which is not a rated question", item);
		c->when_item = (size_t)idx;
		if (!json_is_array(vals) || json_array_size(vals) == 0)
			return bad(v, path, "'when.%s' must be a non-empty array of scale values", item);
		json_array_foreach(vals, i, x) {
			if (!json_is_integer(x) || !form_on_scale(v->f, json_integer_value(x)))
				return bad(v, path, "'when.%s'[%zu] is not a point on the scale", item, i);
			c->when_mask |= 1u << (json_integer_value(x) - v->f->scale_min);
		}
	}
	return 0;
}

static int check_choices(struct validator *v, json_t *root, const char *key, int demographic)
{
	static const char *const demo_keys[] = { "id", "text", "values", "labels", NULL };
	static const char *const follow_keys[] = { "id", "text", "values", "labels", "when", NULL };
	json_t *list = json_object_get(root, key), *q;
	struct form *f = v->f;
	size_t i;

	if (!list)
		return 0;
	if (!json_is_array(list))
		return bad(v, "$", "'%s' must be an array", key);
	json_array_foreach(list, i, q) {
		char path[PATH_MAX_LEN];
		struct form_choice *c;

		snprintf(path, sizeof(path), "$.%s[%zu]", key, i);
		if (f->n_choices == FORM_MAX_CHOICES)
			return bad(v, path, "more than %d choice questions", FORM_MAX_CHOICES);
		c = &f->choices[f->n_choices];
		if (!json_is_object(q))
			return bad(v, path, "must be an object");
		if (check_keys(v, q, path, demographic ? demo_keys : follow_keys) ||
		    check_id(v, q, path, &c->id) || check_texts(v, q, path, "text", 0))
			return ERR_INVALID;
		c->is_demographic = demographic;
		f->n_choices++;
		if (check_values(v, q, path, c))
			return ERR_INVALID;
		if (!demographic && check_when(v, q, path, c))
			return ERR_INVALID;
	}
	return 0;
}

int form_from_json(json_t *doc, struct form **out, struct err *e)
{
	static const char *const keys[] = { "id", "title", "description", "scale", "elements",
		"overall", "demographics", "followups", "comment", NULL };
	struct validator v = { NULL, e, json_object() };
	struct form *f = calloc(1, sizeof(*f));
	json_t *overall, *comment;
	int rc = ERR_INVALID;

	if (!f || !v.seen) {
		rc = err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	v.f = f;
	f->doc = json_incref(doc);
	f->items = calloc(FORM_MAX_ITEMS, sizeof(*f->items));
	f->choices = calloc(FORM_MAX_CHOICES, sizeof(*f->choices));
	if (!f->items || !f->choices) {
		rc = err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	if (!json_is_object(doc)) {
		bad(&v, "$", "a form must be a JSON object");
		goto out;
	}
	if (check_keys(&v, doc, "$", keys))
		goto out;
	if (check_id(&v, doc, "$", &f->id) || check_texts(&v, doc, "$", "title", 1) ||
	    check_texts(&v, doc, "$", "description", 0) || check_scale(&v, doc) ||
	    check_elements(&v, doc))
		goto out;
	overall = need(&v, doc, "$", "overall", JSON_OBJECT, "an object");
	if (!overall || check_question(&v, overall, "$.overall", -1))
		goto out;
	f->overall = f->n_items - 1;
	if (check_choices(&v, doc, "demographics", 1) || check_choices(&v, doc, "followups", 0))
		goto out;
	comment = json_object_get(doc, "comment");
	if (comment && !json_is_boolean(comment)) {
		bad(&v, "$.comment", "must be true or false");
		goto out;
	}
	f->has_comment = json_is_true(comment);
	rc = 0;
out:
	json_decref(v.seen);
	if (rc) {
		form_free(f);
		return rc;
	}
	*out = f;
	return 0;
}

int form_parse(const char *text, size_t len, const char *name, struct form **out, struct err *e)
{
	json_error_t jerr;
	json_t *doc;
	int rc;

	if (len > FORM_MAX_JSON)
		return err_set(e, ERR_TOO_LARGE, "%s: larger than %d KiB", name, FORM_MAX_JSON / 1024);
	doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc)
		return err_set(e, ERR_INVALID, "%s:%d:%d: %s", name, jerr.line, jerr.column, jerr.text);
	rc = form_from_json(doc, out, e);
	json_decref(doc);
	if (rc)
		err_prefix(e, "%s", name);
	return rc;
}

int form_load_file(const char *path, struct form **out, struct err *e)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	size_t n;
	int rc;

	if (!fp)
		return err_set(e, ERR_IO, "%s: cannot open: %m", path);
	buf = malloc(FORM_MAX_JSON + 1);
	if (!buf) {
		rc = err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	n = fread(buf, 1, FORM_MAX_JSON + 1, fp);
	if (ferror(fp)) {
		rc = err_set(e, ERR_IO, "%s: read error", path);
		goto out;
	}
	rc = form_parse(buf, n, path, out, e);
out:
	free(buf);
	fclose(fp);
	return rc;
}

char *form_canonical_json(const struct form *f)
{
	return json_dumps(f->doc, JSON_COMPACT | JSON_SORT_KEYS);
}

long form_item_index(const struct form *f, const char *id)
{
	for (size_t i = 0; i < f->n_items; i++)
		if (strcmp(f->items[i].id, id) == 0)
			return (long)i;
	return -1;
}

long form_choice_index(const struct form *f, const char *id)
{
	for (size_t i = 0; i < f->n_choices; i++)
		if (strcmp(f->choices[i].id, id) == 0)
			return (long)i;
	return -1;
}

int form_on_scale(const struct form *f, long v)
{
	return v >= f->scale_min && v <= f->scale_max;
}

int form_is_satisfied(const struct form *f, int v)
{
	return (f->satisfied_mask >> (v - f->scale_min)) & 1u;
}

void form_free(struct form *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n_choices; i++)
		free(f->choices[i].values);
	free(f->choices);
	free(f->items);
	free(f->elements);
	json_decref(f->doc);
	free(f);
}
