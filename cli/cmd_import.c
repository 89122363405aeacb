/*
 * cmd_import.c - `sipas import --form ID FILE|-`: load survey responses from
 * CSV (docs/design.md).  All-or-nothing per file; re-importing changes nothing.
 * A refused file's bad rows are listed, the first hundred, one a line.
 * With --skip-empty, blank questionnaires are skipped and their lines listed.
 * Rows in a published period are said at once, with how to republish.
 * The import and its outcome are recorded in the audit log once it is done.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "../forms/registry.h"
#include "../responses/import.h"

const char cmd_import_usage[] =
	"usage: sipas import --form ID [--db PATH] [--skip-empty] [--verbose] FILE|-\n"
	"\n"
	"Import survey responses to form ID from a CSV file (or standard input).\n"
	"The file imports whole or not at all: any bad row refuses the file.  Every\n"
	"row is checked and the bad ones are listed on stderr, one a line naming its\n"
	"line and column (FILE:LINE: column X: why): the first 100, then how many\n"
	"more.  Rows that fall in a quarter already published are stored, but the\n"
	"public figures do not change until it is published again; the import says\n"
	"so on stderr as soon as it meets the first, with the commands that publish\n"
	"it again.  Rows already stored with identical content are skipped, so\n"
	"importing a file twice changes nothing.  Dates\n"
	"must lie from 2000-01-01 to tomorrow.  Rows are checked before the\n"
	"database's write lock is taken, then copied in short transactions (a\n"
	"running collector's posts wait a few tens of milliseconds at most) and\n"
	"seen by scores and reports only once all are in.  An import killed\n"
	"meanwhile leaves nothing seen; the next import, init or serve removes\n"
	"its rows.  Files as Excel saves them are read: fields separated by\n"
	"',', ';' or a tab (the one the header uses), a decimal comma when it is\n"
	"';' or a tab, dates as DD/MM/YYYY (day first); rows of nothing but\n"
	"separators are skipped.  The file must be UTF-8 (\"CSV UTF-8\").\n"
	"\n"
	"  --form ID     the questionnaire the responses answer (e.g. sipas-2017)\n"
	"  --db PATH     database file (default $SIPAS_DB, else ./sipas.db)\n"
	"  --skip-empty  skip rows with their ids but no answer at all (no question,\n"
	"                demographic, follow-up or comment: a questionnaire that came\n"
	"                back blank) instead of refusing the file; prints how many\n"
	"                and the first ten of their lines\n"
	"  --verbose     also say on stderr how long checking took, how long the\n"
	"                write lock was held in all and its longest single hold\n";

/* "FILE: N empty rows skipped, lines 4, 5, …": the first lines, then an
 * ellipsis when there were more. */
static void print_skipped(const char *file, const struct import_stats *stats)
{
	long shown = stats->skipped < IMPORT_SKIPPED_LINES ? stats->skipped : IMPORT_SKIPPED_LINES;

	printf("%s: %ld empty %s skipped, %s", file, stats->skipped, stats->skipped == 1 ? "row" : "rows",
	       stats->skipped == 1 ? "line" : "lines");
	for (long i = 0; i < shown; i++)
		printf("%s%ld", i ? ", " : " ", stats->skipped_lines[i]);
	printf("%s\n", stats->skipped > shown ? ", …" : "");
}

/* import_report's published(): said at once, before the rest of the file
 * is read, so that the operator knows the public figures will not move,
 * with the commands that publish them again (--early while the quarter
 * runs, as sipas publish requires). */
static void tell_published(void *arg, const char *name, long line, const char *form, const struct period *p)
{
	(void)arg;
	fprintf(stderr, "sipas: %s:%ld: %s %s is published: this file's rows in it are stored, but the "
		"public figures do not change until you publish it again: sipas publish --withdraw --period %s "
		"--form %s, then sipas publish --period %s --form %s%s\n", name, line, form, p->label, p->label,
		form, p->label, form, p->last_day >= period_today() ? " --early" : "");
}

int cmd_import(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "form", required_argument, NULL, 'f' },
		{ "skip-empty", no_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *db_opt = NULL, *form_id = NULL, *file;
	struct import_report *report = NULL;
	struct import_stats stats;
	struct cli_session s = { NULL, NULL, NULL };
	FILE *fp = NULL;
	struct stat sb;
	struct err e;
	unsigned flags = 0;
	int c, rc, verbose = 0;

	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db_opt = optarg; break;
		case 'f': form_id = optarg; break;
		case 's': flags |= IMPORT_SKIP_EMPTY; break;
		case 'v': verbose = 1; break;
		case 'h': return cli_help(cmd_import_usage);
		default: return cli_usage_error("import", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (!form_id)
		return cli_usage_error("import", "--form ID is required");
	if (optind != argc - 1)
		return cli_usage_error("import", "give exactly one FILE (or - for standard input)");
	file = argv[optind];
	err_clear(&e);
	if (strcmp(file, "-") == 0) {
		fp = stdin;
	} else {
		fp = fopen(file, "rb");
		if (!fp) {
			err_set(&e, ERR_IO, "%s: cannot open: %m", file);
			return cli_fail(&e);
		}
	}
	report = calloc(1, sizeof(*report));
	rc = report ? cli_session_open(&s, db_opt, 0, form_id, &e) : err_set(&e, ERR_NOMEM, "out of memory");
	if (!rc)
		rc = import_clean_pending(s.db, stderr, &e);
	if (!rc) {
		report->published = tell_published;
		rc = import_csv(s.db, s.reg, s.form, fp, strcmp(file, "-") == 0 ? "<stdin>" : file,
				fstat(fileno(fp), &sb) == 0 && S_ISREG(sb.st_mode) ? (uint64_t)sb.st_size : 0,
				flags, &stats, report, &e);
		if (rc)
			csv_bad_rows_print(&report->rows, stderr);
	}
	if (!rc)
		printf("%s: %ld rows: %ld imported, %ld already stored\n", file, stats.rows,
		       stats.added, stats.duplicates);
	if (!rc && stats.skipped)
		print_skipped(file, &stats);
	if (!rc && verbose)
		fprintf(stderr, "%s: checked and staged in %.3f s; write lock held %.3f s in all, longest single "
			"hold %.3f s\n", file, stats.stage_seconds, stats.lock_seconds, stats.longest_hold);
	if (s.db) {
		/* the rows are copied in short transactions of their own: the
		 * record follows them, with what was imported or why not */
		char subject[4400];

		if (rc)
			snprintf(subject, sizeof(subject), "%s, form %s", file, form_id);
		else
			snprintf(subject, sizeof(subject), "%s, form %s: %ld rows: %ld imported, %ld already stored",
				 file, form_id, stats.rows, stats.added, stats.duplicates);
		cli_audit_alone(s.db, "import", subject, rc ? &e : NULL);
	}
	free(report);
	cli_session_close(&s);
	if (fp != stdin)
		fclose(fp);
	return rc ? cli_fail(&e) : 0;
}
