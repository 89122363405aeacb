/*
 * test_storage.c - the collector when its storage fails under it
 * (docs/collector.md, "Storage faults and /healthz"): the database deleted
 * while 8 clients post, or replaced by another file; another process
 * holding the write lock; a full disk; and /healthz naming each failing
 * check.  A real `sipas serve` on 127.0.0.1, real files, real HTTP.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

struct env {
	struct test_server s;
	char kiosk[128];
};

static double now_mono(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* `sipas init` and a kiosk token in the current directory's sipas.db. */
static int init_with_kiosk(struct env *t)
{
	const struct cmd_result *r;

	if (sipas_run(NULL, "init", NULL)->status != 0)
		return -1;
	r = sipas_run(NULL, "device", "add", "--agency", "P-HONGBANG", "--counter", "Quầy 1", "--sector",
		      "dat-dai", NULL);
	if (r->status != 0 || strlen(r->out) < 10)
		return -1;
	snprintf(t->kiosk, sizeof(t->kiosk), "%.*s", (int)strcspn(r->out, "\n"), r->out);
	return 0;
}

/* A kiosk rating `id`, submitted now (so no age limit refuses it). */
static void rating(char *out, size_t n, const char *id)
{
	char when[32];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S+00:00", &tm);
	snprintf(out, n, "{\"response_id\":\"%s\",\"form\":\"kiosk-2018\",\"agency\":\"P-HONGBANG\","
		 "\"sector\":\"dat-dai\",\"submitted_at\":\"%s\",\"answers\":{\"overall\":2}}", id, when);
}

static long post(const struct env *t, const char *path, const char *body, struct http_result *h)
{
	char url[256], auth[200];
	const char *headers[3] = { "Content-Type: application/json", auth, NULL };

	snprintf(url, sizeof(url), "%s%s", t->s.base, path);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", t->kiosk);
	if (test_http("POST", url, body, headers, h) != 0)
		return -1;
	return h->status;
}

static long post_one(const struct env *t, const char *id, struct http_result *h)
{
	char body[512];

	rating(body, sizeof(body), id);
	return post(t, "/api/responses", body, h);
}

static long healthz(const struct env *t, struct http_result *h)
{
	char url[256];

	snprintf(url, sizeof(url), "%s/healthz", t->s.base);
	if (test_http("GET", url, NULL, NULL, h) != 0)
		return -1;
	return h->status;
}

/* Poll /healthz for up to `seconds` until it answers `status`; the last
 * answer stays in h (free h->body). */
static long healthz_until(const struct env *t, long status, double seconds, struct http_result *h)
{
	double end = now_mono() + seconds;
	long got;

	for (;;) {
		got = healthz(t, h);
		if (got == status || now_mono() > end)
			return got;
		free(h->body);
		usleep(100 * 1000);
	}
}

static long long stored(void)
{
	return test_db_int("sipas.db", "SELECT count(*) FROM responses");
}

/* ---- the fault test: the database deleted while 8 clients post ---- */

#define CLIENTS 8
#define POSTS_PER_CLIENT 500   /* 4000 in all, at most */

/* One client: post fresh ratings until told to stop (the file "stop"),
 * 20 s or POSTS_PER_CLIENT, logging "send-time status" per post. */
static void client_main(const struct env *t, int c)
{
	double end = now_mono() + 20;
	struct http_result h;
	char path[32], id[32];
	FILE *log;

	snprintf(path, sizeof(path), "sent.%d", c);
	log = fopen(path, "w");
	if (!log)
		_exit(1);
	for (int i = 0; i < POSTS_PER_CLIENT && now_mono() < end && access("stop", F_OK) != 0; i++) {
		double sent = now_mono();
		long status;

		snprintf(id, sizeof(id), "f%d-%d", c, i);
		status = post_one(t, id, &h);
		free(h.body);
		fprintf(log, "%.9f %ld\n", sent, status);
		fflush(log);
	}
	fclose(log);
	_exit(0);
}

