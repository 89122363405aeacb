/*
 * http_deadline.c - the request deadline (docs/collector.md, "Limits"):
 * a request must arrive whole, headers and body, within --request-deadline
 * of its connection's accept (or of the previous answer on a kept-alive
 * connection).  libmicrohttpd's own timeout is idle time, reset by every
 * byte, and its access handler is not called until the headers are
 * complete, so the deadline is kept beside it: each connection is listed
 * from MHD's connect notification, and the daemon's main thread, four
 * times a second, shuts down the socket of any whose request is late,
 * which MHD then sees as the client's end and closes.  A streamed upload
 * (http_server.c) has a longer deadline, set once its sender is known.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "../lib/clock.h"
#include "http_parts.h"

struct col_conn {
	struct col_conn *prev, *next; /* in col_deadlines.conns, under its lock */
	int fd;
	atomic_llong deadline_ms;     /* clock_ms; 0 while no request is arriving */
	atomic_int cut;               /* shut down by the sweep */
};

void col_deadlines_init(struct col_deadlines *d, unsigned seconds)
{
	d->seconds = seconds;
	d->conns = NULL;
	pthread_mutex_init(&d->lock, NULL);
}

void col_deadlines_destroy(struct col_deadlines *d)
{
	pthread_mutex_destroy(&d->lock);
}

static long long next_deadline(const struct col_deadlines *d)
{
	return clock_ms() + 1000ll * d->seconds;
}

/* MHD calls CLOSED before it closes the socket, so under the lock a listed
 * fd is always open. */
void col_deadlines_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct col_deadlines *d = cls;
	struct col_conn *c = *socket_context;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);

		/* out of memory: this one connection goes without a deadline */
		c = ci ? calloc(1, sizeof(*c)) : NULL;
		if (!c)
			return;
		c->fd = ci->connect_fd;
		atomic_init(&c->deadline_ms, next_deadline(d));
		atomic_init(&c->cut, 0);
		pthread_mutex_lock(&d->lock);
		c->next = d->conns;
		if (c->next)
			c->next->prev = c;
		d->conns = c;
		pthread_mutex_unlock(&d->lock);
		*socket_context = c;
		return;
	}
	if (!c)
		return;
	pthread_mutex_lock(&d->lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		d->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&d->lock);
	free(c);
	*socket_context = NULL;
}

void col_deadline_stop(struct col_conn *c)
{
	if (c)
		atomic_store(&c->deadline_ms, 0);
}

void col_deadline_extend(struct col_conn *c, unsigned seconds)
{
	long long later = clock_ms() + 1000ll * seconds;

	if (c && atomic_load(&c->deadline_ms) && atomic_load(&c->deadline_ms) < later)
		atomic_store(&c->deadline_ms, later);
}

int col_deadline_end(struct col_deadlines *d, struct col_conn *c)
{
	if (!c)
		return 0;
	atomic_store(&c->deadline_ms, next_deadline(d));
	return atomic_load(&c->cut);
}

void col_deadline_cut(struct col_conn *c)
{
	if (c && !atomic_exchange(&c->cut, 1))
		shutdown(c->fd, SHUT_RDWR);
}

unsigned col_deadlines_wait_cut(struct col_deadlines *d, unsigned max_ms)
{
	unsigned left = 0;

	for (unsigned waited = 0;; waited += 10) {
		left = 0;
		pthread_mutex_lock(&d->lock);
		for (struct col_conn *c = d->conns; c; c = c->next)
			left += atomic_load(&c->cut) != 0;
		pthread_mutex_unlock(&d->lock);
		if (!left || waited >= max_ms)
			return left;
		nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
	}
}

unsigned col_deadlines_sweep(struct col_deadlines *d)
{
	long long now = clock_ms();
	unsigned cut = 0;

	pthread_mutex_lock(&d->lock);
	for (struct col_conn *c = d->conns; c; c = c->next) {
		long long deadline = atomic_load(&c->deadline_ms);

		if (deadline && deadline <= now && !atomic_load(&c->cut)) {
			col_deadline_cut(c);
			cut++;
		}
	}
	pthread_mutex_unlock(&d->lock);
	return cut;
}
