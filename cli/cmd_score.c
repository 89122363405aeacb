/*
 * cmd_score.c - `sipas score`: compute the indices (docs/scoring.md) for a period and
 * print them as JSON, CSV or a table.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "../forms/registry.h"
#include "../db/db.h"
#include "../hub/hub_pg.h"
#include "../hub/hub_score.h"
#include "../lib/period.h"
#include "../reports/rep_export.h"
#include "../reports/rep_records.h"
#include "../reports/rep_score.h"
#include "../scoring/score.h"
#include "../scoring/score_records.h"

const char cmd_score_usage[] =
	"usage: sipas score --period P [--form ID] [--by agency|sector|agency,sector]\n"
	"                   [--rake MARGINS.csv] [--as-of DAY] [--format json|csv|table] [--excel-vn]\n"
	"                   [--db PATH]\n"
	"       sipas score --period P --per-dossier [--format F] [--db PATH]\n"
	"       sipas score --hub CONNINFO --period P [--by province|agency|sector|agency,sector]\n"
	"                   [--province X] [--form ID] [--format json|csv|table] [--excel-vn]\n"
	"\n"
	"Compute satisfaction indices with 95% intervals and target verdicts for the\n"
	"responses to one form submitted in period P (docs/scoring.md).\n"
	"\n"
	"With --per-dossier, the per-dossier rate instead (docs/onestop.md): from the\n"
	"dossier records (sipas dossiers import --records, POST /api/dossiers), per\n"
	"agency and sector, for P and each of its months, the dossiers finished and\n"
	"the shares late, with a complaint, rated unhappy, and with none of the three\n"
	"(unrated dossiers count as satisfied), counting only the agency, sector and\n"
	"period cells with records and saying how many of the cells with records or\n"
	"ratings that is.\n"
	"\n"
	"  --period P      2026Q3, 2026, or 2026-07-01..2026-09-30 (Vietnam dates);\n"
	"                  a period that has not started yet is refused\n"
	"  --form ID       the questionnaire (default sipas-2017)\n"
	"  --by KEY        groups after the whole period: agency, sector, or\n"
	"                  agency,sector (default: every agency, then every sector)\n"
	"  --rake FILE     rake the weights to population totals (variable,level,total);\n"
	"                  standard errors then account for the calibration\n"
	"  --as-of DAY     score the agencies as they stand on DAY (YYYY-MM-DD): the\n"
	"                  respondents of an agency that had ended by then (merged,\n"
	"                  agencies.csv's successor) are pooled into its successor's\n"
	"                  (default: the agencies as they were in P)\n"
	"  --format F      json, csv or table (default: table on a terminal, else json)\n"
	"  --excel-vn      with --format csv: for Excel in Vietnamese settings (';'\n"
	"                  between fields, decimal commas, a UTF-8 BOM)\n"
	"  --per-dossier   the per-dossier rate from dossier records (see above)\n"
	"  --hub CONNINFO  national scores from the hub (docs/hub.md): every province's\n"
	"                  responses as one sample, agencies, strata and PSUs named\n"
	"                  PROVINCE.CODE; a libpq connection string or service name\n"
	"                  (passwords through PGPASSFILE or a service file)\n"
	"  --by province   with --hub: one group per province after the country\n"
	"  --province X    with --hub: only province X's responses\n"
	"  --db PATH       database file (default $SIPAS_DB, else ./sipas.db)\n";

/* --per-dossier: the rate from dossier records, in the format asked for. */
static int score_per_dossier(const char *db_opt, const struct period *period, const char *format,
			     struct err *e)
{
	struct cli_session s = { NULL, NULL, NULL };
	struct score_records *res = NULL;
	int rc = cli_session_open(&s, db_opt, DB_READONLY, NULL, e);

