/*
 * response.c - field-by-field checking of a response (see response.h).
 * Numbers are parsed strictly: "4" is an answer, " 4", "4.0" and "04x" are not.
 */
#include "response.h"

#include <assert.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/csv.h"
#include "../lib/period.h"
#include "../lib/utf8.h"

static const char *const channel_names[] = {
	NULL, "kiosk", "phone", "paper", "interview", "online"
};

const char *response_channel_name(int channel)
{
	if (channel <= 0 || (size_t)channel >= sizeof(channel_names) / sizeof(channel_names[0]))
		return NULL;
	return channel_names[channel];
}

static const struct {
	const char *name;
	int kind;
} fixed_fields[] = {
	{ "response_id", FIELD_RESPONSE_ID }, { "submitted_at", FIELD_SUBMITTED_AT },
	{ "agency", FIELD_AGENCY }, { "sector", FIELD_SECTOR }, { "channel", FIELD_CHANNEL },
	{ "dossier_code", FIELD_DOSSIER }, { "stratum", FIELD_STRATUM }, { "psu", FIELD_PSU },
	{ "weight", FIELD_WEIGHT }, { "comment", FIELD_COMMENT },
};

void response_init(struct response *r, const struct form *form)
{
	/* everything but the long comment buffer, of which "" is enough */
	memset(r, 0, offsetof(struct response, comment));
	r->comment[0] = '\0';
	r->form = form;
	r->channel = CHANNEL_PAPER;
	r->weight = 1.0;
}

int response_field_lookup(const struct form *form, const char *name, struct response_field *out,
			  struct err *e)
{
	long i;

	out->decimal_comma = 0;
	out->spreadsheet = 0;
	for (size_t k = 0; k < sizeof(fixed_fields) / sizeof(fixed_fields[0]); k++) {
		if (strcmp(name, fixed_fields[k].name) == 0) {
			out->kind = fixed_fields[k].kind;
			out->index = 0;
			out->name = fixed_fields[k].name;
			return 0;
		}
	}
	i = form_item_index(form, name);
	if (i >= 0) {
		out->kind = FIELD_ANSWER;
		out->index = (size_t)i;
		out->name = form->items[i].id;
		return 0;
	}
	i = form_choice_index(form, name);
	if (i >= 0) {
		out->kind = FIELD_CHOICE;
		out->index = (size_t)i;
		out->name = form->choices[i].id;
		return 0;
	}
	return err_set_field(e, ERR_INVALID, name, "unknown field for form %s", form->id);
}


