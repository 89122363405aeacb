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
#include "../lib/secret.h"

const char cmd_device_usage[] =
	"usage: sipas device add --agency CODE --counter NAME --sector CODE [--sector CODE ...]\n"
	"                        [--form CODE] [--pair [--base URL] [--svg FILE]] [--db PATH]\n"
	"   or: sipas device add --admin --counter NAME [--db PATH]\n"
	"   or: sipas device list [--db PATH]\n"
	"   or: sipas device revoke ID [--db PATH]\n"
	"\n"
	"Manage collector credentials.  `add` prints a new token once: a kiosk token\n"
	"posts ratings for its agency and sectors only; an admin token reads /metrics.\n"
	"With --pair it prints instead a one-time pairing link for the kiosk tablet,\n"
	"valid 15 minutes: opening it there hands the tablet its token, which is never\n"
	"shown.  `list` shows when each device was paired and last posted.  `revoke`\n"
	"disables a token at once.\n"
	"\n"
	"  --agency CODE   the agency whose counter the kiosk serves\n"
	"  --sector CODE   a sector the counter serves (repeat for several; the officer\n"
	"                  picks one on the tablet)\n"
	"  --counter NAME  where the device is (e.g. \"Quầy 3, Bộ phận Một cửa\")\n"
	"  --form CODE     the one form the kiosk posts (default kiosk-2018); not a survey\n"
	"                  (sipas-2017), which comes from signed links and imports\n"
	"  --pair          print a pairing link instead of the token\n"
	"  --base URL      the collector's address as the tablet reaches it\n"
	"                  (default http://127.0.0.1:8080)\n"
	"  --svg FILE      also write the pairing link as a QR code (SVG)\n"
	"  --admin         an admin token instead of a kiosk token\n"
	"  --db PATH       database file (default $SIPAS_DB, else ./sipas.db)\n";

/* "YYYY-MM-DD HH:MM" (UTC) of t into out, or "-" when t is 0. */
static void format_time(long long t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!t)
		snprintf(out, 32, "-");
	else
		strftime(out, 32, "%Y-%m-%d %H:%M", gmtime_r(&tt, &tm));
}

static int print_device(const struct device_info *d, void *arg)
{
	char created[32], paired[32], posted[32], state[32] = "active";

	(void)arg;
	format_time(d->created_at, created);
	format_time(d->paired_at, paired);
	format_time(d->last_post_at, posted);
	if (d->revoked_at) {
		char when[32];

		format_time(d->revoked_at, when);
		snprintf(state, sizeof(state), "revoked %.10s", when);
	}
	printf("%-5lld %-14s %-6s %-16s %-17s %-17s %-17s %-19s %s\n", d->id, d->public_id,
	       d->role == DEVICE_ADMIN ? "admin" : "kiosk", d->agency[0] ? d->agency : "-", created,
	       paired, posted, state, d->counter);
	return 0;
}

/* `device add`: the device, its sectors and its pairing code in one
 * transaction; prints the token, or with base set the pairing link. */
static int add(sqlite3 *db, const struct device_spec *spec, const char *base, const char *svg,
	       struct err *e)
{
	char token[DEVICE_TOKEN_LEN + 1], code[DEVICE_PAIR_CODE_LEN + 1];
	struct strbuf url;
	long long id;
	int rc = db_exec(db, "BEGIN IMMEDIATE", e);

