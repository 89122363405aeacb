/*
 * test_office.c - the office's accounts and audit log from the command
 * line (docs/console.md): `sipas user` makes, lists, disables and resets
 * accounts whose passwords are set only through their one-time link;
 * agency and viewer accounts see their agencies and those under them;
 * every administrative command lands in the audit log, whose hash chain
 * `sipas audit verify` checks and whose text `sipas audit list` prints
 * escaped; a publication records who made it and the log's head, and its
 * page shows that head.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "test.h"
#include "../db/db.h"
#include "../lib/err.h"
#include "../office/audit.h"
#include "../office/scope.h"
#include "../office/user.h"

#define LINK_PREFIX "http://office.test/console/password/"

/* Run sql through the sqlite3 shell, as someone holding the file would. */
static int shell(const char *sql)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "sqlite3 sipas.db \"%s\"", sql);
	return system(cmd);
}

/* "cli:" and the OS user the tests run as. */
static void cli_actor(char *out, size_t n)
{
	struct passwd *pw = getpwuid(getuid());

	snprintf(out, n, "cli:%s", pw ? pw->pw_name : "?");
}

/* The token of a printed link (LINK_PREFIX + 64 hex digits and a newline)
 * into token; 0, or -1 when out is not exactly such a line. */
static int link_token(const char *out, char token[USER_TOKEN_HEX + 1])
{
	size_t n = strlen(LINK_PREFIX);

	if (strncmp(out, LINK_PREFIX, n) != 0 || strlen(out) != n + USER_TOKEN_HEX + 1 ||
	    strspn(out + n, "0123456789abcdef") != USER_TOKEN_HEX || out[n + USER_TOKEN_HEX] != '\n')
		return -1;
	memcpy(token, out + n, USER_TOKEN_HEX);
	token[USER_TOKEN_HEX] = '\0';
	return 0;
}

static const struct cmd_result *add_user(const char *login, const char *role, const char *agency)
{
	if (agency)
		return sipas_run(NULL, "user", "add", "--login", login, "--name", "Nguyễn Văn A", "--role", role,
				 "--agency", agency, "--base", "http://office.test", NULL);
	return sipas_run(NULL, "user", "add", "--login", login, "--name", "Nguyễn Văn A", "--role", role,
			 "--base", "http://office.test", NULL);
}

/* Set login's password through token, as the console's page does: 0, or
 * the error code. */
static int use_link(const char *token, const char *password)
{
	char hash[USER_HASH_MAX];
	sqlite3 *db = NULL;
	long long id;
	struct err e;
	int rc = db_open("sipas.db", 0, &db, &e);

	if (!rc)
		rc = user_hash_password(password, hash, &e);
	if (!rc)
		rc = db_exec(db, "BEGIN IMMEDIATE", &e);
	if (!rc) {
		rc = user_set_password_by_link(db, token, hash, (long long)time(NULL), &id, &e);
		db_exec(db, rc ? "ROLLBACK" : "COMMIT", NULL);
	}
	db_close(db);
	return rc;
}

/* 1 if password signs login in, 0 if not, -1 on error. */
static int password_works(const char *login, const char *password)
{
	char hash[USER_HASH_MAX];
	sqlite3 *db = NULL;
	long long id;
	struct err e;
	int rc = db_open("sipas.db", 0, &db, &e);

	if (!rc)
		rc = user_password_hash(db, login, &id, hash, &e);
	db_close(db);
	return rc ? -1 : user_verify_password(hash, password, &e);
}

