/*
 * builtin.c - names for the blobs embedded by builtin_data.S, and loading
 * them like files.
 */
#include "builtin.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "form.h"
#include "form_store.h"
#include "registry.h"

extern const char builtin_form_sipas_2017[], builtin_form_kiosk_2018[];
extern const char builtin_registry_agencies[], builtin_registry_sectors[],
	builtin_registry_targets[];

const struct builtin_file builtin_forms[] = {
	{ "forms/sipas-2017.json", builtin_form_sipas_2017 },
	{ "forms/kiosk-2018.json", builtin_form_kiosk_2018 },
	{ NULL, NULL }
};

const struct builtin_file builtin_registry[3] = {
	{ "forms/registry/agencies.csv", builtin_registry_agencies },
	{ "forms/registry/sectors.csv", builtin_registry_sectors },
	{ "forms/registry/targets.csv", builtin_registry_targets },
};

int builtin_load_forms(sqlite3 *db, int *added, struct err *e)
{
	for (const struct builtin_file *b = builtin_forms; b->name; b++) {
		struct form *f = NULL;
		int rc = form_parse(b->data, strlen(b->data), b->name, &f, e), was_added = 0;

		if (!rc)
			rc = form_store_put(db, f, &was_added, e);
		form_free(f);
		if (rc)
			return rc;
		*added += was_added;
	}
	return 0;
}

int builtin_load_registry(sqlite3 *db, struct err *e)
{
	FILE *fp[3] = { NULL, NULL, NULL };
	int rc = 0;

	for (int i = 0; i < 3 && !rc; i++) {
		fp[i] = fmemopen((void *)builtin_registry[i].data, strlen(builtin_registry[i].data), "r");
		if (!fp[i])
			rc = err_set(e, ERR_NOMEM, "out of memory");
	}
	if (!rc)
		rc = registry_load(db, fp[0], builtin_registry[0].name, fp[1], builtin_registry[1].name,
				   fp[2], builtin_registry[2].name, e);
	for (int i = 0; i < 3; i++)
		if (fp[i])
			fclose(fp[i]);
	return rc;
}
