/*
 * cmd_audit.c - `sipas audit verify|list|head`: check the audit log's hash
 * chain, print its entries, print its head (docs/console.md, "Audit log");
 * and what every administrative command uses to record itself there
 * (cli_audit, cli_audit_alone).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "../db/db.h"
#include "../lib/period.h"
#include "../office/audit.h"
#include "../reports/rep_publish.h"

_Static_assert(REP_AUDIT_HEAD_HEX == AUDIT_HASH_HEX, "a publication keeps the audit log's head as audit.h writes it");

const char cmd_audit_usage[] =
	"usage: sipas audit verify [--head HEX] [--db PATH]\n"
	"   or: sipas audit list [--since YYYY-MM-DD] [--actor WHO] [--action NAME] [--db PATH]\n"
	"   or: sipas audit head [--db PATH]\n"
	"\n"
	"The audit log records every administrative action, from the console or the\n"
	"command line: when, who (a console login, or cli:OS-USER), from where (the\n"
	"client address, or local), what, on what, and its outcome.  Each entry\n"
	"carries a SHA-256 chained over the one before it (docs/console.md).\n"
	"`verify` recomputes the chain: exit 0 and \"audit log intact: N entries,\n"
	"head HEX\", or exit 1 naming the first entry edited, deleted or malformed.\n"
	"A rewrite of the whole chain is found only against a head kept elsewhere\n"
	"(every published report shows the head at its publication): with --head,\n"
	"verify also says which entry has that hash, or exits 1 when none has.\n"
	"`list` prints\n"
	"one entry a line, oldest first, fields separated by tabs: id, time (Vietnam),\n"
	"actor, address, action, subject, outcome; control characters and invisible\n"
	"ones in the stored text are printed escaped (\\n, \\t, \\x1b, \\u202e, \\\\).\n"
	"`head` prints the last entry's hash.\n"
	"\n"
	"  --head HEX     a head kept from before (sipas audit head, a published page)\n"
	"  --since DAY    entries from that day on (YYYY-MM-DD, Vietnam time)\n"
	"  --actor WHO    only this actor (a login, or cli:OS-USER)\n"
	"  --action NAME  only this action (user.add, publish, ...: docs/console.md)\n"
	"  --db PATH      database file (default $SIPAS_DB, else ./sipas.db)\n";

/* An entry of this process, at now, from the command line. */
static void cli_entry(struct audit_entry *entry, char actor[AUDIT_ACTOR_MAX + 1], const char *action,
		      const char *subject, const char *outcome)
{
	audit_cli_actor(actor);
	entry->at = (long long)time(NULL);
	entry->actor = actor;
	entry->address = NULL;
	entry->action = action;
	entry->subject = subject;
	entry->outcome = outcome;
}

int cli_audit(sqlite3 *db, const char *action, const char *subject, struct err *e)
{
	char actor[AUDIT_ACTOR_MAX + 1];
	struct audit_entry entry;

	cli_entry(&entry, actor, action, subject, "ok");
	return audit_append(db, &entry, e);
}

void cli_audit_alone(sqlite3 *db, const char *action, const char *subject, const struct err *failed)
{
	char actor[AUDIT_ACTOR_MAX + 1];
	struct audit_entry entry;
	struct err e;
	int rc;

	cli_entry(&entry, actor, action, subject, failed ? failed->text : "ok");
	err_clear(&e);
	rc = db_exec(db, "BEGIN IMMEDIATE", &e);
	if (!rc)
		rc = audit_append(db, &entry, &e);
	if (!rc)
		rc = db_exec(db, "COMMIT", &e);
	if (rc) {
		db_exec(db, "ROLLBACK", NULL);
		fprintf(stderr, "sipas: warning: the audit log could not record this %s: %s\n", action, e.text);
	}
}

int cli_audit_commit(sqlite3 *db, int rc, const char *action, const char *subject, struct err *e)
{
	if (!rc)
		rc = cli_audit(db, action, subject, e);
	if (!rc)
		rc = db_exec(db, "COMMIT", e);
	if (rc) {
		db_exec(db, "ROLLBACK", NULL);
		cli_audit_alone(db, action, subject, e);
	}
	return rc;
}

int cli_audit_record(void *arg, sqlite3 *db, const char *action, const char *subject,
		     char *head, struct err *e)
{
	int rc = cli_audit(db, action, subject, e);

	(void)arg;
	return rc ? rc : audit_head(db, head, e);
}