static void user_add_prints_a_one_time_link_and_sets_no_password(void)
{
	const struct cmd_result *r;
	char token[USER_TOKEN_HEX + 1];

	CHECK_INT(sipas_run(NULL, "init", NULL)->status, 0);
	r = add_user("alice", "office", NULL);
	CHECK_INT(r->status, 0);
	CHECK_INT(link_token(r->out, token), 0);
	CHECK_CONTAINS(r->err, "15 minutes");
	CHECK_CONTAINS(r->err, "once");
	/* no default password: nothing signs a fresh account in */
	CHECK_INT(password_works("alice", ""), 0);
	CHECK_INT(password_works("alice", "alice"), 0);
	CHECK_INT(password_works("alice", "correct horse battery"), 0);
	CHECK_INT(use_link(token, "correct horse battery"), 0);
	CHECK_INT(password_works("alice", "correct horse battery"), 1);
	CHECK_INT(password_works("alice", "wrong horse battery"), 0);
	/* the link works once */
	CHECK_INT(use_link(token, "another password here"), ERR_NOT_FOUND);
	CHECK_INT(password_works("alice", "correct horse battery"), 1);
	/* without --base, the public address as `sipas link` finds it */
	CHECK_INT(sipas_run(NULL, "init", "--public-url", "https://sipas.example.vn", NULL)->status, 0);
	r = sipas_run(NULL, "user", "add", "--login", "bob", "--name", "Bob", "--role", "office", NULL);
	CHECK_INT(r->status, 0);
	CHECK(strncmp(r->out, "https://sipas.example.vn/console/password/", 42) == 0);
	r = sipas_run(NULL, "user", "list", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "alice");
	CHECK_CONTAINS(r->out, "bob");
	CHECK_CONTAINS(r->out, "no password yet");
	CHECK_CONTAINS(r->out, "Nguyễn Văn A");
	/* the same login again is refused */
	r = add_user("alice", "viewer", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "already exists");
	CHECK_STR(r->out, "");
}

static void user_disable_and_reset(void)
{
	const struct cmd_result *r;
	char first[USER_TOKEN_HEX + 1], second[USER_TOKEN_HEX + 1];

	CHECK_INT(sipas_run(NULL, "init", NULL)->status, 0);
	r = add_user("carol", "office", NULL);
	CHECK_INT(r->status, 0);
	CHECK_INT(link_token(r->out, first), 0);
	CHECK_INT(use_link(first, "first password!"), 0);
	/* reset: a new link, the old password and link gone */
	r = sipas_run(NULL, "user", "reset", "carol", "--base", "http://office.test", NULL);
	CHECK_INT(r->status, 0);
	CHECK_INT(link_token(r->out, second), 0);
	CHECK(strcmp(first, second) != 0);
	CHECK_CONTAINS(r->err, "15 minutes");
	CHECK_INT(password_works("carol", "first password!"), 0);
	CHECK_INT(use_link(second, "second password"), 0);
	CHECK_INT(password_works("carol", "second password"), 1);
	/* disable: no sign-in, listed as disabled */
	r = sipas_run(NULL, "user", "disable", "carol", NULL);
	CHECK_INT(r->status, 0);
	CHECK_INT(password_works("carol", "second password"), 0);
	r = sipas_run(NULL, "user", "list", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "disabled");
	/* a disabled account gets no link that could not work */
	r = sipas_run(NULL, "user", "reset", "carol", "--base", "http://office.test", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "disabled");
	CHECK_STR(r->out, "");
	/* unknown logins */
	r = sipas_run(NULL, "user", "disable", "nobody", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "no account 'nobody'");
	r = sipas_run(NULL, "user", "reset", "nobody", NULL);
	CHECK_INT(r->status, 1);
}

static void user_add_checks_role_agencies_and_name(void)
{
	const struct cmd_result *r;

	CHECK_INT(sipas_run(NULL, "init", NULL)->status, 0);
	r = add_user("dan", "office", "SO-XD");
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "agency");
	r = add_user("dan", "agency", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "exactly one agency");
	r = add_user("dan", "agency", "NO-SUCH");
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "NO-SUCH");
	r = add_user("dan", "boss", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "office, agency or viewer");
	r = add_user("Dan", "office", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "login");
	/* a name is shown in lists and pages: no control characters */
	r = sipas_run(NULL, "user", "add", "--login", "dan", "--name", "Dan\x1b[2J", "--role", "office",
		      "--base", "http://office.test", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "name");
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM users"), 0);
	r = sipas_run(NULL, "user", "add", "--login", "dan", "--name", "Dan", "--role", "agency", "--agency", "SO-XD",
		      "--agency", "SO-TP", NULL);
	CHECK_INT(r->status, 1);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM users"), 0);
}

