/*
 * route_submit.c - POST /api/responses (one rating: a kiosk token or a
 * phone's signed link) and POST /api/responses/batch (up to 500 ratings a
 * kiosk queued offline).  Each rating is checked here and in
 * responses/response_json.c, its digest and receipt computed on the
 * request's thread, and handed to the group-commit writer (writer.c) as a
 * pending submission: the route's deferred reply (app.h), answered only
 * after its commit.  The HTTP layer only starts and finishes it.
 */
#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include <microhttpd.h>

#include "../lib/clock.h"
#include "../responses/response_json.h"
#include "../responses/published.h"
#include "../responses/store.h"
#include "handlers.h"
#include "request.h"

/* Check one posted response against its sender (established before the
 * body was read: a kiosk token, or a phone's signed link) and the clock
 * (--max-age).  On failure fills e, and *why with how to refuse it. */
static int check_post(const struct col_app *app, const struct col_catalog *cat, json_t *doc,
		      const struct col_sender *sender, struct response *r, enum col_error *why,
		      struct err *e)
{
	const struct device_info *dev = &sender->dev;
	const struct link_fields *link = &sender->link;
	int channel_given = json_object_get(doc, "channel") != NULL;
	const struct registry_entry *own = sender->kind == COL_SENDER_DEVICE ? registry_agency(cat->reg, dev->agency)
									    : NULL;
	int rc;

	/* a kiosk left at an agency that has ended is moved, not rated for:
	 * whatever day its ratings carry, the office must pair it anew */
	if (own && own->valid_to < period_today()) {
		*why = COL_E_FORBIDDEN;
		return registry_check_valid(own, own->valid_to + 1, e);
	}
	rc = response_from_json(doc, cat->forms, cat->n_forms, cat->reg, r, e);
	if (rc) {
		*why = col_error_from_err(rc);
		return rc;
	}
	*why = COL_E_INVALID;
	rc = response_check_received(r, (int64_t)time(NULL), app->max_age, e);
	if (rc)
		return rc;
	if (sender->kind == COL_SENDER_DEVICE) {
		if (channel_given && r->channel != CHANNEL_KIOSK)
			return err_set_field(e, ERR_INVALID, "channel", "a kiosk token posts channel kiosk");
		r->channel = CHANNEL_KIOSK;
		r->device_id = dev->id;
		*why = COL_E_FORBIDDEN;
		if (strcmp(r->form->id, dev->form) != 0)
			return err_set_field(e, ERR_INVALID, "form", "this kiosk posts form %s, not %s", dev->form,
					     r->form->id);
		if (r->agency->id != dev->agency_id)
			return err_set_field(e, ERR_INVALID, "agency", "this kiosk's token is for agency %s, not %s",
					     dev->agency, r->agency->code);
		if (!device_serves_sector(dev, r->sector->id))
			return err_set_field(e, ERR_INVALID, "sector", "this kiosk does not serve sector %s",
					     r->sector->code);
		return 0;
	}
	if (channel_given && r->channel != CHANNEL_PHONE)
		return err_set_field(e, ERR_INVALID, "channel", "a phone link posts channel phone");
	r->channel = CHANNEL_PHONE;
	/* the body must be about what the link was signed for */
	*why = COL_E_UNAUTHORIZED;
	if (strcmp(r->form->id, link->form) != 0)
		return err_set_field(e, ERR_INVALID, "form", "the link is for form %.64s", link->form);
	if (strcmp(r->agency->code, link->agency) != 0)
		return err_set_field(e, ERR_INVALID, "agency", "the link is for agency %.64s", link->agency);
	if (strcmp(r->sector->code, link->sector) != 0)
		return err_set_field(e, ERR_INVALID, "sector", "the link is for sector %.64s", link->sector);
	if (strcmp(r->dossier, link->dossier) != 0)
		return err_set_field(e, ERR_INVALID, "dossier_code", "the link is for dossier %.64s",
				     link->dossier);
	return 0;
}

