/*
 * import.c - CSV import of responses (see import.h): map the header to
 * response fields, check and store each row, commit once at the end.
 */
#include "import.h"

#include <stdlib.h>
#include <string.h>

#include "../lib/csv.h"
#include "../db/db.h"
#include "../lib/progress.h"
#include "store.h"
#include "response.h"

/* Columns every file must have (docs/design.md). */
static const char *const required_columns[] = {
	"response_id", "submitted_at", "agency", "sector", NULL
};

static int map_columns(struct csv_reader *r, const struct form *form,
		       struct response_field *fields, struct err *e)
{
	size_t n = csv_nfields(r);

	for (size_t i = 0; i < n; i++) {
		const char *name = csv_field(r, i);

		if (response_field_lookup(form, name, &fields[i], NULL))
			return csv_row_fail(r, e, name, "unknown column");
		for (size_t j = 0; j < i; j++)
			if (fields[j].kind == fields[i].kind && fields[j].index == fields[i].index)
				return csv_row_fail(r, e, name, "appears twice");
	}
	for (size_t k = 0; required_columns[k]; k++) {
		struct response_field want;
		size_t i;

		response_field_lookup(form, required_columns[k], &want, NULL);
		for (i = 0; i < n; i++)
			if (fields[i].kind == want.kind)
				break;
		if (i == n)
			return csv_row_fail(r, e, required_columns[k], "missing from the header");
	}
	return 0;
}

static int import_rows(sqlite3 *db, const struct registry *reg, const struct form *form,
		       struct csv_reader *r, uint64_t size, struct import_stats *stats,
		       struct err *e)
{
	struct response_field *fields = NULL;
	struct response *resp = malloc(sizeof(*resp));
	struct store *store = NULL;
	struct progress prog;
	size_t ncols;
	int rc;

	if (!resp)
		return err_set(e, ERR_NOMEM, "out of memory");
	rc = csv_read_record(r, e);
	if (rc == 0)
		rc = err_set(e, ERR_INVALID, "%s: empty file (a header row is required)", csv_name(r));
	if (rc < 0)
		goto out;
	ncols = csv_nfields(r);
	fields = calloc(ncols, sizeof(*fields));
	if (!fields) {
		rc = err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	rc = map_columns(r, form, fields, e);
	if (!rc)
		rc = store_open(db, form->id, &store, e);
	if (rc)
		goto out;
	progress_start(&prog, csv_name(r), size);
	while ((rc = csv_read_record(r, e)) == 1) {
		uint8_t digest[STORE_DIGEST_BYTES];
		int dup;

		stats->rows++;
		if (csv_nfields(r) != ncols) {
			rc = err_set(e, ERR_INVALID, "%s:%ld: %zu fields, the header has %zu",
				     csv_name(r), csv_line(r), csv_nfields(r), ncols);
			break;
		}
		response_init(resp, form);
		rc = 0;
		for (size_t i = 0; i < ncols && !rc; i++)
			rc = response_set_text(resp, reg, &fields[i], csv_field(r, i), e);
		if (!rc)
			rc = response_check(resp, e);
		if (!rc)
			rc = store_put(store, resp, &dup, digest, e);
		if (rc) {
			csv_row_locate(r, e);
			break;
		}
		if (dup)
			stats->duplicates++;
		else
			stats->added++;
		progress_update(&prog, csv_bytes(r), (uint64_t)stats->rows);
	}
	progress_end(&prog);
out:
	store_free(store);
	free(fields);
	free(resp);
	return rc;
}

int import_csv(sqlite3 *db, const struct registry *reg, const struct form *form, FILE *fp,
	       const char *name, uint64_t size, struct import_stats *stats, struct err *e)
{
	struct csv_reader *r = csv_reader_new(fp, name);
	int rc;

	memset(stats, 0, sizeof(*stats));
	if (!r)
		return err_set(e, ERR_NOMEM, "out of memory");
	rc = db_exec(db, "PRAGMA cache_size = -262144; BEGIN IMMEDIATE", e);
	if (rc)
		goto out;
	rc = import_rows(db, reg, form, r, size, stats, e);
	if (!rc)
		rc = db_exec(db, "COMMIT", e);
	if (rc) {
		db_exec(db, "ROLLBACK", NULL);
		memset(stats, 0, sizeof(*stats));
	}
out:
	csv_reader_free(r);
	return rc;
}
