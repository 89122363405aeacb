/*
 * test_comments.c - the comments inbox (docs/monitoring.md, "Comments"):
 * folding text for search (lib/fold.h), the search over every comment and
 * unhappy reason whichever way it was stored (import, kiosk post, schema 9
 * rows: test_db.c), FTS5 syntax typed by a user, each agency seeing and
 * marking only its own comments by every route, the handled mark in the
 * audit log, the CSV export's formula safety, and the quarterly report's
 * section that counts comments and prints none.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include <sqlite3.h>

#include "test.h"
#include "../lib/fold.h"

/* ---- folding ---- */

static void folds_vietnamese_letters_marks_and_d(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "Thái độ công chức", "thai do cong chuc" },
		{ "ĐẤT ĐAI", "dat dai" },
		{ "đất đai", "dat dai" },
		{ "Phải chờ đợi lâu", "phai cho doi lau" },
		/* every lower-case Vietnamese letter with a mark, then the upper case */
		{ "àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ",
		  "aaaaaaaaaaaaaaaaaeeeeeeeeeeeiiiiiooooooooooooooooouuuuuuuuuuuyyyyyd" },
		{ "ÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬÈÉẺẼẸÊỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢÙÚỦŨỤƯỪỨỬỮỰỲÝỶỸỴĐ",
		  "aaaaaaaaaaaaaaaaaeeeeeeeeeeeiiiiiooooooooooooooooouuuuuuuuuuuyyyyyd" },
		/* decomposed: the letter, then its combining marks (U+0301, U+0323 U+0302) */
		{ "Tha\xCC\x81i \xC4\x91o\xCC\xA3\xCC\x82", "thai do" },
		/* Latin-1 and Extended-A letters beyond Vietnamese; others kept */
		{ "Ñ ç Ü Ł", "n c u Ł" },
		{ "ß æ 中文 123 - \"*\"", "ß æ 中文 123 - \"*\"" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len;
		char *out = fold_text(cases[i].in, strlen(cases[i].in), &len);

		CHECK(out != NULL);
		CHECK_STR(out, cases[i].out);
		CHECK_INT(len, strlen(cases[i].out));
		free(out);
	}
}

/* Bytes that are not UTF-8 (and a NUL) become U+FFFD, one per byte, and
 * the rest of the text is folded as usual. */
