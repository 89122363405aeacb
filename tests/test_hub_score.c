/*
 * test_hub_score.c - national scores from the hub (docs/hub.md, "National
 * scores" and "The national report") on a real PostgreSQL 15: two
 * provinces' databases on the hub score as their union in one SQLite
 * database (agency, stratum and PSU codes prefixed by province, as the hub
 * namespaces them); one province alone as its own database; a form that
 * differs between provinces is refused; the national report's tied places
 * are score_rank's, whose maths is checked by hand on a small case.
 */
#include "test.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../scoring/score_rank.h"

/* 4 provinces, by hand (docs/hub.md): places 1 to 4 go to 0.90, 0.85,
 * 0.80, 0.70.  The six p-values, smallest first, times 6, 5, 4, 3, 2, 1:
 * (0,3) z 14.1; (2,3) z 6.71; (0,1) and (1,3) z 4.47, p 7.7e-6, 3.1e-5
 * adjusted; (0,2) z 2.236, p 0.02535, adjusted 0.0507: not a difference at
 * 5 % although it would be alone; (1,2) z 1.768, p 0.0771. */
static void ranking_ties_places_holm_cannot_tell_apart(void)
{
	static const double est[4] = { 0.90, 0.80, 0.85, 0.70 }, se[4] = { 0.01, 0.02, 0.02, 0.01 };
	static const int differ[6] = { 1, 0, 1, 0, 1, 1 };   /* (0,1) (0,2) (0,3) (1,2) (1,3) (2,3) */
	struct score_rank r[4];
	struct score_pair p[6];
	struct err e;

	CHECK_INT(score_rank(est, se, 4, 0.05, r, p, &e), 0);
	CHECK_INT((int)r[0].place, 1);
	CHECK_INT((int)r[2].place, 2);
	CHECK_INT((int)r[1].place, 3);
	CHECK_INT((int)r[3].place, 4);
	for (int k = 0; k < 6; k++)
		CHECK_INT(p[k].differ, differ[k]);
	CHECK_INT((int)p[1].a, 0);
	CHECK_INT((int)p[1].b, 2);
	CHECK_NEAR(p[1].p, 0.025347, 1e-6);
	CHECK_NEAR(p[1].p_holm, 0.050694, 1e-6);
	CHECK_NEAR(p[3].p_holm, 0.077100, 1e-6);
	CHECK_NEAR(p[0].p_holm, 4 * p[0].p, 1e-12);
	/* 0.90 cannot be told from 0.85; 0.85 from either neighbour; 0.70 from none */
	CHECK_INT((int)r[0].tied_first, 1);
	CHECK_INT((int)r[0].tied_last, 2);
	CHECK_INT((int)r[2].tied_first, 1);
	CHECK_INT((int)r[2].tied_last, 3);
	CHECK_INT((int)r[1].tied_first, 2);
	CHECK_INT((int)r[1].tied_last, 3);
	CHECK_INT((int)r[3].tied_first, 4);
	CHECK_INT((int)r[3].tied_last, 4);
}

/* ---- two provinces ---- */

/* in code order: the union database imports them in this order, as the
 * hub numbers their strata and PSUs */
static const char *const province_code[2] = { "DN", "HP" };
static const char *const province_fixture[2] = { "sipas-2017-b", "sipas-2017-a" };

static int pg_run(PGconn *conn, const char *sql, int n, const char *const *params)
{
	PGresult *res = n ? PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0) : PQexec(conn, sql);
	ExecStatusType st = PQresultStatus(res);
	int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : -1;

	if (rc)
		fprintf(stderr, "%s: %s", sql, PQerrorMessage(conn));
	PQclear(res);
	return rc;
}

/* Copy a fixture's registry to dir, with one agency target more (province
 * HP's own, for SO-XD) so that the national targets carry one. */
