/*
 * score_accum.c - the streaming pass (see score_accum.h for the algebra).
 * Per response the cost is a few adds per unsatisfied or missing item, and
 * the squares of those short lists; nothing is kept per response.
 */
#include "score_accum.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/array.h"

/* Ids of agencies, sectors and strata fit 31 bits, PSUs 40 bits: checked. */
#define ID31_MAX 0x7fffffffLL
#define ID40_MAX 0xffffffffffLL

int score_accum_init(struct score_accum *a, size_t k, const uint8_t *sat, struct err *e)
{
	memset(a, 0, sizeof(*a));
	if (k == 0)
		return err_set(e, ERR_INTERNAL, "a form without questions cannot be scored");
	assert(k <= SCORE_ACCUM_MAX_ITEMS);
	a->k = k;
	for (size_t v = 0; v < 256; v++)
		a->unsatisfied[v] = (uint8_t)!(sat[v] && v);
	a->cell_mask = 63;
	a->cell_slots = calloc(a->cell_mask + 1, sizeof(*a->cell_slots));
	if (!a->cell_slots)
		return err_set(e, ERR_NOMEM, "out of memory");
	return 0;
}

static int new_cell(struct score_accum *a, long long agency, long long sector, long long stratum,
		    uint32_t calib, uint32_t *out, struct err *e)
{
	struct score_cell *c;
	struct score_item_sums *item;
	double *blk;
	size_t k = a->k;

	if (ARRAY_RESERVE(a->cells, a->cap_cells, a->n_cells) < 0)
		return err_set(e, ERR_NOMEM, "out of memory");
	item = calloc(k, sizeof(*item));
	blk = calloc(2 * k + 3 * k * k, sizeof(double));   /* w2d_s w2m_s: 2k; dd mm dm: 3k² */
	if (!item || !blk) {
		free(item);
		free(blk);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	c = &a->cells[a->n_cells];
	memset(c, 0, sizeof(*c));
	c->agency_id = agency;
	c->sector_id = sector;
	c->stratum_id = stratum;
	c->calib = calib;
	c->item = item;
	c->w2d_s = blk;
	c->w2m_s = blk + k;
	c->dd = blk + 2 * k;
	c->mm = c->dd + k * k;
	c->dm = c->mm + k * k;
	*out = (uint32_t)a->n_cells++;
	return 0;
}

/* The four keys of a cell mixed into one word (MurmurHash3's finaliser). */
static uint64_t cell_hash(long long agency, long long sector, long long stratum, uint32_t calib)
{
	uint64_t h = (((uint64_t)agency << 32) | (uint64_t)sector) ^
		     ((((uint64_t)stratum << 32) | calib) * 0x9e3779b97f4a7c15ull);

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 33);
}

/* The slot of a's cell table holding the cell (agency, sector, stratum,
 * raking cell), or the free slot where it belongs. */
static size_t cell_slot(const struct score_accum *a, long long agency, long long sector,
			long long stratum, uint32_t calib)
{
	size_t h = cell_hash(agency, sector, stratum, calib) & a->cell_mask;

	for (; a->cell_slots[h]; h = (h + 1) & a->cell_mask) {
		const struct score_cell *c = &a->cells[a->cell_slots[h] - 1];

		if (c->agency_id == agency && c->sector_id == sector && c->stratum_id == stratum &&
		    c->calib == calib)
			break;
	}
	return h;
}

/* Double the cell table and place every cell again. */
static int grow_cell_slots(struct score_accum *a)
{
	size_t cap = 2 * (a->cell_mask + 1);
	uint32_t *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -1;
	free(a->cell_slots);
	a->cell_slots = slots;
	a->cell_mask = cap - 1;
	for (size_t i = 0; i < a->n_cells; i++) {
		const struct score_cell *c = &a->cells[i];

		slots[cell_slot(a, c->agency_id, c->sector_id, c->stratum_id, c->calib)] = (uint32_t)i + 1;
	}
	return 0;
}

/* The cell of (agency, sector, stratum, raking cell), made when new: one
 * probe sequence compared on all four keys, since this runs per response. */
