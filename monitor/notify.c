/*
 * notify.c - notification endpoints and their delivery worker (see
 * notify.h).  The worker owns one SQLite connection and one libcurl easy
 * handle (its connections kept alive between deliveries); it takes the
 * oldest due row, sends it, and records the outcome in one UPDATE -- an
 * autocommit transaction of its own, a few milliseconds of the write lock,
 * waited for with the busy timeout while the collector's writer commits
 * (docs/monitoring.md says why not a writer job).
 */
#include "notify.h"

#include <assert.h>
#include <ctype.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>

#include "../db/db.h"
#include "../lib/strbuf.h"

static const char *const kind_names[] = { [NOTIFY_WEBHOOK] = "webhook", [NOTIFY_EMAIL] = "email" };

const char *notify_kind_name(int kind)
{
	assert(kind == NOTIFY_WEBHOOK || kind == NOTIFY_EMAIL);
	return kind_names[kind];
}

static int kind_parse(const char *s)
{
	for (int k = 0; k < (int)(sizeof(kind_names) / sizeof(kind_names[0])); k++)
		if (strcmp(s, kind_names[k]) == 0)
			return k;
	return -1;
}

/* 1 when every byte of s is printable ASCII other than a space. */
static int printable_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

int notify_check_webhook(const char *url, const char *source, struct err *e)
{
	CURLU *u = NULL;
	char *scheme = NULL, *host = NULL, *part = NULL;
	int rc = 0;

	if (strlen(url) > NOTIFY_TARGET_MAX)
		return err_set_field(e, ERR_INVALID, "webhook", "%s: longer than %d bytes", source, NOTIFY_TARGET_MAX);
	if (!printable_ascii(url))
		return err_set_field(e, ERR_INVALID, "webhook", "%s '%s': a URL is printable ASCII without spaces "
				     "(percent-encode the rest)", source, url);
	u = curl_url();
	if (!u)
		return err_set(e, ERR_NOMEM, "out of memory");
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host)
		rc = err_set_field(e, ERR_INVALID, "webhook", "%s '%s' is not a URL with a host", source, url);
	else if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)
		rc = err_set_field(e, ERR_INVALID, "webhook", "%s '%s': only http and https are delivered to",
				   source, url);
	else if (curl_url_get(u, CURLUPART_USER, &part, 0) == CURLUE_OK)
		rc = err_set_field(e, ERR_INVALID, "webhook", "%s: a user name or password in the URL would be "
				   "sent in clear and logged; the signature authenticates sipas instead", source);
	else if (curl_url_get(u, CURLUPART_FRAGMENT, &part, 0) == CURLUE_OK)
		rc = err_set_field(e, ERR_INVALID, "webhook", "%s '%s': a fragment (#...) is never sent", source, url);
	curl_free(scheme);
	curl_free(host);
	curl_free(part);
	curl_url_cleanup(u);
	return rc;
}

/* RFC 5322's atext, without the letters and digits. */
static const char atext_punct[] = "!#$%&'*+-/=?^_`{|}~";

int notify_check_email(const char *addr, const char *source, struct err *e)
{
	const char *at = strchr(addr, '@'), *p;
	size_t label = 0;

	if (!at || strchr(at + 1, '@') || at == addr || !at[1] || strlen(addr) > 254 || at - addr > 64)
		goto bad;
	for (p = addr; p < at; p++) {
		if (*p == '.' ? p == addr || p + 1 == at || p[1] == '.' :
		    !(isascii((unsigned char)*p) && isalnum((unsigned char)*p)) && !strchr(atext_punct, *p))
			goto bad;
	}
	for (p = at + 1; ; p++) {
		if (*p == '.' || !*p) {
			if (label == 0 || p[-1] == '-')
				goto bad;
			label = 0;
			if (!*p)
				break;
		} else if ((isascii((unsigned char)*p) && isalnum((unsigned char)*p)) || (*p == '-' && label > 0)) {
			if (++label > 63)
				goto bad;
		} else {
			goto bad;
		}
	}
	return 0;
bad:
	return err_set_field(e, ERR_INVALID, "email", "%s: not a plain e-mail address such as "
			     "ten.nguoi@so-xd.example.vn (ASCII, one @, no name or spaces)", source);
}

int notify_secret(const uint8_t key[SECRET_KEY_BYTES], long long id, char out[NOTIFY_SECRET_HEX + 1],
		  struct err *e)
{
	uint8_t mac[SECRET_HASH_BYTES];
	char label[64];
	int n = snprintf(label, sizeof(label), "sipas webhook secret %lld", id);

	if (secret_hmac(key, SECRET_KEY_BYTES, label, (size_t)n, mac, e) != 0)
		return -1;
	secret_hex(mac, sizeof(mac), out);
	secret_wipe(mac, sizeof(mac));
	return 0;
}

