/*
 * test_db.c - `sipas init` and the schema: migration from an empty file,
 * idempotency, refusing newer schemas, non-databases and changed forms.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "test.h"
#include "../db/db.h"
#include "../forms/builtin.h"

static void migrates_an_empty_file(void)
{
	const struct cmd_result *r;

	CHECK_INT(test_write("empty.db", ""), 0);
	r = sipas_run(NULL, "init", "--db", "empty.db", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "empty.db: schema " DB_SCHEMA_VERSION_TEXT ", 2 forms (2 new), 32 agencies, 10 sectors, 6 targets");
	CHECK_INT(test_db_int("empty.db", "PRAGMA user_version"), DB_SCHEMA_VERSION);
	CHECK_INT(test_db_int("empty.db", "SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'"), 1);
	CHECK_INT(test_db_int("empty.db", "SELECT count(*) FROM agencies WHERE code = 'SO-NNMT' "
			      "AND name = 'Sở Nông nghiệp và Môi trường'"), 1);
	CHECK_INT(test_db_int("empty.db", "SELECT count(*) FROM agencies WHERE level = 'commune'"), 16);
	CHECK_INT(test_db_int("empty.db", "SELECT count(*) FROM agencies a JOIN agencies p "
			      "ON p.id = a.parent_id WHERE p.code = 'UBND-TP'"), 28);
	CHECK_INT(test_db_int("empty.db", "SELECT count(*) FROM targets WHERE scope = 'sector' "
			      "AND threshold = 0.9"), 5);
}

static void init_is_idempotent(void)
{
	const struct cmd_result *r;
	char reg[4096];

	CHECK_INT(sipas_run(NULL, "init", NULL)->status, 0);
	r = sipas_run(NULL, "init", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "2 forms (0 new)");
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM targets"), 6);
	/* loading another registry adds its agencies and replaces the targets */
	snprintf(reg, sizeof(reg), "%s/sipas-2017-a/registry", test_fixtures());
	r = sipas_run(NULL, "init", "--registry", reg, NULL);
	CHECK_INT(r->status, 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM targets"), 7);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM agencies WHERE code = 'P-TRANLIEU'"), 1);
}

