/*
 * hours.c - opening hours: parsing a spec, and counting time in them (see
 * hours.h).
 */
#include "hours.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../db/db.h"
#include "../lib/period.h"

static const char *const day_names[7] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };

/* Local day and minute of a Unix time, floor division (times before 1970 too). */
static int32_t local_day(int64_t t)
{
	int64_t s = t + PERIOD_TZ_SECONDS;

	return (int32_t)(s >= 0 ? s / 86400 : -((-s + 86399) / 86400));
}

static int64_t day_start(int32_t day)
{
	return (int64_t)day * 86400 - PERIOD_TZ_SECONDS;
}

/* 1970-01-01 was a Thursday; Monday is 0. */
static int weekday(int32_t day)
{
	int w = (int)((day + 3) % 7);

	return w < 0 ? w + 7 : w;
}

/* ERR_INVALID naming the part of the spec at fault and why. */
static int fail(struct err *e, const char *part, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(struct err *e, const char *part, size_t len, const char *fmt, ...)
{
	char why[96];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return err_set_field(e, ERR_INVALID, "hours", "hours: '%.*s': %s (e.g. '%s')", (int)len, part, why,
			     HOURS_DEFAULT);
}

static int parse_day(const char *s, size_t len)
{
	for (int i = 0; i < 7; i++)
		if (len == 3 && strncmp(s, day_names[i], 3) == 0)
			return i;
	return -1;
}

/* "HH:MM" from 00:00 to 24:00 into minutes, or -1. */
static int parse_time(const char *s, size_t len)
{
	int hh, mm;

	if (len != 5 || s[2] != ':')
		return -1;
	for (int i = 0; i < 5; i++)
		if (i != 2 && (s[i] < '0' || s[i] > '9'))
			return -1;
	hh = (s[0] - '0') * 10 + (s[1] - '0');
	mm = (s[3] - '0') * 10 + (s[4] - '0');
	if (mm > 59 || hh > 24 || (hh == 24 && mm != 0))
		return -1;
	return hh * 60 + mm;
}

/* The days part of a group, "Mon" or "Mon-Fri", into first and last. */
static int parse_days(const char *s, size_t len, int *first, int *last, struct err *e)
{
	const char *dash = memchr(s, '-', len);
	size_t n1 = dash ? (size_t)(dash - s) : len;

	*first = parse_day(s, n1);
	if (*first < 0)
		return fail(e, s, len, "unknown day (Mon, Tue, Wed, Thu, Fri, Sat or Sun)");
	*last = dash ? parse_day(dash + 1, len - n1 - 1) : *first;
	if (*last < 0)
		return fail(e, s, len, "unknown day (Mon, Tue, Wed, Thu, Fri, Sat or Sun)");
	if (*last < *first)
		return fail(e, s, len, "the days run backwards (write them Monday first)");
	return 0;
}

/* The ranges part of a group into the days first..last of out. */
static int parse_ranges(const char *s, size_t len, int first, int last, struct hours *out, struct err *e)
{
	int16_t start[HOURS_MAX_RANGES], end[HOURS_MAX_RANGES];
	int n = 0;

	for (size_t i = 0; i <= len;) {
		size_t k = i;
		const char *dash;
		int a, b;

		while (k < len && s[k] != ',')
			k++;
		dash = memchr(s + i, '-', k - i);
		if (k == i)
			return fail(e, s, len, "an empty time range");
		if (n == HOURS_MAX_RANGES)
			return fail(e, s, len, "more than %d time ranges in a day", HOURS_MAX_RANGES);
		a = dash ? parse_time(s + i, (size_t)(dash - (s + i))) : -1;
		b = dash ? parse_time(dash + 1, (size_t)(s + k - dash - 1)) : -1;
		if (a < 0 || b < 0)
			return fail(e, s + i, k - i, "not a time range HH:MM-HH:MM");
		if (a >= b)
			return fail(e, s + i, k - i, "the range ends before it starts");
		if (n > 0 && a < end[n - 1])
			return fail(e, s + i, k - i, "overlaps or comes before the range before it");
		start[n] = (int16_t)a;
		end[n] = (int16_t)b;
		n++;
		i = k + 1;
	}
	for (int d = first; d <= last; d++) {
		out->n[d] = n;
		memcpy(out->start[d], start, sizeof(start[0]) * (size_t)n);
		memcpy(out->end[d], end, sizeof(end[0]) * (size_t)n);
	}
	return 0;
}

int hours_parse(const char *spec, struct hours *out, struct err *e)
{
	int named[7] = { 0 };
	size_t len = strlen(spec);

	memset(out, 0, sizeof(*out));
	if (len > HOURS_MAX_SPEC)
		return fail(e, spec, 24, "longer than %d bytes", HOURS_MAX_SPEC);
	for (size_t i = 0; i <= len;) {
		size_t k = i, b, sp;
		int first = 0, last = -1, rc;

		while (k < len && spec[k] != ';')
			k++;
		/* the group is spec[b .. k) without its surrounding spaces */
		for (b = i; b < k && spec[b] == ' '; b++)
			;
		while (k > b && spec[k - 1] == ' ')
			k--;
		for (sp = b; sp < k && spec[sp] != ' '; sp++)
			;
		if (b == k)
			return fail(e, spec + i, 0, "an empty group: give days and times");
		if (sp == k)
			return fail(e, spec + b, k - b, "give days, a space and time ranges");
		rc = parse_days(spec + b, sp - b, &first, &last, e);
		while (sp < k && spec[sp] == ' ')
			sp++;
		if (!rc)
			rc = parse_ranges(spec + sp, k - sp, first, last, out, e);
		if (rc)
			return rc;
		for (int d = first; d <= last; d++) {
			if (named[d]++)
				return fail(e, spec + b, k - b, "%s is already given in an earlier group", day_names[d]);
		}
		while (k < len && spec[k] != ';')
			k++;
		i = k + 1;
	}
	return 0;
}

int hours_for_agency(sqlite3 *db, long long agency_id, struct hours *out, char *spec, struct err *e)
{
	sqlite3_stmt *st = NULL;
	char text[HOURS_MAX_SPEC + 1] = HOURS_DEFAULT;
	int rc = db_prepare(db, "SELECT spec FROM opening_hours WHERE agency_id = ?1", &st, e), step;

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, agency_id);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		snprintf(text, sizeof(text), "%s", (const char *)sqlite3_column_text(st, 0));
	else if (step != SQLITE_DONE)
		rc = db_fail(db, e, "reading opening hours");
	sqlite3_finalize(st);
	if (!rc)
		rc = hours_parse(text, out, e);
	if (!rc && spec)
		memcpy(spec, text, sizeof(text));
	return rc;
}

