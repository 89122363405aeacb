/*
 * http_server.c - libmicrohttpd daemon for the collector (see http_server.h).
 * Each request gets one `struct request_state`, created on MHD's first call,
 * filled with the body on the upload calls, answered on the last call, and
 * freed in the completed callback, which also writes the access log line
 * (method, path, status, microseconds; never headers, queries or bodies)
 * and records the metrics.
 *
 * The access log is buffered and flushed once a second and at stop: a
 * write() per request would cost as much as the rest of a kiosk post.  A
 * crash can lose the last second of log lines, never a rating.  What a
 * client sent (method, path) is logged with bytes outside printable ASCII
 * written as \xNN, so it can neither forge a line nor reach a terminal.
 *
 * Connections (docs/collector.md, "Limits"): a body is admitted from the
 * headers (its route's limit, then room under --max-buffered, which counts
 * the bytes every request may still buffer); and a request must arrive
 * whole within --request-deadline.  MHD's own timeout is idle time, reset
 * by every byte, and the access handler is not called until the headers
 * are complete, so the deadline is kept outside MHD: each connection is
 * listed from MHD's connect notification, and the main thread, four times
 * a second, shuts down the socket of any whose request is late, which MHD
 * then sees as the client's end and closes.
 */
#include "http_server.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <microhttpd.h>

#include "handlers.h"
#include "request.h"

#define MAX_PEM (64 * 1024)
#define ACCESS_LOG_BUFFER (64 * 1024)
#define ACCESS_LOG_FLUSH_SECONDS 1
#define DEADLINE_SWEEPS_PER_SECOND 4

/* What a request's line and headers may hold, checked on the first call
 * (oversized_request): beyond, 414 or 431 from the collector itself. */
#define MAX_TARGET_BYTES (8 * 1024)   /* path and query */
#define MAX_QUERY_PARAMS 64
#define MAX_HEADER_BYTES (16 * 1024)
#define MAX_HEADER_FIELDS 64

/* Each connection's memory in libmicrohttpd: its read buffer starts at
 * half, and every query parameter and header field is listed in the other
 * half (an entry of 56 bytes, 64 aligned, in 0.9.75).  Room for what the
 * limits above let through and far more, so that a request over them
 * reaches the collector, which answers it; see too_many_params for one
 * that would not fit. */
#define CONNECTION_MEMORY (128 * 1024)
#define POOL_ENTRY_BYTES 80           /* an entry, with a margin */
#define POOL_RESERVE (8 * 1024)       /* for the header fields and the reply */

/* A connection from its accept to its close, for the deadline sweep. */
struct conn {
	struct conn *prev, *next;     /* in server.conns, under conns_lock */
	int fd;
	atomic_llong deadline_ms;     /* monotonic; 0 while no request is arriving */
	atomic_int cut;               /* shut down by the sweep */
};

/* What MHD's callbacks get: the application, the access log stream and
 * the connection limits. */
struct server {
	struct col_app app;
	FILE *access_log;
	unsigned request_deadline;    /* seconds */
	size_t max_buffered;
	atomic_size_t buffered;       /* body bytes reserved by requests now */
	pthread_mutex_t conns_lock;
	struct conn *conns;
};

struct request_state {
	struct MHD_Connection *conn;
	struct conn *c;                /* NULL if its listing failed (no memory) */
	struct col_pending *pending;   /* suspended until the writer commits it */
	struct timespec started;
	char method[32];    /* copies for the access log, escaped; truncated when longer */
	char path[256];
	unsigned status;
	int route;
	size_t limit;                  /* the route's body limit */
	size_t reserved;               /* of server.buffered, released at the end */
	struct strbuf body;
	int refused;                   /* the body is dropped; answer `why` */
	enum col_error why;
	struct col_sender sender;      /* from col_precheck, on the first call */
};

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static double monotonic_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static long long monotonic_ms(void)
{
	return (long long)(monotonic_now() * 1000);
}

/* Copy s into dst (of size bytes) for the access log: space, backslash and
 * every byte outside printable ASCII as \xNN.  Truncated at a whole
 * character. */
static void log_field(char *dst, size_t size, const char *s)
{
	size_t n = 0;

	assert(size > 0);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		int plain = ch > ' ' && ch < 0x7f && ch != '\\';

		if (n + (plain ? 1 : 4) >= size)
			break;
		if (plain)
			dst[n++] = (char)ch;
		else
			n += (size_t)snprintf(dst + n, 5, "\\x%02x", ch);
	}
	dst[n] = '\0';
}

