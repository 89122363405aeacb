/*
 * db.c - connection set-up and schema migrations (see db.h).
 *
 * Responses keep their answers as one BLOB of one byte per question (0 = not
 * answered, else value - scale.min + 1) so that scoring reads one row per
 * response instead of one row per answer.  Registry codes, strata and PSUs
 * are interned as integer ids for the same reason.
 */
#include "db.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/fold.h"
#include "../lib/secret.h"

/* migrations[i] takes the schema from version i to i + 1.  Never edit an
 * entry once released: add a new one. */
static const char *const migrations[] = {
	/* 0 -> 1: forms, registry, responses */
	"CREATE TABLE forms("
	"  id INTEGER PRIMARY KEY,"
	"  code TEXT NOT NULL UNIQUE,"
	"  json TEXT NOT NULL,"           /* canonical: compact, sorted keys */
	"  loaded_at INTEGER NOT NULL);"
	"CREATE TABLE agencies("
	"  id INTEGER PRIMARY KEY,"
	"  code TEXT NOT NULL UNIQUE,"
	"  name TEXT NOT NULL,"
	"  level TEXT NOT NULL CHECK (level IN ('province','department','commune')),"
	"  parent_id INTEGER REFERENCES agencies(id));"
	"CREATE TABLE sectors("
	"  id INTEGER PRIMARY KEY,"
	"  code TEXT NOT NULL UNIQUE,"
	"  name TEXT NOT NULL);"
	"CREATE TABLE targets("
	"  id INTEGER PRIMARY KEY,"
	"  scope TEXT NOT NULL CHECK (scope IN ('all','sector','agency')),"
	"  code TEXT,"                    /* NULL for scope 'all' */
	"  threshold REAL NOT NULL CHECK (threshold > 0 AND threshold <= 1),"
	"  from_quarter INTEGER NOT NULL);" /* year * 4 + quarter - 1 */
	"CREATE TABLE strata("
	"  id INTEGER PRIMARY KEY,"
	"  code TEXT NOT NULL UNIQUE);"
	"CREATE TABLE psus("
	"  id INTEGER PRIMARY KEY,"
	"  stratum_id INTEGER NOT NULL REFERENCES strata(id),"
	"  code TEXT NOT NULL,"
	"  UNIQUE (stratum_id, code));"
	"CREATE TABLE responses("
	"  id INTEGER PRIMARY KEY,"
	"  form_id INTEGER NOT NULL REFERENCES forms(id),"
	"  response_id TEXT NOT NULL,"
	"  ts INTEGER NOT NULL,"          /* submitted_at, Unix seconds */
	"  day INTEGER NOT NULL,"         /* its date in Vietnam time, days since 1970-01-01 */
	"  agency_id INTEGER NOT NULL REFERENCES agencies(id),"
	"  sector_id INTEGER NOT NULL REFERENCES sectors(id),"
	"  channel INTEGER NOT NULL,"     /* enum response_channel */
	"  dossier_code TEXT,"
	"  stratum_id INTEGER NOT NULL REFERENCES strata(id),"
	"  psu_id INTEGER REFERENCES psus(id),"  /* NULL: the response is its own PSU */
	"  weight REAL NOT NULL CHECK (weight > 0),"
	"  answers BLOB NOT NULL,"        /* one byte per question, form order */
	"  choices BLOB NOT NULL,"        /* one byte per choice question: 0 or 1 + value index */
	"  comment TEXT,"
	"  digest BLOB NOT NULL,"         /* SHA-256 prefix of the content, for idempotency */
	"  UNIQUE (form_id, response_id),"
	"  UNIQUE (form_id, dossier_code));"
	"CREATE INDEX responses_by_day ON responses(form_id, day);",
	/* 1 -> 2: collector credentials, the server key, published periods (docs/collector.md) */
	"CREATE TABLE devices("
	"  id INTEGER PRIMARY KEY,"
	"  public_id TEXT NOT NULL UNIQUE,"   /* the part of the token before the dot */
	"  role TEXT NOT NULL CHECK (role IN ('kiosk','admin')),"
	"  agency_id INTEGER REFERENCES agencies(id),"  /* kiosks only */
	"  counter TEXT NOT NULL,"
	"  secret_hash BLOB NOT NULL,"        /* SHA-256 of the secret part */
	"  created_at INTEGER NOT NULL,"
	"  revoked_at INTEGER,"
	"  CHECK ((role = 'kiosk') = (agency_id IS NOT NULL)));"
	"CREATE TABLE secrets("
	"  name TEXT PRIMARY KEY,"
	"  value BLOB NOT NULL);"
	"CREATE TABLE published("
	"  form_id INTEGER NOT NULL REFERENCES forms(id),"
	"  period TEXT NOT NULL,"
	"  published_at INTEGER NOT NULL,"
	"  PRIMARY KEY (form_id, period));",
	/* 2 -> 3: kiosk sectors, pairing codes, when a device paired and last posted */
	"CREATE TABLE device_sectors("
	"  device_id INTEGER NOT NULL REFERENCES devices(id),"
	"  sector_id INTEGER NOT NULL REFERENCES sectors(id),"
	"  PRIMARY KEY (device_id, sector_id));"
	"CREATE TABLE pairings("
	"  code_hash BLOB PRIMARY KEY,"      /* SHA-256 of the one-time code */
	"  device_id INTEGER NOT NULL REFERENCES devices(id),"
	"  expires_at INTEGER NOT NULL,"
	"  used_at INTEGER);"
	"ALTER TABLE devices ADD COLUMN paired_at INTEGER;"
	"ALTER TABLE devices ADD COLUMN last_post_at INTEGER;",
	/* 3 -> 4: the figures of a published period, stored when it is published */
	"CREATE TABLE published_scores("
	"  form_id INTEGER NOT NULL,"
	"  period TEXT NOT NULL,"
	"  grouping TEXT NOT NULL,"          /* 'default' or 'agency,sector' */
	"  json TEXT NOT NULL,"              /* the score JSON, as sipas score writes it */
	"  PRIMARY KEY (form_id, period, grouping),"
	"  FOREIGN KEY (form_id, period) REFERENCES published(form_id, period) ON DELETE CASCADE);",
	/* 4 -> 5: dossier totals from the one-stop system (the counter method) */
	"CREATE TABLE dossiers("
	"  period TEXT NOT NULL,"            /* YYYYQn or YYYY-MM, as loaded */
	"  quarter INTEGER NOT NULL,"        /* year * 4 + quarter - 1 */
	"  agency_id INTEGER NOT NULL REFERENCES agencies(id),"
	"  sector_id INTEGER NOT NULL REFERENCES sectors(id),"
	"  dossiers INTEGER NOT NULL CHECK (dossiers >= 0),"
	"  PRIMARY KEY (period, agency_id, sector_id));"
	"CREATE INDEX dossiers_by_quarter ON dossiers(quarter);",
	/* 5 -> 6: a published quarter's report, its files as rendered then */
	"CREATE TABLE published_files("
	"  period TEXT NOT NULL,"
	"  name TEXT NOT NULL,"              /* index.html, methodology.html, scores.csv, ... */
	"  content BLOB NOT NULL,"
	"  PRIMARY KEY (period, name));",
	/* 6 -> 7: response ids and dossier codes are unique per form and agency
	 * (two agencies' kiosks may use the same ones), and the server stamps
	 * when it stored each rating.  SQLite cannot alter a constraint, so the
	 * table is rebuilt (https://sqlite.org/lang_altertable.html, "making
	 * other kinds of table schema changes"); nothing references it. */
	"CREATE TABLE responses_v7("
	"  id INTEGER PRIMARY KEY,"
	"  form_id INTEGER NOT NULL REFERENCES forms(id),"
	"  response_id TEXT NOT NULL,"
	"  ts INTEGER NOT NULL,"          /* submitted_at, Unix seconds */
	"  day INTEGER NOT NULL,"         /* its date in Vietnam time, days since 1970-01-01 */
	"  agency_id INTEGER NOT NULL REFERENCES agencies(id),"
	"  sector_id INTEGER NOT NULL REFERENCES sectors(id),"
	"  channel INTEGER NOT NULL,"     /* enum response_channel */
	"  dossier_code TEXT,"
	"  stratum_id INTEGER NOT NULL REFERENCES strata(id),"
	"  psu_id INTEGER REFERENCES psus(id),"  /* NULL: the response is its own PSU */
	"  weight REAL NOT NULL CHECK (weight > 0),"
	"  answers BLOB NOT NULL,"        /* one byte per question, form order */
	"  choices BLOB NOT NULL,"        /* one byte per choice question: 0 or 1 + value index */
	"  comment TEXT,"
	"  digest BLOB NOT NULL,"         /* SHA-256 prefix of the content, for idempotency */
	"  received_at INTEGER,"          /* when it was stored, Unix seconds; NULL: before schema 7 */
	"  UNIQUE (form_id, agency_id, response_id),"
	"  UNIQUE (form_id, agency_id, dossier_code));"
	"INSERT INTO responses_v7(id, form_id, response_id, ts, day, agency_id, sector_id, channel,"
	"  dossier_code, stratum_id, psu_id, weight, answers, choices, comment, digest)"
	"  SELECT id, form_id, response_id, ts, day, agency_id, sector_id, channel,"
	"  dossier_code, stratum_id, psu_id, weight, answers, choices, comment, digest FROM responses;"
	"DROP TABLE responses;"
	"ALTER TABLE responses_v7 RENAME TO responses;"
	"CREATE INDEX responses_by_day ON responses(form_id, day);"
	/* and a log of publications, never deleted: its ids are never reused
	 * (AUTOINCREMENT), so the collector can tell a cached reply of a
	 * period withdrawn and published again within one second */
	"CREATE TABLE publications("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  form_id INTEGER NOT NULL REFERENCES forms(id),"
	"  period TEXT NOT NULL,"
	"  action TEXT NOT NULL CHECK (action IN ('publish','withdraw')),"
	"  at INTEGER NOT NULL);"
	"CREATE INDEX publications_by_period ON publications(form_id, period);",
	/* 7 -> 8: the form a kiosk posts (only that one: the survey comes from
	 * signed links and imports) and its staff PIN; settings that one
	 * command stores and others read (the public address); publications
	 * made before their quarter ended; imports, whose rows are copied in
	 * short transactions and seen only once their import is done
	 * (DB_VISIBLE) */
	"ALTER TABLE devices ADD COLUMN form TEXT;"             /* kiosks: a form code; NULL for admin */
	"UPDATE devices SET form = 'kiosk-2018' WHERE role = 'kiosk';"
	"ALTER TABLE devices ADD COLUMN pin_hash TEXT;"         /* NULL: no staff PIN (docs/collector.md) */
	"ALTER TABLE devices ADD COLUMN pin_failures INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE devices ADD COLUMN pin_locked_until INTEGER;"
	"CREATE TABLE settings("
	"  name TEXT PRIMARY KEY,"
	"  value TEXT NOT NULL);"
	"ALTER TABLE published ADD COLUMN early INTEGER NOT NULL DEFAULT 0;"
	"CREATE TABLE imports("
	"  id INTEGER PRIMARY KEY,"
	"  state TEXT NOT NULL CHECK (state IN ('pending','done')),"
	"  pid INTEGER NOT NULL,"          /* the importing process: a pending import whose process is gone was killed */
	"  started_at INTEGER NOT NULL,"
	"  done_at INTEGER);"
	"ALTER TABLE responses ADD COLUMN import_id INTEGER REFERENCES imports(id);"  /* NULL: from the collector */
	"CREATE INDEX responses_by_import ON responses(import_id) WHERE import_id IS NOT NULL;",
	/* 8 -> 9: the console's accounts, sessions and the audit log
	 * (docs/console.md); who made each publication, and the audit log's
	 * head at that moment */
	"CREATE TABLE users("
	"  id INTEGER PRIMARY KEY,"
	"  login TEXT NOT NULL UNIQUE,"
	"  name TEXT NOT NULL,"
	"  role TEXT NOT NULL CHECK (role IN ('office','agency','viewer')),"
	"  password_hash TEXT,"              /* crypto_pwhash_str (Argon2id); NULL until the person sets one */
	"  created_at INTEGER NOT NULL,"
	"  password_set_at INTEGER,"
	"  disabled_at INTEGER);"
	"CREATE TABLE user_agencies("           /* agency: exactly one; viewer: any number; office: none */
	"  user_id INTEGER NOT NULL REFERENCES users(id),"
	"  agency_id INTEGER NOT NULL REFERENCES agencies(id),"
	"  PRIMARY KEY (user_id, agency_id));"
	"CREATE TABLE password_links("
	"  token_hash BLOB PRIMARY KEY,"        /* SHA-256 of the one-time token */
	"  user_id INTEGER NOT NULL REFERENCES users(id),"
	"  expires_at INTEGER NOT NULL,"
	"  used_at INTEGER);"
	"CREATE TABLE sessions("
	"  id_hash BLOB PRIMARY KEY,"           /* SHA-256 of the cookie's secret */
	"  user_id INTEGER NOT NULL REFERENCES users(id),"
	"  address TEXT NOT NULL,"              /* where it signed in from */
	"  created_at INTEGER NOT NULL,"
	"  seen_at INTEGER NOT NULL,"           /* the last request, written at most once a minute */
	"  ended_at INTEGER);"                  /* sign-out, password change, disabled: never valid again */
	"CREATE INDEX sessions_by_user ON sessions(user_id);"
	"CREATE TABLE audit("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"  /* ids never reused: a gap is a deleted row */
	"  at INTEGER NOT NULL,"
	"  actor TEXT NOT NULL,"                /* a console login, or cli:OS-USER */
	"  address TEXT NOT NULL,"              /* the client address, or 'local' */
	"  action TEXT NOT NULL,"               /* user.add, device.revoke, publish, ... */
	"  subject TEXT NOT NULL,"              /* what it acted on */
	"  outcome TEXT NOT NULL,"              /* 'ok', or why it failed */
	"  hash BLOB NOT NULL);"                /* SHA-256 over the previous row's hash and this row */
	"ALTER TABLE publications ADD COLUMN actor TEXT;"      /* NULL: unknown (before schema 9) */
	"ALTER TABLE publications ADD COLUMN audit_head TEXT;" /* the audit log's head hash then */
	/* a kiosk's ratings stored on its last day of posting, for the
	 * console's overview of the counters */
	"ALTER TABLE devices ADD COLUMN rated_day INTEGER;"     /* days since 1970-01-01, Vietnam time */
	"ALTER TABLE devices ADD COLUMN rated_today INTEGER NOT NULL DEFAULT 0;",
	/* 9 -> 10: ratings per counter and per officer on duty, opening hours,
	 * the monitoring's state and alerts, their notifications, and the
	 * comments inbox (docs/monitoring.md) */
	"CREATE TABLE staff("                   /* officers who may be set on duty at a kiosk */
	"  id INTEGER PRIMARY KEY,"
	"  agency_id INTEGER NOT NULL REFERENCES agencies(id),"
	"  code TEXT NOT NULL,"                 /* what the officer types in the kiosk's staff mode */
	"  name TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  disabled_at INTEGER,"
	"  UNIQUE (agency_id, code));"
	"ALTER TABLE responses ADD COLUMN device_id INTEGER REFERENCES devices(id);"  /* the kiosk that posted it; NULL otherwise and before schema 10 */
	"ALTER TABLE responses ADD COLUMN officer_id INTEGER REFERENCES staff(id);"   /* the officer on duty at that kiosk, if one was set */
	"CREATE INDEX responses_by_device ON responses(device_id, day) WHERE device_id IS NOT NULL;"
	"ALTER TABLE devices ADD COLUMN officer_id INTEGER REFERENCES staff(id);"  /* the shift set in staff mode ... */
	"ALTER TABLE devices ADD COLUMN officer_day INTEGER;"                      /* ... which ends with this day */
	"ALTER TABLE devices ADD COLUMN heartbeat_at INTEGER;"
	"ALTER TABLE devices ADD COLUMN queued INTEGER;"                            /* unsent ratings at the last heartbeat */
	"ALTER TABLE devices ADD COLUMN queue_growing INTEGER NOT NULL DEFAULT 0;"  /* heartbeats in a row with a longer queue */
	"CREATE TABLE opening_hours("           /* no row: Mon-Fri 07:30-11:30,13:30-17:00 */
	"  agency_id INTEGER PRIMARY KEY REFERENCES agencies(id),"
	"  spec TEXT NOT NULL);"                /* as given to `sipas agency hours` */
	"CREATE TABLE cusums("                  /* each Bernoulli CUSUM's state, so a restart continues it */
	"  scope TEXT NOT NULL CHECK (scope IN ('device','agency')),"
	"  ref_id INTEGER NOT NULL,"            /* devices.id or agencies.id */
	"  sector_id INTEGER NOT NULL REFERENCES sectors(id),"
	"  value REAL NOT NULL,"                /* 0 after a signal */
	"  ratings INTEGER NOT NULL,"           /* since the last signal */
	"  unsatisfied INTEGER NOT NULL,"
	"  PRIMARY KEY (scope, ref_id, sector_id)) WITHOUT ROWID;"
	"CREATE TABLE alerts("
	"  id INTEGER PRIMARY KEY,"
	"  kind TEXT NOT NULL CHECK (kind IN ('low_satisfaction','below_target','silent_device')),"
	"  agency_id INTEGER NOT NULL REFERENCES agencies(id),"
	"  sector_id INTEGER REFERENCES sectors(id),"
	"  device_id INTEGER REFERENCES devices(id),"
	"  opened_at INTEGER NOT NULL,"
	"  closed_at INTEGER,"
	"  evidence TEXT NOT NULL);"            /* JSON: what the rule saw when it opened */
	"CREATE UNIQUE INDEX alerts_one_open ON alerts(kind, agency_id, ifnull(sector_id, 0), ifnull(device_id, 0)) "
	"  WHERE closed_at IS NULL;"            /* one episode at a time */
	"CREATE TABLE notify_endpoints("
	"  id INTEGER PRIMARY KEY,"
	"  agency_id INTEGER REFERENCES agencies(id),"  /* NULL: every agency */
	"  kind TEXT NOT NULL CHECK (kind IN ('webhook','email')),"
	"  target TEXT NOT NULL,"               /* the URL or the address */
	"  created_at INTEGER NOT NULL,"
	"  removed_at INTEGER);"
	"CREATE TABLE outbox("                  /* written in the transaction that opens or closes an alert */
	"  id INTEGER PRIMARY KEY,"
	"  delivery TEXT NOT NULL UNIQUE,"      /* X-Sipas-Delivery: the same on every attempt */
	"  endpoint_id INTEGER NOT NULL REFERENCES notify_endpoints(id),"
	"  alert_id INTEGER REFERENCES alerts(id),"  /* NULL: `sipas notify test` */
	"  event TEXT NOT NULL,"                /* alert.opened, alert.closed, test */
	"  body TEXT NOT NULL,"                 /* the JSON sent */
	"  created_at INTEGER NOT NULL,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_at INTEGER NOT NULL,"
	"  delivered_at INTEGER,"
	"  failed_at INTEGER,"                  /* given up after 24 hours of retries */
	"  last_error TEXT);"
	"CREATE INDEX outbox_due ON outbox(next_at) WHERE delivered_at IS NULL AND failed_at IS NULL;"
	"CREATE TABLE comment_notes("           /* a comment marked handled in the console */
	"  response_id INTEGER PRIMARY KEY REFERENCES responses(id),"
	"  handled_at INTEGER NOT NULL,"
	"  handled_by TEXT NOT NULL,"           /* the console login */
	"  note TEXT NOT NULL);"
	/* the alert engine's own bookkeeping (docs/monitoring.md, "Alerts") */
	"ALTER TABLE cusums ADD COLUMN signals INTEGER NOT NULL DEFAULT 0;"    /* signals since the chart began */
	"ALTER TABLE cusums ADD COLUMN alert_id INTEGER REFERENCES alerts(id);" /* its open low_satisfaction episode */
	"CREATE TABLE alert_days("               /* 'reliably below target' runs once a day per agency */
	"  agency_id INTEGER PRIMARY KEY REFERENCES agencies(id),"
	"  below_target_day INTEGER NOT NULL);"   /* the last day evaluated, days since 1970-01-01 */
	/* the reasons a response's follow-ups offer (the kiosk's "why not
	 * satisfied"), with their labels, one row per form, follow-up and
	 * value, read from the form's JSON once when it is stored (forms are
	 * never changed): choices holds one byte per choice question,
	 * demographics first, 0 or the value's index + 1 (at most 100) */
	"CREATE TABLE form_reasons("
	"  form_id INTEGER NOT NULL REFERENCES forms(id),"
	"  pos INTEGER NOT NULL,"               /* the follow-up's byte in choices, from 1 */
	"  byte BLOB NOT NULL,"                 /* the value's byte there */
	"  followup TEXT NOT NULL,"
	"  value TEXT NOT NULL,"                /* its code */
	"  label_vi TEXT,"
	"  label_en TEXT,"
	"  PRIMARY KEY (form_id, pos, byte)) WITHOUT ROWID;"
	"CREATE VIEW form_reason_rows AS SELECT f.id AS form_id, "
	"  ifnull(json_array_length(f.json, '$.demographics'), 0) + fu.key + 1 AS pos, "
	"  CAST(char(v.key + 1) AS BLOB) AS byte, json_extract(fu.value, '$.id') AS followup, v.value AS value, "
	"  json_extract(fu.value, '$.labels.vi[' || v.key || ']') AS label_vi, "
	"  json_extract(fu.value, '$.labels.en[' || v.key || ']') AS label_en "
	"FROM forms f, json_each(f.json, '$.followups') fu, json_each(fu.value, '$.values') v;"
	"CREATE TRIGGER form_reasons_of_a_form AFTER INSERT ON forms BEGIN "
	"  INSERT INTO form_reasons SELECT * FROM form_reason_rows WHERE form_id = new.id; "
	"END;"
	"INSERT INTO form_reasons SELECT * FROM form_reason_rows;"
	/* the reasons chosen in each response */
	"CREATE VIEW response_reasons AS SELECT r.id AS response_id, fr.followup, fr.value, fr.label_vi, fr.label_en "
	"FROM responses r JOIN form_reasons fr ON fr.form_id = r.form_id AND substr(r.choices, fr.pos, 1) = fr.byte;"
	/* the comments' search: the folded text (lib/fold.h) of every comment
	 * and of the reasons' labels in both languages, one row per response
	 * that has either (rowid = responses.id).  Kept in step by triggers
	 * that call sipas_fold, which db_open registers on every connection:
	 * without it (the sqlite3 shell) responses can be read, not written. */
	"CREATE VIRTUAL TABLE comments_fts USING fts5(comment, reasons, tokenize = 'unicode61 remove_diacritics 0');"
	"CREATE VIEW comment_texts AS SELECT r.id AS id, sipas_fold(r.comment) AS comment, "
	"  sipas_fold((SELECT group_concat(ifnull(label_vi, '') || ' ' || ifnull(label_en, '') || ' ' || value, ' ') "
	"    FROM response_reasons WHERE response_id = r.id)) AS reasons "
	"FROM responses r;"
	"CREATE TRIGGER comments_fts_insert AFTER INSERT ON responses "
	"  WHEN new.comment IS NOT NULL OR new.choices <> zeroblob(length(new.choices)) BEGIN "
	"  INSERT INTO comments_fts(rowid, comment, reasons) SELECT id, comment, reasons FROM comment_texts "
	"    WHERE id = new.id AND (comment IS NOT NULL OR reasons IS NOT NULL); "
	"END;"
	"CREATE TRIGGER comments_fts_delete AFTER DELETE ON responses BEGIN "
	"  DELETE FROM comments_fts WHERE rowid = old.id; "
	"END;"
	"CREATE TRIGGER comments_fts_update AFTER UPDATE OF comment, choices ON responses BEGIN "
	"  DELETE FROM comments_fts WHERE rowid = old.id; "
	"  INSERT INTO comments_fts(rowid, comment, reasons) SELECT id, comment, reasons FROM comment_texts "
	"    WHERE id = new.id AND (comment IS NOT NULL OR reasons IS NOT NULL); "
	"END;"
	"INSERT INTO comments_fts(rowid, comment, reasons) SELECT id, comment, reasons FROM comment_texts "
	"  WHERE comment IS NOT NULL OR reasons IS NOT NULL;",
	/* 10 -> 11: the one-stop system (docs/onestop.md): machine tokens for
	 * one or more agencies, dossier records, and the registry's history
	 * (mergers of 1 July 2025).  devices and agencies are rebuilt for their
	 * new CHECKs, as responses was for schema 7; db_migrate turns foreign
	 * keys off around a migration, so that the tables that reference them
	 * keep their rows, and checks them all before it commits. */
	"CREATE TABLE agencies_v11("
	"  id INTEGER PRIMARY KEY,"
	"  code TEXT NOT NULL UNIQUE,"
	"  name TEXT NOT NULL,"
	"  level TEXT NOT NULL CHECK (level IN ('province','department','district','commune')),"
	"  parent_id INTEGER REFERENCES agencies(id),"
	"  valid_from INTEGER,"                 /* its first day, days since 1970-01-01 (Vietnam); NULL: always */
	"  valid_to INTEGER,"                   /* its last day; NULL: it still exists */
	"  successor_id INTEGER REFERENCES agencies(id),"  /* what it was merged into */
	"  CHECK (valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from),"
	"  CHECK (successor_id IS NULL OR valid_to IS NOT NULL));"
	"INSERT INTO agencies_v11(id, code, name, level, parent_id) SELECT id, code, name, level, parent_id FROM agencies;"
	"DROP TABLE agencies;"
	"ALTER TABLE agencies_v11 RENAME TO agencies;"
	"CREATE TABLE devices_v11("
	"  id INTEGER PRIMARY KEY,"
	"  public_id TEXT NOT NULL UNIQUE,"     /* the part of the token before the dot */
	"  role TEXT NOT NULL CHECK (role IN ('kiosk','admin','system')),"
	"  agency_id INTEGER REFERENCES agencies(id),"  /* kiosks only; a system token's are in device_agencies */
	"  counter TEXT NOT NULL,"              /* a kiosk's counter; another token's name */
	"  secret_hash BLOB NOT NULL,"          /* SHA-256 of the secret part */
	"  created_at INTEGER NOT NULL,"
	"  revoked_at INTEGER,"
	"  paired_at INTEGER,"
	"  last_post_at INTEGER,"
	"  form TEXT,"
	"  pin_hash TEXT,"
	"  pin_failures INTEGER NOT NULL DEFAULT 0,"
	"  pin_locked_until INTEGER,"
	"  rated_day INTEGER,"
	"  rated_today INTEGER NOT NULL DEFAULT 0,"
	"  officer_id INTEGER REFERENCES staff(id),"
	"  officer_day INTEGER,"
	"  heartbeat_at INTEGER,"
	"  queued INTEGER,"
	"  queue_growing INTEGER NOT NULL DEFAULT 0,"
	"  all_agencies INTEGER NOT NULL DEFAULT 0 CHECK (all_agencies IN (0, 1)),"  /* system tokens: every agency */
	"  CHECK ((role = 'kiosk') = (agency_id IS NOT NULL)),"
	"  CHECK (all_agencies = 0 OR role = 'system'));"
	"INSERT INTO devices_v11(id, public_id, role, agency_id, counter, secret_hash, created_at, revoked_at, "
	"  paired_at, last_post_at, form, pin_hash, pin_failures, pin_locked_until, rated_day, rated_today, "
	"  officer_id, officer_day, heartbeat_at, queued, queue_growing) "
	"  SELECT id, public_id, role, agency_id, counter, secret_hash, created_at, revoked_at, "
	"  paired_at, last_post_at, form, pin_hash, pin_failures, pin_locked_until, rated_day, rated_today, "
	"  officer_id, officer_day, heartbeat_at, queued, queue_growing FROM devices;"
	"DROP TABLE devices;"
	"ALTER TABLE devices_v11 RENAME TO devices;"
	"CREATE TABLE device_agencies("         /* the agencies a system token acts for */
	"  device_id INTEGER NOT NULL REFERENCES devices(id),"
	"  agency_id INTEGER NOT NULL REFERENCES agencies(id),"
	"  PRIMARY KEY (device_id, agency_id)) WITHOUT ROWID;"
	/* one row per dossier of the one-stop system, the newest version of it
	 * (updated_at); times in Unix seconds, days in Vietnam time */
	"CREATE TABLE dossier_records("
	"  id INTEGER PRIMARY KEY,"
	"  agency_id INTEGER NOT NULL REFERENCES agencies(id),"       /* the deciding agency */
	"  code TEXT NOT NULL,"                                       /* the dossier's code */
	"  received_by INTEGER NOT NULL REFERENCES agencies(id),"     /* the office that took it in */
	"  sector_id INTEGER NOT NULL REFERENCES sectors(id),"
	"  procedure TEXT NOT NULL,"
	"  channel TEXT NOT NULL CHECK (channel IN ('direct','online','postal')),"
	"  received_at INTEGER NOT NULL,"
	"  due_at INTEGER,"                     /* NULL: no deadline */
	"  finished_at INTEGER,"                /* NULL: not finished */
	"  finished_day INTEGER,"               /* finished_at's day, for the periods */
	"  complaint INTEGER NOT NULL CHECK (complaint IN (0, 1)),"
	"  updated_at INTEGER NOT NULL,"        /* a record older than the stored one is ignored */
	"  stored_at INTEGER NOT NULL,"
	"  UNIQUE (agency_id, code),"
	"  CHECK ((finished_at IS NULL) = (finished_day IS NULL)));"
	"CREATE INDEX dossier_records_finished ON dossier_records(finished_day) WHERE finished_day IS NOT NULL;"
	"CREATE INDEX responses_by_dossier ON responses(dossier_code) WHERE dossier_code IS NOT NULL;",
	/* 11 -> 12: what a push to the national hub sends next (docs/hub.md):
	 * a sequence number given when a row becomes visible -- a collector
	 * rating at its commit (responses.seq), an import's rows all at its
	 * flip to done (imports.seq), a dossier record whenever it is stored
	 * or replaced (dossier_records.seq) -- never a rowid, which an import
	 * that became visible late holds lower than rows pushed before it.
	 * Rows stored before this version are numbered in the order they
	 * became visible as far as it is known: ratings by id, then imports
	 * in the order they finished.  The database's identity tells the hub
	 * which numbering a mark belongs to (a new file starts from 0). */
	"ALTER TABLE responses ADD COLUMN seq INTEGER;"            /* NULL: of an import (imports.seq) */
	"ALTER TABLE imports ADD COLUMN seq INTEGER;"              /* NULL: not done */
	"ALTER TABLE dossier_records ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;"
	"UPDATE responses SET seq = id WHERE import_id IS NULL;"
	"UPDATE imports SET seq = (SELECT coalesce(max(id), 0) FROM responses) + "
	"  (SELECT count(*) FROM imports i WHERE i.state = 'done' AND "
	"   (i.done_at < imports.done_at OR (i.done_at = imports.done_at AND i.id <= imports.id))) "
	"  WHERE state = 'done';"
	"UPDATE dossier_records SET seq = id;"
	"CREATE UNIQUE INDEX responses_by_seq ON responses(seq) WHERE seq IS NOT NULL;"
	"CREATE UNIQUE INDEX imports_by_seq ON imports(seq) WHERE seq IS NOT NULL;"
	"CREATE INDEX dossier_records_by_seq ON dossier_records(seq);"
	"INSERT OR IGNORE INTO settings(name, value) VALUES ('identity', lower(hex(randomblob(16))));",
};