/* The scope of login as scope_of_user gives it. */
static int scope_of(const char *login, struct scope *s)
{
	struct user u;
	sqlite3 *db = NULL;
	struct err e;
	int rc = db_open("sipas.db", 0, &db, &e);

	memset(&u, 0, sizeof(u));
	memset(s, 0, sizeof(*s));
	if (!rc)
		rc = user_find(db, login, &u, &e);
	if (!rc)
		rc = scope_of_user(db, &u, s, &e);
	user_release(&u);
	db_close(db);
	return rc;
}

static long long agency_id(const char *code)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "SELECT id FROM agencies WHERE code = '%s'", code);
	return test_db_int("sipas.db", sql);
}

static void agency_and_viewer_scope(void)
{
	long long n_under_ubnd = 0;
	struct scope s;

	CHECK_INT(sipas_run(NULL, "init", NULL)->status, 0);
	CHECK_INT(add_user("agency1", "agency", "UBND-TP")->status, 0);
	CHECK_INT(add_user("agency2", "agency", "SO-XD")->status, 0);
	CHECK_INT(sipas_run(NULL, "user", "add", "--login", "viewer1", "--name", "V", "--role", "viewer",
			    "--agency", "SO-XD", "--agency", "SO-TP", "--base", "http://office.test", NULL)->status, 0);
	CHECK_INT(add_user("viewer2", "viewer", NULL)->status, 0);
	CHECK_INT(add_user("office1", "office", NULL)->status, 0);
	/* an agency sees its own and, at any depth, those under it */
	n_under_ubnd = test_db_int("sipas.db", "WITH RECURSIVE t(id) AS (SELECT id FROM agencies WHERE code = 'UBND-TP' "
				   "UNION SELECT a.id FROM agencies a JOIN t ON a.parent_id = t.id) SELECT count(*) FROM t");
	CHECK(n_under_ubnd > 2);
	CHECK_INT(scope_of("agency1", &s), 0);
	CHECK_INT(s.all, 0);
	CHECK_INT(s.n, n_under_ubnd);
	CHECK(scope_has(&s, agency_id("UBND-TP")) && scope_has(&s, agency_id("SO-XD")));
	scope_release(&s);
	CHECK_INT(scope_of("agency2", &s), 0);
	CHECK(scope_has(&s, agency_id("SO-XD")) && !scope_has(&s, agency_id("UBND-TP")) &&
	      !scope_has(&s, agency_id("SO-TP")));
	scope_release(&s);
	CHECK_INT(scope_of("viewer1", &s), 0);
	CHECK(scope_has(&s, agency_id("SO-XD")) && scope_has(&s, agency_id("SO-TP")) &&
	      !scope_has(&s, agency_id("UBND-TP")));
	scope_release(&s);
	CHECK_INT(scope_of("viewer2", &s), 0);
	CHECK_INT(s.n, 0);
	CHECK_INT(s.all, 0);
	scope_release(&s);
	CHECK_INT(scope_of("office1", &s), 0);
	CHECK_INT(s.all, 1);
	scope_release(&s);
	CHECK_CONTAINS(sipas_run(NULL, "user", "list", NULL)->out, "SO-TP,SO-XD");   /* registry order */
}