/* Over all clients' logs: posts, 2xx sent before `cut`, posts sent at or
 * after it, and 2xx among those. */
struct tally {
	long posts, ok_before, after, ok_after;
};

static void tally_logs(double cut, struct tally *ty)
{
	memset(ty, 0, sizeof(*ty));
	for (int c = 0; c < CLIENTS; c++) {
		char path[32];
		double sent;
		long status;
		FILE *fp;

		snprintf(path, sizeof(path), "sent.%d", c);
		fp = fopen(path, "r");
		while (fp && fscanf(fp, "%lf %ld", &sent, &status) == 2) {
			int ok = status >= 200 && status < 300;

			ty->posts++;
			if (sent >= cut) {
				ty->after++;
				ty->ok_after += ok;
			} else {
				ty->ok_before += ok;
			}
		}
		if (fp)
			fclose(fp);
	}
}

static void deleting_the_database_under_load_acknowledges_nothing_after(void)
{
	static const char *const files[] = { "sipas.db", "sipas.db-wal", "sipas.db-shm" };
	struct env t;
	struct http_result h;
	struct tally ty;
	pid_t kids[CLIENTS];
	double unlinked, end;

	CHECK_INT(init_with_kiosk(&t), 0);
	CHECK_INT(test_server_start(&t.s, "sipas.db", "--device-rate", "0", NULL), 0);
	for (int c = 0; c < CLIENTS; c++) {
		kids[c] = fork();
		if (kids[c] == 0)
			client_main(&t, c);
	}
	/* delete mid-stream: once 100 posts are answered, or after 10 s */
	end = now_mono() + 10;
	do {
		usleep(20 * 1000);
		tally_logs(1e300, &ty);
	} while (ty.posts < 100 && now_mono() < end);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		CHECK_INT(unlink(files[i]), 0);
	unlinked = now_mono();
	usleep(1000 * 1000);
	test_write("stop", "");
	for (int c = 0; c < CLIENTS; c++)
		waitpid(kids[c], NULL, 0);
	tally_logs(unlinked, &ty);
	fprintf(stderr, "    %ld posts, %ld acknowledged before the deletion, %ld sent after it\n", ty.posts,
		ty.ok_before, ty.after);
	CHECK(ty.ok_before > 0);
	CHECK(ty.after > 0);
	CHECK_INT(ty.ok_after, 0);
	/* the writer stays refused; /healthz names the check */
	CHECK_INT(post_one(&t, "late", &h), 503);
	CHECK_CONTAINS(h.body, "\"code\":\"storage_gone\"");
	CHECK_CONTAINS(h.headers, "Retry-After:");
	free(h.body);
	CHECK_INT(healthz(&t, &h), 503);
	CHECK_CONTAINS(h.body, "\"check\":\"database_replaced\"");
	free(h.body);
	CHECK_INT(test_server_stop(&t.s), 0);
}

