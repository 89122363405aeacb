/*
 * test.h - the test harness: suites of named cases, CHECK macros that stop
 * the case with file, line and a message, and helpers for what many tests
 * do (run bin/sipas, write files, query a database, talk HTTP).
 * Each case runs in its own process and its own empty directory.
 */
#ifndef SIPAS_TEST_H
#define SIPAS_TEST_H

#include <stddef.h>
#include <sys/types.h>
#include <sqlite3.h>

struct test_case {
	const char *name;
	void (*fn)(void);
};

/* Record a failure of the running case (it stops at the CHECK). */
void test_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define CHECK(cond) do { \
	if (!(cond)) { test_fail(__FILE__, __LINE__, "%s", #cond); return; } \
} while (0)

#define CHECK_INT(a, b) do { \
	long long a_ = (long long)(a), b_ = (long long)(b); \
	if (a_ != b_) { test_fail(__FILE__, __LINE__, "%s == %lld, expected %lld", #a, a_, b_); return; } \
} while (0)

#define CHECK_STR(a, b) do { \
	const char *a_ = (a), *b_ = (b); \
	if (!a_ || strcmp(a_, b_) != 0) { \
		test_fail(__FILE__, __LINE__, "%s == \"%s\", expected \"%s\"", #a, a_ ? a_ : "(null)", b_); \
		return; } \
} while (0)

#define CHECK_CONTAINS(hay, needle) do { \
	const char *h_ = (hay), *n_ = (needle); \
	if (!h_ || !strstr(h_, n_)) { \
		test_fail(__FILE__, __LINE__, "%s does not contain \"%s\": \"%s\"", #hay, n_, h_ ? h_ : "(null)"); \
		return; } \
} while (0)

#define CHECK_NEAR(a, b, tol) do { \
	double a_ = (a), b_ = (b); \
	if (!(fabs(a_ - b_) <= (tol))) { \
		test_fail(__FILE__, __LINE__, "%s == %.12g, expected %.12g (tolerance %g)", #a, a_, b_, (double)(tol)); \
		return; } \
} while (0)

/* The result of running bin/sipas: exit status and everything it printed. */
struct cmd_result {
	int status;     /* exit code, or 128 + signal */
	char *out;      /* owned by the harness until the next run */
	char *err;
};

/* Run $SIPAS_BIN with the NULL-terminated arguments, stdin from `input`
 * (NULL = empty).  Returns the static result of this run. */
const struct cmd_result *sipas_run(const char *input, ...) __attribute__((sentinel));

/* Write a file (creating or truncating); returns 0 or -1. */
int test_write(const char *path, const char *content);

/* Read a whole file; owned by the caller (free()), NULL on error. */
char *test_read(const char *path);

/* 1 if the file at path contains needle, else 0 (also when unreadable). */
int test_file_contains(const char *path, const char *needle);

/* The reference fixtures: $SIPAS_SOURCE/tests/fixtures (see its README.md). */
const char *test_fixtures(void);

/* `sipas init` with the registry of fixture sipas-2017-a and, when import
 * is set, the import of its responses into ./sipas.db; 0 or -1. */
int test_init_fixture(int import);

/* Run a query that yields one integer on the database at `path`; -1 on error. */
long long test_db_int(const char *path, const char *sql);

/* The text of the first column of the first row sql yields on the
 * database at path; owned by the caller (free()), NULL on error or none. */
char *test_db_text(const char *path, const char *sql);

/* Run sql (statements, no results) on the database at path, waiting up to
 * 5 s for a lock, as an operator's sqlite3 would; 0, or -1 with why on
 * stderr. */
int test_db_exec(const char *path, const char *sql);

/* A hold on the database at path as another process's: a connection in
 * BEGIN IMMEDIATE, got within 5 s (a server's periodic jobs take the lock
 * for moments).  The caller ends it (ROLLBACK) and closes it
 * (sqlite3_close); NULL on failure. */
sqlite3 *test_db_lock(const char *path);

/* A running `sipas serve` on 127.0.0.1 with a free port. */
struct test_server {
	int pid;
	int port;
	char scheme[8];  /* "http" or "https" */
	char base[64];   /* "http://127.0.0.1:PORT" */
};

/* Start the collector on `db` with extra NULL-terminated arguments; 0 or -1. */
int test_server_start(struct test_server *s, const char *db, ...) __attribute__((sentinel));

/* Send SIGTERM and wait; returns the exit status. */
int test_server_stop(struct test_server *s);

/* A helper process the case needs (a webhook receiver, a mail server):
 * argv (NULL-terminated, argv[0] a path) run in a process group of its own,
 * listed like the servers so that the runner ends it if the case stops
 * early, its stdout and stderr to the file `out`.  Its pid, or -1. */
pid_t test_helper_start(const char *out, char *const argv[]);

/* End a helper's process group (SIGTERM) and reap it; pid <= 0: nothing. */
void test_helper_stop(pid_t pid);

/* A PostgreSQL 15 server of the case's own (tests/postgres.c): a new
 * cluster in `dir` (under /tmp), started on a socket there and no TCP port;
 * the superuser postgres connects by trust with `conninfo` (database
 * postgres), any other role by password (scram-sha-256).  Fails the case,
 * and returns -1, when PostgreSQL 15 is missing or does not start: the hub's
 * tests never skip.  The runner stops it after the case, whatever happened. */
struct test_pg {
	char dir[64];
	char conninfo[160];
};
int test_pg_start(struct test_pg *pg);

/* Stop the server and remove its directory; always 0. */
int test_pg_stop(struct test_pg *pg);

/* For the runner: stop the servers a case in case_dir left running and
 * remove their directories; how many were running. */
int test_pg_reap(const char *case_dir);

/* A TCP port free on 127.0.0.1 now, or 0. */
int test_free_port(void);

/* 1 once something accepts a connection on 127.0.0.1:port (within 10 s),
 * else 0. */
int test_port_ready(int port);

/* A self-signed certificate for 127.0.0.1 in cert.pem with its key in
 * key.pem (openssl); 0 or -1. */
int test_make_cert(void);

/* An HTTP exchange with libcurl.  `body` NULL for GET. */
struct http_result {
	long status;
	char *body;            /* owned by the caller (free()); NUL-terminated */
	size_t body_len;       /* its length, for bodies that hold NUL bytes */
	char headers[2048];
};

int test_http(const char *method, const char *url, const char *body, const char *const *headers,
	      struct http_result *out);

/* `method` `path` on the server s, as a JSON body with a bearer `token`
 * (either may be NULL).  Returns the HTTP status, -1 when no answer. */
long test_request(const struct test_server *s, const char *method, const char *path,
		  const char *token, const char *body, struct http_result *out);

/* Lines in the files PREFIX.0 .. PREFIX.(n-1) (missing files count 0):
 * what concurrent test clients have written down so far. */
long test_count_lines(const char *prefix, int n);

/* ---- the console (tests/test_console.c) ---- */

/* Make the account login in tests/fixtures' registry database `db` with
 * role ("office", "agency", "viewer") and agencies (a comma-separated
 * list, or NULL), its password set to `password` as its one-time link
 * would.  0, or -1 with why on stderr. */
int console_add_user(const char *db, const char *login, const char *role, const char *agencies,
		     const char *password);

/* A signed-in console client: its cookie ("name=value") and CSRF token. */
struct console_client {
	char cookie[160];
	char csrf[80];
};

/* Sign in to s as login/password; 0 with c filled, or the HTTP status. */
long console_sign_in(const struct test_server *s, const char *login, const char *password,
		     struct console_client *c);

/* `method` `path` on s as the client c (NULL: no cookie), with a JSON body
 * (NULL: none) and, when with_csrf, its CSRF token.  Returns the HTTP
 * status, -1 when no answer; out as test_http's. */
long console_request(const struct test_server *s, const struct console_client *c, int with_csrf,
		     const char *method, const char *path, const char *body, struct http_result *out);

/* With another process holding the write lock and s on one worker thread:
 * start c's POST of body to path in a child process, which exits 0 when
 * it is answered status, and check that a request needing only the worker
 * (GET /api; /healthz's lock probe would say busy) is answered meanwhile,
 * the post still waiting.  The child's pid for console_post_wait, or -1
 * when the check failed (test_fail said why; the child reaped). */
pid_t console_post_aside(const struct test_server *s, const struct console_client *c, const char *path,
			 const char *body, long status);

/* Wait for a console_post_aside child: 0 when it was answered its status,
 * else -1 (test_fail said so). */
int console_post_wait(pid_t pid);

#endif