static int copy_registry(const char *fixture, const char *dir, int with_agency_target)
{
	static const char *const files[3] = { "agencies.csv", "sectors.csv", "targets.csv" };
	char path[4200];
	int rc = 0;

	snprintf(path, sizeof(path), "mkdir -p %s", dir);
	if (system(path) != 0)
		return -1;
	for (int i = 0; i < 3 && !rc; i++) {
		char *text;

		snprintf(path, sizeof(path), "%s/%s/registry/%s", test_fixtures(), fixture, files[i]);
		text = test_read(path);
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		if (!text)
			return -1;
		if (i == 2 && with_agency_target) {
			char *more = NULL;

			rc = asprintf(&more, "%sagency,SO-XD,0.85,2026Q1\n", text) < 0 ? -1 : test_write(path, more);
			free(more);
		} else {
			rc = test_write(path, text);
		}
		free(text);
	}
	return rc;
}

/* Province i's database, p<i>.db, from its fixture. */
static int province_db(int i)
{
	char reg[64], db[16], csv[4200];

	snprintf(reg, sizeof(reg), "reg-%s", province_code[i]);
	snprintf(db, sizeof(db), "%s.db", province_code[i]);
	snprintf(csv, sizeof(csv), "%s/%s/responses.csv", test_fixtures(), province_fixture[i]);
	if (copy_registry(province_fixture[i], reg, strcmp(province_code[i], "HP") == 0))
		return -1;
	if (sipas_run(NULL, "init", "--db", db, "--registry", reg, NULL)->status)
		return -1;
	return sipas_run(NULL, "import", "--db", db, "--form", "sipas-2017", csv, NULL)->status ? -1 : 0;
}

/* Push database db_path to the hub as province p (registered with its
 * push role first). */
static int push(const struct test_pg *pg, const char *p, const char *db_path)
{
	char role[32];

	snprintf(role, sizeof(role), "push_%s", p);
	if (sipas_run(NULL, "hub", "grant", "--hub", pg->conninfo, "--province", p, "--role", role, NULL)->status)
		return -1;
	return sipas_run(NULL, "push", "--hub", pg->conninfo, "--province", p, "--db", db_path, NULL)->status ? -1 : 0;
}

/* The union of the two provinces in one database, union.db, codes
 * prefixed by province: agencies, strata, PSUs (and response ids, unique
 * per form); sectors are national; targets are the shipped ones for all
 * and by sector, and each province's agency targets. */
