/*
 * test_registry.c - loading agencies, sectors and targets: every bad value
 * names FILE:LINE: column, and a failed load changes nothing.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "test.h"

static int write_registry(const char *agencies, const char *sectors, const char *targets)
{
	mkdir("reg", 0755);
	return test_write("reg/agencies.csv", agencies) | test_write("reg/sectors.csv", sectors) |
	       test_write("reg/targets.csv", targets);
}

#define AGENCIES "code,name,level,parent\nSO-A,Sở A,department,TP\nTP,Thành phố,province,\n"
/* a merger on 2025-07-01: X-A and X-B into the new ward P-M */
#define HISTORY "code,name,level,parent,valid_from,valid_to,successor\nTP,Thành phố,province,,,,\n" \
	"P-M,Phường M,commune,TP,2025-07-01,,\nX-A,Xã A,commune,TP,,2025-06-30,P-M\n"
#define SECTORS "code,name\ndat-dai,Đất đai\n"
#define TARGETS "scope,code,threshold,from_period\nall,,0.95,2026Q1\nsector,dat-dai,0.9,2026Q1\n"

static void a_small_registry_loads(void)
{
	CHECK_INT(write_registry(AGENCIES, SECTORS, TARGETS), 0);
	CHECK_INT(sipas_run(NULL, "init", "--registry", "reg", NULL)->status, 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT p.code = 'TP' FROM agencies a JOIN agencies p "
			      "ON p.id = a.parent_id WHERE a.code = 'SO-A'"), 1);
	CHECK_INT(test_db_int("sipas.db", "SELECT from_quarter FROM targets WHERE scope = 'all'"), 2026 * 4);
}

/* A province's own registry stays: a plain `init`, which every start of the
 * service runs, does not add the shipped province's agencies to it. */
static void a_plain_init_keeps_the_provinces_own_registry(void)
{
	const struct cmd_result *r;
	long long agencies;

	CHECK_INT(write_registry(AGENCIES, SECTORS, TARGETS), 0);
	CHECK_INT(sipas_run(NULL, "init", "--registry", "reg", NULL)->status, 0);
	agencies = test_db_int("sipas.db", "SELECT count(*) FROM agencies");
	r = sipas_run(NULL, "init", NULL);
	CHECK_INT(r->status, 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM agencies"), agencies);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM agencies WHERE code = 'P-HONGBANG'"), 0);
	/* a database on the shipped registry still gets it at every init */
	CHECK_INT(sipas_run(NULL, "init", "--db", "shipped.db", NULL)->status, 0);
	CHECK_INT(test_db_exec("shipped.db", "DELETE FROM targets"), 0);
	CHECK_INT(sipas_run(NULL, "init", "--db", "shipped.db", NULL)->status, 0);
	CHECK(test_db_int("shipped.db", "SELECT count(*) FROM targets") > 0);
}

