/*
 * test_serve.c - `sipas serve` as users reach it: a real server on
 * 127.0.0.1 and real HTTP requests (health, forms, unknown paths, methods,
 * oversized bodies, graceful stop).
 */
#include <dirent.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test.h"

static void health_and_forms(void)
{
	struct test_server s;
	struct http_result h;
	char url[256], *log;
	json_t *doc;

	CHECK_INT(sipas_run(NULL, "init", NULL)->status, 0);
	CHECK_INT(test_server_start(&s, "sipas.db", NULL), 0);
	snprintf(url, sizeof(url), "%s/healthz", s.base);
	CHECK_INT(test_http("GET", url, NULL, NULL, &h), 0);
	CHECK_INT(h.status, 200);
	CHECK_CONTAINS(h.body, "\"status\":\"ok\"");
	CHECK_CONTAINS(h.headers, "application/json; charset=utf-8");
	free(h.body);
	snprintf(url, sizeof(url), "%s/api/forms/sipas-2017", s.base);
	CHECK_INT(test_http("GET", url, NULL, NULL, &h), 0);
	CHECK_INT(h.status, 200);
	doc = json_loads(h.body, 0, NULL);
	CHECK(doc);
	CHECK_STR(json_string_value(json_object_get(doc, "id")), "sipas-2017");
	CHECK_INT(json_array_size(json_object_get(doc, "elements")), 5);
	json_decref(doc);
	free(h.body);
	snprintf(url, sizeof(url), "%s/api/forms/none", s.base);
	CHECK_INT(test_http("GET", url, NULL, NULL, &h), 0);
	CHECK_INT(h.status, 404);
	CHECK_CONTAINS(h.body, "{\"error\":{\"code\":\"not_found\"");
	free(h.body);
	snprintf(url, sizeof(url), "%s/nowhere", s.base);
	CHECK_INT(test_http("GET", url, NULL, NULL, &h), 0);
	CHECK_INT(h.status, 404);
	free(h.body);
	snprintf(url, sizeof(url), "%s/healthz", s.base);
	CHECK_INT(test_http("DELETE", url, NULL, NULL, &h), 0);
	CHECK_INT(h.status, 405);
	free(h.body);
	/* the access log is buffered but reaches the file within a second or so */
	for (int i = 0; i < 30 && !test_file_contains("server.log", "DELETE /healthz 405 "); i++)
		usleep(100 * 1000);
	CHECK(test_file_contains("server.log", "DELETE /healthz 405 "));
	CHECK_INT(test_server_stop(&s), 0);
	log = test_read("server.log");
	CHECK_CONTAINS(log, "GET /healthz 200 ");
	CHECK_CONTAINS(log, "SIGTERM received");
	free(log);
}

static void oversized_body_is_413(void)
{
	struct test_server s;
	struct http_result h;
	char url[256];
	char *big = malloc(70 * 1024);

	CHECK(big);
	memset(big, 'x', 70 * 1024 - 1);
	big[70 * 1024 - 1] = '\0';
	CHECK_INT(sipas_run(NULL, "init", NULL)->status, 0);
	CHECK_INT(test_server_start(&s, "sipas.db", NULL), 0);
	snprintf(url, sizeof(url), "%s/api/forms/sipas-2017", s.base);
	CHECK_INT(test_http("POST", url, big, NULL, &h), 0);
	CHECK_INT(h.status, 413);
	free(h.body);
	free(big);
	CHECK_INT(test_server_stop(&s), 0);
}

static void refuses_to_start_without_a_database(void)
{
	const struct cmd_result *r = sipas_run(NULL, "serve", "--db", "none.db", NULL);

	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "none.db: no database here");
	r = sipas_run(NULL, "serve", "--listen", "localhost", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "is not ADDR:PORT");
}

/* 1 if every thread of process pid but the main one (which waits for the
 * signals in sigtimedwait, so /proc shows them unblocked there) blocks
 * signal sig. */
static int all_threads_block(int pid, int sig)
{
	char path[512], line[256];
	int threads = 0, blocking = 0;
	DIR *dir;
	struct dirent *t;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	if (!dir)
		return 0;
	while ((t = readdir(dir))) {
		FILE *fp;

		if (t->d_name[0] == '.' || atoi(t->d_name) == pid)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/status", pid, t->d_name);
		fp = fopen(path, "r");
		if (!fp)
			continue;
		threads++;
		while (fgets(line, sizeof(line), fp)) {
			unsigned long long mask;

			if (sscanf(line, "SigBlk: %llx", &mask) == 1 && (mask >> (sig - 1) & 1))
				blocking++;
		}
		fclose(fp);
	}
	closedir(dir);
	return threads > 0 && blocking == threads;
}

static void signals_reach_only_the_main_thread(void)
{
	struct test_server s;

	CHECK_INT(sipas_run(NULL, "init", NULL)->status, 0);
	CHECK_INT(test_server_start(&s, "sipas.db", NULL), 0);
	/* a thread that let them through would end the process (SIGHUP) or
	 * skip the graceful stop (SIGTERM, SIGINT) */
	CHECK(all_threads_block(s.pid, SIGHUP));
	CHECK(all_threads_block(s.pid, SIGTERM));
	CHECK(all_threads_block(s.pid, SIGINT));
	CHECK_INT(test_server_stop(&s), 0);
}

const struct test_case serve_tests[] = {
	{ "signals_reach_only_the_main_thread", signals_reach_only_the_main_thread },
	{ "health_and_forms", health_and_forms },
	{ "oversized_body_is_413", oversized_body_is_413 },
	{ "refuses_to_start_without_a_database", refuses_to_start_without_a_database },
	{ NULL, NULL }
};
