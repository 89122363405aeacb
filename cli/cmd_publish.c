/*
 * cmd_publish.c - `sipas publish --period P`: make a period's results public
 * (docs/design.md): GET /api/scores answers only for published periods.
 */
#include <stdio.h>
#include <time.h>

#include "cli.h"
#include "../db/db.h"
#include "../lib/period.h"

const char cmd_publish_usage[] =
	"usage: sipas publish --period P [--form ID] [--db PATH]\n"
	"\n"
	"Mark the results of period P (e.g. 2026Q3) for form ID (default sipas-2017)\n"
	"as public: the collector then serves them at /api/scores.  Idempotent.\n";

int cmd_publish(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "period", required_argument, NULL, 'p' },
		{ "form", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *db_opt = NULL, *period_s = NULL, *form = "sipas-2017";
	sqlite3_stmt *st = NULL;
	struct period p;
	sqlite3 *db = NULL;
	struct err e;
	int c, rc;

	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db_opt = optarg; break;
		case 'p': period_s = optarg; break;
		case 'f': form = optarg; break;
		case 'h': return cli_help(cmd_publish_usage);
		default: return cli_usage_error("publish", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (!period_s || optind != argc)
		return cli_usage_error("publish", "--period is required");
	err_clear(&e);
	rc = period_parse(period_s, &p, &e);
	if (!rc)
		rc = db_open(cli_db_path(db_opt), 0, &db, &e);
	if (!rc) {
		long long known = 0;

		rc = db_prepare(db, "SELECT count(*) FROM forms WHERE code = ?1", &st, &e);
		if (!rc) {
			sqlite3_bind_text(st, 1, form, -1, SQLITE_STATIC);
			if (sqlite3_step(st) == SQLITE_ROW)
				known = sqlite3_column_int64(st, 0);
			sqlite3_finalize(st);
			st = NULL;
			if (!known)
				rc = err_set(&e, ERR_NOT_FOUND, "unknown form '%s'", form);
		}
	}
	if (!rc)
		rc = db_prepare(db, "INSERT INTO published(form_id, period, published_at) "
				"SELECT id, ?2, ?3 FROM forms WHERE code = ?1 "
				"ON CONFLICT(form_id, period) DO NOTHING", &st, &e);
	if (!rc) {
		sqlite3_bind_text(st, 1, form, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, p.label, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = db_fail(db, &e, "publishing");
		else if (sqlite3_changes(db) == 0)
			printf("%s %s was already published\n", form, p.label);
		else
			printf("%s %s published\n", form, p.label);
	}
	sqlite3_finalize(st);
	db_close(db);
	return rc ? cli_fail(&e) : 0;
}
