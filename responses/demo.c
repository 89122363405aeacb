/*
 * demo.c - synthetic survey data (see demo.h).
 *
 * Model: each agency has a satisfaction level on the logit scale; each
 * criterion, sector, survey day (PSU) and respondent adds its own effect; a
 * criterion is answered "satisfied" with the logistic of the sum.  Values
 * are drawn with GSL's random distributions.  Rows are produced as text, the
 * same text a CSV import would read, and go through the same checks.
 */
#include "demo.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "../lib/csv.h"
#include "../db/db.h"
#include "../lib/period.h"
#include "store.h"
#include "../lib/strbuf.h"
#include "records.h"
#include "response.h"

#define DEMO_PSUS 8              /* survey days per agency and quarter */
#define DEMO_TREND 0.08          /* logit gain per quarter */
#define DEMO_MAX_SECTORS 16

/* Sectors each kind of agency handles; codes absent from the registry are skipped. */
static const struct {
	const char *agency;
	const char *sectors;
} agency_sectors[] = {
	{ "SO-XD", "xay-dung" }, { "SO-NNMT", "dat-dai moi-truong" }, { "SO-YT", "y-te" },
	{ "SO-GDDT", "giao-duc" }, { "SO-TP", "tu-phap-ho-tich" }, { "SO-TC", "dau-tu kinh-doanh" },
	{ "SO-NV", "lao-dong" }, { "SO-CT", "kinh-doanh" }, { "SO-KHCN", "dau-tu" },
	{ "SO-VHTTDL", "kinh-doanh" }, { "UBND-TP", "dau-tu dat-dai" },
	{ "TT-PVHCC", "dat-dai xay-dung dau-tu kinh-doanh tu-phap-ho-tich giao-thong" },
	{ "H-ANLAO", "dat-dai kinh-doanh" }, { "H-ANLAO-TNMT", "dat-dai moi-truong" },
	{ "H-ANLAO-KTHT", "xay-dung" }, { "H-ANLAO-TP", "tu-phap-ho-tich" },
};

static const char commune_sectors[] = "dat-dai tu-phap-ho-tich xay-dung lao-dong kinh-doanh y-te giao-duc";

static const char *const comments[] = {
	"Cán bộ hướng dẫn nhiệt tình, chu đáo.",
	"Thời gian chờ hơi lâu, cần thêm chỗ ngồi.",
	"Thủ tục nhanh gọn, trả kết quả đúng hẹn.",
	"Đề nghị niêm yết rõ hơn mức phí, lệ phí.",
	"Máy lấy số thứ tự hay bị lỗi.",
	"Rất hài lòng với thái độ phục vụ.",
};

struct demo_agency {
	const struct registry_entry *entry;
	double level;                          /* logit of its satisfaction */
	size_t n_sectors;
	const struct registry_entry *sectors[DEMO_MAX_SECTORS];
	double population;                     /* citizens served per quarter */
};

struct demo {
	gsl_rng *rng;
	const struct registry *reg;
	const struct form *form;
	struct demo_agency *agencies;
	double *item_effect;
	double psu_effect[DEMO_PSUS];
	size_t ncols;
	const char **columns;      /* header */
	const char **values;       /* the current row, parallel to columns */
	struct strbuf text;        /* storage for the current row's values */
	size_t *offsets;
};

static void add_sectors(struct demo *d, struct demo_agency *a, const char *list)
{
	char buf[256];
	char *save = NULL;

	snprintf(buf, sizeof(buf), "%s", list);
	for (char *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		const struct registry_entry *s = registry_sector(d->reg, tok);

		if (s && a->n_sectors < DEMO_MAX_SECTORS)
			a->sectors[a->n_sectors++] = s;
	}
}

static void setup_agency(struct demo *d, struct demo_agency *a, const struct registry_entry *en)
{
	a->entry = en;
	/* most agencies around 92-96 % satisfied, some clearly below target */
	a->level = gsl_ran_gaussian(d->rng, 0.55) + 2.9;
	a->population = 2000 + gsl_rng_uniform(d->rng) * 38000;
	for (size_t k = 0; k < sizeof(agency_sectors) / sizeof(agency_sectors[0]); k++)
		if (strcmp(en->code, agency_sectors[k].agency) == 0)
			add_sectors(d, a, agency_sectors[k].sectors);
	if (a->n_sectors == 0 && strcmp(en->level, "commune") == 0)
		add_sectors(d, a, commune_sectors);
	for (size_t i = 0; a->n_sectors == 0 && i < d->reg->n_sectors && i < DEMO_MAX_SECTORS; i++)
		a->sectors[a->n_sectors++] = &d->reg->sectors[i];
}