	strbuf_init(&url, 8192);
	if (!rc)
		rc = device_add(db, spec, token, &id, e);
	if (!rc && base) {
		rc = device_pairing_new(db, id, (int64_t)time(NULL), code, e);
		strbuf_addf(&url, "%s/pair/%s", base, code);
		if (!rc && url.failed)
			rc = err_set(e, ERR_INVALID, "--base is too long");
		if (!rc && svg)
			rc = cli_write_qr_svg(svg, strbuf_str(&url), "liên kết ghép nối máy đánh giá", e);
	}
	if (!rc)
		rc = db_exec(db, "COMMIT", e);
	if (rc) {
		db_exec(db, "ROLLBACK", NULL);
	} else if (base) {
		printf("%s\n", strbuf_str(&url));
		fprintf(stderr, "device %lld added (kiosk for %s); open the link above on the tablet "
			"within 15 minutes: it works once\n", id, spec->agency);
	} else {
		printf("%s\n", token);
		fprintf(stderr, "device %lld added (%s%s); the token above is shown only once\n", id,
			spec->role == DEVICE_ADMIN ? "admin" : "kiosk for ",
			spec->role == DEVICE_ADMIN ? "" : spec->agency);
	}
	secret_wipe(token, sizeof(token));
	secret_wipe(code, sizeof(code));
	strbuf_release(&url);
	return rc;
}

int cmd_device(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "agency", required_argument, NULL, 'a' },
		{ "sector", required_argument, NULL, 's' },
		{ "counter", required_argument, NULL, 'c' },
		{ "form", required_argument, NULL, 'f' },
		{ "pair", no_argument, NULL, 'p' },
		{ "base", required_argument, NULL, 'b' },
		{ "svg", required_argument, NULL, 'g' },
		{ "admin", no_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *db_opt = NULL, *base = NULL, *svg = NULL, *action;
	const char *sectors[DEVICE_MAX_SECTORS];
	struct device_spec spec = { DEVICE_KIOSK, NULL, sectors, 0, NULL, NULL };
	sqlite3 *db = NULL;
	long long id;
	struct err e;
	int c, rc, admin = 0, pair = 0;

	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db_opt = optarg; break;
		case 'a': spec.agency = optarg; break;
		case 's':
			if (spec.n_sectors == DEVICE_MAX_SECTORS)
				return cli_usage_error("device", "at most %d --sector", DEVICE_MAX_SECTORS);
			sectors[spec.n_sectors++] = optarg;
			break;
		case 'c': spec.counter = optarg; break;
		case 'f': spec.form = optarg; break;
		case 'p': pair = 1; break;
		case 'b': base = optarg; break;
		case 'g': svg = optarg; break;
		case 'A': admin = 1; break;
		case 'h': return cli_help(cmd_device_usage);
		default: return cli_usage_error("device", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_usage_error("device", "say add, list or revoke");
	action = argv[optind];
	if (strcmp(action, "add") == 0) {
		if (optind + 1 != argc || !spec.counter || admin == !!spec.agency)
			return cli_usage_error("device", "add takes --counter and either --agency or --admin");
		if (admin && (spec.n_sectors || pair || spec.form))
			return cli_usage_error("device", "an admin token has no --sector, --form or --pair");
		if (!admin && spec.n_sectors == 0)
			return cli_usage_error("device", "a kiosk needs --sector (the sectors its counter serves)");
		if ((base || svg) && !pair)
			return cli_usage_error("device", "--base and --svg go with --pair");
	} else if (strcmp(action, "list") == 0) {
		if (optind + 1 != argc)
			return cli_usage_error("device", "list takes no arguments");
	} else if (strcmp(action, "revoke") == 0) {
		if (optind + 2 != argc)
			return cli_usage_error("device", "revoke takes one device ID");
	} else {
		return cli_usage_error("device", "'%s' is not add, list or revoke", action);
	}
	spec.role = admin ? DEVICE_ADMIN : DEVICE_KIOSK;
	if (pair && !base)
		base = "http://127.0.0.1:8080";
	err_clear(&e);
	rc = db_open(cli_db_path(db_opt), 0, &db, &e);
	if (rc)
		return cli_fail(&e);
	if (strcmp(action, "add") == 0) {
		rc = add(db, &spec, pair ? base : NULL, svg, &e);
	} else if (strcmp(action, "list") == 0) {
		printf("%-5s %-14s %-6s %-16s %-17s %-17s %-17s %-19s %s\n", "id", "public id", "role",
		       "agency", "created (UTC)", "paired (UTC)", "last post (UTC)", "state", "counter");
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