static void replaces_invalid_utf8_and_nul(void)
{
	static const struct {
		const char *in;
		size_t n;
		const char *out;
	} cases[] = {
		{ "A\xFF" "B", 3, "a\xEF\xBF\xBD" "b" },
		{ "\xC3", 1, "\xEF\xBF\xBD" },                        /* cut short */
		{ "\xC0\x80", 2, "\xEF\xBF\xBD\xEF\xBF\xBD" },        /* overlong NUL */
		{ "\xED\xA0\x80", 3, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" }, /* a surrogate */
		{ "\xC4\x90" "a\0b", 5, "da\xEF\xBF\xBD" "b" },
		{ "", 0, "" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len;
		char *out = fold_text(cases[i].in, cases[i].n, &len);

		CHECK(out != NULL);
		CHECK_STR(out, cases[i].out);
		CHECK_INT(len, strlen(cases[i].out));
		free(out);
	}
}

/* ---- a database with comments, and its server ---- */

/* Survey comments of P-HONGBANG and P-LECHAN and kiosk reasons, imported
 * (the default registry); the accounts office1, hb1 (agency P-HONGBANG),
 * view1 (viewer of P-HONGBANG). */
static const char survey_csv[] =
	"response_id,submitted_at,agency,sector,channel,overall,comment\n"
	"s1,2026-08-03T09:00:00+07:00,P-HONGBANG,dat-dai,phone,2,Thái độ công chức chưa tốt\n"
	"s2,2026-08-04T09:00:00+07:00,P-HONGBANG,dat-dai,paper,4,Hồ sơ đất đai được giải quyết nhanh\n"
	"s3,2026-08-05T09:00:00+07:00,P-LECHAN,xay-dung,phone,1,Lê Chân: bí mật của Bê\n"
	"s4,2026-08-06T09:00:00+07:00,P-HONGBANG,dat-dai,phone,3,\"=HYPERLINK(\"\"http://x\"\")\"\n"
	"s5,2026-08-07T09:00:00+07:00,P-HONGBANG,dat-dai,phone,3,+84 912\n"
	"s6,2026-08-08T09:00:00+07:00,P-HONGBANG,dat-dai,phone,3,@cmd\n"
	"s7,2026-08-09T09:00:00+07:00,P-HONGBANG,dat-dai,phone,5,\n";
static const char kiosk_csv[] =
	"response_id,submitted_at,agency,sector,channel,overall,reason\n"
	"k1,2026-08-10T10:00:00+07:00,P-HONGBANG,dat-dai,kiosk,1,long-wait\n"
	"k2,2026-08-11T10:00:00+07:00,P-LECHAN,xay-dung,kiosk,1,staff-attitude\n"
	"k3,2026-08-12T10:00:00+07:00,P-HONGBANG,dat-dai,kiosk,3,\n";

static int init_with_comments(void)
{
	return sipas_run(NULL, "init", NULL)->status != 0 ||
	       sipas_run(survey_csv, "import", "--form", "sipas-2017", "-", NULL)->status != 0 ||
	       sipas_run(kiosk_csv, "import", "--form", "kiosk-2018", "-", NULL)->status != 0 ||
	       console_add_user("sipas.db", "office1", "office", NULL, "correct horse battery") != 0 ||
	       console_add_user("sipas.db", "hb1", "agency", "P-HONGBANG", "hong bang password") != 0 ||
	       console_add_user("sipas.db", "view1", "viewer", "P-HONGBANG", "viewer one password") != 0 ? -1 : 0;
}

/* GET path as c: the reply's JSON (new reference), NULL unless 200. */
static json_t *get_json(const struct test_server *s, const struct console_client *c, const char *path)
{
	struct http_result h;
	json_t *doc = NULL;

	if (console_request(s, c, 0, "GET", path, NULL, &h) == 200)
		doc = json_loads(h.body, 0, NULL);
	else
		fprintf(stderr, "GET %s: %ld %s\n", path, h.status, h.body);
	free(h.body);
	return doc;
}

/* How many comments GET path lists. -1 unless 200. */
static long listed(const struct test_server *s, const struct console_client *c, const char *path)
{
	json_t *doc = get_json(s, c, path);
	long n = doc ? (long)json_array_size(json_object_get(doc, "comments")) : -1;

	json_decref(doc);
	return n;
}

/* The id of the comment whose response_id is rid. */
static long long comment_id(const char *rid)
{
	char sql[160];

	snprintf(sql, sizeof(sql), "SELECT id FROM responses WHERE response_id = '%s'", rid);
	return test_db_int("sipas.db", sql);
}

/* Words without diacritics find the comments and the reasons' labels, of
 * an import; what a user types is never FTS5 syntax. */
static void search_finds_words_without_diacritics(void)
{
	struct console_client c;
	struct test_server s;
	json_t *doc;

	CHECK_INT(init_with_comments(), 0);
	CHECK_INT(test_server_start(&s, "sipas.db", NULL), 0);
	CHECK_INT(console_sign_in(&s, "office1", "correct horse battery", &c), 0);
	/* every comment and reason, newest first; a rating without either is none */
	doc = get_json(&s, &c, "/console/api/comments");
	CHECK(doc != NULL);
	CHECK_INT(json_array_size(json_object_get(doc, "comments")), 8);
	CHECK(!json_string_value(json_object_get(json_array_get(json_object_get(doc, "comments"), 0), "comment")));
	CHECK_INT(json_integer_value(json_object_get(json_array_get(json_object_get(doc, "comments"), 0), "id")),
		  comment_id("k2"));
	json_decref(doc);
	doc = get_json(&s, &c, "/console/api/comments?q=thai%20do");
	CHECK(doc != NULL);
	/* the comment, and the kiosk reason "Thái độ của công chức" */
	CHECK_INT(json_array_size(json_object_get(doc, "comments")), 2);
	CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(doc, "comments"), 1), "comment")),
		  "Thái độ công chức chưa tốt");
	json_decref(doc);
	doc = get_json(&s, &c, "/console/api/comments?q=dat%20dai");
	CHECK(doc != NULL);
	CHECK_INT(json_array_size(json_object_get(doc, "comments")), 1);
	CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(doc, "comments"), 0), "comment")),
		  "Hồ sơ đất đai được giải quyết nhanh");
	json_decref(doc);
	/* a reason is found by its label in either language */
	doc = get_json(&s, &c, "/console/api/comments?q=cho%20lau");
	CHECK(doc != NULL);
	CHECK_INT(json_array_size(json_object_get(doc, "comments")), 1);
	CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(json_array_get(
		  json_object_get(doc, "comments"), 0), "reasons"), 0), "vi")), "Phải chờ đợi lâu");
	json_decref(doc);
	CHECK_INT(listed(&s, &c, "/console/api/comments?q=LONG%20WAIT"), 1);
	CHECK_INT(listed(&s, &c, "/console/api/comments?q=THÁI%20ĐỘ"), 2);
	/* FTS5's syntax typed by a user is only words */
	CHECK_INT(listed(&s, &c, "/console/api/comments?q=%22thai%20do%22"), 2);
	CHECK_INT(listed(&s, &c, "/console/api/comments?q=thai*"), 2);
	CHECK_INT(listed(&s, &c, "/console/api/comments?q=%22thai"), 2);
	CHECK_INT(listed(&s, &c, "/console/api/comments?q=NEAR(thai%20do)"), 0);
	CHECK_INT(listed(&s, &c, "/console/api/comments?q=thai%20OR%20dat"), 0);
	CHECK_INT(listed(&s, &c, "/console/api/comments?q=-thai"), 2);
	CHECK_INT(listed(&s, &c, "/console/api/comments?q=%2A"), 8);
	CHECK_INT(listed(&s, &c, "/console/api/comments?q=%22%22%22%20%5E%3A"), 8);
	/* the other filters */
	CHECK_INT(listed(&s, &c, "/console/api/comments?rating=1"), 3);
	CHECK_INT(listed(&s, &c, "/console/api/comments?sector=xay-dung"), 2);
	CHECK_INT(listed(&s, &c, "/console/api/comments?agency=P-LECHAN"), 2);
	CHECK_INT(listed(&s, &c, "/console/api/comments?from=2026-08-05&to=2026-08-06"), 2);
	CHECK_INT(listed(&s, &c, "/console/api/comments?period=2026Q3"), 8);
	CHECK_INT(listed(&s, &c, "/console/api/comments?period=2026Q4"), 0);
	CHECK_INT(test_server_stop(&s), 0);
}

