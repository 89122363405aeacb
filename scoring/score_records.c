/*
 * score_records.c - the per-dossier rate (see score_records.h).  Records are
 * read once, with their matching ratings, into cells (agency, sector,
 * slot), a slot being a month of the period or the whole period; groups
 * are then sums of cells, so that a parent figure can only ever hold the
 * covered cells it says it holds.
 */
#include "score_records.h"

#include <stdlib.h>
#include <string.h>

#include "../db/db.h"
#include "../forms/form.h"
#include "../lib/array.h"
#include "../lib/intmap.h"

/* How a form's ratings say "unhappy": answers[pos] from 1 to max_byte. */
struct unhappy_rule {
	long long form_id;
	size_t pos;
	int max_byte;
};

struct cell {
	long long agency_id, sector_id;
	int slot;                   /* 0..n_months - 1: a month; n_months: the period */
	int has_record;             /* a record finished in it */
	struct score_records_counts c;  /* finished..none; cells unused */
};

struct run {
	sqlite3 *db;
	const struct registry *reg;
	struct score_records *res;
	struct unhappy_rule *rules;
	size_t n_rules, rules_cap;
	struct cell *cells;
	size_t n_cells, cells_cap;
	struct intmap index;        /* cell key -> cells[] index */
	struct err *e;
};

/* year * 12 + month - 1 of a day. */
static int month_of_day(int32_t day)
{
	char buf[16];

	period_format_day(day, buf);
	return atoi(buf) * 12 + atoi(buf + 5) - 1;
}

void score_records_month_label(const struct score_records *r, int i, char *buf)
{
	unsigned m = (unsigned)(r->first_month + i);

	snprintf(buf, 8, "%04u-%02u", m / 12u % 10000u, m % 12u + 1u);
}

/* Every stored form's rule, from its overall question and scale. */
static int read_rules(struct run *run)
{
	sqlite3_stmt *st = NULL;
	int rc = db_prepare(run->db, "SELECT id, code, json FROM forms ORDER BY id", &st, run->e);
	int step = SQLITE_DONE;

	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *json = (const char *)sqlite3_column_text(st, 2);
		struct form *f = NULL;
		struct unhappy_rule *u;

		rc = form_parse(json, (size_t)sqlite3_column_bytes(st, 2), (const char *)sqlite3_column_text(st, 1),
				&f, run->e);
		if (!rc && ARRAY_RESERVE(run->rules, run->rules_cap, run->n_rules) < 0)
			rc = err_set(run->e, ERR_NOMEM, "out of memory");
		if (!rc) {
			u = &run->rules[run->n_rules++];
			u->form_id = sqlite3_column_int64(st, 0);
			u->pos = f->overall;
			/* below the middle of the scale: stored byte = v - min + 1 */
			u->max_byte = 0;
			for (int v = f->scale_min; 2 * (v - f->scale_min) < f->scale_max - f->scale_min; v++)
				u->max_byte = v - f->scale_min + 1;
		}
		form_free(f);
	}
	if (!rc && step != SQLITE_DONE)
		rc = db_fail(run->db, run->e, "reading the forms");
	sqlite3_finalize(st);
	return rc;
}

static int is_unhappy(const struct run *run, long long form_id, const unsigned char *answers, size_t len)
{
	for (size_t i = 0; i < run->n_rules; i++) {
		const struct unhappy_rule *u = &run->rules[i];

		if (u->form_id == form_id)
			return u->pos < len && answers[u->pos] >= 1 && answers[u->pos] <= u->max_byte;
	}
	return 0;
}

/* The cell of agency, sector and slot, made when new; NULL on out of memory. */
static struct cell *cell_at(struct run *run, long long agency_id, long long sector_id, int slot)
{
	uint64_t key = (uint64_t)agency_id << 40 ^ (uint64_t)sector_id << 16 ^ (uint64_t)slot;
	long i = intmap_get(&run->index, key);
	struct cell *c;

	if (i >= 0)
		return &run->cells[i];
	if (ARRAY_RESERVE(run->cells, run->cells_cap, run->n_cells) < 0 ||
	    intmap_put(&run->index, key, (uint32_t)run->n_cells) < 0)
		return NULL;
	c = &run->cells[run->n_cells++];
	memset(c, 0, sizeof(*c));
	c->agency_id = agency_id;
	c->sector_id = sector_id;
	c->slot = slot;
	return c;
}

