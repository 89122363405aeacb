/*
 * test_form.c - form validation (docs/design.md): the shipped forms are valid and
 * complete, and every kind of bad form is refused with its JSON path.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "test.h"
#include "../forms/builtin.h"
#include "../forms/form.h"

static const char *builtin(const char *name)
{
	for (const struct builtin_file *b = builtin_forms; b->name; b++)
		if (strstr(b->name, name))
			return b->data;
	return NULL;
}

/* Apply "a.b[2].c=JSON" (set) or "-a.b" (delete) to doc; 0 on success. */
static int mutate(json_t *doc, const char *spec)
{
	char path[256], *eq, *tok, *save = NULL;
	int del = spec[0] == '-';
	json_t *node = doc, *value = NULL;
	char last[64] = "";
	long last_index = -1;

	snprintf(path, sizeof(path), "%s", spec + del);
	eq = strchr(path, '=');
	if (eq) {
		*eq = '\0';
		value = json_loads(eq + 1, JSON_DECODE_ANY, NULL);
		if (!value)
			return -1;
	}
	for (tok = strtok_r(path, ".", &save); tok; tok = strtok_r(NULL, ".", &save)) {
		char *br = strchr(tok, '[');
		long idx = br ? atol(br + 1) : -1;

		if (br)
			*br = '\0';
		if (last[0] || last_index >= 0) {
			node = last_index >= 0 ? json_array_get(json_object_get(node, last), (size_t)last_index)
					       : json_object_get(node, last);
			if (!node)
				return -1;
		}
		snprintf(last, sizeof(last), "%s", tok);
		last_index = idx;
	}
	if (last_index >= 0) {
		json_t *arr = json_object_get(node, last);

		if (del)
			return json_array_remove(arr, (size_t)last_index);
		return json_array_set_new(arr, (size_t)last_index, value);
	}
	if (del)
		return json_object_del(node, last);
	return json_object_set_new(node, last, value);
}

static int validate(const char *base, const char *const *specs, struct err *e)
{
	json_t *doc = json_loads(base, 0, NULL);
	struct form *f = NULL;
	int rc;

	for (size_t i = 0; specs[i]; i++)
		if (mutate(doc, specs[i]) != 0) {
			json_decref(doc);
			return 99;
		}
	rc = form_from_json(doc, &f, e);
	form_free(f);
	json_decref(doc);
	return rc;
}

static void shipped_sipas_form_is_complete(void)
{
	struct form *f = NULL;
	struct err e;
	const char *text = builtin("sipas-2017");
	static const size_t per_element[] = { 4, 5, 6, 3, 4 };

	CHECK(text);
	CHECK_INT(form_parse(text, strlen(text), "sipas-2017.json", &f, &e), 0);
	CHECK_STR(f->id, "sipas-2017");
	CHECK_INT(f->n_elements, 5);
	CHECK_INT(f->n_items, 23);   /* 22 criteria + overall */
	for (size_t i = 0; i < 5; i++)
		CHECK_INT(f->elements[i].count, per_element[i]);
	CHECK_STR(f->items[f->overall].id, "overall");
	CHECK_STR(f->items[0].id, "e1.1");
	CHECK_STR(f->items[21].id, "e5.4");
	CHECK(form_is_satisfied(f, 4) && form_is_satisfied(f, 5) && !form_is_satisfied(f, 3));
	CHECK_INT(f->n_choices, 2);
	CHECK_STR(f->choices[0].id, "gender");
	CHECK(f->has_comment);
	CHECK_STR(json_string_value(json_object_get(json_object_get(
		json_array_get(json_object_get(f->doc, "elements"), 4), "title"), "vi")),
		  "Tiếp nhận, xử lý góp ý, phản ánh, kiến nghị");
	form_free(f);
}