/* ---- endpoints ---- */

/* Run st to its end (a write); ERR_DB with context on failure. */
static int step_done(sqlite3 *db, sqlite3_stmt *st, const char *context, struct err *e)
{
	return sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(db, e, context);
}

int notify_endpoint_add(sqlite3 *db, const char *agency_code, const char *agency_source, int kind,
			const char *target, const char *source, long long now, long long *id, struct err *e)
{
	sqlite3_stmt *st = NULL;
	long long agency_id = 0;
	int rc;

	assert(!sqlite3_get_autocommit(db));
	rc = kind == NOTIFY_WEBHOOK ? notify_check_webhook(target, source, e) : notify_check_email(target, source, e);
	if (rc)
		return rc;
	if (agency_code) {
		rc = db_prepare(db, "SELECT id FROM agencies WHERE code = ?1", &st, e);
		if (rc)
			return rc;
		sqlite3_bind_text(st, 1, agency_code, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			agency_id = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		st = NULL;
		if (!agency_id)
			return err_set_field(e, ERR_INVALID, "agency", "%s: no agency '%s' in the registry",
					     agency_source, agency_code);
	}
	rc = db_prepare(db, "INSERT INTO notify_endpoints(agency_id, kind, target, created_at) VALUES (?1, ?2, ?3, ?4)",
			&st, e);
	if (rc)
		return rc;
	if (agency_id)
		sqlite3_bind_int64(st, 1, agency_id);
	sqlite3_bind_text(st, 2, notify_kind_name(kind), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, target, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now);
	rc = step_done(db, st, "adding an endpoint", e);
	sqlite3_finalize(st);
	if (!rc)
		*id = sqlite3_last_insert_rowid(db);
	return rc;
}

/* ERR_NOT_FOUND unless endpoint id exists and was not removed; its
 * agency's code into agency (NULL: all) when given. */
static int endpoint_exists(sqlite3 *db, long long id, char *agency, size_t size, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = db_prepare(db, "SELECT a.code FROM notify_endpoints n LEFT JOIN agencies a ON a.id = n.agency_id "
			    "WHERE n.id = ?1 AND n.removed_at IS NULL", &st, e);

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) != SQLITE_ROW)
		rc = err_set(e, ERR_NOT_FOUND, "no endpoint %lld ('sipas notify list' shows them)", id);
	else if (agency)
		snprintf(agency, size, "%s", sqlite3_column_text(st, 0) ? (const char *)sqlite3_column_text(st, 0) : "");
	sqlite3_finalize(st);
	return rc;
}

int notify_endpoint_remove(sqlite3 *db, long long id, long long now, struct err *e)
{
	static const char *const sql[] = {
		"UPDATE notify_endpoints SET removed_at = ?2 WHERE id = ?1",
		"UPDATE outbox SET failed_at = ?2, last_error = 'endpoint removed before delivery' "
		"WHERE endpoint_id = ?1 AND delivered_at IS NULL AND failed_at IS NULL",
	};
	int rc;

	assert(!sqlite3_get_autocommit(db));
	rc = endpoint_exists(db, id, NULL, 0, e);
	for (size_t i = 0; !rc && i < sizeof(sql) / sizeof(sql[0]); i++) {
		sqlite3_stmt *st = NULL;

		rc = db_prepare(db, sql[i], &st, e);
		if (rc)
			break;
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, now);
		rc = step_done(db, st, "removing an endpoint", e);
		sqlite3_finalize(st);
	}
	return rc;
}

int notify_queue_test(sqlite3 *db, long long id, const char *actor, long long now,
		      char delivery[OUTBOX_DELIVERY_HEX + 1], struct err *e)
{
	char agency[64], at[32];
	time_t t = (time_t)now;
	struct tm tm;
	json_t *body;
	char *text = NULL;
	int rc;

	assert(!sqlite3_get_autocommit(db));
	rc = endpoint_exists(db, id, agency, sizeof(agency), e);
	if (rc)
		return rc;
	gmtime_r(&t, &tm);
	strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm);
	body = json_pack("{s:s, s:I, s:s?, s:s, s:s}", "event", "test", "endpoint", (json_int_t)id, "agency",
			 agency[0] ? agency : NULL, "sent_by", actor, "at", at);
	text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (!text)
		return err_set(e, ERR_NOMEM, "out of memory");
	rc = outbox_add(db, id, 0, "test", text, now, delivery, e);
	free(text);
	return rc;
}

static const char *column_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

