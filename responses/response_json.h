/*
 * response_json.h - a response posted to the collector as JSON (docs/collector.md):
 * {"response_id", "form", "agency", "sector", "channel", "submitted_at",
 *  "dossier_code", "answers": {question: integer | choice: "value"},
 *  "comment"}.  A phone's signed link comes in the query string, not here
 * (collector/routes.c).
 * Checked with the same rules as a CSV row (response.h); every refusal names
 * the field.  Design fields (stratum, psu, weight) come only from imports.
 */
#ifndef SIPAS_RESPONSE_JSON_H
#define SIPAS_RESPONSE_JSON_H

#include <jansson.h>

#include "../forms/form.h"
#include "../forms/registry.h"
#include "response.h"

/* Fill r from doc (a JSON object).  The form is looked up by its "form"
 * field among forms[0..n_forms).  ERR_INVALID / ERR_NOT_FOUND naming the
 * field (e->field) on a bad post.  r is written even on failure. */
int response_from_json(json_t *doc, struct form *const *forms, size_t n_forms,
		       const struct registry *reg, struct response *r, struct err *e);

#endif
