/*
 * response.h - one survey response checked against its form and the
 * registry (docs/design.md), whatever it came from: a CSV row, a kiosk post, a
 * phone form.  Values are set field by field from text or integers; every
 * refusal names the field.  Storage is in responses/store.h.
 */
#ifndef SIPAS_RESPONSE_H
#define SIPAS_RESPONSE_H

#include <stdint.h>

#include "../lib/err.h"
#include "../forms/form.h"
#include "../forms/registry.h"

#define RESPONSE_MAX_ID 64
#define RESPONSE_MAX_CODE 64        /* dossier, stratum and PSU codes */
#define RESPONSE_MIN_WEIGHT 1e-6   /* design weights outside this range are refused */
#define RESPONSE_MAX_WEIGHT 1e9
#define RESPONSE_MAX_COMMENT 4000   /* bytes */
#define RESPONSE_FIRST_DAY 10957    /* 2000-01-01: no file holds an older rating */
#define RESPONSE_MAX_AHEAD 600      /* seconds a post's submitted_at may run ahead of the server's clock */

enum response_channel {
	CHANNEL_KIOSK = 1, CHANNEL_PHONE, CHANNEL_PAPER, CHANNEL_INTERVIEW, CHANNEL_ONLINE
};

/* The name of channel (enum response_channel) as files and the API write
 * it ("kiosk", "phone", ...), or NULL when it is none. */
const char *response_channel_name(int channel);

/* What a named field of a response is.  Answers and choices carry the index
 * of their question in the form. */
enum response_field_kind {
	FIELD_RESPONSE_ID, FIELD_SUBMITTED_AT, FIELD_AGENCY, FIELD_SECTOR, FIELD_CHANNEL,
	FIELD_DOSSIER, FIELD_STRATUM, FIELD_PSU, FIELD_WEIGHT, FIELD_COMMENT,
	FIELD_ANSWER, FIELD_CHOICE
};

struct response_field {
	int kind;         /* enum response_field_kind */
	size_t index;     /* FIELD_ANSWER / FIELD_CHOICE: the question */
	const char *name; /* borrowed: a constant or the form's id */
	int decimal_comma; /* numbers in this column have a decimal comma (csv_decimal_comma) */
	int spreadsheet;   /* a CSV cell: dates may also be day first, as Excel writes them */
};

struct response {
	const struct form *form;                 /* borrowed */
	const struct registry_entry *agency;     /* borrowed from the registry */
	const struct registry_entry *sector;
	char response_id[RESPONSE_MAX_ID + 1];
	int64_t ts;                              /* submitted_at, Unix seconds */
	int32_t day;                             /* its date in Vietnam time */
	int has_ts;
	int64_t received_at;                     /* Unix seconds; 0: when it is stored */
	long long device_id;                     /* the kiosk that posted it; 0: none (a phone, an import) */
	int channel;                             /* enum response_channel */
	char dossier[RESPONSE_MAX_CODE + 1];     /* "" when none */
	char stratum[RESPONSE_MAX_CODE + 1];     /* "" = the agency code */
	char psu[RESPONSE_MAX_CODE + 1];         /* "" = the response is its own PSU */
	double weight;
	uint8_t answers[FORM_MAX_ITEMS];         /* 0 = unanswered, else value - min + 1 */
	uint8_t choices[FORM_MAX_CHOICES];       /* 0 = empty, else value index + 1 */
	char comment[RESPONSE_MAX_COMMENT + 1];
};

/* Reset `r` to an empty response of `form` with the import defaults (docs/design.md). */
void response_init(struct response *r, const struct form *form);

/* Find the field called `name` (a response field, a question or a choice id),
 * its numbers with a decimal point.  ERR_INVALID "unknown field" when there
 * is none.  Can't fail otherwise. */
int response_field_lookup(const struct form *form, const char *name, struct response_field *out,
			  struct err *e);

/* Set `field` from text, as in a CSV cell; "" leaves an optional field unset.
 * In a spreadsheet's column (field->spreadsheet) submitted_at may also be
 * written day first, as Excel writes dates with Vietnamese settings: DD/MM/YYYY, optionally followed by " H:MM",
 * " HH:MM" or " HH:MM:SS" (Vietnam time).  ERR_INVALID naming the field
 * (e->field) when the value is not acceptable. */
int response_set_text(struct response *r, const struct registry *reg,
		      const struct response_field *field, const char *value, struct err *e);

/* Set answer `item` to the integer `value` (JSON input). */
int response_set_answer(struct response *r, size_t item, long long value, struct err *e);

/* 1 when r has no answer, no choice (demographic or follow-up) and no
 * comment: a questionnaire that came back blank, whatever its ids say. */
int response_is_empty(const struct response *r);

/* Check what only the whole response can show: required fields present, at
 * least one question answered, follow-ups only when their trigger holds. */
int response_check(const struct response *r, struct err *e);

/* Check submitted_at as a file's row may give it: from 2000-01-01 to
 * tomorrow (`today` in Vietnam time, period_today), so a mistyped year
 * cannot land in a period nobody will report.  ERR_INVALID naming
 * submitted_at. */
int response_check_date(const struct response *r, int32_t today, struct err *e);

/* Check submitted_at as a post received at `now` (Unix seconds) may give
 * it: no more than max_age seconds old (a kiosk's offline queue) and no
 * more than RESPONSE_MAX_AHEAD ahead (clock drift); then stamp received_at
 * with now.  ERR_INVALID naming submitted_at. */
int response_check_received(struct response *r, int64_t now, int64_t max_age, struct err *e);

/* The stratum code in effect (the agency's code by default). Can't fail. */
const char *response_stratum(const struct response *r);


#endif
