/*
 * harness.c - the test runner and helpers (see test.h).  Each case is forked
 * into its own process and directory, so a crash or a sanitizer report in
 * one case fails that case only.  The last line printed is
 * "N passed, N failed"; the exit status is non-zero when any case failed.
 */
#include "test.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CASE_TIMEOUT_SECONDS 120

extern const struct test_case csv_tests[], period_tests[], form_tests[], registry_tests[],
	import_tests[], db_tests[], demo_tests[], serve_tests[], fuzz_tests[], score_tests[],
	collector_tests[], storage_tests[], cli_tests[], kiosk_tests[], dossiers_tests[], report_tests[],
	service_tests[];
extern const struct test_case records_tests[];
extern const struct test_case dossier_records_tests[];
extern const struct test_case ratelimit_tests[];
extern const struct test_case console_tests[];
extern const struct test_case alerts_tests[];
extern const struct test_case office_tests[];
extern const struct test_case console_ops_tests[];
extern const struct test_case live_tests[];
extern const struct test_case monitor_stats_tests[];
extern const struct test_case counters_tests[];
extern const struct test_case notify_tests[];
extern const struct test_case comments_tests[];
extern const struct test_case system_tests[];
extern const struct test_case history_tests[];
extern const struct test_case hub_tests[];
extern const struct test_case push_tests[];
extern const struct test_case hub_score_tests[];

static const struct {
	const char *name;
	const struct test_case *cases;
} suites[] = {
	{ "cli", cli_tests }, { "csv", csv_tests }, { "period", period_tests }, { "form", form_tests },
	{ "registry", registry_tests }, { "import", import_tests }, { "db", db_tests },
	{ "demo", demo_tests }, { "dossiers", dossiers_tests }, { "score", score_tests }, { "report", report_tests }, { "serve", serve_tests },
	{ "collector", collector_tests }, { "kiosk", kiosk_tests },
	{ "storage", storage_tests },
	{ "ratelimit", ratelimit_tests },
	{ "console", console_tests },
	{ "alerts", alerts_tests },
	{ "console_ops", console_ops_tests },
	{ "live", live_tests },
	{ "records", records_tests },
	{ "dossier_records", dossier_records_tests },
	{ "office", office_tests },
	{ "monitor_stats", monitor_stats_tests },
	{ "counters", counters_tests },
	{ "history", history_tests }, { "hub", hub_tests }, { "push", push_tests },
	{ "hub_score", hub_score_tests },
	{ "notify", notify_tests },
	{ "comments", comments_tests },
	{ "system", system_tests },
	{ "fuzz", fuzz_tests }, { "service", service_tests },
};

static int case_failed;

/* The running case's directory (absolute), where test_server_start lists
 * the process groups of the servers it starts (SERVER_LIST), so that the
 * runner can kill whatever a failed or timed-out case left running. */
static char case_dir[4096];
#define SERVER_LIST "servers.pgid"

void test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "    %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	case_failed = 1;
}

static char *slurp_fd(int fd)
{
	size_t len = 0, alloc = 4096;
	char *buf = malloc(alloc);
	ssize_t n;

	if (!buf)
		return NULL;
	lseek(fd, 0, SEEK_SET);
	while ((n = read(fd, buf + len, alloc - len - 1)) > 0) {
		len += (size_t)n;
		if (alloc - len < 2) {
			char *p = realloc(buf, alloc *= 2);

			if (!p) {
				free(buf);
				return NULL;
			}
			buf = p;
		}
	}
	buf[len] = '\0';
	return buf;
}

char *test_read(const char *path)
{
	int fd = open(path, O_RDONLY);
	char *s;

	if (fd < 0)
		return NULL;
	s = slurp_fd(fd);
	close(fd);
	return s;
}

int test_file_contains(const char *path, const char *needle)
{
	char *text = test_read(path);
	int found = text && strstr(text, needle);

	free(text);
	return found;
}

int test_write(const char *path, const char *content)
{
	FILE *fp = fopen(path, "wb");
	size_t n = strlen(content);
	int rc = 0;

	if (!fp)
		return -1;
	if (fwrite(content, 1, n, fp) != n)
		rc = -1;
	if (fclose(fp) != 0)
		rc = -1;
	return rc;
}

const char *test_fixtures(void)
{
	static char dir[4096];

	if (!dir[0])
		snprintf(dir, sizeof(dir), "%s/tests/fixtures", getenv("SIPAS_SOURCE"));
	return dir;
}