/* A page ends with the id that the next one starts before. */
static void pages_follow_one_another(void)
{
	struct console_client c;
	struct test_server s;
	char path[128];
	long long seen = 0, next;
	int pages = 0;

	CHECK_INT(init_with_comments(), 0);
	CHECK_INT(test_server_start(&s, "sipas.db", NULL), 0);
	CHECK_INT(console_sign_in(&s, "office1", "correct horse battery", &c), 0);
	snprintf(path, sizeof(path), "/console/api/comments?limit=3");
	for (;;) {
		json_t *doc = get_json(&s, &c, path);

		CHECK(doc != NULL);
		seen += (long long)json_array_size(json_object_get(doc, "comments"));
		pages++;
		next = json_integer_value(json_object_get(doc, "next"));
		json_decref(doc);
		if (!next)
			break;
		snprintf(path, sizeof(path), "/console/api/comments?limit=3&before=%lld", next);
	}
	CHECK_INT(seen, 8);
	CHECK_INT(pages, 3);
	CHECK_INT(test_server_stop(&s), 0);
}

/* A rating posted by a kiosk with its reason is searchable at once, with
 * its counter. */
static void a_kiosk_reason_is_searchable_with_its_counter(void)
{
	const struct cmd_result *r;
	struct console_client c;
	struct test_server s;
	struct http_result h;
	char token[160], body[512], when[32];
	time_t now = time(NULL);
	struct tm tm;
	json_t *doc;
	char *text;
	sqlite3 *db;

	CHECK_INT(init_with_comments(), 0);
	r = sipas_run(NULL, "device", "add", "--agency", "P-HONGBANG", "--counter", "Quầy 7", "--sector", "dat-dai",
		      NULL);
	CHECK_INT(r->status, 0);
	snprintf(token, sizeof(token), "%.*s", (int)strcspn(r->out, "\n"), r->out);
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(body, sizeof(body), "{\"response_id\":\"kp-1\",\"form\":\"kiosk-2018\",\"agency\":\"P-HONGBANG\","
		 "\"sector\":\"dat-dai\",\"submitted_at\":\"%s\",\"answers\":{\"overall\":1,\"reason\":\"late-result\"}}",
		 when);
	CHECK_INT(test_server_start(&s, "sipas.db", NULL), 0);
	CHECK_INT(test_request(&s, "POST", "/api/responses", token, body, &h), 201);
	free(h.body);
	CHECK_INT(console_sign_in(&s, "hb1", "hong bang password", &c), 0);
	/* the kiosk that posted it, as schema 10 keeps it (the collector
	 * stores it with the rating; set here if this build does not) */
	CHECK_INT(sqlite3_open("sipas.db", &db), SQLITE_OK);
	CHECK_INT(sqlite3_exec(db, "UPDATE responses SET device_id = (SELECT id FROM devices WHERE counter = 'Quầy 7') "
			       "WHERE response_id = 'kp-1' AND device_id IS NULL", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	doc = get_json(&s, &c, "/console/api/comments?q=tra%20ket%20qua%20tre");
	CHECK(doc != NULL);
	CHECK_INT(json_array_size(json_object_get(doc, "comments")), 1);
	text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	CHECK(text != NULL);
	CHECK_CONTAINS(text, "\"counter\":\"Quầy 7\"");
	CHECK_CONTAINS(text, "\"channel\":\"kiosk\"");
	free(text);
	CHECK_INT(test_server_stop(&s), 0);
}

/* A refused import leaves nothing in the search, whole or not at all like
 * its rows. */
static void a_refused_import_leaves_nothing_searchable(void)
{
	const struct cmd_result *r;
	long long before;

	CHECK_INT(init_with_comments(), 0);
	before = test_db_int("sipas.db", "SELECT count(*) FROM comments_fts");
	CHECK_INT(before, 8);
	r = sipas_run("response_id,submitted_at,agency,sector,channel,overall,comment\n"
		      "n1,2026-08-03,P-HONGBANG,dat-dai,phone,2,Một ý kiến mới về thủ tục\n"
		      "n2,2026-08-03,NO-SUCH,dat-dai,phone,2,Ý kiến của một cơ quan không có\n",
		      "import", "--form", "sipas-2017", "-", NULL);
	CHECK_INT(r->status, 1);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM comments_fts"), before);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM comments_fts WHERE comments_fts MATCH '\"thu\" \"tuc\"'"),
		  0);
}