/* A series of administrative commands, each audited. */
static int administer(void)
{
	char csv[4200];

	snprintf(csv, sizeof(csv), "%s/sipas-2017-a/responses.csv", test_fixtures());
	if (test_init_fixture(0) || sipas_run(NULL, "import", "--form", "sipas-2017", csv, NULL)->status ||
	    add_user("erin", "office", NULL)->status || add_user("erin", "office", NULL)->status != 1 ||
	    sipas_run(NULL, "device", "add", "--agency", "SO-XD", "--counter", "Quầy 1", "--sector", "xay-dung",
		      NULL)->status ||
	    sipas_run(NULL, "device", "pair", "1", "--base", "http://office.test", NULL)->status ||
	    sipas_run(NULL, "device", "revoke", "1", NULL)->status ||
	    sipas_run(NULL, "user", "reset", "erin", "--base", "http://office.test", NULL)->status ||
	    sipas_run(NULL, "user", "disable", "erin", NULL)->status ||
	    test_write("d.csv", "period,agency,sector,dossiers\n2026Q3,SO-XD,xay-dung,10\n") ||
	    sipas_run(NULL, "dossiers", "import", "d.csv", NULL)->status ||
	    sipas_run(NULL, "publish", "--period", "2026Q3", NULL)->status ||
	    sipas_run(NULL, "backup", "copy.db", NULL)->status)
		return -1;
	return 0;
}

static void every_administrative_command_is_audited(void)
{
	static const char *const actions[] = { "init", "import", "user.add", "device.add", "device.pair",
		"device.revoke", "user.reset", "user.disable", "dossiers.import", "publish", "backup" };
	char actor[128], sql[256], *s;
	const struct cmd_result *r;

	CHECK_INT(administer(), 0);
	cli_actor(actor, sizeof(actor));
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM audit WHERE action = '%s' AND outcome = 'ok' "
			 "AND address = 'local' AND actor = '%s'", actions[i], actor);
		if (test_db_int("sipas.db", sql) < 1)
			test_fail(__FILE__, __LINE__, "no entry for %s", actions[i]);
		CHECK(test_db_int("sipas.db", sql) >= 1);
	}
	/* the refused second user add, with why */
	s = test_db_text("sipas.db", "SELECT outcome FROM audit WHERE action = 'user.add' AND outcome <> 'ok'");
	CHECK_CONTAINS(s, "already exists");
	free(s);
	s = test_db_text("sipas.db", "SELECT subject FROM audit WHERE action = 'import'");
	CHECK_CONTAINS(s, "responses.csv");
	CHECK_CONTAINS(s, "2963 imported");
	free(s);
	/* a failed import is recorded with its failure */
	CHECK_INT(test_write("bad.csv", "nonsense\n1\n"), 0);
	CHECK_INT(sipas_run(NULL, "import", "--form", "sipas-2017", "bad.csv", NULL)->status, 1);
	s = test_db_text("sipas.db", "SELECT subject || ' | ' || outcome FROM audit WHERE action = 'import' ORDER BY id DESC");
	CHECK_CONTAINS(s, "bad.csv");
	CHECK(!strstr(s, "| ok"));
	free(s);
	r = sipas_run(NULL, "audit", "verify", NULL);
	CHECK_INT(r->status, 0);
	s = test_db_text("sipas.db", "SELECT 'audit log intact: ' || count(*) || ' entries, head ' || lower(hex("
		    "(SELECT hash FROM audit ORDER BY id DESC LIMIT 1))) || char(10) FROM audit");
	CHECK_STR(r->out, s);
	free(s);
	r = sipas_run(NULL, "audit", "head", NULL);
	CHECK_INT(r->status, 0);
	s = test_db_text("sipas.db", "SELECT lower(hex(hash)) || char(10) FROM audit ORDER BY id DESC LIMIT 1");
	CHECK_STR(r->out, s);
	free(s);
}

/* A change and its record commit together: with the audit table refusing
 * every insert, no change lands, and the refusal says so. */
