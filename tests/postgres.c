/*
 * postgres.c - a real PostgreSQL 15 server for the hub's tests (see
 * test.h): a cluster of the case's own in a short directory under /tmp
 * (a socket path must fit in 107 bytes, a case directory's may not),
 * owned by the user postgres when the tests run as root (initdb refuses
 * root), listening on a socket there and on no TCP port.  The directory is
 * written to the case's file PG_LIST, so that the runner stops the server
 * and removes it after the case, also when the case failed or hung.
 */
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG_BIN "/usr/lib/postgresql/15/bin"
#define PG_LIST "postgres.list"

/* Run argv (argv[0] a path) as the user postgres when we are root, else as
 * ourselves, its output to `log`; its exit status, or -1. */
static int run_as_postgres(const char *log, const char *const argv[])
{
	const char *full[32];
	int argc = 0, status;
	pid_t pid;

	if (geteuid() == 0) {
		full[argc++] = "/usr/sbin/runuser";
		full[argc++] = "-u";
		full[argc++] = "postgres";
		full[argc++] = "--";
	}
	for (int i = 0; argv[i] && argc < 31; i++)
		full[argc++] = argv[i];
	full[argc] = NULL;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		/* the server must not inherit the case's process group: the
		 * runner ends those with SIGKILL, and a postmaster killed so
		 * leaves its shared memory behind */
		setsid();
		/* the case's directory is root's: the postgres user can't stay in it */
		if (chdir("/tmp") != 0)
			_exit(126);
		execv(full[0], (char *const *)full);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");
	int rc;

	if (!fp)
		return -1;
	rc = fputs(text, fp) < 0;
	return (fclose(fp) != 0 || rc) ? -1 : 0;
}

int test_pg_start(struct test_pg *pg)
{
	char data[sizeof(pg->dir) + 8], log[sizeof(pg->dir) + 16], tools[sizeof(pg->dir) + 16];
	char hba[sizeof(data) + 16];
	char opts[sizeof(pg->dir) + 160];
	FILE *list;
	int rc;

	memset(pg, 0, sizeof(*pg));
	if (access(PG_BIN "/initdb", X_OK) != 0) {
		test_fail(__FILE__, __LINE__, "PostgreSQL 15 is not installed (" PG_BIN "/initdb): "
			  "make deps installs postgresql-15");
		return -1;
	}
	snprintf(pg->dir, sizeof(pg->dir), "/tmp/sipas-pg-XXXXXX");
	if (!mkdtemp(pg->dir)) {
		test_fail(__FILE__, __LINE__, "mkdtemp: %s", strerror(errno));
		return -1;
	}
	list = fopen(PG_LIST, "a");
	if (list) {
		fprintf(list, "%s\n", pg->dir);
		fclose(list);
	}
	if (geteuid() == 0) {
		struct passwd *pw = getpwnam("postgres");

		if (!pw || chown(pg->dir, pw->pw_uid, pw->pw_gid) != 0) {
			test_fail(__FILE__, __LINE__, "no user postgres to own %s", pg->dir);
			return -1;
		}
	}
	snprintf(data, sizeof(data), "%s/data", pg->dir);
	/* what initdb and pg_ctl print goes to tools.log, opened by us; the
	 * server's own log (pg_ctl -l) is created by the user postgres */
	snprintf(log, sizeof(log), "%s/server.log", pg->dir);
	snprintf(tools, sizeof(tools), "%s/tools.log", pg->dir);
	rc = run_as_postgres(tools, (const char *const[]){ PG_BIN "/initdb", "-D", data, "-U", "postgres",
				"-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions", NULL });
	/* the superuser by trust on the socket (the tests' own account); any
	 * other role by password (scram), as a province's push role logs in */
	snprintf(hba, sizeof(hba), "%s/pg_hba.conf", data);
	if (rc == 0)
		rc = write_file(hba, "local all postgres trust\nlocal all all scram-sha-256\n");
	/* fsync off: a test server's durability is not what is tested */
	snprintf(opts, sizeof(opts), "-k %s -c listen_addresses='' -c fsync=off -c full_page_writes=off "
		 "-c max_connections=40", pg->dir);
	if (rc == 0)
		rc = run_as_postgres(tools, (const char *const[]){ PG_BIN "/pg_ctl", "-D", data, "-l", log,
					"-w", "-t", "60", "-o", opts, "start", NULL });
	if (rc != 0) {
		char *text = test_read(tools), *server = test_read(log);

		test_fail(__FILE__, __LINE__, "PostgreSQL did not start (exit %d): %s%s", rc, text ? text : "",
			  server ? server : "");
		free(text);
		free(server);
		return -1;
	}
	snprintf(pg->conninfo, sizeof(pg->conninfo), "host=%s dbname=postgres user=postgres", pg->dir);
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Stop the cluster in dir (fast: no client is waited for) and remove dir.
 * 1 if a server was running. */
static int stop_dir(const char *dir)
{
	char data[4200], pid_file[4300], log[4300];
	int running;

	snprintf(data, sizeof(data), "%s/data", dir);
	snprintf(pid_file, sizeof(pid_file), "%s/postmaster.pid", data);
	snprintf(log, sizeof(log), "%s/tools.log", dir);
	running = access(pid_file, F_OK) == 0;
	if (running)
		run_as_postgres(log, (const char *const[]){ PG_BIN "/pg_ctl", "-D", data, "-m", "fast", "-w",
					"-t", "30", "stop", NULL });
	if (!getenv("SIPAS_KEEP_TEST_DIRS"))
		nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	return running;
}

int test_pg_stop(struct test_pg *pg)
{
	if (!pg->dir[0])
		return 0;
	stop_dir(pg->dir);
	pg->dir[0] = '\0';
	return 0;
}

int test_pg_reap(const char *case_dir)
{
	char path[4200], dir[4096];
	FILE *fp;
	int left = 0;

	snprintf(path, sizeof(path), "%s/" PG_LIST, case_dir);
	fp = fopen(path, "r");
	if (!fp)
		return 0;
	while (fgets(dir, sizeof(dir), fp)) {
		dir[strcspn(dir, "\n")] = '\0';
		if (strncmp(dir, "/tmp/sipas-pg-", 14) == 0 && access(dir, F_OK) == 0)
			left += stop_dir(dir);
	}
	fclose(fp);
	return left;
}
