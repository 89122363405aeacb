/*
 * cmd_backup.c - `sipas backup FILE`: a consistent copy of the database while
 * the collector runs (docs/operations.md).  Option parsing only; the copy is
 * db_backup in db/backup.c.  The backup, or why it failed, is recorded in
 * the audit log once it is done (so the copy does not hold its own entry).
 */
#include <stdio.h>

#include "cli.h"
#include "../db/backup.h"
#include "../db/db.h"

const char cmd_backup_usage[] =
	"usage: sipas backup [--db PATH] [--force] FILE\n"
	"\n"
	"Copy the database to FILE with SQLite's online backup, as it stood when the\n"
	"copy began, while 'sipas serve' keeps taking ratings.  The copy is written\n"
	"to FILE.tmp, checked (PRAGMA quick_check), flushed to disk and only then\n"
	"renamed to FILE, so FILE is always a whole database; it is readable by its\n"
	"owner only (it holds the server's signing key).  To restore it, stop the\n"
	"collector and copy FILE over the database (docs/operations.md).\n"
	"\n"
	"  --force     replace FILE if it exists (default: refuse)\n"
	"  --db PATH   database file (default $SIPAS_DB, else ./sipas.db)\n";

int cmd_backup(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *db_opt = NULL, *path;
	struct db_backup_stats stats;
	char subject[4200];
	sqlite3 *db = NULL;
	struct err e, not_recorded;
	int c, rc, flags = 0;

	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db_opt = optarg; break;
		case 'f': flags |= DB_BACKUP_FORCE; break;
		case 'h': return cli_help(cmd_backup_usage);
		default: return cli_usage_error("backup", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind == argc)
		return cli_usage_error("backup", "which FILE should the copy go to?");
	if (optind + 1 < argc)
		return cli_usage_error("backup", "unexpected argument '%s'", argv[optind + 1]);
	path = cli_db_path(db_opt);
	err_clear(&e);
	rc = db_backup(path, argv[optind], flags, &stats, &e);
	if (!rc)
		printf("%s: copy of %s, %lld pages of %lld bytes, checked\n", argv[optind], path, stats.pages,
		       stats.page_size);
	snprintf(subject, sizeof(subject), "%s", argv[optind]);
	if (db_open(path, 0, &db, &not_recorded) == 0)
		cli_audit_alone(db, "backup", subject, rc ? &e : NULL);
	else if (!rc)   /* a failed backup of a database that cannot be opened says so already */
		fprintf(stderr, "sipas: warning: the audit log could not record this backup: %s\n", not_recorded.text);
	db_close(db);
	return rc ? cli_fail(&e) : 0;
}