int test_init_fixture(int import)
{
	char reg[4200], csv[4200];

	snprintf(reg, sizeof(reg), "%s/sipas-2017-a/registry", test_fixtures());
	snprintf(csv, sizeof(csv), "%s/sipas-2017-a/responses.csv", test_fixtures());
	if (sipas_run(NULL, "init", "--registry", reg, NULL)->status)
		return -1;
	if (import && sipas_run(NULL, "import", "--form", "sipas-2017", csv, NULL)->status)
		return -1;
	return 0;
}

static const char *sipas_bin(void)
{
	const char *b = getenv("SIPAS_BIN");

	return b ? b : "bin/sipas";
}

static struct cmd_result last_run;

/* With SIPAS_VALGRIND set (make valgrind), every bin/sipas run goes through
 * valgrind, and a leak or memory error makes it exit 99. */
static int add_valgrind(const char **argv, int argc)
{
	static const char *const vg[] = { "/usr/bin/valgrind", "--quiet", "--leak-check=full",
		"--errors-for-leak-kinds=definite,indirect", "--error-exitcode=99", NULL };

	if (!getenv("SIPAS_VALGRIND"))
		return argc;
	for (int i = 0; vg[i]; i++)
		argv[argc++] = vg[i];
	return argc;
}

const struct cmd_result *sipas_run(const char *input, ...)
{
	const char *argv[64];
	int argc = 0, in_fd, out_fd, err_fd, status;
	char in_path[] = "stdin.XXXXXX", out_path[] = "stdout.XXXXXX", err_path[] = "stderr.XXXXXX";
	va_list ap;
	pid_t pid;

	free(last_run.out);
	free(last_run.err);
	memset(&last_run, 0, sizeof(last_run));
	argc = add_valgrind(argv, argc);
	argv[argc++] = sipas_bin();
	va_start(ap, input);
	for (const char *a = va_arg(ap, const char *); a && argc < 63; a = va_arg(ap, const char *))
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	in_fd = mkstemp(in_path);
	out_fd = mkstemp(out_path);
	err_fd = mkstemp(err_path);
	if (input && write(in_fd, input, strlen(input)) < 0)
		last_run.status = -1;
	lseek(in_fd, 0, SEEK_SET);
	pid = fork();
	if (pid == 0) {
		dup2(in_fd, 0);
		dup2(out_fd, 1);
		dup2(err_fd, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	last_run.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	last_run.out = slurp_fd(out_fd);
	last_run.err = slurp_fd(err_fd);
	close(in_fd);
	close(out_fd);
	close(err_fd);
	unlink(in_path);
	unlink(out_path);
	unlink(err_path);
	return &last_run;
}

long long test_db_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	long long v = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

char *test_db_text(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char *out = NULL;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_text(st, 0))
		out = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return out;
}

int test_db_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	char *msg = NULL;
	int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);

	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(db, 5000);
		rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	}
	if (rc != SQLITE_OK)
		fprintf(stderr, "%s: %s\n", sql, msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -1;
}

sqlite3 *test_db_lock(const char *path)
{
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK) {
		sqlite3_busy_timeout(db, 5000);
		if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK)
			return db;
	}
	sqlite3_close(db);
	return NULL;
}

/* Make pid the leader of its own process group (the child does the same:
 * whichever runs first) and list it in SERVER_LIST for the runner. */
static void list_process_group(pid_t pid)
{
	char list[4200];
	FILE *fp;

	setpgid(pid, pid);
	snprintf(list, sizeof(list), "%s/" SERVER_LIST, case_dir);
	fp = fopen(list, "a");
	if (fp) {
		fprintf(fp, "%d\n", (int)pid);
		fclose(fp);
	}
}