	if (!rc)
		rc = score_records_run(s.db, s.reg, period, &res, e);
	if (!rc && strcmp(format, "json") == 0) {
		json_t *doc = rep_records_json(res);

		if (!doc || rep_json_dumpf(doc, JSON_INDENT(1), stdout) != 0)
			rc = err_set(e, ERR_IO, "writing JSON failed");
		json_decref(doc);
	} else if (!rc && (strcmp(format, "csv") == 0 ? rep_records_csv(res, stdout)
						      : rep_records_table(res, stdout))) {
		rc = err_set(e, ERR_IO, "writing the rate failed");
	}
	if (!rc && res->groups[0].period.cells == 0)
		fprintf(stderr, "sipas score: no dossier records finished in %s\n", period->label);
	score_records_free(res);
	cli_session_close(&s);
	return rc;
}

/* What the user should know of a dossier cell, on stderr, once per cell
 * (not once per group holding it): more ratings than dossiers, or months
 * missing from a quarter, which leave the cell out of the rates. */
static void warn_cell(const struct score_dossier_cell *c)
{
	struct period q;

	period_of_quarter(c->quarter, &q);
	if (c->complete && c->ratings > c->dossiers) {
		fprintf(stderr, "sipas score: warning: %s, %s, %s: %ld ratings but %lld dossiers "
			"(check the dossier totals)\n", c->agency->code, c->sector->code, q.label, c->ratings,
			c->dossiers);
	} else if (!c->complete) {
		char loaded[32] = "", missing[32] = "", m[8];

		for (int i = 0; i < 3; i++) {
			char *list = c->months & (1u << i) ? loaded : missing;

			score_month_label(c->quarter, i, m);
			snprintf(list + strlen(list), sizeof(loaded) - strlen(list), "%s%s", *list ? " and " : "", m);
		}
		fprintf(stderr, "sipas score: warning: %s, %s, %s: no dossier total for %s (only %s): a quarter "
			"is summed from its months only when all three are loaded, so this cell is left out of "
			"the dossier-based rate\n", c->agency->code, c->sector->code, q.label, missing, loaded);
	}
}

/* Print a result in `format`, then on stderr what the user should know of
 * it: the raking's notice, no responses at all, the dossier cells left out. */
static int print_scores(const struct score_result *res, const char *format, int excel_vn, const char *form_id,
			const struct period *period, struct err *e)
{
	int rc = 0;

	if (strcmp(format, "json") == 0) {
		json_t *doc = rep_score_json(res);

		if (!doc || rep_json_dumpf(doc, JSON_INDENT(1), stdout) != 0)
			rc = err_set(e, ERR_IO, "writing JSON failed");
		json_decref(doc);
	} else if (strcmp(format, "csv") == 0 && excel_vn) {
		rc = rep_score_csv_excel_vn(res, stdout, e);
	} else if (strcmp(format, "csv") == 0) {
		if (rep_score_csv(res, stdout))
			rc = err_set(e, ERR_IO, "writing CSV failed");
	} else if (rep_score_table(res, stdout)) {
		rc = err_set(e, ERR_IO, "writing the table failed");
	}
	for (const char *l = res->notice; !rc && *l; l += *l == '\n') {
		size_t len = strcspn(l, "\n");

		fprintf(stderr, "sipas score: %.*s\n", (int)len, l);
		l += len;
	}
	if (!rc && res->rows == 0)
		fprintf(stderr, "sipas score: no responses to %s in %s\n", form_id, period->label);
	for (size_t k = 0; !rc && k < res->n_dossier_cells; k++)
		warn_cell(&res->dossier_cells[k]);
	return rc;
}

/* --hub: the national scores, or one province's (province non-NULL). */
static int score_hub(const char *conninfo, const char *form_id, const char *province, int by,
		     const struct period *period, const char *format, int excel_vn, struct err *e)
{
	struct hub_scores *hs = NULL;
	PGconn *conn = NULL;
	int rc = hub_connect(conninfo, &conn, e);

	if (!rc)
		rc = hub_score_run(conn, form_id, province, by, period, &hs, e);
	if (!rc)
		rc = print_scores(hs->res, format, excel_vn, form_id, period, e);
	hub_scores_free(hs);
	PQfinish(conn);
	return rc;
}