static json_t *result_json(const struct col_write_item *w, const char *receipt)
{
	return json_pack("{s:s, s:b}", "receipt", receipt, "duplicate", w->duplicate);
}

/* One posted response: checked, then either queued for the writer (as
 * write[which], with its receipt made) or refused (why, refused). */
struct pending_item {
	struct response r;
	int queued;
	int late;                 /* when queued: for a day of a published period */
	size_t which;             /* when queued: its index in write[] */
	char receipt[33];         /* when queued: 32 hex digits, sent if it is stored */
	enum col_error why;       /* when refused */
	struct err refused;
};

/* A submission from its checks to its reply: one item for a single post,
 * n for a batch (whose posted array is kept to build the reply).  It is
 * the route's deferred reply (app.h): start queues the job for the writer,
 * finish answers from the outcomes.  It holds the catalog its responses
 * were checked against, since they point into its forms and registry.
 * One allocation: item[n], then the writer's write[n] (the queued ones
 * first), in the same block. */
struct col_pending {
	struct col_deferred deferred;   /* first: the HTTP layer's handle */
	struct col_app *app;
	struct col_write_job job;       /* items = write, n = how many queued */
	struct col_catalog *catalog;
	int batch;
	json_t *items;                  /* batch: the posted array (a reference) */
	int retry_after;                /* batch: items were over the rate; seconds */
	size_t n;
	struct col_write_item *write;   /* in this block, after item[n] */
	struct pending_item item[];
};

static void pending_free(struct col_pending *p)
{
	if (!p)
		return;
	json_decref(p->items);
	col_catalog_release(p->catalog);
	free(p);
}

static void pending_start(struct col_deferred *d, void (*resume)(void *arg), void *arg);
static void pending_finish(struct col_deferred *d, struct col_reply *reply);

static struct col_pending *pending_new(struct col_app *app, size_t n, int batch)
{
	/* item[] holds structs of pointers and doubles: write[] after it is aligned */
	size_t head = sizeof(struct col_pending) + n * sizeof(struct pending_item);
	struct col_pending *p;

	_Static_assert(sizeof(struct pending_item) % _Alignof(struct col_write_item) == 0 &&
		       sizeof(struct col_pending) % _Alignof(struct col_write_item) == 0,
		       "write[] follows item[] aligned");
	p = malloc(head + n * sizeof(struct col_write_item));
	if (!p)
		return NULL;
	memset(p, 0, sizeof(*p));
	p->deferred.start = pending_start;
	p->deferred.finish = pending_finish;
	p->app = app;
	p->catalog = col_app_catalog(app);
	p->job.reg = p->catalog->reg;
	p->batch = batch;
	p->n = n;
	p->write = (struct col_write_item *)(void *)((char *)p + head);
	p->job.items = p->write;
	return p;
}

/* 1 when r is for a day of a published period: stored, and only counted
 * late.  The days are re-read at most once a second (app->published):
 * `sipas publish` is another process and tells the server nothing, and
 * reading the table for every rating cost ~9 us, a tenth of a post's work.
 * So a rating in the second after a publish may go uncounted; it is stored
 * all the same.  A failed read (the reader broken, which /healthz reports)
 * leaves ratings uncounted until the next, never refused. */
static int is_late(struct col_app *app, const struct response *r)
{
	struct published_days *fresh;
	double now = clock_seconds();
	struct err e;
	sqlite3 *db;
	int late;

	pthread_mutex_lock(&app->published_lock);
	if (!app->published_read_at || now - app->published_read_at >= 1.0) {
		db = col_reader(app, &e);
		if (db && published_days_read(db, &fresh, &e) == 0) {
			published_days_free(app->published_days);
			app->published_days = fresh;
		}
		app->published_read_at = now;
	}
	late = app->published_days && published_days_has(app->published_days, r->form->id, r->day);
	pthread_mutex_unlock(&app->published_lock);
	return late;
}

/* Check item i (doc) and, when valid, add it to the job with the digest
 * and receipt the writer would otherwise compute on its single thread. */
