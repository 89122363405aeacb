/*
 * cmd_demo.c - `sipas demo`: fill an empty database with a realistic
 * synthetic year (the last four complete quarters, or back across the
 * registry's latest merger) for both shipped forms,
 * or write synthetic responses as an import CSV (for benchmarks and trials).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "../forms/form_store.h"
#include "../forms/registry.h"
#include "../db/db.h"
#include "../collector/device.h"
#include "../responses/demo.h"
#include "../lib/period.h"

const char cmd_demo_usage[] =
	"usage: sipas demo [--db PATH] [--if-empty] [--seed N]\n"
	"   or: sipas demo --csv FILE|- --form ID --period YYYYQn --rows N [--seed N]\n"
	"\n"
	"Fill an empty database with synthetic responses to every stored form for\n"
	"every agency over the last four complete quarters (or back to the quarter\n"
	"before the registry's latest merger, at most eight), so that scores, pages\n"
	"and reports have data, each agency on the days it existed, and one demo\n"
	"kiosk per agency (revoked when its agency ended) whose counter ratings\n"
	"go on into this quarter up to yesterday, for the console's live views.\n"
	"With --csv, write responses as an import CSV instead of storing them.\n"
	"\n"
	"  --if-empty     do nothing (and succeed) when responses are already stored\n"
	"  --seed N       random seed (default 2026); the same seed gives the same data\n"
	"  --csv FILE     write CSV to FILE (- for standard output)\n"
	"  --form ID      with --csv: the form to answer\n"
	"  --period P     with --csv: the quarter, e.g. 2026Q3\n"
	"  --rows N       with --csv: how many responses\n"
	"  --db PATH      database file (default $SIPAS_DB, else ./sipas.db)\n";

static int write_csv(const char *db_opt, const char *file, const char *form_id, const char *period,
		     long rows, unsigned long seed, struct err *e)
{
	struct cli_session s = { NULL, NULL, NULL };
	FILE *out = NULL;
	int quarter, rc;

	rc = period_parse_quarter(period, &quarter, e);
	if (!rc)
		rc = cli_session_open(&s, db_opt, 0, form_id, e);
	if (!rc) {
		out = strcmp(file, "-") == 0 ? stdout : fopen(file, "wb");
		if (!out)
			rc = err_set(e, ERR_IO, "%s: cannot create: %m", file);
	}
	if (!rc)
		rc = demo_write_csv(out, s.reg, s.form, quarter, rows, seed, e);
	if (out && out != stdout && fclose(out) != 0 && !rc)
		rc = err_set(e, ERR_IO, "%s: write error", file);
	cli_session_close(&s);
	return rc;
}

/* demo_kiosks.add: a kiosk of the agency at its "Quầy 1 (demo)" counter,
 * whose token nobody holds (it raises no silent-kiosk alert: it was never
 * in service). */
static int add_demo_kiosk(void *arg, const char *form, const char *agency, const char *const *sectors,
			  size_t n_sectors, long long *device_id, struct err *e)
{
	sqlite3 *db = arg;
	char token[DEVICE_TOKEN_LEN + 1];
	struct device_spec spec = {
		.role = DEVICE_KIOSK, .agency = agency, .sectors = sectors,
		.n_sectors = n_sectors < DEVICE_MAX_SECTORS ? n_sectors : DEVICE_MAX_SECTORS,
		.counter = "Quầy 1 (demo)", .form = form,
	};

	return device_add(db, &spec, token, device_id, e);
}

static int fill(const char *db_opt, int if_empty, unsigned long seed, struct err *e)
{
	struct cli_session s = { NULL, NULL, NULL };
	struct form **forms = NULL;
	struct demo_kiosks kiosks = { add_demo_kiosk, NULL };
	struct demo_stats stats;
	size_t n_forms = 0;
	long long existing = 0;
	int32_t today = period_today();
	int rc, last = period_quarter_of_day(today) - 1, n_quarters = 0;

	rc = cli_session_open(&s, db_opt, 0, NULL, e);
	if (!rc)
		n_quarters = demo_quarters(s.reg, last);
	if (!rc)
		rc = db_query_int(s.db, "SELECT count(*) FROM responses", &existing, e);
	if (!rc && existing && if_empty) {
		printf("demo: the database already holds %lld responses; nothing added\n", existing);
		goto out;
	}
	if (!rc)
		rc = form_store_get_all(s.db, &forms, &n_forms, e);
	kiosks.arg = s.db;
	/* the kiosks and every response, or nothing */
	if (!rc)
		rc = db_exec(s.db, "BEGIN IMMEDIATE", e);
	if (!rc) {
		rc = demo_fill_db(s.db, s.reg, forms, n_forms, last, n_quarters, &kiosks, today, seed, &stats, e);
		if (!rc)
			rc = db_exec(s.db, "COMMIT", e);
		if (rc)
			db_exec(s.db, "ROLLBACK", NULL);
	}
	if (!rc) {
		struct period first, final, now;

		period_of_quarter(last - n_quarters + 1, &first);
		period_of_quarter(last, &final);
		period_of_quarter(last + 1, &now);
		printf("demo: %ld responses to %zu forms from %zu agencies, %s to %s, and %s's counter "
		       "ratings so far, from one demo kiosk per agency; %ld dossier records\n",
		       stats.stored, n_forms, s.reg->n_agencies, first.label, final.label, now.label, stats.records);
	}
out:
	form_store_free_all(forms, n_forms);
	cli_session_close(&s);
	return rc;
}

int cmd_demo(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "if-empty", no_argument, NULL, 'e' },
		{ "seed", required_argument, NULL, 's' },
		{ "csv", required_argument, NULL, 'c' },
		{ "form", required_argument, NULL, 'f' },
		{ "period", required_argument, NULL, 'p' },
		{ "rows", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *db_opt = NULL, *csv = NULL, *form = NULL, *period = NULL;
	unsigned long seed = 2026;
	long rows = -1;
	int c, rc, if_empty = 0;
	char *end;
	struct err e;

	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db_opt = optarg; break;
		case 'e': if_empty = 1; break;
		case 's':
			seed = strtoul(optarg, &end, 10);
			if (*end || !*optarg)
				return cli_usage_error("demo", "--seed '%s' is not a number", optarg);
			break;
		case 'c': csv = optarg; break;
		case 'f': form = optarg; break;
		case 'p': period = optarg; break;
		case 'n':
			rows = strtol(optarg, &end, 10);
			if (*end || !*optarg || rows < 0)
				return cli_usage_error("demo", "--rows '%s' is not a count", optarg);
			break;
		case 'h': return cli_help(cmd_demo_usage);
		default: return cli_usage_error("demo", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error("demo", "unexpected argument '%s'", argv[optind]);
	if (csv && (!form || !period || rows < 0))
		return cli_usage_error("demo", "--csv needs --form, --period and --rows");
	if (!csv && (form || period || rows >= 0))
		return cli_usage_error("demo", "--form, --period and --rows go with --csv");
	err_clear(&e);
	rc = csv ? write_csv(db_opt, csv, form, period, rows, seed, &e) : fill(db_opt, if_empty, seed, &e);
	return rc ? cli_fail(&e) : 0;
}