int test_server_start(struct test_server *s, const char *db, ...)
{
	const char *argv[32];
	int argc = 0, pipefd[2];
	char line[256];
	size_t len = 0;
	va_list ap;
	time_t deadline = time(NULL) + 20;

	argc = add_valgrind(argv, argc);
	argv[argc++] = sipas_bin();
	argv[argc++] = "serve";
	argv[argc++] = "--db";
	argv[argc++] = db;
	argv[argc++] = "--listen";
	argv[argc++] = "127.0.0.1:0";
	va_start(ap, db);
	for (const char *a = va_arg(ap, const char *); a && argc < 31; a = va_arg(ap, const char *))
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	if (pipe(pipefd) < 0)
		return -1;
	s->pid = fork();
	if (s->pid == 0) {
		int log = open("server.log", O_WRONLY | O_CREAT | O_APPEND, 0644);

		setpgid(0, 0);   /* its own group: the runner kills it with its children */
		dup2(pipefd[1], 1);
		if (log >= 0)
			dup2(log, 2);
		close(pipefd[0]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(pipefd[1]);
	if (s->pid > 0)
		list_process_group(s->pid);
	/* wait for "listening on http://127.0.0.1:PORT\n" */
	while (len < sizeof(line) - 1 && time(NULL) < deadline) {
		ssize_t n = read(pipefd[0], line + len, 1);

		if (n <= 0)
			break;
		len++;
		if (line[len - 1] == '\n')
			break;
	}
	line[len] = '\0';
	close(pipefd[0]);
	if (sscanf(line, "listening on %7[a-z]://127.0.0.1:%d", s->scheme, &s->port) != 2) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, NULL, 0);
		return -1;
	}
	snprintf(s->base, sizeof(s->base), "%s://127.0.0.1:%d", s->scheme, s->port);
	return 0;
}