#define N_MIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))

_Static_assert(N_MIGRATIONS == DB_SCHEMA_VERSION, "one migration per schema version");

int db_fail(sqlite3 *db, struct err *e, const char *context)
{
	return err_set(e, ERR_DB, "%s: %s", context, db ? sqlite3_errmsg(db) : "no connection");
}

int db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **stmt, struct err *e)
{
	if (sqlite3_prepare_v2(db, sql, -1, stmt, NULL) != SQLITE_OK)
		return db_fail(db, e, "preparing a query");
	return 0;
}

int db_exec(sqlite3 *db, const char *sql, struct err *e)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		err_set(e, ERR_DB, "database: %s", msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return ERR_DB;
	}
	return 0;
}

int db_query_int(sqlite3 *db, const char *sql, long long *out, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = db_prepare(db, sql, &st, e);

	if (rc)
		return rc;
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = db_fail(db, e, "reading a value");
		goto out;
	}
	*out = sqlite3_column_int64(st, 0);
out:
	sqlite3_finalize(st);
	return rc;
}

int db_query_exists(sqlite3 *db, const char *sql, const char *const *params, int n, int *yes,
		    struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = db_prepare(db, sql, &st, e), step;

	if (rc)
		return rc;
	for (int i = 0; i < n; i++)
		sqlite3_bind_text(st, i + 1, params[i], -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW || step == SQLITE_DONE)
		*yes = step == SQLITE_ROW;
	else
		rc = db_fail(db, e, "reading a value");
	sqlite3_finalize(st);
	return rc;
}