static void newer_schema_and_non_databases_are_refused(void)
{
	const struct cmd_result *r;

	CHECK_INT(sipas_run(NULL, "init", NULL)->status, 0);
	{
		sqlite3 *db;

		CHECK_INT(sqlite3_open("sipas.db", &db), SQLITE_OK);
		CHECK_INT(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
		sqlite3_close(db);
	}
	r = sipas_run(NULL, "init", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "schema version 99 is newer than this sipas understands (" DB_SCHEMA_VERSION_TEXT ")");
	r = sipas_run(NULL, "import", "--form", "sipas-2017", "-", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "schema version 99, this sipas needs " DB_SCHEMA_VERSION_TEXT);
	CHECK_INT(test_write("junk.db", "this is not a database, just some text that is long enough "
			     "to fill a header page of sqlite, more or less, and then some more text."), 0);
	r = sipas_run(NULL, "init", "--db", "junk.db", NULL);
	CHECK(r->status != 0);
	CHECK_CONTAINS(r->err, "junk.db");
	r = sipas_run(NULL, "import", "--db", "none.db", "--form", "x", "-", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "none.db: no database here (run 'sipas init' first)");
}

static void changed_form_needs_a_new_id(void)
{
	const struct cmd_result *r;
	char *changed;
	const char *orig = builtin_forms[0].data;
	const char *at = strstr(orig, "Nơi ngồi chờ có đủ chỗ ngồi");

	CHECK(at);
	CHECK_INT(sipas_run(NULL, "init", NULL)->status, 0);
	CHECK_INT(mkdir("forms", 0755), 0);
	/* same content, other whitespace: accepted as the same form */
	CHECK_INT(test_write("forms/a.json", orig), 0);
	r = sipas_run(NULL, "init", "--forms", "forms", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "(0 new)");
	changed = strdup(orig);
	memcpy(changed + (at - orig), "X", 1);
	CHECK_INT(test_write("forms/a.json", changed), 0);
	free(changed);
	r = sipas_run(NULL, "init", "--forms", "forms", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "form 'sipas-2017' is already stored with different content "
		       "(a changed questionnaire needs a new id)");
	/* a bad form file names itself and its JSON path */
	CHECK_INT(test_write("forms/a.json", "{\"id\": \"new-form\"}"), 0);
	r = sipas_run(NULL, "init", "--forms", "forms", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "sipas: forms/a.json: $: missing 'title'");
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM forms"), 2);
}

/* Make old.db from the SQL dump tests/data/NAME, as an earlier release
 * wrote it; 0 or -1. */
static int load_dump(const char *name)
{
	char path[4096], *sql;
	sqlite3 *db = NULL;
	int rc = -1;

	snprintf(path, sizeof(path), "%s/tests/data/%s", getenv("SIPAS_SOURCE"), name);
	sql = test_read(path);
	if (sql && sqlite3_open("old.db", &db) == SQLITE_OK &&
	    sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK)
		rc = 0;
	sqlite3_close(db);
	free(sql);
	return rc;
}

/* tests/data/schema-v1.sql is a version-1 database (as the first release
 * wrote it) with three fixture responses: init migrates it forward. */
static void migrates_version_1_forward(void)
{
	const struct cmd_result *r;

	CHECK_INT(load_dump("schema-v1.sql"), 0);
	CHECK_INT(test_db_int("old.db", "PRAGMA user_version"), 1);
	r = sipas_run(NULL, "score", "--db", "old.db", "--period", "2026Q3", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "old.db: schema version 1, this sipas needs " DB_SCHEMA_VERSION_TEXT " (run 'sipas init')");
	r = sipas_run(NULL, "init", "--db", "old.db", NULL);
	CHECK_INT(r->status, 0);
	CHECK_INT(test_db_int("old.db", "PRAGMA user_version"), DB_SCHEMA_VERSION);
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM responses"), 3);
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM devices"), 0);
	r = sipas_run(NULL, "score", "--db", "old.db", "--period", "2026Q3", "--format", "csv", NULL);
	CHECK_INT(r->status, 0);
}

/* Every column of every response, as text, in id order: what a migration
 * must keep. */
#define ALL_RESPONSES "SELECT group_concat(v, '|') FROM (SELECT id || ',' || form_id || ',' || " \
	"response_id || ',' || ts || ',' || day || ',' || agency_id || ',' || sector_id || ',' || " \
	"channel || ',' || coalesce(dossier_code, '-') || ',' || stratum_id || ',' || " \
	"coalesce(psu_id, '-') || ',' || weight || ',' || hex(answers) || ',' || hex(choices) || ',' || " \
	"coalesce(comment, '-') || ',' || hex(digest) AS v FROM responses ORDER BY id)"

/* `sipas init` of old.db: 0 when it says and sets the current schema and every
 * column of every response is as it was (ALL_RESPONSES), else -1 with the
 * difference on stderr. */
static int migrate_keeping_every_response(void)
{
	char *before = test_db_text("old.db", ALL_RESPONSES), *after = NULL;
	const struct cmd_result *r;
	int ok = 0;

	if (before) {
		r = sipas_run(NULL, "init", "--db", "old.db", NULL);
		ok = r->status == 0 && strstr(r->out, "old.db: schema " DB_SCHEMA_VERSION_TEXT) &&
		     test_db_int("old.db", "PRAGMA user_version") == DB_SCHEMA_VERSION;
		if (!ok)
			fprintf(stderr, "init: status %d: %s%s", r->status, r->out, r->err);
		after = test_db_text("old.db", ALL_RESPONSES);
		if (ok && (!after || strcmp(after, before) != 0)) {
			fprintf(stderr, "responses before: %s\nafter: %s\n", before, after ? after : "(none)");
			ok = 0;
		}
	}
	free(before);
	free(after);
	return ok ? 0 : -1;
}

/* tests/data/schema-v6.sql is a database as the release with schema 6
 * wrote it (sipas init, two devices, responses to both forms imported,
 * dossier totals), dumped with sqlite3 .dump.  init rebuilds the responses
 * table (ids and dossiers unique per agency, received_at) keeping every
 * row as it was. */
static void migrates_version_6_forward_keeping_every_row(void)
{
	const struct cmd_result *r;

	CHECK_INT(load_dump("schema-v6.sql"), 0);
	CHECK_INT(test_db_int("old.db", "PRAGMA user_version"), 6);
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM responses"), 7);
	CHECK_INT(migrate_keeping_every_response(), 0);
	/* the rest is as it was; the migrated rows have no reception time */
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM responses WHERE received_at IS NULL"), 7);
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM devices"), 2);
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM dossiers"), 1);
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM psus"), 2);
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check = 'ok'"), 1);
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM pragma_foreign_key_check"), 0);
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM sqlite_schema WHERE name = 'responses_by_day'"), 1);
	/* the new constraints: the same id and dossier at another agency are
	 * taken, at the same agency they are refused */
	CHECK_INT(sipas_run("response_id,submitted_at,agency,sector,dossier_code,overall\n"
			    "r2,2026-08-05,SO-XD,xay-dung,HS-1,4\n",
			    "import", "--db", "old.db", "--form", "sipas-2017", "-", NULL)->status, 0);
	r = sipas_run("response_id,submitted_at,agency,sector,dossier_code,overall\n"
		      "r2,2026-08-05,SO-YT,y-te,HS-77,4\n", "import", "--db", "old.db", "--form", "sipas-2017", "-", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "<stdin>:2: column response_id: response 'r2' is already stored with different content");
	r = sipas_run("response_id,submitted_at,agency,sector,dossier_code,overall\n"
		      "r9,2026-08-05,SO-YT,y-te,HS-1,4\n", "import", "--db", "old.db", "--form", "sipas-2017", "-", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "<stdin>:2: column dossier_code: dossier 'HS-1' already has a response");
	{
		sqlite3_stmt *st;
		sqlite3 *db;

		/* and so do the table's own constraints, whatever writes to it
		 * (with sipas's functions: the comments' triggers call one) */
		CHECK_INT(db_open("old.db", 0, &db, NULL), 0);
		CHECK_INT(sqlite3_prepare_v2(db, "INSERT INTO responses(form_id, response_id, ts, day, agency_id, "
					     "sector_id, channel, dossier_code, stratum_id, weight, answers, choices, digest) "
					     "SELECT form_id, response_id, ts, day, agency_id, sector_id, channel, "
					     "'HS-new', stratum_id, weight, answers, choices, digest FROM responses "
					     "WHERE response_id = 'r1'", -1, &st, NULL), SQLITE_OK);
		CHECK_INT(sqlite3_step(st) & 0xff, SQLITE_CONSTRAINT);
		sqlite3_finalize(st);
		sqlite3_close(db);
	}
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM responses"), 8);
	/* init again changes nothing */
	CHECK_INT(sipas_run(NULL, "init", "--db", "old.db", NULL)->status, 0);
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM responses"), 8);
}

/* tests/data/schema-v7.sql is a database as the release with schema 7
 * wrote it (the fixture registry, a kiosk, an admin token, a kiosk waiting
 * to be paired, survey and kiosk responses, dossier totals, 2026Q3
 * published), dumped with sqlite3 .dump.  init adds each kiosk's form (the
 * one kiosks posted until then), room for a staff PIN, settings and the
 * early-publication mark, keeping every row. */
static void migrates_version_7_forward_keeping_every_row(void)
{
	const struct cmd_result *r;

	CHECK_INT(load_dump("schema-v7.sql"), 0);
	CHECK_INT(test_db_int("old.db", "PRAGMA user_version"), 7);
	CHECK_INT(migrate_keeping_every_response(), 0);
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM responses"), 9);
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM devices WHERE role = 'kiosk' AND form = 'kiosk-2018'"), 2);
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM devices WHERE role = 'admin' AND form IS NULL"), 1);
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM devices WHERE pin_hash IS NULL AND pin_failures = 0"), 3);
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM published WHERE early = 0"), 2);
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM published_files"), 5);
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM settings WHERE name <> 'identity'"), 0);
	/* rows stored before imports had states are every reader's */
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM imports"), 0);
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM responses r WHERE " DB_VISIBLE("r")), 9);
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check = 'ok'"), 1);
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM pragma_foreign_key_check"), 0);
	/* the published quarter is still served as it was */
	r = sipas_run(NULL, "score", "--db", "old.db", "--period", "2026Q3", "--format", "csv", NULL);
	CHECK_INT(r->status, 0);
}

/* tests/data/schema-v8.sql is a database as the release with schema 8
 * wrote it (the fixture registry, two kiosks and an admin token, an
 * import, dossier totals, 2026Q3 published, withdrawn and published
 * again), dumped with sqlite3 .dump.  init adds the console's tables,
 * empty, and marks the publications made before as by nobody known. */
static void migrates_version_8_forward_keeping_every_row(void)
{
	CHECK_INT(load_dump("schema-v8.sql"), 0);
	CHECK_INT(test_db_int("old.db", "PRAGMA user_version"), 8);
	CHECK_INT(migrate_keeping_every_response(), 0);
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM responses r WHERE " DB_VISIBLE("r")), 5);
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM devices"), 3);
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM users"), 0);
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM sessions"), 0);
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM audit"), 0);
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM publications WHERE actor IS NULL AND audit_head IS NULL"), 3);
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM devices WHERE rated_day IS NULL AND rated_today = 0"), 3);
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check = 'ok'"), 1);
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM pragma_foreign_key_check"), 0);
	/* the published quarter is still served as it was */
	CHECK_INT(sipas_run(NULL, "score", "--db", "old.db", "--period", "2026Q3", "--format", "csv", NULL)->status, 0);
}

/* tests/data/schema-v9.sql is a database as the release with schema 9
 * wrote it (the schema 8 database above migrated, an office account with
 * its audit entry, and a phone response with a comment).  init adds the
 * monitoring's tables, empty, and keeps every rating without a counter or
 * an officer: nobody knows which kiosk posted them. */
static void migrates_version_9_forward_keeping_every_row(void)
{
	CHECK_INT(load_dump("schema-v9.sql"), 0);
	CHECK_INT(test_db_int("old.db", "PRAGMA user_version"), 9);
	CHECK_INT(migrate_keeping_every_response(), 0);
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM responses r WHERE " DB_VISIBLE("r")), 6);
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM responses WHERE device_id IS NULL AND officer_id IS NULL"), 6);
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM devices WHERE officer_id IS NULL AND heartbeat_at IS NULL "
					"AND queue_growing = 0"), 3);
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM users"), 1);
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM audit"), 1);
	CHECK_INT(test_db_int("old.db", "SELECT (SELECT count(*) FROM staff) + (SELECT count(*) FROM alerts) + "
					"(SELECT count(*) FROM cusums) + (SELECT count(*) FROM outbox) + "
					"(SELECT count(*) FROM opening_hours) + (SELECT count(*) FROM comment_notes)"), 0);
	/* the alert engine's bookkeeping: a chart's signals and open episode, each agency's last evaluated day */
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM pragma_table_info('cusums') WHERE name IN ('signals', 'alert_id')"), 2);
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM alert_days"), 0);
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check = 'ok'"), 1);
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM pragma_foreign_key_check"), 0);
	/* the comment stored before is found without its diacritics, and it
	 * is the only row searched: the others have demographics, no comment */
	CHECK_INT(test_db_int("old.db", "SELECT rowid FROM comments_fts WHERE comments_fts MATCH '\"thai\" \"do\"'"),
		  6);
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM comments_fts"), 1);
	/* the kiosk form's five reasons, read from its JSON */
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM form_reasons fr JOIN forms f ON f.id = fr.form_id "
					"WHERE f.code = 'kiosk-2018' AND fr.pos = 1"), 5);
	/* the audit chain written by schema 9 still verifies */
	CHECK_INT(sipas_run(NULL, "audit", "verify", "--db", "old.db", NULL)->status, 0);
	CHECK_INT(sipas_run(NULL, "score", "--db", "old.db", "--period", "2026Q3", "--format", "csv", NULL)->status, 0);
}

