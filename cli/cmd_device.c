/*
 * cmd_device.c - `sipas device add|pair|list|revoke`: kiosk, admin and
 * system tokens for the collector (docs/collector.md, docs/onestop.md).  A new token, or a kiosk's
 * generated staff PIN, is printed once and stored only as a hash.  Adding,
 * pairing and revoking are recorded in the audit log with the change.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "../lib/period.h"
#include "../db/db.h"
#include "../collector/device.h"
#include "../lib/secret.h"

const char cmd_device_usage[] =
	"usage: sipas device add --agency CODE --counter NAME --sector CODE [--sector CODE ...]\n"
	"                        [--form CODE] [--pin PIN] [--pair [--base URL] [--svg FILE]] [--db PATH]\n"
	"   or: sipas device add --admin --counter NAME [--db PATH]\n"
	"   or: sipas device add --system --name NAME (--agency CODE [--agency CODE ...] |\n"
	"                        --all-agencies) [--db PATH]\n"
	"   or: sipas device pair ID [--pin PIN] [--base URL] [--svg FILE] [--db PATH]\n"
	"   or: sipas device list [--db PATH]\n"
	"   or: sipas device revoke ID [--db PATH]\n"
	"\n"
	"Manage collector credentials.  `add` prints a new token once: a kiosk token\n"
	"posts ratings for its agency and sectors only; an admin token reads /metrics; a\n"
	"system token lets a one-stop system make receipt links (POST /api/links) for\n"
	"its agencies only (docs/onestop.md).\n"
	"With --pair it prints instead a one-time pairing link for the kiosk tablet,\n"
	"valid 15 minutes: opening it there hands the tablet its token, which is never\n"
	"shown.  A kiosk also gets a 6-digit staff PIN that opens the tablet's staff\n"
	"mode (changing the sector): --pin's, or one generated and printed once on\n"
	"stderr (stdout is the token or link alone, for scripts).\n"
	"`pair` prints a new pairing link for a kiosk (a replaced tablet): the old\n"
	"tablet's token stops working when the link is used; the PIN stays unless\n"
	"--pin gives a new one (a kiosk without one gets one).  `list` shows each\n"
	"device's form, sectors, PIN, pairing, and when it was paired and last\n"
	"posted.  `revoke` disables a token at once.\n"
	"\n"
	"  --agency CODE   the agency whose counter the kiosk serves; with --system, an\n"
	"                  agency the system acts for (repeat for several)\n"
	"  --sector CODE   a sector the counter serves (repeat for several; the officer\n"
	"                  picks one on the tablet)\n"
	"  --counter NAME  where the device is (e.g. \"Quầy 3, Bộ phận Một cửa\")\n"
	"  --form CODE     the one form the kiosk posts (default kiosk-2018); not a survey\n"
	"                  (sipas-2017), which comes from signed links and imports\n"
	"  --pin PIN       the kiosk's staff PIN, 6 digits (default: a random one)\n"
	"  --pair          print a pairing link instead of the token\n"
	"  --base URL      the collector's address as the tablet reaches it (default\n"
	"                  the public address: $SIPAS_PUBLIC_URL, else 'sipas init\n"
	"                  --public-url', else http://127.0.0.1:8080)\n"
	"  --svg FILE      also write the pairing link as a QR code (SVG)\n"
	"  --admin         an admin token instead of a kiosk token\n"
	"  --system        a system token (a one-stop system) instead of a kiosk token\n"
	"  --name NAME     the system's name (e.g. \"one-stop system\")\n"
	"  --all-agencies  the system acts for every agency, present and future\n"
	"  --db PATH       database file (default $SIPAS_DB, else ./sipas.db)\n";

/* What a kiosk's pairing is, for `device list`. */
static const char *pairing_state(const struct device_info *d, const struct device_status *st)
{
	if (d->role != DEVICE_KIOSK)
		return "-";
	if (d->paired_at)
		return st->link_open ? "paired, link open" : "paired";
	return st->link_open ? "link open" : "not paired";
}

struct list_ctx {
	sqlite3 *db;
	struct err *e;
	int rc;
};

