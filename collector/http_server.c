/*
 * http_server.c - a request's life in the collector (http_parts.h): each
 * request gets one `struct request_state`, created on libmicrohttpd's
 * first call, filled with the body on the upload calls, answered on the
 * last call, and freed in the completed callback, which also writes the
 * access log line (http_log.c) and records the metrics.
 *
 * A body is admitted from the headers (docs/collector.md, "Limits"): its
 * route's limit, then room under --max-buffered, which counts the bytes
 * every request may still buffer.  A route that answers later (a
 * submission waits for its commit) gives a deferred reply (app.h): the
 * request is suspended, its start() called, and once it resumes its
 * finish() fills the reply.  Nothing here knows what the work is.
 *
 * A route whose limit is above COL_MAX_HELD_BODY (the console's imports)
 * takes a multipart/form-data upload instead: libmicrohttpd's post
 * processor parses it as it comes, its file part is written to an
 * unlinked temporary file beside the database and its short fields kept
 * (struct col_upload); it is limited by its route's limit alone, checked
 * from Content-Length and again as it comes, and its request deadline is
 * COL_UPLOAD_SECONDS once the sender is known.
 */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <microhttpd.h>

#include "../lib/clock.h"
#include "http_parts.h"
#include "request.h"
#include "routes.h"

/* What a request's line and headers may hold, checked on the first call
 * (oversized_request): beyond, 414 or 431 from the collector itself. */
#define MAX_TARGET_BYTES (8 * 1024)   /* path and query */
#define MAX_QUERY_PARAMS 64
#define MAX_HEADER_BYTES (16 * 1024)
#define MAX_HEADER_FIELDS 64

/* A connection's memory as libmicrohttpd lays it out (col_http_too_many_params). */
#define POOL_ENTRY_BYTES 80           /* an entry, with a margin */
#define POOL_RESERVE (8 * 1024)       /* for the header fields and the reply */

#define UPLOAD_PARSE_BUFFER (64 * 1024)  /* the post processor's, per upload */

struct request_state {
	struct MHD_Connection *conn;   /* set while deferred, for the resume */
	struct col_conn *c;            /* NULL if its listing failed (no memory) */
	struct col_deferred *deferred; /* suspended until its work resumes it */
	double started;                /* clock_seconds */
	char method[32];    /* copies for the access log, escaped; truncated when longer */
	char path[256];
	unsigned status;
	int route;                     /* for the metrics: col_route's answer */
	struct col_match match;        /* from col_precheck, for col_route */
	size_t limit;                  /* the route's body limit */
	size_t reserved;               /* of col_server.buffered, released at the end */
	struct strbuf body;
	int refused;                   /* the body is dropped; answer `why` */
	enum col_error why;
	char why_text[160];            /* what was wrong with an upload, "" for the usual words */
	struct col_sender sender;      /* from col_precheck, on the first call */
	/* a streamed upload (limit above COL_MAX_HELD_BODY) */
	struct MHD_PostProcessor *parser;  /* while its body comes */
	struct col_upload *upload;     /* what came; NULL for any other route */
	uint64_t received;             /* body bytes, for the route's limit */
	int routed;                    /* counted in col_server.unanswered */
};

/* What holds of a request between libmicrohttpd's calls: a refused body
 * is never deferred and holds nothing; a kept body has room reserved for
 * it, within the route's limit. */
static void assert_request_state(const struct request_state *st)
{
	assert(!(st->refused && st->deferred));
	assert(st->reserved <= st->limit);
	assert(st->body.len <= st->limit);
	assert(!st->refused || (st->body.len == 0 && st->reserved == 0));
	assert(!st->deferred || st->conn);
	assert(!st->upload || (st->body.len == 0 && st->reserved == 0 && st->received <= st->limit));
	assert(!st->refused || !st->upload);
}

static const char *get_header(void *cls, const char *name)
{
	return MHD_lookup_connection_value(cls, MHD_HEADER_KIND, name);
}

