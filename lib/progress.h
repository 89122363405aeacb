/*
 * progress.h - a one-line progress report on stderr for long jobs (import,
 * scoring, reports), shown only when stderr is a terminal and redrawn at
 * most a few times a second.  Silent otherwise, so logs and pipes stay clean.
 */
#ifndef SIPAS_PROGRESS_H
#define SIPAS_PROGRESS_H

#include <stdint.h>

struct progress {
	int enabled;
	const char *label;   /* borrowed */
	uint64_t total;      /* expected units (e.g. bytes); 0 when unknown */
	double started, last;
};

/* Start reporting `label`; `total` units expected (0 = unknown). Can't fail. */
void progress_start(struct progress *p, const char *label, uint64_t total);

/* Report `done` units and `rows` items so far; cheap when nothing is drawn. */
void progress_update(struct progress *p, uint64_t done, uint64_t rows);

/* Clear the line. */
void progress_end(struct progress *p);

#endif