static const struct {
	const char *agencies, *sectors, *targets, *message;
} bad[] = {
	{ "code,name,level,parent\nSO-A,Sở A,ministry,\n", SECTORS, TARGETS,
	  "reg/agencies.csv:2: column level: 'ministry' is not province, department, district or commune" },
	{ "code,name,level,parent\nSO-A,Sở A,department,NOPE\n", SECTORS, TARGETS,
	  "reg/agencies.csv:2: column parent: unknown agency 'NOPE'" },
	{ "code,name,level,parent\nSO A,Sở A,department,\n", SECTORS, TARGETS,
	  "reg/agencies.csv:2: column code: 'SO A' is not a code" },
	{ "code,name,level,parent\nSO-A,,department,\n", SECTORS, TARGETS, "reg/agencies.csv:2: column name: empty" },
	{ "code,name,level\nSO-A,A,department\n", SECTORS, TARGETS,
	  "reg/agencies.csv:1: column parent: missing from the header" },
	{ "code,name,level,parent,extra\n", SECTORS, TARGETS, "reg/agencies.csv:1: column extra: unknown column" },
	{ HISTORY "X-C,Xã C,commune,TP,,2025-06-30,NOPE\n", SECTORS, TARGETS,
	  "reg/agencies.csv:5: column successor: unknown agency 'NOPE'" },
	{ HISTORY "X-C,Xã C,commune,TP,,2025-06-30,X-C\n", SECTORS, TARGETS,
	  "reg/agencies.csv:5: column successor: 'X-C' cannot be its own successor" },
	{ HISTORY "X-C,Xã C,commune,TP,,2025-06-30,X-D\nX-D,Xã D,commune,TP,,2025-06-30,X-C\n", SECTORS, TARGETS,
	  "reg/agencies.csv:5: column successor: successors run in a cycle back to 'X-C'" },
	{ HISTORY "X-C,Xã C,commune,TP,,2025-05-31,P-M\n", SECTORS, TARGETS,
	  "reg/agencies.csv:5: column successor: 'P-M' is not valid on 2025-06-01, the day after valid_to" },
	{ HISTORY "X-C,Xã C,commune,TP,,,P-M\n", SECTORS, TARGETS,
	  "reg/agencies.csv:5: column successor: an agency with a successor needs valid_to, its last day" },
	{ HISTORY "X-C,Xã C,commune,TP,,2025-06-30,\"P-M;SO-A\"\n", SECTORS, TARGETS,
	  "reg/agencies.csv:5: column successor: 'P-M;SO-A' names several agencies: a split is not supported" },
	{ HISTORY "X-C,Xã C,commune,TP,,2025-13-30,P-M\n", SECTORS, TARGETS,
	  "reg/agencies.csv:5: column valid_to: '2025-13-30' is not a date (YYYY-MM-DD)" },
	{ HISTORY "X-C,Xã C,commune,TP,2025-07-01,2025-06-30,\n", SECTORS, TARGETS,
	  "reg/agencies.csv:5: column valid_to: 2025-06-30 is before valid_from" },
	{ AGENCIES, "code,name\ndat dai,Đất đai\n", TARGETS, "reg/sectors.csv:2: column code: 'dat dai' is not a code" },
	{ AGENCIES, SECTORS, "scope,code,threshold,from_period\nsector,y-te,0.9,2026Q1\n",
	  "reg/targets.csv:2: column code: unknown code 'y-te'" },
	{ AGENCIES, SECTORS, "scope,code,threshold,from_period\nall,,1.5,2026Q1\n",
	  "reg/targets.csv:2: column threshold: '1.5' is not a proportion in (0, 1]" },
	{ AGENCIES, SECTORS, "scope,code,threshold,from_period\nall,,0.9,2026-01\n",
	  "reg/targets.csv:2: column from_period: '2026-01' is not a quarter (YYYYQn)" },
	{ AGENCIES, SECTORS, "scope,code,threshold,from_period\ncity,,0.9,2026Q1\n",
	  "reg/targets.csv:2: column scope: 'city' is not all, sector or agency" },
	{ AGENCIES, SECTORS, "scope,code,threshold,from_period\nall,X,0.9,2026Q1\n",
	  "reg/targets.csv:2: column code: must be empty for scope all" },
	{ AGENCIES, SECTORS, "scope,code,threshold,from_period\nall,,0.9,2026Q1\nall,,0.8,2026Q1\n",
	  "reg/targets.csv: a scope and code has two targets for the same period" },
};

static void bad_registries_are_refused_and_change_nothing(void)
{
	CHECK_INT(write_registry(AGENCIES, SECTORS, TARGETS), 0);
	CHECK_INT(sipas_run(NULL, "init", "--registry", "reg", NULL)->status, 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const struct cmd_result *r;

		CHECK_INT(write_registry(bad[i].agencies, bad[i].sectors, bad[i].targets), 0);
		r = sipas_run(NULL, "init", "--registry", "reg", NULL);
		if (r->status != 1) {
			test_fail(__FILE__, __LINE__, "case %zu: exit %d", i, r->status);
			return;
		}
		CHECK_CONTAINS(r->err, bad[i].message);
		CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM agencies"), 2);
		CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM targets"), 2);
	}
	CHECK_INT(test_write("reg/targets.csv", ""), 0);
	CHECK_INT(sipas_run(NULL, "init", "--registry", "reg", NULL)->status, 1);
	CHECK_INT(sipas_run(NULL, "init", "--registry", "nowhere", NULL)->status, 1);
}