static const char *get_query(void *cls, const char *name)
{
	return MHD_lookup_connection_value(cls, MHD_GET_ARGUMENT_KIND, name);
}

static const char *get_cookie(void *cls, const char *name)
{
	return MHD_lookup_connection_value(cls, MHD_COOKIE_KIND, name);
}

/* A rate-limit key for the client address: IPv4 as is, IPv6 by its /64;
 * and the address as text into text (INET6_ADDRSTRLEN bytes; "unknown"). */
static uint64_t client_key(struct MHD_Connection *conn, char text[INET6_ADDRSTRLEN])
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	uint64_t key = 1ull << 63;

	strcpy(text, "unknown");
	if (!ci || !ci->client_addr)
		return key;
	if (ci->client_addr->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)(const void *)ci->client_addr;

		inet_ntop(AF_INET, &a->sin_addr, text, INET6_ADDRSTRLEN);
		return key | ntohl(a->sin_addr.s_addr);
	}
	if (ci->client_addr->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)(const void *)ci->client_addr;
		uint64_t prefix;

		inet_ntop(AF_INET6, &a->sin6_addr, text, INET6_ADDRSTRLEN);
		memcpy(&prefix, a->sin6_addr.s6_addr, sizeof(prefix));
		return key | (1ull << 62) | (prefix & ((1ull << 62) - 1));
	}
	return key;
}

/* MHD_get_connection_values' callback: count a field and its bytes. */
static enum MHD_Result tally_field(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	size_t *tally = cls;

	(void)kind;
	tally[0]++;
	tally[1] += strlen(key) + (value ? strlen(value) : 0) + 2;
	return MHD_YES;
}

/* The collector's own limits on a request's line and headers (MAX_*):
 * COL_E_URI_TOO_LONG or COL_E_HEADERS_TOO_LARGE with its reason in why,
 * or COL_E_COUNT when the request is within them. */
static enum col_error oversized_request(struct MHD_Connection *conn, const char *url, char *why, size_t n)
{
	size_t params[2] = { 0, 0 }, fields[2] = { 0, 0 };

	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, tally_field, params);
	MHD_get_connection_values(conn, MHD_HEADER_KIND, tally_field, fields);
	if (strlen(url) + params[1] > MAX_TARGET_BYTES || params[0] > MAX_QUERY_PARAMS) {
		snprintf(why, n, "the request target may hold %d KiB and %d query parameters",
			 MAX_TARGET_BYTES / 1024, MAX_QUERY_PARAMS);
		return COL_E_URI_TOO_LONG;
	}
	if (fields[1] > MAX_HEADER_BYTES || fields[0] > MAX_HEADER_FIELDS) {
		snprintf(why, n, "the request may have %d header fields of %d KiB together",
			 MAX_HEADER_FIELDS, MAX_HEADER_BYTES / 1024);
		return COL_E_HEADERS_TOO_LARGE;
	}
	return COL_E_COUNT;
}

/* MHD's URI log callback, called with the request target before MHD lists
 * its query parameters in the connection's memory.  When more parameters
 * than fit there are coming, libmicrohttpd 0.9.75 runs out of memory,
 * queues its own 431, and then goes on reading the request, holding the
 * connection unanswered until the idle timeout: such a connection is shut
 * down at once instead (logged as 414).  Returns NULL: col_http_request
 * makes the request's state. */
