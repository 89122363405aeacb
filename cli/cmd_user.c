/*
 * cmd_user.c - `sipas user add|list|disable|reset`: the console's accounts
 * (docs/console.md, "Accounts").  A password is never chosen here: add and
 * reset print a one-time link where the person sets their own.  Each
 * change and its audit entry commit in one transaction; a refused one is
 * recorded in its own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "../db/db.h"
#include "../lib/secret.h"
#include "../office/user.h"

const char cmd_user_usage[] =
	"usage: sipas user add --login LOGIN --name NAME --role office|agency|viewer [--agency CODE ...]\n"
	"                      [--if-none] [--base URL] [--db PATH]\n"
	"   or: sipas user list [--db PATH]\n"
	"   or: sipas user disable LOGIN [--db PATH]\n"
	"   or: sipas user reset LOGIN [--base URL] [--db PATH]\n"
	"\n"
	"Manage the accounts of the office's console (/console).  An office account\n"
	"sees and does everything; an agency account (one --agency) sees its agency\n"
	"and those under it and pairs their kiosks; a viewer (any number of\n"
	"--agency, none: it sees nothing) reads the agencies it is given.  `add`\n"
	"and `reset` print a one-time link on stdout, BASE/console/password/TOKEN,\n"
	"valid 15 minutes and working once, where the person sets their own\n"
	"password; there is no default password.  `reset` also clears the password\n"
	"and ends the account's sessions (a forgotten password).  `disable` ends an\n"
	"account's sessions and refuses its sign-ins from now on.  Every change is\n"
	"recorded in the audit log (sipas audit).\n"
	"\n"
	"  --login LOGIN   1 to 64 of a-z, 0-9, '.', '_', '-', starting with a letter\n"
	"  --name NAME     the person's full name, as the console shows it\n"
	"  --role ROLE     office, agency or viewer\n"
	"  --agency CODE   an agency of the registry (agency: exactly one; viewer:\n"
	"                  repeat for several; office: none)\n"
	"  --if-none       add only when there is no account at all (a first\n"
	"                  install, make run); otherwise say so and change nothing\n"
	"  --base URL      the console's address as the person reaches it (default\n"
	"                  the public address: $SIPAS_PUBLIC_URL, else 'sipas init\n"
	"                  --public-url', else http://127.0.0.1:8080)\n"
	"  --db PATH       database file (default $SIPAS_DB, else ./sipas.db)\n";

#define MAX_AGENCIES 64

/* The one-time link of token on stdout (alone, for scripts) and what it is
 * on stderr. */
static void print_link(const char *base, const char *token, const char *login, int added)
{
	printf("%s/console/password/%s\n", base, token);
	fprintf(stderr, "%s %s; the link above sets its password: it is valid 15 minutes and works once\n",
		login, added ? "added" : "reset: its password and sessions are cleared");
}

/* One account change as the command line asked for it. */
struct change {
	const struct verb *verb;
	const char *login;
	int role;               /* add only */
	const char *name;
	const char *const *agencies;
	size_t n_agencies;
	char token[USER_TOKEN_HEX + 1];   /* add, reset: the link's token */
};

static int run_add(sqlite3 *db, struct change *c, long long now, struct err *e)
{
	return user_add(db, c->login, c->name, c->role, c->agencies, c->n_agencies, now, c->token, e);
}

static int run_reset(sqlite3 *db, struct change *c, long long now, struct err *e)
{
	return user_reset(db, c->login, now, c->token, e);
}

static int run_disable(sqlite3 *db, struct change *c, long long now, struct err *e)
{
	return user_disable(db, c->login, now, e);
}

/* The changes: the word typed, the audit log's name, the step (inside the
 * transaction), and whether it makes a password link. */
static const struct verb {
	const char *word, *action;
	int (*run)(sqlite3 *db, struct change *c, long long now, struct err *e);
	int link;
} verbs[] = {
	{ "add", "user.add", run_add, 1 },
	{ "reset", "user.reset", run_reset, 1 },
	{ "disable", "user.disable", run_disable, 0 },
};

/* Run c and its audit entry in one transaction; a refused change is
 * recorded in its own. */
static int change(sqlite3 *db, struct change *c, struct err *e)
{
	struct strbuf subject = STRBUF_INIT;
	int rc = db_exec(db, "BEGIN IMMEDIATE", e);

	/* what the log names: the login, and for a new account its role and agencies */
	strbuf_addstr(&subject, c->login);
	if (c->verb->run == run_add) {
		const char *role = user_role_name(c->role);

		strbuf_addf(&subject, " (%s", role ? role : "?");
		for (size_t i = 0; i < c->n_agencies; i++)
			strbuf_addf(&subject, "%s%s", i ? "," : " ", c->agencies[i]);
		strbuf_addch(&subject, ')');
	}
	if (!rc)
		rc = c->verb->run(db, c, (long long)time(NULL), e);
	rc = cli_audit_commit(db, rc, c->verb->action, strbuf_str(&subject), e);
	strbuf_release(&subject);
	return rc;
}

