/*
 * comments.c - the comments inbox's queries (see comments.h).  A comment
 * is a response with a row in comments_fts: the index holds exactly the
 * responses with a comment or a chosen reason (db/db.c's triggers), so it
 * is also the inbox's list.
 */
#include "comments.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../db/db.h"
#include "../lib/fold.h"
#include "../lib/utf8.h"
#include "../responses/response.h"

int comments_match_query(const char *words, struct strbuf *out)
{
	size_t n = words ? strlen(words) : 0, len;
	char *folded = fold_text(words ? words : "", n, &len);
	int in_word = 0;

	strbuf_reset(out);
	if (!folded)
		return ERR_NOMEM;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)folded[i];
		/* after folding a Vietnamese word is ASCII; other scripts' bytes
		 * stay in the word, and FTS5's tokenizer reads them */
		int word = c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (word && !in_word)
			strbuf_addstr(out, out->len ? " \"" : "\"");
		else if (!word && in_word)
			strbuf_addch(out, '"');
		if (word)
			strbuf_addch(out, c);
		in_word = word;
	}
	if (in_word)
		strbuf_addch(out, '"');
	free(folded);
	return out->failed ? ERR_NOMEM : 0;
}

/* The byte of the overall answer (the last item of answers): 0 for none,
 * else the value - the scale's minimum + 1; instr on blobs counts bytes,
 * and a scale has at most 11 points. */
#define OVERALL_BYTE "instr(x'0102030405060708090A0B', substr(r.answers, -1, 1))"

static const char list_head[] =
	"SELECT r.id, r.ts, a.code, a.name, s.code, s.name, r.channel, d.counter, " OVERALL_BYTE ", "
	"  json_extract(f.json, '$.scale.min'), "
	"  json_extract(f.json, '$.scale.labels.vi[' || (" OVERALL_BYTE " - 1) || ']'), "
	"  json_extract(f.json, '$.scale.labels.en[' || (" OVERALL_BYTE " - 1) || ']'), r.comment, "
	"  (SELECT json_group_array(json_object('code', value, 'vi', label_vi, 'en', label_en)) "
	"     FROM response_reasons WHERE response_id = r.id), n.handled_at, n.handled_by, n.note "
	"FROM responses r JOIN agencies a ON a.id = r.agency_id JOIN sectors s ON s.id = r.sector_id "
	"  JOIN forms f ON f.id = r.form_id LEFT JOIN devices d ON d.id = r.device_id "
	"  LEFT JOIN comment_notes n ON n.response_id = r.id "
	"WHERE " SCOPE_SQL("r.agency_id") " AND " DB_VISIBLE("r") " "
	"  AND (:from IS NULL OR r.day >= :from) AND (:to IS NULL OR r.day <= :to) "
	"  AND (:agency IS NULL OR a.code = :agency) AND (:sector IS NULL OR s.code = :sector) "
	"  AND (:rating IS NULL OR (" OVERALL_BYTE " > 0 AND json_extract(f.json, '$.scale.min') + "
	OVERALL_BYTE " - 1 = :rating)) "
	"  AND (:before IS NULL OR (r.ts, r.id) < (SELECT ts, id FROM responses WHERE id = :before)) ";
/* one of these follows: the index alone, or a search in it */
static const char list_all[] =
	"  AND r.id IN (SELECT rowid FROM comments_fts) ORDER BY r.ts DESC, r.id DESC LIMIT :limit";
static const char list_match[] =
	"  AND r.id IN (SELECT rowid FROM comments_fts WHERE comments_fts MATCH :match) "
	"ORDER BY r.ts DESC, r.id DESC LIMIT :limit";

static void bind_text(sqlite3_stmt *st, const char *name, const char *value)
{
	int i = sqlite3_bind_parameter_index(st, name);

	if (value && *value)
		sqlite3_bind_text(st, i, value, -1, SQLITE_TRANSIENT);
}

static void bind_int(sqlite3_stmt *st, const char *name, long long value)
{
	if (value)
		sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, name), value);
}

static const char *text_of(sqlite3_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(st, col);
}

