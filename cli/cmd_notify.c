/*
 * cmd_notify.c - `sipas notify add|list|remove|test`: where the alerts'
 * notifications go (docs/monitoring.md, "Notifications").  A webhook's
 * signing secret is derived from the installation's key, printed once by
 * `add` and never stored.  Each change and its audit entry commit in one
 * transaction; a refused one is recorded in its own.  The running
 * collector delivers (monitor/notify.h): `test` queues a notification and
 * waits to see what became of it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "../db/db.h"
#include "../monitor/notify.h"
#include "../office/audit.h"

const char cmd_notify_usage[] =
	"usage: sipas notify add (--agency CODE | --all) (--webhook URL | --email ADDR) [--db PATH]\n"
	"   or: sipas notify list [--db PATH]\n"
	"   or: sipas notify remove ID [--db PATH]\n"
	"   or: sipas notify test ID [--wait SECONDS] [--db PATH]\n"
	"\n"
	"Where the collector (sipas serve) sends a notification when an alert opens\n"
	"or closes: a webhook (a signed JSON POST) or an e-mail address (through\n"
	"serve's --smtp-url), for one agency's alerts or every agency's.  `add`\n"
	"prints a webhook's signing secret on stdout, once: the receiver checks\n"
	"X-Sipas-Signature with it (docs/monitoring.md).  `list` shows each endpoint\n"
	"with its deliveries pending, delivered and failed (given up after 24 hours\n"
	"of retries), its last error, and then every failed delivery.  `remove`\n"
	"stops sending to one; what it was still owed is kept as failed.  `test`\n"
	"queues a test notification and waits for the running collector to deliver\n"
	"it: exit 0 once delivered, 1 when it failed or was not sent in time.\n"
	"Every change is recorded in the audit log (sipas audit).\n"
	"\n"
	"  --agency CODE   the agency whose alerts it gets (and those of no other)\n"
	"  --all           every agency's alerts\n"
	"  --webhook URL   an http or https URL (no user or password in it)\n"
	"  --email ADDR    an e-mail address (ten.nguoi@so-xd.example.vn)\n"
	"  --wait SECONDS  how long `test` waits for the delivery (default 30; 0: queue only)\n"
	"  --db PATH       database file (default $SIPAS_DB, else ./sipas.db)\n";

#define WAIT_DEFAULT 30
#define WAIT_MAX 3600

/* One change as the command line asked for it. */
struct change {
	const struct verb *verb;
	long long id;                 /* remove, test: the endpoint; add: the new one */
	const char *agency;           /* add: NULL with --all */
	int kind;                     /* add */
	const char *target;           /* add */
	const char *source;           /* add: "--webhook" or "--email" */
	char delivery[OUTBOX_DELIVERY_HEX + 1];   /* test */
};

static int run_add(sqlite3 *db, struct change *c, long long now, struct err *e)
{
	return notify_endpoint_add(db, c->agency, "--agency", c->kind, c->target, c->source, now, &c->id, e);
}

static int run_remove(sqlite3 *db, struct change *c, long long now, struct err *e)
{
	return notify_endpoint_remove(db, c->id, now, e);
}

static int run_test(sqlite3 *db, struct change *c, long long now, struct err *e)
{
	char actor[AUDIT_ACTOR_MAX + 1];

	audit_cli_actor(actor);
	return notify_queue_test(db, c->id, actor, now, c->delivery, e);
}

/* The changes: the word typed, the audit log's name, the step. */
static const struct verb {
	const char *word, *action;
	int (*run)(sqlite3 *db, struct change *c, long long now, struct err *e);
} verbs[] = {
	{ "add", "notify.add", run_add },
	{ "remove", "notify.remove", run_remove },
	{ "test", "notify.test", run_test },
};

/* What the audit log names: the endpoint, and for add its kind, target
 * and agency. */
static void describe(const struct change *c, struct strbuf *sb)
{
	if (c->verb->run != run_add) {
		strbuf_addf(sb, "endpoint %lld", c->id);
		return;
	}
	if (c->id)
		strbuf_addf(sb, "endpoint %lld ", c->id);
	strbuf_addf(sb, "(%s ", notify_kind_name(c->kind));
	cli_escape(sb, c->target);
	strbuf_addstr(sb, " for ");
	if (c->agency)
		cli_escape(sb, c->agency);
	else
		strbuf_addstr(sb, "all agencies");
	strbuf_addch(sb, ')');
}