static int list(sqlite3 *db, struct err *e)
{
	struct strbuf codes = STRBUF_INIT, name = STRBUF_INIT;
	struct user *users = NULL;
	size_t n = 0;
	int rc = user_list(db, &users, &n, e);

	if (rc)
		return rc;
	printf("%-20s %-7s %-16s %-17s %-18s %-24s %s\n", "login", "role", "state", "created (UTC)",
	       "password set (UTC)", "agencies", "name");
	for (size_t i = 0; i < n; i++) {
		const struct user *u = &users[i];
		char created[32], set[32];

		cli_format_time(u->created_at, created);
		cli_format_time(u->password_set_at, set);
		strbuf_reset(&codes);
		strbuf_reset(&name);
		for (size_t a = 0; a < u->n_agencies; a++) {
			if (a)
				strbuf_addch(&codes, ',');
			cli_escape(&codes, u->agency_codes[a]);
		}
		cli_escape(&name, u->name);
		printf("%-20s %-7s %-16s %-17s %-18s %-24s %s\n", u->login, user_role_name(u->role),
		       u->disabled ? "disabled" : u->has_password ? "active" : "no password yet", created, set,
		       u->n_agencies ? strbuf_str(&codes) : "-", strbuf_str(&name));
	}
	rc = codes.failed || name.failed ? err_set(e, ERR_NOMEM, "out of memory listing accounts") : 0;
	strbuf_release(&codes);
	strbuf_release(&name);
	user_list_free(users, n);
	return rc;
}

int cmd_user(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "login", required_argument, NULL, 'l' },
		{ "name", required_argument, NULL, 'n' },
		{ "role", required_argument, NULL, 'r' },
		{ "agency", required_argument, NULL, 'a' },
		{ "base", required_argument, NULL, 'b' },
		{ "if-none", no_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *db_opt = NULL, *base = NULL, *role = NULL, *action;
	const char *agencies[MAX_AGENCIES];
	struct change c = { NULL, NULL, -1, NULL, agencies, 0, "" };
	char public_url[URL_MAX];
	sqlite3 *db = NULL;
	long long accounts = 0;
	struct err e;
	int ch, rc, if_none = 0;

	cli_getopt_reset();
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'd': db_opt = optarg; break;
		case 'l': c.login = optarg; break;
		case 'n': c.name = optarg; break;
		case 'r': role = optarg; break;
		case 'a':
			if (c.n_agencies == MAX_AGENCIES)
				return cli_usage_error("user", "at most %d --agency", MAX_AGENCIES);
			agencies[c.n_agencies++] = optarg;
			break;
		case 'b': base = optarg; break;
		case 'i': if_none = 1; break;
		case 'h': return cli_help(cmd_user_usage);
		default: return cli_usage_error("user", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_usage_error("user", "say add, list, disable or reset");
	action = argv[optind];
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(action, verbs[i].word) == 0)
			c.verb = &verbs[i];
	if (if_none && !(c.verb && c.verb->run == run_add))
		return cli_usage_error("user", "--if-none goes with add");
	if (c.verb && c.verb->run == run_add) {
		if (optind + 1 != argc || !c.login || !c.name || !role)
			return cli_usage_error("user", "add takes --login, --name and --role");
		c.role = user_role_parse(role);   /* a bad one is refused, and recorded, by user_add */
	} else if (c.verb) {
		if (optind + 2 != argc || c.login || c.name || role || c.n_agencies)
			return cli_usage_error("user", "%s takes one LOGIN", action);
		if (base && !c.verb->link)
			return cli_usage_error("user", "--base goes with add and reset");
		c.login = argv[optind + 1];
	} else if (strcmp(action, "list") == 0) {
		if (optind + 1 != argc || c.login || c.name || role || c.n_agencies || base)
			return cli_usage_error("user", "list takes no arguments");
	} else {
		return cli_usage_error("user", "'%s' is not add, list, disable or reset", action);
	}
	err_clear(&e);
	rc = db_open(cli_db_path(db_opt), 0, &db, &e);
	if (rc)
		return cli_fail(&e);
	if (if_none)
		rc = db_query_int(db, "SELECT count(*) FROM users", &accounts, &e);
	if (rc || accounts) {
		if (accounts)
			fprintf(stderr, "sipas user: %lld account(s) exist already; none added "
				"('sipas user list'; 'sipas user reset LOGIN' prints a new link)\n", accounts);
	} else if (!c.verb) {
		rc = list(db, &e);
	} else {
		rc = c.verb->link ? cli_public_url(db, base, public_url, &e) : 0;
		if (!rc)
			rc = change(db, &c, &e);
		if (!rc && c.verb->link)
			print_link(public_url, c.token, c.login, c.verb->run == run_add);
		if (!rc && !c.verb->link)
			printf("%s disabled: it can no longer sign in, and its sessions have ended\n", c.login);
	}
	secret_wipe(c.token, sizeof(c.token));
	db_close(db);
	return rc ? cli_fail(&e) : 0;
}
