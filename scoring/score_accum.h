/*
 * score_accum.h - the one streaming pass of scoring: per-cell sums from
 * which every ratio, variance and effective n of every group is derived
 * afterwards, so memory grows with cells and PSUs, never with responses.
 *
 * A cell is one (agency, sector, stratum, raking cell); every group (all, an
 * agency, a sector, an agency and sector) is a union of cells, and every
 * response of a cell has the same row of the calibration model matrix
 * (score_rake.h; raking cell 0 without raking).  For response i with
 * weight w, let d_k = 1 when item k is not satisfied (or not answered) and
 * m_k = 1 when it is not answered.  Then w·s_k = w - w·d_k and
 * w·a_k = w - w·m_k, and since d and m are sparse the sums keep only their
 * non-zero parts:
 *  - all responses: n, Σw, Σw², Σw·d, Σw·m, Σw²·m, #m, #d;
 *  - responses that are their own PSU: Σw², Σw²·d, Σw²·m, and the K×K
 *    Σw²·d dᵀ, Σw²·m mᵀ, Σw²·d mᵀ, from which Σ Y Yᵀ, Σ Y Xᵀ, Σ X Xᵀ follow
 *    (Y = w·s, X = w·a), the second moments the variance needs;
 *  - responses of named PSUs: Σw, Σw·d, Σw·m per (PSU, cell), so PSU totals
 *    can be formed per group before squaring.
 */
#ifndef SIPAS_SCORE_ACCUM_H
#define SIPAS_SCORE_ACCUM_H

#include <stddef.h>
#include <stdint.h>

#include "../lib/err.h"
#include "../lib/intmap.h"

#define SCORE_ACCUM_MAX_ITEMS 256       /* forms have at most FORM_MAX_ITEMS */
#define SCORE_PART_CACHE 16             /* one cache line of part indexes per cell */

/* One item's sums in a cell, side by side: a response adds to one item's
 * sums together (m implies d), so they lie in one cache line, or two. */
struct score_item_sums {
	double wd, cd;                     /* Σw·d, #d */
	double wm, w2m, cm;                /* Σw·m, Σw²·m, #m */
};

/* ... and in a PSU's part of a cell */
struct score_part_sums {
	double wd, wm;
};

struct score_cell {
	long long agency_id, sector_id, stratum_id;
	uint32_t calib;                    /* raking cell */
	double n, sw, sw2;
	struct score_item_sums *item;      /* [K] */
	double ns, sw2_s;                  /* own-PSU responses */
	double *w2d_s, *w2m_s;             /* [K] */
	double *dd, *mm, *dm;              /* [K*K] row-major */
	uint32_t part_cache[SCORE_PART_CACHE];  /* during the pass: parts of this cell by
						 * psu_id % SCORE_PART_CACHE, index + 1; 0 = none */
};

struct score_psu_part {
	long long psu_id;
	uint32_t cell;
	double sw;
	struct score_part_sums *item;      /* [K] */
};

struct score_stratum {
	long long id;
	long n_psu;                        /* PSUs in the whole design */
};

struct score_accum {
	size_t k;                          /* items */
	uint8_t unsatisfied[256];          /* by stored answer byte: 1 when d = 1 (0 = unanswered too) */
	size_t n_cells, cap_cells;
	struct score_cell *cells;
	uint32_t *cell_slots;              /* open addressing on the cell's four keys: cell
					    * index + 1, 0 = free; [cell_mask + 1] */
	size_t cell_mask;
	size_t n_parts, cap_parts;
	struct score_psu_part *parts;
	size_t n_strata, cap_strata;
	struct score_stratum *strata;
	struct intmap part_map, stratum_map, psu_seen;
};

/* Prepare for k items (at most SCORE_ACCUM_MAX_ITEMS) whose stored bytes
 * are satisfied when sat[byte] is 1 (sat has 256 entries; byte 0 =
 * unanswered counts as not satisfied whatever sat[0] says).  ERR_NOMEM;
 * after an error there is nothing to release. */
int score_accum_init(struct score_accum *a, size_t k, const uint8_t *sat, struct err *e);

/* Add one response of raking cell `calib` (0 without raking).  psu_id 0 =
 * the response is its own PSU.  answers has k bytes.  ERR_NOMEM, or
 * ERR_INVALID for ids out of range. */
int score_accum_add(struct score_accum *a, long long agency_id, long long sector_id,
		    long long stratum_id, uint32_t calib, long long psu_id, double w,
		    const uint8_t *answers, struct err *e);

/* Turn the sums into those of the raked weights: every weight of a cell is
 * multiplied by factor[cell's raking cell] (after the pass, once). */
void score_accum_scale(struct score_accum *a, const double *factor);

/* The index of a stratum in a->strata, or -1 if it has no response. */
long score_accum_stratum(const struct score_accum *a, long long stratum_id);

/* The design size of a stratum (PSUs in the whole design); 0 if unknown. */
long score_accum_stratum_psus(const struct score_accum *a, long long stratum_id);

/* Free everything; NULL-safe. */
void score_accum_release(struct score_accum *a);

#endif
