/*
 * cmd_push.c - `sipas push`: send what this province has stored since its
 * last push to the national hub (docs/hub.md, "Pushing a province").  Run
 * every 5 minutes by the systemd timer sipas-push.timer; the province's
 * database is only read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "../hub/hub_pg.h"
#include "../hub/hub_schema.h"
#include "../hub/push.h"
#include "../lib/clock.h"
#include "../lib/progress.h"

/* changed responses named on stderr before only their count is */
#define PUSH_CHANGES_SHOWN 20

const char cmd_push_usage[] =
	"usage: sipas push [--hub CONNINFO] [--province CODE] [--db PATH] [--batch N] [--full]\n"
	"\n"
	"Send what this province has stored since its last push to the national hub\n"
	"(docs/hub.md): the responses that became visible since (ratings at their\n"
	"commit, an import when it finished), the dossier records stored since, and\n"
	"the forms, the registry, the dossier totals and the published figures.  The\n"
	"hub keeps where each province database stopped, so a push that was cut off\n"
	"and run again sends every response once.  A response the hub holds with\n"
	"other content is reported and left as the hub has it.  The database is only\n"
	"read; a hub that is down costs only a retry.\n"
	"\n"
	"  --hub CONNINFO    a libpq connection string or service name (default\n"
	"                    $SIPAS_HUB); a password only through libpq's own means\n"
	"                    (PGPASSFILE, the service file), never here\n"
	"  --province CODE   this province's code on the hub (default $SIPAS_PROVINCE)\n"
	"  --db PATH         database file (default $SIPAS_DB, else ./sipas.db)\n"
	"  --batch N         responses per hub transaction (default 50000)\n"
	"  --full            send everything again, not only what is new (after\n"
	"                    restoring a backup): rows the hub has are left as they are\n";

struct changes {
	size_t n;
};

static void print_change(void *arg, const struct push_change *c)
{
	struct changes *ch = arg;

	if (ch->n++ < PUSH_CHANGES_SHOWN)
		fprintf(stderr, "sipas push: changed response: form %s, agency %s, response %s, %s: the hub keeps "
			"the one it has\n", c->form, c->agency, c->response_id, c->quarter);
}

/* A value from the option, else from the environment variable; NULL when
 * neither is set or empty. */
static const char *option_or_env(const char *opt, const char *var)
{
	const char *v = opt ? opt : getenv(var);

	return v && *v ? v : NULL;
}

int cmd_push(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "hub", required_argument, NULL, 'H' },
		{ "province", required_argument, NULL, 'p' },
		{ "db", required_argument, NULL, 'd' },
		{ "batch", required_argument, NULL, 'b' },
		{ "full", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *hub = NULL, *db_opt = NULL;
	struct push_options o = { NULL, PUSH_BATCH_DEFAULT, 0, NULL, print_change, NULL };
	struct changes changes = { 0 };
	struct push_source *src = NULL;
	struct push_stats st;
	struct progress progress;
	PGconn *conn = NULL;
	double started = clock_seconds();
	struct err e;
	char *end;
	int c, rc;

	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'H': hub = optarg; break;
		case 'p': o.province = optarg; break;
		case 'd': db_opt = optarg; break;
		case 'b':
			o.batch = strtoul(optarg, &end, 10);
			if (*end || optarg[0] == '-' || o.batch < 1 || o.batch > PUSH_BATCH_MAX)
				return cli_usage_error("push", "--batch '%s' is not a number from 1 to %d", optarg,
						       PUSH_BATCH_MAX);
			break;
		case 'f': o.full = 1; break;
		case 'h': return cli_help(cmd_push_usage);
		default: return cli_usage_error("push", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error("push", "unexpected argument '%s'", argv[optind]);
	hub = option_or_env(hub, "SIPAS_HUB");
	o.province = option_or_env(o.province, "SIPAS_PROVINCE");
	if (!hub)
		return cli_usage_error("push", "give the hub: --hub CONNINFO or SIPAS_HUB");
	if (!o.province)
		return cli_usage_error("push", "give the province: --province CODE or SIPAS_PROVINCE");
	if (!hub_province_ok(o.province))
		return cli_usage_error("push", "--province '%s' is not 1 to %d letters, digits or '-'", o.province,
				       HUB_MAX_PROVINCE);
	o.arg = &changes;
	err_clear(&e);
	rc = push_source_open(cli_db_path(db_opt), o.province, &src, &e);
	if (!rc)
		rc = hub_connect(hub, &conn, &e);
	if (!rc) {
		progress_start(&progress, "push", 0);
		o.progress = &progress;
		rc = push_run(conn, src, &o, &st, &e);
		progress_end(&progress);
	}
	PQfinish(conn);
	push_source_close(src);
	if (changes.n > PUSH_CHANGES_SHOWN)
		fprintf(stderr, "sipas push: and %zu more changed responses (the hub's sipas.conflicts lists them all)\n",
			changes.n - PUSH_CHANGES_SHOWN);
	if (rc) {
		if (o.progress && st.sent)
			fprintf(stderr, "sipas push: %zu responses were stored on the hub before this; the next push "
				"continues after them\n", st.sent);
		return cli_fail(&e);
	}
	printf("push %s: %zu responses sent (%zu new, %zu already there, %zu changed), %zu records, %zu form%s, "
	       "%zu agencies in %.1f s\n", o.province, st.sent, st.added, st.sent - st.added - st.changed, st.changed,
	       st.records, st.forms, st.forms == 1 ? "" : "s", st.agencies, clock_seconds() - started);
	return 0;
}
