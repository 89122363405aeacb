/*
 * http_daemon.c - the collector's daemon (http_server.h): reads the TLS
 * files, starts libmicrohttpd (a thread pool on epoll, its limits, and the
 * callbacks of the request's life in http_server.c and of the deadline in
 * http_deadline.c), and then, on the main thread, waits for signals: four
 * times a second it sweeps the request deadlines, every second it flushes
 * the access log, on SIGHUP it reloads the catalog, and on SIGINT or
 * SIGTERM it refuses new submissions (503), lets the writer finish what it
 * holds, and closes.  Beside them runs the delivery of notifications (notify.h),
 * started with the daemon and stopped after it.
 */
#include "http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <microhttpd.h>

#include "http_parts.h"

#define MAX_PEM (64 * 1024)
#define ACCESS_LOG_FLUSH_SECONDS 1
#define DEADLINE_SWEEPS_PER_SECOND 4

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
static int wait_for_stop(const sigset_t *signals, struct col_server *srv)
{
	const struct timespec tick = { 0, 1000 * 1000 * 1000 / DEADLINE_SWEEPS_PER_SECOND };
	unsigned ticks = 0, cut;
	int sig;

	for (;;) {
		sig = sigtimedwait(signals, NULL, &tick);
		cut = col_deadlines_sweep(&srv->deadlines);
		if (cut)
			col_log_closed(srv->access_log, MHD_HTTP_REQUEST_TIMEOUT, "closed %u connection%s whose "
				       "request was not whole within %u s", cut, cut == 1 ? "" : "s",
				       srv->deadlines.seconds);
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
	struct col_server srv;
	struct col_app *app = &srv.app;
	struct MHD_Daemon *d = NULL;
	struct notify_worker *notifier = NULL;
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
	srv.access_log = col_log_open();
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
	col_deadlines_init(&srv.deadlines, cfg->request_deadline);
	srv.max_buffered = cfg->max_buffered;
	atomic_init(&srv.buffered, 0);
	atomic_init(&srv.unanswered, 0);
	rc = col_app_open(app, cfg->db_path, &cfg->limits, e);
	if (rc)
		goto out_log;
	if (!cfg->no_alerts) {
		rc = col_writer_enable_alerts(app->writer, e);
		if (rc)
			goto out;
	}
	app->tls = cfg->tls_cert != NULL;
	snprintf(app->public_url, sizeof(app->public_url), "%s%s", cfg->public_url ? "" : cert ? "https://" : "http://",
		 cfg->public_url ? cfg->public_url : cfg->listen);
	col_routes_name_metrics(app);
	rc = notify_start(cfg->db_path, app->key, &cfg->smtp, &notifier, e);
	if (rc)
		goto out;
	d = MHD_start_daemon(flags, 0, NULL, NULL, col_http_request, &srv,
			     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
			     MHD_OPTION_THREAD_POOL_SIZE, cfg->threads,
			     MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections,
			     MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->max_per_ip,
			     MHD_OPTION_CONNECTION_TIMEOUT, cfg->connection_timeout,
			     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)COL_HTTP_CONNECTION_MEMORY,
			     MHD_OPTION_URI_LOG_CALLBACK, col_http_too_many_params, &srv,
			     MHD_OPTION_NOTIFY_COMPLETED, col_http_completed, &srv,
			     MHD_OPTION_NOTIFY_CONNECTION, col_deadlines_notify, &srv.deadlines,
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
	/* No MHD_quiesce_daemon: in libmicrohttpd 0.9.75 it removes the listen
	 * socket from each epoll set while the polling threads may be doing the
	 * same, and the loser of that race aborts the process ("Failed to remove
	 * listen FD from epoll set"; once in a CI run).  Connections are still
	 * accepted while the writer drains; new submissions get 503 (stopping). */
	/* the delivery in flight ends while the writer's jobs do */
	notify_quit(notifier);
	/* New submissions now get 503; wait for the requests already routed,
	 * those the writer holds and the replies still being sent, so that no
	 * suspended connection outlives the daemon and no answer is cut off
	 * (at most 30 s). */
	atomic_store(&app->stopping, 1);
	for (int i = 0; i < 3000 && atomic_load(&srv.unanswered) > 0; i++)
		nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
	col_deadlines_wait_cut(&srv.deadlines, 2000);
	MHD_stop_daemon(d);
out:
	/* the transfer in flight finishes and is recorded: a graceful
	 * restart repeats no delivery */
	notify_stop(notifier);
	col_app_close(app);
out_log:
	col_deadlines_destroy(&srv.deadlines);
	fclose(srv.access_log);
out_pem:
	free(cert);
	free(key);
	return rc;
}
