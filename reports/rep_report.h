/*
 * rep_report.h - the quarterly report (`sipas report`, docs/report.md): one
 * quarter scored several ways, rendered in memory as index.html,
 * methodology.html, the open data and scores.xlsx (struct report_files),
 * which `sipas report` writes into a directory and `sipas publish` stores.
 * The parts share this header: rep_report.c (the run), rep_fmt.c
 * (Vietnamese number formats, escaping), rep_svg.c (charts), rep_html.c
 * (the report page), rep_method.c (the methodology page), rep_xlsx.c (the
 * workbook), rep_counter.c (the counter section).
 */
#ifndef SIPAS_REPORT_H
#define SIPAS_REPORT_H

#include <sqlite3.h>

#include "../forms/form.h"
#include "../forms/registry.h"
#include "../lib/err.h"
#include "../lib/period.h"
#include "../lib/strbuf.h"
#include "../scoring/score.h"
#include "../scoring/score_records.h"

#define REP_TREND_QUARTERS 4

/* The quarter's comments, counted and never quoted (rep_comments.c):
 * free text may hold personal details, so the report shows how many
 * there are and which reasons were chosen, and the console shows the
 * text to those who may act on it. */
#define REP_MAX_REASONS 64
struct rep_comments {
	long comments;            /* free-text comments in the quarter, every form and channel */
	long with_reasons;        /* ratings with a reason chosen in a follow-up */
	size_t n_reasons;
	struct rep_reason_count {
		char *vi, *en;    /* the reason's labels (its code when the form has none) */
		long n;
	} reasons[REP_MAX_REASONS];  /* most chosen first */
};

/* Everything the pages show, computed once. */
struct rep_report {
	const struct form *form;          /* borrowed */
	const struct registry *reg;       /* borrowed */
	struct period period;             /* the quarter */
	struct score_result *main;        /* default grouping: whole quarter, agencies, sectors
					   * (a view of the first groups of `cross`) */
	struct score_result *cross;       /* the same, then the agency × sector pairs */
	struct score_result *trend[REP_TREND_QUARTERS]; /* oldest first; the last is the quarter;
							 * design weights throughout (rep_report.c) */
	struct score_result *published[REP_TREND_QUARTERS]; /* an earlier quarter published with
							     * raked weights: its published figures
							     * (rep_published_whole); else NULL */
	int from_published[REP_TREND_QUARTERS];       /* trend and published swapped: the database
						       * has no rows left of that raked quarter */
	struct score_result *agency_trend[REP_TREND_QUARTERS]; /* by agency as they stand at the end of
								* the quarter (score_run_as_of), oldest
								* first; design weights */
	int32_t today;                    /* the day the report was made (Vietnam time) */
	struct score_result *kiosk;       /* the kiosk form's ratings, default grouping; NULL without the form */
	int early;                        /* published before the quarter ended (on `today`) */
	const char *audit_head;           /* published: the audit log's head then; NULL: not published */
	struct rep_comments *comments;   /* the citizens' comments counted (rep_comments.c); owned */
	struct score_records *records;    /* the quarter's per-dossier rate (dossier records); owned */
};

/* How the report is made: for `sipas report`, all zero. */
struct rep_report_opts {
	int early;              /* published with --early, before the quarter ended */
	int32_t today;          /* the day it is made; 0: today (period_today) */
	const char *audit_head; /* published: the audit log's head, shown on the page; NULL: none */
};

#define REP_MAX_FILES 16

/* A rendered report: its files in memory, in the order rendered (index.html
 * first).  Names and bytes are owned by it (rep_files_release). */
struct report_files {
	size_t n;
	struct report_file {
		char *name;
		char *data;
		size_t size;
	} file[REP_MAX_FILES];
};

/* Score quarter `period_s` ("YYYYQn") for `form` and render the report's
 * files into *out (empty at the call; released by the caller, also on
 * error); opts may be NULL.  Nothing is written to a file system (the
 * workbook's library keeps its parts in /dev/shm, each file unlinked as
 * soon as it is made: rep_xlsx.c).  ERR_INVALID for a period that is not a
 * quarter, ERR_NOT_FOUND when the quarter has no responses. */
int rep_report_render(sqlite3 *db, const struct registry *reg, const struct form *form,
		      const char *period_s, const struct rep_report_opts *opts, struct report_files *out,
		      struct err *e);

