/*
 * http_server.h - the collector's HTTP service (SPEC §6) on libmicrohttpd:
 * daemon set-up, per-request state, the access log and graceful shutdown.
 * What each path does is in routes.c.
 */
#ifndef SIPAS_HTTP_SERVER_H
#define SIPAS_HTTP_SERVER_H

#include <stdint.h>

#include "../lib/err.h"

struct col_config {
	const char *db_path;
	const char *listen;          /* "ADDR:PORT"; port 0 picks a free one */
	unsigned threads;            /* worker threads in MHD's pool */
	unsigned max_connections;
	unsigned connection_timeout; /* seconds */
};

/* Serve until SIGINT or SIGTERM, then stop accepting, finish requests in
 * flight and close.  Prints "listening on http://ADDR:PORT" on stdout once
 * ready.  Returns 0 after a clean stop, else an err_code with `e` filled. */
int col_server_run(const struct col_config *cfg, struct err *e);

#endif