/* Copy a code of at most `max` bytes with no control characters. */
static int set_code(char *dst, size_t max, const char *field, const char *value, struct err *e)
{
	size_t n = strlen(value);

	if (n > max)
		return err_set_field(e, ERR_INVALID, field, "longer than %zu characters", max);
	for (const char *p = value; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return err_set_field(e, ERR_INVALID, field, "holds a control character");
	if (!utf8_valid(value, n))
		return err_set_field(e, ERR_INVALID, field, "is not valid UTF-8");
	memcpy(dst, value, n + 1);
	return 0;
}

int response_set_answer(struct response *r, size_t item, long long value, struct err *e)
{
	const struct form *f = r->form;

	if (!form_on_scale(f, value))
		return err_set_field(e, ERR_INVALID, f->items[item].id, "%lld is off the scale %d..%d",
				     value, f->scale_min, f->scale_max);
	r->answers[item] = (uint8_t)(value - f->scale_min + 1);
	return 0;
}

static int set_answer_text(struct response *r, size_t item, const char *value, struct err *e)
{
	const char *id = r->form->items[item].id;
	long long v = 0;

	if (!*value) {
		r->answers[item] = 0;
		return 0;
	}
	for (const char *p = value; *p; p++) {
		if (*p < '0' || *p > '9' || p - value > 3)
			return err_set_field(e, ERR_INVALID, id, "'%.20s' is not a whole number on the scale", value);
		v = v * 10 + (*p - '0');
	}
	return response_set_answer(r, item, v, e);
}

static int set_choice_text(struct response *r, size_t idx, const char *value, struct err *e)
{
	const struct form_choice *c = &r->form->choices[idx];

	if (!*value) {
		r->choices[idx] = 0;
		return 0;
	}
	for (size_t i = 0; i < c->n_values; i++) {
		if (strcmp(c->values[i], value) == 0) {
			r->choices[idx] = (uint8_t)(i + 1);
			return 0;
		}
	}
	return err_set_field(e, ERR_INVALID, c->id, "'%.40s' is not one of the form's values", value);
}

static int set_weight(struct response *r, const struct response_field *field, const char *value,
		      struct err *e)
{
	const char *hint;
	double w;

	if (!*value) {
		r->weight = 1.0;
		return 0;
	}
	/* sums of squared weights over millions of rows must stay finite */
	if (csv_parse_decimal(value, field->decimal_comma, &w, &hint) != 0 ||
	    !(w >= RESPONSE_MIN_WEIGHT && w <= RESPONSE_MAX_WEIGHT))
		return err_set_field(e, ERR_INVALID, "weight", "'%.40s' is not a plain decimal from %g to %g%s",
				     value, RESPONSE_MIN_WEIGHT, RESPONSE_MAX_WEIGHT, hint);
	r->weight = w;
	return 0;
}

/* A date written day first (see response_set_text) as ISO 8601 in iso;
 * 0, or -1 when value does not have that shape (its numbers are checked
 * by period_parse_timestamp). */
static int day_first_to_iso(const char *value, char iso[32])
{
	const char *time = value + 10;
	size_t hour;

	if (strlen(value) < 10 || value[2] != '/' || value[5] != '/' || strspn(value, "0123456789") != 2 ||
	    strspn(value + 3, "0123456789") != 2 || strspn(value + 6, "0123456789") != 4)
		return -1;
	if (*time == '\0') {
		snprintf(iso, 32, "%.4s-%.2s-%.2s", value + 6, value + 3, value);
		return 0;
	}
	hour = strspn(time + 1, "0123456789");
	if (*time != ' ' || hour < 1 || hour > 2 || strlen(time + 1 + hour) > 6 ||
	    strspn(time + 1 + hour, ":0123456789") != strlen(time + 1 + hour))
		return -1;
	snprintf(iso, 32, "%.4s-%.2s-%.2sT%s%s", value + 6, value + 3, value, hour == 1 ? "0" : "", time + 1);
	return 0;
}

static int set_submitted_at(struct response *r, const struct response_field *field, const char *value,
			    struct err *e)
{
	char iso[32];
	int day_first = field->spreadsheet && day_first_to_iso(value, iso) == 0;

	if (!*value)
		return err_set_field(e, ERR_INVALID, "submitted_at", "required");
	if (period_parse_timestamp(day_first ? iso : value, &r->ts, &r->day, NULL))
		return err_set_field(e, ERR_INVALID, "submitted_at", "'%.40s' is not a date (YYYY-MM-DD%s) or "
				     "ISO 8601 date-time", value, field->spreadsheet ? " or DD/MM/YYYY" : "");
	r->has_ts = 1;
	return 0;
}

int response_set_text(struct response *r, const struct registry *reg,
		      const struct response_field *field, const char *value, struct err *e)
{
	switch (field->kind) {
	case FIELD_RESPONSE_ID:
		if (!*value)
			return err_set_field(e, ERR_INVALID, "response_id", "required");
		return set_code(r->response_id, RESPONSE_MAX_ID, "response_id", value, e);
	case FIELD_SUBMITTED_AT:
		return set_submitted_at(r, field, value, e);
	case FIELD_AGENCY:
		r->agency = registry_agency(reg, value);
		if (!r->agency)
			return *value ? err_set_field(e, ERR_INVALID, "agency", "unknown agency '%.40s'", value)
				      : err_set_field(e, ERR_INVALID, "agency", "required");
		return 0;
	case FIELD_SECTOR:
		r->sector = registry_sector(reg, value);
		if (!r->sector)
			return *value ? err_set_field(e, ERR_INVALID, "sector", "unknown sector '%.40s'", value)
				      : err_set_field(e, ERR_INVALID, "sector", "required");
		return 0;
	case FIELD_CHANNEL:
		if (!*value) {
			r->channel = CHANNEL_PAPER;
			return 0;
		}
		for (int c = CHANNEL_KIOSK; c <= CHANNEL_ONLINE; c++) {
			if (strcmp(value, channel_names[c]) == 0) {
				r->channel = c;
				return 0;
			}
		}
		return err_set_field(e, ERR_INVALID, "channel", "'%.40s' is not kiosk, phone, paper, interview or online",
			      value);
	case FIELD_DOSSIER:
		return set_code(r->dossier, RESPONSE_MAX_CODE, "dossier_code", value, e);
	case FIELD_STRATUM:
		return set_code(r->stratum, RESPONSE_MAX_CODE, "stratum", value, e);
	case FIELD_PSU:
		return set_code(r->psu, RESPONSE_MAX_CODE, "psu", value, e);
	case FIELD_WEIGHT:
		return set_weight(r, field, value, e);
	case FIELD_COMMENT:
		if (!r->form->has_comment && *value)
			return err_set_field(e, ERR_INVALID, "comment", "form %s takes no comment", r->form->id);
		if (strlen(value) > RESPONSE_MAX_COMMENT)
			return err_set_field(e, ERR_INVALID, "comment", "longer than %d bytes",
					     RESPONSE_MAX_COMMENT);
		if (!utf8_valid(value, strlen(value)))
			return err_set_field(e, ERR_INVALID, "comment", "is not valid UTF-8");
		for (const char *p = value; *p; p++)
			if (((unsigned char)*p < 0x20 && !strchr("\t\r\n", *p)) || *p == 0x7f)
				return err_set_field(e, ERR_INVALID, "comment", "holds a control character");
		memcpy(r->comment, value, strlen(value) + 1);
		return 0;
	case FIELD_ANSWER:
		return set_answer_text(r, field->index, value, e);
	case FIELD_CHOICE:
		return set_choice_text(r, field->index, value, e);
	default:
		return err_set(e, ERR_INTERNAL, "unknown field kind %d", field->kind);
	}
}

int response_is_empty(const struct response *r)
{
	const struct form *f = r->form;

	for (size_t i = 0; i < f->n_items; i++)
		if (r->answers[i])
			return 0;
	for (size_t i = 0; i < f->n_choices; i++)
		if (r->choices[i])
			return 0;
	return r->comment[0] == '\0';
}

int response_check(const struct response *r, struct err *e)
{
	const struct form *f = r->form;
	int answered = 0;

	if (!r->response_id[0])
		return err_set_field(e, ERR_INVALID, "response_id", "required");
	if (!r->has_ts)
		return err_set_field(e, ERR_INVALID, "submitted_at", "required");
	if (!r->agency)
		return err_set_field(e, ERR_INVALID, "agency", "required");
	if (!r->sector)
		return err_set_field(e, ERR_INVALID, "sector", "required");
	if (registry_check_valid(r->agency, r->day, e))
		return e->code;
	for (size_t i = 0; i < f->n_items; i++)
		answered |= r->answers[i] != 0;
	if (!answered)
		return err_set_field(e, ERR_INVALID, f->items[f->overall].id, "no question is answered");
	for (size_t i = 0; i < f->n_choices; i++) {
		const struct form_choice *c = &f->choices[i];
		uint8_t a;

		if (c->is_demographic || !r->choices[i])
			continue;
		a = r->answers[c->when_item];
		if (!a || !((c->when_mask >> (a - 1)) & 1u))
			return err_set_field(e, ERR_INVALID, c->id, "only asked when %s is one of its trigger values",
					     f->items[c->when_item].id);
	}
	return 0;
}

int response_check_date(const struct response *r, int32_t today, struct err *e)
{
	char tomorrow[16];

	assert(r->has_ts);
	if (r->day < RESPONSE_FIRST_DAY)
		return err_set_field(e, ERR_INVALID, "submitted_at", "is before 2000-01-01");
	if (r->day > today + 1) {
		period_format_day(today + 1, tomorrow);
		return err_set_field(e, ERR_INVALID, "submitted_at", "is after tomorrow (%s)", tomorrow);
	}
	return 0;
}

int response_check_received(struct response *r, int64_t now, int64_t max_age, struct err *e)
{
	assert(r->has_ts && max_age > 0);
	if (r->ts > now + RESPONSE_MAX_AHEAD)
		return err_set_field(e, ERR_INVALID, "submitted_at",
				     "is %lld seconds ahead of the server's clock (at most %d)",
				     (long long)(r->ts - now), RESPONSE_MAX_AHEAD);
	if (r->ts < now - max_age)
		return err_set_field(e, ERR_INVALID, "submitted_at",
				     "is older than %lld days, the longest a rating may wait to be sent",
				     (long long)(max_age / 86400));
	r->received_at = now;
	return 0;
}

const char *response_stratum(const struct response *r)
{
	return r->stratum[0] ? r->stratum : r->agency->code;
}