static void a_change_without_its_record_does_not_land(void)
{
	const struct cmd_result *r;

	CHECK_INT(test_init_fixture(1), 0);
	CHECK_INT(sipas_run(NULL, "device", "add", "--agency", "SO-XD", "--counter", "Quầy 1", "--sector", "xay-dung",
			    NULL)->status, 0);
	CHECK_INT(shell("CREATE TRIGGER no_audit BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'refused'); END"), 0);
	r = add_user("frank", "office", NULL);
	CHECK(r->status != 0);
	CHECK_STR(r->out, "");
	CHECK_CONTAINS(r->err, "could not record");
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM users"), 0);
	CHECK(sipas_run(NULL, "device", "revoke", "1", NULL)->status != 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM devices WHERE revoked_at IS NOT NULL"), 0);
	CHECK(sipas_run(NULL, "device", "add", "--agency", "SO-XD", "--counter", "Quầy 2", "--sector", "xay-dung",
			NULL)->status != 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM devices"), 1);
	CHECK(sipas_run(NULL, "publish", "--period", "2026Q3", NULL)->status != 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM published"), 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM publications"), 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM published_files"), 0);
	CHECK(sipas_run(NULL, "init", "--public-url", "https://sipas.example.vn", NULL)->status != 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM settings WHERE name = 'public_url'"), 0);
	/* with the log writable again, the same commands work */
	CHECK_INT(shell("DROP TRIGGER no_audit"), 0);
	CHECK_INT(add_user("frank", "office", NULL)->status, 0);
	CHECK_INT(sipas_run(NULL, "publish", "--period", "2026Q3", NULL)->status, 0);
	CHECK_INT(sipas_run(NULL, "audit", "verify", NULL)->status, 0);
}

/* init is recorded when it is told what to load or stores a new form; the
 * plain run of every service start, loading what the binary ships, not */
static void init_is_recorded_when_it_loads_something(void)
{
	char *s;

	CHECK_INT(sipas_run(NULL, "init", NULL)->status, 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM audit WHERE action = 'init'"), 1);
	s = test_db_text("sipas.db", "SELECT subject FROM audit WHERE action = 'init'");
	CHECK_CONTAINS(s, "2 forms (2 new) from the shipped forms");
	free(s);
	CHECK_INT(sipas_run(NULL, "init", NULL)->status, 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM audit"), 1);
	CHECK_INT(sipas_run(NULL, "init", "--public-url", "https://sipas.example.vn", NULL)->status, 0);
	s = test_db_text("sipas.db", "SELECT subject FROM audit WHERE action = 'init' ORDER BY id DESC");
	CHECK_CONTAINS(s, "public address https://sipas.example.vn");
	free(s);
	CHECK_INT(test_init_fixture(0), 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM audit WHERE action = 'init'"), 3);
	/* a refused load is recorded with why, and nothing else changes */
	CHECK_INT(sipas_run(NULL, "init", "--registry", "no-such-dir", NULL)->status, 1);
	s = test_db_text("sipas.db", "SELECT outcome FROM audit WHERE action = 'init' ORDER BY id DESC");
	CHECK_CONTAINS(s, "no-such-dir");
	free(s);
	CHECK_INT(sipas_run(NULL, "audit", "verify", NULL)->status, 0);
}

/* verify after changing the file with the sqlite3 shell: exit 1 and the message. */
static void check_broken(const char *sql, const char *message)
{
	const struct cmd_result *r;

	CHECK_INT(administer(), 0);
	CHECK_INT(sipas_run(NULL, "audit", "verify", NULL)->status, 0);
	CHECK_INT(shell(sql), 0);
	r = sipas_run(NULL, "audit", "verify", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, message);
}

static void verify_names_an_edited_row(void)
{
	check_broken("UPDATE audit SET subject = 'nothing to see' WHERE id = 3", "audit log broken at entry 3: edited");
}

static void verify_names_an_edited_time(void)
{
	check_broken("UPDATE audit SET at = at - 3600 WHERE id = 5", "audit log broken at entry 5: edited");
}

static void verify_names_a_deleted_middle_row(void)
{
	check_broken("DELETE FROM audit WHERE id = 4", "audit log broken at entry 4: deleted");
}

static void verify_names_a_deleted_last_row(void)
{
	long long last;
	char want[64];

	CHECK_INT(administer(), 0);
	last = test_db_int("sipas.db", "SELECT max(id) FROM audit");
	CHECK(last > 5);
	CHECK_INT(shell("DELETE FROM audit WHERE id = (SELECT max(id) FROM audit)"), 0);
	snprintf(want, sizeof(want), "audit log broken at entry %lld: deleted", last);
	CHECK_CONTAINS(sipas_run(NULL, "audit", "verify", NULL)->err, want);
	/* the next entry chains on, and the gap stays */
	CHECK_INT(sipas_run(NULL, "user", "disable", "erin", NULL)->status, 0);
	CHECK_CONTAINS(sipas_run(NULL, "audit", "verify", NULL)->err, want);
}

/* Append an entry as the console would, from this process. */
static int append(const char *actor, const char *address, const char *action, const char *subject,
		  long long at)
{
	struct audit_entry entry = { at, actor, address, action, subject, "ok" };
	sqlite3 *db = NULL;
	struct err e;
	int rc = db_open("sipas.db", 0, &db, &e);

	if (!rc)
		rc = db_exec(db, "BEGIN IMMEDIATE", &e);
	if (!rc) {
		rc = audit_append(db, &entry, &e);
		db_exec(db, rc ? "ROLLBACK" : "COMMIT", NULL);
	}
	db_close(db);
	return rc;
}

/* A chain rewritten from some entry on, as someone holding the file can:
 * verify alone says intact; against a head kept from before, it does not. */
static void verify_against_a_kept_head_finds_a_rewrite(void)
{
	const struct cmd_result *r;
	char *kept, *early, want[200];

	CHECK_INT(administer(), 0);
	r = sipas_run(NULL, "audit", "head", NULL);
	CHECK_INT(r->status, 0);
	kept = strndup(r->out, 64);
	early = test_db_text("sipas.db", "SELECT lower(hex(hash)) FROM audit WHERE id = 2");
	CHECK(kept && early);
	r = sipas_run(NULL, "audit", "verify", "--head", kept, NULL);
	CHECK_INT(r->status, 0);
	snprintf(want, sizeof(want), "head %s is entry %lld's\n", kept, test_db_int("sipas.db", "SELECT max(id) FROM audit"));
	CHECK_CONTAINS(r->out, want);
	/* history from entry 3 on replaced, the sequence set back to match */
	CHECK_INT(shell("DELETE FROM audit WHERE id >= 3; UPDATE sqlite_sequence SET seq = 2 WHERE name = 'audit'"), 0);
	CHECK_INT(append("cli:someone", NULL, "user.add", "nobody (office)", (long long)time(NULL)), 0);
	CHECK_INT(sipas_run(NULL, "audit", "verify", NULL)->status, 0);
	r = sipas_run(NULL, "audit", "verify", "--head", kept, NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "audit log rewritten: no entry has the head");
	/* a head from before the rewrite still checks */
	r = sipas_run(NULL, "audit", "verify", "--head", early, NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "is entry 2's");
	CHECK_INT(sipas_run(NULL, "audit", "verify", "--head", "abc", NULL)->status, 1);
	free(kept);
	free(early);
}

static void list_escapes_and_filters(void)
{
	const struct cmd_result *r;
	char actor[128];

	CHECK_INT(sipas_run(NULL, "init", NULL)->status, 0);
	CHECK_INT(append("mallory", "203.0.113.9", "user.add", "a\x1b[2Jb\tc\nd\re\x7f\\f\xc2\x9bg\xff\xe2\x80\xaeh",
			 1767225600), 0);   /* 2026-01-01 00:00 UTC */
	CHECK_INT(append("office1", "203.0.113.10", "device.revoke", "device 7 · Quầy 1", 1767225600 + 86400), 0);
	r = sipas_run(NULL, "audit", "list", NULL);
	CHECK_INT(r->status, 0);
	CHECK(!strchr(r->out, '\x1b') && !strchr(r->out, '\r') && !strchr(r->out, '\x7f') && !strstr(r->out, "\xc2\x9b") &&
	      !strchr(r->out, '\xff') && !strstr(r->out, "\xe2\x80\xae"));
	CHECK_CONTAINS(r->out, "a\\x1b[2Jb\\tc\\nd\\re\\x7f\\\\f\\u009bg\\xff\\u202eh");
	CHECK_CONTAINS(r->out, "device 7 · Quầy 1");   /* printable UTF-8 as it is */
	CHECK_CONTAINS(r->out, "203.0.113.9");
	/* one line an entry: init's, then the two */
	{
		size_t lines = 0;

		for (const char *p = r->out; *p; p++)
			lines += *p == '\n';
		CHECK_INT(lines, test_db_int("sipas.db", "SELECT count(*) FROM audit"));
	}
	r = sipas_run(NULL, "audit", "list", "--actor", "office1", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "device.revoke");
	CHECK(!strstr(r->out, "mallory"));
	r = sipas_run(NULL, "audit", "list", "--action", "user.add", NULL);
	CHECK(strstr(r->out, "mallory") && !strstr(r->out, "office1"));
	/* --since is a day in Vietnam time: 2026-01-02 starts at 2026-01-01 17:00 UTC */
	r = sipas_run(NULL, "audit", "list", "--since", "2026-01-02", "--actor", "office1", NULL);
	CHECK_CONTAINS(r->out, "office1");
	r = sipas_run(NULL, "audit", "list", "--since", "2026-01-03", "--action", "device.revoke", NULL);
	CHECK_INT(r->status, 0);
	CHECK_STR(r->out, "");
	r = sipas_run(NULL, "audit", "list", "--since", "yesterday", NULL);
	CHECK_INT(r->status, 1);
	cli_actor(actor, sizeof(actor));
	CHECK_CONTAINS(sipas_run(NULL, "audit", "list", "--actor", actor, NULL)->out, "\tinit\t");
	CHECK_INT(sipas_run(NULL, "audit", "verify", NULL)->status, 0);
}

static void publish_records_actor_and_head(void)
{
	struct test_server s;
	struct http_result h;
	char actor[128], want[256], *head, *row;

	CHECK_INT(test_init_fixture(1), 0);
	CHECK_INT(sipas_run(NULL, "publish", "--period", "2026Q3", NULL)->status, 0);
	cli_actor(actor, sizeof(actor));
	head = test_db_text("sipas.db", "SELECT lower(hex(hash)) FROM audit WHERE action = 'publish'");
	CHECK(head && strlen(head) == 64);
	/* the head is taken after the publish entry: it is that entry's hash */
	CHECK_INT(test_db_int("sipas.db", "SELECT max(id) FROM audit WHERE action = 'publish'"),
		  test_db_int("sipas.db", "SELECT max(id) FROM audit"));
	row = test_db_text("sipas.db", "SELECT actor || ' ' || audit_head FROM publications WHERE action = 'publish'");
	snprintf(want, sizeof(want), "%s %s", actor, head);
	CHECK_STR(row, want);
	free(row);
	row = test_db_text("sipas.db", "SELECT subject FROM audit WHERE action = 'publish'");
	CHECK_CONTAINS(row, "2026Q3");
	CHECK_CONTAINS(row, "sipas-2017");
	free(row);
	CHECK_INT(test_server_start(&s, "sipas.db", NULL), 0);
	snprintf(want, sizeof(want), "%s/results/2026Q3/", s.base);
	CHECK_INT(test_http("GET", want, NULL, NULL, &h), 0);
	CHECK_INT(test_server_stop(&s), 0);
	CHECK_INT(h.status, 200);
	snprintf(want, sizeof(want), "audit log head at publication: <code>%s</code>", head);
	CHECK_CONTAINS(h.body, want);
	snprintf(want, sizeof(want), "khi công bố: <code>%s</code>", head);
	CHECK_CONTAINS(h.body, want);
	free(h.body);
	/* the head on the page checks against the log */
	CHECK_INT(sipas_run(NULL, "audit", "verify", "--head", head, NULL)->status, 0);
	free(head);
	/* withdrawing is recorded the same way */
	CHECK_INT(sipas_run(NULL, "publish", "--withdraw", "--period", "2026Q3", NULL)->status, 0);
	head = test_db_text("sipas.db", "SELECT lower(hex(hash)) FROM audit WHERE action = 'withdraw'");
	row = test_db_text("sipas.db", "SELECT actor || ' ' || audit_head FROM publications WHERE action = 'withdraw'");
	snprintf(want, sizeof(want), "%s %s", actor, head ? head : "?");
	CHECK_STR(row, want);
	free(row);
	free(head);
	/* a refused publish is recorded with why, and changes nothing else */
	CHECK_INT(sipas_run(NULL, "publish", "--period", "2026Q3", "--form", "no-such-form", NULL)->status, 1);
	row = test_db_text("sipas.db", "SELECT outcome FROM audit WHERE action = 'publish' ORDER BY id DESC");
	CHECK_CONTAINS(row, "no-such-form");
	free(row);
	CHECK_INT(sipas_run(NULL, "audit", "verify", NULL)->status, 0);
}

/* make run's first account: --if-none adds one only to a database with no
 * account at all, and changes nothing after */
static void user_add_if_none_adds_only_the_first(void)
{
	const struct cmd_result *r;

	CHECK_INT(sipas_run(NULL, "init", NULL)->status, 0);
	r = sipas_run(NULL, "user", "add", "--if-none", "--login", "office", "--name", "Office", "--role", "office", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "/console/password/");
	r = sipas_run(NULL, "user", "add", "--if-none", "--login", "other", "--name", "Other", "--role", "office", NULL);
	CHECK_INT(r->status, 0);
	CHECK_STR(r->out, "");
	CHECK_CONTAINS(r->err, "1 account(s) exist already; none added");
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM users"), 1);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM audit WHERE action = 'user.add'"), 1);
	r = sipas_run(NULL, "user", "list", "--if-none", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "--if-none goes with add");
}

const struct test_case office_tests[] = {
	{ "user_add_if_none_adds_only_the_first", user_add_if_none_adds_only_the_first },
	{ "user_add_prints_a_one_time_link_and_sets_no_password", user_add_prints_a_one_time_link_and_sets_no_password },
	{ "user_disable_and_reset", user_disable_and_reset },
	{ "user_add_checks_role_agencies_and_name", user_add_checks_role_agencies_and_name },
	{ "agency_and_viewer_scope", agency_and_viewer_scope },
	{ "every_administrative_command_is_audited", every_administrative_command_is_audited },
	{ "a_change_without_its_record_does_not_land", a_change_without_its_record_does_not_land },
	{ "init_is_recorded_when_it_loads_something", init_is_recorded_when_it_loads_something },
	{ "verify_names_an_edited_row", verify_names_an_edited_row },
	{ "verify_names_an_edited_time", verify_names_an_edited_time },
	{ "verify_names_a_deleted_middle_row", verify_names_a_deleted_middle_row },
	{ "verify_names_a_deleted_last_row", verify_names_a_deleted_last_row },
	{ "verify_against_a_kept_head_finds_a_rewrite", verify_against_a_kept_head_finds_a_rewrite },
	{ "list_escapes_and_filters", list_escapes_and_filters },
	{ "publish_records_actor_and_head", publish_records_actor_and_head },
	{ NULL, NULL }
};