/* Copy a closed database (no WAL left) byte for byte; 0 or -1. */
static int copy_file(const char *from, const char *to)
{
	char buf[65536];
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644), rc = 0;
	ssize_t n;

	if (in < 0 || out < 0)
		rc = -1;
	while (!rc && (n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			rc = -1;
	if (in >= 0)
		close(in);
	if (out >= 0 && close(out) != 0)
		rc = -1;
	return rc;
}

/* A restore copied over the live database (by rename, as cp --remove-destination
 * or a restore tool does): the path names another file. */
static void replacing_the_database_refuses_posts_until_restart(void)
{
	struct env t;
	struct http_result h;

	CHECK_INT(init_with_kiosk(&t), 0);
	/* a backup of this very database, so the kiosk's token is good in both */
	CHECK_INT(copy_file("sipas.db", "other.db"), 0);
	CHECK_INT(test_server_start(&t.s, "sipas.db", NULL), 0);
	CHECK_INT(post_one(&t, "r1", &h), 201);
	free(h.body);
	CHECK_INT(healthz(&t, &h), 200);
	free(h.body);
	CHECK_INT(rename("other.db", "sipas.db"), 0);
	CHECK_INT(post_one(&t, "r2", &h), 503);
	CHECK_CONTAINS(h.body, "\"code\":\"storage_gone\"");
	CHECK_CONTAINS(h.body, "restarted");
	free(h.body);
	CHECK_INT(healthz(&t, &h), 503);
	CHECK_CONTAINS(h.body, "\"check\":\"database_replaced\"");
	free(h.body);
	/* sticky: later posts are refused the same way without touching either file */
	CHECK_INT(post_one(&t, "r3", &h), 503);
	CHECK_CONTAINS(h.body, "\"code\":\"storage_gone\"");
	free(h.body);
	CHECK_INT(test_server_stop(&t.s), 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM responses WHERE response_id IN ('r2', 'r3')"), 0);
	/* the operator is told, once, with the path */
	CHECK(test_file_contains("server.log", "sipas.db: the database file was removed or replaced"));
}

static void healthz_checks_free_space_and_leaks_no_path(void)
{
	struct env t;
	struct http_result h;
	char cwd[4096];
	const struct cmd_result *r;

	CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
	CHECK_INT(init_with_kiosk(&t), 0);
	CHECK_INT(test_server_start(&t.s, "sipas.db", NULL), 0);
	CHECK_INT(healthz(&t, &h), 200);
	CHECK_CONTAINS(h.body, "\"status\":\"ok\"");
	CHECK_CONTAINS(h.body, "\"free_space\":\"ok\"");
	CHECK_CONTAINS(h.body, "\"write_lock\":\"ok\"");
	CHECK_CONTAINS(h.body, "\"database\":\"ok\"");
	free(h.body);
	CHECK_INT(test_server_stop(&t.s), 0);
	CHECK_INT(test_server_start(&t.s, "sipas.db", "--min-free", "1000T", NULL), 0);
	CHECK_INT(healthz(&t, &h), 503);
	CHECK_CONTAINS(h.body, "\"check\":\"free_space\"");
	CHECK_CONTAINS(h.body, "\"free_space\":\"low\"");
	CHECK(!strstr(h.body, "sipas.db") && !strstr(h.body, cwd));
	free(h.body);
	CHECK_INT(test_server_stop(&t.s), 0);
	r = sipas_run(NULL, "serve", "--min-free", "12X", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "--min-free '12X' must be a size");
	/* past 2^64: strtoull saturates, which must not pass for 16 EiB */
	r = sipas_run(NULL, "serve", "--min-free", "99999999999999999999", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "--min-free '99999999999999999999' must be a size");
	/* a worker thread that opens its read connection after the file is
	 * gone: 503 storage_gone, and still no path */
	CHECK_INT(test_server_start(&t.s, "sipas.db", NULL), 0);
	CHECK_INT(unlink("sipas.db"), 0);
	unlink("sipas.db-wal");
	unlink("sipas.db-shm");
	{
		char url[256];

		snprintf(url, sizeof(url), "%s/results", t.s.base);
		CHECK_INT(test_http("GET", url, NULL, NULL, &h), 0);
	}
	CHECK_INT(h.status, 503);
	CHECK_CONTAINS(h.body, "\"code\":\"storage_gone\"");
	CHECK(!strstr(h.body, "sipas.db") && !strstr(h.body, cwd));
	free(h.body);
	CHECK_INT(test_server_stop(&t.s), 0);
}

/* Another process (sipas import, a backup tool, an operator's sqlite3)
 * holds the write lock: posts get 503 busy with Retry-After within the
 * writer's bounded wait, never a 500, never after 10 s. */
static void a_held_write_lock_gives_503_busy_within_seconds(void)
{
	struct env t;
	struct http_result h;
	sqlite3 *db = NULL;
	double t0, took;

	CHECK_INT(init_with_kiosk(&t), 0);
	CHECK_INT(test_server_start(&t.s, "sipas.db", NULL), 0);
	CHECK_INT(post_one(&t, "b0", &h), 201);
	free(h.body);
	CHECK((db = test_db_lock("sipas.db")) != NULL);
	t0 = now_mono();
	CHECK_INT(post_one(&t, "b1", &h), 503);
	took = now_mono() - t0;
	fprintf(stderr, "    a post under another process's write lock was answered in %.2f s\n", took);
	CHECK(took < 3.5);
	CHECK_CONTAINS(h.body, "\"code\":\"busy\"");
	CHECK_CONTAINS(h.headers, "Retry-After: 5");
	free(h.body);
	CHECK_INT(healthz_until(&t, 503, 3, &h), 503);
	CHECK_CONTAINS(h.body, "\"check\":\"write_lock\"");
	free(h.body);
	CHECK_INT(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	/* 201, not 200: nothing of the refused post was stored */
	CHECK_INT(post_one(&t, "b1", &h), 201);
	free(h.body);
	CHECK_INT(healthz_until(&t, 200, 3, &h), 200);
	free(h.body);
	CHECK_INT(test_server_stop(&t.s), 0);
	CHECK_INT(stored(), 2);
}

/* A client that hangs up while its post waits for the commit (here behind
 * another process's write lock, released within the writer's wait): the
 * rating is stored all the same, its submission is released when the
 * request ends (libmicrohttpd 0.9.75 calls the handler once resumed, so
 * the reply is built and its sending fails: logged "aborted"; under ASan
 * a leak would fail the stop), a re-send gets the receipt of what was
 * stored, and the server goes on serving. */
static void a_post_whose_client_left_before_its_commit_is_stored(void)
{
	struct env t;
	struct http_result h;
	struct sockaddr_in sa;
	sqlite3 *db = NULL;
	char body[512], request[1024];
	int fd, n;

	CHECK_INT(init_with_kiosk(&t), 0);
	CHECK_INT(test_server_start(&t.s, "sipas.db", NULL), 0);
	CHECK((db = test_db_lock("sipas.db")) != NULL);
	rating(body, sizeof(body), "gone-1");
	n = snprintf(request, sizeof(request), "POST /api/responses HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		     "Authorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
		     "\r\n%s", t.kiosk, strlen(body), body);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)t.s.port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(fd >= 0);
	CHECK_INT(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	CHECK_INT(write(fd, request, (size_t)n), n);
	/* the post is whole and waits for the lock: hang up (a reset, as a
	 * tablet that loses its network), then let it commit */
	usleep(300 * 1000);
	CHECK_INT(setsockopt(fd, SOL_SOCKET, SO_LINGER, &(struct linger){ 1, 0 }, sizeof(struct linger)), 0);
	close(fd);
	usleep(200 * 1000);
	CHECK_INT(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	for (int i = 0; i < 50 && stored() < 1; i++)
		usleep(100 * 1000);
	CHECK_INT(stored(), 1);
	/* the very same body: a rating's time is part of its content */
	CHECK_INT(post(&t, "/api/responses", body, &h), 200);
	CHECK_CONTAINS(h.body, "\"duplicate\":true");
	free(h.body);
	CHECK_INT(post_one(&t, "gone-2", &h), 201);
	free(h.body);
	CHECK_INT(test_server_stop(&t.s), 0);
	CHECK_INT(stored(), 2);
	/* the access log has the hung-up post, as ended without its answer */
	CHECK(test_file_contains("server.log", " aborted\n"));
}

/* The disk fills: every item of the commit gets one clear 503
 * storage_full, and the next commit after space returns just works.
 * `fill` makes the disk full, `unfill` frees it again. */
static void disk_full_case(const struct env *t, int (*fill)(const struct env *), int (*unfill)(const struct env *))
{
	struct http_result h;
	char body[600 * 520], *p;
	long long before;

	CHECK_INT(post_one(t, "d0", &h), 201);
	free(h.body);
	before = stored();
	CHECK_INT(fill(t), 0);
	CHECK_INT(post_one(t, "d1", &h), 503);
	CHECK_CONTAINS(h.body, "\"code\":\"storage_full\"");
	CHECK_CONTAINS(h.headers, "Retry-After:");
	free(h.body);
	/* a batch: each item the same one answer */
	p = body + sprintf(body, "{\"responses\":[");
	for (int i = 0; i < 50; i++) {
		char id[16];

		snprintf(id, sizeof(id), "d-b%d", i);
		if (i)
			*p++ = ',';
		rating(p, 512, id);
		p += strlen(p);
	}
	strcpy(p, "]}");
	CHECK_INT(post(t, "/api/responses/batch", body, &h), 200);
	for (const char *q = h.body; (q = strstr(q, "\"status\":")); q++)
		CHECK_INT(atoi(q + 9), 503);
	CHECK_CONTAINS(h.body, "\"code\":\"storage_full\"");
	CHECK(!strstr(h.body, "transaction"));
	free(h.body);
	CHECK_INT(stored(), before);
	CHECK_INT(unfill(t), 0);
	/* recovered on its own; 201, not 200: nothing of it was stored before */
	CHECK_INT(post_one(t, "d1", &h), 201);
	free(h.body);
	CHECK_INT(post(t, "/api/responses/batch", body, &h), 200);
	CHECK(!strstr(h.body, "\"status\":503"));
	free(h.body);
	CHECK_INT(stored(), before + 51);
}

/* A file size limit on the server (RLIMIT_FSIZE, as `ulimit -f` or
 * systemd's LimitFSIZE= set): write() past it fails with EFBIG, as it
 * fails with ENOSPC on a full disk, with no mount and no root.  The limit
 * is put just below where the WAL must grow next. */
static int fsize_fill(const struct env *t)
{
	struct stat st;
	struct rlimit rl = { 0, RLIM_INFINITY };

	if (stat("sipas.db-wal", &st) != 0)
		return -1;
	rl.rlim_cur = (rlim_t)st.st_size;
	return prlimit(t->s.pid, RLIMIT_FSIZE, &rl, NULL);
}

static int fsize_unfill(const struct env *t)
{
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };

	return prlimit(t->s.pid, RLIMIT_FSIZE, &rl, NULL);
}

static void a_file_size_limit_gives_503_storage_full_and_recovers(void)
{
	struct env t;

	CHECK_INT(init_with_kiosk(&t), 0);
	/* ignored signals stay ignored across exec: the server gets EFBIG,
	 * not SIGXFSZ */
	signal(SIGXFSZ, SIG_IGN);
	CHECK_INT(test_server_start(&t.s, "sipas.db", NULL), 0);
	disk_full_case(&t, fsize_fill, fsize_unfill);
	if (test_server_stop(&t.s) != 0)
		test_fail(__FILE__, __LINE__, "the server did not stop cleanly");
}

/* A group commit large enough that SQLite spills pages to the WAL before
 * COMMIT: a statement fails on the full disk and SQLite rolls the whole
 * transaction back by itself.  64 batches of 500 queue behind a write lock
 * this test holds, so that they are stored together once it is released;
 * every item must get storage_full, none "no transaction is active". */
#define BIG_BATCHES 64

static void batch_body(char *out, int b)
{
	char *p = out + sprintf(out, "{\"responses\":[");

	for (int i = 0; i < 500; i++) {
		char id[24];

		snprintf(id, sizeof(id), "s%d-%d", b, i);
		if (i)
			*p++ = ',';
		rating(p, 512, id);
		p += strlen(p);
	}
	strcpy(p, "]}");
}

static void a_full_disk_fails_a_large_commit_whole(void)
{
	static char body[500 * 520];
	struct env t;
	struct http_result h;
	pid_t kids[BIG_BATCHES];
	sqlite3 *db = NULL;
	long long before;
	int gate[2], full = 0;

	CHECK_INT(init_with_kiosk(&t), 0);
	signal(SIGXFSZ, SIG_IGN);
	CHECK_INT(test_server_start(&t.s, "sipas.db", "--device-rate", "0", NULL), 0);
	CHECK_INT(post_one(&t, "first", &h), 201);
	free(h.body);
	before = stored();
	CHECK((db = test_db_lock("sipas.db")) != NULL);
	/* the clients post together once all are ready (the gate closes) */
	CHECK_INT(pipe(gate), 0);
	for (int b = 0; b < BIG_BATCHES; b++) {
		kids[b] = fork();
		if (kids[b] == 0) {
			char path[32], c;

			close(gate[1]);
			batch_body(body, b);
			if (read(gate[0], &c, 1) != 0)
				_exit(1);
			snprintf(path, sizeof(path), "batch.%d", b);
			post(&t, "/api/responses/batch", body, &h);
			test_write(path, h.body ? h.body : "");
			_exit(h.status == 200 ? 0 : 1);
		}
	}
	close(gate[0]);
	usleep(300 * 1000);   /* for the bodies to be built */
	close(gate[1]);
	/* the writer waits up to 2 s for the lock: release it within that,
	 * with the disk full (a group that waited longer gets busy) */
	usleep(1200 * 1000);
	CHECK_INT(fsize_fill(&t), 0);
	CHECK_INT(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	for (int b = 0; b < BIG_BATCHES; b++) {
		char path[32], *out;
		int status, n = 0;

		CHECK(waitpid(kids[b], &status, 0) == kids[b]);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		snprintf(path, sizeof(path), "batch.%d", b);
		out = test_read(path);
		CHECK(out != NULL);
		for (const char *q = out; (q = strstr(q, "\"status\":")); q++, n++)
			if (atoi(q + 9) != 503)
				test_fail(__FILE__, __LINE__, "batch %d: an item answered %d", b, atoi(q + 9));
		CHECK_INT(n, 500);
		CHECK(!strstr(out, "transaction"));
		CHECK(!strstr(out, "\"code\":\"database\""));
		full += strstr(out, "\"code\":\"storage_full\"") != NULL;
		free(out);
	}
	CHECK(full > 0);
	CHECK_INT(fsize_unfill(&t), 0);
	CHECK_INT(post_one(&t, "s0-0", &h), 201);
	free(h.body);
	CHECK_INT(test_server_stop(&t.s), 0);
	CHECK_INT(stored(), before + 1);
}

/* A really full filesystem (ENOSPC): a 4 MiB tmpfs in a mount namespace of
 * this case's own, filled with a file.  Mounting needs CAP_SYS_ADMIN (root
 * on CI); without it the case says so and checks the limit case above. */
static int tmpfs_fill(const struct env *t)
{
	static char block[64 * 1024];
	FILE *fp = fopen("filler", "w");
	int rc;

	(void)t;
	if (!fp)
		return -1;
	setvbuf(fp, NULL, _IONBF, 0);
	while (fwrite(block, 1, sizeof(block), fp) == sizeof(block))
		;
	while (fwrite(block, 1, 512, fp) == 512)
		;
	rc = errno == ENOSPC ? 0 : -1;
	fclose(fp);
	return rc;
}

static int tmpfs_unfill(const struct env *t)
{
	(void)t;
	return unlink("filler");
}

static void a_full_filesystem_gives_503_storage_full_and_recovers(void)
{
	struct env t;

	CHECK_INT(mkdir("full", 0755), 0);
	if (unshare(CLONE_NEWNS) != 0 || mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) != 0 ||
	    mount("tmpfs", "full", "tmpfs", 0, "size=4m") != 0) {
		fprintf(stderr, "    no tmpfs (%s): the full disk is tested by a_file_size_limit_"
			"gives_503_storage_full_and_recovers only\n", strerror(errno));
		return;
	}
	CHECK_INT(chdir("full"), 0);
	CHECK_INT(init_with_kiosk(&t), 0);
	CHECK_INT(chdir(".."), 0);
	CHECK_INT(test_server_start(&t.s, "full/sipas.db", NULL), 0);
	CHECK_INT(chdir("full"), 0);
	disk_full_case(&t, tmpfs_fill, tmpfs_unfill);
	CHECK_INT(chdir(".."), 0);
	CHECK_INT(test_server_stop(&t.s), 0);
}

/* Run `sql` on sipas.db; 0 on success. */
static int db_run(const char *sql)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open("sipas.db", &db) == SQLITE_OK ? sqlite3_exec(db, sql, NULL, NULL, NULL) : -1;

	sqlite3_close(db);
	return rc;
}

/* A row of an import not done yet is nobody's to see, but its id and
 * dossier are taken: a post of the same rating, identical or not, gets
 * 409 (it cannot be told stored: the import may still fail); once the
 * import is done the identical post is the duplicate it is. */
static void a_post_taking_a_pending_import_row_gets_409(void)
{
	char body[512], sql[256], other[512];
	struct http_result h;
	struct env t;

	CHECK_INT(init_with_kiosk(&t), 0);
	rating(body, sizeof(body), "p1");
	snprintf(other, sizeof(other), "%.*s3}}", (int)(strlen(body) - 3), body);   /* overall 2 -> 3 */
	CHECK_INT(test_server_start(&t.s, "sipas.db", NULL), 0);
	CHECK_INT(post(&t, "/api/responses", body, &h), 201);
	free(h.body);
	/* this process stands for the importing one: it runs, so the
	 * collector's start leaves its import alone */
	snprintf(sql, sizeof(sql), "INSERT INTO imports(id, state, pid, started_at) VALUES (7, 'pending', %ld, 0);"
		 "UPDATE responses SET import_id = 7", (long)getpid());
	CHECK_INT(db_run(sql), 0);
	CHECK_INT(test_server_stop(&t.s), 0);
	CHECK_INT(test_server_start(&t.s, "sipas.db", NULL), 0);
	CHECK_INT(post(&t, "/api/responses", body, &h), 409);
	CHECK_CONTAINS(h.body, "in an import not finished yet");
	free(h.body);
	CHECK_INT(post(&t, "/api/responses", other, &h), 409);
	free(h.body);
	CHECK_INT(db_run("UPDATE imports SET state = 'done'"), 0);
	CHECK_INT(post(&t, "/api/responses", body, &h), 200);
	free(h.body);
	CHECK_INT(post(&t, "/api/responses", other, &h), 409);
	CHECK_CONTAINS(h.body, "already stored with different content");
	free(h.body);
	CHECK_INT(test_server_stop(&t.s), 0);
	CHECK_INT(stored(), 1);
}

const struct test_case storage_tests[] = {
	{ "a_post_taking_a_pending_import_row_gets_409", a_post_taking_a_pending_import_row_gets_409 },
	{ "deleting_the_database_under_load_acknowledges_nothing_after",
	  deleting_the_database_under_load_acknowledges_nothing_after },
	{ "replacing_the_database_refuses_posts_until_restart", replacing_the_database_refuses_posts_until_restart },
	{ "healthz_checks_free_space_and_leaks_no_path", healthz_checks_free_space_and_leaks_no_path },
	{ "a_held_write_lock_gives_503_busy_within_seconds", a_held_write_lock_gives_503_busy_within_seconds },
	{ "a_post_whose_client_left_before_its_commit_is_stored",
	  a_post_whose_client_left_before_its_commit_is_stored },
	{ "a_file_size_limit_gives_503_storage_full_and_recovers",
	  a_file_size_limit_gives_503_storage_full_and_recovers },
	{ "a_full_disk_fails_a_large_commit_whole", a_full_disk_fails_a_large_commit_whole },
	{ "a_full_filesystem_gives_503_storage_full_and_recovers",
	  a_full_filesystem_gives_503_storage_full_and_recovers },
	{ NULL, NULL }
};