/* Count one dossier in its month's cell and the period's. */
static int add_record(struct run *run, long long agency_id, long long sector_id, int32_t day, int late,
		      int complaint, int unhappy)
{
	int slots[2] = { month_of_day(day) - run->res->first_month, run->res->n_months };

	for (int k = 0; k < 2; k++) {
		struct cell *c = cell_at(run, agency_id, sector_id, slots[k]);

		if (!c)
			return err_set(run->e, ERR_NOMEM, "out of memory");
		c->has_record = 1;
		c->c.finished++;
		c->c.late += late;
		c->c.complaint += complaint;
		c->c.unhappy += unhappy;
		c->c.none += !late && !complaint && !unhappy;
	}
	return 0;
}

/* The records finished in the period, each with its matching ratings (one
 * row per rating, or one with NULLs when it has none). */
static int read_records(struct run *run)
{
	sqlite3_stmt *st = NULL;
	int rc = db_prepare(run->db,
			    "SELECT r.id, r.agency_id, r.sector_id, r.finished_day, "
			    "  r.due_at IS NOT NULL AND r.finished_at > r.due_at, r.complaint, p.form_id, p.answers "
			    "FROM dossier_records r LEFT JOIN responses p ON p.dossier_code = r.code "
			    "  AND p.agency_id IN (r.agency_id, r.received_by) AND " DB_VISIBLE("p") " "
			    /* a record's ratings together, in the order the finished_day index gives */
			    "WHERE r.finished_day BETWEEN ?1 AND ?2 ORDER BY r.finished_day, r.id", &st, run->e);
	long long id = 0, agency_id = 0, sector_id = 0;
	int32_t day = 0;
	int late = 0, complaint = 0, unhappy = 0, step = SQLITE_DONE;

	if (rc)
		return rc;
	sqlite3_bind_int(st, 1, run->res->period.first_day);
	sqlite3_bind_int(st, 2, run->res->period.last_day);
	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_int64(st, 0) != id) {
			if (id)
				rc = add_record(run, agency_id, sector_id, day, late, complaint, unhappy);
			id = sqlite3_column_int64(st, 0);
			agency_id = sqlite3_column_int64(st, 1);
			sector_id = sqlite3_column_int64(st, 2);
			day = sqlite3_column_int(st, 3);
			late = sqlite3_column_int(st, 4) != 0;
			complaint = sqlite3_column_int(st, 5) != 0;
			unhappy = 0;
		}
		/* several ratings of one dossier: one unhappy one is enough */
		if (sqlite3_column_type(st, 6) != SQLITE_NULL)
			unhappy |= is_unhappy(run, sqlite3_column_int64(st, 6), sqlite3_column_blob(st, 7),
					      (size_t)sqlite3_column_bytes(st, 7));
	}
	if (!rc && step != SQLITE_DONE)
		rc = db_fail(run->db, run->e, "reading dossier records");
	if (!rc && id)
		rc = add_record(run, agency_id, sector_id, day, late, complaint, unhappy);
	sqlite3_finalize(st);
	return rc;
}

/* The cells with ratings but perhaps no record: active, not covered. */
static int read_rated_cells(struct run *run)
{
	sqlite3_stmt *st = NULL;
	/* form_id IN (...): through the (form_id, day) index, not over every quarter */
	int rc = db_prepare(run->db, "SELECT agency_id, sector_id, day FROM responses "
			    "WHERE form_id IN (SELECT id FROM forms) AND day BETWEEN ?1 AND ?2 AND "
			    DB_VISIBLE("responses") " "
			    "GROUP BY agency_id, sector_id, day", &st, run->e);
	int step = SQLITE_DONE;

	if (rc)
		return rc;
	sqlite3_bind_int(st, 1, run->res->period.first_day);
	sqlite3_bind_int(st, 2, run->res->period.last_day);
	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
		long long agency_id = sqlite3_column_int64(st, 0), sector_id = sqlite3_column_int64(st, 1);
		int slot = month_of_day(sqlite3_column_int(st, 2)) - run->res->first_month;

		if (!cell_at(run, agency_id, sector_id, slot) ||
		    !cell_at(run, agency_id, sector_id, run->res->n_months))
			rc = err_set(run->e, ERR_NOMEM, "out of memory");
	}
	if (!rc && step != SQLITE_DONE)
		rc = db_fail(run->db, run->e, "reading the rated cells");
	sqlite3_finalize(st);
	return rc;
}

static int by_cell(const void *a, const void *b)
{
	const struct cell *x = a, *y = b;

	if (x->agency_id != y->agency_id)
		return x->agency_id < y->agency_id ? -1 : 1;
	if (x->sector_id != y->sector_id)
		return x->sector_id < y->sector_id ? -1 : 1;
	return x->slot - y->slot;
}

