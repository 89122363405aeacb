/*
 * builtin.h - the forms and registry files that ship in forms/, as compiled
 * into the binary (forms/builtin_data.S).  Read-only; never freed.
 */
#ifndef SIPAS_BUILTIN_H
#define SIPAS_BUILTIN_H

struct builtin_file {
	const char *name;   /* path in the source tree, for messages */
	const char *data;   /* the file's bytes, NUL-terminated */
};

/* The shipped forms, ended by an entry whose name is NULL. */
extern const struct builtin_file builtin_forms[];

/* The shipped registry files: agencies.csv, sectors.csv, targets.csv. */
extern const struct builtin_file builtin_registry[3];

#endif
