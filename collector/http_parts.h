/*
 * http_parts.h - what the four files of the collector's HTTP service share
 * (inside collector/ only; the service's interface is http_server.h):
 *   http_daemon.c    the daemon: start, signals, reload, stop (col_server_run)
 *   http_server.c    a request's life: first call, body, reply, completion
 *   http_deadline.c  the request deadline: connections listed and swept
 *   http_log.c       the access log
 * Only these files talk to libmicrohttpd.
 */
#ifndef SIPAS_HTTP_PARTS_H
#define SIPAS_HTTP_PARTS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <microhttpd.h>

#include "app.h"

/* Each connection's memory in libmicrohttpd: its read buffer starts at
 * half, and every query parameter and header field is listed in the other
 * half (an entry of 56 bytes, 64 aligned, in 0.9.75).  Room for what the
 * collector's limits let through and far more, so that a request over them
 * reaches the collector, which answers it; see col_http_too_many_params
 * for one that would not fit. */
#define COL_HTTP_CONNECTION_MEMORY (128 * 1024)

/* A connection from its accept to its close, for the deadline sweep. */
struct col_conn;

/* The connections whose request may be late (http_deadline.c). */
struct col_deadlines {
	unsigned seconds;             /* --request-deadline */
	pthread_mutex_t lock;         /* guards the list */
	struct col_conn *conns;
};

/* What MHD's callbacks get: the application, the access log, the
 * deadlines and the body limits. */
struct col_server {
	struct col_app app;
	FILE *access_log;
	struct col_deadlines deadlines;
	size_t max_buffered;          /* --max-buffered */
	atomic_size_t buffered;       /* body bytes reserved by requests now */
	/* requests routed and not yet completed (their reply sent or the
	 * client gone): a shutdown waits for them.  Counted before the route
	 * reads app.stopping, so that a stop never misses one in between. */
	atomic_int unanswered;
};

/* ---- http_server.c: MHD's callbacks for a request; cls is the col_server ---- */

enum MHD_Result col_http_request(void *cls, struct MHD_Connection *conn, const char *url,
				 const char *method, const char *version, const char *upload,
				 size_t *upload_size, void **con_cls);
void col_http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			enum MHD_RequestTerminationCode toe);
/* MHD's URI log callback: shuts down a connection whose query would not
 * fit in its memory (see http_server.c).  Returns NULL. */
void *col_http_too_many_params(void *cls, const char *uri, struct MHD_Connection *conn);

/* ---- http_deadline.c ---- */

/* An empty list for requests of `seconds`.  Can't fail. */
void col_deadlines_init(struct col_deadlines *d, unsigned seconds);
void col_deadlines_destroy(struct col_deadlines *d);

/* MHD's connect and close notification (cls: the col_deadlines): list a
 * new connection with the deadline of its first request; unlist a closing
 * one. */
void col_deadlines_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode code);

/* The request on c has arrived whole: no deadline until the next one.
 * NULL-safe (a connection that could not be listed). */
void col_deadline_stop(struct col_conn *c);

/* The request on c, whose sender is known, may take `seconds` from now
 * to arrive whole when that is later than its deadline (a streamed
 * upload).  NULL-safe. */
void col_deadline_extend(struct col_conn *c, unsigned seconds);

/* The request on c has ended: its kept-alive connection's next request
 * has its deadline from now.  1 when the sweep cut this one off.
 * NULL-safe (0). */
int col_deadline_end(struct col_deadlines *d, struct col_conn *c);

/* Shut down c's socket now (a request the collector will not read); MHD's
 * thread then reads the end of the stream and closes it.  NULL-safe. */
void col_deadline_cut(struct col_conn *c);

/* Wait until MHD has closed every connection that was cut, at most max_ms:
 * libmicrohttpd 0.9.75 can crash stopping while one is still open with
 * part of a request unread (docs/collector.md, "Limits and operations").
 * Returns how many are still open. */
unsigned col_deadlines_wait_cut(struct col_deadlines *d, unsigned max_ms);

/* Shut down every connection whose request is not whole by its deadline;
 * MHD's thread then reads the end of the stream and closes it.  Returns
 * how many. */
unsigned col_deadlines_sweep(struct col_deadlines *d);

/* ---- http_log.c: one line per request; buffered, flushed by the daemon ---- */

/* The access log: stderr, through a buffer of its own (error messages
 * stay unbuffered on stderr).  NULL with errno set on failure. */
FILE *col_log_open(void);

/* Copy s into dst (of size bytes) for the access log: space, backslash and
 * every byte outside printable ASCII as \xNN.  Truncated at a whole
 * character. */
void col_log_field(char *dst, size_t size, const char *s);

/* A request's line: method and path (col_log_field's), status, time taken,
 * and `end` ("" or why it ended otherwise, with a leading space). */
void col_log_request(FILE *log, const char *method, const char *path, unsigned status, double seconds,
		     const char *end);

/* A line for connections closed without a request to log. */
void col_log_closed(FILE *log, unsigned status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