/* tests/data/schema-v10.sql is a database as the release with schema 10
 * wrote it (the schema 9 database above migrated, an officer, opening
 * hours, an e-mail endpoint, a third kiosk whose two ratings carry it and
 * the officer on duty, a silent-kiosk alert with its notification, and a
 * comment marked handled).  init rebuilds devices and agencies for their
 * new roles and levels: every row of every table that references them
 * stays, with its references whole. */
static void migrates_version_10_forward_keeping_every_row(void)
{
	static const char *const tables[] = {
		"agencies", "devices", "device_sectors", "pairings", "responses", "staff", "user_agencies",
		"opening_hours", "cusums", "alerts", "notify_endpoints", "outbox", "comment_notes", "dossiers",
	};
	long long before[sizeof(tables) / sizeof(tables[0])];
	char sql[128];

	CHECK_INT(load_dump("schema-v10.sql"), 0);
	CHECK_INT(test_db_int("old.db", "PRAGMA user_version"), 10);
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", tables[i]);
		before[i] = test_db_int("old.db", sql);
	}
	CHECK_INT(migrate_keeping_every_response(), 0);
	/* every row kept; the shipped registry adds the 7 agencies its merger ended */
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		long long added = strcmp(tables[i], "agencies") == 0 ? 7 : 0;

		snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", tables[i]);
		if (test_db_int("old.db", sql) != before[i] + added)
			test_fail(__FILE__, __LINE__, "%s: %lld rows before, %lld after", tables[i], before[i],
				  test_db_int("old.db", sql));
	}
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM devices"), 4);
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM responses WHERE device_id = 4 AND officer_id = 1"), 2);
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM devices WHERE all_agencies = 0"), 4);
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM agencies WHERE valid_from IS NULL AND valid_to IS NULL "
					"AND successor_id IS NULL"), before[0] - 1);   /* all but the merger's ward */
	CHECK_INT(test_db_int("old.db", "SELECT (SELECT count(*) FROM device_agencies) + "
					"(SELECT count(*) FROM dossier_records)"), 0);
	/* the new roles and levels are allowed, the constraints kept */
	CHECK_INT(test_db_exec("old.db", "UPDATE agencies SET level = 'district' WHERE code = 'P-HONGBANG'"), 0);
	CHECK(test_db_exec("old.db", "UPDATE devices SET role = 'system' WHERE id = 4") != 0);
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check = 'ok'"), 1);
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM pragma_foreign_key_check"), 0);
	CHECK_INT(test_db_int("old.db", "SELECT rowid FROM comments_fts WHERE comments_fts MATCH '\"thai\" \"do\"' "
					"ORDER BY rowid LIMIT 1"), 6);
	CHECK_INT(sipas_run(NULL, "audit", "verify", "--db", "old.db", NULL)->status, 0);
	CHECK_INT(sipas_run(NULL, "score", "--db", "old.db", "--period", "2026Q3", "--format", "csv", NULL)->status, 0);
}

