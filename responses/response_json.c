/*
 * response_json.c - a JSON post into a checked `struct response` (see
 * response_json.h).  Types are checked here; values by response.c.
 */
#include "response_json.h"

#include <string.h>

/* The fields a post may have, in the order they are checked.  Text fields
 * go through response_set_text like CSV cells; the others are read below. */
static const struct {
	const char *name;
	int text, required;
} post_fields[] = {
	{ "form", 0, 1 }, { "response_id", 1, 1 }, { "submitted_at", 1, 1 }, { "agency", 1, 1 },
	{ "sector", 1, 1 }, { "channel", 1, 0 }, { "dossier_code", 1, 0 }, { "comment", 1, 0 },
	{ "answers", 0, 1 },
};

#define N_POST_FIELDS (sizeof(post_fields) / sizeof(post_fields[0]))

static int set_string(struct response *r, const struct registry *reg, json_t *doc,
		      const char *key, int required, struct err *e)
{
	json_t *v = json_object_get(doc, key);
	struct response_field f;

	if (!v || json_is_null(v)) {
		if (required)
			return err_set_field(e, ERR_INVALID, key, "required");
		return 0;
	}
	if (!json_is_string(v))
		return err_set_field(e, ERR_INVALID, key, "must be a string");
	if (strlen(json_string_value(v)) != json_string_length(v))
		return err_set_field(e, ERR_INVALID, key, "holds a NUL character");
	response_field_lookup(r->form, key, &f, NULL);
	return response_set_text(r, reg, &f, json_string_value(v), e);
}

static int set_answers(struct response *r, const struct registry *reg, json_t *answers,
		       struct err *e)
{
	const char *key;
	json_t *v;

	if (!json_is_object(answers))
		return err_set_field(e, ERR_INVALID, "answers", "must be an object of answers by question id");
	json_object_foreach(answers, key, v) {
		struct response_field f;
		char field[80];
		int rc;

		snprintf(field, sizeof(field), "answers.%.64s", key);
		if (response_field_lookup(r->form, key, &f, NULL) != 0 ||
		    (f.kind != FIELD_ANSWER && f.kind != FIELD_CHOICE))
			return err_set_field(e, ERR_INVALID, field, "not a question of form %s", r->form->id);
		if (json_is_null(v))
			continue;
		if (f.kind == FIELD_ANSWER) {
			if (!json_is_integer(v))
				return err_set_field(e, ERR_INVALID, field, "must be an integer on the scale %d..%d",
						     r->form->scale_min, r->form->scale_max);
			rc = response_set_answer(r, f.index, json_integer_value(v), e);
		} else {
			if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
				return err_set_field(e, ERR_INVALID, field, "must be one of the form's values");
			rc = response_set_text(r, reg, &f, json_string_value(v), e);
		}
		if (rc) {
			char why[sizeof(e->text)];

			memcpy(why, e->text, sizeof(why));
			return err_set_field(e, rc, field, "%s", why);
		}
	}
	return 0;
}

int response_from_json(json_t *doc, struct form *const *forms, size_t n_forms,
		       const struct registry *reg, struct response *r, struct err *e)
{
	const char *key, *form_id;
	json_t *v, *form_v;
	const struct form *form = NULL;
	int rc;

	response_init(r, NULL);
	if (!json_is_object(doc))
		return err_set(e, ERR_INVALID, "the body must be a JSON object");
	json_object_foreach(doc, key, v) {
		size_t i;

		for (i = 0; i < N_POST_FIELDS; i++)
			if (strcmp(key, post_fields[i].name) == 0)
				break;
		if (i == N_POST_FIELDS)
			return err_set_field(e, ERR_INVALID, key, "unknown field");
	}
	form_v = json_object_get(doc, "form");
	if (!json_is_string(form_v))
		return err_set_field(e, ERR_INVALID, "form", form_v ? "must be a string" : "required");
	form_id = json_string_value(form_v);
	for (size_t i = 0; i < n_forms; i++)
		if (strcmp(forms[i]->id, form_id) == 0)
			form = forms[i];
	if (!form)
		return err_set_field(e, ERR_INVALID, "form", "unknown form '%.64s'", form_id);
	response_init(r, form);
	for (size_t i = 0; i < N_POST_FIELDS; i++) {
		if (!post_fields[i].text)
			continue;
		rc = set_string(r, reg, doc, post_fields[i].name, post_fields[i].required, e);
		if (rc)
			return rc;
	}
	v = json_object_get(doc, "answers");
	if (!v)
		return err_set_field(e, ERR_INVALID, "answers", "required");
	rc = set_answers(r, reg, v, e);
	if (!rc)
		rc = response_check(r, e);
	return rc;
}