static void shipped_kiosk_form_is_complete(void)
{
	struct form *f = NULL;
	struct err e;
	const char *text = builtin("kiosk-2018");

	CHECK(text);
	CHECK_INT(form_parse(text, strlen(text), "kiosk-2018.json", &f, &e), 0);
	CHECK_INT(f->n_elements, 0);
	CHECK_INT(f->n_items, 1);
	CHECK_INT(f->scale_min, 1);
	CHECK_INT(f->scale_max, 3);
	CHECK(!form_is_satisfied(f, 1) && form_is_satisfied(f, 2) && form_is_satisfied(f, 3));
	CHECK_INT(f->n_choices, 1);
	CHECK_STR(f->choices[0].id, "reason");
	CHECK(!f->choices[0].is_demographic);
	CHECK_INT(f->choices[0].n_values, 5);
	CHECK_STR(json_string_value(json_object_get(json_object_get(json_object_get(f->doc, "overall"),
		"text"), "vi")), "Đánh giá chung về việc giải quyết thủ tục hành chính");
	form_free(f);
}

/* Each bad form: the changes to the shipped sipas-2017 and the message. */
static const struct {
	const char *specs[3];
	const char *message;
} bad_forms[] = {
	{ { "elements[1].criteria[0].id=\"e1.1\"" },
	  "$.elements[1].criteria[0].id: duplicate id 'e1.1' (first at $.elements[0].criteria[0].id)" },
	{ { "elements[2].id=\"e1\"" }, "$.elements[2].id: duplicate id 'e1'" },
	{ { "demographics[0].id=\"overall\"" }, "$.demographics[0].id: duplicate id 'overall'" },
	{ { "elements[0].criteria=[]" }, "$.elements[0]: element 'e1' has no criteria" },
	{ { "elements[3].weight=0" }, "$.elements[3]: 'weight' must be greater than 0" },
	{ { "elements[3].weight=-1.5" }, "$.elements[3]: 'weight' must be greater than 0" },
	{ { "elements[3].weight=\"1\"" }, "$.elements[3]: 'weight' must be a number" },
	{ { "-scale.labels" }, "$.scale: missing 'labels'" },
	{ { "scale.labels.vi=[\"a\",\"b\"]" }, "$.scale.labels: 'vi' must be a list of 5 labels" },
	{ { "scale.labels={\"en\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}" },
	  "$.scale.labels: missing the Vietnamese labels 'vi'" },
	{ { "scale.satisfied=[4,6]" }, "$.scale.satisfied[1]: 6 is off the scale 1..5" },
	{ { "scale.satisfied=[0]" }, "$.scale.satisfied[0]: 0 is off the scale 1..5" },
	{ { "scale.satisfied=[]" }, "$.scale.satisfied: must name at least one value" },
	{ { "scale.satisfied=[4,4]" }, "$.scale.satisfied[1]: 4 is listed twice" },
	{ { "scale.satisfied=[1,2,3,4,5]" }, "$.scale.satisfied: cannot hold every point of the scale" },
	{ { "scale.satisfied=[\"4\"]" }, "$.scale.satisfied[0]: must be an integer" },
	{ { "scale.max=1" }, "$.scale: max must be greater than min" },
	{ { "scale.max=20" }, "$.scale: at most 11 points" },
	{ { "scale.min=1.5" }, "$.scale: 'min' must be an integer" },
	{ { "-scale" }, "$: missing 'scale'" },
	{ { "-overall" }, "$: missing 'overall'" },
	{ { "-id" }, "$: missing 'id'" },
	{ { "id=\"\"" }, "$.id: must be 1 to 64 characters" },
	{ { "id=\"sipas 2017\"" }, "$.id: 'sipas 2017' may only hold letters, digits" },
	{ { "elements[0].criteria[0].id=\"weight\"" },
	  "$.elements[0].criteria[0].id: 'weight' is reserved for a response field" },
	{ { "-title.vi" }, "$.title: missing the Vietnamese text 'vi'" },
	{ { "elements[0].criteria[1].text.en=\"\"" },
	  "$.elements[0].criteria[1].text: 'en' must be a non-empty string" },
	{ { "-elements[4].title" }, "$.elements[4]: missing 'title'" },
	{ { "colour=\"red\"" }, "$: unknown key 'colour'" },
	{ { "elements[0].note=1" }, "$.elements[0]: unknown key 'note'" },
	{ { "elements={}" }, "$.elements: must be an array" },
	{ { "demographics[1].values=[]" }, "$.demographics[1]: 'values' must be a non-empty array" },
	{ { "demographics[0].values=[\"nam\",\"nam\"]", "-demographics[0].labels" },
	  "$.demographics[0]: value 'nam' is listed twice" },
	{ { "demographics[0].labels.vi=[\"Nam\"]" }, "$.demographics[0].labels: 'vi' must be a list of 2 labels" },
	{ { "followups=[{\"id\":\"why\",\"values\":[\"x\"],\"when\":{\"nope\":[1]}}]" },
	  "$.followups[0]: 'when' names 'nope', which is not a rated question" },
	{ { "followups=[{\"id\":\"why\",\"values\":[\"x\"],\"when\":{\"overall\":[9]}}]" },
	  "$.followups[0]: 'when.overall'[0] is not a point on the scale" },
	{ { "comment=\"yes\"" }, "$.comment: must be true or false" },
};

