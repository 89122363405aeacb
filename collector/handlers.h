/*
 * handlers.h - the route handlers, for routes.c's table (inside collector/
 * only).  They live by what they serve:
 *   route_submit.c  POST /api/responses and /batch: check, queue, reply
 *   route_api.c     the JSON API that reads: healthz, metrics, forms,
 *                   scores, the kiosk's setup, pairing
 *   route_pages.c   the pages, the published results and phone links
 *   route_kiosk.c   a kiosk's officer on duty and heartbeat
 * Every handler has the col_handler signature; `tail` is the path after
 * a prefix route ("" for an exact one).  What they share is request.h.
 */
#ifndef SIPAS_HANDLERS_H
#define SIPAS_HANDLERS_H

#include "app.h"

typedef void (*col_handler)(struct col_app *app, const struct col_request *req,
			    struct col_reply *reply, const char *tail);

/* route_submit.c: a valid rating's reply is deferred (reply->deferred)
 * until the writer has committed it */
void col_handle_post(struct col_app *app, const struct col_request *req, struct col_reply *reply,
		     const char *tail);
void col_handle_batch(struct col_app *app, const struct col_request *req, struct col_reply *reply,
		      const char *tail);

/* route_dossiers.c: a one-stop system's dossier records (system token) */
void col_handle_dossiers(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			 const char *tail);

/* route_api.c */
void col_handle_healthz(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			const char *tail);
void col_handle_metrics(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			const char *tail);
void col_handle_form(struct col_app *app, const struct col_request *req, struct col_reply *reply,
		     const char *id);
void col_handle_scores(struct col_app *app, const struct col_request *req, struct col_reply *reply,
		       const char *tail);
void col_handle_kiosk(struct col_app *app, const struct col_request *req, struct col_reply *reply,
		      const char *tail);
void col_handle_pair(struct col_app *app, const struct col_request *req, struct col_reply *reply,
		     const char *tail);
void col_handle_kiosk_pin(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			  const char *tail);

/* route_system.c: a one-stop system's API (system token) */
void col_handle_system(struct col_app *app, const struct col_request *req, struct col_reply *reply,
		       const char *tail);
void col_handle_links(struct col_app *app, const struct col_request *req, struct col_reply *reply,
		      const char *tail);

/* route_kiosk.c: a kiosk's shift and heartbeat, replies deferred to the
 * writer's commit */
void col_handle_kiosk_shift(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			    const char *tail);
void col_handle_kiosk_heartbeat(struct col_app *app, const struct col_request *req, struct col_reply *reply,
				const char *tail);

/* route_pages.c */
/* The policy of a quarter's report pages: their own inline style and
 * nothing else (published, and previewed in the console). */
#define COL_REPORT_CSP "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"

/* Reply with the compiled-in file `name`, gzipped when the browser takes
 * it; 304 when the browser's copy is current. */
void col_reply_static(struct col_app *app, const struct col_request *req, struct col_reply *reply,
		      unsigned status, const char *name);

void col_handle_asset(struct col_app *app, const struct col_request *req, struct col_reply *reply,
		      const char *name);
void col_handle_results(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			const char *tail);
void col_handle_result_file(struct col_app *app, const struct col_request *req,
			    struct col_reply *reply, const char *tail);
void col_handle_survey_page(struct col_app *app, const struct col_request *req,
			    struct col_reply *reply, const char *form);

/* console_auth.c: signing in and out of the console (docs/console.md) */
void col_handle_console_login(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			      const char *tail);
void col_handle_console_logout(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			       const char *tail);
void col_handle_console_me(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			   const char *tail);
void col_handle_console_password(struct col_app *app, const struct col_request *req, struct col_reply *reply,
				 const char *tail);

/* console_users.c: the office's accounts and audit log (docs/console.md) */
void col_handle_console_users(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			      const char *tail);
void col_handle_console_user_add(struct col_app *app, const struct col_request *req, struct col_reply *reply,
				 const char *tail);
void col_handle_console_user_action(struct col_app *app, const struct col_request *req, struct col_reply *reply,
				    const char *tail);
void col_handle_console_audit(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			      const char *tail);

/* console_notify.c: notifications given up as failed (docs/monitoring.md) */
void col_handle_console_notify_failed(struct col_app *app, const struct col_request *req, struct col_reply *reply,
				      const char *tail);

/* console_devices.c: kiosks, pairing and revoking (docs/console.md) */
void col_handle_console_devices(struct col_app *app, const struct col_request *req, struct col_reply *reply,
				const char *tail);
void col_handle_console_device_add(struct col_app *app, const struct col_request *req, struct col_reply *reply,
				   const char *tail);
void col_handle_console_device(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			       const char *tail);

/* console_imports.c: survey and dossier files uploaded (a deferred reply) */
void col_handle_console_import(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			       const char *tail);

/* console_quarter.c: the quarter's state, preview, publishing */
void col_handle_console_quarter(struct col_app *app, const struct col_request *req, struct col_reply *reply,
				const char *tail);
void col_handle_console_preview(struct col_app *app, const struct col_request *req, struct col_reply *reply,
				const char *tail);
void col_handle_console_publish(struct col_app *app, const struct col_request *req, struct col_reply *reply,
				const char *tail);
void col_handle_console_withdraw(struct col_app *app, const struct col_request *req, struct col_reply *reply,
				 const char *tail);

/* console_comments.c: the citizens' comments, their export and handled marks */
void col_handle_console_comments(struct col_app *app, const struct col_request *req, struct col_reply *reply,
				 const char *tail);
void col_handle_console_comments_csv(struct col_app *app, const struct col_request *req, struct col_reply *reply,
				     const char *tail);
void col_handle_console_comment(struct col_app *app, const struct col_request *req, struct col_reply *reply,
				const char *tail);

/* console_overview.c: the quarter so far and the counters, in scope */
void col_handle_console_overview(struct col_app *app, const struct col_request *req, struct col_reply *reply,
				 const char *tail);

/* console_live.c: the live views, their funnel plot and the alerts, for
 * an admin token or a console session, in the sender's scope */
void col_handle_live(struct col_app *app, const struct col_request *req, struct col_reply *reply, const char *tail);
void col_handle_live_funnel(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			    const char *tail);
void col_handle_alerts(struct col_app *app, const struct col_request *req, struct col_reply *reply,
		       const char *tail);

#endif
