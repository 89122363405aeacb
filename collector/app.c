/*
 * app.c - the collector's shared state (app.h): opened once by `sipas
 * serve`, read by every request, and its catalog swapped on SIGHUP.
 */
#include "app.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../db/db.h"
#include "console.h"
#include "../responses/published.h"

int col_app_open(struct col_app *app, const char *db_path, const struct col_limits *limits,
		 struct err *e)
{
	sqlite3 *db = NULL;
	int rc;

	memset(app, 0, sizeof(*app));
	col_ratelimit_init(&app->device_limit, limits->device_per_minute, limits->device_burst);
	col_ratelimit_init(&app->address_limit, limits->address_per_minute, limits->address_burst);
	col_ratelimit_init(&app->system_limit, limits->system_per_minute, limits->system_burst);
	col_console_open(app);
	app->max_age = limits->max_age;
	app->min_free = limits->min_free;
	app->db_path = strdup(db_path);
	app->scores_cache = col_scores_cache_new();
	if (!app->db_path || !app->scores_cache) {
		free(app->db_path);
		col_scores_cache_free(app->scores_cache);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	pthread_mutex_init(&app->catalog_lock, NULL);
	pthread_mutex_init(&app->published_lock, NULL);
	rc = db_open(db_path, 0, &db, e);
	if (!rc)
		rc = col_catalog_load(db, &app->catalog, e);
	if (!rc)
		rc = db_server_key(db, app->key, e);
	db_close(db);
	if (!rc)
		rc = col_writer_start(db_path, &app->writer, e);
	if (rc)
		col_app_close(app);
	return rc;
}

void col_app_close(struct col_app *app)
{
	col_writer_stop(app->writer);
	app->writer = NULL;
	col_catalog_release(app->catalog);
	app->catalog = NULL;
	pthread_mutex_destroy(&app->catalog_lock);
	published_days_free(app->published_days);
	app->published_days = NULL;
	pthread_mutex_destroy(&app->published_lock);
	col_ratelimit_release(&app->device_limit);
	col_ratelimit_release(&app->address_limit);
	col_ratelimit_release(&app->system_limit);
	col_console_close(app);
	col_scores_cache_free(app->scores_cache);
	app->scores_cache = NULL;
	free(app->db_path);
	app->db_path = NULL;
	memset(app->key, 0, sizeof(app->key));
}

struct col_catalog *col_app_catalog(struct col_app *app)
{
	struct col_catalog *c;

	pthread_mutex_lock(&app->catalog_lock);
	c = col_catalog_hold(app->catalog);
	pthread_mutex_unlock(&app->catalog_lock);
	return c;
}

int col_app_reload(struct col_app *app, struct err *e)
{
	struct col_catalog *fresh = NULL, *old;
	sqlite3 *db = NULL;
	int rc = db_open(app->db_path, DB_READONLY, &db, e);

	if (!rc)
		rc = col_catalog_load(db, &fresh, e);
	db_close(db);
	if (rc)
		return rc;
	pthread_mutex_lock(&app->catalog_lock);
	old = app->catalog;
	app->catalog = fresh;
	pthread_mutex_unlock(&app->catalog_lock);
	/* requests that hold the old catalog keep it until they finish */
	col_catalog_release(old);
	return 0;
}
