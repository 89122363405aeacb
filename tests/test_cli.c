/*
 * test_cli.c - the command line as a user types it: global options before
 * the command (as git takes them), their precedence over $SIPAS_DB and
 * under a command's own --db, the usage errors, and the public address that
 * printed links carry (--base, $SIPAS_PUBLIC_URL, sipas init --public-url).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test.h"

static void db_before_the_command(void)
{
	const struct cmd_result *r;
	char reg[4096], csv[4096];

	snprintf(reg, sizeof(reg), "%s/sipas-2017-a/registry", test_fixtures());
	snprintf(csv, sizeof(csv), "%s/sipas-2017-a/responses.csv", test_fixtures());
	CHECK_INT(sipas_run(NULL, "--db", "global.db", "init", "--registry", reg, NULL)->status, 0);
	CHECK(access("global.db", F_OK) == 0);
	CHECK(access("sipas.db", F_OK) != 0);
	CHECK_INT(sipas_run(NULL, "--db=global.db", "import", "--form", "sipas-2017", csv, NULL)->status, 0);
	r = sipas_run(NULL, "--db", "global.db", "score", "--period", "2026Q3", "--format", "json", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "\"period\": \"2026Q3\"");
	/* the same run with --db after the command gives the same figures */
	{
		char *first = strdup(r->out);

		r = sipas_run(NULL, "score", "--db", "global.db", "--period", "2026Q3", "--format", "json", NULL);
		CHECK_INT(r->status, 0);
		CHECK_STR(r->out, first);
		free(first);
	}
}

static void command_db_wins_over_global_and_global_over_env(void)
{
	const struct cmd_result *r;

	setenv("SIPAS_DB", "env.db", 1);
	CHECK_INT(sipas_run(NULL, "--db", "global.db", "init", "--db", "command.db", NULL)->status, 0);
	CHECK(access("command.db", F_OK) == 0);
	CHECK(access("global.db", F_OK) != 0);
	CHECK_INT(sipas_run(NULL, "--db", "global.db", "init", NULL)->status, 0);
	CHECK(access("global.db", F_OK) == 0);
	CHECK(access("env.db", F_OK) != 0);
	r = sipas_run(NULL, "init", NULL);
	CHECK_INT(r->status, 0);
	CHECK(access("env.db", F_OK) == 0);
	unsetenv("SIPAS_DB");
}

static void bad_global_options_are_usage_errors(void)
{
	const struct cmd_result *r;

	r = sipas_run(NULL, "--bogus", "init", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "'--bogus' is not a global option");
	r = sipas_run(NULL, "--db", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "--db needs a PATH");
	r = sipas_run(NULL, "--db", "x.db", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "usage: sipas [--db PATH] COMMAND");
	CHECK(access("x.db", F_OK) != 0);
	r = sipas_run(NULL, "--db", "x.db", "nope", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "'nope' is not a command");
	r = sipas_run(NULL, "--db", "x.db", "help", "score", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "usage: sipas score");
}

/* The public address of a printed link: what stands before "/s/" or "/pair/". */
static int starts_with(const char *s, const char *prefix)
{
	return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

static const struct cmd_result *link_run(const char *base)
{
	return sipas_run(NULL, "link", "--form", "sipas-2017", "--agency", "SO-XD", "--sector", "xay-dung",
			 "--dossier", "HS-1", base ? "--base" : NULL, base, NULL);
}

static const struct cmd_result *pair_run(const char *base)
{
	return sipas_run(NULL, "device", "add", "--agency", "SO-XD", "--counter", "Quầy 1", "--sector",
			 "xay-dung", "--pair", base ? "--base" : NULL, base, NULL);
}

#define NO_ADDRESS_WARNING "which phones and tablets cannot reach"

/* A command's --base, then $SIPAS_PUBLIC_URL, then what `sipas init
 * --public-url` stored, then http://127.0.0.1:8080 with a warning; `link`
 * and `device add --pair` resolve it alike. */
static void public_address_precedence(void)
{
	const struct cmd_result *r;

	unsetenv("SIPAS_PUBLIC_URL");
	CHECK_INT(test_init_fixture(0), 0);
	r = link_run(NULL);
	CHECK_INT(r->status, 0);
	CHECK(starts_with(r->out, "http://127.0.0.1:8080/s/sipas-2017?agency=SO-XD&"));
	CHECK_CONTAINS(r->err, NO_ADDRESS_WARNING);
	CHECK_CONTAINS(r->err, "sipas init --public-url");
	/* stored once, normalised: the scheme and host in lower case, no trailing slash */
	r = sipas_run(NULL, "init", "--public-url", "HTTPS://Sipas.Example.VN/khao-sat/", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "sipas.db: public address https://sipas.example.vn/khao-sat\n");
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM settings WHERE name = 'public_url' "
			      "AND value = 'https://sipas.example.vn/khao-sat'"), 1);
	r = link_run(NULL);
	CHECK_INT(r->status, 0);
	CHECK(starts_with(r->out, "https://sipas.example.vn/khao-sat/s/sipas-2017?"));
	CHECK_STR(r->err, "");
	r = pair_run(NULL);
	CHECK_INT(r->status, 0);
	CHECK(starts_with(r->out, "https://sipas.example.vn/khao-sat/pair/"));
	CHECK(!strstr(r->err, NO_ADDRESS_WARNING));
	/* init without --public-url keeps it */
	CHECK_INT(sipas_run(NULL, "init", NULL)->status, 0);
	CHECK(starts_with(link_run(NULL)->out, "https://sipas.example.vn/khao-sat/s/"));
	/* the environment wins over the stored address, --base over both */
	setenv("SIPAS_PUBLIC_URL", "http://10.1.2.3:8080", 1);
	CHECK(starts_with(link_run(NULL)->out, "http://10.1.2.3:8080/s/"));
	CHECK(starts_with(pair_run(NULL)->out, "http://10.1.2.3:8080/pair/"));
	r = link_run("http://192.168.1.20:8080/");
	CHECK_INT(r->status, 0);
	CHECK(starts_with(r->out, "http://192.168.1.20:8080/s/sipas-2017?"));
	CHECK(starts_with(pair_run("http://192.168.1.20:8080")->out, "http://192.168.1.20:8080/pair/"));
	unsetenv("SIPAS_PUBLIC_URL");
	/* --public-url '' forgets it: back to the default and its warning */
	CHECK_INT(sipas_run(NULL, "init", "--public-url", "", NULL)->status, 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM settings WHERE name = 'public_url'"), 0);
	r = pair_run(NULL);
	CHECK_INT(r->status, 0);
	CHECK(starts_with(r->out, "http://127.0.0.1:8080/pair/"));
	CHECK_CONTAINS(r->err, NO_ADDRESS_WARNING);
}