static const char *get_header(void *cls, const char *name)
{
	return MHD_lookup_connection_value(cls, MHD_HEADER_KIND, name);
}

static const char *get_query(void *cls, const char *name)
{
	return MHD_lookup_connection_value(cls, MHD_GET_ARGUMENT_KIND, name);
}

/* A rate-limit key for the client address: IPv4 as is, IPv6 by its /64. */
static uint64_t client_key(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	uint64_t key = 1ull << 63;

	if (!ci || !ci->client_addr)
		return key;
	if (ci->client_addr->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)(const void *)ci->client_addr;

		return key | ntohl(a->sin_addr.s_addr);
	}
	if (ci->client_addr->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)(const void *)ci->client_addr;
		uint64_t prefix;

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
 * down at once instead (logged as 414).  Returns NULL: on_request makes
 * the request's state. */
static void *too_many_params(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct server *srv = cls;
	const char *query = strchr(uri, '?');
	size_t len = strlen(uri), params = 0, buffer, room;
	const union MHD_ConnectionInfo *ci;

	if (!query)
		return NULL;
	for (const char *p = query; (p = strchr(p + 1, '&'));)
		params++;
	params++;
	/* the read buffer is half the memory, or grown to hold the line */
	buffer = len > CONNECTION_MEMORY / 2 ? len + CONNECTION_MEMORY / 8 : CONNECTION_MEMORY / 2;
	room = CONNECTION_MEMORY > buffer + POOL_RESERVE ? CONNECTION_MEMORY - buffer - POOL_RESERVE : 0;
	if (params <= room / POOL_ENTRY_BYTES)
		return NULL;
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci)
		shutdown(ci->connect_fd, SHUT_RDWR);
	fprintf(srv->access_log, "- - %d 0us closed a connection whose request had more query parameters "
		"than a connection's memory holds (%zu)\n", MHD_HTTP_URI_TOO_LONG, params);
	return NULL;
}

/* The writer's done(): the commit is over, let MHD call us again. */
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
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, reply->content_type);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	/* no script, style or request goes anywhere but here, and no page of
	 * this service can be framed by another */
	MHD_add_response_header(resp, "Content-Security-Policy", reply->csp ? reply->csp :
				"default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
	if (reply->location[0])
		MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, reply->location);
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

/* MHD's connect and close notifications: list the connection for the
 * deadline sweep, with the deadline of its first request.  MHD calls
 * CLOSED before it closes the socket, so under conns_lock a listed fd is
 * always open. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct server *srv = cls;
	struct conn *c = *socket_context;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);

		/* out of memory: this one connection goes without a deadline */
		c = ci ? calloc(1, sizeof(*c)) : NULL;
		if (!c)
			return;
		c->fd = ci->connect_fd;
		atomic_init(&c->deadline_ms, monotonic_ms() + 1000ll * srv->request_deadline);
		atomic_init(&c->cut, 0);
		pthread_mutex_lock(&srv->conns_lock);
		c->next = srv->conns;
		if (c->next)
			c->next->prev = c;
		srv->conns = c;
		pthread_mutex_unlock(&srv->conns_lock);
		*socket_context = c;
		return;
	}
	if (!c)
		return;
	pthread_mutex_lock(&srv->conns_lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&srv->conns_lock);
	free(c);
	*socket_context = NULL;
}

/* Shut down every connection whose request is not whole by its deadline;
 * MHD's thread then reads the end of the stream and closes it.  Returns
 * how many. */
static unsigned sweep_deadlines(struct server *srv)
{
	long long now = monotonic_ms();
	unsigned cut = 0;

	pthread_mutex_lock(&srv->conns_lock);
	for (struct conn *c = srv->conns; c; c = c->next) {
		long long deadline = atomic_load(&c->deadline_ms);

		if (deadline && deadline <= now && !atomic_load(&c->cut)) {
			atomic_store(&c->cut, 1);
			shutdown(c->fd, SHUT_RDWR);
			cut++;
		}
	}
	pthread_mutex_unlock(&srv->conns_lock);
	return cut;
}

/* Reserve body bytes so the request holds `total` of server.buffered;
 * -1 when that would pass --max-buffered. */
