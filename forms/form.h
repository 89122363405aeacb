/*
 * form.h - questionnaires: parsing and validating a form's JSON (docs/design.md)
 * into the struct that import, the collector and scoring share.  A form is
 * immutable once loaded.  Storage of forms in the database is in form_store.h.
 */
#ifndef SIPAS_FORM_H
#define SIPAS_FORM_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "../lib/err.h"

#define FORM_MAX_ID 64         /* bytes in any id */
#define FORM_MAX_SCALE 11      /* points on a scale */
#define FORM_MAX_ITEMS 200     /* criteria + overall */
#define FORM_MAX_CHOICES 32    /* demographics + follow-ups */
#define FORM_MAX_VALUES 100    /* values of one choice question */
#define FORM_MAX_JSON (256 * 1024)

/* A rated question: a criterion of an element, or the overall question. */
struct form_item {
	const char *id;   /* borrowed from form->doc */
	int element;      /* index into form->elements, or -1 for overall */
};

struct form_element {
	const char *id;
	double weight;    /* > 0 */
	size_t first;     /* its criteria are items[first .. first + count) */
	size_t count;     /* >= 1 */
};

/* A question answered by picking one of a list of codes: a demographic, or a
 * follow-up asked only when a rated item got one of some values. */
struct form_choice {
	const char *id;
	size_t n_values;
	const char **values;
	int is_demographic;
	size_t when_item;        /* follow-ups: the item that triggers it */
	uint32_t when_mask;      /* follow-ups: bit (v - scale_min) per trigger value */
};

struct form {
	const char *id;
	json_t *doc;              /* the validated document; owns every string above */
	int scale_min, scale_max;
	uint32_t satisfied_mask;  /* bit (v - scale_min) set when v counts as satisfied */
	size_t n_elements;
	struct form_element *elements;
	size_t n_items;           /* criteria in element order, then overall last */
	struct form_item *items;
	size_t overall;           /* index of the overall item (n_items - 1) */
	size_t n_choices;         /* demographics first, then follow-ups */
	struct form_choice *choices;
	int has_comment;
};

/* Validate `doc` (borrowed; the form takes its own reference) as a form.
 * On success *out is an owned form (form_free).  On failure ERR_INVALID with
 * "$.json.path: why" in `e`. */
int form_from_json(json_t *doc, struct form **out, struct err *e);

/* Parse and validate JSON text of `len` bytes; `name` (a file name) prefixes
 * messages as "NAME:LINE:COL: why" or "NAME: $.path: why". */
int form_parse(const char *text, size_t len, const char *name, struct form **out, struct err *e);

/* Read and parse a form file (at most FORM_MAX_JSON bytes). */
int form_load_file(const char *path, struct form **out, struct err *e);

/* The canonical text of the form (compact, sorted keys), owned by the caller (free()). */
char *form_canonical_json(const struct form *f);

/* Index of the item or choice with `id`, or -1. */
long form_item_index(const struct form *f, const char *id);
long form_choice_index(const struct form *f, const char *id);

/* 1 if v is a point on the form's scale. */
int form_on_scale(const struct form *f, long v);

/* 1 if scale value v counts as satisfied; v must be on the scale. */
int form_is_satisfied(const struct form *f, int v);

/* Free a form; NULL-safe. */
void form_free(struct form *f);

#endif
