/*
 * cmd_dossiers.c - `sipas dossiers import FILE|-`: load how many dossiers
 * each agency handled per sector and period, from the one-stop system, for
 * the counter method's dossier-based rate (responses/dossiers.c); with
 * --records, the one-stop system's dossier records themselves, for the
 * per-dossier rate (responses/records.c).  The load and its outcome are
 * recorded in the audit log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

#include "cli.h"
#include "../responses/dossiers.h"
#include "../responses/records.h"

const char cmd_dossiers_usage[] =
	"usage: sipas dossiers import FILE|- [--db PATH]\n"
	"       sipas dossiers import --records FILE|- [--db PATH]\n"
	"\n"
	"Load dossier totals from CSV with the columns period,agency,sector,dossiers:\n"
	"period a quarter (2026Q3) or a month (2026-07; a quarter without its own row\n"
	"sums its months, only when all three are loaded).  The file is one\n"
	"transaction: every row is checked, a bad row refuses the file and nothing\n"
	"changes; the bad rows are listed on stderr (FILE:LINE: column X: why, the\n"
	"first hundred, then how many more).  It replaces the stored rows of every (period, agency) it contains,\n"
	"and only those, so one agency's correction leaves the others alone.\n"
	"`sipas score` then shows, for the kiosk form, the dossier-based rate beside\n"
	"the share of satisfied ratings (table, CSV and JSON), counting only the\n"
	"agency, sector and quarter cells with a total, and how many ratings it covers.\n"
	"\n"
	"With --records, load the one-stop system's export of dossier records instead,\n"
	"one row per dossier, the header naming the columns dossier, agency (the\n"
	"deciding agency), received_by (the office that took it in; empty: the agency),\n"
	"sector, procedure, channel (direct, online or postal), received_at, due_at\n"
	"(a date-time, or a date meaning the end of that day; empty: no deadline),\n"
	"finished_at (empty: not finished), complaint (0 or 1) and updated_at; times\n"
	"are ISO 8601 (2026-07-01T09:30:00+07:00; without an offset, Vietnam time).\n"
	"A dossier already stored (same agency and code) is replaced only by a record\n"
	"with a newer updated_at.  One transaction, bad rows listed as above.  The\n"
	"per-dossier rate (`sipas score --per-dossier`, the report) is counted from\n"
	"them; docs/onestop.md.\n"
	"\n"
	"  --records   the file holds dossier records, not totals\n"
	"  --db PATH   database file (default $SIPAS_DB, else ./sipas.db)\n";

/* --records: load the file's records; *summary says what became of them. */
static int import_records(struct cli_session *s, FILE *fp, const char *file, struct csv_bad_rows *bad,
			  char *summary, size_t size, struct err *e)
{
	struct records_stats stats;
	struct stat sb;
	int rc;

	rc = records_import_csv(s->db, s->reg, fp, fp == stdin ? "<stdin>" : file,
				fstat(fileno(fp), &sb) == 0 && S_ISREG(sb.st_mode) ? (uint64_t)sb.st_size : 0,
				(int64_t)time(NULL), &stats, bad, e);
	if (!rc)
		snprintf(summary, size, "%s: %ld records read: %ld stored, %ld updated, %ld unchanged, "
			 "%ld older than the stored ones (ignored)", file, stats.rows,
			 stats.outcomes[RECORDS_STORED], stats.outcomes[RECORDS_UPDATED],
			 stats.outcomes[RECORDS_UNCHANGED], stats.outcomes[RECORDS_OLDER]);
	return rc;
}

int cmd_dossiers(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "records", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *db_opt = NULL, *file;
	struct dossier_stats stats;
	struct csv_bad_rows *bad = NULL;
	struct cli_session s = { NULL, NULL, NULL };
	FILE *fp;
	struct err e;
	char summary[4200];
	int c, rc, records = 0;

	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db_opt = optarg; break;
		case 'r': records = 1; break;
		case 'h': return cli_help(cmd_dossiers_usage);
		default: return cli_usage_error("dossiers", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind + 2 != argc || strcmp(argv[optind], "import") != 0)
		return cli_usage_error("dossiers", "say import FILE (or - for standard input)");
	file = argv[optind + 1];
	err_clear(&e);
	fp = strcmp(file, "-") == 0 ? stdin : fopen(file, "rb");
	if (!fp) {
		err_set(&e, ERR_IO, "%s: cannot open: %m", file);
		return cli_fail(&e);
	}
	/* about 52 KiB: on the heap */
	bad = malloc(sizeof(*bad));
	rc = bad ? cli_session_open(&s, db_opt, 0, NULL, &e) : err_set(&e, ERR_NOMEM, "out of memory");
	if (!rc && records) {
		rc = import_records(&s, fp, file, bad, summary, sizeof(summary), &e);
	} else if (!rc) {
		rc = dossier_import(s.db, s.reg, fp, fp == stdin ? "<stdin>" : file, &stats, bad, &e);
		if (!rc)
			snprintf(summary, sizeof(summary), "%s: %ld rows loaded, %ld stored rows replaced", file,
				 stats.rows, stats.replaced);
	}
	if (!rc)
		printf("%s\n", summary);
	else if (bad && bad->bad)
		csv_bad_rows_print(bad, stderr);
	if (s.db)
		cli_audit_alone(s.db, records ? "dossiers.import_records" : "dossiers.import", rc ? file : summary,
				rc ? &e : NULL);
	free(bad);
	cli_session_close(&s);
	if (fp != stdin)
		fclose(fp);
	return rc ? cli_fail(&e) : 0;
}