int db_setting_get(sqlite3 *db, const char *name, char *out, size_t size, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = db_prepare(db, "SELECT value FROM settings WHERE name = ?1", &st, e);

	assert(size > 0);
	out[0] = '\0';
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		snprintf(out, size, "%s", (const char *)sqlite3_column_text(st, 0));
		break;
	case SQLITE_DONE:
		break;
	default:
		rc = db_fail(db, e, "reading a setting");
	}
	sqlite3_finalize(st);
	return rc;
}

int db_setting_set(sqlite3 *db, const char *name, const char *value, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = db_prepare(db, value ? "INSERT INTO settings(name, value) VALUES (?1, ?2) "
					"ON CONFLICT (name) DO UPDATE SET value = excluded.value"
				      : "DELETE FROM settings WHERE name = ?1", &st, e);

	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (value)
		sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db, e, "storing a setting");
	sqlite3_finalize(st);
	return rc;
}

static int db_migrate(sqlite3 *db, const char *path, struct err *e)
{
	long long version;
	int rc = db_query_int(db, "PRAGMA user_version", &version, e);

	if (rc)
		return rc;
	if (version > DB_SCHEMA_VERSION)
		return err_set(e, ERR_INVALID,
			       "%s: schema version %lld is newer than this sipas understands (%d)",
			       path, version, DB_SCHEMA_VERSION);
	/* foreign keys off (only outside a transaction) while a migration
	 * rebuilds a table others reference; checked before each commit */
	if (version < DB_SCHEMA_VERSION)
		rc = db_exec(db, "PRAGMA foreign_keys = OFF", e);
	for (long long v = version; !rc && v < DB_SCHEMA_VERSION; v++) {
		long long broken = 0;
		char bump[64];

		snprintf(bump, sizeof(bump), "PRAGMA user_version = %lld", v + 1);
		rc = db_exec(db, "BEGIN IMMEDIATE", e);
		if (rc)
			break;
		rc = db_exec(db, migrations[v], e);
		if (!rc)
			rc = db_query_int(db, "SELECT count(*) FROM pragma_foreign_key_check", &broken, e);
		if (!rc && broken)
			rc = err_set(e, ERR_DB, "%lld rows would reference rows that do not exist", broken);
		if (!rc)
			rc = db_exec(db, bump, e);
		if (!rc)
			rc = db_exec(db, "COMMIT", e);
		if (rc) {
			db_exec(db, "ROLLBACK", NULL);
			err_prefix(e, "%s: migrating to schema version %lld", path, v + 1);
		}
	}
	if (version < DB_SCHEMA_VERSION && db_exec(db, "PRAGMA foreign_keys = ON", rc ? NULL : e) && !rc)
		rc = ERR_DB;
	return rc;
}

