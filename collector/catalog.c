/*
 * catalog.c - the collector's forms and registry, reference-counted (see
 * catalog.h).
 */
#include "catalog.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "../forms/form_store.h"

int col_catalog_load(sqlite3 *db, struct col_catalog **out, struct err *e)
{
	struct col_catalog *c = calloc(1, sizeof(*c));
	int rc;

	if (!c)
		return err_set(e, ERR_NOMEM, "out of memory");
	atomic_init(&c->refs, 1);
	rc = form_store_get_all(db, &c->forms, &c->n_forms, e);
	if (!rc)
		rc = registry_read(db, &c->reg, e);
	if (rc) {
		col_catalog_release(c);
		return rc;
	}
	*out = c;
	return 0;
}

const struct form *col_catalog_form(const struct col_catalog *c, const char *id)
{
	for (size_t i = 0; i < c->n_forms; i++)
		if (strcmp(c->forms[i]->id, id) == 0)
			return c->forms[i];
	return NULL;
}

struct col_catalog *col_catalog_hold(struct col_catalog *c)
{
	int before = atomic_fetch_add(&c->refs, 1);

	assert(before > 0);
	(void)before;
	return c;
}

void col_catalog_release(struct col_catalog *c)
{
	if (!c || atomic_fetch_sub(&c->refs, 1) != 1)
		return;
	form_store_free_all(c->forms, c->n_forms);
	registry_free(c->reg);
	free(c);
}
