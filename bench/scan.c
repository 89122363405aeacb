/*
 * scan.c - the benchmark's baseline: read the same rows `sipas score` reads,
 * with the same query, touching every column, and do nothing else.
 * usage: scan DB FORM PERIOD
 */
#include <stdio.h>

#include "../db/db.h"
#include "../lib/period.h"
#include "../scoring/score.h"

int main(int argc, char **argv)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	struct period p;
	struct err e;
	long rows = 0;
	double sum = 0;
	unsigned bytes = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: scan DB FORM PERIOD\n");
		return 1;
	}
	if (period_parse(argv[3], &p, &e) || db_open(argv[1], DB_READONLY, &db, &e) ||
	    score_scan_prepare(db, argv[2], &p, &st, &e)) {
		fprintf(stderr, "scan: %s\n", e.text);
		return 1;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *a = sqlite3_column_blob(st, 5);

		sum += sqlite3_column_double(st, 4) + (double)sqlite3_column_int64(st, 0) +
		       (double)sqlite3_column_int64(st, 1) + (double)sqlite3_column_int64(st, 2) +
		       (double)sqlite3_column_int64(st, 3);
		bytes += (unsigned)sqlite3_column_bytes(st, 5) + (a ? a[0] : 0u) +
			 (unsigned)sqlite3_column_bytes(st, 6);
		rows++;
	}
	sqlite3_finalize(st);
	db_close(db);
	printf("%ld rows (checksum %.0f %u)\n", rows, sum, bytes);
	return 0;
}