int comments_list(sqlite3 *db, const struct scope *s, const struct comments_filter *f,
		  int (*fn)(const struct comments_row *row, void *arg), void *arg, struct err *e)
{
	struct strbuf match = STRBUF_INIT, sql = STRBUF_INIT;
	sqlite3_stmt *st = NULL;
	int rc, step;

	rc = comments_match_query(f->words, &match);
	if (!rc) {
		strbuf_addstr(&sql, list_head);
		strbuf_addstr(&sql, match.len ? list_match : list_all);
		rc = sql.failed ? ERR_NOMEM : 0;
	}
	if (rc) {
		err_set(e, ERR_NOMEM, "out of memory reading the comments");
		goto out;
	}
	if ((rc = db_prepare(db, strbuf_str(&sql), &st, e)) != 0)
		goto out;
	scope_bind(st, s);
	bind_int(st, ":from", f->from_day);
	bind_int(st, ":to", f->to_day);
	bind_text(st, ":agency", f->agency);
	bind_text(st, ":sector", f->sector);
	bind_int(st, ":rating", f->rating);
	bind_int(st, ":before", f->before);
	sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":limit"), f->limit > 0 ? f->limit : -1);
	if (match.len)
		bind_text(st, ":match", strbuf_str(&match));
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		int byte = sqlite3_column_int(st, 8);
		struct comments_row row = {
			.id = sqlite3_column_int64(st, 0), .ts = sqlite3_column_int64(st, 1),
			.agency = text_of(st, 2), .agency_name = text_of(st, 3), .sector = text_of(st, 4),
			.sector_name = text_of(st, 5), .channel = response_channel_name(sqlite3_column_int(st, 6)),
			.counter = text_of(st, 7), .rating = byte ? sqlite3_column_int(st, 9) + byte - 1 : 0,
			.rating_vi = text_of(st, 10), .rating_en = text_of(st, 11), .comment = text_of(st, 12),
			.reasons = text_of(st, 13), .handled_at = sqlite3_column_int64(st, 14),
			.handled_by = text_of(st, 15), .note = text_of(st, 16),
		};

		if ((rc = fn(&row, arg)) != 0)
			goto out;
	}
	if (step != SQLITE_DONE)
		rc = db_fail(db, e, "reading the comments");
out:
	sqlite3_finalize(st);
	strbuf_release(&match);
	strbuf_release(&sql);
	return rc;
}

int comments_in_scope(sqlite3 *db, const struct scope *s, long long id, char agency[65], struct err *e)
{
	sqlite3_stmt *st = NULL;
	int step, in = -1;

	if (db_prepare(db, "SELECT a.code FROM responses r JOIN agencies a ON a.id = r.agency_id "
		       "WHERE r.id = ?1 AND r.id IN (SELECT rowid FROM comments_fts WHERE rowid = ?1) AND "
		       DB_VISIBLE("r") " AND " SCOPE_SQL("r.agency_id"), &st, e) != 0)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	scope_bind(st, s);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		snprintf(agency, 65, "%s", text_of(st, 0));
		in = 1;
	} else if (step == SQLITE_DONE) {
		in = 0;
	} else {
		db_fail(db, e, "reading a comment");
	}
	sqlite3_finalize(st);
	return in;
}

int comments_mark_handled(sqlite3 *db, const struct scope *s, long long id, const char *login,
			  const char *note, long long now, struct err *e)
{
	sqlite3_stmt *st = NULL;
	char agency[65];
	size_t n = note ? strlen(note) : 0;
	int in, rc = 0;

	if (n == 0 || n > COMMENTS_NOTE_MAX || !utf8_valid(note, n))
		return err_set_field(e, ERR_INVALID, "note", "the note is 1 to " COMMENTS_NOTE_MAX_TEXT
				     " bytes of text, saying what was done");
	in = comments_in_scope(db, s, id, agency, e);
	if (in < 0)
		return ERR_DB;
	if (!in)
		return err_set(e, ERR_NOT_FOUND, "no such comment");
	if ((rc = db_prepare(db, "INSERT INTO comment_notes(response_id, handled_at, handled_by, note) "
			     "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (response_id) DO UPDATE SET "
			     "handled_at = excluded.handled_at, handled_by = excluded.handled_by, note = excluded.note",
			     &st, e)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_text(st, 3, login, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, note, (int)n, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db, e, "marking a comment handled");
	sqlite3_finalize(st);
	return rc;
}