static void add_cell(struct score_records_counts *to, const struct cell *c)
{
	to->active_cells++;
	if (!c->has_record)
		return;
	to->cells++;
	to->finished += c->c.finished;
	to->late += c->c.late;
	to->complaint += c->c.complaint;
	to->unhappy += c->c.unhappy;
	to->none += c->c.none;
}

static struct score_records_group *new_group(struct run *run, size_t *cap, long long agency_id,
					     long long sector_id)
{
	struct score_records *res = run->res;
	struct score_records_group *g;

	if (ARRAY_RESERVE(res->groups, *cap, res->n_groups) < 0)
		return NULL;
	g = &res->groups[res->n_groups];
	memset(g, 0, sizeof(*g));
	g->months = calloc((size_t)res->n_months, sizeof(*g->months));
	if (!g->months)
		return NULL;
	res->n_groups++;
	g->agency = agency_id ? registry_agency_by_id(run->reg, agency_id) : NULL;
	g->sector = sector_id ? registry_sector_by_id(run->reg, sector_id) : NULL;
	if ((agency_id && !g->agency) || (sector_id && !g->sector)) {
		err_set(run->e, ERR_INTERNAL, "a dossier record names an agency or sector not in the registry");
		return NULL;
	}
	return g;
}

static void group_add(const struct run *run, struct score_records_group *g, const struct cell *c)
{
	add_cell(c->slot == run->res->n_months ? &g->period : &g->months[c->slot], c);
}

/* The groups, from the cells sorted by agency, sector and slot: all, then
 * each agency, then each agency and sector. */
static int make_groups(struct run *run)
{
	struct score_records_group *g;
	size_t cap = 0, first_agency;

	if (run->n_cells)   /* no cells: cells may be NULL, which qsort must not get */
		qsort(run->cells, run->n_cells, sizeof(*run->cells), by_cell);
	g = new_group(run, &cap, 0, 0);
	for (size_t k = 0; g && k < run->n_cells; k++)
		group_add(run, g, &run->cells[k]);
	first_agency = run->res->n_groups;
	for (size_t k = 0; g && k < run->n_cells; k++) {
		if (run->res->n_groups == first_agency ||
		    run->res->groups[run->res->n_groups - 1].agency->id != run->cells[k].agency_id)
			g = new_group(run, &cap, run->cells[k].agency_id, 0);
		if (g)
			group_add(run, &run->res->groups[run->res->n_groups - 1], &run->cells[k]);
	}
	for (size_t k = 0; g && k < run->n_cells; k++) {
		if (k == 0 || run->cells[k - 1].agency_id != run->cells[k].agency_id ||
		    run->cells[k - 1].sector_id != run->cells[k].sector_id)
			g = new_group(run, &cap, run->cells[k].agency_id, run->cells[k].sector_id);
		if (g)
			group_add(run, &run->res->groups[run->res->n_groups - 1], &run->cells[k]);
	}
	if (!g && run->e->code == ERR_OK)
		return err_set(run->e, ERR_NOMEM, "out of memory");
	return g ? 0 : run->e->code;
}

int score_records_run(sqlite3 *db, const struct registry *reg, const struct period *p,
		      struct score_records **out, struct err *e)
{
	struct run run = { .db = db, .reg = reg, .index = INTMAP_INIT, .e = e };
	int rc;

	err_clear(e);
	run.res = calloc(1, sizeof(*run.res));
	if (!run.res)
		return err_set(e, ERR_NOMEM, "out of memory");
	run.res->period = *p;
	run.res->first_month = month_of_day(p->first_day);
	run.res->n_months = month_of_day(p->last_day) - run.res->first_month + 1;
	rc = read_rules(&run);
	if (!rc)
		rc = read_records(&run);
	if (!rc)
		rc = read_rated_cells(&run);
	if (!rc)
		rc = make_groups(&run);
	free(run.rules);
	free(run.cells);
	intmap_release(&run.index);
	if (rc) {
		score_records_free(run.res);
		return rc;
	}
	*out = run.res;
	return 0;
}

int score_records_rate(const struct score_records_counts *c, double *rate)
{
	if (c->finished <= 0)
		return 0;
	*rate = (double)c->none / (double)c->finished;
	return 1;
}

void score_records_free(struct score_records *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_groups; i++)
		free(r->groups[i].months);
	free(r->groups);
	free(r);
}