static int print_device(const struct device_info *d, void *arg)
{
	char created[32], paired[32], posted[32], state[32] = "active";
	struct list_ctx *ctx = arg;
	struct device_status st;
	int kiosk = d->role == DEVICE_KIOSK;

	ctx->rc = device_status(ctx->db, d->id, (int64_t)time(NULL), &st, ctx->e);
	if (ctx->rc)
		return -1;
	cli_format_time(d->created_at, created);
	cli_format_time(d->paired_at, paired);
	cli_format_time(d->last_post_at, posted);
	if (d->revoked_at) {
		char when[32];

		cli_format_time(d->revoked_at, when);
		snprintf(state, sizeof(state), "revoked %.10s", when);
	}
	printf("%-5lld %-14s %-6s %-16s %-17s %-17s %-17s %-19s %-11s %-17s %-3s %-24s %s\n", d->id,
	       d->public_id, device_role_info(d->role)->name, st.agencies[0] ? st.agencies : "-", created, paired,
	       posted, state, kiosk ? st.form : "-", pairing_state(d, &st), kiosk ? st.has_pin ? "yes" : "no" : "-",
	       kiosk ? st.sectors : "-", d->counter);
	return 0;
}

/* Inside the caller's transaction: a one-time pairing link of kiosk id
 * into url, also written as a QR code to svg when set. */
static int pairing_link(sqlite3 *db, long long id, const char *base, const char *svg, struct strbuf *url,
			struct err *e)
{
	int rc = device_pair_link(db, id, base, (int64_t)time(NULL), url, e);

	if (rc == ERR_INVALID && url->failed)
		rc = err_set(e, ERR_INVALID, "--base is too long");
	if (!rc && svg)
		rc = cli_write_qr_svg(svg, strbuf_str(url), "liên kết ghép nối máy đánh giá", e);
	return rc;
}

/* Run the caller's steps (already done: rc) to COMMIT with their audit
 * entry (`action` on "device ID" and `detail`), or roll back and record
 * the refusal. */
static int finish(sqlite3 *db, int rc, const char *action, long long id, const char *detail, struct err *e)
{
	char subject[256];

	if (id)
		snprintf(subject, sizeof(subject), "device %lld%s", id, detail);
	else
		snprintf(subject, sizeof(subject), "new device%s", detail);
	return cli_audit_commit(db, rc, action, subject, e);
}

/* A generated staff PIN goes to the person at the terminal, on stderr. */
static void print_made_pin(const char *made)
{
	if (*made)
		fprintf(stderr, "staff PIN: %s (it opens the kiosk's staff mode; it is shown only once)\n", made);
}

/* What a new device is, for its audit entry and the message: "kiosk for
 * CODE", "admin", "system for CODE,CODE" or "system for all agencies";
 * cut short to n bytes. */
static void describe(const struct device_spec *spec, char *out, size_t n)
{
	size_t len;

	snprintf(out, n, "%s%s%s", device_role_info(spec->role)->name,
		 spec->role == DEVICE_KIOSK ? " for " : spec->all_agencies ? " for all agencies" : "",
		 spec->role == DEVICE_KIOSK ? spec->agency : "");
	for (size_t i = 0; spec->role == DEVICE_SYSTEM && i < spec->n_agencies; i++) {
		len = strlen(out);
		snprintf(out + len, n - len, "%s%s", i ? "," : " for ", spec->agencies[i]);
	}
}

/* `device add`: the device, its sectors, its PIN and its pairing code in
 * one transaction; prints the token, or with base set the pairing link,
 * and a generated PIN on stderr. */