static void pending_add(struct col_app *app, struct col_pending *p, size_t i, json_t *doc,
			const struct col_sender *sender)
{
	struct pending_item *it = &p->item[i];
	struct col_write_item *w = &p->write[p->job.n];

	it->queued = 0;   /* items are not zeroed by pending_new */
	if (check_post(app, p->catalog, doc, sender, &it->r, &it->why, &it->refused) != 0)
		goto refused;
	memset(w, 0, sizeof(*w));
	if (store_digest(&it->r, w->digest, &it->refused) != 0 ||
	    col_receipt(app, it->r.form->id, it->r.response_id, w->digest, it->receipt, &it->refused) != 0) {
		it->why = col_error_from_err(it->refused.code);
		goto refused;
	}
	w->response = &it->r;
	it->late = is_late(app, &it->r);
	it->queued = 1;
	it->which = p->job.n++;
	return;
refused:
	if (p->batch)   /* a single post counts when its error reply is made */
		col_metrics_reject(&app->metrics, it->why);
}

/* Answer at once when nothing needs the writer (or the server stops);
 * else defer the reply to the writer's commit. */
static void pending_submit(struct col_app *app, struct col_pending *p, struct col_reply *reply)
{
	if (p->job.n && atomic_load(&app->stopping)) {
		/* nothing was stored: the kiosk keeps the rating and re-sends it */
		col_reply_error(app, reply, COL_E_UNAVAILABLE, NULL, NULL);
		pending_free(p);
		return;
	}
	if (p->job.n == 0) {
		pending_finish(&p->deferred, reply);
		return;
	}
	reply->deferred = &p->deferred;
}

/* The deferred reply's start: the request is suspended; queue the job,
 * whose done() resumes it after the commit. */
static void pending_start(struct col_deferred *d, void (*resume)(void *arg), void *arg)
{
	struct col_pending *p = (struct col_pending *)(void *)d;

	p->job.done = resume;
	p->job.arg = arg;
	col_writer_enqueue(p->app->writer, &p->job);
}

static void finish_single(struct col_app *app, struct col_pending *p, struct col_reply *reply)
{
	const struct pending_item *it = &p->item[0];
	const struct col_write_item *w = &p->write[0];

	if (!it->queued) {
		col_reply_error(app, reply, it->why, it->refused.text, it->refused.field);
	} else if (w->code) {
		col_reply_err(app, reply, &w->err);
	} else {
		/* the hot path: written directly (a receipt is 32 hex digits) */
		reply->status = w->duplicate ? MHD_HTTP_OK : MHD_HTTP_CREATED;
		reply->content_type = "application/json; charset=utf-8";
		strbuf_reset(&reply->body);
		strbuf_addf(&reply->body, "{\"receipt\":\"%s\",\"duplicate\":%s}\n", it->receipt,
			    w->duplicate ? "true" : "false");
	}
}

/* A batch item's refusal: {"status", "error": {...}}. */
static json_t *item_error(enum col_error why, const struct err *e)
{
	return json_pack("{s:I, s:o}", "status", (json_int_t)col_error_info(why)->status, "error",
			 col_error_json(why, e->text, e->field));
}

static void finish_batch(struct col_app *app, struct col_pending *p, struct col_reply *reply)
{
	json_t *results = json_array(), *item;
	size_t i;

	json_array_foreach(p->items, i, item) {
		json_t *rid = json_object_get(item, "response_id"), *o;
		const struct pending_item *it = &p->item[i];
		/* `which` is set only for a queued item */
		const struct col_write_item *w = it->queued ? &p->write[it->which] : NULL;

		if (!w) {
			o = item_error(it->why, &it->refused);
		} else if (w->code) {
			enum col_error why = col_error_from_err(w->code);

			col_metrics_reject(&app->metrics, why);
			o = item_error(why, &w->err);
		} else {
			o = result_json(w, it->receipt);
			json_object_set_new(o, "status", json_integer(w->duplicate ? 200 : 201));
		}
		json_object_set(o, "response_id", json_is_string(rid) ? rid : json_null());
		json_array_append_new(results, o);
	}
	col_reply_json(reply, MHD_HTTP_OK, json_pack("{s:o}", "results", results));
	reply->retry_after = p->retry_after;
}