int notify_queue_alert(sqlite3 *db, long long agency_id, long long alert_id, const char *event, const char *body,
		       long long now, long long *queued, struct err *e)
{
	sqlite3_stmt *st = NULL;
	long long n = 0;
	int rc, step;

	assert(!sqlite3_get_autocommit(db));
	/* the agency and those above it, then the endpoints of any of them or of all */
	rc = db_prepare(db, "WITH RECURSIVE up(id) AS (SELECT ?1 UNION SELECT a.parent_id FROM agencies a "
			"  JOIN up ON a.id = up.id WHERE a.parent_id IS NOT NULL) "
			"SELECT id FROM notify_endpoints WHERE removed_at IS NULL "
			"  AND (agency_id IS NULL OR agency_id IN (SELECT id FROM up)) ORDER BY id", &st, e);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, agency_id);
	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
		rc = outbox_add(db, sqlite3_column_int64(st, 0), alert_id, event, body, now, NULL, e);
		n++;
	}
	if (!rc && step != SQLITE_DONE)
		rc = db_fail(db, e, "finding the endpoints of an alert");
	sqlite3_finalize(st);
	if (!rc && queued)
		*queued = n;
	return rc;
}

int notify_list(sqlite3 *db, int (*fn)(const struct notify_endpoint_info *ep, void *arg), void *arg,
		struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = db_prepare(db,
			    "SELECT n.id, n.kind, a.code, n.target, n.created_at, "
			    "  (SELECT count(*) FROM outbox o WHERE o.endpoint_id = n.id AND o.delivered_at IS NULL "
			    "   AND o.failed_at IS NULL), "
			    "  (SELECT count(*) FROM outbox o WHERE o.endpoint_id = n.id AND o.delivered_at IS NOT NULL), "
			    "  (SELECT count(*) FROM outbox o WHERE o.endpoint_id = n.id AND o.failed_at IS NOT NULL), "
			    "  (SELECT o.last_error FROM outbox o WHERE o.endpoint_id = n.id AND o.last_error IS NOT NULL "
			    "   ORDER BY o.id DESC LIMIT 1) "
			    "FROM notify_endpoints n LEFT JOIN agencies a ON a.id = n.agency_id "
			    "WHERE n.removed_at IS NULL ORDER BY n.id", &st, e);
	int step;

	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
		struct notify_endpoint_info ep = {
			.id = sqlite3_column_int64(st, 0), .kind = kind_parse(column_text(st, 1)),
			.agency = column_text(st, 2), .target = column_text(st, 3),
			.created_at = sqlite3_column_int64(st, 4), .pending = sqlite3_column_int64(st, 5),
			.delivered = sqlite3_column_int64(st, 6), .failed = sqlite3_column_int64(st, 7),
			.last_error = column_text(st, 8),
		};

		rc = fn(&ep, arg);
	}
	if (!rc && step != SQLITE_DONE)
		rc = db_fail(db, e, "listing endpoints");
	sqlite3_finalize(st);
	return rc;
}

#define DELIVERY_SELECT "SELECT o.delivery, o.endpoint_id, o.event, o.created_at, o.attempts, o.next_at, " \
	"ifnull(o.delivered_at, 0), ifnull(o.failed_at, 0), ifnull(o.last_error, ''), n.kind, n.target " \
	"FROM outbox o JOIN notify_endpoints n ON n.id = o.endpoint_id "

static void delivery_read(sqlite3_stmt *st, struct notify_delivery *d)
{
	snprintf(d->delivery, sizeof(d->delivery), "%s", column_text(st, 0));
	d->endpoint_id = sqlite3_column_int64(st, 1);
	snprintf(d->event, sizeof(d->event), "%s", column_text(st, 2));
	d->created_at = sqlite3_column_int64(st, 3);
	d->attempts = sqlite3_column_int64(st, 4);
	d->next_at = sqlite3_column_int64(st, 5);
	d->delivered_at = sqlite3_column_int64(st, 6);
	d->failed_at = sqlite3_column_int64(st, 7);
	snprintf(d->last_error, sizeof(d->last_error), "%s", column_text(st, 8));
	d->kind = kind_parse(column_text(st, 9));
	snprintf(d->target, sizeof(d->target), "%s", column_text(st, 10));
}

int notify_delivery_find(sqlite3 *db, const char *delivery, struct notify_delivery *out, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = db_prepare(db, DELIVERY_SELECT "WHERE o.delivery = ?1", &st, e);

	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, delivery, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		delivery_read(st, out);
	else
		rc = err_set(e, ERR_NOT_FOUND, "no delivery %s", delivery);
	sqlite3_finalize(st);
	return rc;
}