/* sipas_fold(text): fold_text's copy of text; NULL for NULL or ''. */
static void db_fold(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *text = (const char *)sqlite3_value_text(argv[0]);
	int n = sqlite3_value_bytes(argv[0]);
	size_t len;
	char *folded;

	(void)argc;
	if (!text || n == 0) {
		sqlite3_result_null(ctx);
		return;
	}
	folded = fold_text(text, (size_t)n, &len);
	if (!folded) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	sqlite3_result_text64(ctx, folded, len, free, SQLITE_UTF8);
}

int db_open(const char *path, int flags, sqlite3 **out, struct err *e)
{
	sqlite3 *db = NULL;
	long long version;
	int oflags, rc;

	if (!(flags & DB_CREATE) && access(path, F_OK) != 0)
		return err_set(e, ERR_NOT_FOUND, "%s: no database here (run 'sipas init' first)", path);
	oflags = (flags & DB_READONLY) ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
	if (flags & DB_CREATE)
		oflags |= SQLITE_OPEN_CREATE;
	if (sqlite3_open_v2(path, &db, oflags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		rc = err_set(e, ERR_IO, "%s: cannot open database: %s", path,
			     db ? sqlite3_errmsg(db) : "out of memory");
		goto out;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, DB_BUSY_TIMEOUT_MS);
	/* before anything writes: the comments' triggers call it */
	if (sqlite3_create_function(db, "sipas_fold", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS,
				    NULL, db_fold, NULL, NULL) != SQLITE_OK) {
		rc = db_fail(db, e, "registering sipas_fold");
		goto out;
	}
	rc = db_exec(db, "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL", e);
	if (!rc && !(flags & DB_READONLY))
		rc = db_exec(db, "PRAGMA journal_mode = WAL", e);
	if (rc) {
		err_prefix(e, "%s", path);
		goto out;
	}
	if (flags & DB_CREATE) {
		rc = db_migrate(db, path, e);
	} else {
		rc = db_query_int(db, "PRAGMA user_version", &version, e);
		if (!rc && version != DB_SCHEMA_VERSION)
			rc = err_set(e, ERR_INVALID,
				     "%s: schema version %lld, this sipas needs %d (run 'sipas init')",
				     path, version, DB_SCHEMA_VERSION);
	}
out:
	if (rc) {
		sqlite3_close(db);
		return rc;
	}
	*out = db;
	return 0;
}

void db_close(sqlite3 *db)
{
	sqlite3_close(db);
}

int db_server_key(sqlite3 *db, uint8_t key[SECRET_KEY_BYTES], struct err *e)
{
	sqlite3_stmt *st = NULL;
	uint8_t fresh[SECRET_KEY_BYTES];
	int rc = secret_random(fresh, sizeof(fresh), e);

	/* INSERT OR IGNORE keeps the first key if two processes race */
	if (!rc)
		rc = db_prepare(db, "INSERT OR IGNORE INTO secrets(name, value) VALUES ('hmac', ?1)", &st, e);
	if (!rc) {
		sqlite3_bind_blob(st, 1, fresh, sizeof(fresh), SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = db_fail(db, e, "creating the server key");
		sqlite3_finalize(st);
		st = NULL;
	}
	if (!rc)
		rc = db_prepare(db, "SELECT value FROM secrets WHERE name = 'hmac'", &st, e);
	if (!rc) {
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == SECRET_KEY_BYTES)
			memcpy(key, sqlite3_column_blob(st, 0), SECRET_KEY_BYTES);
		else
			rc = err_set(e, ERR_DB, "the server key is missing or damaged");
	}
	sqlite3_finalize(st);
	secret_wipe(fresh, sizeof(fresh));
	return rc;
}