static int reserve_body(struct server *srv, struct request_state *st, size_t total)
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
static void refuse_body(struct server *srv, struct request_state *st, enum col_error why)
{
	st->refused = 1;
	st->why = why;
	strbuf_release(&st->body);
	atomic_fetch_sub(&srv->buffered, st->reserved);
	st->reserved = 0;
}

static void body_refusal(struct col_app *app, const struct request_state *st, struct col_reply *reply)
{
	char why[sizeof(st->method) + sizeof(st->path) + 32];

	if (st->why == COL_E_TOO_LARGE && st->limit)
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
static int admit_body(struct server *srv, struct request_state *st, struct MHD_Connection *conn)
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

/* An upload call: keep the bytes while the route's limit, --max-buffered
 * and memory allow; past that, drop them all (the reply says why). */
static void take_upload(struct server *srv, struct request_state *st, const char *data, size_t n)
{
	size_t total = st->body.len + n;

	if (st->refused)
		return;
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
	if (st->c)
		atomic_store(&st->c->deadline_ms, 0);
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

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct server *srv = cls;
	struct col_app *app = &srv->app;
	struct request_state *st = *con_cls;
	struct col_request req;
	struct col_reply reply;

	(void)version;
	memset(&req, 0, sizeof(req));
	req.method = method;
	req.path = url;
	req.body = "";
	req.client = client_key(conn);
	req.now = monotonic_now();
	req.header = get_header;
	req.query = get_query;
	req.cls = conn;
	memset(&reply, 0, sizeof(reply));
	strbuf_init(&reply.body, 0);
	reply.status = MHD_HTTP_INTERNAL_SERVER_ERROR;
	reply.content_type = "application/json; charset=utf-8";
	if (!st) {
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
		enum col_error over;
		char why[128];
		int refused;

		st = calloc(1, sizeof(*st));
		if (!st)
			return MHD_NO;
		clock_gettime(CLOCK_MONOTONIC, &st->started);
		st->c = ci ? ci->socket_context : NULL;
		log_field(st->method, sizeof(st->method), method);
		/* a pairing code is a one-time secret: it stays out of the log */
		log_field(st->path, sizeof(st->path), strncmp(url, "/pair/", 6) == 0 ? "/pair/-" : url);
		st->route = -1;
		*con_cls = st;
		/* (st->body, zeroed, is empty: the request is answered unread) */
		over = oversized_request(conn, url, why, sizeof(why));
		if (over != COL_E_COUNT) {
			col_reply_error(app, &reply, over, why, NULL);
			return answer(conn, st, &reply);
		}
		/* who is asking and what they may send, from the headers: refused
		 * before any body byte is read */
		refused = col_precheck(app, &req, &st->sender, &st->limit, &reply);
		strbuf_init(&st->body, st->limit);
		if (refused)
			return answer(conn, st, &reply);
		if (admit_body(srv, st, conn) != 0) {
			body_refusal(app, st, &reply);
			return answer(conn, st, &reply);
		}
		return MHD_YES;
	}
	if (*upload_size) {
		take_upload(srv, st, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (st->pending) {
		/* resumed: the writer has committed (or failed) this submission */
		col_pending_finish(app, st->pending, &reply);
		st->pending = NULL;
		atomic_fetch_sub(&app->pending, 1);
	} else if (st->refused) {
		body_refusal(app, st, &reply);
	} else {
		request_whole(st);
		req.body = strbuf_str(&st->body);
		req.body_len = st->body.len;
		req.sender = &st->sender;
		st->route = col_route(app, &req, &reply);
		if (reply.pending) {
			struct col_write_job *job = col_pending_job(reply.pending);

			/* suspend first: the writer may finish before enqueue returns */
			st->pending = reply.pending;
			st->conn = conn;
			job->done = resume;
			job->arg = st;
			MHD_suspend_connection(conn);
			col_writer_enqueue(app->writer, job);
			strbuf_release(&reply.body);
			return MHD_YES;
		}
	}
	return answer(conn, st, &reply);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct server *srv = cls;
	struct col_app *app = &srv->app;
	struct request_state *st = *con_cls;
	const char *end = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted";
	double secs;

	(void)conn;
	if (!st)
		return;
	if (st->pending) {
		/* resumed after its commit, but the client had gone: the rating is
		 * stored (a re-send will get its receipt); just release it */
		struct col_reply dropped;

		memset(&dropped, 0, sizeof(dropped));
		strbuf_init(&dropped.body, 0);
		col_pending_finish(app, st->pending, &dropped);
		strbuf_release(&dropped.body);
		st->pending = NULL;
		atomic_fetch_sub(&app->pending, 1);
	}
	if (st->c) {
		if (atomic_load(&st->c->cut)) {
			st->status = MHD_HTTP_REQUEST_TIMEOUT;
			end = " past the request deadline";
		}
		/* a kept-alive connection's next request, from now */
		atomic_store(&st->c->deadline_ms, monotonic_ms() + 1000ll * srv->request_deadline);
	}
	secs = seconds_since(&st->started);
	col_metrics_observe(&app->metrics, st->route, st->status, secs);
	fprintf(srv->access_log, "%s %s %u %.0fus%s\n", st->method, st->path, st->status, secs * 1e6, end);
	atomic_fetch_sub(&srv->buffered, st->reserved);
	strbuf_release(&st->body);
	free(st);
	*con_cls = NULL;
}

static int parse_listen(const char *listen, struct sockaddr_in *sa, struct err *e)
{
	char host[64];
	const char *colon = strrchr(listen, ':');
	char *end;
	long port;

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	if (!colon || (size_t)(colon - listen) >= sizeof(host))
		return err_set(e, ERR_INVALID, "--listen '%s' is not ADDR:PORT", listen);
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end || !colon[1] || port < 0 || port > 65535)
		return err_set(e, ERR_INVALID, "--listen '%s': bad port", listen);
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return err_set(e, ERR_INVALID, "--listen '%s': '%s' is not an IPv4 address", listen, host);
	sa->sin_port = htons((uint16_t)port);
	return 0;
}

static int read_pem(const char *path, char **out, struct err *e)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	size_t n;

	if (!fp)
		return err_set(e, ERR_IO, "%s: cannot open: %s", path, strerror(errno));
	buf = malloc(MAX_PEM + 1);
	n = buf ? fread(buf, 1, MAX_PEM + 1, fp) : 0;
	fclose(fp);
	if (!buf)
		return err_set(e, ERR_NOMEM, "out of memory");
	if (n == 0 || n > MAX_PEM) {
		free(buf);
		return err_set(e, ERR_INVALID, "%s: not a PEM file of at most 64 KiB", path);
	}
	buf[n] = '\0';
	*out = buf;
	return 0;
}

/* The access log: stderr, through a buffer of its own (error messages
 * stay unbuffered on stderr).  Returns NULL with errno set on failure. */
static FILE *open_access_log(void)
{
	int fd = dup(STDERR_FILENO);
	FILE *fp = fd >= 0 ? fdopen(fd, "w") : NULL;

	if (!fp) {
		int saved = errno;

		if (fd >= 0)
			close(fd);
		errno = saved;
		return NULL;
	}
	setvbuf(fp, NULL, _IOFBF, ACCESS_LOG_BUFFER);
	return fp;
}

/* SIGHUP: re-read what `sipas init` loaded, and say so in one line. */
static void reload(struct col_app *app)
{
	struct col_catalog *c;
	struct err e;

	err_clear(&e);
	if (col_app_reload(app, &e) != 0) {
		fprintf(stderr, "sipas serve: SIGHUP: reload failed, still serving the previous forms "
			"and registry: %s\n", e.text);
		return;
	}
	c = col_app_catalog(app);
	fprintf(stderr, "sipas serve: SIGHUP: reloaded %zu forms, %zu agencies, %zu sectors, "
		"%zu targets\n", c->n_forms, c->reg->n_agencies, c->reg->n_sectors, c->reg->n_targets);
	col_catalog_release(c);
}

/* Wait for a stop signal; meanwhile close connections past their request
 * deadline four times a second, flush the access log every second and
 * reload on SIGHUP. */
static int wait_for_stop(const sigset_t *signals, struct server *srv)
{
	const struct timespec tick = { 0, 1000 * 1000 * 1000 / DEADLINE_SWEEPS_PER_SECOND };
	unsigned ticks = 0, cut;
	int sig;

	for (;;) {
		sig = sigtimedwait(signals, NULL, &tick);
		cut = sweep_deadlines(srv);
		if (cut)
			fprintf(srv->access_log, "- - %d 0us closed %u connection%s whose request was not "
				"whole within %u s\n", MHD_HTTP_REQUEST_TIMEOUT, cut, cut == 1 ? "" : "s",
				srv->request_deadline);
		if (++ticks % (ACCESS_LOG_FLUSH_SECONDS * DEADLINE_SWEEPS_PER_SECOND) == 0 || sig >= 0)
			fflush(srv->access_log);
		if (sig == SIGHUP)
			reload(&srv->app);
		else if (sig >= 0)
			return sig;
	}
}

int col_server_run(const struct col_config *cfg, struct err *e)
{
	struct server srv;
	struct col_app *app = &srv.app;
	struct MHD_Daemon *d = NULL;
	struct sockaddr_in sa;
	const union MHD_DaemonInfo *info;
	char *cert = NULL, *key = NULL;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL_LINUX_ONLY | MHD_USE_ITC |
			 MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	sigset_t signals;
	int rc, sig;
	char addr[INET_ADDRSTRLEN];

	rc = parse_listen(cfg->listen, &sa, e);
	if (rc)
		return rc;
	if (!cfg->tls_cert != !cfg->tls_key)
		return err_set(e, ERR_INVALID, "--tls-cert and --tls-key go together");
	if (cfg->tls_cert) {
		rc = read_pem(cfg->tls_cert, &cert, e);
		if (!rc)
			rc = read_pem(cfg->tls_key, &key, e);
		if (rc)
			goto out_pem;
		flags |= MHD_USE_TLS;
	}
	srv.access_log = open_access_log();
	if (!srv.access_log) {
		rc = err_set(e, ERR_IO, "cannot open the access log: %s", strerror(errno));
		goto out_pem;
	}
	/* Block the signals before any thread starts (the writer's too), so
	 * that they reach only this thread's sigtimedwait: a thread that let
	 * SIGHUP through would have it end the process. */
	sigemptyset(&signals);
	sigaddset(&signals, SIGINT);
	sigaddset(&signals, SIGTERM);
	sigaddset(&signals, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &signals, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* past a file-size limit (LimitFSIZE=) a write must fail with EFBIG,
	 * which the writer answers 503 storage_full, not kill the server */
	signal(SIGXFSZ, SIG_IGN);
	srv.request_deadline = cfg->request_deadline;
	srv.max_buffered = cfg->max_buffered;
	atomic_init(&srv.buffered, 0);
	srv.conns = NULL;
	pthread_mutex_init(&srv.conns_lock, NULL);
	rc = col_app_open(app, cfg->db_path, &cfg->limits, e);
	if (rc)
		goto out_log;
	col_routes_name_metrics(app);
	d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, &srv,
			     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
			     MHD_OPTION_THREAD_POOL_SIZE, cfg->threads,
			     MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections,
			     MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->max_per_ip,
			     MHD_OPTION_CONNECTION_TIMEOUT, cfg->connection_timeout,
			     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
			     MHD_OPTION_URI_LOG_CALLBACK, too_many_params, &srv,
			     MHD_OPTION_NOTIFY_COMPLETED, on_completed, &srv,
			     MHD_OPTION_NOTIFY_CONNECTION, on_connection, &srv,
			     cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, cert,
			     MHD_OPTION_HTTPS_MEM_KEY, key,
			     MHD_OPTION_END);
	if (!d) {
		rc = err_set(e, ERR_IO, "cannot listen on %s: %s", cfg->listen,
			     errno ? strerror(errno) : "libmicrohttpd refused the settings");
		goto out;
	}
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	inet_ntop(AF_INET, &sa.sin_addr, addr, sizeof(addr));
	printf("listening on %s://%s:%u\n", cert ? "https" : "http", addr, info ? (unsigned)info->port : 0u);
	fflush(stdout);
	sig = wait_for_stop(&signals, &srv);
	fflush(srv.access_log);
	fprintf(stderr, "sipas serve: %s received, finishing requests in flight\n",
		sig == SIGINT ? "SIGINT" : "SIGTERM");
	MHD_quiesce_daemon(d);
	/* New submissions now get 503; wait for those the writer holds, so no
	 * suspended connection outlives the daemon (at most 30 s). */
	atomic_store(&app->stopping, 1);
	for (int i = 0; i < 3000 && atomic_load(&app->pending) > 0; i++)
		nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
	MHD_stop_daemon(d);
out:
	col_app_close(app);
out_log:
	pthread_mutex_destroy(&srv.conns_lock);
	fclose(srv.access_log);
out_pem:
	free(cert);
	free(key);
	return rc;
}