int notify_list_failed(sqlite3 *db, long long limit, int (*fn)(const struct notify_delivery *d, void *arg),
		       void *arg, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = db_prepare(db, DELIVERY_SELECT "WHERE o.failed_at IS NOT NULL "
			    "ORDER BY o.failed_at DESC, o.id DESC LIMIT ?1", &st, e);
	int step;

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, limit > 0 ? limit : -1);
	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
		struct notify_delivery d;

		delivery_read(st, &d);
		rc = fn(&d, arg);
	}
	if (!rc && step != SQLITE_DONE)
		rc = db_fail(db, e, "listing failed deliveries");
	sqlite3_finalize(st);
	return rc;
}

int notify_smtp_is_local(const char *url)
{
	static const char *const local[] = { "127.0.0.1", "[::1]", "localhost" };
	CURLU *u = curl_url();
	char *host = NULL;
	int yes = 0;

	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
		for (size_t i = 0; i < sizeof(local) / sizeof(local[0]); i++)
			yes |= strcasecmp(host, local[i]) == 0;
	curl_free(host);
	curl_url_cleanup(u);
	return yes;
}

/* ---- the e-mail ---- */

/* A row due for delivery, copied out of the statement. */
struct due {
	long long id, endpoint_id, created_at, attempts;
	int kind;                 /* enum notify_kind */
	int removed;
	char delivery[OUTBOX_DELIVERY_HEX + 1];
	char *event, *body, *target, *agency;   /* agency NULL: every agency */
};

static void due_release(struct due *d)
{
	free(d->event);
	free(d->body);
	free(d->target);
	free(d->agency);
	memset(d, 0, sizeof(*d));
}

/* text into sb with every line ending CRLF (SMTP's), lone CRs dropped. */
static void add_crlf(struct strbuf *sb, const char *text)
{
	for (; *text; text++) {
		if (*text == '\n')
			strbuf_addstr(sb, "\r\n");
		else if (*text != '\r')
			strbuf_addch(sb, *text);
	}
}

/* The string member name of obj, or NULL. */
static const char *member(const json_t *obj, const char *name)
{
	return json_string_value(json_object_get(obj, name));
}

/* A JSON value as the mail shows it: a string as it is, anything else
 * as compact JSON with reals at 6 significant digits.  Owned (free). */
static char *value_text(const json_t *v)
{
	return json_is_string(v) ? strdup(json_string_value(v))
				 : json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(6));
}

/* The subject line, one line of text (controls made spaces). */
static void mail_subject(const struct due *d, const json_t *alert, struct strbuf *sb)
{
	const char *kind = member(alert, "kind"), *agency = member(alert, "agency");
	const char *sector = member(alert, "sector");
	const char *counter = member(alert, "counter") ? member(alert, "counter") : member(alert, "device");
	const char *verb = strncmp(d->event, "alert.", 6) == 0 ? d->event + 6 : d->event;

	if (kind) {
		strbuf_addf(sb, "sipas: %s %s at %s", kind, verb, agency ? agency : d->agency ? d->agency : "?");
		if (sector)
			strbuf_addf(sb, " (%s)", sector);
		if (counter)
			strbuf_addf(sb, ", %s", counter);
	} else if (strcmp(d->event, "test") == 0) {
		strbuf_addf(sb, "sipas: test notification for %s", d->agency ? d->agency : "all agencies");
	} else {
		strbuf_addf(sb, "sipas: %s", d->event);
	}
	for (size_t i = 0; i < sb->len; i++)
		if ((unsigned char)sb->buf[i] < 0x20 || sb->buf[i] == 0x7f)
			sb->buf[i] = ' ';
}

/* A Subject: header of subject: as it is in ASCII, else RFC 2047's
 * base64 encoded word. */
static void add_subject_header(struct strbuf *sb, const char *subject)
{
	size_t n = strlen(subject), b64 = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
	char *enc;
	int ascii = 1;

	for (const char *p = subject; *p; p++)
		ascii &= (unsigned char)*p < 0x80;
	if (ascii) {
		strbuf_addf(sb, "Subject: %s\r\n", subject);
		return;
	}
	enc = malloc(b64);
	if (!enc) {
		sb->failed = 1;
		return;
	}
	sodium_bin2base64(enc, b64, (const unsigned char *)subject, n, sodium_base64_VARIANT_ORIGINAL);
	strbuf_addf(sb, "Subject: =?UTF-8?B?%s?=\r\n", enc);
	free(enc);
}

/* The plain-text body: what happened, the evidence one figure a line,
 * and the JSON a webhook gets. */
