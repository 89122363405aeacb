/*
 * test_period.c - timestamps to Vietnam-time days, and period parsing.
 */
#include <math.h>
#include <string.h>

#include "test.h"
#include "../lib/period.h"

static int32_t day_of_text(const char *date)
{
	int64_t ts;
	int32_t day;

	return period_parse_timestamp(date, &ts, &day, NULL) ? -1 : day;
}

static void timestamps_use_vietnam_dates(void)
{
	int32_t d = day_of_text("2026-09-30");
	int64_t ts;
	int32_t day;

	CHECK(d > 0);
	CHECK_INT(day_of_text("2026-09-30T23:59:59"), d);          /* no offset: UTC+7 */
	CHECK_INT(day_of_text("2026-09-30T23:59:59+07:00"), d);
	CHECK_INT(day_of_text("2026-09-30T17:00:00Z"), d + 1);      /* 00:00 on Oct 1 in Hanoi */
	CHECK_INT(day_of_text("2026-09-30T16:59:59Z"), d);
	CHECK_INT(day_of_text("2026-09-30T20:00:00-05:00"), d + 1);
	CHECK_INT(day_of_text("2026-09-30 08:00"), d);
	CHECK_INT(day_of_text("2026-09-30T08:00:00.123+07:00"), d);
	CHECK_INT(period_parse_timestamp("2026-08-03T09:15:00+07:00", &ts, &day, NULL), 0);
	CHECK_INT(ts, 1785723300);  /* date -d 2026-08-03T02:15:00Z +%s */
}

static void bad_timestamps(void)
{
	static const char *const bad[] = {
		"", "2026", "2026-13-01", "2026-02-30", "2026-9-1", "2026-09-30T24:00",
		"2026-09-30T12:60", "2026-09-30T12:00+7", "2026-09-30T12:00:00+07:00x", "30/09/2026",
		"2026-09-30T", "2026-09-30T12:00:00.", "1969-12-31",
	};
	struct err e;
	int64_t ts;
	int32_t day;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(period_parse_timestamp(bad[i], &ts, &day, &e) == ERR_INVALID);
		CHECK_CONTAINS(e.text, "is not a date");
	}
}

static void periods(void)
{
	struct period p;
	struct err e;

	CHECK_INT(period_parse("2026Q3", &p, &e), 0);
	CHECK_INT(p.first_day, day_of_text("2026-07-01"));
	CHECK_INT(p.last_day, day_of_text("2026-09-30"));
	CHECK_STR(p.label, "2026Q3");
	CHECK_INT(period_parse("2024Q1", &p, &e), 0);
	CHECK_INT(p.last_day, day_of_text("2024-03-31"));
	CHECK_INT(period_parse("2026Q4", &p, &e), 0);
	CHECK_INT(p.last_day, day_of_text("2026-12-31"));
	CHECK_INT(period_parse("2026", &p, &e), 0);
	CHECK_INT(p.last_day - p.first_day, 364);
	CHECK_INT(period_parse("2026-07-15..2026-08-14", &p, &e), 0);
	CHECK_INT(p.last_day - p.first_day, 30);
	CHECK(period_parse("2026Q5", &p, &e) == ERR_INVALID);
	CHECK_CONTAINS(e.text, "'2026Q5' is not a period");
	CHECK(period_parse("2026-08-14..2026-07-15", &p, &e) == ERR_INVALID);
	CHECK_CONTAINS(e.text, "ends before it starts");
	CHECK(period_parse("2026-02-30..2026-03-01", &p, &e) == ERR_INVALID);
}

static void quarters(void)
{
	struct period p;
	int q;

	CHECK_INT(period_parse_quarter("2026Q1", &q, NULL), 0);
	CHECK_INT(q, 2026 * 4);
	CHECK_INT(period_quarter_of_day(day_of_text("2026-09-30")), 2026 * 4 + 2);
	CHECK_INT(period_quarter_of_day(day_of_text("2026-10-01")), 2026 * 4 + 3);
	period_of_quarter(2025 * 4 + 3, &p);
	CHECK_STR(p.label, "2025Q4");
	CHECK(period_parse_quarter("2026Q0", &q, NULL) != 0);
	CHECK(period_parse_quarter("26Q1", &q, NULL) != 0);
}

const struct test_case period_tests[] = {
	{ "timestamps_use_vietnam_dates", timestamps_use_vietnam_dates },
	{ "bad_timestamps", bad_timestamps },
	{ "periods", periods },
	{ "quarters", quarters },
	{ NULL, NULL }
};
