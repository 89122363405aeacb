/*
 * cmd_hub.c - `sipas hub init` and `sipas hub grant`: the national hub's
 * schema on PostgreSQL, and a province's push role (docs/hub.md).  Run by
 * the hub's owner; the provinces run `sipas push`.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "../hub/hub_pg.h"
#include "../hub/hub_schema.h"
#include "../lib/secret.h"

#define HUB_PASSWORD_MAX 256

const char cmd_hub_usage[] =
	"usage: sipas hub init --hub CONNINFO\n"
	"       sipas hub grant --hub CONNINFO --province CODE --role NAME [--password-file FILE]\n"
	"\n"
	"The national hub on PostgreSQL 15, which the provinces push to (sipas push)\n"
	"and the ministry scores the country from (sipas score --hub, sipas report\n"
	"--hub); docs/hub.md.\n"
	"\n"
	"init creates the hub's schema `sipas` in the database CONNINFO names: its\n"
	"tables, responses partitioned by quarter, row-level security, and the group\n"
	"roles sipas_push (every province's push role) and sipas_ministry (read\n"
	"everything: GRANT sipas_ministry TO a reader).  Run it as the role that is\n"
	"to own the tables, one that may create roles.  Again on a hub that has\n"
	"them, it changes nothing.\n"
	"\n"
	"grant registers province CODE (1 to 12 letters, digits or '-') and creates\n"
	"the login role NAME (unless it exists) as its push role: it writes its own\n"
	"province's rows and no other's, and owns no table.\n"
	"\n"
	"  --hub CONNINFO       a libpq connection string (\"host=... dbname=...\") or a\n"
	"                       service name (pg_service.conf); a password only through\n"
	"                       libpq's own means (PGPASSFILE, the service file), never\n"
	"                       here\n"
	"  --province CODE      the province the role pushes\n"
	"  --role NAME          the push role's name\n"
	"  --password-file FILE set the role's password to the first line of FILE,\n"
	"                       hashed here (SCRAM): the server never sees it\n";

int cmd_hub(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "hub", required_argument, NULL, 'H' },
		{ "province", required_argument, NULL, 'p' },
		{ "role", required_argument, NULL, 'r' },
		{ "password-file", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *hub = NULL, *province = NULL, *role = NULL, *password_file = NULL, *action;
	char password[HUB_PASSWORD_MAX + 2] = "";
	PGconn *conn = NULL;
	struct err e;
	int ch, rc, created = 0;

	cli_getopt_reset();
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'H': hub = optarg; break;
		case 'p': province = optarg; break;
		case 'r': role = optarg; break;
		case 'P': password_file = optarg; break;
		case 'h': return cli_help(cmd_hub_usage);
		default: return cli_usage_error("hub", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("hub", "give one action: init or grant");
	action = argv[optind];
	if (strcmp(action, "init") != 0 && strcmp(action, "grant") != 0)
		return cli_usage_error("hub", "unknown action '%s'", action);
	if (!hub)
		return cli_usage_error("hub", "--hub CONNINFO is required");
	if (strcmp(action, "init") == 0 && (province || role || password_file))
		return cli_usage_error("hub", "init takes --hub only");
	if (strcmp(action, "grant") == 0 && (!province || !role))
		return cli_usage_error("hub", "grant needs --province and --role");
	if (password_file && cli_read_password("hub", "--password-file", password_file, password, sizeof(password)))
		return 1;
	err_clear(&e);
	rc = hub_connect(hub, &conn, &e);
	if (!rc && strcmp(action, "init") == 0)
		rc = hub_schema_create(conn, &created, &e);
	else if (!rc)
		rc = hub_grant(conn, province, role, &e);
	if (!rc && *password)
		rc = hub_set_password(conn, role, password, &e);
	secret_wipe(password, sizeof(password));
	PQfinish(conn);
	if (rc)
		return cli_fail(&e);
	if (strcmp(action, "init") == 0)
		printf(created ? "hub: schema %s created (version %d)\n" : "hub: schema %s is there (version %d)\n",
		       HUB_SCHEMA, HUB_SCHEMA_VERSION);
	else
		printf("hub: %s pushes province %s%s\n", role, province, password_file ? " (password set)" : "");
	return 0;
}
