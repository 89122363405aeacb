/*
 * http_server.c - libmicrohttpd daemon for the collector (see http_server.h).
 * Each request gets one `struct request_state`, created on MHD's first call
 * and freed in the completed callback, which also writes the access log
 * line (method, path, status, microseconds; never headers or bodies).
 */
#include "http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <microhttpd.h>

#include "routes.h"

#define COL_MAX_BODY (64 * 1024)

struct request_state {
	struct timespec started;
	char method[16];
	char path[256];     /* truncated copy, for the access log */
	unsigned status;
	struct strbuf body;
	int too_large;
};

static double elapsed_us(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e6 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e3;
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, struct col_reply *reply)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(reply->body.len, reply->body.buf ? reply->body.buf : (char *)"",
					       MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, reply->content_type);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ret = MHD_queue_response(conn, reply->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct col_app *app = cls;
	struct request_state *st = *con_cls;
	struct col_request req;
	struct col_reply reply;
	enum MHD_Result ret;

	(void)version;
	if (!st) {
		st = calloc(1, sizeof(*st));
		if (!st)
			return MHD_NO;
		clock_gettime(CLOCK_MONOTONIC, &st->started);
		snprintf(st->method, sizeof(st->method), "%s", method);
		snprintf(st->path, sizeof(st->path), "%s", url);
		strbuf_init(&st->body, COL_MAX_BODY);
		*con_cls = st;
		return MHD_YES;
	}
	if (*upload_size) {
		if (strbuf_add(&st->body, upload, *upload_size) < 0)
			st->too_large = 1;
		*upload_size = 0;
		return MHD_YES;
	}
	strbuf_init(&reply.body, 0);
	reply.status = MHD_HTTP_INTERNAL_SERVER_ERROR;
	reply.content_type = "application/json; charset=utf-8";
	if (st->too_large) {
		reply.status = MHD_HTTP_CONTENT_TOO_LARGE;
		strbuf_addstr(&reply.body, "{\"error\":{\"code\":\"too_large\","
			      "\"message\":\"request body over 64 KiB\"}}\n");
	} else {
		req.method = method;
		req.path = url;
		req.conn = conn;
		col_route(app, &req, &reply);
	}
	st->status = reply.status;
	ret = send_reply(conn, &reply);
	strbuf_release(&reply.body);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct request_state *st = *con_cls;

	(void)cls;
	(void)conn;
	if (!st)
		return;
	fprintf(stderr, "%s %s %u %.0fus%s\n", st->method, st->path, st->status,
		elapsed_us(&st->started), toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted");
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

int col_server_run(const struct col_config *cfg, struct err *e)
{
	struct col_app app;
	struct MHD_Daemon *d = NULL;
	struct sockaddr_in sa;
	const union MHD_DaemonInfo *info;
	sigset_t stop;
	int rc, sig;
	char addr[INET_ADDRSTRLEN];

	rc = parse_listen(cfg->listen, &sa, e);
	if (rc)
		return rc;
	rc = col_app_open(&app, cfg->db_path, e);
	if (rc)
		return rc;
	/* Block the stop signals in every thread, then wait for them here. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL_LINUX_ONLY | MHD_USE_ITC |
			     MHD_USE_ERROR_LOG,
			     0, NULL, NULL, on_request, &app,
			     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
			     MHD_OPTION_THREAD_POOL_SIZE, cfg->threads,
			     MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections,
			     MHD_OPTION_CONNECTION_TIMEOUT, cfg->connection_timeout,
			     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(128 * 1024),
			     MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
			     MHD_OPTION_END);
	if (!d) {
		rc = err_set(e, ERR_IO, "cannot listen on %s: %s", cfg->listen, strerror(errno));
		goto out;
	}
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	inet_ntop(AF_INET, &sa.sin_addr, addr, sizeof(addr));
	printf("listening on http://%s:%u\n", addr, info ? (unsigned)info->port : 0u);
	fflush(stdout);
	sigwait(&stop, &sig);
	fprintf(stderr, "sipas serve: %s received, finishing requests in flight\n",
		sig == SIGINT ? "SIGINT" : "SIGTERM");
	MHD_quiesce_daemon(d);
	MHD_stop_daemon(d);
out:
	col_app_close(&app);
	return rc;
}