static void mail_text(const struct due *d, const json_t *root, const json_t *alert, struct strbuf *sb)
{
	static const char *const fields[][2] = {
		{ "kind", "Alert" }, { "agency", "Agency" }, { "sector", "Sector" }, { "counter", "Counter" },
		{ "device", "Device" }, { "opened_at", "Opened" }, { "closed_at", "Closed" },
	};
	const json_t *evidence = json_object_get(alert, "evidence");
	const char *key;
	json_t *v;
	char *text;

	if (alert) {
		strbuf_addf(sb, "Event: %s\n", d->event);
		for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
			v = json_object_get(alert, fields[i][0]);
			if (!v || json_is_null(v))
				continue;
			text = value_text(v);
			strbuf_addf(sb, "%s: %s\n", fields[i][1], text ? text : "?");
			free(text);
		}
	} else if (strcmp(d->event, "test") == 0) {
		strbuf_addf(sb, "A test from sipas (asked for by %s): e-mail from sipas reaches this address.\n",
			    member(root, "sent_by") ? member(root, "sent_by") : "?");
	} else {
		strbuf_addf(sb, "Event: %s\n", d->event);
	}
	if (json_is_object(evidence)) {
		strbuf_addstr(sb, "\nEvidence:\n");
		json_object_foreach((json_t *)evidence, key, v) {
			text = value_text(v);
			strbuf_addf(sb, "  %s: %s\n", key, text ? text : "?");
			free(text);
		}
	}
	strbuf_addf(sb, "\nDelivery %s (the same on every attempt: a repeat is this one again).\n"
		    "\nAs JSON:\n", d->delivery);
	text = root ? json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(6)) : NULL;
	strbuf_addstr(sb, text ? text : d->body);
	strbuf_addch(sb, '\n');
	free(text);
}

/* The RFC 5322 message of d to its address, from smtp->from, into sb. */
static int mail_compose(const struct notify_smtp *smtp, const struct due *d, long long now, struct strbuf *sb,
			struct err *e)
{
	struct strbuf subject = STRBUF_INIT, text = STRBUF_INIT;
	json_t *root = json_loads(d->body, 0, NULL);
	const json_t *alert = json_object_get(root, "alert");
	char date[64];
	time_t t = (time_t)now;
	struct tm tm;

	if (!json_is_object(alert))
		alert = NULL;
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	mail_subject(d, alert, &subject);
	mail_text(d, root, alert, &text);
	strbuf_addf(sb, "Date: %s\r\nFrom: %s\r\nTo: %s\r\n", date, smtp->from, d->target);
	add_subject_header(sb, strbuf_str(&subject));
	strbuf_addf(sb, "Message-ID: <%s@sipas>\r\nX-Sipas-Delivery: %s\r\nX-Sipas-Event: %s\r\n"
		    "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
		    "Content-Transfer-Encoding: 8bit\r\n\r\n", d->delivery, d->delivery, d->event);
	add_crlf(sb, strbuf_str(&text));
	json_decref(root);
	strbuf_release(&subject);
	if (text.failed || subject.failed || sb->failed) {
		strbuf_release(&text);
		return err_set(e, ERR_NOMEM, "out of memory composing a mail");
	}
	strbuf_release(&text);
	return 0;
}

/* ---- the worker ---- */

struct notify_worker {
	sqlite3 *db;
	sqlite3_stmt *take, *record;
	uint8_t key[SECRET_KEY_BYTES];
	const struct notify_smtp *smtp;   /* NULL or url NULL: no e-mail */
	CURL *curl;
	char curl_error[CURL_ERROR_SIZE];
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int stopping;
};

/* libcurl's reader of an upload: the message in a strbuf, from pos. */
struct upload {
	const struct strbuf *msg;
	size_t pos;
};

static size_t read_upload(char *buf, size_t size, size_t nitems, void *arg)
{
	struct upload *u = arg;
	size_t n = u->msg->len - u->pos;

	if (n > size * nitems)
		n = size * nitems;
	memcpy(buf, u->msg->buf + u->pos, n);
	u->pos += n;
	return n;
}

/* A receiver's reply body is not kept. */
static size_t discard(char *ptr, size_t size, size_t nmemb, void *arg)
{
	(void)ptr;
	(void)arg;
	return size * nmemb;
}

/* The options every transfer has: bounded in time, no signals (a thread),
 * no redirects, errors in w->curl_error. */
