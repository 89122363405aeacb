/*
 * targets.h - one fuzz entry point per parser.  Each takes any
 * bytes, must never crash, leak or trip a sanitizer, and returns 0.  They
 * are linked into libFuzzer binaries by `make fuzz` (fuzz/libfuzzer.c) and
 * replayed over their corpora by the test suite (tests/test_fuzz.c).
 */
#ifndef SIPAS_FUZZ_TARGETS_H
#define SIPAS_FUZZ_TARGETS_H

#include <stddef.h>
#include <stdint.h>

int fuzz_csv(const uint8_t *data, size_t size);     /* lib/csv.c */
int fuzz_form(const uint8_t *data, size_t size);    /* forms/form.c */
int fuzz_period(const uint8_t *data, size_t size);  /* lib/period.c */
int fuzz_import(const uint8_t *data, size_t size);  /* responses/import.c over a real in-memory database */
int fuzz_body(const uint8_t *data, size_t size);    /* responses/response_json.c: collector request bodies */
int fuzz_date(const uint8_t *data, size_t size);    /* lib/period.c timestamps and the date windows of responses/response.c */
int fuzz_weight(const uint8_t *data, size_t size);  /* responses/response.c: a weight cell */
int fuzz_url(const uint8_t *data, size_t size);     /* lib/url.c: a public address */
int fuzz_expires(const uint8_t *data, size_t size); /* collector/link.c: a signed link's exp */
int fuzz_account(const uint8_t *data, size_t size); /* office/user.c: an account's fields, added to a real in-memory database */
int fuzz_hours(const uint8_t *data, size_t size);   /* monitor/hours.c: an opening-hours spec */
int fuzz_fold(const uint8_t *data, size_t size);
int fuzz_records(const uint8_t *data, size_t size); /* responses/records.c: a records CSV loaded, or a POST /api/dossiers body checked, over a real in-memory database */    /* lib/fold.c and monitor/comments.c: a comment folded, a search as FTS5 runs it */

struct fuzz_target {
	const char *name;  /* also the corpus directory: fuzz/corpus/NAME */
	int (*fn)(const uint8_t *data, size_t size);
};

/* Release what fuzz_import keeps between inputs (for leak checkers). */
void fuzz_cleanup(void);

/* All targets, ended by a NULL name. */
extern const struct fuzz_target fuzz_targets[];

#endif
