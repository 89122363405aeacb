/*
 * score.h - SIPAS indices for one form and period (docs/scoring.md): criterion and
 * overall ratios, element and SIPAS indices, design-based standard errors
 * and intervals, Kish effective n, optional raking, target verdicts, and the
 * counter method for forms without elements.  Formatting the result is in
 * reports/rep_score.h.
 */
#ifndef SIPAS_SCORE_H
#define SIPAS_SCORE_H

#include <sqlite3.h>
#include <stdint.h>

#include "../forms/form.h"
#include "../forms/registry.h"
#include "../lib/err.h"
#include "../lib/period.h"

enum score_ci {
	SCORE_CI_NONE,             /* no estimate, or no design information on its variance */
	SCORE_CI_LOGIT,            /* criteria and overall (docs/scoring.md) */
	SCORE_CI_WALD,             /* elements and index: p ± t·se, clipped */
	SCORE_CI_CLOPPER_PEARSON   /* p of 0 or 1, or df < 1; elements and index all at 1 or 0 */
};

enum score_status {
	SCORE_NO_TARGET,           /* no target applies to the group */
	SCORE_MET, SCORE_NOT_MET, SCORE_INCONCLUSIVE, SCORE_INSUFFICIENT_DATA
};

/* One estimate; what is not known is flagged, never a made-up number. */
struct score_estimate {
	int defined;        /* 0: nobody answered; everything below is null */
	double est;
	int has_se;
	double se;
	int has_bounds;
	double lo, hi;
	int ci;             /* enum score_ci */
	long n;             /* items only: respondents who answered */
};

struct score_group {
	const struct registry_entry *agency;  /* NULL = all agencies */
	const struct registry_entry *sector;  /* NULL = all sectors */
	long n;             /* respondents */
	double n_eff;       /* Kish: (Σw)² / Σw² */
	long df;            /* PSUs with a respondent − strata with a respondent */
	struct score_estimate index;      /* forms with elements only */
	struct score_estimate *elements;  /* [form->n_elements] */
	struct score_estimate *items;     /* [form->n_items]; form->overall is the overall */
	int has_target;
	double target;
	int status;         /* enum score_status */
	long ratings;       /* counter method: respondents who rated overall (unweighted) */
	long satisfied;     /* ... of whom satisfied */
	long *followups;    /* counter method: ratings giving each follow-up value, by
			     * choice (follow-ups only, form order) then value; NULL
			     * when the form has no follow-up */
	/* counter method: the group's covered cells, those of its (agency,
	 * sector, quarter) cells with a dossier total (struct score_dossier_cell) */
	int has_dossiers;   /* at least one covered cell */
	long long dossiers; /* their dossiers */
	long dossier_cells; /* how many */
	long covered_ratings;      /* ratings in them */
	long covered_unsatisfied;  /* ... of which not satisfied */
};

/* One agency, sector and quarter of the period with dossier rows (counter
 * method).  Only complete cells count in the dossier-based rate. */
struct score_dossier_cell {
	const struct registry_entry *agency, *sector;  /* borrowed from the registry */
	int quarter;        /* ordinal */
	int complete;       /* a quarter row, or all three of its months */
	unsigned months;    /* incomplete cells: the months loaded, bit 0 the first */
	long long dossiers; /* complete cells: the quarter's total */
	long ratings;       /* complete cells: its ratings */
	long unsatisfied;   /* ... of which not satisfied */
};

struct score_result {
	const struct form *form;    /* borrowed */
	struct period period;
	int raked;                  /* weights: 1 raked, 0 design */
	char notice[1024];          /* lines to tell the user (rescaled margins), or "" */
	size_t n_groups;
	struct score_group *groups; /* groups[0] is the whole period */
	long rows;                  /* responses read */
	/* counter method, for a period of whole quarters: every cell with
	 * dossier rows, by agency id, sector id and quarter; else none */
	size_t n_dossier_cells;
	struct score_dossier_cell *dossier_cells;
	const char *unit;           /* what a group's agency stands for, for the printers
				     * (static): NULL = "agency"; the hub's national
				     * scores by province set "province" */
};

/* Raised whenever a scoring rule changes, and written with every result:
 * 2 = calibration-aware standard errors after raking, Clopper-Pearson for an
 * element or index whose criteria are all at 1 or all at 0; 3 = a verdict
 * also needs a Kish effective n of 30, and the counter method's
 * dossier-based rate counts only the cells with dossier totals. */
#define SCORE_FORMULA_VERSION 3

enum score_by { SCORE_BY_AGENCY = 1, SCORE_BY_SECTOR = 2, SCORE_BY_AGENCY_SECTOR = 4 };