/* `audit verify`: 0 intact (and holding known_head, when given), 1 broken
 * (the first fault on stderr) or without known_head. */
static int verify(sqlite3 *db, const char *known_head, struct err *e)
{
	static const char *const why[] = {
		[AUDIT_EDITED] = "its fields, or the entry before it, changed since it was written",
		[AUDIT_DELETED] = "the entries around it are there, it is not",
		[AUDIT_MALFORMED] = "its hash or its time is not what the log writes",
	};
	struct audit_verdict v;
	int rc = audit_verify(db, known_head, &v, e);

	if (rc)
		return cli_fail(e);
	if (v.fault != AUDIT_INTACT) {
		fprintf(stderr, "sipas: audit log broken at entry %lld: %s (%s)\n", v.id, audit_fault_name(v.fault),
			why[v.fault]);
		return 1;
	}
	if (known_head && v.known_id < 0) {
		fprintf(stderr, "sipas: audit log rewritten: no entry has the head %s (it is intact, but not the "
			"log that head was taken from)\n", known_head);
		return 1;
	}
	printf("audit log intact: %lld entries, head %s\n", v.entries, v.head);
	if (known_head)
		printf("head %s is entry %lld's\n", known_head, v.known_id);
	return 0;
}

/* audit_list's callback: one tab-separated line, every text escaped. */
static int print_row(const struct audit_row *row, void *arg)
{
	const char *const text[] = { row->actor, row->address, row->action, row->subject, row->outcome };
	struct strbuf *line = arg;
	time_t local = (time_t)(row->at + PERIOD_TZ_SECONDS);
	char when[32];
	struct tm tm;

	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S+07:00", gmtime_r(&local, &tm));
	strbuf_reset(line);
	strbuf_addf(line, "%lld\t%s", row->id, when);
	for (size_t i = 0; i < sizeof(text) / sizeof(text[0]); i++) {
		strbuf_addch(line, '\t');
		cli_escape(line, text[i]);
	}
	strbuf_addch(line, '\n');
	fwrite(line->buf, 1, line->len, stdout);
	return line->failed ? -1 : 0;
}

int cmd_audit(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "since", required_argument, NULL, 's' },
		{ "head", required_argument, NULL, 'H' },
		{ "actor", required_argument, NULL, 'a' },
		{ "action", required_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct audit_filter f = { 0, NULL, NULL, 0, 0, 0 };
	const char *db_opt = NULL, *since = NULL, *known_head = NULL, *what;
	struct strbuf line = STRBUF_INIT;
	sqlite3 *db = NULL;
	struct err e;
	int c, rc;

	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db_opt = optarg; break;
		case 's': since = optarg; break;
		case 'H': known_head = optarg; break;
		case 'a': f.actor = optarg; break;
		case 'A': f.action = optarg; break;
		case 'h': return cli_help(cmd_audit_usage);
		default: return cli_usage_error("audit", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error("audit", "say verify, list or head");
	what = argv[optind];
	if (strcmp(what, "verify") && strcmp(what, "list") && strcmp(what, "head"))
		return cli_usage_error("audit", "'%s' is not verify, list or head", what);
	if (strcmp(what, "list") && (since || f.actor || f.action))
		return cli_usage_error("audit", "--since, --actor and --action go with list");
	if (known_head && strcmp(what, "verify"))
		return cli_usage_error("audit", "--head goes with verify");
	err_clear(&e);
	if (since) {
		int64_t ts;
		int32_t day;

		if (period_parse_day(since, &day, &ts))
			return cli_usage_error("audit", "--since takes a day, YYYY-MM-DD");
		f.since = ts;
	}
	rc = db_open(cli_db_path(db_opt), DB_READONLY, &db, &e);
	if (rc)
		return cli_fail(&e);
	if (strcmp(what, "verify") == 0) {
		rc = verify(db, known_head, &e);
	} else if (strcmp(what, "head") == 0) {
		char head[AUDIT_HASH_HEX + 1];

		rc = audit_head(db, head, &e) ? cli_fail(&e) : 0;
		if (!rc)
			printf("%s\n", head);
	} else {
		strbuf_init(&line, 0);
		rc = audit_list(db, &f, print_row, &line, &e);
		if (rc == -1)
			rc = err_set(&e, ERR_NOMEM, "out of memory listing the audit log");
		rc = rc ? cli_fail(&e) : 0;
		strbuf_release(&line);
	}
	db_close(db);
	return rc;
}