/* Without sipas's functions (the sqlite3 shell) responses are read, but a
 * write is refused whole, naming the function, rather than leaving the
 * search behind. */
static void a_write_without_sipas_fold_is_refused(void)
{
	sqlite3_stmt *st = NULL;
	sqlite3 *db;

	CHECK_INT(init_with_comments(), 0);
	CHECK_INT(sqlite3_open("sipas.db", &db), SQLITE_OK);
	CHECK_INT(sqlite3_prepare_v2(db, "SELECT count(*) FROM responses", -1, &st, NULL), SQLITE_OK);
	CHECK_INT(sqlite3_step(st), SQLITE_ROW);
	sqlite3_finalize(st);
	CHECK(sqlite3_exec(db, "INSERT INTO responses(form_id, response_id, ts, day, agency_id, sector_id, channel, "
			   "stratum_id, weight, answers, choices, comment, digest) SELECT form_id, 'shell-1', ts, day, "
			   "agency_id, sector_id, channel, stratum_id, weight, answers, choices, 'từ sqlite3', digest "
			   "FROM responses LIMIT 1", NULL, NULL, NULL) != SQLITE_OK);
	CHECK_CONTAINS(sqlite3_errmsg(db), "sipas_fold");
	sqlite3_close(db);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM responses WHERE response_id = 'shell-1'"), 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM comments_fts"), 8);
}

/* ---- who may see and mark what ---- */

/* An agency user lists, exports and marks only its agency's comments:
 * another's is refused by every route, naming nothing of it; a viewer
 * marks nothing. */