/* Run c and its audit entry in one transaction; a refused change is
 * recorded in its own. */
static int change(sqlite3 *db, struct change *c, struct err *e)
{
	struct strbuf subject = STRBUF_INIT;
	int rc = db_exec(db, "BEGIN IMMEDIATE", e);

	if (!rc)
		rc = c->verb->run(db, c, (long long)time(NULL), e);
	describe(c, &subject);
	rc = cli_audit_commit(db, rc, c->verb->action, strbuf_str(&subject), e);
	strbuf_release(&subject);
	return rc;
}

static int print_endpoint(const struct notify_endpoint_info *ep, void *arg)
{
	struct strbuf *sb = arg;
	char created[32];

	cli_format_time(ep->created_at, created);
	strbuf_reset(sb);
	cli_escape(sb, ep->last_error ? ep->last_error : "-");
	printf("%-5lld %-8s %-12s %-17s %7lld %9lld %6lld  %s\n", ep->id, notify_kind_name(ep->kind),
	       ep->agency ? ep->agency : "(all)", created, ep->pending, ep->delivered, ep->failed, ep->target);
	if (ep->last_error)
		printf("      last error: %s\n", strbuf_str(sb));
	return 0;
}

static int print_failed(const struct notify_delivery *d, void *arg)
{
	struct strbuf *sb = arg;
	char created[32], failed[32];

	cli_format_time(d->created_at, created);
	cli_format_time(d->failed_at, failed);
	strbuf_reset(sb);
	cli_escape(sb, d->last_error);
	printf("%s  endpoint %lld  %-12s created %s  failed %s  after %lld attempt%s: %s\n", d->delivery,
	       d->endpoint_id, d->event, created, failed, d->attempts, d->attempts == 1 ? "" : "s", strbuf_str(sb));
	return 0;
}

static int list(sqlite3 *db, struct err *e)
{
	struct strbuf sb = STRBUF_INIT;
	int rc;

	printf("%-5s %-8s %-12s %-17s %7s %9s %6s  %s\n", "id", "kind", "agency", "added (UTC)", "pending",
	       "delivered", "failed", "target");
	rc = notify_list(db, print_endpoint, &sb, e);
	if (!rc) {
		printf("\nfailed deliveries (given up; newest first):\n");
		rc = notify_list_failed(db, 0, print_failed, &sb, e);
	}
	strbuf_release(&sb);
	return rc;
}

/* Wait up to seconds for the collector to deliver the test delivery:
 * 0 once delivered, 1 (said on stderr) when it failed or is still owed. */
static int wait_delivery(sqlite3 *db, const struct change *c, unsigned seconds, struct err *e)
{
	struct notify_delivery d;
	int rc = 0;

	for (unsigned tick = 0;; tick++) {
		rc = notify_delivery_find(db, c->delivery, &d, e);
		if (rc || d.delivered_at || d.failed_at || d.attempts > 0 || tick >= seconds * 5)
			break;
		nanosleep(&(struct timespec){ 0, 200 * 1000 * 1000 }, NULL);
	}
	if (rc)
		return cli_fail(e);
	if (d.delivered_at) {
		printf("delivery %s delivered to endpoint %lld\n", d.delivery, c->id);
		return 0;
	}
	if (d.attempts > 0)
		fprintf(stderr, "sipas notify: delivery %s to endpoint %lld %s: %s%s\n", d.delivery, c->id,
			d.failed_at ? "failed" : "not delivered", d.last_error,
			d.failed_at ? "" : " (the collector tries again; 'sipas notify list' shows it)");
	else
		fprintf(stderr, "sipas notify: delivery %s is queued but no collector sent it within %u s: "
			"is 'sipas serve' running on this database?\n", d.delivery, seconds);
	return 1;
}

/* Parse ID, a positive endpoint id. */
static int parse_id(const char *s, long long *out)
{
	char *end;
	long long v = strtoll(s, &end, 10);

	if (*end || !*s || v <= 0)
		return cli_usage_error("notify", "'%s' is not an endpoint id ('sipas notify list' shows them)", s);
	*out = v;
	return 0;
}

/* The secret of the webhook just added on stdout (alone, for scripts), and
 * what was added on stderr. */