int cmd_score(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "period", required_argument, NULL, 'p' },
		{ "form", required_argument, NULL, 'f' },
		{ "by", required_argument, NULL, 'b' },
		{ "rake", required_argument, NULL, 'r' },
		{ "format", required_argument, NULL, 'o' },
		{ "as-of", required_argument, NULL, 'a' },
		{ "excel-vn", no_argument, NULL, 'x' },
		{ "per-dossier", no_argument, NULL, 'D' },
		{ "hub", required_argument, NULL, 'H' },
		{ "province", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *db_opt = NULL, *period_s = NULL, *form_id = "sipas-2017", *by_s = NULL, *as_of_s = NULL;
	const char *hub = NULL, *province = NULL;
	const char *format = isatty(STDOUT_FILENO) ? "table" : "json";
	struct score_options so = { 0, NULL };
	struct score_result *res = NULL;
	struct cli_session s = { NULL, NULL, NULL };
	int32_t as_of = 0;   /* --as-of's day */
	struct period period;
	struct err e;
	int c, rc, excel_vn = 0, per_dossier = 0, form_given = 0;

	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db_opt = optarg; break;
		case 'p': period_s = optarg; break;
		case 'f': form_id = optarg; form_given = 1; break;
		case 'b': by_s = optarg; break;
		case 'r': so.rake_path = optarg; break;
		case 'o': format = optarg; break;
		case 'a': as_of_s = optarg; break;
		case 'x': excel_vn = 1; break;
		case 'D': per_dossier = 1; break;
		case 'H': hub = optarg; break;
		case 'P': province = optarg; break;
		case 'h': return cli_help(cmd_score_usage);
		default: return cli_usage_error("score", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error("score", "unexpected argument '%s'", argv[optind]);
	if (!period_s)
		return cli_usage_error("score", "--period is required");
	if (strcmp(format, "json") && strcmp(format, "csv") && strcmp(format, "table"))
		return cli_usage_error("score", "--format '%s' is not json, csv or table", format);
	if (excel_vn && strcmp(format, "csv"))
		return cli_usage_error("score", "--excel-vn goes with --format csv");
	if (per_dossier && (excel_vn || by_s || so.rake_path || form_given))
		return cli_usage_error("score", "--per-dossier takes only --period, --format and --db");
	if (hub && (db_opt || so.rake_path || as_of_s || per_dossier))
		return cli_usage_error("score", "--hub does not go with --db, --rake, --as-of or --per-dossier");
	if (province && !hub)
		return cli_usage_error("score", "--province goes with --hub");
	if (by_s && strcmp(by_s, "province") == 0 && !hub)
		return cli_usage_error("score", "--by province goes with --hub (national scores)");
	err_clear(&e);
	rc = period_parse(period_s, &period, &e);
	if (!rc)
		rc = period_check_started(&period, period_today(), &e);
	if (!rc && per_dossier)
		return score_per_dossier(db_opt, &period, format, &e) ? cli_fail(&e) : 0;
	if (!rc && by_s && strcmp(by_s, "province") == 0)
		so.by = HUB_SCORE_BY_PROVINCE;
	else if (!rc && by_s)
		rc = score_parse_by(by_s, &so.by, &e);
	if (!rc && hub)
		return score_hub(hub, form_id, province, so.by, &period, format, excel_vn, &e) ? cli_fail(&e) : 0;
	if (!rc && as_of_s && period_parse_day(as_of_s, &as_of, NULL))
		rc = err_set_field(&e, ERR_INVALID, "as-of", "--as-of '%s' is not a day (YYYY-MM-DD)", as_of_s);
	if (!rc)
		rc = cli_session_open(&s, db_opt, DB_READONLY, form_id, &e);
	if (!rc)
		rc = as_of_s ? score_run_as_of(s.db, s.reg, s.form, &period, &so, as_of, &res, &e)
			     : score_run(s.db, s.reg, s.form, &period, &so, &res, &e);
	if (!rc)
		rc = print_scores(res, format, excel_vn, form_id, &period, &e);
	score_result_free(res);
	cli_session_close(&s);
	return rc ? cli_fail(&e) : 0;
}