static void an_agency_reaches_no_other_agencys_comments(void)
{
	struct console_client hb, view;
	struct test_server s;
	struct http_result h;
	char path[96];
	long long theirs = comment_id("s3");

	CHECK_INT(init_with_comments(), 0);
	theirs = comment_id("s3");
	CHECK(theirs > 0);
	CHECK_INT(test_server_start(&s, "sipas.db", NULL), 0);
	CHECK_INT(console_sign_in(&s, "hb1", "hong bang password", &hb), 0);
	CHECK_INT(console_sign_in(&s, "view1", "viewer one password", &view), 0);
	CHECK_INT(listed(&s, &hb, "/console/api/comments"), 6);
	CHECK_INT(listed(&s, &hb, "/console/api/comments?q=bi%20mat"), 0);
	CHECK_INT(listed(&s, &view, "/console/api/comments"), 6);
	CHECK_INT(console_request(&s, &hb, 0, "GET", "/console/api/comments?agency=P-LECHAN", NULL, &h), 403);
	CHECK(!strstr(h.body, "Lê Chân"));
	free(h.body);
	CHECK_INT(console_request(&s, &hb, 0, "GET", "/console/api/comments.csv?agency=P-LECHAN", NULL, &h), 403);
	free(h.body);
	CHECK_INT(console_request(&s, &hb, 0, "GET", "/console/api/comments.csv", NULL, &h), 200);
	CHECK(!strstr(h.body, "Lê Chân"));
	CHECK(!strstr(h.body, "P-LECHAN"));
	CHECK_CONTAINS(h.body, "Thái độ công chức chưa tốt");
	free(h.body);
	snprintf(path, sizeof(path), "/console/api/comments/%lld/handled", theirs);
	CHECK_INT(console_request(&s, &hb, 1, "POST", path, "{\"note\":\"seen\"}", &h), 403);
	CHECK(!strstr(h.body, "Lê Chân") && !strstr(h.body, "P-LECHAN"));
	free(h.body);
	/* one that does not exist is answered the same */
	CHECK_INT(console_request(&s, &hb, 1, "POST", "/console/api/comments/99999/handled", "{\"note\":\"seen\"}",
				  &h), 403);
	free(h.body);
	snprintf(path, sizeof(path), "/console/api/comments/%lld/handled", comment_id("s1"));
	CHECK_INT(console_request(&s, &view, 1, "POST", path, "{\"note\":\"seen\"}", &h), 403);
	free(h.body);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM comment_notes"), 0);
	/* the refusals are in the audit log, the comment's agency is not */
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM audit WHERE action = 'comment.handled' AND "
			      "outcome <> 'ok' AND subject NOT LIKE '%LECHAN%'"), 3);
	CHECK_INT(test_server_stop(&s), 0);
}

/* An agency user marks its comment handled with a note: in the audit log,
 * in the same transaction, and shown with the comment; a bad note is
 * refused and nothing stored. */
static void handled_is_audited_and_shown(void)
{
	struct console_client hb;
	struct test_server s;
	struct http_result h;
	char path[96];
	json_t *doc, *handled;

	CHECK_INT(init_with_comments(), 0);
	CHECK_INT(test_server_start(&s, "sipas.db", NULL), 0);
	CHECK_INT(console_sign_in(&s, "hb1", "hong bang password", &hb), 0);
	snprintf(path, sizeof(path), "/console/api/comments/%lld/handled", comment_id("s1"));
	CHECK_INT(console_request(&s, &hb, 1, "POST", path, "{\"note\":\"\"}", &h), 400);
	CHECK_CONTAINS(h.body, "\"field\":\"note\"");
	free(h.body);
	CHECK_INT(console_request(&s, &hb, 1, "POST", path, "{\"nota\":\"x\"}", &h), 400);
	free(h.body);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM comment_notes"), 0);
	CHECK_INT(console_request(&s, &hb, 1, "POST", path, "{\"note\":\"Đã gọi điện xin lỗi công dân\"}", &h), 200);
	free(h.body);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM audit WHERE action = 'comment.handled' AND "
			      "actor = 'hb1' AND outcome = 'ok' AND subject LIKE 'comment % (P-HONGBANG)'"), 1);
	CHECK_INT(sipas_run(NULL, "audit", "verify", NULL)->status, 0);
	doc = get_json(&s, &hb, "/console/api/comments?q=thai%20do%20cong%20chuc%20chua");
	CHECK(doc != NULL);
	handled = json_object_get(json_array_get(json_object_get(doc, "comments"), 0), "handled");
	CHECK_STR(json_string_value(json_object_get(handled, "by")), "hb1");
	CHECK_STR(json_string_value(json_object_get(handled, "note")), "Đã gọi điện xin lỗi công dân");
	json_decref(doc);
	CHECK_INT(test_server_stop(&s), 0);
}