void *col_http_too_many_params(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct col_server *srv = cls;
	const char *query = strchr(uri, '?');
	size_t len = strlen(uri), params = 0, buffer, room;
	const union MHD_ConnectionInfo *ci;

	if (!query)
		return NULL;
	for (const char *p = query; (p = strchr(p + 1, '&'));)
		params++;
	params++;
	/* the read buffer is half the memory, or grown to hold the line */
	buffer = len > COL_HTTP_CONNECTION_MEMORY / 2 ? len + COL_HTTP_CONNECTION_MEMORY / 8
						      : COL_HTTP_CONNECTION_MEMORY / 2;
	room = COL_HTTP_CONNECTION_MEMORY > buffer + POOL_RESERVE ? COL_HTTP_CONNECTION_MEMORY - buffer - POOL_RESERVE
								  : 0;
	if (params <= room / POOL_ENTRY_BYTES)
		return NULL;
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	if (ci && ci->socket_context)
		col_deadline_cut(ci->socket_context);
	else if ((ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD)))
		shutdown(ci->connect_fd, SHUT_RDWR);  /* a connection that could not be listed */
	col_log_closed(srv->access_log, MHD_HTTP_URI_TOO_LONG, "closed a connection whose request had more "
		       "query parameters than a connection's memory holds (%zu)", params);
	return NULL;
}

/* A deferred reply's resume(): its work is over, let MHD call us again. */
static void resume(void *arg)
{
	struct request_state *st = arg;

	MHD_resume_connection(st->conn);
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, struct col_reply *reply)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char retry[16];

	if (reply->static_body) {
		/* compiled in: MHD sends it from where it is */
		resp = MHD_create_response_from_buffer(reply->static_len, (void *)reply->static_body,
						       MHD_RESPMEM_PERSISTENT);
	} else {
		size_t len = reply->body.len;
		char *body = strbuf_detach(&reply->body, NULL);

		/* MHD takes the body and frees it with the response */
		resp = body ? MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE) : NULL;
		if (!resp)
			free(body);
	}
	if (!resp)
		return MHD_NO;
	if (reply->content_type)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, reply->content_type);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	/* no script, style or request goes anywhere but here, and no page of
	 * this service can be framed by another */
	MHD_add_response_header(resp, "Content-Security-Policy", reply->csp ? reply->csp :
				"default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
	if (reply->location[0])
		MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, reply->location);
	if (reply->set_cookie[0])
		MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, reply->set_cookie);
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
				reply->cache_control ? reply->cache_control : "no-store");
	if (reply->etag)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, reply->etag);
	if (reply->content_encoding)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, reply->content_encoding);
	if (reply->vary)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, reply->vary);
	if (reply->retry_after > 0) {
		snprintf(retry, sizeof(retry), "%d", reply->retry_after);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, retry);
	}
	if (reply->allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, reply->allow);
	ret = MHD_queue_response(conn, reply->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* Reserve body bytes so the request holds `total` of server.buffered;
 * -1 when that would pass --max-buffered. */
static int reserve_body(struct col_server *srv, struct request_state *st, size_t total)
{
	size_t extra, before;

	if (total <= st->reserved)
		return 0;
	extra = total - st->reserved;
	before = atomic_fetch_add(&srv->buffered, extra);
	if (before + extra > srv->max_buffered) {
		atomic_fetch_sub(&srv->buffered, extra);
		return -1;
	}
	st->reserved = total;
	return 0;
}

/* Drop the body (what was read and what is still to come) and answer
 * `why` when the request ends. */
static void drop_upload(struct request_state *st);

static void refuse_body(struct col_server *srv, struct request_state *st, enum col_error why)
{
	drop_upload(st);
	st->refused = 1;
	st->why = why;
	strbuf_release(&st->body);
	atomic_fetch_sub(&srv->buffered, st->reserved);
	st->reserved = 0;
}

static void body_refusal(struct col_app *app, const struct request_state *st, struct col_reply *reply)
{
	char why[sizeof(st->method) + sizeof(st->path) + sizeof(st->why_text)];

	if (st->why_text[0])
		snprintf(why, sizeof(why), "%s", st->why_text);
	else if (st->why == COL_E_TOO_LARGE && st->limit)
		snprintf(why, sizeof(why), "request body over %zu KiB", st->limit / 1024);
	else if (st->why == COL_E_TOO_LARGE)
		snprintf(why, sizeof(why), "%s %s takes no request body", st->method, st->path);
	else if (st->why == COL_E_UNAVAILABLE)
		snprintf(why, sizeof(why), "the collector is receiving too many request bodies: retry later");
	else
		why[0] = '\0';
	col_reply_error(app, reply, st->why, why, NULL);
}

/* From the headers: a declared body over the route's limit is refused
 * (413), and one that would take the bodies of all requests over
 * --max-buffered (503); else its room is reserved.  A body without a
 * Content-Length (chunked) is checked as it comes.  0 to read the body. */
static int admit_body(struct col_server *srv, struct request_state *st, struct MHD_Connection *conn)
{
	const char *length = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	unsigned long long declared;

	if (!length)
		return 0;
	declared = strtoull(length, NULL, 10);   /* MHD answers 400 to a malformed one */
	if (declared > st->limit)
		refuse_body(srv, st, COL_E_TOO_LARGE);
	else if (reserve_body(srv, st, (size_t)declared) != 0)
		refuse_body(srv, st, COL_E_UNAVAILABLE);
	return st->refused ? -1 : 0;
}

/* ---- streamed uploads ---- */

/* Close what an upload holds (its parser and its file, which goes with
 * its descriptor).  Idempotent. */
static void drop_upload(struct request_state *st)
{
	if (st->parser)
		MHD_destroy_post_processor(st->parser);
	st->parser = NULL;
	if (st->upload && st->upload->fd >= 0)
		close(st->upload->fd);
	free(st->upload);
	st->upload = NULL;
}

/* Refuse an upload for `why`, saying what was wrong (printf-style). */
static void refuse_upload(struct col_server *srv, struct request_state *st, enum col_error why, const char *fmt,
			  ...) __attribute__((format(printf, 4, 5)));

static void refuse_upload(struct col_server *srv, struct request_state *st, enum col_error why, const char *fmt,
			  ...)
{
	va_list ap;

	refuse_body(srv, st, why);
	va_start(ap, fmt);
	vsnprintf(st->why_text, sizeof(st->why_text), fmt, ap);
	va_end(ap);
}

/* A temporary file for an upload, beside the database (its filesystem is
 * the one sized for data) or else in $TMPDIR, unlinked at once: nothing
 * is left behind, whatever happens to the request or the process. */
static int open_upload_file(const struct col_app *app)
{
	const char *slash = strrchr(app->db_path, '/'), *tmp = getenv("TMPDIR");
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%.*s.sipas-upload-XXXXXX", slash ? (int)(slash - app->db_path + 1) : 0,
		 app->db_path);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0) {
		snprintf(path, sizeof(path), "%s/sipas-upload-XXXXXX", tmp && *tmp ? tmp : "/tmp");
		fd = mkostemp(path, O_CLOEXEC);
	}
	if (fd >= 0)
		unlink(path);
	return fd;
}