/* The optional columns valid_from, valid_to and successor; level district;
 * a later file without them leaves the history stored. */
static void a_registry_with_history_loads(void)
{
	CHECK_INT(write_registry(HISTORY "H-AL,Phòng Tư pháp huyện An Lão,district,TP,,2025-06-30,TP\n"
				 "X-B,Xã B,commune,TP,,2025-06-30,P-M\n", SECTORS, TARGETS), 0);
	CHECK_INT(sipas_run(NULL, "init", "--registry", "reg", NULL)->status, 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT (SELECT group_concat(x, ' ') FROM (SELECT a.code || '>' || s.code || '@' || "
			       "date(a.valid_to * 86400, 'unixepoch') AS x FROM agencies a JOIN agencies s "
			       "ON s.id = a.successor_id ORDER BY a.code)) = "
			       "'H-AL>TP@2025-06-30 X-A>P-M@2025-06-30 X-B>P-M@2025-06-30'"), 1);
	CHECK_INT(test_db_int("sipas.db", "SELECT (SELECT date(valid_from * 86400, 'unixepoch') || coalesce(valid_to, '-') "
			       "FROM agencies WHERE code = 'P-M') = '2025-07-01-'"), 1);
	CHECK_INT(test_db_int("sipas.db", "SELECT (SELECT level FROM agencies WHERE code = 'H-AL') = 'district'"), 1);
	CHECK_INT(write_registry("code,name,level,parent\nTP,Thành phố,province,\nX-A,Xã A (đổi tên),commune,TP\n",
				 SECTORS, TARGETS), 0);
	CHECK_INT(sipas_run(NULL, "init", "--registry", "reg", NULL)->status, 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT (SELECT a.name || '>' || s.code FROM agencies a JOIN agencies s "
			       "ON s.id = a.successor_id WHERE a.code = 'X-A') = 'Xã A (đổi tên)>P-M'"), 1);
}

/* A registry as Excel saves it in Vietnam: ';', a decimal comma in the
 * thresholds, rows of separators below the table. */
static void excel_vietnam_registry(void)
{
	const struct cmd_result *r;

	CHECK_INT(write_registry("\xEF\xBB\xBF" "code;name;level;parent\r\nSO-A;Sở A;department;TP\r\n"
				 "TP;Thành phố;province;\r\n;;;\r\n",
				 "code\tname\r\ndat-dai\tĐất đai\r\n\t\r\n",
				 "scope;code;threshold;from_period\r\nall;;0,95;2026Q1\r\nsector;dat-dai;0,9;2026Q1\r\n"
				 ";;;\r\n"), 0);
	r = sipas_run(NULL, "init", "--registry", "reg", NULL);
	CHECK_INT(r->status, 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM agencies"), 2);
	CHECK_INT(test_db_int("sipas.db", "SELECT threshold * 100 FROM targets WHERE scope = 'sector'"), 90);
	CHECK_INT(write_registry(AGENCIES, SECTORS, "scope;code;threshold;from_period\nall;;0.95;2026Q1\n"), 0);
	r = sipas_run(NULL, "init", "--registry", "reg", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "reg/targets.csv:2: column threshold: '0.95' is not a proportion in (0, 1]: with ';' "
		       "or a tab between fields the decimal mark is a comma");
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM targets"), 2);
}

const struct test_case registry_tests[] = {
	{ "a_small_registry_loads", a_small_registry_loads },
	{ "a_plain_init_keeps_the_provinces_own_registry", a_plain_init_keeps_the_provinces_own_registry },
	{ "bad_registries_are_refused_and_change_nothing", bad_registries_are_refused_and_change_nothing },
	{ "excel_vietnam_registry", excel_vietnam_registry },
	{ "a_registry_with_history_loads", a_registry_with_history_loads },
	{ NULL, NULL }
};