/* A public address is http or https, a host, an optional port and path,
 * no query, fragment or user; a bad one is refused naming where it came
 * from, and nothing is stored. */
static void bad_public_addresses_are_refused(void)
{
	static const char *const bad[] = {
		"ftp://sipas.example.vn", "sipas.example.vn", "https://", "https:///khao-sat",
		"https://sipas.example.vn/?a=1", "https://sipas.example.vn/#top", "https://admin@sipas.example.vn",
		"https://sipas example.vn", "https://sipas.example.vn:80a", "https://sipas.example.vn/\"x",
		"https://sipas.example.vn/đ",
	};
	const struct cmd_result *r;

	unsetenv("SIPAS_PUBLIC_URL");
	CHECK_INT(test_init_fixture(0), 0);
	CHECK_INT(sipas_run(NULL, "init", "--public-url", "https://sipas.example.vn", NULL)->status, 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = sipas_run(NULL, "init", "--public-url", bad[i], NULL);
		if (r->status != 1 || !strstr(r->err, "--public-url")) {
			test_fail(__FILE__, __LINE__, "'%s': exit %d, %s", bad[i], r->status, r->err);
			return;
		}
	}
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM settings WHERE name = 'public_url' "
			      "AND value = 'https://sipas.example.vn'"), 1);
	r = link_run("https://sipas.example.vn/?x=1");
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "--base");
	CHECK_STR(r->out, "");
	r = pair_run("sipas.example.vn");
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "--base");
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM devices"), 0);
	setenv("SIPAS_PUBLIC_URL", "javascript:alert(1)", 1);
	r = link_run(NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "SIPAS_PUBLIC_URL");
	unsetenv("SIPAS_PUBLIC_URL");
}

/* `serve` says at start which public address links carry; its pages link
 * relatively, so they work at any address. */
static void serve_names_the_public_address(void)
{
	struct test_server s;
	char *log;

	unsetenv("SIPAS_PUBLIC_URL");
	CHECK_INT(test_init_fixture(0), 0);
	CHECK_INT(test_server_start(&s, "sipas.db", NULL), 0);
	CHECK_INT(test_server_stop(&s), 0);
	log = test_read("server.log");
	CHECK(log);
	CHECK(strstr(log, "public address http://127.0.0.1:8080") && strstr(log, NO_ADDRESS_WARNING));
	free(log);
	unlink("server.log");
	CHECK_INT(sipas_run(NULL, "init", "--public-url", "https://sipas.example.vn/", NULL)->status, 0);
	CHECK_INT(test_server_start(&s, "sipas.db", NULL), 0);
	CHECK_INT(test_server_stop(&s), 0);
	log = test_read("server.log");
	CHECK(log);
	CHECK(strstr(log, "sipas serve: public address https://sipas.example.vn\n") && !strstr(log, NO_ADDRESS_WARNING));
	free(log);
}

const struct test_case cli_tests[] = {
	{ "db_before_the_command", db_before_the_command },
	{ "command_db_wins_over_global_and_global_over_env", command_db_wins_over_global_and_global_over_env },
	{ "bad_global_options_are_usage_errors", bad_global_options_are_usage_errors },
	{ "public_address_precedence", public_address_precedence },
	{ "bad_public_addresses_are_refused", bad_public_addresses_are_refused },
	{ "serve_names_the_public_address", serve_names_the_public_address },
	{ NULL, NULL }
};