/* tests/data/schema-v11.sql is a database as the release with schema 11
 * wrote it (the schema 10 database above migrated, a system token, two
 * dossier records).  init numbers what a push to the hub sends, in the
 * order it became visible: ratings by id, then the done import after them,
 * records by id; and gives the file an identity.  What becomes visible
 * afterwards is numbered after all of it. */
static void migrates_version_11_forward_numbering_what_a_push_sends(void)
{
	static const char *const tables[] = { "responses", "imports", "dossier_records", "devices", "device_agencies" };
	long long before[sizeof(tables) / sizeof(tables[0])], max_id;
	char sql[128];

	CHECK_INT(load_dump("schema-v11.sql"), 0);
	CHECK_INT(test_db_int("old.db", "PRAGMA user_version"), 11);
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", tables[i]);
		before[i] = test_db_int("old.db", sql);
	}
	CHECK_INT(migrate_keeping_every_response(), 0);
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", tables[i]);
		CHECK_INT(test_db_int("old.db", sql), before[i]);
	}
	max_id = test_db_int("old.db", "SELECT max(id) FROM responses");
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM responses WHERE import_id IS NULL AND seq = id"),
		  test_db_int("old.db", "SELECT count(*) FROM responses WHERE import_id IS NULL"));
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM responses WHERE import_id IS NOT NULL AND seq IS NULL"),
		  test_db_int("old.db", "SELECT count(*) FROM responses WHERE import_id IS NOT NULL"));
	CHECK_INT(test_db_int("old.db", "SELECT seq FROM imports WHERE state = 'done'"), max_id + 1);
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM dossier_records WHERE seq = id"), 2);
	CHECK_INT(test_db_int("old.db", "SELECT length(value) FROM settings WHERE name = 'identity' "
					"AND value NOT GLOB '*[^0-9a-f]*'"), 32);
	/* a record stored again is numbered after every other */
	CHECK_INT(test_db_exec("old.db", "UPDATE dossier_records SET updated_at = updated_at - 1 WHERE id = 1"), 0);
	CHECK(test_write("rec.csv", "dossier,agency,sector,procedure,channel,received_at,complaint,updated_at\n"
			 "000.00.23.H26-260701-0001,SO-XD,xay-dung,Cấp phép,direct,2026-07-01T08:00:00+07:00,0,"
			 "2026-07-12T10:00:00+07:00\n") == 0);
	CHECK_INT(sipas_run(NULL, "dossiers", "import", "--db", "old.db", "--records", "rec.csv", NULL)->status, 0);
	CHECK_INT(test_db_int("old.db", "SELECT seq FROM dossier_records WHERE id = 1"), 3);
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check = 'ok'"), 1);
	CHECK_INT(test_db_int("old.db", "SELECT count(*) FROM pragma_foreign_key_check"), 0);
}

