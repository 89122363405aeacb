/*
 * backup.h - a consistent copy of a live database (sipas backup) with
 * SQLite's online backup API, while the collector keeps writing to it.
 */
#ifndef SIPAS_BACKUP_H
#define SIPAS_BACKUP_H

#include "../lib/err.h"

enum db_backup_flags {
	DB_BACKUP_FORCE = 1   /* replace dest_path if it exists */
};

/* What a backup copied. */
struct db_backup_stats {
	long long pages;
	long long page_size;
};

/* Copy the database at src_path to dest_path as of one moment (the start of
 * the copy): ratings committed after it are not in the copy.  The copy is
 * written to dest_path.tmp, checked (PRAGMA quick_check), fsynced and only
 * then renamed to dest_path, so a file named dest_path is always a whole,
 * readable database.  Without DB_BACKUP_FORCE an existing dest_path is never
 * replaced (ERR_CONFLICT), even one created while the copy ran.  stats
 * (may be NULL) is filled on success.  The source is only read. */
int db_backup(const char *src_path, const char *dest_path, int flags, struct db_backup_stats *stats,
	      struct err *e);

#endif