struct score_options {
	int by;                     /* a set of enum score_by; 0 = agency and sector */
	const char *rake_path;      /* margins CSV, or NULL for design weights */
};

/* One response as scoring reads it; the bytes are borrowed until the
 * source's next call. */
struct score_row {
	long long agency_id, sector_id;    /* the registry's ids */
	long long stratum_id, psu_id;      /* any ids; psu_id 0: the response is its own PSU */
	double weight;
	const uint8_t *answers, *choices;  /* choices NULL unless the source was opened whole */
	size_t n_answers, n_choices;
	int32_t day;                       /* Vietnam date; 0 unless opened whole */
};

#define SCORE_SOURCE_END 1

/* Where scoring reads a period's responses from: the province's database
 * (score_run) or the national hub (hub/hub_score.h).  open starts at the
 * first row, again after a close (the counter method reads the rows twice),
 * with the choices' bytes and the day when whole is 1 (raking, the counter
 * method);
 * next returns 0 with *row filled, SCORE_SOURCE_END after the last row, or
 * an error; close ends a reading, also one cut short, and can't fail. */
struct score_source {
	int (*open)(void *arg, int whole, struct err *e);
	int (*next)(void *arg, struct score_row *row, struct err *e);
	void (*close)(void *arg);
	void *arg;
};

/* Score the responses to `form` submitted within `period`, by the agencies
 * as they were then (an agency that existed on no day of the period, and
 * has no responses in it, gets no group).  On success *out
 * is owned by the caller (score_result_free).  ERR_INVALID for bad margins
 * or raking that cannot converge; ERR_DB on database errors. */
int score_run(sqlite3 *db, const struct registry *reg, const struct form *form,
	      const struct period *period, const struct score_options *opts,
	      struct score_result **out, struct err *e);

/* score_run on the rows of src (whose agency and sector ids are reg's), for
 * a source without dossier totals: the counter method then gives no
 * dossier-based rate.  As score_run otherwise. */
int score_run_source(const struct score_source *src, const struct registry *reg, const struct form *form,
		     const struct period *period, const struct score_options *opts,
		     struct score_result **out, struct err *e);

/* score_run with the agencies as they stand on day `as_of` (Vietnam time):
 * the respondents of an agency that had ended by then are scored as its
 * successor's (followed to the one standing then), pooled with the
 * successor's own as one population and re-scored, not averaged; an agency
 * so pooled, or one that did not exist in the period, gets no group unless
 * it has respondents of its own.  As score_run otherwise. */
int score_run_as_of(sqlite3 *db, const struct registry *reg, const struct form *form,
		    const struct period *period, const struct score_options *opts, int32_t as_of,
		    struct score_result **out, struct err *e);

/* Prepare the query that reads a period's responses, as scoring does (also
 * used by the benchmark's bare scan).  Columns: agency_id, sector_id,
 * stratum_id, psu_id (0 = none), weight, answers, choices, day.  *out is owned
 * (sqlite3_finalize). */
int score_scan_prepare(sqlite3 *db, const char *form_id, const struct period *period,
		       sqlite3_stmt **out, struct err *e);

/* Below this n, or this Kish n, a verdict is insufficient_data
 * (docs/scoring.md); the alerts judge no share on fewer ratings either. */
#define SCORE_MIN_N 30

/* The target in force at quarter ordinal q (year * 4 + quarter - 1) for
 * agency_id and sector_id (0: none given), the most specific scope first:
 * the agency's, then the sector's, then the one for all (docs/scoring.md).
 * Owned by reg; NULL when none applies.  Can't fail. */
const struct registry_target *score_target(const struct registry *reg, long long agency_id,
					   long long sector_id, int q);

/* Parse "agency", "sector" or "agency,sector" into enum score_by bits. */
int score_parse_by(const char *s, int *by, struct err *e);

/* The counter method's dossier-based rate of g: (dossiers of its covered
 * cells - their unsatisfied ratings) / those dossiers; unrated dossiers
 * count as satisfied.  1 with *rate set, or 0 when g has no covered cell or
 * they hold no dossier. */
int score_dossier_rate(const struct score_group *g, double *rate);

/* 1 when g's covered cells hold more ratings than dossiers (the totals are
 * then suspect), else 0. */
int score_more_ratings_than_dossiers(const struct score_group *g);

/* Write month i (0 to 2) of quarter ordinal q as YYYY-MM into buf (at
 * least 8 bytes). */
void score_month_label(int q, int i, char *buf);

const char *score_ci_name(int ci);
const char *score_status_name(int status);

/* Free a result; NULL-safe. */
void score_result_free(struct score_result *r);

#endif