static void transfer_defaults(struct notify_worker *w, const char *protocols)
{
	curl_easy_reset(w->curl);
	w->curl_error[0] = '\0';
	curl_easy_setopt(w->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(w->curl, CURLOPT_CONNECTTIMEOUT, (long)NOTIFY_CONNECT_SECONDS);
	curl_easy_setopt(w->curl, CURLOPT_TIMEOUT, (long)NOTIFY_TRANSFER_SECONDS);
	curl_easy_setopt(w->curl, CURLOPT_PROTOCOLS_STR, protocols);
	curl_easy_setopt(w->curl, CURLOPT_ERRORBUFFER, w->curl_error);
	curl_easy_setopt(w->curl, CURLOPT_WRITEFUNCTION, discard);
}

/* Why a transfer failed into e: libcurl's detailed message when it has
 * one, without its full stop. */
static int transfer_error(struct notify_worker *w, CURLcode code, struct err *e)
{
	const char *why = w->curl_error[0] ? w->curl_error : curl_easy_strerror(code);
	int n = (int)strlen(why);

	if (n > 0 && why[n - 1] == '.')
		n--;
	return err_set(e, ERR_IO, "%.*s", n, why);
}

/* POST d's body to its URL, signed; 0 on a 2xx answer. */
static int send_webhook(struct notify_worker *w, const struct due *d, struct err *e)
{
	struct curl_slist *headers = NULL, *h;
	char secret[NOTIFY_SECRET_HEX + 1], hex[2 * SECRET_HASH_BYTES + 1], line[160];
	uint8_t mac[SECRET_HASH_BYTES];
	long status = 0;
	CURLcode code;
	int rc;

	rc = notify_secret(w->key, d->endpoint_id, secret, e);
	if (!rc)
		rc = secret_hmac((const uint8_t *)secret, NOTIFY_SECRET_HEX, d->body, strlen(d->body), mac, e);
	secret_wipe(secret, sizeof(secret));
	if (rc)
		return rc;
	secret_hex(mac, sizeof(mac), hex);
	headers = curl_slist_append(headers, "Content-Type: application/json");
	headers = headers ? curl_slist_append(headers, "Expect:") : NULL;   /* no 100-continue round trip */
	snprintf(line, sizeof(line), "X-Sipas-Delivery: %s", d->delivery);
	headers = headers ? curl_slist_append(headers, line) : NULL;
	snprintf(line, sizeof(line), "X-Sipas-Event: %s", d->event);
	headers = headers ? curl_slist_append(headers, line) : NULL;
	snprintf(line, sizeof(line), "X-Sipas-Signature: sha256=%s", hex);
	h = headers ? curl_slist_append(headers, line) : NULL;
	if (!h) {
		curl_slist_free_all(headers);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	headers = h;
	transfer_defaults(w, "http,https");
	curl_easy_setopt(w->curl, CURLOPT_URL, d->target);
	curl_easy_setopt(w->curl, CURLOPT_USERAGENT, "sipas");
	curl_easy_setopt(w->curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(w->curl, CURLOPT_POSTFIELDS, d->body);
	curl_easy_setopt(w->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(d->body));
	code = curl_easy_perform(w->curl);
	if (code != CURLE_OK)
		rc = transfer_error(w, code, e);
	else if (curl_easy_getinfo(w->curl, CURLINFO_RESPONSE_CODE, &status), status < 200 || status > 299)
		rc = err_set(e, ERR_IO, "HTTP %ld", status);
	curl_easy_setopt(w->curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(headers);
	return rc;
}

/* Mail d to its address through the SMTP server; 0 once it took it. */
static int send_email(struct notify_worker *w, const struct due *d, long long now, struct err *e)
{
	const struct notify_smtp *smtp = w->smtp;
	struct strbuf msg = STRBUF_INIT;
	struct curl_slist *rcpt = NULL;
	struct upload up = { &msg, 0 };
	char addr[NOTIFY_TARGET_MAX + 3];
	CURLcode code;
	int rc;

	if (!smtp || !smtp->url)
		return err_set(e, ERR_INVALID, "no SMTP server: sipas serve runs without --smtp-url");
	rc = mail_compose(smtp, d, now, &msg, e);
	snprintf(addr, sizeof(addr), "<%s>", d->target);
	if (!rc && !(rcpt = curl_slist_append(NULL, addr)))
		rc = err_set(e, ERR_NOMEM, "out of memory");
	if (rc)
		goto out;
	transfer_defaults(w, "smtp,smtps");
	curl_easy_setopt(w->curl, CURLOPT_URL, smtp->url);
	snprintf(addr, sizeof(addr), "<%s>", smtp->from);
	curl_easy_setopt(w->curl, CURLOPT_MAIL_FROM, addr);
	curl_easy_setopt(w->curl, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(w->curl, CURLOPT_USE_SSL, smtp->plain ? (long)CURLUSESSL_NONE : (long)CURLUSESSL_ALL);
	if (smtp->ca)
		curl_easy_setopt(w->curl, CURLOPT_CAINFO, smtp->ca);
	if (smtp->user) {
		curl_easy_setopt(w->curl, CURLOPT_USERNAME, smtp->user);
		curl_easy_setopt(w->curl, CURLOPT_PASSWORD, smtp->password);
	}
	curl_easy_setopt(w->curl, CURLOPT_READFUNCTION, read_upload);
	curl_easy_setopt(w->curl, CURLOPT_READDATA, &up);
	curl_easy_setopt(w->curl, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(w->curl, CURLOPT_INFILESIZE, (long)msg.len);
	code = curl_easy_perform(w->curl);
	if (code != CURLE_OK)
		rc = transfer_error(w, code, e);
	curl_easy_setopt(w->curl, CURLOPT_MAIL_RCPT, NULL);
out:
	curl_slist_free_all(rcpt);
	strbuf_release(&msg);
	return rc;
}

static char *dup_column(sqlite3_stmt *st, int i)
{
	const char *s = column_text(st, i);

	return s ? strdup(s) : NULL;
}

/* The oldest row due at now into *d: 1, 0 when none is, -1 with e. */
static int take_due(struct notify_worker *w, long long now, struct due *d, struct err *e)
{
	int step, rc = 0;

	sqlite3_bind_int64(w->take, 1, now);
	step = sqlite3_step(w->take);
	if (step == SQLITE_ROW) {
		d->id = sqlite3_column_int64(w->take, 0);
		snprintf(d->delivery, sizeof(d->delivery), "%s", column_text(w->take, 1));
		d->endpoint_id = sqlite3_column_int64(w->take, 2);
		d->event = dup_column(w->take, 3);
		d->body = dup_column(w->take, 4);
		d->created_at = sqlite3_column_int64(w->take, 5);
		d->attempts = sqlite3_column_int64(w->take, 6);
		d->kind = kind_parse(column_text(w->take, 7));
		d->target = dup_column(w->take, 8);
		d->removed = sqlite3_column_int(w->take, 9);
		d->agency = dup_column(w->take, 10);
		rc = d->event && d->body && d->target ? 1 : err_set(e, ERR_NOMEM, "out of memory");
	} else if (step != SQLITE_DONE) {
		rc = db_fail(w->db, e, "reading the outbox");
	}
	sqlite3_reset(w->take);
	if (rc != 1)
		due_release(d);
	return rc;
}

/* When a row that failed its attempt-th try at now is due again: the
 * backoff, doubling from NOTIFY_RETRY_FIRST_SECONDS, capped, and never
 * past the give-up time (one last try then); 0 when it is given up. */
static long long retry_at(const struct due *d, long long attempt, long long now)
{
	long long wait = NOTIFY_RETRY_FIRST_SECONDS, last = d->created_at + NOTIFY_GIVE_UP_SECONDS;

	for (long long i = 1; i < attempt && wait < NOTIFY_RETRY_MAX_SECONDS; i++)
		wait *= 2;
	if (wait > NOTIFY_RETRY_MAX_SECONDS)
		wait = NOTIFY_RETRY_MAX_SECONDS;
	if (now >= last)
		return 0;
	return now + wait < last ? now + wait : last;
}

/* Record the attempt's outcome (failed: e, else delivered). */
static void record(struct notify_worker *w, const struct due *d, long long now, const struct err *failed)
{
	long long attempt = d->attempts + 1, next = failed ? retry_at(d, attempt, now) : 0;
	struct err e;

	sqlite3_bind_int64(w->record, 1, d->id);
	if (!failed)
		sqlite3_bind_int64(w->record, 2, now);
	if (failed && !next)
		sqlite3_bind_int64(w->record, 3, now);
	sqlite3_bind_int64(w->record, 4, next ? next : now);
	if (failed) {
		size_t n = strnlen(failed->text, NOTIFY_ERROR_MAX);

		while (n > 0 && n < strlen(failed->text) && ((unsigned char)failed->text[n] & 0xc0) == 0x80)
			n--;   /* cut before a character, not inside one */
		sqlite3_bind_text(w->record, 5, failed->text, (int)n, SQLITE_TRANSIENT);
	}
	err_clear(&e);
	if (sqlite3_step(w->record) != SQLITE_DONE) {
		/* the row stays due: it will be sent again, under the same id */
		db_fail(w->db, &e, "recording a delivery");
		fprintf(stderr, "sipas serve: notification %s to endpoint %lld: %s\n", d->delivery, d->endpoint_id,
			e.text);
	} else if (failed) {
		fprintf(stderr, "sipas serve: notification %s to endpoint %lld, attempt %lld: %s; %s\n", d->delivery,
			d->endpoint_id, attempt, failed->text, next ? "will retry" : "given up after 24 hours");
	}
	sqlite3_clear_bindings(w->record);
	sqlite3_reset(w->record);
}

/* Send d and record what came of it. */
static void deliver(struct notify_worker *w, const struct due *d)
{
	struct err e;
	int rc;

	err_clear(&e);
	if (d->removed)
		rc = err_set(&e, ERR_INVALID, "endpoint removed before delivery");
	else if (d->kind == NOTIFY_WEBHOOK)
		rc = send_webhook(w, d, &e);
	else
		rc = send_email(w, d, (long long)time(NULL), &e);
	record(w, d, (long long)time(NULL), rc ? &e : NULL);
}

static void *worker_main(void *arg)
{
	struct notify_worker *w = arg;
	struct timespec until;
	struct due d = { 0 };
	struct err e;
	int found;

	for (;;) {
		pthread_mutex_lock(&w->lock);
		if (w->stopping) {
			pthread_mutex_unlock(&w->lock);
			break;
		}
		pthread_mutex_unlock(&w->lock);
		err_clear(&e);
		found = take_due(w, (long long)time(NULL), &d, &e);
		if (found == 1) {
			deliver(w, &d);
			due_release(&d);
			continue;
		}
		if (found < 0)
			fprintf(stderr, "sipas serve: notifications: %s\n", e.text);
		/* nothing due: look again in a second, or stop */
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += 1;
		pthread_mutex_lock(&w->lock);
		while (!w->stopping && pthread_cond_timedwait(&w->wake, &w->lock, &until) == 0)
			;
		pthread_mutex_unlock(&w->lock);
	}
	return NULL;
}

static void worker_free(struct notify_worker *w)
{
	sqlite3_finalize(w->take);
	sqlite3_finalize(w->record);
	db_close(w->db);
	if (w->curl)
		curl_easy_cleanup(w->curl);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->wake);
	secret_wipe(w->key, sizeof(w->key));
	free(w);
	curl_global_cleanup();
}

/* Say at start that e-mail endpoints exist which nothing will mail. */
static int warn_no_smtp(sqlite3 *db, struct err *e)
{
	long long n = 0;
	int rc = db_query_int(db, "SELECT count(*) FROM notify_endpoints WHERE kind = 'email' AND removed_at IS NULL",
			      &n, e);

	if (!rc && n > 0)
		fprintf(stderr, "sipas serve: warning: %lld e-mail endpoint%s but no --smtp-url: their notifications "
			"wait, and are given up 24 hours after they were queued\n", n, n == 1 ? "" : "s");
	return rc;
}

int notify_start(const char *db_path, const uint8_t key[SECRET_KEY_BYTES], const struct notify_smtp *smtp,
		 struct notify_worker **out, struct err *e)
{
	struct notify_worker *w = calloc(1, sizeof(*w));
	pthread_condattr_t attr;
	int rc;

	if (!w)
		return err_set(e, ERR_NOMEM, "out of memory");
	/* before the thread: curl_global_init is not thread-safe */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&w->wake, &attr);
	pthread_condattr_destroy(&attr);
	memcpy(w->key, key, SECRET_KEY_BYTES);
	w->smtp = smtp;
	w->curl = curl_easy_init();
	rc = w->curl ? 0 : err_set(e, ERR_INTERNAL, "libcurl did not start");
	if (!rc)
		rc = db_open(db_path, 0, &w->db, e);
	if (!rc)
		rc = db_prepare(w->db,
				"SELECT o.id, o.delivery, o.endpoint_id, o.event, o.body, o.created_at, o.attempts, "
				"  n.kind, n.target, n.removed_at IS NOT NULL, a.code "
				"FROM outbox o JOIN notify_endpoints n ON n.id = o.endpoint_id "
				"  LEFT JOIN agencies a ON a.id = n.agency_id "
				"WHERE o.delivered_at IS NULL AND o.failed_at IS NULL AND o.next_at <= ?1 "
				"ORDER BY o.next_at, o.id LIMIT 1", &w->take, e);
	if (!rc)
		rc = db_prepare(w->db,
				"UPDATE outbox SET attempts = attempts + 1, delivered_at = ?2, failed_at = ?3, "
				"  next_at = ?4, last_error = ?5 "
				"WHERE id = ?1 AND delivered_at IS NULL AND failed_at IS NULL", &w->record, e);
	if (!rc && (!smtp || !smtp->url))
		rc = warn_no_smtp(w->db, e);
	if (!rc && pthread_create(&w->thread, NULL, worker_main, w) != 0)
		rc = err_set(e, ERR_INTERNAL, "cannot start the notification thread");
	if (rc) {
		worker_free(w);
		return rc;
	}
	*out = w;
	return 0;
}

void notify_quit(struct notify_worker *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = 1;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
}

void notify_stop(struct notify_worker *w)
{
	if (!w)
		return;
	notify_quit(w);
	pthread_join(w->thread, NULL);
	worker_free(w);
}
