/*
 * cmd_dossiers.c - `sipas dossiers import FILE|-`: load how many dossiers
 * each agency handled per sector and period, from the one-stop system, for
 * the counter method's dossier-based rate (responses/dossiers.c).  The load
 * and its outcome are recorded in the audit log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "../responses/dossiers.h"

const char cmd_dossiers_usage[] =
	"usage: sipas dossiers import FILE|- [--db PATH]\n"
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
	"  --db PATH   database file (default $SIPAS_DB, else ./sipas.db)\n";

int cmd_dossiers(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *db_opt = NULL, *file;
	struct dossier_stats stats;
	struct csv_bad_rows *bad = NULL;
	struct cli_session s = { NULL, NULL, NULL };
	FILE *fp;
	struct err e;
	int c, rc;

	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db_opt = optarg; break;
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
	if (!rc)
		rc = dossier_import(s.db, s.reg, fp, fp == stdin ? "<stdin>" : file, &stats, bad, &e);
	if (!rc)
		printf("%s: %ld rows loaded, %ld stored rows replaced\n", file, stats.rows, stats.replaced);
	else if (bad && bad->bad)
		csv_bad_rows_print(bad, stderr);
	if (s.db) {
		char subject[4200];

		if (rc)
			snprintf(subject, sizeof(subject), "%s", file);
		else
			snprintf(subject, sizeof(subject), "%s: %ld rows loaded, %ld stored rows replaced", file,
				 stats.rows, stats.replaced);
		cli_audit_alone(s.db, "dossiers.import", subject, rc ? &e : NULL);
	}
	free(bad);
	cli_session_close(&s);
	if (fp != stdin)
		fclose(fp);
	return rc ? cli_fail(&e) : 0;
}
