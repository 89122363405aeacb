/*
 * test_service.c - sipas as an installed service (docs/operations.md): the
 * systemd unit passes `systemd-analyze verify`, `make install` puts every
 * file where the operations guide says, and `sipas backup` taken while
 * clients post holds every rating acknowledged before it began; `make
 * check-layers` refuses an include that points up the layers.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

/* Run a shell command line; its exit status, or -1. */
static int shell(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int shell(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	int status;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	status = system(cmd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* `systemd-analyze verify` of the unit file `path`: 0 when it exits 0 and
 * prints nothing about the unit (bad values are only warnings to it, with
 * exit status 0), else -1; what it said is in verify.out. */
static int verify_unit(const char *path)
{
	char *said;
	int rc = shell("systemd-analyze verify %s > verify.out 2>&1", path);

	said = test_read("verify.out");
	if (rc != 0 || !said || strstr(said, "sipas"))
		rc = -1;
	free(said);
	return rc;
}

/* Replace every `from` in `text` by `to`; owned by the caller. */
static char *replace_all(const char *text, const char *from, const char *to)
{
	size_t n = 0, flen = strlen(from), tlen = strlen(to);
	char *out, *o;

	for (const char *p = strstr(text, from); p; p = strstr(p + flen, from))
		n++;
	out = malloc(strlen(text) + n * tlen + 1);
	for (o = out; *text;) {
		if (strncmp(text, from, flen) == 0) {
			memcpy(o, to, tlen);
			o += tlen;
			text += flen;
		} else {
			*o++ = *text++;
		}
	}
	*o = '\0';
	return out;
}

static void unit_passes_systemd_analyze_verify(void)
{
	char path[4200], *in, *unit, *broken;
	const char *required[] = { "User=sipas\n", "StateDirectory=sipas\n", "ProtectSystem=strict\n",
				   "NoNewPrivileges=yes\n", "PrivateTmp=yes\n", "Restart=on-failure\n",
				   "ExecReload=/bin/kill -HUP $MAINPID\n", "KillSignal=SIGTERM\n",
				   "Environment=SIPAS_DB=/var/lib/sipas/sipas.db\n", NULL };
	const char *timeout;

	snprintf(path, sizeof(path), "%s/dist/sipas.service.in", getenv("SIPAS_SOURCE"));
	in = test_read(path);
	CHECK(in);
	/* the unit as installed, but running the binary under test */
	CHECK_CONTAINS(in, "ExecStartPre=@BINDIR@/sipas init");
	CHECK_CONTAINS(in, "ExecStart=@BINDIR@/sipas serve");
	unit = replace_all(in, "@BINDIR@/sipas", getenv("SIPAS_BIN"));
	CHECK(!strstr(unit, "@BINDIR@"));
	for (int i = 0; required[i]; i++)
		CHECK_CONTAINS(unit, required[i]);
	/* the server waits up to 30 s for the ratings its writer holds */
	timeout = strstr(unit, "\nTimeoutStopSec=");
	CHECK(timeout && atoi(timeout + 16) > 30);
	CHECK_INT(test_write("sipas.service", unit), 0);
	if (verify_unit("sipas.service") != 0) {
		char *said = test_read("verify.out");

		test_fail(__FILE__, __LINE__, "systemd-analyze verify: %s", said ? said : "(no output)");
		free(said);
		return;
	}
	/* and the check sees a bad value, which systemd only warns about */
	broken = replace_all(unit, "ProtectSystem=strict", "ProtectSystem=strictly");
	CHECK(mkdir("broken", 0755) == 0);
	CHECK_INT(test_write("broken/sipas.service", broken), 0);
	CHECK_INT(verify_unit("broken/sipas.service"), -1);
	free(broken);
	free(unit);
	free(in);
}

static void install_puts_files_where_documented(void)
{
	char *unit, *users, *passwd, here[4096];
	struct stat st;

	CHECK(getcwd(here, sizeof(here)));
	CHECK_INT(shell("make -s -C %s install DESTDIR=%s/root PREFIX=/usr INSTALL_BIN=%s > install.out 2>&1",
			getenv("SIPAS_SOURCE"), here, getenv("SIPAS_BIN")), 0);
	CHECK_INT(stat("root/usr/bin/sipas", &st), 0);
	CHECK_INT(st.st_mode & 0777, 0755);
	CHECK_INT(shell("./root/usr/bin/sipas help > help.out"), 0);
	CHECK(test_file_contains("help.out", "backup"));
	CHECK_INT(stat("root/usr/lib/systemd/system/sipas.service", &st), 0);
	CHECK_INT(st.st_mode & 0777, 0644);
	unit = test_read("root/usr/lib/systemd/system/sipas.service");
	CHECK(unit && !strstr(unit, "@BINDIR@"));
	CHECK_CONTAINS(unit, "\nExecStartPre=/usr/bin/sipas init");
	CHECK_CONTAINS(unit, "\nExecStart=/usr/bin/sipas serve");
	/* the push's units, and its environment file: 0600, never replaced */
	free(unit);
	unit = test_read("root/usr/lib/systemd/system/sipas-push.service");
	CHECK(unit && !strstr(unit, "@BINDIR@"));
	CHECK_CONTAINS(unit, "\nExecStart=/usr/bin/sipas push --db /var/lib/sipas/sipas.db");
	CHECK_INT(stat("root/usr/lib/systemd/system/sipas-push.timer", &st), 0);
	CHECK_INT(st.st_mode & 0777, 0644);
	CHECK_INT(stat("root/etc/sipas/push.env", &st), 0);
	CHECK_INT(st.st_mode & 0777, 0600);
	CHECK(test_file_contains("root/etc/sipas/push.env", "\nSIPAS_HUB=\n"));
	CHECK(test_file_contains("root/etc/sipas/push.env", "\nSIPAS_PROVINCE=\n"));
	CHECK_INT(test_write("root/etc/sipas/push.env", "SIPAS_HUB=service=hub\nSIPAS_PROVINCE=HP\n"), 0);
	CHECK_INT(shell("make -s -C %s install DESTDIR=%s/root PREFIX=/usr INSTALL_BIN=%s > install.out 2>&1",
			getenv("SIPAS_SOURCE"), here, getenv("SIPAS_BIN")), 0);
	CHECK(test_file_contains("root/etc/sipas/push.env", "SIPAS_PROVINCE=HP\n"));
	users = test_read("root/usr/lib/sysusers.d/sipas.conf");
	CHECK(users);
	/* a DESTDIR install creates no user on this machine: systemd-sysusers
	 * creates it in the staged root, as a package's install would */
	CHECK(mkdir("root/etc", 0755) == 0 || errno == EEXIST);
	CHECK_INT(shell("systemd-sysusers --root=root > sysusers.out 2>&1"), 0);
	passwd = test_read("root/etc/passwd");
	CHECK(passwd && strstr(passwd, "sipas:x:"));
	CHECK_CONTAINS(strstr(passwd, "sipas:x:"), ":/var/lib/sipas:");
	free(passwd);
	free(users);
	free(unit);
}

/* The push's units (docs/hub.md): the service, one push as the user
 * sipas with the hub and province from /etc/sipas/push.env, and its timer,
 * every 5 minutes, pass `systemd-analyze verify`. */
static void push_timer_units_pass_systemd_analyze_verify(void)
{
	char path[4200], *in, *unit, *timer;
	const char *required[] = { "Type=oneshot\n", "User=sipas\n", "EnvironmentFile=/etc/sipas/push.env\n",
				   "ProtectSystem=strict\n", "NoNewPrivileges=yes\n", NULL };

	snprintf(path, sizeof(path), "%s/dist/sipas-push.service.in", getenv("SIPAS_SOURCE"));
	in = test_read(path);
	CHECK(in);
	CHECK_CONTAINS(in, "\nExecStart=@BINDIR@/sipas push --db /var/lib/sipas/sipas.db\n");
	unit = replace_all(in, "@BINDIR@/sipas", getenv("SIPAS_BIN"));
	for (int i = 0; required[i]; i++)
		CHECK_CONTAINS(unit, required[i]);
	snprintf(path, sizeof(path), "%s/dist/sipas-push.timer", getenv("SIPAS_SOURCE"));
	timer = test_read(path);
	CHECK(timer);
	CHECK_CONTAINS(timer, "\nOnUnitActiveSec=5min\n");
	CHECK_CONTAINS(timer, "\nOnBootSec=");
	CHECK_CONTAINS(timer, "\nWantedBy=timers.target\n");
	CHECK_INT(test_write("sipas-push.service", unit), 0);
	CHECK_INT(test_write("sipas-push.timer", timer), 0);
	if (verify_unit("sipas-push.timer") != 0 || verify_unit("sipas-push.service") != 0) {
		char *said = test_read("verify.out");

		test_fail(__FILE__, __LINE__, "systemd-analyze verify: %s", said ? said : "(no output)");
		free(said);
	}
	free(timer);
	free(unit);
	free(in);
}

/* `make check-layers` (the Makefile's LAYERS) run on a small tree in this
 * case's directory: an include of a later layer, or of a folder that is no
 * layer, is named with its file, line and the rule, and fails the check;
 * includes down the layers or within a folder, and tests/ including
 * anything, pass; so does the real tree. */
/* The layer order as the Makefile's LAYERS gives it ("lib db ..."), and as
 * docs/design.md's "Layout" writes it (`lib`, `db`, ... up to its dash),
 * into out; 0, or -1 when either is not found. */
#define DOC_LAYERS "Folders are layers, lowest first: "

static int layer_orders(char *make_order, char *doc_order, size_t size)
{
	char path[4096], *make = NULL, *doc = NULL, *p;
	const char *src = getenv("SIPAS_SOURCE");
	size_t n = 0;
	int rc = -1;

	snprintf(path, sizeof(path), "%s/Makefile", src);
	make = test_read(path);
	snprintf(path, sizeof(path), "%s/docs/design.md", src);
	doc = test_read(path);
	if (!make || !doc || !(p = strstr(make, "\nLAYERS")) || !(p = strstr(p, ":= ")))
		goto out;
	p += 3;
	snprintf(make_order, size, "%.*s", (int)strcspn(p, "\n"), p);
	if (!(p = strstr(doc, DOC_LAYERS)))
		goto out;
	doc_order[0] = '\0';
	for (p += strlen(DOC_LAYERS); *p == '`' && n + 1 < size; ) {
		size_t len = strcspn(p + 1, "`");

		n += (size_t)snprintf(doc_order + n, size - n, "%s%.*s", n ? " " : "", (int)len, p + 1);
		p += len + 2;
		p += strspn(p, ", \n");
	}
	rc = 0;
out:
	free(make);
	free(doc);
	return rc;
}

#define LAYERS_CHECK "make -s --no-print-directory -f %s/Makefile check-layers > layers.out 2>&1"

static void check_layers_refuses_an_include_up_the_layers(void)
{
	char *said;

	CHECK(mkdir("lib", 0755) == 0 && mkdir("db", 0755) == 0 && mkdir("scoring", 0755) == 0 &&
	      mkdir("reports", 0755) == 0 && mkdir("tests", 0755) == 0);
	CHECK_INT(test_write("lib/a.h", "#include <stdio.h>\n"), 0);
	CHECK_INT(test_write("db/d.c", "#include \"d.h\"\n#include \"../lib/a.h\"\n"), 0);
	CHECK_INT(test_write("reports/r.h", "#include \"../scoring/s.h\"\n"), 0);
	CHECK_INT(test_write("tests/t.c", "#include \"../reports/r.h\"\n#include \"../cli/cli.h\"\n"), 0);
	CHECK_INT(test_write("scoring/s.c", "/* s.c */\n#include \"s.h\"\n#include \"../lib/a.h\"\n"
			     "#include \"../reports/r.h\"\n  # include \"../tests/t.h\"\n"), 0);
	CHECK_INT(shell(LAYERS_CHECK, getenv("SIPAS_SOURCE")), 2);
	said = test_read("layers.out");
	CHECK(said);
	CHECK_CONTAINS(said, "scoring/s.c:4: #include \"../reports/r.h\": scoring/ may not include reports/, a later layer"
		       " (layers, lowest first: lib db forms responses scoring reports hub office monitor collector cli)\n");
	CHECK_CONTAINS(said, "scoring/s.c:5: #include \"../tests/t.h\": a layer includes only layers");
	CHECK_CONTAINS(said, "\n2 include(s) break the layer order");
	CHECK(!strstr(said, "db/d.c") && !strstr(said, "reports/r.h:") && !strstr(said, "tests/t.c"));
	free(said);

	CHECK_INT(test_write("scoring/s.c", "#include \"s.h\"\n#include \"../db/../lib/a.h\"\n"), 0);
	CHECK_INT(shell(LAYERS_CHECK, getenv("SIPAS_SOURCE")), 0);
	CHECK_INT(shell("make -s --no-print-directory -C %s check-layers > tree.out 2>&1", getenv("SIPAS_SOURCE")), 0);
}

/* The layer order is written twice, in the Makefile (which the check
 * reads) and in docs/design.md (which people read): the two agree. */
static void layer_order_is_the_same_in_the_makefile_and_the_design(void)
{
	char make_order[256], doc_order[256];

	CHECK_INT(layer_orders(make_order, doc_order, sizeof(make_order)), 0);
	CHECK_STR(doc_order, make_order);
	CHECK_CONTAINS(make_order, "lib db forms responses scoring");
}

#define CLIENTS 4
#define CLIENT_MAX_POSTS 20000
#define CLIENT_MAX_SECONDS 15

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One kiosk posting until the file "stop" appears (or its own bounds),
 * writing "ID SECONDS" to acked.C for every 201, SECONDS when the reply
 * arrived (CLOCK_MONOTONIC, one clock for every process). */
static void client(const struct test_server *s, const char *token, int c)
{
	char url[128], auth[200], body[512], path[32], when[32];
	const char *headers[] = { "Content-Type: application/json", auth, NULL };
	double end = now_s() + CLIENT_MAX_SECONDS;
	time_t t = time(NULL);
	FILE *log;

	snprintf(url, sizeof(url), "%s/api/responses", s->base);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	snprintf(path, sizeof(path), "acked.%d", c);
	log = fopen(path, "w");
	for (int i = 0; i < CLIENT_MAX_POSTS && now_s() < end && access("stop", F_OK) != 0; i++) {
		struct http_result h;

		snprintf(body, sizeof(body), "{\"response_id\":\"b%d-%d\",\"form\":\"kiosk-2018\","
			 "\"agency\":\"P-HONGBANG\",\"sector\":\"dat-dai\",\"submitted_at\":\"%s\","
			 "\"answers\":{\"overall\":%d}}", c, i, when, 1 + (c + i) % 3);
		if (test_http("POST", url, body, headers, &h) == 0 && h.status == 201) {
			fprintf(log, "b%d-%d %.6f\n", c, i, now_s());
			fflush(log);
		}
		free(h.body);
	}
	fclose(log);
}

static void backup_under_load_keeps_every_acknowledged_rating(void)
{
	struct test_server s;
	const struct cmd_result *r;
	char token[128];
	pid_t kids[CLIENTS];
	double started, ended;
	long before = 0, after = 0, missing = 0;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;

	/* a year of demo ratings first, so that the copy takes several steps */
	CHECK_INT(sipas_run(NULL, "init", NULL)->status, 0);
	CHECK_INT(sipas_run(NULL, "demo", NULL)->status, 0);
	r = sipas_run(NULL, "device", "add", "--agency", "P-HONGBANG", "--counter", "1", "--sector", "dat-dai", NULL);
	CHECK_INT(r->status, 0);
	snprintf(token, sizeof(token), "%.*s", (int)strcspn(r->out, "\n"), r->out);
	CHECK_INT(test_server_start(&s, "sipas.db", "--device-rate", "0", NULL), 0);
	for (int c = 0; c < CLIENTS; c++) {
		kids[c] = fork();
		if (kids[c] == 0) {
			client(&s, token, c);
			_exit(0);
		}
	}
	/* the copy begins once ratings flow (at most 10 s: a slow machine) */
	for (int waited = 0; waited < 1000 && test_count_lines("acked", CLIENTS) < 100; waited++)
		usleep(10 * 1000);
	started = now_s();
	r = sipas_run(NULL, "backup", "backup.db", NULL);
	ended = now_s();
	usleep(500 * 1000);   /* and go on a little after it */
	test_write("stop", "");
	for (int c = 0; c < CLIENTS; c++)
		waitpid(kids[c], NULL, 0);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "backup.db: copy of sipas.db");
	CHECK(access("backup.db.tmp", F_OK) != 0);
	CHECK_INT(test_server_stop(&s), 0);

	/* restore: the copy becomes the database of a new installation */
	CHECK(mkdir("restored", 0755) == 0);
	CHECK_INT(shell("cp backup.db restored/sipas.db"), 0);
	CHECK_INT(sipas_run(NULL, "init", "--db", "restored/sipas.db", NULL)->status, 0);
	CHECK_INT(test_db_int("restored/sipas.db",
			      "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check = 'ok'"), 1);
	CHECK_INT(sqlite3_open_v2("restored/sipas.db", &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	CHECK_INT(sqlite3_prepare_v2(db, "SELECT count(*) FROM responses WHERE response_id = ?1", -1, &st,
				     NULL), SQLITE_OK);
	for (int c = 0; c < CLIENTS; c++) {
		char path[32], id[64];
		double at;
		FILE *fp;

		snprintf(path, sizeof(path), "acked.%d", c);
		fp = fopen(path, "r");
		while (fp && fscanf(fp, "%63s %lf", id, &at) == 2) {
			if (at >= started) {
				after++;
				continue;
			}
			before++;
			sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
			if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_int(st, 0) != 1) {
				if (missing++ < 5)
					fprintf(stderr, "    %s acknowledged %.3f s before the backup began, "
						"not in it\n", id, started - at);
			}
			sqlite3_reset(st);
		}
		if (fp)
			fclose(fp);
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	fprintf(stderr, "    %ld ratings acknowledged before the backup, %ld during and after it "
		"(the backup took %.3f s)\n", before, after, ended - started);
	CHECK(before >= 100);
	CHECK(after > 0);       /* the collector kept taking ratings */
	CHECK_INT(missing, 0);
}

static void backup_never_overwrites_nor_leaves_a_partial_file(void)
{
	const struct cmd_result *r;
	struct stat st;
	char *first;

	CHECK_INT(sipas_run(NULL, "init", NULL)->status, 0);
	CHECK_INT(sipas_run(NULL, "backup", "copy.db", NULL)->status, 0);
	CHECK_INT(stat("copy.db", &st), 0);
	CHECK_INT(st.st_mode & 0777, 0600);   /* it holds the server key */
	CHECK_INT(test_write("other.db", "not this\n"), 0);
	r = sipas_run(NULL, "backup", "other.db", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "other.db already exists");
	first = test_read("other.db");
	CHECK_STR(first, "not this\n");
	free(first);
	CHECK_INT(sipas_run(NULL, "backup", "--force", "other.db", NULL)->status, 0);
	CHECK_INT(test_db_int("other.db", "SELECT count(*) FROM forms"),
		  test_db_int("sipas.db", "SELECT count(*) FROM forms"));
	/* a source that is no database: an error, and neither FILE nor FILE.tmp */
	CHECK_INT(test_write("junk.db", "SQLite format 3? no, a text file, long enough to be read\n"), 0);
	r = sipas_run(NULL, "backup", "--db", "junk.db", "out.db", NULL);
	CHECK(r->status != 0);
	CHECK_CONTAINS(r->err, "junk.db");
	CHECK(access("out.db", F_OK) != 0 && access("out.db.tmp", F_OK) != 0);
	r = sipas_run(NULL, "backup", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "FILE");
}

const struct test_case service_tests[] = {
	{ "unit_passes_systemd_analyze_verify", unit_passes_systemd_analyze_verify },
	{ "install_puts_files_where_documented", install_puts_files_where_documented },
	{ "push_timer_units_pass_systemd_analyze_verify", push_timer_units_pass_systemd_analyze_verify },
	{ "check_layers_refuses_an_include_up_the_layers", check_layers_refuses_an_include_up_the_layers },
	{ "layer_order_is_the_same_in_the_makefile_and_the_design", layer_order_is_the_same_in_the_makefile_and_the_design },
	{ "backup_under_load_keeps_every_acknowledged_rating", backup_under_load_keeps_every_acknowledged_rating },
	{ "backup_never_overwrites_nor_leaves_a_partial_file", backup_never_overwrites_nor_leaves_a_partial_file },
	{ NULL, NULL }
};
