/*
 * comments.h - the comments inbox (docs/monitoring.md, "Comments"): every
 * free-text comment and every reason chosen in a follow-up (the kiosk's
 * "why not satisfied"), per agency, newest first, searchable by words
 * without diacritics (the comments_fts index of db/db.c, folded by
 * lib/fold.h), and marking one handled with a note.  Who may see what is
 * the caller's scope (office/scope.h), applied in every query; the audit
 * entry of a mark is the caller's, in the same transaction.
 */
#ifndef SIPAS_COMMENTS_H
#define SIPAS_COMMENTS_H

#include <stdint.h>
#include <sqlite3.h>

#include "../db/db.h"
#include "../lib/err.h"
#include "../lib/strbuf.h"
#include "../office/scope.h"

#define COMMENTS_NOTE_MAX 1000     /* bytes in a handled note */
#define COMMENTS_NOTE_MAX_TEXT DB_STRINGIFY(COMMENTS_NOTE_MAX)  /* "1000", for messages */
#define COMMENTS_WORDS_MAX 200     /* bytes in a search */

/* Which comments comments_list reads: every condition set must hold. */
struct comments_filter {
	int32_t from_day, to_day;  /* Vietnam days, inclusive; 0: no bound */
	const char *agency;        /* an agency code; NULL: every agency of the scope */
	const char *sector;        /* a sector code; NULL: any */
	int rating;                /* the overall answer on its form's scale; 0: any */
	const char *words;         /* words to find, as a user typed them; NULL or "": any */
	long long before;          /* the id of the last row of the previous page; 0: from the newest */
	long long limit;           /* at most this many rows; 0: all */
};

/* One comment as comments_list reads it; strings borrowed for the
 * callback only, NULL when absent. */
struct comments_row {
	long long id;              /* responses.id */
	long long ts;              /* when the citizen rated, Unix seconds */
	const char *agency, *agency_name, *sector, *sector_name;
	const char *channel;       /* "kiosk", "phone", "paper", ... */
	const char *counter;       /* the kiosk's counter; NULL for the other channels */
	int rating;                /* the overall answer; 0: not answered */
	const char *rating_vi, *rating_en;  /* its label on the form's scale */
	const char *comment;       /* the citizen's text */
	const char *reasons;       /* JSON [{"code","vi","en"}] of the follow-up reasons chosen */
	long long handled_at;      /* 0: not handled */
	const char *handled_by, *note;
};

/* The FTS5 query that finds words (user text, any bytes) in comments_fts:
 * folded (fold_text), cut into words at every ASCII character that is not
 * a letter or a digit, each word quoted as an FTS5 string, all required.
 * out gets "" when words holds no word (then nothing is filtered).  0, or
 * ERR_NOMEM. */
int comments_match_query(const char *words, struct strbuf *out);

/* Call fn for each comment in scope s that f lets through, newest first
 * (the rating's time, then the id), one at a time; a non-zero return of fn
 * stops the walk and is returned.  0, or ERR_DB with e filled. */
int comments_list(sqlite3 *db, const struct scope *s, const struct comments_filter *f,
		  int (*fn)(const struct comments_row *row, void *arg), void *arg, struct err *e);

/* The agency code of comment id (borrowed into agency, at least 65 bytes)
 * when it is a comment in scope s: 1, or 0 when it is not (another
 * agency's, not a comment, no such response: a caller answers all the same
 * way), -1 with e filled when the database fails. */
int comments_in_scope(sqlite3 *db, const struct scope *s, long long id, char agency[65], struct err *e);

/* Mark comment id handled by login at now with note (1 to
 * COMMENTS_NOTE_MAX bytes of UTF-8), replacing an earlier mark.  Runs in
 * the caller's write transaction.  0; ERR_NOT_FOUND when id is not a
 * comment in scope s; ERR_INVALID (field "note") for a bad note; ERR_DB. */
int comments_mark_handled(sqlite3 *db, const struct scope *s, long long id, const char *login,
			  const char *note, long long now, struct err *e);

#endif
