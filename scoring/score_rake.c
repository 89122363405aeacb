/*
 * score_rake.c - margins file and iterative proportional fitting (see
 * score_rake.h).  A combination of levels is numbered in mixed radix over the
 * raked variables; its factor is the product of one adjustment per variable.
 * The calibration model is built from the same table: X'WX is a sum over
 * combinations, never over responses.
 */
#include "score_rake.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>

#include "../lib/array.h"
#include "../lib/csv.h"
#include "../lib/intmap.h"

#define RAKE_MAX_VARS 8
#define RAKE_MAX_LEVELS 100000

enum rake_kind { RAKE_AGENCY, RAKE_SECTOR, RAKE_CHOICE };

struct rake_var {
	int kind;
	size_t choice;           /* RAKE_CHOICE: index into form->choices */
	size_t col0;             /* model column of the second level (the first has none) */
	char name[FORM_MAX_ID + 1];
	size_t n_levels, cap_levels;
	struct rake_level {
		char *name;          /* as written */
		double target;       /* the population total */
		long line;           /* in the margins file */
	} *levels;
	struct intmap level_of;  /* agency/sector id or choice byte -> level */
	long unmatched;          /* respondents whose level has no total */
	long missing;            /* respondents with no value (choices) */
	uint64_t first_unmatched;  /* an id or choice byte, for the message */
};

struct rake_combo {
	uint64_t key;
	double w0, factor;
};

struct score_rake {
	const struct registry *reg;
	const struct form *form;
	char path[512];
	size_t n_vars;
	struct rake_var vars[RAKE_MAX_VARS];
	struct intmap combo_of;
	struct rake_combo *combos;
	size_t n_combos, cap_combos;
	size_t p;                /* model columns */
	uint32_t *cols;          /* [n_combos × (1 + n_vars)] after the fit */
	double *factors;         /* [n_combos] after the fit */
	gsl_matrix *chol;        /* after the fit */
	char notice[1024];
};

static int find_var(struct score_rake *r, const char *name, struct csv_reader *cr, size_t *out,
		    struct err *e)
{
	struct rake_var *v;
	long choice = -1;
	int kind;

	for (size_t i = 0; i < r->n_vars; i++) {
		if (strcmp(r->vars[i].name, name) == 0) {
			*out = i;
			return 0;
		}
	}
	if (strcmp(name, "agency") == 0) {
		kind = RAKE_AGENCY;
	} else if (strcmp(name, "sector") == 0) {
		kind = RAKE_SECTOR;
	} else {
		choice = form_choice_index(r->form, name);
		if (choice < 0 || !r->form->choices[choice].is_demographic)
			return csv_row_fail(cr, e, "variable",
					    "'%.64s' is not agency, sector or a demographic of form %s",
					    name, r->form->id);
		kind = RAKE_CHOICE;
	}
	if (r->n_vars == RAKE_MAX_VARS)
		return err_set(e, ERR_INVALID, "%s:%ld: more than %d raking variables", csv_name(cr),
			       csv_line(cr), RAKE_MAX_VARS);
	v = &r->vars[r->n_vars];
	memset(v, 0, sizeof(*v));
	v->kind = kind;
	v->choice = choice < 0 ? 0 : (size_t)choice;
	snprintf(v->name, sizeof(v->name), "%s", name);
	*out = r->n_vars++;
	return 0;
}

