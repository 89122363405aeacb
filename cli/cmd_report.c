/*
 * cmd_report.c - `sipas report`: the quarterly report for the standing
 * office and the public (docs/report.md), written into a directory.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "../reports/rep_publish.h"
#include "../db/db.h"
#include "../forms/registry.h"
#include "../hub/hub_pg.h"
#include "../hub/hub_report.h"
#include "../reports/rep_report.h"

const char cmd_report_usage[] =
	"usage: sipas report --period P --out DIR [--form ID] [--db PATH]\n"
	"       sipas report --hub CONNINFO --period P --out DIR [--form ID]\n"
	"\n"
	"Write the quarterly SIPAS report for quarter P into DIR (created if missing):\n"
	"index.html, methodology.html, scores.csv, scores-excel-vn.csv (for Excel in\n"
	"Vietnamese settings), scores.json, counter.csv and counter.json (the kiosk\n"
	"ratings) and scores.xlsx (docs/report.md).  Design weights; the trend covers\n"
	"P and the three quarters before it, all with design weights (a quarter\n"
	"published with --rake is scored again and gets a note).\n"
	"\n"
	"  --period P      a quarter, such as 2026Q3\n"
	"  --out DIR       the output directory\n"
	"  --form ID       the questionnaire (default sipas-2017)\n"
	"  --db PATH       database file (default $SIPAS_DB, else ./sipas.db)\n"
	"  --hub CONNINFO  the national report from the hub instead (docs/hub.md):\n"
	"                  national.html, national.csv and national.json, the\n"
	"                  country's index and the provinces ranked with their\n"
	"                  intervals, places that cannot be told apart shown as one\n"
	"                  range (pairwise tests, Holm-adjusted at 5%)\n";

/* Say when the quarter was published and the database no longer gives the
 * figures that were (late ratings, a re-import): the public ones stay. */
static int note_if_published_differs(sqlite3 *db, const char *period_s, const char *form_id,
				     struct err *e)
{
	struct period p;
	int published, differs, rc = period_parse(period_s, &p, e);

	if (!rc)
		rc = rep_published_differs(db, &p, form_id, &published, &differs, e);
	if (!rc && differs)
		fprintf(stderr, "sipas report: %s of %s was published and the database now gives other "
			"figures; the public ones are those published (sipas publish --withdraw, then "
			"publish again, to replace them)\n", p.label, form_id);
	return rc;
}

/* --hub: the national report into out. */
static int report_hub(const char *conninfo, const char *form_id, const struct period *period, const char *out,
		      struct err *e)
{
	struct report_files files = { 0 };
	PGconn *conn = NULL;
	int rc = hub_connect(conninfo, &conn, e);

	if (!rc)
		rc = hub_report_render(conn, form_id, period, &files, e);
	if (!rc)
		rc = rep_files_write(&files, out, e);
	rep_files_release(&files);
	PQfinish(conn);
	return rc;
}

int cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "period", required_argument, NULL, 'p' },
		{ "form", required_argument, NULL, 'f' },
		{ "out", required_argument, NULL, 'o' },
		{ "hub", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *db_opt = NULL, *period_s = NULL, *form_id = "sipas-2017", *out = NULL, *hub = NULL;
	struct cli_session s = { NULL, NULL, NULL };
	struct report_files files = { 0 };
	struct period period;
	struct err e;
	int c, rc;

	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db_opt = optarg; break;
		case 'p': period_s = optarg; break;
		case 'f': form_id = optarg; break;
		case 'o': out = optarg; break;
		case 'H': hub = optarg; break;
		case 'h': return cli_help(cmd_report_usage);
		default: return cli_usage_error("report", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error("report", "unexpected argument '%s'", argv[optind]);
	if (!period_s)
		return cli_usage_error("report", "--period is required");
	if (!out || !*out)
		return cli_usage_error("report", "--out is required");
	if (hub && db_opt)
		return cli_usage_error("report", "--hub and --db do not go together");
	err_clear(&e);
	rc = period_parse(period_s, &period, &e);
	if (!rc)
		rc = period_check_started(&period, period_today(), &e);
	if (!rc && hub)
		rc = report_hub(hub, form_id, &period, out, &e);
	else if (!rc)
		rc = cli_session_open(&s, db_opt, DB_READONLY, form_id, &e);
	if (!rc && !hub)
		rc = rep_report_render(s.db, s.reg, s.form, period_s, NULL, &files, &e);
	if (!rc && !hub)
		rc = rep_files_write(&files, out, &e);
	if (!rc && !hub)
		rc = note_if_published_differs(s.db, period_s, form_id, &e);
	rep_files_release(&files);
	cli_session_close(&s);
	if (rc) {
		fprintf(stderr, "sipas report: %s\n", e.text);
		return err_exit_status(rc);
	}
	return 0;
}