static int union_db(void)
{
	char path[4200], *shipped;
	FILE *ag = NULL, *se = NULL, *ta = NULL;
	int rc = 0;

	if (system("mkdir -p reg-union") != 0)
		return -1;
	ag = fopen("reg-union/agencies.csv", "w");
	se = fopen("reg-union/sectors.csv", "w");
	ta = fopen("reg-union/targets.csv", "w");
	snprintf(path, sizeof(path), "%s/forms/registry/targets.csv", getenv("SIPAS_SOURCE"));
	shipped = test_read(path);
	if (!ag || !se || !ta || !shipped) {
		rc = -1;
		goto out;
	}
	fputs("code,name,level,parent\n", ag);
	fputs("code,name\n", se);
	fputs("scope,code,threshold,from_period\n", ta);
	for (int i = 0; i < 2; i++) {
		char line[1024];
		FILE *fp;

		snprintf(path, sizeof(path), "LC_ALL=C sort -t, -k1,1 reg-%s/agencies.csv | grep -v '^code,'", province_code[i]);
		/* in code order, bytewise, as the hub lists them */
		fp = popen(path, "r");
		while (fp && fgets(line, sizeof(line), fp)) {
			char code[64], name[512], level[64], parent[64] = "";

			if (sscanf(line, "%63[^,],%511[^,],%63[^,],%63[^,\n]", code, name, level, parent) >= 3)
				fprintf(ag, "%s.%s,%s,%s,%s%s%s\n", province_code[i], code, name, level,
					*parent ? province_code[i] : "", *parent ? "." : "", parent);
		}
		if (fp)
			pclose(fp);
		snprintf(path, sizeof(path), "reg-%s/targets.csv", province_code[i]);
		fp = fopen(path, "r");
		while (fp && fgets(line, sizeof(line), fp))
			if (strncmp(line, "agency,", 7) == 0)
				fprintf(ta, "agency,%s.%s", province_code[i], line + 7);
		if (fp)
			fclose(fp);
	}
	/* both fixtures have the same sectors: the union is either's */
	{
		char *sectors = test_read("reg-HP/sectors.csv"), *l;


		rc = sectors ? 0 : -1;
		for (l = sectors ? strchr(sectors, '\n') + 1 : NULL; l && *l; l = strchr(l, '\n') + 1)
			fprintf(se, "%.*s\n", (int)strcspn(l, "\n"), l);
		for (l = strchr(shipped, '\n') + 1; !rc && *l; l = strchr(l, '\n') + 1) {
			char code[64] = "";

			/* the shipped sector targets of sectors the provinces have */
			if (sscanf(l, "sector,%63[^,]", code) == 1) {
				char needle[80];

				snprintf(needle, sizeof(needle), "\n%s,", code);
				if (!strstr(sectors, needle))
					continue;
			}
			fprintf(ta, "%.*s\n", (int)strcspn(l, "\n"), l);
		}
		free(sectors);
	}
out:
	free(shipped);
	if (ag)
		fclose(ag);
	if (se)
		fclose(se);
	if (ta)
		fclose(ta);
	if (rc || sipas_run(NULL, "init", "--db", "union.db", "--registry", "reg-union", NULL)->status)
		return -1;
	for (int i = 0; i < 2; i++) {
		char line[4096], csv[64];
		FILE *in, *out;

		snprintf(path, sizeof(path), "%s/%s/responses.csv", test_fixtures(), province_fixture[i]);
		snprintf(csv, sizeof(csv), "union-%s.csv", province_code[i]);
		in = fopen(path, "r");
		out = fopen(csv, "w");
		/* quoted fields 0 (response_id), 2 (agency), 5 (stratum), 6 (psu) get the prefix */
		for (int l = 0; in && out && fgets(line, sizeof(line), in); l++) {
			char *f = line;

			for (int field = 0; l && *f; field++) {
				size_t len = strcspn(f, ",\n");

				if ((field == 0 || field == 2 || field == 5 || field == 6) && len > 2 && f[0] == '"')
					fprintf(out, "\"%s.%.*s", province_code[i], (int)len - 1, f + 1);
				else
					fprintf(out, "%.*s", (int)len, f);
				f += len;
				if (*f)
					fputc(*f++, out);
			}
			if (!l)
				fputs(line, out);
		}
		if (in)
			fclose(in);
		if (out)
			fclose(out);
		if (!in || !out || sipas_run(NULL, "import", "--db", "union.db", "--form", "sipas-2017", csv, NULL)->status)
			return -1;
	}
	return 0;
}

/* A hub with both provinces pushed to it; the provinces' own databases
 * and their union beside it.  conn: the owner's connection. */
static int two_provinces(struct test_pg *pg, PGconn **conn)
{
	if (test_pg_start(pg) != 0)
		return -1;
	if (sipas_run(NULL, "hub", "init", "--hub", pg->conninfo, NULL)->status)
		return -1;
	*conn = PQconnectdb(pg->conninfo);
	if (PQstatus(*conn) != CONNECTION_OK)
		return -1;
	for (int i = 0; i < 2; i++) {
		char db[16];

		snprintf(db, sizeof(db), "%s.db", province_code[i]);
		if (province_db(i) || push(pg, province_code[i], db))
			return -1;
	}
	return union_db();
}

/* Every number equal within 1e-12 (relative above 1), everything else
 * equal; `skip` names object keys not compared (NULL: none). */
