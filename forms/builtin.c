/*
 * builtin.c - names for the blobs embedded by builtin_data.S.
 */
#include "builtin.h"

#include <stddef.h>

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