static void demo_free(struct demo *d)
{
	if (!d)
		return;
	gsl_rng_free(d->rng);
	free(d->agencies);
	free(d->item_effect);
	free(d->columns);
	free(d->values);
	free(d->offsets);
	strbuf_release(&d->text);
	free(d);
}

static int demo_new(const struct registry *reg, const struct form *form, unsigned long seed,
		    struct demo **out, struct err *e)
{
	static const char *const fixed[] = { "response_id", "submitted_at", "agency", "sector",
		"channel", "dossier_code", "stratum", "psu", "weight" };
	struct demo *d = calloc(1, sizeof(*d));
	size_t n_fixed = sizeof(fixed) / sizeof(fixed[0]), c = 0;

	if (!d)
		return err_set(e, ERR_NOMEM, "out of memory");
	if (reg->n_agencies == 0 || reg->n_sectors == 0) {
		demo_free(d);
		return err_set(e, ERR_INVALID, "the registry has no agencies or no sectors");
	}
	d->reg = reg;
	d->form = form;
	d->rng = gsl_rng_alloc(gsl_rng_mt19937);
	d->agencies = calloc(reg->n_agencies, sizeof(*d->agencies));
	d->item_effect = calloc(form->n_items, sizeof(*d->item_effect));
	d->ncols = n_fixed + form->n_choices + form->n_items + (form->has_comment ? 1 : 0);
	d->columns = calloc(d->ncols, sizeof(*d->columns));
	d->values = calloc(d->ncols, sizeof(*d->values));
	d->offsets = calloc(d->ncols, sizeof(*d->offsets));
	strbuf_init(&d->text, 1 << 20);
	if (!d->rng || !d->agencies || !d->item_effect || !d->columns || !d->values || !d->offsets) {
		demo_free(d);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	gsl_rng_set(d->rng, seed);
	for (size_t i = 0; i < n_fixed; i++)
		d->columns[c++] = fixed[i];
	for (size_t i = 0; i < form->n_choices; i++)
		d->columns[c++] = form->choices[i].id;
	for (size_t i = 0; i < form->n_items; i++) {
		d->columns[c++] = form->items[i].id;
		d->item_effect[i] = gsl_ran_gaussian(d->rng, 0.3);
	}
	if (form->has_comment)
		d->columns[c++] = "comment";
	for (size_t i = 0; i < reg->n_agencies; i++)
		setup_agency(d, &d->agencies[i], &reg->agencies[i]);
	*out = d;
	return 0;
}

static void new_quarter(struct demo *d)
{
	for (int k = 0; k < DEMO_PSUS; k++)
		d->psu_effect[k] = gsl_ran_gaussian(d->rng, 0.3);
}

/* Start a value of column `col`; the text follows in d->text. */
static void put(struct demo *d, size_t col, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void put(struct demo *d, size_t col, const char *fmt, ...)
{
	va_list ap;

	d->offsets[col] = d->text.len;
	va_start(ap, fmt);
	strbuf_vaddf(&d->text, fmt, ap);
	va_end(ap);
	strbuf_addch(&d->text, '\0');
}

/* A value on the form's scale: satisfied or not, then which point. */
static int draw_value(struct demo *d, int satisfied)
{
	const struct form *f = d->form;
	int span = f->scale_max - f->scale_min + 1, pick, want = satisfied ? 1 : 0;
	int candidates[FORM_MAX_SCALE], n = 0;

	for (int v = 0; v < span; v++)
		if ((int)((f->satisfied_mask >> v) & 1u) == want)
			candidates[n++] = f->scale_min + v;
	/* favour the points nearest the boundary: "satisfied" more than "very" */
	pick = satisfied ? (gsl_rng_uniform(d->rng) < 0.6 ? 0 : (int)gsl_rng_uniform_int(d->rng, (unsigned long)n))
			 : (gsl_rng_uniform(d->rng) < 0.6 ? n - 1 : (int)gsl_rng_uniform_int(d->rng, (unsigned long)n));
	return candidates[pick];
}

/* The days of q on which agency a existed (its validity), labelled as q,
 * into *out; 0 when there were none. */
static int agency_days(const struct demo_agency *a, const struct period *q, struct period *out)
{
	*out = *q;
	if (a->entry->valid_from > out->first_day)
		out->first_day = a->entry->valid_from;
	if (a->entry->valid_to < out->last_day)
		out->last_day = a->entry->valid_to;
	return out->first_day <= out->last_day;
}

/* Produce the text of one response of agency `a` in quarter `quarter`. */
static void demo_row(struct demo *d, const struct demo_agency *a, const struct period *q,
		     int quarter_index, const char *prefix, long serial, int survey)
{
	const struct form *f = d->form;
	const struct registry_entry *sector = a->sectors[gsl_rng_uniform_int(d->rng, a->n_sectors)];
	int32_t day = q->first_day + (int32_t)gsl_rng_uniform_int(d->rng,
				(unsigned long)(q->last_day - q->first_day + 1));
	int minute = 450 + (int)gsl_rng_uniform_int(d->rng, 570), psu = (int)gsl_rng_uniform_int(d->rng, DEMO_PSUS);
	double person = gsl_ran_gaussian(d->rng, survey ? 0.8 : 0.5);
	double base = a->level + DEMO_TREND * quarter_index + person + (survey ? d->psu_effect[psu] : 0.6);
	size_t col = 0;
	char date[11];

	strbuf_reset(&d->text);
	period_format_day(day, date);
	put(d, col++, "%s-%s-%s-%06ld", prefix, q->label, a->entry->code, serial);
	put(d, col++, "%sT%02d:%02d:%02d+07:00", date, minute / 60, minute % 60,
	    (int)gsl_rng_uniform_int(d->rng, 60));
	put(d, col++, "%s", a->entry->code);
	put(d, col++, "%s", sector->code);
	if (survey) {
		double u = gsl_rng_uniform(d->rng);
		const char *channel = u < 0.5 ? "paper" : u < 0.8 ? "interview" : "phone";

		put(d, col++, "%s", channel);
		if (strcmp(channel, "phone") == 0)
			put(d, col++, "H%s-%s-%06ld", q->label, a->entry->code, serial);
		else
			put(d, col++, "%s", "");
		put(d, col++, "%s", a->entry->code);
		put(d, col++, "%s-%s-%02d", a->entry->code, q->label, psu + 1);
		put(d, col++, "%.3f", a->population / 300.0 * (0.8 + 0.4 * gsl_rng_uniform(d->rng)));
	} else {
		put(d, col++, "%s", "kiosk");
		for (int k = 0; k < 4; k++)
			put(d, col++, "%s", "");
	}
	/* choices come before items in the header; answers decide follow-ups, so fill items first */
	{
		size_t item_col = col + f->n_choices;
		int values[FORM_MAX_ITEMS];

		for (size_t i = 0; i < f->n_items; i++) {
			double p = 1.0 / (1.0 + exp(-(base + d->item_effect[i])));

			values[i] = 0;
			if (survey && gsl_rng_uniform(d->rng) < 0.03 && i != f->overall) {
				put(d, item_col + i, "%s", "");
				continue;
			}
			values[i] = draw_value(d, gsl_rng_uniform(d->rng) < p);
			put(d, item_col + i, "%d", values[i]);
		}
		for (size_t k = 0; k < f->n_choices; k++) {
			const struct form_choice *c = &f->choices[k];
			int asked = c->is_demographic ||
				(values[c->when_item] && ((c->when_mask >> (values[c->when_item] - f->scale_min)) & 1u));

			if (asked && gsl_rng_uniform(d->rng) < 0.95)
				put(d, col + k, "%s", c->values[gsl_rng_uniform_int(d->rng, c->n_values)]);
			else
				put(d, col + k, "%s", "");
		}
		col = item_col + f->n_items;
	}
	if (f->has_comment) {
		if (gsl_rng_uniform(d->rng) < 0.05)
			put(d, col++, "%s", comments[gsl_rng_uniform_int(d->rng, sizeof(comments) / sizeof(comments[0]))]);
		else
			put(d, col++, "%s", "");
	}
	for (size_t i = 0; i < d->ncols; i++)
		d->values[i] = d->text.buf + d->offsets[i];
}

static int is_survey(const struct form *f)
{
	return f->n_elements > 0;
}

/* 1 when agency a gets dossier records: every third one that has existed
 * throughout (its records then fit the registry's history as they are). */
static int has_records(const struct demo *d, size_t a)
{
	const struct registry_entry *entry = d->agencies[a].entry;

	return a % 3 == 0 && entry->valid_from == REGISTRY_ALWAYS_FROM && entry->valid_to == REGISTRY_STILL_VALID;
}

/* The dossier records of agency a in the days of q: n dossiers whose
 * codes are those its phone survey responses carry ("H<quarter>-<agency>-
 * <serial>"), taken in on a working morning, due ten days later, decided
 * after a Gamma-distributed number of days (about one in ten late), one in
 * seventy with a complaint; those not decided before `today` are open. */
static int store_records(struct demo *d, struct records_store *rs, const struct demo_agency *a,
			 const struct period *q, long n, int32_t today, struct demo_stats *stats, struct err *e)
{
	struct records_record r;
	int outcome, rc = 0;

	for (long s = 1; s <= n && !rc; s++) {
		int32_t day = q->first_day + (int32_t)gsl_rng_uniform_int(d->rng,
					(unsigned long)(q->last_day - q->first_day + 1));
		double took = gsl_ran_gamma(d->rng, 4.0, 1.6);

		memset(&r, 0, sizeof(r));
		snprintf(r.dossier, sizeof(r.dossier), "H%s-%s-%06ld", q->label, a->entry->code, s);
		r.agency = r.received_by = a->entry;
		r.sector = a->sectors[gsl_rng_uniform_int(d->rng, a->n_sectors)];
		snprintf(r.procedure, sizeof(r.procedure), "%s-%02d", r.sector->code,
			 (int)gsl_rng_uniform_int(d->rng, 12) + 1);
		r.channel = gsl_rng_uniform(d->rng) < 0.6 ? "direct" : "online";
		r.received_at = (int64_t)day * 86400 - PERIOD_TZ_SECONDS + 7 * 3600 + 30 * 60 +
				(int64_t)gsl_rng_uniform_int(d->rng, 4 * 3600);
		r.has_due = 1;
		r.due_at = r.received_at + 10 * 86400;
		r.finished_at = r.received_at + (int64_t)(took * 86400);
		r.finished_day = (int32_t)((r.finished_at + PERIOD_TZ_SECONDS) / 86400);
		r.has_finished = r.finished_day < today;
		r.complaint = gsl_rng_uniform(d->rng) < 1.0 / 70;
		r.updated_at = r.has_finished ? r.finished_at : r.received_at;
		rc = records_store_put(rs, &r, r.updated_at, &outcome, e);
		stats->records += !rc;
	}
	return rc;
}

/* Store the responses of quarter `quarter` (the quarter_index-th of the
 * fill) up to its day last_day, scaled down when that cuts the quarter
 * short; a counter rating carries its agency's kiosk (kiosks, may be NULL). */
static int store_quarter(struct demo *d, struct store *st, struct response *r,
			 const struct response_field *fields, int quarter, int quarter_index, int32_t last_day,
			 const long long *kiosks, struct records_store *rs, int32_t today, struct demo_stats *stats,
			 struct err *e)
{
	struct period q;
	int survey = is_survey(d->form);
	double share;

	period_of_quarter(quarter, &q);
	share = (double)(last_day - q.first_day + 1) / (q.last_day - q.first_day + 1);
	if (last_day < q.last_day)
		q.last_day = last_day;
	new_quarter(d);
	for (size_t a = 0; a < d->reg->n_agencies; a++) {
		long n = survey ? 250 + (long)gsl_rng_uniform_int(d->rng, 200)
				: 300 + (long)gsl_rng_uniform_int(d->rng, 300);
		struct period days;

		/* an agency merged away, or not yet created, has its ratings only
		 * on its own days, as many as those days' share of the quarter */
		if (!agency_days(&d->agencies[a], &q, &days))
			continue;
		n = (long)(n * share * (days.last_day - days.first_day + 1) / (q.last_day - q.first_day + 1));
		for (long s = 1; s <= n; s++) {
			uint8_t digest[STORE_DIGEST_BYTES];
			int dup, rc = 0;

			demo_row(d, &d->agencies[a], &days, quarter_index, survey ? "S" : "K", s, survey);
			response_init(r, d->form);
			for (size_t c = 0; c < d->ncols && !rc; c++)
				rc = response_set_text(r, d->reg, &fields[c], d->values[c], e);
			if (!rc && kiosks)
				r->device_id = kiosks[a];
			if (!rc)
				rc = response_check(r, e);
			if (!rc)
				rc = store_digest(r, digest, e);
			if (!rc)
				rc = store_put(st, r, digest, &dup, e);
			if (rc)
				return err_prefix(e, "demo response %s", d->values[0]);
			stats->stored++;
		}
		if (rs && has_records(d, a) && store_records(d, rs, &d->agencies[a], &days, 2 * n, today, stats, e))
			return err_prefix(e, "demo dossier records of %s", d->agencies[a].entry->code);
	}
	return 0;
}

/* One kiosk per agency for the counter form of d (kiosks->add), into ids;
 * the kiosk of an agency that has ended by `today` was revoked at the end
 * of its last day, as the office does when it moves a counter. */
static int add_kiosks(sqlite3 *db, struct demo *d, const struct demo_kiosks *kiosks, int32_t today,
		      long long *ids, struct err *e)
{
	sqlite3_stmt *revoke = NULL;
	int rc = db_prepare(db, "UPDATE devices SET revoked_at = ?2 WHERE id = ?1", &revoke, e);

	for (size_t a = 0; a < d->reg->n_agencies && !rc; a++) {
		const struct demo_agency *ag = &d->agencies[a];
		const char *sectors[DEMO_MAX_SECTORS];

		for (size_t k = 0; k < ag->n_sectors; k++)
			sectors[k] = ag->sectors[k]->code;
		rc = kiosks->add(kiosks->arg, d->form->id, ag->entry->code, sectors, ag->n_sectors, &ids[a], e);
		if (rc || ag->entry->valid_to >= today)
			continue;
		sqlite3_bind_int64(revoke, 1, ids[a]);
		sqlite3_bind_int64(revoke, 2, ((int64_t)ag->entry->valid_to + 1) * 86400 - PERIOD_TZ_SECONDS);
		if (sqlite3_step(revoke) != SQLITE_DONE)
			rc = db_fail(db, e, "revoking a demo kiosk");
		sqlite3_reset(revoke);
	}
	sqlite3_finalize(revoke);
	return rc;
}

static int fill_form(sqlite3 *db, const struct registry *reg, const struct form *form, int last_quarter,
		     int n_quarters, const struct demo_kiosks *kiosks, int32_t today, unsigned long seed,
		     struct demo_stats *stats, struct err *e)
{
	struct response_field *fields = NULL;
	struct response *r = malloc(sizeof(*r));
	struct store *st = NULL;
	struct records_store *rs = NULL;
	struct demo *d = NULL;
	long long *ids = NULL;
	struct period under_way;
	int rc = r ? demo_new(reg, form, seed, &d, e) : err_set(e, ERR_NOMEM, "out of memory");

	if (!rc)
		rc = store_open(db, form->id, &st, e);
	if (!rc && is_survey(form))
		rc = records_store_new(db, &rs, e);
	if (!rc) {
		fields = calloc(d->ncols, sizeof(*fields));
		if (!fields)
			rc = err_set(e, ERR_NOMEM, "out of memory");
	}
	for (size_t c = 0; !rc && c < d->ncols; c++)
		rc = response_field_lookup(form, d->columns[c], &fields[c], e);
	if (!rc && kiosks && !is_survey(form)) {
		ids = calloc(reg->n_agencies, sizeof(*ids));
		rc = ids ? add_kiosks(db, d, kiosks, today, ids, e) : err_set(e, ERR_NOMEM, "out of memory");
	}
	for (int q = 0; !rc && q < n_quarters; q++) {
		int quarter = last_quarter - n_quarters + 1 + q;
		struct period p;

		period_of_quarter(quarter, &p);
		rc = store_quarter(d, st, r, fields, quarter, q, p.last_day, ids, rs, today, stats, e);
	}
	period_of_quarter(last_quarter + 1, &under_way);
	if (!rc && ids && today > under_way.first_day)
		rc = store_quarter(d, st, r, fields, last_quarter + 1, n_quarters,
				   today - 1 < under_way.last_day ? today - 1 : under_way.last_day, ids, NULL, today,
				   stats, e);
	records_store_free(rs);
	free(ids);
	free(fields);
	store_free(st);
	demo_free(d);
	free(r);
	return rc;
}

int demo_fill_db(sqlite3 *db, const struct registry *reg, struct form *const *forms,
		 size_t n_forms, int last_quarter, int n_quarters, const struct demo_kiosks *kiosks,
		 int32_t today, unsigned long seed, struct demo_stats *stats, struct err *e)
{
	long long existing;
	int rc = db_query_int(db, "SELECT count(*) FROM responses", &existing, e);

	stats->stored = stats->records = 0;
	if (!rc && existing)
		rc = err_set(e, ERR_CONFLICT, "the database already holds %lld responses: "
			     "the demo fills only an empty one", existing);
	for (size_t i = 0; !rc && i < n_forms; i++)
		rc = fill_form(db, reg, forms[i], last_quarter, n_quarters, kiosks, today, seed + i, stats, e);
	if (rc)
		stats->stored = stats->records = 0;
	return rc;
}

/* 1 when some agency of d existed on a day of q. */
static int demo_some_agency_in(const struct demo *d, const struct period *q)
{
	struct period days;

	for (size_t a = 0; a < d->reg->n_agencies; a++)
		if (agency_days(&d->agencies[a], q, &days))
			return 1;
	return 0;
}

int demo_quarters(const struct registry *reg, int last_quarter)
{
	int first = last_quarter - DEMO_QUARTERS + 1;

	for (size_t a = 0; a < reg->n_agencies; a++) {
		const struct registry_entry *en = &reg->agencies[a];
		int q;

		if (!en->successor || en->valid_to == REGISTRY_STILL_VALID)
			continue;
		q = period_quarter_of_day(en->valid_to);
		if (q < first && q > last_quarter - DEMO_MAX_QUARTERS)
			first = q;
	}
	return last_quarter - first + 1;
}

int demo_write_csv(FILE *out, const struct registry *reg, const struct form *form, int quarter,
		   long rows, unsigned long seed, struct err *e)
{
	struct strbuf line;
	struct demo *d = NULL;
	struct period q;
	int rc = demo_new(reg, form, seed, &d, e);

	if (rc)
		return rc;
	period_of_quarter(quarter, &q);
	if (!demo_some_agency_in(d, &q)) {
		demo_free(d);
		return err_set(e, ERR_INVALID, "no agency of the registry exists in %s", q.label);
	}
	strbuf_init(&line, 1 << 20);
	new_quarter(d);
	for (size_t c = 0; c < d->ncols; c++) {
		if (c)
			strbuf_addch(&line, ',');
		csv_quote(&line, d->columns[c]);
	}
	strbuf_addch(&line, '\n');
	for (long s = 1; s <= rows && !rc; s++) {
		const struct demo_agency *a = &d->agencies[gsl_rng_uniform_int(d->rng, reg->n_agencies)];
		struct period days;

		/* an agency that did not exist in the quarter is drawn again */
		while (!agency_days(a, &q, &days))
			a = &d->agencies[gsl_rng_uniform_int(d->rng, reg->n_agencies)];
		demo_row(d, a, &days, 0, "B", s, is_survey(form));
		for (size_t c = 0; c < d->ncols; c++) {
			if (c)
				strbuf_addch(&line, ',');
			csv_quote(&line, d->values[c]);
		}
		strbuf_addch(&line, '\n');
		if (line.len > (1 << 19) || s == rows) {
			if (line.failed || fwrite(line.buf, 1, line.len, out) != line.len)
				rc = err_set(e, ERR_IO, "writing CSV failed");
			strbuf_reset(&line);
		}
	}
	if (rows == 0 && fwrite(line.buf, 1, line.len, out) != line.len)
		rc = err_set(e, ERR_IO, "writing CSV failed");
	strbuf_release(&line);
	demo_free(d);
	return rc;
}