static int same_json(const json_t *a, const json_t *b, const char *skip, const char *where)
{
	if (json_is_number(a) && json_is_number(b)) {
		double x = json_number_value(a), y = json_number_value(b);

		if (fabs(x - y) <= 1e-12 * fmax(1, fabs(x)))
			return 1;
		fprintf(stderr, "%s: %.17g != %.17g\n", where, x, y);
		return 0;
	}
	if (json_is_object(a) && json_is_object(b)) {
		const char *key;
		json_t *v;

		if (json_object_size(a) != json_object_size(b)) {
			fprintf(stderr, "%s: %zu keys != %zu\n", where, json_object_size(a), json_object_size(b));
			return 0;
		}
		json_object_foreach((json_t *)a, key, v) {
			char at[512];

			snprintf(at, sizeof(at), "%s.%s", where, key);
			if ((!skip || !strstr(skip, key)) && !same_json(v, json_object_get(b, key), skip, at))
				return 0;
		}
		return 1;
	}
	if (json_equal((json_t *)a, (json_t *)b))
		return 1;
	fprintf(stderr, "%s: values differ\n", where);
	return 0;
}

/* The groups of a `sipas score --format json` output by "agency|sector"
 * (agency codes without `strip` in front), each compared with the other
 * output's; 1 when both have the same groups and numbers. */
static int same_scores(const char *hub_out, const char *db_out, const char *strip, const char *skip)
{
	json_t *h = json_loads(hub_out, 0, NULL), *d = json_loads(db_out, 0, NULL);
	json_t *hg = json_object_get(h, "groups"), *dg = json_object_get(d, "groups");
	int ok = h && d && json_array_size(hg) > 1 && json_array_size(hg) == json_array_size(dg);

	for (size_t i = 0; ok && i < json_array_size(dg); i++) {
		json_t *g = json_array_get(dg, i), *found = NULL;
		const char *agency = json_string_value(json_object_get(g, "agency"));
		const char *sector = json_string_value(json_object_get(g, "sector"));
		char want[128], where[160];

		snprintf(want, sizeof(want), "%s%s", agency && strip ? strip : "", agency ? agency : "");
		for (size_t k = 0; !found && k < json_array_size(hg); k++) {
			json_t *x = json_array_get(hg, k);
			const char *a = json_string_value(json_object_get(x, "agency"));
			const char *s = json_string_value(json_object_get(x, "sector"));

			if (!a == !agency && (!a || strcmp(a, want) == 0) && !s == !sector && (!s || strcmp(s, sector) == 0))
				found = x;
		}
		snprintf(where, sizeof(where), "group %s/%s", agency ? agency : "(all)", sector ? sector : "(all)");
		if (!found) {
			fprintf(stderr, "%s: not in the hub's scores\n", where);
			ok = 0;
		} else {
			json_t *copy = json_deep_copy(found);

			json_object_set_new(copy, "agency", json_deep_copy(json_object_get(g, "agency")));
			ok = same_json(g, copy, skip, where);
			json_decref(copy);
		}
	}
	json_decref(h);
	json_decref(d);
	return ok;
}

static void national_scores_equal_scoring_the_union(void)
{
	static const char *const bys[] = { "agency", "sector", "agency,sector" };
	struct test_pg pg;
	PGconn *conn = NULL;

	if (two_provinces(&pg, &conn) != 0) {
		CHECK(!"two provinces on the hub");
		PQfinish(conn);
		test_pg_stop(&pg);
		return;
	}
	for (size_t i = 0; i < sizeof(bys) / sizeof(bys[0]); i++) {
		const struct cmd_result *r = sipas_run(NULL, "score", "--hub", pg.conninfo, "--period", "2026Q3", "--by",
						       bys[i], "--format", "json", NULL);
		char *hub = strdup(r->out);

		CHECK_INT(r->status, 0);
		r = sipas_run(NULL, "score", "--db", "union.db", "--period", "2026Q3", "--by", bys[i], "--format", "json",
			      NULL);
		CHECK_INT(r->status, 0);
		CHECK(same_scores(hub, r->out, NULL, NULL));
		free(hub);
	}
	/* HP's own agency target is national too, under its namespaced code */
	CHECK_CONTAINS(sipas_run(NULL, "score", "--hub", pg.conninfo, "--period", "2026Q3", "--by", "agency",
				 "--format", "csv", NULL)->out, "HP.SO-XD,,index,");
	PQfinish(conn);
	test_pg_stop(&pg);
}

