/*
 * hub_score.h - national scores from the hub (docs/hub.md, "National
 * scores"): the rows of every province (or one) streamed from PostgreSQL
 * through the same accumulator and estimates as a province's own scoring
 * (scoring/score.h), with agencies, strata and PSUs namespaced by province
 * ("HP.SO-XD"), so that the national figures are the design-based
 * estimates of the union of the provinces' samples.
 */
#ifndef SIPAS_HUB_SCORE_H
#define SIPAS_HUB_SCORE_H

#include <libpq-fe.h>

#include "../forms/form.h"
#include "../forms/registry.h"
#include "../lib/err.h"
#include "../lib/period.h"
#include "../scoring/score.h"

/* With enum score_by's bits: one group per province (the registry's
 * agencies are then the provinces, and the result's unit "province"). */
#define HUB_SCORE_BY_PROVINCE 8

struct hub_scores {
	struct form *form;          /* the provinces' common form */
	struct registry *reg;       /* the national registry the groups point into */
	struct score_result *res;   /* res->form is form */
};

/* Score form `form_code` over `period` from the hub on conn: every
 * province that pushed that form, or only `province` (NULL: all).  `by` is
 * a set of enum score_by bits (0: agency and sector), or
 * HUB_SCORE_BY_PROVINCE alone.  The national registry: agencies "P.CODE"
 * with their history, sectors by code (the union), targets those shipped
 * in the binary for all and by sector, and each province's agency targets.
 * Every province's form of that code must have the same content:
 * ERR_CONFLICT naming the provinces otherwise; ERR_NOT_FOUND when no
 * province pushed it.  Rows are streamed (COPY ... TO STDOUT), never held.
 * On success *out is owned (hub_scores_free). */
int hub_score_run(PGconn *conn, const char *form_code, const char *province, int by,
		  const struct period *period, struct hub_scores **out, struct err *e);

/* Free what hub_score_run returned; NULL-safe. */
void hub_scores_free(struct hub_scores *s);

#endif