static int add(sqlite3 *db, const struct device_spec *spec, const char *pin, const char *base,
	       const char *svg, struct err *e)
{
	char token[DEVICE_TOKEN_LEN + 1], made[DEVICE_PIN_DIGITS + 1] = "", what[128], detail[160];
	struct strbuf url;
	long long id = 0;
	int rc = db_exec(db, "BEGIN IMMEDIATE", e);

	strbuf_init(&url, 8192);
	if (!rc)
		rc = device_check_open(db, spec, period_today(), e);
	if (!rc)
		rc = device_add(db, spec, token, &id, e);
	if (!rc && spec->role == DEVICE_KIOSK)
		rc = device_pin_give(db, id, pin, made, e);
	if (!rc && base)
		rc = pairing_link(db, id, base, svg, &url, e);
	describe(spec, what, sizeof(what));
	snprintf(detail, sizeof(detail), " (%s%s)", what, base ? ", pairing link" : "");
	rc = finish(db, rc, "device.add", id, detail, e);
	if (!rc) {
		/* stdout is the token or link alone: scripts take it with $(...) */
		printf("%s\n", base ? strbuf_str(&url) : token);
		if (base)
			fprintf(stderr, "device %lld added (kiosk for %s); open the link above on the tablet "
				"within 15 minutes: it works once\n", id, spec->agency);
		else
			fprintf(stderr, "device %lld added (%s); the token above is shown only once\n", id, what);
		print_made_pin(made);
	}
	secret_wipe(token, sizeof(token));
	secret_wipe(made, sizeof(made));
	strbuf_release(&url);
	return rc;
}

/* `device pair ID`: a new pairing link for an existing kiosk (a replaced
 * tablet); its PIN stays unless pin is set, a kiosk without one gets one. */
static int pair_again(sqlite3 *db, long long id, const char *pin, const char *base, const char *svg,
		      struct err *e)
{
	char made[DEVICE_PIN_DIGITS + 1] = "";
	struct strbuf url;
	int rc = db_exec(db, "BEGIN IMMEDIATE", e);

	strbuf_init(&url, 8192);
	if (!rc)
		rc = pairing_link(db, id, base, svg, &url, e);
	if (!rc)
		rc = device_pin_give(db, id, pin, made, e);
	rc = finish(db, rc, "device.pair", id, pin ? " (new PIN)" : "", e);
	if (!rc) {
		printf("%s\n", strbuf_str(&url));
		fprintf(stderr, "device %lld: open the link above on the new tablet within 15 minutes; once it "
			"is used, the old tablet's token stops working\n", id);
		print_made_pin(made);
	}
	secret_wipe(made, sizeof(made));
	strbuf_release(&url);
	return rc;
}

