/*
 * push.h - `sipas push`: a province sends what it has stored since its
 * last push to the national hub (docs/hub.md, "Pushing a province").
 *
 * The hub keeps a mark per province database (its identity): the last
 * visibility position sent.  Responses go in batches, one PostgreSQL
 * transaction each: COPY into a temporary stage, insert what the hub does
 * not have, record and report what it has with another digest (never
 * overwritten), move the mark, commit.  The rows and the mark commit
 * together, so a push killed at any moment and run again stores every
 * row exactly once.
 */
#ifndef SIPAS_PUSH_H
#define SIPAS_PUSH_H

#include <stddef.h>
#include <libpq-fe.h>

#include "push_source.h"
#include "../lib/err.h"
#include "../lib/progress.h"

#define PUSH_BATCH_DEFAULT 50000
#define PUSH_BATCH_MAX 1000000

/* A response the hub holds with other content than the province's. */
struct push_change {
	const char *form, *agency, *response_id;
	const char *quarter;   /* "2026Q3" */
};

struct push_options {
	const char *province;       /* checked with hub_province_ok by the caller */
	size_t batch;               /* responses per transaction, 1 to PUSH_BATCH_MAX */
	int full;                   /* start from the beginning, not from the mark */
	struct progress *progress;  /* NULL: none */
	/* called for each changed response, in the batch's transaction */
	void (*changed)(void *arg, const struct push_change *c);
	void *arg;
};

struct push_stats {
	size_t sent;       /* responses sent */
	size_t added;      /* of which the hub did not have */
	size_t changed;    /* of which it had with another digest */
	size_t records;    /* dossier records sent */
	size_t forms, agencies;
};

/* Push src to the hub on conn as o says; *stats counts what went, also
 * when a later batch fails (what committed stays).  ERR_NOT_FOUND when the
 * hub has no schema or does not let this role push o->province,
 * ERR_CONFLICT when another push of the same database is running, ERR_DB
 * when the hub refuses a statement (that batch rolled back). */
int push_run(PGconn *conn, struct push_source *src, const struct push_options *o, struct push_stats *stats,
	     struct err *e);

#endif
