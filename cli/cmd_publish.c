/*
 * cmd_publish.c - `sipas publish --period P`: compute a period's scores once
 * and store them as the public figures (reports/rep_publish.c); the
 * collector serves only those, so late ratings never move them.
 * `--withdraw` takes a period down.  Both are recorded in the audit log,
 * in the transaction that makes them (cli_audit_record); a refused one in
 * its own.
 */
#include <stdio.h>
#include <time.h>

#include "cli.h"
#include "../db/db.h"
#include "../lib/period.h"
#include "../office/audit.h"
#include "../reports/rep_publish.h"

const char cmd_publish_usage[] =
	"usage: sipas publish --period P [--form ID] [--rake MARGINS.csv] [--early] [--db PATH]\n"
	"   or: sipas publish --withdraw --period P [--form ID] [--db PATH]\n"
	"\n"
	"Compute the scores of quarter P (e.g. 2026Q3) for form ID, or for every form\n"
	"with responses in P, and store them as the public figures: the collector\n"
	"serves them at /api/scores, by agency, by sector and by agency and sector.\n"
	"Ratings that arrive later are kept but do not change what was published.\n"
	"A published period is published again only after --withdraw.\n"
	"Publishing is per quarter (not a year or a date range), once it has ended.\n"
	"\n"
	"  --form ID          one form only (default: every form with responses in P)\n"
	"  --rake MARGINS.csv publish scores raked to these population margins\n"
	"  --early            publish a quarter that has not ended yet; the published\n"
	"                     report says so, with the date\n"
	"  --withdraw         take period P down (for ID only, with --form)\n"
	"  --db PATH          database file (default $SIPAS_DB, else ./sipas.db)\n";

int cmd_publish(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "period", required_argument, NULL, 'p' },
		{ "form", required_argument, NULL, 'f' },
		{ "rake", required_argument, NULL, 'r' },
		{ "withdraw", no_argument, NULL, 'w' },
		{ "early", no_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *db_opt = NULL, *period_s = NULL, *form = NULL, *rake = NULL;
	char actor[AUDIT_ACTOR_MAX + 1], subject[128];
	struct rep_actor who = { actor, cli_audit_record, NULL };
	struct period p;
	sqlite3 *db = NULL;
	struct err e;
	int c, rc, withdraw = 0, early = 0, n = 0;

	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db_opt = optarg; break;
		case 'p': period_s = optarg; break;
		case 'f': form = optarg; break;
		case 'r': rake = optarg; break;
		case 'w': withdraw = 1; break;
		case 'e': early = 1; break;
		case 'h': return cli_help(cmd_publish_usage);
		default: return cli_usage_error("publish", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (!period_s || optind != argc)
		return cli_usage_error("publish", "--period is required");
	if (withdraw && (rake || early))
		return cli_usage_error("publish", "--%s does not go with --withdraw", rake ? "rake" : "early");
	err_clear(&e);
	rc = period_parse(period_s, &p, &e);
	if (!rc)
		rc = db_open(cli_db_path(db_opt), 0, &db, &e);
	audit_cli_actor(actor);
	if (!rc && withdraw)
		rc = rep_withdraw(db, &p, form, &who, &n, &e);
	else if (!rc)
		rc = rep_publish(db, &p, form, rake, (int64_t)time(NULL), early, &who, &n, &e);
	if (rc && db) {
		snprintf(subject, sizeof(subject), "%s: %.64s", p.label, form ? form : "every form");
		cli_audit_alone(db, withdraw ? "withdraw" : "publish", subject, &e);
	}
	if (!rc)
		printf("%s: %d form%s %s%s\n", p.label, n, n == 1 ? "" : "s", withdraw ? "withdrawn" : "published",
		       !withdraw && early && p.last_day >= period_today() ? " early, before the quarter ended" : "");
	db_close(db);
	return rc ? cli_fail(&e) : 0;
}