/* --province X scores X's rows alone: its own database's figures (the
 * verdicts aside, since the hub judges by the national targets). */
static void one_province_equals_its_own_database(void)
{
	struct test_pg pg;
	PGconn *conn = NULL;
	const struct cmd_result *r;
	char *hub;

	if (two_provinces(&pg, &conn) != 0) {
		CHECK(!"two provinces on the hub");
		PQfinish(conn);
		test_pg_stop(&pg);
		return;
	}
	r = sipas_run(NULL, "score", "--hub", pg.conninfo, "--province", "DN", "--period", "2026Q3", "--format", "json",
		      NULL);
	CHECK_INT(r->status, 0);
	hub = strdup(r->out);
	r = sipas_run(NULL, "score", "--db", "DN.db", "--period", "2026Q3", "--format", "json", NULL);
	CHECK_INT(r->status, 0);
	CHECK(same_scores(hub, r->out, "DN.", "target status"));
	free(hub);
	/* the ministry's readers score what the owner does; a province's push
	 * role sees only its own rows: refused, rather than a country of one */
	{
		char pgpass[256], conninfo[256], *owner_out;

		CHECK_INT(pg_run(conn, "CREATE ROLE minister LOGIN PASSWORD 'ministry secret' IN ROLE sipas_ministry;"
				 "ALTER ROLE \"push_HP\" PASSWORD 'province secret'", 0, NULL), 0);
		snprintf(pgpass, sizeof(pgpass), "%s:*:*:minister:ministry secret\n%s:*:*:push_HP:province secret\n",
			 pg.dir, pg.dir);
		CHECK_INT(test_write("pgpass", pgpass), 0);
		CHECK_INT(chmod("pgpass", 0600), 0);
		setenv("PGPASSFILE", "pgpass", 1);
		owner_out = strdup(sipas_run(NULL, "score", "--hub", pg.conninfo, "--period", "2026Q3", "--format", "json",
					     NULL)->out);
		snprintf(conninfo, sizeof(conninfo), "host=%s dbname=postgres user=minister", pg.dir);
		r = sipas_run(NULL, "score", "--hub", conninfo, "--period", "2026Q3", "--format", "json", NULL);
		CHECK_INT(r->status, 0);
		CHECK_STR(r->out, owner_out);
		snprintf(conninfo, sizeof(conninfo), "host=%s dbname=postgres user=push_HP", pg.dir);
		r = sipas_run(NULL, "score", "--hub", conninfo, "--period", "2026Q3", "--format", "json", NULL);
		CHECK_INT(r->status, 1);
		CHECK_CONTAINS(r->err, "role push_HP reads only its own province's rows");
		CHECK_STR(r->out, "");
		free(owner_out);
		unsetenv("PGPASSFILE");
	}
	/* --by province without the hub is a usage error */
	r = sipas_run(NULL, "score", "--db", "DN.db", "--period", "2026Q3", "--by", "province", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "--by province goes with --hub");
	PQfinish(conn);
	test_pg_stop(&pg);
}