static int find_cell(struct score_accum *a, long long agency, long long sector, long long stratum,
		     uint32_t calib, uint32_t *out, struct err *e)
{
	size_t h = cell_slot(a, agency, sector, stratum, calib);
	uint32_t idx = 0;
	int rc;

	if (a->cell_slots[h]) {
		*out = a->cell_slots[h] - 1;
		return 0;
	}
	if (agency < 0 || agency > ID31_MAX || sector < 0 || sector > ID31_MAX || stratum < 0 ||
	    stratum > ID31_MAX)
		return err_set(e, ERR_INVALID, "agency, sector or stratum id out of range");
	/* at most half full, so every probe sequence ends on a free slot */
	if ((a->n_cells + 1) * 2 > a->cell_mask + 1) {
		if (grow_cell_slots(a) < 0)
			return err_set(e, ERR_NOMEM, "out of memory");
		h = cell_slot(a, agency, sector, stratum, calib);
	}
	rc = new_cell(a, agency, sector, stratum, calib, &idx, e);
	if (rc)
		return rc;
	a->cell_slots[h] = idx + 1;
	*out = idx;
	return 0;
}

static struct score_stratum *find_stratum(struct score_accum *a, long long id, struct err *e)
{
	long i = intmap_get(&a->stratum_map, (uint64_t)id);

	if (i >= 0)
		return &a->strata[i];
	if (ARRAY_RESERVE(a->strata, a->cap_strata, a->n_strata) < 0) {
		err_set(e, ERR_NOMEM, "out of memory");
		return NULL;
	}
	if (intmap_put(&a->stratum_map, (uint64_t)id, (uint32_t)a->n_strata) < 0) {
		err_set(e, ERR_NOMEM, "out of memory");
		return NULL;
	}
	a->strata[a->n_strata].id = id;
	a->strata[a->n_strata].n_psu = 0;
	return &a->strata[a->n_strata++];
}

/* The part of (PSU, cell), made when new; a new PSU counts in `stratum`.
 * A cell's PSUs are few (its weeks or communes in a quarter) and
 * their ids close together, so the cell's own small cache nearly always
 * holds the part and the hash map is seldom asked. */
static int find_part(struct score_accum *a, long long psu, uint32_t cell, long long stratum,
		     uint32_t *out, struct err *e)
{
	uint32_t *cached = &a->cells[cell].part_cache[(uint64_t)psu % SCORE_PART_CACHE];
	uint64_t key;
	long i;

	if (*cached && a->parts[*cached - 1].psu_id == psu) {
		*out = *cached - 1;
		return 0;
	}
	if (psu > ID40_MAX || cell >= (1u << 24))
		return err_set(e, ERR_INVALID, "PSU id or number of cells out of range");
	key = ((uint64_t)psu << 24) | cell;
	i = intmap_get(&a->part_map, key);
	if (i < 0) {
		struct score_psu_part *p;

		/* a PSU's first part: it counts in the stratum of its first response */
		if (intmap_get(&a->psu_seen, (uint64_t)psu) < 0) {
			struct score_stratum *st = find_stratum(a, stratum, e);

			if (!st)
				return e->code;
			st->n_psu++;
			if (intmap_put(&a->psu_seen, (uint64_t)psu, 1) < 0)
				return err_set(e, ERR_NOMEM, "out of memory");
		}
		if (ARRAY_RESERVE(a->parts, a->cap_parts, a->n_parts) < 0)
			return err_set(e, ERR_NOMEM, "out of memory");
		p = &a->parts[a->n_parts];
		p->psu_id = psu;
		p->cell = cell;
		p->sw = 0;
		p->item = calloc(a->k, sizeof(*p->item));
		if (!p->item || intmap_put(&a->part_map, key, (uint32_t)a->n_parts) < 0) {
			free(p->item);
			return err_set(e, ERR_NOMEM, "out of memory");
		}
		i = (long)a->n_parts++;
	}
	*cached = (uint32_t)i + 1;
	*out = (uint32_t)i;
	return 0;
}