static void bad_forms_are_refused_with_their_path(void)
{
	const char *base = builtin("sipas-2017");

	for (size_t i = 0; i < sizeof(bad_forms) / sizeof(bad_forms[0]); i++) {
		struct err e;
		int rc = validate(base, bad_forms[i].specs, &e);

		if (rc != ERR_INVALID) {
			test_fail(__FILE__, __LINE__, "case %zu (%s): rc %d", i, bad_forms[i].specs[0], rc);
			return;
		}
		CHECK_CONTAINS(e.text, bad_forms[i].message);
	}
}

static void json_syntax_errors_name_line_and_column(void)
{
	struct form *f = NULL;
	struct err e;
	const char *text = "{\n  \"id\": \"x\",\n  \"id\": \"y\"\n}";

	CHECK(form_parse("{\"id\": }", 8, "f.json", &f, &e) == ERR_INVALID);
	CHECK_CONTAINS(e.text, "f.json:1:");
	CHECK(form_parse(text, strlen(text), "f.json", &f, &e) == ERR_INVALID);
	CHECK_CONTAINS(e.text, "f.json:3:");
	CHECK_CONTAINS(e.text, "duplicate object key");
	CHECK(form_parse("[1,2]", 5, "f.json", &f, &e) == ERR_INVALID);
	CHECK_CONTAINS(e.text, "f.json: $: a form must be a JSON object");
}

static void a_minimal_form_is_valid(void)
{
	const char *text = "{\"id\":\"mini\",\"title\":{\"vi\":\"Thử\"},"
		"\"scale\":{\"min\":0,\"max\":1,\"satisfied\":[1],\"labels\":{\"vi\":[\"Không\",\"Có\"]}},"
		"\"overall\":{\"id\":\"overall\",\"text\":{\"vi\":\"Hài lòng?\"}}}";
	struct form *f = NULL;
	struct err e;

	CHECK_INT(form_parse(text, strlen(text), "mini.json", &f, &e), 0);
	CHECK_INT(f->n_items, 1);
	CHECK(form_on_scale(f, 0) && !form_on_scale(f, 2));
	form_free(f);
}

const struct test_case form_tests[] = {
	{ "shipped_sipas_form_is_complete", shipped_sipas_form_is_complete },
	{ "shipped_kiosk_form_is_complete", shipped_kiosk_form_is_complete },
	{ "bad_forms_are_refused_with_their_path", bad_forms_are_refused_with_their_path },
	{ "json_syntax_errors_name_line_and_column", json_syntax_errors_name_line_and_column },
	{ "a_minimal_form_is_valid", a_minimal_form_is_valid },
	{ NULL, NULL }
};