static void help_and_unknown_commands(void)
{
	const struct cmd_result *r = sipas_run(NULL, "help", NULL);

	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "  init      create or migrate the database");
	CHECK_CONTAINS(r->out, "  serve     run the collector");
	CHECK_CONTAINS(r->out, "  link      the signed phone-survey link");
	r = sipas_run(NULL, "frobnicate", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "'frobnicate' is not a command");
	r = sipas_run(NULL, "init", "--bogus", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "unknown option '--bogus'");
	r = sipas_run(NULL, "help", "demo", NULL);
	CHECK_CONTAINS(r->out, "usage: sipas demo");
}

const struct test_case db_tests[] = {
	{ "migrates_an_empty_file", migrates_an_empty_file },
	{ "init_is_idempotent", init_is_idempotent },
	{ "newer_schema_and_non_databases_are_refused", newer_schema_and_non_databases_are_refused },
	{ "changed_form_needs_a_new_id", changed_form_needs_a_new_id },
	{ "migrates_version_1_forward", migrates_version_1_forward },
	{ "migrates_version_7_forward_keeping_every_row", migrates_version_7_forward_keeping_every_row },
	{ "migrates_version_8_forward_keeping_every_row", migrates_version_8_forward_keeping_every_row },
	{ "migrates_version_9_forward_keeping_every_row", migrates_version_9_forward_keeping_every_row },
	{ "migrates_version_10_forward_keeping_every_row", migrates_version_10_forward_keeping_every_row },
	{ "migrates_version_11_forward_numbering_what_a_push_sends",
	  migrates_version_11_forward_numbering_what_a_push_sends },
	{ "migrates_version_6_forward_keeping_every_row", migrates_version_6_forward_keeping_every_row },
	{ "help_and_unknown_commands", help_and_unknown_commands },
	{ NULL, NULL }
};