static void a_form_that_differs_between_provinces_is_refused(void)
{
	struct test_pg pg;
	PGconn *conn = NULL;
	const struct cmd_result *r;

	if (two_provinces(&pg, &conn) != 0) {
		CHECK(!"two provinces on the hub");
		PQfinish(conn);
		test_pg_stop(&pg);
		return;
	}
	/* province QN's sipas-2017 has another title: another content */
	CHECK_INT(pg_run(conn, "INSERT INTO sipas.provinces(province) VALUES ('QN');"
			 "INSERT INTO sipas.forms(hash, code, json) SELECT sha256(convert_to(j, 'UTF8')), 'sipas-2017', j "
			 "FROM (SELECT (json::jsonb || '{\"title\": \"another\"}')::text AS j FROM sipas.forms "
			 "WHERE code = 'sipas-2017') f;"
			 "INSERT INTO sipas.province_forms(province, code, hash) SELECT 'QN', 'sipas-2017', hash "
			 "FROM sipas.forms WHERE code = 'sipas-2017' AND json LIKE '%another%'", 0, NULL), 0);
	r = sipas_run(NULL, "score", "--hub", pg.conninfo, "--period", "2026Q3", "--format", "json", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "form sipas-2017 differs between provinces");
	CHECK_CONTAINS(r->err, "DN, HP (");
	CHECK_CONTAINS(r->err, "QN (");
	CHECK_INT((int)strlen(r->out), 0);
	/* one province alone is one content */
	CHECK_INT(sipas_run(NULL, "score", "--hub", pg.conninfo, "--province", "HP", "--period", "2026Q3", "--format",
			    "json", NULL)->status, 0);
	PQfinish(conn);
	test_pg_stop(&pg);
}

/* --by province, then the national report: a third province QN with HP's
 * very rows (the same estimates: tied, whatever else is), every province
 * with its interval, the places those of score_rank on the by-province
 * figures. */
static void the_national_report_ranks_provinces_with_tied_places(void)
{
	struct test_pg pg;
	PGconn *conn = NULL;
	const struct cmd_result *r;
	json_t *by = NULL, *rep = NULL, *groups, *country;
	double est[3], se[3];
	struct score_rank ranks[3];
	struct score_pair pairs[3];
	struct err e;
	char *html;

	if (two_provinces(&pg, &conn) != 0 || push(&pg, "QN", "HP.db") != 0) {
		CHECK(!"three provinces on the hub");
		PQfinish(conn);
		test_pg_stop(&pg);
		return;
	}
	r = sipas_run(NULL, "score", "--hub", pg.conninfo, "--period", "2026Q3", "--by", "province", "--format", "json",
		      NULL);
	CHECK_INT(r->status, 0);
	by = json_loads(r->out, 0, NULL);
	groups = json_object_get(by, "groups");
	CHECK_INT((int)json_array_size(groups), 4);
	CHECK(json_is_null(json_object_get(json_array_get(groups, 0), "province")));
	for (int i = 0; i < 3; i++) {
		json_t *index = json_object_get(json_array_get(groups, (size_t)i + 1), "index");

		est[i] = json_real_value(json_object_get(index, "est"));
		se[i] = json_real_value(json_object_get(index, "se"));
	}
	CHECK_STR(json_string_value(json_object_get(json_array_get(groups, 1), "province")), "DN");
	CHECK_STR(json_string_value(json_object_get(json_array_get(groups, 3), "province")), "QN");
	CHECK(est[1] == est[2] && se[1] == se[2]);
	CHECK_INT(score_rank(est, se, 3, 0.05, ranks, pairs, &e), 0);
	CHECK_CONTAINS(sipas_run(NULL, "score", "--hub", pg.conninfo, "--period", "2026Q3", "--by", "province",
				 "--format", "csv", NULL)->out, "province,sector,id,");

	r = sipas_run(NULL, "report", "--hub", pg.conninfo, "--period", "2026Q3", "--out", "national", NULL);
	CHECK_INT(r->status, 0);
	rep = json_load_file("national/national.json", 0, NULL);
	CHECK(rep != NULL);
	/* the country's index as --by province gives it */
	country = json_object_get(rep, "country");
	country = json_pack("{s:O, s:O, s:O, s:O, s:s}", "est", json_object_get(country, "est"), "se",
			    json_object_get(country, "se"), "lo", json_object_get(country, "lo"), "hi",
			    json_object_get(country, "hi"), "ci", "wald");
	CHECK(same_json(json_object_get(json_array_get(groups, 0), "index"), country, NULL, "country"));
	json_decref(country);
	CHECK_INT((int)json_array_size(json_object_get(rep, "provinces")), 3);
	CHECK_INT((int)json_array_size(json_object_get(rep, "pairs")), 3);
	for (size_t k = 0; k < 3; k++) {
		json_t *p = json_array_get(json_object_get(rep, "provinces"), k);
		const char *code = json_string_value(json_object_get(p, "province"));
		int i = strcmp(code, "DN") == 0 ? 0 : strcmp(code, "HP") == 0 ? 1 : 2;
		json_t *tied = json_object_get(p, "tied_places");

		CHECK_INT((int)json_integer_value(json_object_get(p, "place")), (int)k + 1);
		CHECK_INT((int)json_integer_value(json_object_get(p, "place")), (int)ranks[i].place);
		CHECK_INT((int)json_integer_value(json_array_get(tied, 0)), (int)ranks[i].tied_first);
		CHECK_INT((int)json_integer_value(json_array_get(tied, 1)), (int)ranks[i].tied_last);
		CHECK_NEAR(json_real_value(json_object_get(p, "est")), est[i], 1e-12);
		CHECK(json_real_value(json_object_get(p, "lo")) < est[i] && est[i] < json_real_value(json_object_get(p, "hi")));
	}
	/* HP and QN, the same rows, share their places */
	CHECK(!pairs[2].differ);
	CHECK_INT((int)ranks[1].tied_first, (int)ranks[2].tied_first);
	CHECK_INT((int)ranks[1].tied_last, (int)ranks[2].tied_last);
	html = test_read("national/national.html");
	CHECK(html != NULL);
	CHECK_CONTAINS(html, "<td>DN</td>");
	CHECK_CONTAINS(html, "<td>QN</td>");
	CHECK_CONTAINS(html, "Holm");
	CHECK_INT(system("xmllint --noout national/national.html"), 0);
	CHECK(test_file_contains("national/national.csv", "province,place,tied_first,tied_last,est,se,lo,hi"));
	free(html);
	json_decref(by);
	json_decref(rep);
	PQfinish(conn);
	test_pg_stop(&pg);
}