int hours_store(sqlite3 *db, long long agency_id, const char *spec, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = db_prepare(db, "INSERT INTO opening_hours(agency_id, spec) VALUES (?1, ?2) "
			    "ON CONFLICT (agency_id) DO UPDATE SET spec = excluded.spec", &st, e);

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, agency_id);
	sqlite3_bind_text(st, 2, spec, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db, e, "storing opening hours");
	sqlite3_finalize(st);
	return rc;
}

int hours_is_open(const struct hours *h, int64_t t)
{
	int32_t day = local_day(t);
	int w = weekday(day), minute = (int)((t - day_start(day)) / 60);

	for (int i = 0; i < h->n[w]; i++)
		if (minute >= h->start[w][i] && minute < h->end[w][i])
			return 1;
	return 0;
}

int64_t hours_day_end(const struct hours *h, int32_t day)
{
	int w = weekday(day);

	return h->n[w] ? day_start(day) + (int64_t)h->end[w][h->n[w] - 1] * 60 : -1;
}

/* Opening seconds of local day `day` within [t1, t2). */
static int64_t open_in_day(const struct hours *h, int32_t day, int64_t t1, int64_t t2)
{
	int w = weekday(day);
	int64_t base = day_start(day), sum = 0;

	for (int i = 0; i < h->n[w]; i++) {
		int64_t a = base + (int64_t)h->start[w][i] * 60, b = base + (int64_t)h->end[w][i] * 60;

		if (a < t1)
			a = t1;
		if (b > t2)
			b = t2;
		if (b > a)
			sum += b - a;
	}
	return sum;
}

int64_t hours_open_seconds(const struct hours *h, int64_t t1, int64_t t2)
{
	int32_t d1, d2;
	int64_t sum = 0, week = 0;

	if (t2 <= t1)
		return 0;
	d1 = local_day(t1);
	d2 = local_day(t2);
	/* whole weeks in between at once: a kiosk silent for a year costs
	 * no more than one silent for a week */
	if (d2 - d1 > 14) {
		int32_t weeks = (d2 - d1 - 7) / 7;

		for (int w = 0; w < 7; w++)
			for (int i = 0; i < h->n[w]; i++)
				week += (int64_t)(h->end[w][i] - h->start[w][i]) * 60;
		sum += open_in_day(h, d1, t1, t2);
		sum += week * weeks;
		for (int32_t d = d1 + 1 + weeks * 7; d <= d2; d++)
			sum += open_in_day(h, d, t1, t2);
		return sum;
	}
	for (int32_t d = d1; d <= d2; d++)
		sum += open_in_day(h, d, t1, t2);
	return sum;
}