int test_server_stop(struct test_server *s)
{
	int status;

	kill(s->pid, SIGTERM);
	waitpid(s->pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

pid_t test_helper_start(const char *out, char *const argv[])
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		setpgid(0, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid > 0)
		list_process_group(pid);
	return pid < 0 ? -1 : pid;
}

void test_helper_stop(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(-pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

int test_free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = 0;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

int test_port_ready(int port)
{
	for (int i = 0; i < 200; i++) {
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
		int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
		if (fd >= 0)
			close(fd);
		if (ok)
			return 1;
		nanosleep(&(struct timespec){ 0, 50 * 1000 * 1000 }, NULL);
	}
	return 0;
}

int test_make_cert(void)
{
	return system("openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 2 "
		      "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1") == 0 ? 0 : -1;
}

struct growbuf {
	char *data;
	size_t len;
};

static size_t collect(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct growbuf *b = userdata;
	size_t n = size * nmemb;
	char *p = realloc(b->data, b->len + n + 1);

	if (!p)
		return 0;
	memcpy(p + b->len, ptr, n);
	b->data = p;
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

static size_t collect_header(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	char *h = userdata;
	size_t n = size * nmemb, have = strlen(h);

	if (have + n < 2048 - 1) {
		memcpy(h + have, ptr, n);
		h[have + n] = '\0';
	}
	return n;
}

int test_http(const char *method, const char *url, const char *body, const char *const *headers,
	      struct http_result *out)
{
	CURL *c = curl_easy_init();
	struct curl_slist *hl = NULL;
	struct growbuf b = { NULL, 0 };
	CURLcode rc;

	memset(out, 0, sizeof(*out));
	if (!c)
		return -1;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
	/* the TLS test serves a self-signed certificate made for it */
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, out->headers);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	for (size_t i = 0; headers && headers[i]; i++)
		hl = curl_slist_append(hl, headers[i]);
	hl = curl_slist_append(hl, "Expect:");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	out->body = b.data ? b.data : strdup("");
	out->body_len = b.data ? b.len : 0;
	return rc == CURLE_OK ? 0 : -1;
}

long test_request(const struct test_server *s, const char *method, const char *path,
		  const char *token, const char *body, struct http_result *out)
{
	char url[1200], auth[200];
	const char *headers[3] = { "Content-Type: application/json", NULL, NULL };

	snprintf(url, sizeof(url), "%s%s", s->base, path);
	if (token) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		headers[1] = auth;
	}
	if (test_http(method, url, body, headers, out) != 0)
		return -1;
	return out->status;
}

long test_count_lines(const char *prefix, int n)
{
	long lines = 0;

	for (int i = 0; i < n; i++) {
		char path[256];
		FILE *fp;
		int ch;

		snprintf(path, sizeof(path), "%s.%d", prefix, i);
		fp = fopen(path, "r");
		while (fp && (ch = fgetc(fp)) != EOF)
			lines += ch == '\n';
		if (fp)
			fclose(fp);
	}
	return lines;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Kill the process groups of the servers a case started that still run;
 * returns how many there were. */
static int kill_leftover_servers(void)
{
	char list[4200];
	FILE *fp;
	int pgid, left = 0;

	snprintf(list, sizeof(list), "%s/" SERVER_LIST, case_dir);
	fp = fopen(list, "r");
	if (!fp)
		return 0;
	while (fscanf(fp, "%d", &pgid) == 1) {
		if (pgid > 1 && kill(-pgid, 0) == 0) {
			kill(-pgid, SIGKILL);
			left++;
		}
	}
	fclose(fp);
	return left;
}

/* After a failure, the last lines of the case's server.log, if it started a
 * server: on CI the directory is gone by the time anyone reads the output. */
static void print_server_log_tail(const char *dir)
{
	char path[4200], *text, *from;
	int lines = 0;

	snprintf(path, sizeof(path), "%s/server.log", dir);
	text = test_read(path);
	if (!text)
		return;
	/* from the start of the 20th line before the end */
	for (from = text + strlen(text); from > text; from--)
		if (from[-1] == '\n' && ++lines > 20)
			break;
	printf("     the end of server.log:\n");
	for (char *line = strtok(from, "\n"); line; line = strtok(NULL, "\n"))
		printf("     | %s\n", line);
	free(text);
}

/* Set by SIGINT, SIGTERM or SIGHUP to the runner: the case under way is
 * ended and cleaned up like one that failed, then the runner stops. */
static volatile sig_atomic_t runner_stopped;

static void stop_runner(int sig)
{
	runner_stopped = sig;
}

/* Run one case in a child process inside its own directory; afterwards no
 * server it started is left running, whether it passed, failed or hung,
 * or the runner itself was told to stop. */
static int run_case(const char *root, const char *suite, const struct test_case *tc)
{
	char *dir = case_dir;
	pid_t pid;
	int status, leftover;

	snprintf(case_dir, sizeof(case_dir), "%s/%s.%s", root, suite, tc->name);
	if (mkdir(dir, 0755) != 0) {
		printf("FAIL %s.%s (cannot create %s: %s)\n", suite, tc->name, dir, strerror(errno));
		return 0;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		/* a group of its own, so that what it ran (bin/sipas under
		 * sipas_run) ends with it, also when the alarm cut it short */
		setpgid(0, 0);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		if (chdir(dir) != 0)
			_exit(3);
		alarm(CASE_TIMEOUT_SECONDS);
		tc->fn();
		free(last_run.out);
		free(last_run.err);
		exit(case_failed ? 1 : 0);
	}
	/* no SA_RESTART: a signal to the runner interrupts the wait */
	while (waitpid(pid, &status, 0) < 0)
		if (runner_stopped)
			kill(-pid, SIGKILL);
	kill(-pid, SIGKILL);
	leftover = kill_leftover_servers() + test_pg_reap(dir);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && !leftover) {
		printf("ok   %s.%s\n", suite, tc->name);
		return 1;
	}
	if (leftover)
		printf("     %d server(s) left running: killed\n", leftover);
	print_server_log_tail(dir);
	if (WIFSIGNALED(status))
		printf("FAIL %s.%s (signal %d)\n", suite, tc->name, WTERMSIG(status));
	else
		printf("FAIL %s.%s\n", suite, tc->name);
	return 0;
}

int main(int argc, char **argv)
{
	char root[] = "/tmp/sipas-tests-XXXXXX";
	const char *filter = argc > 1 ? argv[1] : NULL;
	int passed = 0, failed = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 2;
	}
	if (access(sipas_bin(), X_OK) != 0) {
		fprintf(stderr, "SIPAS_BIN=%s is not an executable\n", sipas_bin());
		return 2;
	}
	{
		/* Make the paths absolute: cases chdir.  The source tree (for
		 * fixtures and data) defaults to where the runner starts. */
		static char abs_bin[4096], source[4096];

		if (realpath(sipas_bin(), abs_bin))
			setenv("SIPAS_BIN", abs_bin, 1);
		if (realpath(getenv("SIPAS_SOURCE") ? getenv("SIPAS_SOURCE") : ".", source))
			setenv("SIPAS_SOURCE", source, 1);
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	{
		struct sigaction sa = { .sa_handler = stop_runner };

		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
	}
	for (size_t s = 0; s < sizeof(suites) / sizeof(suites[0]) && !runner_stopped; s++) {
		for (const struct test_case *tc = suites[s].cases; tc->name && !runner_stopped; tc++) {
			char full[256];

			snprintf(full, sizeof(full), "%s.%s", suites[s].name, tc->name);
			if (filter && !strstr(full, filter))
				continue;
			if (run_case(root, suites[s].name, tc))
				passed++;
			else
				failed++;
		}
	}
	curl_global_cleanup();
	if (!getenv("SIPAS_KEEP_TEST_DIRS"))
		nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
