/*
 * http_server.h - the collector's HTTP service (docs/collector.md) on
 * libmicrohttpd: daemon set-up (thread pool, limits, optional TLS) and
 * graceful shutdown in http_daemon.c, a request's life in http_server.c,
 * the request deadline in http_deadline.c, the access log in http_log.c
 * (what they share: http_parts.h).  What each path does is in routes.c's
 * table and its handlers (handlers.h).
 */
#ifndef SIPAS_HTTP_SERVER_H
#define SIPAS_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "routes.h"
#include "../lib/err.h"

struct col_config {
	const char *db_path;
	const char *listen;          /* "ADDR:PORT"; port 0 picks a free one */
	unsigned threads;            /* worker threads in MHD's pool */
	unsigned max_connections;
	unsigned max_per_ip;         /* connections from one address */
	unsigned connection_timeout; /* seconds idle before a connection is closed */
	unsigned request_deadline;   /* seconds for a request to arrive whole */
	size_t max_buffered;         /* request body bytes held at once, all requests */
	const char *tls_cert, *tls_key;  /* PEM files; both or neither */
	const char *public_url;      /* the address links carry (pairing links); NULL: http://LISTEN */
	struct col_limits limits;
	int no_alerts;               /* 1: no alert engine (docs/monitoring.md, "Alerts") */
};

/* Serve until SIGINT or SIGTERM, then stop accepting, finish requests in
 * flight and close; on SIGHUP reload the catalog (col_app_reload).  Prints "listening on http(s)://ADDR:PORT" on stdout once
 * ready.  Returns 0 after a clean stop, else an err_code with `e` filled. */
int col_server_run(const struct col_config *cfg, struct err *e);

#endif
