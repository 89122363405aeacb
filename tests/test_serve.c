/*
 * test_serve.c - `sipas serve` as users reach it: a real server on
 * 127.0.0.1 and real HTTP requests (health, forms, unknown paths, methods,
 * oversized bodies, graceful stop), and the connection limits against
 * raw sockets: bodies refused from their headers, the request deadline
 * against slow clients from several addresses, the cap on buffered
 * bodies, and what a client can put into the access log.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
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

/* A TCP connection to the server from local address `from` (127.0.0.x:
 * each its own client address), non-blocking; -1 on failure. */
static int connect_from(const struct test_server *s, const char *from)
{
	struct sockaddr_in local = { .sin_family = AF_INET }, sa = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_port = htons((uint16_t)s->port);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	inet_pton(AF_INET, from, &local.sin_addr);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&local, sizeof(local)) != 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || fcntl(fd, F_SETFL, O_NONBLOCK) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int send_all(int fd, const char *text)
{
	size_t len = strlen(text);

	return write(fd, text, len) == (ssize_t)len ? 0 : -1;
}

/* Wait up to ms for the answer's status line: its code; 0 when none came,
 * -1 when the server closed the connection without one.  The headers
 * read go to head (of size n) when given. */
static int status_within(int fd, int ms, char *head, size_t n)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char buf[1024];
	ssize_t got;
	int code = 0;

	if (poll(&p, 1, ms) != 1)
		return 0;
	got = read(fd, buf, sizeof(buf) - 1);
	if (got <= 0)
		return -1;
	buf[got] = '\0';
	if (sscanf(buf, "HTTP/1.1 %d", &code) != 1)
		return -1;
	if (head)
		snprintf(head, n, "%s", buf);
	return code;
}

