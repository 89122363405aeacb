/*
 * bare.c - the benchmark's baseline for the collector: a libmicrohttpd
 * server set up like `sipas serve` (internal thread pool, epoll) whose
 * handler reads the body and answers 201 with a fixed receipt, storing
 * nothing.  usage: bare PORT THREADS; stops on SIGINT or SIGTERM.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <microhttpd.h>

static const char reply[] = "{\"receipt\":\"00000000000000000000000000000000\",\"duplicate\":false}\n";

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	static int first_call;
	struct MHD_Response *resp;
	enum MHD_Result ret;

	(void)cls;
	(void)url;
	(void)method;
	(void)version;
	(void)upload;
	if (!*con_cls) {
		*con_cls = &first_call;
		return MHD_YES;
	}
	if (*upload_size) {
		*upload_size = 0;
		return MHD_YES;
	}
	resp = MHD_create_response_from_buffer(sizeof(reply) - 1, (void *)reply, MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json; charset=utf-8");
	ret = MHD_queue_response(conn, MHD_HTTP_CREATED, resp);
	MHD_destroy_response(resp);
	return ret;
}

int main(int argc, char **argv)
{
	struct MHD_Daemon *d;
	sigset_t stop;
	int sig;

	if (argc != 3) {
		fprintf(stderr, "usage: bare PORT THREADS\n");
		return 1;
	}
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL_LINUX_ONLY, (uint16_t)atoi(argv[1]),
			     NULL, NULL, on_request, NULL, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)atoi(argv[2]),
			     MHD_OPTION_CONNECTION_LIMIT, 1024u, MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "bare: cannot listen\n");
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	sigwait(&stop, &sig);
	MHD_stop_daemon(d);
	return 0;
}