int score_accum_add(struct score_accum *a, long long agency_id, long long sector_id,
		    long long stratum_id, uint32_t calib, long long psu_id, double w,
		    const uint8_t *answers, struct err *e)
{
	size_t k = a->k, nd = 0, nm = 0;
	size_t d[SCORE_ACCUM_MAX_ITEMS], m[SCORE_ACCUM_MAX_ITEMS];
	struct score_cell *c;
	uint32_t ci = 0;
	double w2 = w * w;
	int rc;

	rc = find_cell(a, agency_id, sector_id, stratum_id, calib, &ci, e);
	if (rc)
		return rc;
	c = &a->cells[ci];
	/* written unconditionally, counted when unsatisfied: no branch per
	 * item; the unanswered are among the unsatisfied */
	for (size_t i = 0; i < k; i++) {
		d[nd] = i;
		nd += a->unsatisfied[answers[i]];
	}
	for (size_t i = 0; i < nd; i++) {
		m[nm] = d[i];
		nm += answers[d[i]] == 0;
	}
	c->n += 1;
	c->sw += w;
	c->sw2 += w2;
	if (psu_id == 0) {
		struct score_stratum *st = find_stratum(a, stratum_id, e);

		if (!st)
			return e->code;
		st->n_psu++;
		c->ns += 1;
		c->sw2_s += w2;
		for (size_t i = 0; i < nd; i++) {
			double *row = c->dd + d[i] * k, *drow = c->dm + d[i] * k;

			c->item[d[i]].wd += w;
			c->item[d[i]].cd += 1;
			c->w2d_s[d[i]] += w2;
			for (size_t j = 0; j < nd; j++)
				row[d[j]] += w2;
			for (size_t j = 0; j < nm; j++)
				drow[m[j]] += w2;
		}
		for (size_t i = 0; i < nm; i++) {
			double *row = c->mm + m[i] * k;

			c->item[m[i]].wm += w;
			c->item[m[i]].w2m += w2;
			c->item[m[i]].cm += 1;
			c->w2m_s[m[i]] += w2;
			for (size_t j = 0; j < nm; j++)
				row[m[j]] += w2;
		}
	} else {
		struct score_psu_part *p;
		uint32_t pi = 0;

		rc = find_part(a, psu_id, ci, stratum_id, &pi, e);
		if (rc)
			return rc;
		p = &a->parts[pi];
		p->sw += w;
		for (size_t i = 0; i < nd; i++) {
			c->item[d[i]].wd += w;
			c->item[d[i]].cd += 1;
			p->item[d[i]].wd += w;
		}
		for (size_t i = 0; i < nm; i++) {
			c->item[m[i]].wm += w;
			c->item[m[i]].w2m += w2;
			c->item[m[i]].cm += 1;
			p->item[m[i]].wm += w;
		}
	}
	return 0;
}

void score_accum_scale(struct score_accum *a, const double *factor)
{
	size_t k = a->k;

	for (size_t i = 0; i < a->n_cells; i++) {
		struct score_cell *c = &a->cells[i];
		double f = factor[c->calib], f2 = f * f;

		c->sw *= f;
		c->sw2 *= f2;
		c->sw2_s *= f2;
		for (size_t j = 0; j < k; j++) {
			c->item[j].wd *= f;
			c->item[j].wm *= f;
			c->item[j].w2m *= f2;
			c->w2d_s[j] *= f2;
			c->w2m_s[j] *= f2;
		}
		for (size_t j = 0; j < k * k; j++) {
			c->dd[j] *= f2;
			c->mm[j] *= f2;
			c->dm[j] *= f2;
		}
	}
	for (size_t i = 0; i < a->n_parts; i++) {
		struct score_psu_part *p = &a->parts[i];
		double f = factor[a->cells[p->cell].calib];

		p->sw *= f;
		for (size_t j = 0; j < k; j++) {
			p->item[j].wd *= f;
			p->item[j].wm *= f;
		}
	}
}

long score_accum_stratum(const struct score_accum *a, long long stratum_id)
{
	return intmap_get(&a->stratum_map, (uint64_t)stratum_id);
}

long score_accum_stratum_psus(const struct score_accum *a, long long stratum_id)
{
	long i = intmap_get(&a->stratum_map, (uint64_t)stratum_id);

	return i < 0 ? 0 : a->strata[i].n_psu;
}

void score_accum_release(struct score_accum *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n_cells; i++) {
		free(a->cells[i].item);
		free(a->cells[i].w2d_s);
	}
	for (size_t i = 0; i < a->n_parts; i++)
		free(a->parts[i].item);
	free(a->cells);
	free(a->parts);
	free(a->strata);
	free(a->cell_slots);
	intmap_release(&a->part_map);
	intmap_release(&a->stratum_map);
	intmap_release(&a->psu_seen);
	memset(a, 0, sizeof(*a));
}