/* The deferred reply's finish (and a submission's that needed no writer):
 * count late ratings, build the reply, free the submission.  A client that
 * has gone (reply NULL) has its reply built and dropped, so the metrics
 * count it the same. */
static void pending_finish(struct col_deferred *d, struct col_reply *reply)
{
	struct col_pending *p = (struct col_pending *)(void *)d;
	struct col_app *app = p->app;
	struct col_reply dropped;

	/* deferred: its job is back from the writer; else it never went */
	assert(p->job.state != COL_JOB_NEW ? p->job.state == COL_JOB_DONE : p->job.n == 0);
	if (!reply) {
		memset(&dropped, 0, sizeof(dropped));
		strbuf_init(&dropped.body, 0);
		reply = &dropped;
	}
	/* a late rating counts once stored: not when refused, nor when resent */
	for (size_t i = 0; i < p->n; i++) {
		const struct pending_item *it = &p->item[i];

		if (it->queued && it->late && !p->write[it->which].code && !p->write[it->which].duplicate)
			col_metrics_late(&app->metrics);
	}
	if (p->batch)
		finish_batch(app, p, reply);
	else
		finish_single(app, p, reply);
	if (reply == &dropped)
		strbuf_release(&dropped.body);
	pending_free(p);
}

void col_handle_post(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			const char *tail)
{
	struct col_pending *p;
	json_t *doc = NULL;

	(void)tail;
	if (col_json_body(app, req, reply, &doc) != 0)
		return;
	p = pending_new(app, 1, 0);
	if (!p) {
		col_reply_error(app, reply, COL_E_OUT_OF_MEMORY, NULL, NULL);
	} else {
		if (req->sender->kind == COL_SENDER_DEVICE)
			p->job.device_id = req->sender->dev.id;
		pending_add(app, p, 0, doc, req->sender);
		pending_submit(app, p, reply);
	}
	json_decref(doc);
}

void col_handle_batch(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			 const char *tail)
{
	struct col_pending *p;
	json_t *doc = NULL, *items, *item;
	size_t n, i, granted;
	int wait;

	(void)tail;
	if (col_json_body(app, req, reply, &doc) != 0)
		return;
	items = json_object_get(doc, "responses");
	n = json_array_size(items);
	if (!json_is_object(doc) || json_object_size(doc) != 1 || !json_is_array(items) || n == 0 ||
	    n > COL_MAX_BATCH) {
		col_reply_error(app, reply, COL_E_INVALID,
				"the body must be {\"responses\": [...]} with 1 to 500 responses", "responses");
		json_decref(doc);
		return;
	}
	p = pending_new(app, n, 1);
	if (!p) {
		col_reply_error(app, reply, COL_E_OUT_OF_MEMORY, NULL, NULL);
		json_decref(doc);
		return;
	}
	p->items = json_incref(items);
	p->job.device_id = req->sender->dev.id;
	/* Every item is a rating against the device's limit: the precheck's
	 * token paid for the first, the rest take one each, and items beyond
	 * the allowance are refused one by one, never the batch whole. */
	granted = 1 + col_ratelimit_take_n(&app->device_limit, (uint64_t)req->sender->dev.id, req->now,
					   n - 1, &wait);
	json_array_foreach(items, i, item) {
		struct pending_item *it = &p->item[i];

		if (i < granted) {
			pending_add(app, p, i, item, req->sender);
			continue;
		}
		it->queued = 0;
		it->why = COL_E_RATE_LIMITED;
		err_set(&it->refused, ERR_INVALID, "over this kiosk's rate: retry in %d s", wait);
		col_metrics_reject(&app->metrics, it->why);
	}
	if (granted < n)
		p->retry_after = wait;
	json_decref(doc);
	pending_submit(app, p, reply);
}