/* What a hub that cannot be scored says: no schema, no province, a
 * province code that is none; nothing on stdout. */
static void a_hub_with_nothing_to_score_says_why(void)
{
	struct test_pg pg;
	const struct cmd_result *r;

	if (test_pg_start(&pg) != 0)
		return;
	r = sipas_run(NULL, "score", "--hub", pg.conninfo, "--period", "2026Q3", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "the hub has no sipas schema: run sipas hub init");
	CHECK_INT(sipas_run(NULL, "hub", "init", "--hub", pg.conninfo, NULL)->status, 0);
	r = sipas_run(NULL, "score", "--hub", pg.conninfo, "--period", "2026Q3", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "no province has pushed form sipas-2017");
	r = sipas_run(NULL, "report", "--hub", pg.conninfo, "--period", "2026Q3", "--out", "national", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "no province has pushed form sipas-2017");
	r = sipas_run(NULL, "score", "--hub", pg.conninfo, "--province", "H P", "--period", "2026Q3", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "--province 'H P' is not 1 to 12 letters, digits or '-'");
	CHECK_INT((int)strlen(r->out), 0);
	test_pg_stop(&pg);
}

const struct test_case hub_score_tests[] = {
	{ "ranking_ties_places_holm_cannot_tell_apart", ranking_ties_places_holm_cannot_tell_apart },
	{ "national_scores_equal_scoring_the_union", national_scores_equal_scoring_the_union },
	{ "one_province_equals_its_own_database", one_province_equals_its_own_database },
	{ "a_form_that_differs_between_provinces_is_refused", a_form_that_differs_between_provinces_is_refused },
	{ "the_national_report_ranks_provinces_with_tied_places", the_national_report_ranks_provinces_with_tied_places },
	{ "a_hub_with_nothing_to_score_says_why", a_hub_with_nothing_to_score_says_why },
	{ NULL, NULL }
};
