/*
 * progress.c - terminal progress line (see progress.h).
 */
#include "progress.h"

#include <stdio.h>
#include <unistd.h>

#include "clock.h"

void progress_start(struct progress *p, const char *label, uint64_t total)
{
	p->enabled = isatty(STDERR_FILENO);
	p->label = label;
	p->total = total;
	p->started = clock_seconds();
	p->last = p->started;
}

void progress_update(struct progress *p, uint64_t done, uint64_t rows)
{
	double t, rate;

	if (!p->enabled || (rows & 1023) != 0)
		return;
	t = clock_seconds();
	if (t - p->last < 0.25)
		return;
	p->last = t;
	rate = (double)rows / (t - p->started);
	if (p->total)
		fprintf(stderr, "\r%s: %3.0f%%  %llu rows  %.0f rows/s ", p->label,
			100.0 * (double)done / (double)p->total, (unsigned long long)rows, rate);
	else
		fprintf(stderr, "\r%s: %llu rows  %.0f rows/s ", p->label,
			(unsigned long long)rows, rate);
	fflush(stderr);
}

void progress_end(struct progress *p)
{
	if (p->enabled && p->last > p->started)
		fprintf(stderr, "\r\033[K");
}