/* `device revoke ID`, with its audit entry. */
static int revoke(sqlite3 *db, long long id, struct err *e)
{
	int rc = db_exec(db, "BEGIN IMMEDIATE", e);

	if (!rc)
		rc = device_revoke(db, id, e);
	return finish(db, rc, "device.revoke", id, "", e);
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
		{ "pin", required_argument, NULL, 'P' },
		{ "base", required_argument, NULL, 'b' },
		{ "svg", required_argument, NULL, 'g' },
		{ "admin", no_argument, NULL, 'A' },
		{ "system", no_argument, NULL, 'S' },
		{ "name", required_argument, NULL, 'n' },
		{ "all-agencies", no_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *db_opt = NULL, *base = NULL, *svg = NULL, *pin = NULL, *action;
	enum { MAX_AGENCY_OPTIONS = 1000 };   /* more: --all-agencies */
	const char *sectors[DEVICE_MAX_SECTORS], *agencies[MAX_AGENCY_OPTIONS], *name = NULL;
	char public_url[URL_MAX];
	struct device_spec spec = { .role = DEVICE_KIOSK, .sectors = sectors, .agencies = agencies };
	sqlite3 *db = NULL;
	long long id;
	struct err e;
	int c, rc, admin = 0, system = 0, pair = 0;

	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db_opt = optarg; break;
		case 'a':
			if (spec.n_agencies == MAX_AGENCY_OPTIONS)
				return cli_usage_error("device", "at most %d --agency (or --all-agencies)",
						       MAX_AGENCY_OPTIONS);
			agencies[spec.n_agencies++] = spec.agency = optarg;
			break;
		case 's':
			if (spec.n_sectors == DEVICE_MAX_SECTORS)
				return cli_usage_error("device", "at most %d --sector", DEVICE_MAX_SECTORS);
			sectors[spec.n_sectors++] = optarg;
			break;
		case 'c': spec.counter = optarg; break;
		case 'f': spec.form = optarg; break;
		case 'p': pair = 1; break;
		case 'P': pin = optarg; break;
		case 'b': base = optarg; break;
		case 'g': svg = optarg; break;
		case 'A': admin = 1; break;
		case 'S': system = 1; break;
		case 'n': name = optarg; break;
		case 'L': spec.all_agencies = 1; break;
		case 'h': return cli_help(cmd_device_usage);
		default: return cli_usage_error("device", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_usage_error("device", "say add, pair, list or revoke");
	action = argv[optind];
	if (pin && !device_pin_valid(pin))
		return cli_usage_error("device", "--pin must be 6 digits");
	if (name && !system)
		return cli_usage_error("device", "--name goes with --system (a kiosk's or admin's is --counter)");
	if (spec.all_agencies && !system)
		return cli_usage_error("device", "--all-agencies goes with --system");
	if (strcmp(action, "add") == 0 && system) {
		if (optind + 1 != argc || !name || admin || spec.counter || spec.n_sectors || pair || pin || spec.form ||
		    base || svg)
			return cli_usage_error("device", "a system token takes --name and --agency or --all-agencies, "
					       "and no --admin, --counter, --sector, --form, --pin or --pair");
		if (spec.all_agencies == (spec.n_agencies > 0))
			return cli_usage_error("device", "a system token takes either --agency (one or more) or "
					       "--all-agencies");
		spec.counter = name;
	} else if (strcmp(action, "add") == 0) {
		if (optind + 1 != argc || !spec.counter || admin == !!spec.agency)
			return cli_usage_error("device", "add takes --counter and either --agency or --admin");
		if (spec.n_agencies > 1)
			return cli_usage_error("device", "a kiosk serves one --agency");
		if (admin && (spec.n_sectors || pair || pin || spec.form))
			return cli_usage_error("device", "an admin token has no --sector, --form, --pin or --pair");
		if (!admin && spec.n_sectors == 0)
			return cli_usage_error("device", "a kiosk needs --sector (the sectors its counter serves)");
		if ((base || svg) && !pair)
			return cli_usage_error("device", "--base and --svg go with --pair");
	} else if (strcmp(action, "pair") == 0) {
		if (optind + 2 != argc || spec.agency || spec.counter || spec.n_sectors || admin || system || pair)
			return cli_usage_error("device", "pair takes one device ID, and --pin, --base or --svg");
		pair = 1;
	} else if (strcmp(action, "list") == 0) {
		if (optind + 1 != argc || pin)
			return cli_usage_error("device", "list takes no arguments");
	} else if (strcmp(action, "revoke") == 0) {
		if (optind + 2 != argc || pin)
			return cli_usage_error("device", "revoke takes one device ID");
	} else {
		return cli_usage_error("device", "'%s' is not add, pair, list or revoke", action);
	}
	spec.role = system ? DEVICE_SYSTEM : admin ? DEVICE_ADMIN : DEVICE_KIOSK;
	err_clear(&e);
	rc = db_open(cli_db_path(db_opt), 0, &db, &e);
	if (rc)
		return cli_fail(&e);
	if (strcmp(action, "add") == 0) {
		rc = pair ? cli_public_url(db, base, public_url, &e) : 0;
		if (!rc)
			rc = add(db, &spec, pin, pair ? public_url : NULL, svg, &e);
	} else if (strcmp(action, "list") == 0) {
		struct list_ctx ctx = { db, &e, 0 };

		printf("%-5s %-14s %-6s %-16s %-17s %-17s %-17s %-19s %-11s %-17s %-3s %-24s %s\n", "id",
		       "public id", "role", "agency", "created (UTC)", "paired (UTC)", "last post (UTC)", "state",
		       "form", "pairing", "pin", "sectors", "counter");
		rc = device_list(db, print_device, &ctx, &e);
		if (!rc)
			rc = ctx.rc;
	} else {
		char *end;

		id = strtoll(argv[optind + 1], &end, 10);
		if (*end || id <= 0)
			rc = err_set(&e, ERR_INVALID, "'%s' is not a device id", argv[optind + 1]);
		else if (strcmp(action, "revoke") == 0)
			rc = revoke(db, id, &e);
		else
			rc = cli_public_url(db, base, public_url, &e);
		if (!rc && strcmp(action, "pair") == 0)
			rc = pair_again(db, id, pin, public_url, svg, &e);
		if (!rc && strcmp(action, "revoke") == 0)
			printf("device %lld revoked\n", id);
	}
	db_close(db);
	return rc ? cli_fail(&e) : 0;
}