static int print_added(sqlite3 *db, const struct change *c, struct err *e)
{
	uint8_t key[SECRET_KEY_BYTES];
	char secret[NOTIFY_SECRET_HEX + 1];
	int rc = 0;

	if (c->kind == NOTIFY_WEBHOOK) {
		rc = db_server_key(db, key, e);
		if (!rc)
			rc = notify_secret(key, c->id, secret, e);
		secret_wipe(key, sizeof(key));
		if (rc)
			return rc;
		printf("%s\n", secret);
		secret_wipe(secret, sizeof(secret));
	}
	fprintf(stderr, "endpoint %lld added (%s for %s)%s\n", c->id, notify_kind_name(c->kind),
		c->agency ? c->agency : "all agencies",
		c->kind == NOTIFY_WEBHOOK ? "; the secret above signs its deliveries and is shown only once" : "");
	return 0;
}

int cmd_notify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "agency", required_argument, NULL, 'a' },
		{ "all", no_argument, NULL, 'A' },
		{ "webhook", required_argument, NULL, 'w' },
		{ "email", required_argument, NULL, 'm' },
		{ "wait", required_argument, NULL, 'W' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *db_opt = NULL, *webhook = NULL, *email = NULL, *wait_opt = NULL, *action;
	struct change c = { 0 };
	unsigned wait = WAIT_DEFAULT;
	sqlite3 *db = NULL;
	struct err e;
	int ch, rc, all = 0;

	cli_getopt_reset();
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'd': db_opt = optarg; break;
		case 'a': c.agency = optarg; break;
		case 'A': all = 1; break;
		case 'w': webhook = optarg; break;
		case 'm': email = optarg; break;
		case 'W': wait_opt = optarg; break;
		case 'h': return cli_help(cmd_notify_usage);
		default: return cli_usage_error("notify", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_usage_error("notify", "say add, list, remove or test");
	action = argv[optind];
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(action, verbs[i].word) == 0)
			c.verb = &verbs[i];
	if (!c.verb && strcmp(action, "list") != 0)
		return cli_usage_error("notify", "'%s' is not add, list, remove or test", action);
	if (wait_opt) {
		char *end;
		long v = strtol(wait_opt, &end, 10);

		if (!c.verb || c.verb->run != run_test)
			return cli_usage_error("notify", "--wait goes with test");
		if (*end || !*wait_opt || v < 0 || v > WAIT_MAX)
			return cli_usage_error("notify", "--wait '%s' must be seconds from 0 to %d", wait_opt, WAIT_MAX);
		wait = (unsigned)v;
	}
	if (c.verb && c.verb->run == run_add) {
		if (optind + 1 != argc)
			return cli_usage_error("notify", "add takes options only");
		if (!c.agency == !all)
			return cli_usage_error("notify", "add takes --agency CODE or --all (one of them)");
		if (!webhook == !email)
			return cli_usage_error("notify", "add takes --webhook URL or --email ADDR (one of them)");
		c.kind = webhook ? NOTIFY_WEBHOOK : NOTIFY_EMAIL;
		c.target = webhook ? webhook : email;
		c.source = webhook ? "--webhook" : "--email";
	} else {
		if (c.agency || all || webhook || email)
			return cli_usage_error("notify", "--agency, --all, --webhook and --email go with add");
		if (optind + (c.verb ? 2 : 1) != argc)
			return cli_usage_error("notify", c.verb ? "%s takes one ID" : "%s takes no arguments", action);
		if (c.verb && parse_id(argv[optind + 1], &c.id) != 0)
			return 1;
	}
	err_clear(&e);
	rc = db_open(cli_db_path(db_opt), 0, &db, &e);
	if (rc)
		return cli_fail(&e);
	if (!c.verb)
		rc = list(db, &e);
	else
		rc = change(db, &c, &e);
	if (!rc && c.verb && c.verb->run == run_add)
		rc = print_added(db, &c, &e);
	if (!rc && c.verb && c.verb->run == run_remove)
		printf("endpoint %lld removed: it gets no more notifications\n", c.id);
	if (!rc && c.verb && c.verb->run == run_test) {
		if (!wait) {
			printf("delivery %s queued for endpoint %lld\n", c.delivery, c.id);
		} else {
			int status = wait_delivery(db, &c, wait, &e);

			db_close(db);
			return status;
		}
	}
	db_close(db);
	return rc ? cli_fail(&e) : 0;
}