/* Write the files of f into `dir` (created if missing, with its parents).
 * ERR_INVALID when the user can fix it (not a directory, no permission),
 * ERR_IO otherwise. */
int rep_files_write(const struct report_files *f, const char *dir, struct err *e);

/* Add file `name` to f (at most REP_MAX_FILES), taking `data` (size
 * bytes; NULL: building it ran out of memory, ERR_NOMEM), which is freed
 * when it cannot be added. */
int rep_files_add(struct report_files *f, const char *name, char *data, size_t size, struct err *e);

/* Free the files of f and empty it; f itself is the caller's. */
void rep_files_release(struct report_files *f);

/* --- rep_fmt.c: Vietnamese formats (docs/report.md) --- */

/* U+00A0, the no-break space before "%" and "điểm %" (UTF-8). */
#define REP_NBSP "\xc2\xa0"

/* p (a share 0..1) as "87,5 %" with U+00A0 before %; "–" when !known. */
void rep_fmt_pct(struct strbuf *sb, int known, double p);
/* An integer with "." between thousands: 1.234. */
void rep_fmt_int(struct strbuf *sb, long v);
/* A number with thousands "." and one decimal after ",": 7.203,5. */
void rep_fmt_dec1(struct strbuf *sb, double v);
/* A day as dd/mm/yyyy. */
void rep_fmt_date(struct strbuf *sb, int32_t day);
/* The quarter holding `day` as Vietnamese write it: "Quý III/2026". */
void rep_fmt_quarter(struct strbuf *sb, int32_t day);
/* Text escaped for XML (& < > " '). */
void rep_xml_escape(struct strbuf *sb, const char *s);
/* The verdict in Vietnamese words. */
const char *rep_verdict_vi(int status);
/* The form's Vietnamese text at JSON path: element title, criterion text. */
const char *rep_element_title(const struct form *f, size_t element);
const char *rep_item_text(const struct form *f, size_t item);

/* --- rep_svg.c: charts (inline SVG, no scripts) --- */

/* Horizontal bars of the groups' indices with interval whiskers and each
 * group's target as a line, in the given order; `title` names the chart. */
void rep_svg_bars(struct strbuf *sb, const char *id, const char *title,
		  const struct score_group *const *groups, size_t n, int by_agency);
/* Lines over the trend quarters: the index and each element. */
void rep_svg_trend(struct strbuf *sb, const char *id, const char *title, const struct rep_report *r);
/* A chart's opening: the <svg> element, w × h in its own units and as wide
 * as its box, labelled by its <title> (id-t, title escaped here). */
void rep_svg_open(struct strbuf *sb, const char *id, const char *title, int w, int h);
/* Where a chart's axis starts for lowest value lo: lo rounded down to a
 * step of 1/per, within [0, 1 - 1/per]. */
double rep_svg_axis_start(double lo, double per);

/* --- pages and workbook --- */
/* The pages' shared head (title escaped here) and end. */
void rep_page_start(struct strbuf *sb, const char *title);
void rep_page_end(struct strbuf *sb);
int rep_report_html(const struct rep_report *r, struct strbuf *sb);
int rep_report_method(const struct rep_report *r, struct strbuf *sb);
/* scores.xlsx into *data (owned by the caller, free) and *size. */
int rep_report_xlsx(const struct rep_report *r, char **data, size_t *size, struct err *e);

/* --- rep_counter.c: the kiosk ratings beside the survey --- */
void rep_report_counter(const struct score_result *kiosk, const struct score_records *records, struct strbuf *sb);

/* rep_comments.c: count the comments and reasons of period p (visible
 * rows only) into a new *out (rep_comments_free).  ERR_DB or ERR_NOMEM
 * with e filled. */
int rep_comments_count(sqlite3 *db, const struct period *p, struct rep_comments **out, struct err *e);
/* The section "Ý kiến của người dân / Citizens' comments", numbered number. */
void rep_report_comments(const struct rep_comments *c, int number, struct strbuf *sb);
void rep_comments_free(struct rep_comments *c);
/* The Vietnamese label of value v of follow-up question `choice` (an index
 * into f->choices), or the value's code; borrowed from the form. */
const char *rep_followup_label(const struct form *f, size_t choice, size_t v);

#endif