static int write_all(int fd, const char *data, size_t n)
{
	while (n) {
		ssize_t w = write(fd, data, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		data += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The post processor's callback, for each piece of each part: a part with
 * a file name goes to the file (one such part), any other is a short
 * field.  MHD_NO stops the parse, st->why_text saying why. */
static enum MHD_Result upload_part(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
				   const char *content_type, const char *transfer_encoding, const char *data,
				   uint64_t off, size_t size)
{
	struct request_state *st = cls;
	struct col_upload *u = st->upload;
	size_t i, have;

	(void)kind;
	(void)content_type;
	(void)transfer_encoding;
	if (filename) {
		if ((u->file_field[0] && strcmp(u->file_field, key) != 0) || strlen(key) >= sizeof(u->file_field)) {
			snprintf(st->why_text, sizeof(st->why_text), "one file per upload, in a field of a short name "
				 "(not %.40s)", key);
			st->why = COL_E_INVALID;
			return MHD_NO;
		}
		if (!u->file_field[0]) {
			snprintf(u->file_field, sizeof(u->file_field), "%s", key);
			snprintf(u->filename, sizeof(u->filename), "%s", filename);
		}
		if (write_all(u->fd, data, size) != 0) {
			snprintf(st->why_text, sizeof(st->why_text), "the upload cannot be kept on disk: %s",
				 strerror(errno));
			st->why = errno == ENOSPC || errno == EDQUOT || errno == EFBIG ? COL_E_STORAGE_FULL : COL_E_IO;
			return MHD_NO;
		}
		u->size += size;
		return MHD_YES;
	}
	for (i = 0; i < u->n_fields && strcmp(u->field[i].name, key) != 0; i++)
		;
	if (i == u->n_fields && off == 0 && i < COL_UPLOAD_FIELDS && strlen(key) < sizeof(u->field[i].name)) {
		snprintf(u->field[i].name, sizeof(u->field[i].name), "%s", key);
		u->n_fields++;
	}
	have = i < u->n_fields ? strlen(u->field[i].value) : 0;
	if (i == u->n_fields || (off == 0 && have) || have + size >= sizeof(u->field[i].value)) {
		snprintf(st->why_text, sizeof(st->why_text), "field %.40s is unexpected, repeated or over %d bytes",
			 key, COL_UPLOAD_VALUE_MAX - 1);
		st->why = COL_E_INVALID;
		return MHD_NO;
	}
	memcpy(u->field[i].value + have, data, size);
	u->field[i].value[have + size] = '\0';
	return MHD_YES;
}

/* From the headers, for a route that streams its body: a declared length
 * over the route's limit is refused (413) before any byte is read; a body
 * that is no multipart/form-data (415); else the parser and the file are
 * made and the request may take COL_UPLOAD_SECONDS to arrive.  0 to read
 * the body. */
static int begin_upload(struct col_server *srv, struct request_state *st, struct MHD_Connection *conn)
{
	const char *length = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);

	if (length && strtoull(length, NULL, 10) > st->limit) {
		refuse_body(srv, st, COL_E_TOO_LARGE);
		return -1;
	}
	st->upload = calloc(1, sizeof(*st->upload));
	if (!st->upload) {
		refuse_body(srv, st, COL_E_OUT_OF_MEMORY);
		return -1;
	}
	st->upload->fd = -1;
	st->parser = MHD_create_post_processor(conn, UPLOAD_PARSE_BUFFER, upload_part, st);
	if (!st->parser) {
		refuse_upload(srv, st, COL_E_UNSUPPORTED_MEDIA_TYPE, "the body must be multipart/form-data");
		return -1;
	}
	st->upload->fd = open_upload_file(&srv->app);
	if (st->upload->fd < 0) {
		refuse_upload(srv, st, COL_E_IO, "no temporary file for the upload: %s", strerror(errno));
		return -1;
	}
	col_deadline_extend(st->c, COL_UPLOAD_SECONDS);
	return 0;
}

/* An upload call of a streamed body: counted against the route's limit
 * and parsed, its file part written out. */
static void stream_upload(struct col_server *srv, struct request_state *st, const char *data, size_t n)
{
	if (st->received + n > st->limit) {
		refuse_body(srv, st, COL_E_TOO_LARGE);
		return;
	}
	st->received += n;
	if (MHD_post_process(st->parser, data, n) != MHD_YES) {
		/* upload_part's reason, or the parser's */
		enum col_error why = st->why_text[0] ? st->why : COL_E_INVALID;
		char text[sizeof(st->why_text)];

		snprintf(text, sizeof(text), "%s", st->why_text[0] ? st->why_text :
			 "the body is not well-formed multipart/form-data");
		refuse_upload(srv, st, why, "%s", text);
	}
}

/* The whole upload has come: the parser must have seen its end. */
static void end_upload(struct col_server *srv, struct request_state *st)
{
	int whole = MHD_destroy_post_processor(st->parser) == MHD_YES;

	st->parser = NULL;
	if (!whole)
		refuse_upload(srv, st, COL_E_INVALID, "the body is not well-formed multipart/form-data");
}

const char *col_upload_field(const struct col_upload *u, const char *name)
{
	for (size_t i = 0; i < u->n_fields; i++)
		if (strcmp(u->field[i].name, name) == 0)
			return u->field[i].value;
	return NULL;
}

/* An upload call: keep the bytes while the route's limit, --max-buffered
 * and memory allow; past that, drop them all (the reply says why). */
static void take_upload(struct col_server *srv, struct request_state *st, const char *data, size_t n)
{
	size_t total = st->body.len + n;

	if (st->refused)
		return;
	if (st->upload) {
		stream_upload(srv, st, data, n);
		return;
	}
	if (total > st->limit)
		refuse_body(srv, st, COL_E_TOO_LARGE);
	else if (reserve_body(srv, st, total) != 0)
		refuse_body(srv, st, COL_E_UNAVAILABLE);
	else if (strbuf_add(&st->body, data, n) < 0)
		refuse_body(srv, st, COL_E_OUT_OF_MEMORY);
}

/* The request has arrived whole (or is answered without its body): its
 * connection's deadline stops until the next request. */
static void request_whole(struct request_state *st)
{
	col_deadline_stop(st->c);
}

static enum MHD_Result answer(struct MHD_Connection *conn, struct request_state *st, struct col_reply *reply)
{
	enum MHD_Result ret;

	request_whole(st);
	st->status = reply->status;
	ret = send_reply(conn, reply);
	strbuf_release(&reply->body);
	return ret;
}

/* Paths whose rest is a one-time secret (a pairing code, a password
 * link's token): the log shows the prefix and "-". */
static const char *const secret_paths[] = { "/pair/", "/console/password/" };

static void log_path(char *dst, size_t size, const char *url)
{
	for (size_t i = 0; i < sizeof(secret_paths) / sizeof(secret_paths[0]); i++)
		if (strncmp(url, secret_paths[i], strlen(secret_paths[i])) == 0) {
			snprintf(dst, size, "%s-", secret_paths[i]);
			return;
		}
	col_log_field(dst, size, url);
}

/* The first call for a request, from its headers: make its state, and
 * answer at once what the headers alone refuse (oversized, credentials,
 * a body too large for its route or for --max-buffered). */
static enum MHD_Result request_begin(struct col_server *srv, struct MHD_Connection *conn, const char *url,
				     struct col_request *req, struct col_reply *reply, void **con_cls)
{
	struct col_app *app = &srv->app;
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct request_state *st = calloc(1, sizeof(*st));
	enum col_error over;
	char why[128];
	int refused;

	if (!st)
		return MHD_NO;
	st->started = clock_seconds();
	st->c = ci ? ci->socket_context : NULL;
	col_log_field(st->method, sizeof(st->method), req->method);
	log_path(st->path, sizeof(st->path), url);
	st->route = -1;
	st->match.route = -1;
	*con_cls = st;
	/* (st->body, zeroed, is empty: the request is answered unread) */
	over = oversized_request(conn, url, why, sizeof(why));
	if (over != COL_E_COUNT) {
		col_reply_error(app, reply, over, why, NULL);
		return answer(conn, st, reply);
	}
	/* who is asking and what they may send, from the headers: refused
	 * before any body byte is read */
	refused = col_precheck(app, req, &st->match, &st->sender, &st->limit, reply);
	strbuf_init(&st->body, st->limit);
	if (refused)
		return answer(conn, st, reply);
	if (st->limit > COL_MAX_HELD_BODY ? begin_upload(srv, st, conn) != 0 : admit_body(srv, st, conn) != 0) {
		body_refusal(app, st, reply);
		return answer(conn, st, reply);
	}
	assert_request_state(st);
	return MHD_YES;
}

/* The request is whole: route it, and either answer or, for a deferred
 * reply, suspend the connection and start the route's work. */
static enum MHD_Result request_run(struct col_server *srv, struct MHD_Connection *conn, struct request_state *st,
				   struct col_request *req, struct col_reply *reply)
{
	struct col_app *app = &srv->app;

	request_whole(st);
	req->body = strbuf_str(&st->body);
	req->body_len = st->body.len;
	req->sender = &st->sender;
	req->upload = st->upload;
	st->routed = 1;
	atomic_fetch_add(&srv->unanswered, 1);
	st->route = col_route(app, req, &st->match, reply);
	if (!reply->deferred)
		return answer(conn, st, reply);
	/* suspend first: the work may be over before start returns */
	st->deferred = reply->deferred;
	st->conn = conn;
	assert_request_state(st);
	MHD_suspend_connection(conn);
	st->deferred->start(st->deferred, resume, st);
	strbuf_release(&reply->body);
	return MHD_YES;
}

enum MHD_Result col_http_request(void *cls, struct MHD_Connection *conn, const char *url,
				 const char *method, const char *version, const char *upload,
				 size_t *upload_size, void **con_cls)
{
	struct col_server *srv = cls;
	struct request_state *st = *con_cls;
	struct col_request req;
	struct col_reply reply;
	char address[INET6_ADDRSTRLEN];

	(void)version;
	memset(&req, 0, sizeof(req));
	req.method = method;
	req.path = url;
	req.body = "";
	req.client = client_key(conn, address);
	req.address = address;
	req.now = clock_seconds();
	req.header = get_header;
	req.query = get_query;
	req.cookie = get_cookie;
	req.cls = conn;
	memset(&reply, 0, sizeof(reply));
	strbuf_init(&reply.body, 0);
	reply.status = MHD_HTTP_INTERNAL_SERVER_ERROR;
	reply.content_type = "application/json; charset=utf-8";
	if (!st)
		return request_begin(srv, conn, url, &req, &reply, con_cls);
	assert_request_state(st);
	if (*upload_size) {
		take_upload(srv, st, upload, *upload_size);
		*upload_size = 0;
		assert_request_state(st);
		return MHD_YES;
	}
	if (st->deferred) {
		/* resumed: the route's work is over */
		struct col_deferred *d = st->deferred;

		st->deferred = NULL;
		d->finish(d, &reply);
	} else {
		if (st->parser)
			end_upload(srv, st);
		if (!st->refused)
			return request_run(srv, conn, st, &req, &reply);
		body_refusal(&srv->app, st, &reply);
	}
	return answer(conn, st, &reply);
}

void col_http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			enum MHD_RequestTerminationCode toe)
{
	struct col_server *srv = cls;
	struct request_state *st = *con_cls;
	const char *end = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted";
	double secs;

	(void)conn;
	if (!st)
		return;
	assert_request_state(st);
	if (st->deferred) {
		/* resumed, but the client had gone: the work is done (a stored
		 * rating's re-send gets its receipt); the reply goes nowhere */
		st->deferred->finish(st->deferred, NULL);
		st->deferred = NULL;
	}
	if (col_deadline_end(&srv->deadlines, st->c)) {
		st->status = MHD_HTTP_REQUEST_TIMEOUT;
		end = " past the request deadline";
	}
	secs = clock_seconds() - st->started;
	col_metrics_observe(&srv->app.metrics, st->route, st->status, secs);
	col_log_request(srv->access_log, st->method, st->path, st->status, secs, end);
	atomic_fetch_sub(&srv->buffered, st->reserved);
	if (st->routed)
		atomic_fetch_sub(&srv->unanswered, 1);
	strbuf_release(&st->body);
	drop_upload(st);
	col_sender_release(&st->sender);
	free(st);
	*con_cls = NULL;
}
