/*
 * test_cli.c - the command line as a user types it: global options before
 * the command (as git takes them), their precedence over $SIPAS_DB and
 * under a command's own --db, and the usage errors.
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

const struct test_case cli_tests[] = {
	{ "db_before_the_command", db_before_the_command },
	{ "command_db_wins_over_global_and_global_over_env", command_db_wins_over_global_and_global_over_env },
	{ "bad_global_options_are_usage_errors", bad_global_options_are_usage_errors },
	{ NULL, NULL }
};