static double now_seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void declared_bodies_over_the_limit_are_refused_from_the_headers(void)
{
	struct test_server s;
	int fd;

	CHECK_INT(sipas_run(NULL, "init", NULL)->status, 0);
	CHECK_INT(test_server_start(&s, "sipas.db", NULL), 0);
	/* announced, never sent: the answer comes from the headers alone */
	fd = connect_from(&s, "127.0.0.1");
	CHECK(fd >= 0);
	CHECK_INT(send_all(fd, "POST /api/pair HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
			   "Content-Length: 70000\r\n\r\n"), 0);
	CHECK_INT(status_within(fd, 3000, NULL, 0), 413);
	close(fd);
	/* a GET takes no body */
	fd = connect_from(&s, "127.0.0.1");
	CHECK(fd >= 0);
	CHECK_INT(send_all(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n"), 0);
	CHECK_INT(status_within(fd, 3000, NULL, 0), 413);
	close(fd);
	/* within the limit, the server waits for the body */
	fd = connect_from(&s, "127.0.0.1");
	CHECK(fd >= 0);
	CHECK_INT(send_all(fd, "POST /api/pair HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
			   "Content-Length: 60000\r\n\r\n"), 0);
	CHECK_INT(status_within(fd, 500, NULL, 0), 0);
	close(fd);
	CHECK_INT(test_server_stop(&s), 0);
}

#define SLOW_CLIENTS 6
#define SLOW_SECONDS 8

/* Slow clients from six addresses (so --max-per-ip does not stop them),
 * each sending one byte a second: three never finish their headers, three
 * their body.  With --request-deadline 2 each is cut off between 2 and 3
 * seconds after it connected, while a normal client is served. */
static void slow_clients_are_cut_off_at_the_request_deadline(void)
{
	static const char *const heads[2] = {
		"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ",
		"POST /api/pair HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
		"Content-Length: 100\r\n\r\n",
	};
	struct test_server s;
	struct http_result h;
	char url[256], from[32], *log;
	int fd[SLOW_CLIENTS], served = 0;
	double start[SLOW_CLIENTS], sent[SLOW_CLIENTS], closed[SLOW_CLIENTS], t0;

	CHECK_INT(sipas_run(NULL, "init", NULL)->status, 0);
	CHECK_INT(test_server_start(&s, "sipas.db", "--request-deadline", "2", "--max-per-ip", "2", NULL), 0);
	t0 = now_seconds();
	for (int i = 0; i < SLOW_CLIENTS; i++) {
		snprintf(from, sizeof(from), "127.0.0.%d", i + 2);
		fd[i] = connect_from(&s, from);
		CHECK(fd[i] >= 0);
		start[i] = sent[i] = now_seconds();
		closed[i] = 0;
		/* the body's trickle begins after whole headers; the header's
		 * after its first lines */
		CHECK_INT(send_all(fd[i], heads[i % 2]), 0);
	}
	/* bounded: every client stops after SLOW_SECONDS, cut off or not */
	while (now_seconds() - t0 < SLOW_SECONDS) {
		int open = 0;

		for (int i = 0; i < SLOW_CLIENTS; i++) {
			struct pollfd p = { .fd = fd[i], .events = POLLIN };
			char buf[256];

			if (closed[i])
				continue;
			/* an answer or the end of the stream: the server let go */
			if (poll(&p, 1, 0) == 1 && read(fd[i], buf, sizeof(buf)) <= 0) {
				closed[i] = now_seconds();
				continue;
			}
			open++;
			if (now_seconds() - sent[i] >= 1) {
				sent[i] = now_seconds();
				if (write(fd[i], "a", 1) < 0 && errno != EAGAIN)
					closed[i] = sent[i];
			}
		}
		if (!open)
			break;
		if (!served && now_seconds() - t0 > 1) {
			/* meanwhile a normal client is served at once */
			snprintf(url, sizeof(url), "%s/healthz", s.base);
			CHECK_INT(test_http("GET", url, NULL, NULL, &h), 0);
			CHECK_INT(h.status, 200);
			free(h.body);
			served = 1;
		}
		usleep(50 * 1000);
	}
	CHECK(served);
	for (int i = 0; i < SLOW_CLIENTS; i++) {
		close(fd[i]);
		if (!closed[i])
			test_fail(__FILE__, __LINE__, "slow client %d still connected after %d s", i, SLOW_SECONDS);
		CHECK(closed[i] > 0);
		if (closed[i] - start[i] < 1.9 || closed[i] - start[i] > 3.3)
			test_fail(__FILE__, __LINE__, "slow client %d cut off after %.2f s", i, closed[i] - start[i]);
		CHECK(closed[i] - start[i] >= 1.9 && closed[i] - start[i] <= 3.3);
	}
	CHECK_INT(test_server_stop(&s), 0);
	log = test_read("server.log");
	CHECK_CONTAINS(log, "POST /api/pair 408 ");
	CHECK_CONTAINS(log, "whose request was not whole within 2 s");
	free(log);
}

#define HELD 16

/* --max-buffered 1: sixteen bodies of 64 KiB announced take the whole MiB;
 * the next is answered 503 with Retry-After from its headers, and once
 * those requests end there is room again. */
static void buffered_bodies_are_capped(void)
{
	static const char head[] = "POST /api/pair HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
				   "Content-Length: 65536\r\n\r\n";
	struct test_server s;
	char answer[1024];
	int fd[HELD], extra;

	CHECK_INT(sipas_run(NULL, "init", NULL)->status, 0);
	/* every pairing attempt spends the address's allowance: no limit here */
	CHECK_INT(test_server_start(&s, "sipas.db", "--max-buffered", "1", "--address-rate", "0", NULL), 0);
	for (int i = 0; i < HELD; i++) {
		fd[i] = connect_from(&s, "127.0.0.1");
		CHECK(fd[i] >= 0);
		CHECK_INT(send_all(fd[i], head), 0);
		CHECK_INT(status_within(fd[i], 200, NULL, 0), 0);   /* admitted: waiting for the body */
	}
	extra = connect_from(&s, "127.0.0.1");
	CHECK(extra >= 0);
	CHECK_INT(send_all(extra, head), 0);
	CHECK_INT(status_within(extra, 3000, answer, sizeof(answer)), 503);
	CHECK_CONTAINS(answer, "Retry-After: ");
	CHECK_CONTAINS(answer, "too many request bodies");
	close(extra);
	/* the held requests end (their clients go): their room is released */
	for (int i = 0; i < HELD; i++)
		close(fd[i]);
	usleep(300 * 1000);
	extra = connect_from(&s, "127.0.0.1");
	CHECK(extra >= 0);
	CHECK_INT(send_all(extra, head), 0);
	CHECK_INT(status_within(extra, 500, NULL, 0), 0);
	close(extra);
	CHECK_INT(test_server_stop(&s), 0);
}

/* A path is decoded before it is logged: %0A would start a forged log line
 * and ESC [ a terminal escape.  Both are written as \xNN. */
static void logged_paths_escape_control_characters(void)
{
	struct test_server s;
	char *log;
	int fd;

	CHECK_INT(sipas_run(NULL, "init", NULL)->status, 0);
	CHECK_INT(test_server_start(&s, "sipas.db", NULL), 0);
	fd = connect_from(&s, "127.0.0.1");
	CHECK(fd >= 0);
	CHECK_INT(send_all(fd, "GET /a%0AGET%20/forged%20200%201us%0A%1B[31mred%5C HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
	CHECK_INT(status_within(fd, 3000, NULL, 0), 404);
	close(fd);
	CHECK_INT(test_server_stop(&s), 0);
	log = test_read("server.log");
	CHECK_CONTAINS(log, "GET /a\\x0aGET\\x20/forged\\x20200\\x201us\\x0a\\x1b[31mred\\x5c 404 ");
	CHECK(!strchr(log, 0x1b));
	CHECK(!strstr(log, "\nGET /forged"));
	free(log);
}

const struct test_case serve_tests[] = {
	{ "signals_reach_only_the_main_thread", signals_reach_only_the_main_thread },
	{ "health_and_forms", health_and_forms },
	{ "oversized_body_is_413", oversized_body_is_413 },
	{ "refuses_to_start_without_a_database", refuses_to_start_without_a_database },
	{ "declared_bodies_over_the_limit_are_refused_from_the_headers",
	  declared_bodies_over_the_limit_are_refused_from_the_headers },
	{ "slow_clients_are_cut_off_at_the_request_deadline", slow_clients_are_cut_off_at_the_request_deadline },
	{ "buffered_bodies_are_capped", buffered_bodies_are_capped },
	{ "logged_paths_escape_control_characters", logged_paths_escape_control_characters },
	{ NULL, NULL }
};
