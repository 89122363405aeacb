/*
 * backup.c - a consistent copy of a live database (see backup.h).
 *
 * The copy runs inside one read transaction on the source.  In WAL mode (every
 * sipas database is) a reader sees one snapshot and never blocks the
 * collector's writer; and because the snapshot does not move,
 * sqlite3_backup_step never starts over when the collector commits between
 * two steps, as it would with a transaction per step -- for ever, under
 * steady ingest.  The price: the WAL cannot be checkpointed past the
 * snapshot until the copy ends, so it grows by what is written meanwhile.
 */
#include "backup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sqlite3.h>

#include "db.h"

/* Pages copied per step (4 MiB at SQLite's default page size), and the pause
 * after each step that leaves the disk to the collector's commits. */
#define BACKUP_STEP_PAGES 1024
#define BACKUP_PAUSE_NS (2 * 1000 * 1000)
/* How many steps in a row may find a database busy (locked by a writer
 * that is not in WAL mode) before the copy gives up: about 10 s. */
#define BACKUP_MAX_BUSY_STEPS 5000

static int fsync_path(const char *path, int directory, struct err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | (directory ? O_DIRECTORY : 0));
	int rc = 0;

	if (fd < 0)
		return err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
	if (fsync(fd) != 0)
		rc = err_set(e, ERR_IO, "%s: fsync: %s", path, strerror(errno));
	close(fd);
	return rc;
}

/* The directory part of path ("." when none) into dir. */
static int dir_of(const char *path, char *dir, size_t n, struct err *e)
{
	const char *slash = strrchr(path, '/');
	int len = slash ? (slash == path ? 1 : (int)(slash - path)) : 1;

	if ((size_t)snprintf(dir, n, "%.*s", len, slash ? path : ".") >= n)
		return err_set(e, ERR_INVALID, "%s: path too long", path);
	return 0;
}

/* Give tmp the name dest; without force, never over an existing dest.
 * renameat2(RENAME_NOREPLACE) does that atomically; file systems without
 * it get link + unlink, which is as atomic about the name. */
static int put_in_place(const char *tmp, const char *dest, int force, struct err *e)
{
	int rc;

	if (force)
		rc = rename(tmp, dest);
	else if ((rc = renameat2(AT_FDCWD, tmp, AT_FDCWD, dest, RENAME_NOREPLACE)) != 0 &&
		 (errno == EINVAL || errno == ENOSYS) && (rc = link(tmp, dest)) == 0)
		unlink(tmp);
	if (rc == 0)
		return 0;
	if (errno == EEXIST)
		return err_set(e, ERR_CONFLICT, "%s already exists (--force replaces it)", dest);
	return err_set(e, ERR_IO, "cannot rename %s to %s: %s", tmp, dest, strerror(errno));
}

static int copy_pages(sqlite3 *src, sqlite3 *dst, const char *tmp, struct db_backup_stats *stats,
		      struct err *e)
{
	const struct timespec pause = { 0, BACKUP_PAUSE_NS };
	sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
	int rc, busy = 0;

	if (!b)
		return db_fail(dst, e, tmp);
	do {
		rc = sqlite3_backup_step(b, BACKUP_STEP_PAGES);
		busy = (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) ? busy + 1 : 0;
		if (rc == SQLITE_OK || (busy && busy < BACKUP_MAX_BUSY_STEPS))
			nanosleep(&pause, NULL);
	} while (rc == SQLITE_OK || (busy && busy < BACKUP_MAX_BUSY_STEPS));
	stats->pages = sqlite3_backup_pagecount(b);
	/* finish returns the error of the last step, SQLITE_OK after DONE */
	if (sqlite3_backup_finish(b) != SQLITE_OK)
		return db_fail(dst, e, tmp);
	return 0;
}

/* PRAGMA quick_check of the copy: "ok" or ERR_INTERNAL with its first line. */
static int check_copy(sqlite3 *dst, const char *tmp, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = db_prepare(dst, "PRAGMA quick_check", &st, e);

	if (rc)
		return rc;
	if (sqlite3_step(st) != SQLITE_ROW)
		rc = db_fail(dst, e, "quick_check of the copy");
	else if (strcmp((const char *)sqlite3_column_text(st, 0), "ok") != 0)
		rc = err_set(e, ERR_INTERNAL, "%s: the copy fails quick_check: %s", tmp,
			     (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return rc;
}

int db_backup(const char *src_path, const char *dest_path, int flags, struct db_backup_stats *stats,
	      struct err *e)
{
	struct db_backup_stats got = { 0, 0 };
	sqlite3 *src = NULL, *dst = NULL;
	char tmp[4096], dir[4096];
	long long n;
	int fd, rc;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", dest_path) >= sizeof(tmp))
		return err_set(e, ERR_INVALID, "%s: path too long", dest_path);
	rc = dir_of(dest_path, dir, sizeof(dir), e);
	if (rc)
		return rc;
	if (access(src_path, F_OK) != 0)
		return err_set(e, ERR_NOT_FOUND, "%s: no database here", src_path);
	/* checked again, atomically, at the rename; this spares a useless copy */
	if (!(flags & DB_BACKUP_FORCE) && access(dest_path, F_OK) == 0)
		return err_set(e, ERR_CONFLICT, "%s already exists (--force replaces it)", dest_path);
	/* The copy holds the server's key and device token digests: owner only.
	 * A .tmp left by a copy that was killed is ours to replace. */
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_set(e, ERR_IO, "%s: %s", tmp, strerror(errno));
	close(fd);

	/* not db_open: a backup copies any schema version, e.g. before an upgrade */
	if (sqlite3_open_v2(src_path, &src, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		rc = err_set(e, ERR_IO, "%s: cannot open database: %s", src_path,
			     src ? sqlite3_errmsg(src) : "out of memory");
		goto out;
	}
	sqlite3_busy_timeout(src, 10000);
	if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		rc = err_set(e, ERR_IO, "%s: cannot open: %s", tmp, dst ? sqlite3_errmsg(dst) : "out of memory");
		goto out;
	}
	rc = db_exec(src, "BEGIN", e);
	if (!rc)   /* the read transaction, and so the snapshot, starts here */
		rc = db_query_int(src, "SELECT count(*) FROM sqlite_master", &n, e);
	if (rc) {
		err_prefix(e, "%s", src_path);
		goto out;
	}
	rc = copy_pages(src, dst, tmp, &got, e);
	db_exec(src, "COMMIT", NULL);
	if (!rc)
		rc = db_exec(dst, "PRAGMA synchronous = FULL", e);
	if (!rc)
		rc = check_copy(dst, tmp, e);
	if (!rc)
		rc = db_query_int(dst, "PRAGMA page_size", &got.page_size, e);
	if (rc)
		goto out;
	if (sqlite3_close(dst) != SQLITE_OK) {
		rc = db_fail(dst, e, tmp);
		goto out;
	}
	dst = NULL;
	rc = fsync_path(tmp, 0, e);
	if (!rc)
		rc = put_in_place(tmp, dest_path, flags & DB_BACKUP_FORCE, e);
	if (!rc)
		rc = fsync_path(dir, 1, e);
	if (!rc && stats)
		*stats = got;
out:
	sqlite3_close(dst);
	sqlite3_close(src);
	if (rc) {
		unlink(tmp);
		/* what SQLite may have made beside it */
		for (const char *const *suffix = (const char *const[]){ "-journal", "-wal", "-shm", NULL };
		     *suffix; suffix++) {
			char side[4200];

			snprintf(side, sizeof(side), "%s%s", tmp, *suffix);
			unlink(side);
		}
	}
	return rc;
}
