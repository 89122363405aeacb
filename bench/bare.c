/*
 * bare.c - the benchmark's baselines for the collector: a libmicrohttpd
 * server set up like `sipas serve` (internal thread pool, epoll) whose
 * handler reads the body and answers 201 with a fixed receipt, storing
 * nothing.
 *
 *   usage: bare PORT THREADS [relay]
 *
 * With `relay`, each request is also suspended and handed to another
 * thread, which resumes every connection queued meanwhile at once: the
 * path a `sipas serve` post takes to its writer and back, without the
 * checks and without storing.  It measures what that hand-off costs on
 * this machine.  Stops on SIGINT or SIGTERM.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <microhttpd.h>

static const char reply[] = "{\"receipt\":\"00000000000000000000000000000000\",\"duplicate\":false}\n";

/* The relay's queue: suspended connections, linked through their state. */
struct held {
	struct MHD_Connection *conn;
	int relayed;         /* handed to the relay once already */
	struct held *next;
};

static pthread_mutex_t relay_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t relay_wake = PTHREAD_COND_INITIALIZER;
static struct held *relay_queue;
static int relay;

static void *relay_main(void *arg)
{
	(void)arg;
	for (;;) {
		struct held *h, *next;

		pthread_mutex_lock(&relay_lock);
		while (!relay_queue)
			pthread_cond_wait(&relay_wake, &relay_lock);
		h = relay_queue;
		relay_queue = NULL;
		pthread_mutex_unlock(&relay_lock);
		for (; h; h = next) {
			next = h->next;    /* h may be reused once resumed */
			MHD_resume_connection(h->conn);
		}
	}
	return NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct held *h = *con_cls;
	struct MHD_Response *resp;
	enum MHD_Result ret;

	(void)cls;
	(void)url;
	(void)method;
	(void)version;
	(void)upload;
	if (!h) {
		h = calloc(1, sizeof(*h));
		if (!h)
			return MHD_NO;
		*con_cls = h;
		return MHD_YES;
	}
	if (*upload_size) {
		*upload_size = 0;
		return MHD_YES;
	}
	if (relay && !h->relayed) {
		h->conn = conn;
		h->relayed = 1;
		MHD_suspend_connection(conn);
		pthread_mutex_lock(&relay_lock);
		h->next = relay_queue;
		relay_queue = h;
		pthread_cond_signal(&relay_wake);
		pthread_mutex_unlock(&relay_lock);
		return MHD_YES;
	}
	resp = MHD_create_response_from_buffer(sizeof(reply) - 1, (void *)reply, MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json; charset=utf-8");
	ret = MHD_queue_response(conn, MHD_HTTP_CREATED, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	free(*con_cls);
	*con_cls = NULL;
}

int main(int argc, char **argv)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL_LINUX_ONLY;
	struct MHD_Daemon *d;
	pthread_t relay_thread;
	sigset_t stop;
	int sig;

	if (argc < 3 || argc > 4 || (argc == 4 && strcmp(argv[3], "relay") != 0)) {
		fprintf(stderr, "usage: bare PORT THREADS [relay]\n");
		return 1;
	}
	relay = argc == 4;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	if (relay) {
		flags |= MHD_ALLOW_SUSPEND_RESUME;
		if (pthread_create(&relay_thread, NULL, relay_main, NULL) != 0) {
			fprintf(stderr, "bare: cannot start the relay thread\n");
			return 1;
		}
	}
	d = MHD_start_daemon(flags, (uint16_t)atoi(argv[1]), NULL, NULL, on_request, NULL,
			     MHD_OPTION_THREAD_POOL_SIZE, (unsigned)atoi(argv[2]),
			     MHD_OPTION_CONNECTION_LIMIT, 1024u,
			     MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "bare: cannot listen\n");
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	sigwait(&stop, &sig);
	/* the relay thread holds nothing once the clients have gone */
	MHD_stop_daemon(d);
	return 0;
}