static int add_level(struct score_rake *r, struct rake_var *v, struct csv_reader *cr,
		     const char *level, double total, struct err *e)
{
	uint64_t key = 0;
	size_t n = v->n_levels;

	switch (v->kind) {
	case RAKE_AGENCY: {
		const struct registry_entry *a = registry_agency(r->reg, level);

		if (!a)
			return csv_row_fail(cr, e, "level", "unknown agency '%.40s'", level);
		key = (uint64_t)a->id;
		break;
	}
	case RAKE_SECTOR: {
		const struct registry_entry *s = registry_sector(r->reg, level);

		if (!s)
			return csv_row_fail(cr, e, "level", "unknown sector '%.40s'", level);
		key = (uint64_t)s->id;
		break;
	}
	default: {
		const struct form_choice *c = &r->form->choices[v->choice];
		size_t i;

		for (i = 0; i < c->n_values; i++)
			if (strcmp(c->values[i], level) == 0)
				break;
		if (i == c->n_values)
			return csv_row_fail(cr, e, "level", "'%.40s' is not a value of %s", level, c->id);
		key = i + 1;   /* the stored choice byte */
	}
	}
	if (intmap_get(&v->level_of, key) >= 0)
		return csv_row_fail(cr, e, "level", "%s '%.40s' is given twice", v->name, level);
	if (n == RAKE_MAX_LEVELS)
		return err_set(e, ERR_TOO_LARGE, "%s: more than %d levels", csv_name(cr), RAKE_MAX_LEVELS);
	if (ARRAY_RESERVE(v->levels, v->cap_levels, n) < 0)
		return err_set(e, ERR_NOMEM, "out of memory");
	v->levels[n].name = strdup(level);
	if (!v->levels[n].name)
		return err_set(e, ERR_NOMEM, "out of memory");
	if (intmap_put(&v->level_of, key, (uint32_t)n) < 0) {
		free(v->levels[n].name);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	v->levels[n].target = total;
	v->levels[n].line = csv_line(cr);
	v->n_levels++;
	return 0;
}

static int parse_margins(struct score_rake *r, FILE *fp, struct err *e)
{
	static const char *const cols[] = { "variable", "level", "total", NULL };
	static const int required[] = { 1, 1, 1 };
	struct csv_reader *cr = csv_reader_new(fp, r->path);
	long col[3];
	int rc;

	if (!cr)
		return err_set(e, ERR_NOMEM, "out of memory");
	rc = csv_read_record(cr, e);
	if (rc == 0)
		rc = err_set(e, ERR_INVALID, "%s: empty file (a header row is required)", r->path);
	if (rc == 1)
		rc = csv_map_header(cr, cols, required, col, e);
	while (!rc && (rc = csv_read_record(cr, e)) == 1) {
		const char *var, *level, *tot, *hint;
		double total;
		size_t vi = 0;

		rc = 0;
		if (csv_nfields(cr) != 3) {
			rc = err_set(e, ERR_INVALID, "%s:%ld: %zu fields, the header has 3", r->path,
				     csv_line(cr), csv_nfields(cr));
			break;
		}
		var = csv_field(cr, (size_t)col[0]);
		level = csv_field(cr, (size_t)col[1]);
		tot = csv_field(cr, (size_t)col[2]);
		if (csv_parse_decimal(tot, csv_decimal_comma(cr), &total, &hint) != 0 || !isfinite(total) ||
		    !(total > 0)) {
			rc = csv_row_fail(cr, e, "total", "'%.40s' is not a number greater than 0%s", tot, hint);
			break;
		}
		rc = find_var(r, var, cr, &vi, e);
		if (!rc)
			rc = add_level(r, &r->vars[vi], cr, level, total, e);
	}
	if (!rc && r->n_vars == 0)
		rc = err_set(e, ERR_INVALID, "%s: no margins", r->path);
	csv_reader_free(cr);
	return rc;
}

/* Margins from different sources may disagree by rounding: rescale every
 * variable to the first one's total when they are that close, else refuse. */
static int reconcile_totals(struct score_rake *r, struct err *e)
{
	double first = 0;
	size_t len = 0;

	for (size_t l = 0; l < r->vars[0].n_levels; l++)
		first += r->vars[0].levels[l].target;
	for (size_t vi = 1; vi < r->n_vars; vi++) {
		struct rake_var *v = &r->vars[vi];
		double total = 0, gap;

		for (size_t l = 0; l < v->n_levels; l++)
			total += v->levels[l].target;
		gap = fabs(total - first) / first;
		if (gap > SCORE_RAKE_RESCALE_LIMIT)
			return err_set_field(e, ERR_INVALID, v->name, "%s: the totals of %s (%.10g) and %s "
					     "(%.10g) differ by %.2g %%: more than %g %% is not rounding "
					     "(do they count the same population?)", r->path, r->vars[0].name,
					     first, v->name, total, 100 * gap, 100 * SCORE_RAKE_RESCALE_LIMIT);
		if (total == first)
			continue;
		for (size_t l = 0; l < v->n_levels; l++)
			v->levels[l].target *= first / total;
		/* below the raking tolerance the totals agree already: nothing to say */
		if (gap > SCORE_RAKE_TOLERANCE && len < sizeof(r->notice))
			len += (size_t)snprintf(r->notice + len, sizeof(r->notice) - len,
						"%s: %s rescaled from %.10g to %.10g, the total of %s (they "
						"differ by %.2g %%, within the %g %% taken as rounding)\n",
						r->path, v->name, total, first, r->vars[0].name, 100 * gap,
						100 * SCORE_RAKE_RESCALE_LIMIT);
	}
	return 0;
}

int score_rake_load(const char *path, const struct registry *reg, const struct form *form,
		    struct score_rake **out, struct err *e)
{
	struct score_rake *r = calloc(1, sizeof(*r));
	FILE *fp = NULL;
	double radix = 1;
	int rc;

	if (!r)
		return err_set(e, ERR_NOMEM, "out of memory");
	r->reg = reg;
	r->form = form;
	snprintf(r->path, sizeof(r->path), "%s", path);
	fp = fopen(path, "rb");
	if (!fp) {
		rc = err_set(e, ERR_IO, "%s: cannot open: %s", path, strerror(errno));
		goto out;
	}
	rc = parse_margins(r, fp, e);
	if (!rc)
		rc = reconcile_totals(r, e);
	r->p = 1;
	for (size_t i = 0; !rc && i < r->n_vars; i++) {
		radix *= (double)r->vars[i].n_levels;
		r->vars[i].col0 = r->p;
		r->p += r->vars[i].n_levels - 1;
	}
	if (!rc && radix > 1e15)
		rc = err_set(e, ERR_TOO_LARGE, "%s: too many combinations of levels", path);
	if (!rc && r->p > SCORE_CALIB_MAX_COLUMNS)
		rc = err_set(e, ERR_TOO_LARGE, "%s: %zu levels beyond the first of each variable: the "
			     "calibration model allows at most %d", path, r->p - 1,
			     SCORE_CALIB_MAX_COLUMNS - 1);
out:
	if (fp)
		fclose(fp);
	if (rc) {
		score_rake_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

/* The level of variable v for a response: >= 0, or -1 when its value has no
 * total, -2 when it has no value at all.  *key gets the looked-up key. */
static long level_of(const struct rake_var *v, long long agency_id, long long sector_id,
		     const uint8_t *choices, uint64_t *key)
{
	*key = v->kind == RAKE_AGENCY ? (uint64_t)agency_id
	     : v->kind == RAKE_SECTOR ? (uint64_t)sector_id : choices[v->choice];
	if (v->kind == RAKE_CHOICE && *key == 0)
		return -2;
	return intmap_get(&v->level_of, *key);
}

/* The combination of a response, or the index of the first variable
 * without a level (as -1 - index), with the reason in *why. */
static long combo_key(const struct score_rake *r, long long agency_id, long long sector_id,
		      const uint8_t *choices, uint64_t *key, long *why, uint64_t *bad_key)
{
	uint64_t k = 0;

	for (size_t i = 0; i < r->n_vars; i++) {
		long l = level_of(&r->vars[i], agency_id, sector_id, choices, bad_key);

		if (l < 0) {
			*why = l;
			return -1 - (long)i;
		}
		k = k * r->vars[i].n_levels + (uint64_t)l;
	}
	*key = k;
	return 0;
}

int score_rake_add(struct score_rake *r, long long agency_id, long long sector_id,
		   const uint8_t *choices, double w, uint32_t *cell, struct err *e)
{
	uint64_t key, bad_key;
	long i, why, vi = combo_key(r, agency_id, sector_id, choices, &key, &why, &bad_key);

	*cell = 0;
	if (vi < 0) {
		/* counted here, reported by score_rake_fit with the counts */
		struct rake_var *v = &r->vars[-1 - vi];

		if (why == -2)
			v->missing++;
		else if (v->unmatched++ == 0)
			v->first_unmatched = bad_key;
		return 0;
	}
	i = intmap_get(&r->combo_of, key);
	if (i < 0) {
		if (ARRAY_RESERVE(r->combos, r->cap_combos, r->n_combos) < 0)
			return err_set(e, ERR_NOMEM, "out of memory");
		if (intmap_put(&r->combo_of, key, (uint32_t)r->n_combos) < 0)
			return err_set(e, ERR_NOMEM, "out of memory");
		r->combos[r->n_combos].key = key;
		r->combos[r->n_combos].w0 = 0;
		r->combos[r->n_combos].factor = 1;
		i = (long)r->n_combos++;
	}
	r->combos[i].w0 += w;
	*cell = (uint32_t)i;
	return 0;
}

/* The level of variable vi in a combination key. */
static size_t combo_level(const struct score_rake *r, uint64_t key, size_t vi)
{
	for (size_t i = r->n_vars; i-- > vi + 1;)
		key /= r->vars[i].n_levels;
	return (size_t)(key % r->vars[vi].n_levels);
}

static int check_coverage(const struct score_rake *r, double **totals, struct err *e)
{
	for (size_t vi = 0; vi < r->n_vars; vi++) {
		const struct rake_var *v = &r->vars[vi];

		if (v->missing)
			return err_set_field(e, ERR_INVALID, v->name, "%s: raking on '%s': %ld respondents "
					     "have no value", r->path, v->name, v->missing);
		if (v->unmatched) {
			const struct registry_entry *en =
				v->kind == RAKE_AGENCY ? registry_agency_by_id(r->reg, (long long)v->first_unmatched)
				: v->kind == RAKE_SECTOR ? registry_sector_by_id(r->reg, (long long)v->first_unmatched)
				: NULL;
			const char *level = en ? en->code
				: v->kind == RAKE_CHOICE ? r->form->choices[v->choice].values[(size_t)v->first_unmatched - 1]
				: "?";

			return err_set_field(e, ERR_INVALID, v->name, "%s: %ld respondents have %s %s without "
					     "a population total (the first: '%s')", r->path, v->unmatched,
					     strchr("aeiou", v->name[0]) ? "an" : "a", v->name, level);
		}
		for (size_t l = 0; l < v->n_levels; l++)
			if (totals[vi][l] <= 0)
				return err_set_field(e, ERR_INVALID, v->name, "%s:%ld: %s '%s' has no respondents "
						     "in the period: an empty cell cannot be raked",
						     r->path, v->levels[l].line, v->name, v->levels[l].name);
	}
	return 0;
}

/* Current weighted totals per level of every variable. */
static void level_totals(const struct score_rake *r, double **totals)
{
	for (size_t vi = 0; vi < r->n_vars; vi++)
		memset(totals[vi], 0, r->vars[vi].n_levels * sizeof(double));
	for (size_t c = 0; c < r->n_combos; c++)
		for (size_t vi = 0; vi < r->n_vars; vi++)
			totals[vi][combo_level(r, r->combos[c].key, vi)] +=
				r->combos[c].w0 * r->combos[c].factor;
}

/* The first model column that is a combination of the columns before it:
 * the first leading block of X'WX that is not positive definite. */
static size_t first_dependent_column(const gsl_matrix *xwx)
{
	size_t j;

	for (j = 1; j < xwx->size1; j++) {
		gsl_matrix_const_view lead = gsl_matrix_const_submatrix(xwx, 0, 0, j + 1, j + 1);
		gsl_matrix *m = gsl_matrix_alloc(j + 1, j + 1);
		int bad;

		if (!m)
			break;
		gsl_matrix_memcpy(m, &lead.matrix);
		bad = gsl_linalg_cholesky_decomp1(m) != GSL_SUCCESS ||
		      gsl_matrix_get(m, j, j) * gsl_matrix_get(m, j, j) <= 1e-10 * gsl_matrix_get(xwx, j, j);
		gsl_matrix_free(m);
		if (bad)
			break;
	}
	assert(j < xwx->size1);   /* called when the whole of X'WX failed */
	return j;
}

/* Each cell's model row and factor, and the Cholesky factor of
 * X'WX = Σ_cells (design weight total) x xᵀ. */
static int build_model(struct score_rake *r, struct err *e)
{
	size_t width = 1 + r->n_vars, p = r->p;
	gsl_matrix *xwx = gsl_matrix_calloc(p, p);
	int rc = 0, bad;

	r->cols = malloc((r->n_combos ? r->n_combos : 1) * width * sizeof(*r->cols));
	r->factors = malloc((r->n_combos ? r->n_combos : 1) * sizeof(*r->factors));
	r->chol = gsl_matrix_alloc(p, p);
	if (!xwx || !r->cols || !r->factors || !r->chol) {
		rc = err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t c = 0; c < r->n_combos; c++) {
		uint32_t *row = r->cols + c * width;

		r->factors[c] = r->combos[c].factor;
		row[0] = 0;
		for (size_t vi = 0; vi < r->n_vars; vi++) {
			size_t l = combo_level(r, r->combos[c].key, vi);

			row[1 + vi] = l ? (uint32_t)(r->vars[vi].col0 + l - 1) : SCORE_CALIB_NONE;
		}
		for (size_t i = 0; i < width; i++)
			for (size_t j = 0; j < width; j++)
				if (row[i] != SCORE_CALIB_NONE && row[j] != SCORE_CALIB_NONE)
					*gsl_matrix_ptr(xwx, row[i], row[j]) += r->combos[c].w0;
	}
	gsl_matrix_memcpy(r->chol, xwx);
	bad = gsl_linalg_cholesky_decomp1(r->chol) != GSL_SUCCESS;
	for (size_t j = 0; j < p && !bad; j++)
		bad = gsl_matrix_get(r->chol, j, j) * gsl_matrix_get(r->chol, j, j) <=
		      1e-10 * gsl_matrix_get(xwx, j, j);
	if (bad) {
		size_t j = first_dependent_column(xwx), vi = 0;

		while (vi + 1 < r->n_vars && r->vars[vi + 1].col0 <= j)
			vi++;
		rc = err_set_field(e, ERR_INVALID, r->vars[vi].name, "%s: %s '%s' is a combination of the "
				   "levels of the variables before it (each agency in one sector?): the "
				   "calibration-aware standard errors are not defined; rake on fewer "
				   "variables", r->path, r->vars[vi].name,
				   r->vars[vi].levels[j - r->vars[vi].col0 + 1].name);
	}
out:
	gsl_matrix_free(xwx);
	return rc;
}

int score_rake_fit(struct score_rake *r, struct err *e)
{
	double *totals[RAKE_MAX_VARS] = { NULL };
	double gap = INFINITY;
	int rc = 0, sweep;

	for (size_t vi = 0; vi < r->n_vars; vi++) {
		totals[vi] = calloc(r->vars[vi].n_levels, sizeof(double));
		if (!totals[vi]) {
			rc = err_set(e, ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	level_totals(r, totals);
	rc = check_coverage(r, totals, e);
	for (sweep = 0; !rc && sweep < SCORE_RAKE_MAX_SWEEPS; sweep++) {
		for (size_t vi = 0; vi < r->n_vars; vi++) {
			level_totals(r, totals);
			for (size_t c = 0; c < r->n_combos; c++) {
				size_t l = combo_level(r, r->combos[c].key, vi);

				r->combos[c].factor *= r->vars[vi].levels[l].target / totals[vi][l];
			}
		}
		level_totals(r, totals);
		gap = 0;
		for (size_t vi = 0; vi < r->n_vars; vi++)
			for (size_t l = 0; l < r->vars[vi].n_levels; l++)
				gap = fmax(gap, fabs(totals[vi][l] - r->vars[vi].levels[l].target) / r->vars[vi].levels[l].target);
		if (gap < SCORE_RAKE_TOLERANCE)
			break;
	}
	if (!rc && !(gap < SCORE_RAKE_TOLERANCE))
		rc = err_set(e, ERR_INVALID, "%s: raking did not converge in %d sweeps (largest margin "
			     "gap %.3g: can the respondents reach these margins?)", r->path,
			     SCORE_RAKE_MAX_SWEEPS, gap);
	if (!rc)
		rc = build_model(r, e);
out:
	for (size_t vi = 0; vi < r->n_vars; vi++)
		free(totals[vi]);
	return rc;
}

void score_rake_calib(const struct score_rake *r, struct score_calib *out)
{
	assert(r->chol);
	out->n_cells = r->n_combos;
	out->p = r->p;
	out->width = 1 + r->n_vars;
	out->cols = r->cols;
	out->factor = r->factors;
	out->chol = r->chol;
}

const char *score_rake_notice(const struct score_rake *r)
{
	return r->notice;
}

void score_rake_free(struct score_rake *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_vars; i++) {
		for (size_t l = 0; l < r->vars[i].n_levels; l++)
			free(r->vars[i].levels[l].name);
		free(r->vars[i].levels);
		intmap_release(&r->vars[i].level_of);
	}
	intmap_release(&r->combo_of);
	free(r->combos);
	free(r->cols);
	free(r->factors);
	gsl_matrix_free(r->chol);
	free(r);
}