/* The CSV export: every row of the filter, a header, and no cell a
 * spreadsheet would run as a formula. */
static void the_export_is_formula_safe(void)
{
	struct console_client c;
	struct test_server s;
	struct http_result h;

	CHECK_INT(init_with_comments(), 0);
	CHECK_INT(test_server_start(&s, "sipas.db", NULL), 0);
	CHECK_INT(console_sign_in(&s, "office1", "correct horse battery", &c), 0);
	CHECK_INT(console_request(&s, &c, 0, "GET", "/console/api/comments.csv?agency=P-HONGBANG", NULL, &h), 200);
	CHECK_CONTAINS(h.headers, "text/csv");
	CHECK_CONTAINS(h.body, "id,submitted_at,agency,sector,counter,channel,rating,reasons,comment,handled_at,"
			       "handled_by,note\r\n");
	CHECK_CONTAINS(h.body, ",\"'=HYPERLINK(\"\"http://x\"\")\",");
	CHECK_CONTAINS(h.body, ",'+84 912,");
	CHECK_CONTAINS(h.body, ",'@cmd,");
	CHECK_CONTAINS(h.body, "Phải chờ đợi lâu");
	CHECK(!strstr(h.body, ",=") && !strstr(h.body, ",+") && !strstr(h.body, ",@"));
	CHECK(!strstr(h.body, "Lê Chân"));
	free(h.body);
	CHECK_INT(test_server_stop(&s), 0);
}

/* ---- the quarterly report ---- */

/* The report says how many comments the quarter has and counts the
 * reasons, and prints no citizen's text. */
static void the_report_counts_comments_without_their_text(void)
{
	const char *section;
	char *html;

	CHECK_INT(init_with_comments(), 0);
	CHECK_INT(sipas_run(NULL, "report", "--period", "2026Q3", "--out", "rep", NULL)->status, 0);
	html = test_read("rep/index.html");
	CHECK(html != NULL);
	CHECK_CONTAINS(html, "Ý kiến của người dân");
	CHECK_CONTAINS(html, "Citizens&#39; comments");
	section = strstr(html, "<section id=\"y-kien\">");
	CHECK(section != NULL);
	/* six written comments (s7 has none), two ratings with a reason */
	CHECK_CONTAINS(section, "Số ý kiến viết trong quý: <strong>6</strong>");
	CHECK_CONTAINS(section, "số đánh giá có chọn lý do chưa hài lòng: <strong>2</strong>");
	CHECK_CONTAINS(section, "Phải chờ đợi lâu <span lang=\"en\">(Long wait)</span></th><td class=\"num\">1</td>");
	CHECK_CONTAINS(section, "Thái độ của công chức");
	CHECK(!strstr(html, "Thái độ công chức chưa tốt"));
	CHECK(!strstr(html, "bí mật"));
	CHECK(!strstr(html, "HYPERLINK"));
	free(html);
}

const struct test_case comments_tests[] = {
	{ "folds_vietnamese_letters_marks_and_d", folds_vietnamese_letters_marks_and_d },
	{ "replaces_invalid_utf8_and_nul", replaces_invalid_utf8_and_nul },
	{ "search_finds_words_without_diacritics", search_finds_words_without_diacritics },
	{ "pages_follow_one_another", pages_follow_one_another },
	{ "a_kiosk_reason_is_searchable_with_its_counter", a_kiosk_reason_is_searchable_with_its_counter },
	{ "a_refused_import_leaves_nothing_searchable", a_refused_import_leaves_nothing_searchable },
	{ "a_write_without_sipas_fold_is_refused", a_write_without_sipas_fold_is_refused },
	{ "an_agency_reaches_no_other_agencys_comments", an_agency_reaches_no_other_agencys_comments },
	{ "handled_is_audited_and_shown", handled_is_audited_and_shown },
	{ "the_export_is_formula_safe", the_export_is_formula_safe },
	{ "the_report_counts_comments_without_their_text", the_report_counts_comments_without_their_text },
	{ NULL, NULL }
};
