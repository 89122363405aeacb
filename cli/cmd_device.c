/*
 * cmd_device.c - `sipas device add|list|revoke`: kiosk and admin tokens for
 * the collector (docs/collector.md).  A new token is printed once and stored only as
 * a hash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "../db/db.h"
#include "../collector/device.h"

const char cmd_device_usage[] =
	"usage: sipas device add --agency CODE --counter NAME [--db PATH]\n"
	"   or: sipas device add --admin --counter NAME [--db PATH]\n"
	"   or: sipas device list [--db PATH]\n"
	"   or: sipas device revoke ID [--db PATH]\n"
	"\n"
	"Manage collector credentials.  `add` prints a new token once: a kiosk token\n"
	"posts ratings for its agency only; an admin token reads /metrics.  `revoke`\n"
	"disables a token at once.\n"
	"\n"
	"  --agency CODE   the agency whose counter the kiosk serves\n"
	"  --counter NAME  where the device is (e.g. \"Quầy 3, Bộ phận Một cửa\")\n"
	"  --admin         an admin token instead of a kiosk token\n"
	"  --db PATH       database file (default $SIPAS_DB, else ./sipas.db)\n";

static int print_device(const struct device_info *d, void *arg)
{
	char created[32] = "", revoked[32] = "active";
	time_t t = (time_t)d->created_at;
	struct tm tm;

	(void)arg;
	strftime(created, sizeof(created), "%Y-%m-%d %H:%M", gmtime_r(&t, &tm));
	if (d->revoked_at) {
		t = (time_t)d->revoked_at;
		strftime(revoked, sizeof(revoked), "revoked %Y-%m-%d", gmtime_r(&t, &tm));
	}
	printf("%-5lld %-14s %-6s %-16s %-17s %-19s %s\n", d->id, d->public_id,
	       d->role == DEVICE_ADMIN ? "admin" : "kiosk", d->agency[0] ? d->agency : "-", created,
	       revoked, d->counter);
	return 0;
}

int cmd_device(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "agency", required_argument, NULL, 'a' },
		{ "counter", required_argument, NULL, 'c' },
		{ "admin", no_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *db_opt = NULL, *agency = NULL, *counter = NULL, *action;
	char token[DEVICE_TOKEN_LEN + 1];
	sqlite3 *db = NULL;
	long long id;
	struct err e;
	int c, rc, admin = 0;

	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db_opt = optarg; break;
		case 'a': agency = optarg; break;
		case 'c': counter = optarg; break;
		case 'A': admin = 1; break;
		case 'h': return cli_help(cmd_device_usage);
		default: return cli_usage_error("device", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_usage_error("device", "say add, list or revoke");
	action = argv[optind];
	if (strcmp(action, "add") == 0 && (optind + 1 != argc || !counter || admin == !!agency))
		return cli_usage_error("device", "add takes --counter and either --agency or --admin");
	if (strcmp(action, "list") == 0 && optind + 1 != argc)
		return cli_usage_error("device", "list takes no arguments");
	if (strcmp(action, "revoke") == 0 && optind + 2 != argc)
		return cli_usage_error("device", "revoke takes one device ID");
	if (strcmp(action, "add") && strcmp(action, "list") && strcmp(action, "revoke"))
		return cli_usage_error("device", "'%s' is not add, list or revoke", action);
	err_clear(&e);
	rc = db_open(cli_db_path(db_opt), 0, &db, &e);
	if (rc)
		return cli_fail(&e);
	if (strcmp(action, "add") == 0) {
		rc = device_add(db, admin ? DEVICE_ADMIN : DEVICE_KIOSK, agency, counter, token, &id, &e);
		if (!rc) {
			printf("%s\n", token);
			fprintf(stderr, "device %lld added (%s%s); the token above is shown only once\n", id,
				admin ? "admin" : "kiosk for ", admin ? "" : agency);
		}
		memset(token, 0, sizeof(token));
	} else if (strcmp(action, "list") == 0) {
		printf("%-5s %-14s %-6s %-16s %-17s %-19s %s\n", "id", "public id", "role", "agency",
		       "created (UTC)", "state", "counter");
		rc = device_list(db, print_device, NULL, &e);
	} else {
		char *end;

		id = strtoll(argv[optind + 1], &end, 10);
		if (*end || id <= 0)
			rc = err_set(&e, ERR_INVALID, "'%s' is not a device id", argv[optind + 1]);
		else
			rc = device_revoke(db, id, &e);
		if (!rc)
			printf("device %lld revoked\n", id);
	}
	db_close(db);
	return rc ? cli_fail(&e) : 0;
}
