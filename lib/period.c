/*
 * period.c - days, timestamps and periods (see period.h).  Calendar
 * arithmetic is delegated to the C library's timegm/gmtime_r; this file only
 * parses the text forms and checks that dates exist.
 */
#include "period.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Read exactly `n` digits at s; -1 if they are not all digits. */
static int read_digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* Seconds from the epoch at 00:00 UTC of the given civil date, or -1 when
 * the date does not exist (e.g. 2026-02-30). */
static int64_t civil_to_utc(int y, int m, int d)
{
	struct tm tm = {0}, back;
	time_t t;

	if (y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	t = timegm(&tm);
	if (!gmtime_r(&t, &back) || back.tm_mday != d || back.tm_mon != m - 1)
		return -1;
	return (int64_t)t;
}

static int parse_date(const char *s, int64_t *midnight_utc)
{
	int y, m, d;

	if (strlen(s) < 10 || s[4] != '-' || s[7] != '-')
		return -1;
	y = read_digits(s, 4);
	m = read_digits(s + 5, 2);
	d = read_digits(s + 8, 2);
	if (y < 0 || m < 0 || d < 0)
		return -1;
	*midnight_utc = civil_to_utc(y, m, d);
	return *midnight_utc < 0 ? -1 : 0;
}

static int32_t day_of(int64_t ts)
{
	int64_t local = ts + PERIOD_TZ_SECONDS;

	return (int32_t)((local >= 0 ? local : local - 86399) / 86400);
}

int period_parse_day(const char *s, int32_t *day, int64_t *start)
{
	int64_t ts;
	int32_t d;

	if (strlen(s) != 10 || period_parse_timestamp(s, &ts, &d, NULL) != 0)
		return -1;
	*day = d;
	if (start)
		*start = ts;
	return 0;
}

int period_parse_timestamp(const char *s, int64_t *ts, int32_t *day, struct err *e)
{
	int64_t midnight, t;
	int hh, mm, ss = 0, offset = PERIOD_TZ_SECONDS;
	const char *p;

	if (parse_date(s, &midnight) < 0)
		goto bad;
	p = s + 10;
	if (*p == '\0') {
		t = midnight - PERIOD_TZ_SECONDS;
		goto done;
	}
	if ((*p != 'T' && *p != ' ') || strlen(p) < 6 || p[3] != ':')
		goto bad;
	hh = read_digits(p + 1, 2);
	mm = read_digits(p + 4, 2);
	if (hh < 0 || hh > 23 || mm < 0 || mm > 59)
		goto bad;
	p += 6;
	if (*p == ':') {
		ss = read_digits(p + 1, 2);
		if (ss < 0 || ss > 60)
			goto bad;
		p += 3;
		if (*p == '.' || *p == ',') {
			p++;
			if (!isdigit((unsigned char)*p))
				goto bad;
			while (isdigit((unsigned char)*p))
				p++;
		}
	}
	if (*p == 'Z') {
		offset = 0;
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh = read_digits(p + 1, 2), om;

		if (oh < 0 || oh > 14 || p[3] != ':')
			goto bad;
		om = read_digits(p + 4, 2);
		if (om < 0 || om > 59)
			goto bad;
		offset = (oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
		p += 6;
	}
	if (*p != '\0')
		goto bad;
	t = midnight + hh * 3600 + mm * 60 + ss - offset;
done:
	*ts = t;
	*day = day_of(t);
	return 0;
bad:
	return err_set(e, ERR_INVALID,
		       "'%.40s' is not a date (YYYY-MM-DD) or ISO 8601 date-time", s);
}

static int32_t day_of_date(int y, int m, int d)
{
	return (int32_t)(civil_to_utc(y, m, d) / 86400);
}

int period_parse_quarter(const char *s, int *ordinal, struct err *e)
{
	int y, q;

	if (strlen(s) != 6 || (s[4] != 'Q' && s[4] != 'q'))
		goto bad;
	y = read_digits(s, 4);
	q = read_digits(s + 5, 1);
	if (y < 1970 || q < 1 || q > 4)
		goto bad;
	*ordinal = y * 4 + q - 1;
	return 0;
bad:
	return err_set(e, ERR_INVALID, "'%.40s' is not a quarter (YYYYQn)", s);
}

void period_of_quarter(int ordinal, struct period *p)
{
	int y = ordinal / 4, q = ordinal % 4 + 1;

	p->first_day = day_of_date(y, 3 * q - 2, 1);
	p->last_day = q == 4 ? day_of_date(y, 12, 31) : day_of_date(y, 3 * q + 1, 1) - 1;
	snprintf(p->label, sizeof(p->label), "%04dQ%d", y, q);
}

int period_quarter_of_day(int32_t day)
{
	time_t t = (time_t)day * 86400;
	struct tm tm;

	gmtime_r(&t, &tm);
	return (tm.tm_year + 1900) * 4 + tm.tm_mon / 3;
}

int period_parse(const char *s, struct period *p, struct err *e)
{
	int64_t a, b;
	int ordinal, y;
	const char *dots = strstr(s, "..");

	if (dots) {
		char first[16];
		size_t n = (size_t)(dots - s);

		if (n >= sizeof(first))
			goto bad;
		memcpy(first, s, n);
		first[n] = '\0';
		if (strlen(first) != 10 || strlen(dots + 2) != 10 ||
		    parse_date(first, &a) < 0 || parse_date(dots + 2, &b) < 0)
			goto bad;
		if (b < a)
			return err_set(e, ERR_INVALID, "period '%s' ends before it starts", s);
		p->first_day = (int32_t)(a / 86400);
		p->last_day = (int32_t)(b / 86400);
		snprintf(p->label, sizeof(p->label), "%s", s);
		return 0;
	}
	if (strlen(s) == 6 && period_parse_quarter(s, &ordinal, NULL) == 0) {
		period_of_quarter(ordinal, p);
		return 0;
	}
	if (strlen(s) == 4) {
		y = read_digits(s, 4);
		if (y < 1970)
			goto bad;
		p->first_day = day_of_date(y, 1, 1);
		p->last_day = day_of_date(y, 12, 31);
		snprintf(p->label, sizeof(p->label), "%04d", y);
		return 0;
	}
bad:
	return err_set(e, ERR_INVALID,
		       "'%.40s' is not a period (2026Q3, 2026, or 2026-07-01..2026-09-30)", s);
}

void period_format_day(int32_t day, char *buf)
{
	time_t t = (time_t)day * 86400;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, 11, "%Y-%m-%d", &tm);
}

int32_t period_today(void)
{
	return day_of((int64_t)time(NULL));
}

int period_check_started(const struct period *p, int32_t today, struct err *e)
{
	char first[11], now[11];

	if (p->first_day <= today)
		return 0;
	period_format_day(p->first_day, first);
	period_format_day(today, now);
	return err_set_field(e, ERR_INVALID, "period", "period %s has not started yet: it begins on %s, "
			     "today is %s in Vietnam", p->label, first, now);
}
