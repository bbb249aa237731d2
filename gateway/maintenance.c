#include "maintenance.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broadcast.h"
#include "cases.h"
#include "health.h"
#include "log.h"
#include "modem_in.h"
#include "outbox.h"
#include "store.h"
#include "store_modem.h"
#include "store_outbox.h"

#define ALERT_REPEAT_S (24 * 3600) /* the same alert again at most once a day */

/* Run the body when at least `secs` seconds passed since `last` (then update it). */
#define EVERY(secs, last, now) for (int once_ = ((now) - (last) >= (secs)); once_; once_ = 0, (last) = (now))

/* Queue an alert to the supervisor once per kind and key; clear it when the condition is over. */
static void alert(struct ctx *c, const char *kind, const char *key, bool condition, const char *text_name,
    const struct menu_var *vars, size_t nvars)
{
	const struct staff_cfg *sup = config_supervisor(c->cfg);
	bool fresh = false;
	char *text;

	if (store_begin(c->st) < 0)
		return;
	if (!condition) {
		if (store_alert_clear(c->st, kind, key) < 0 || store_commit(c->st) < 0)
			store_rollback(c->st);
		return;
	}
	if (store_alert_once(c->st, kind, key, c->now, ALERT_REPEAT_S, &fresh) < 0 || !fresh) {
		store_rollback(c->st);
		return;
	}
	text = menu_render(menu_text(c->menu, text_name), vars, nvars);
	log_warnx("maintenance", "alert %s %s: %s", kind, key, text);
	if (sup == NULL) {
		log_warnx("maintenance", "no supervisor in the config: the alert goes to nobody");
	} else if (outbox_queue_sms(c, sup->phone, text, NOTIFY_STAFF, 0, NULL, NULL) < 0) {
		free(text);
		store_rollback(c->st);
		return;
	}
	free(text);
	if (store_commit(c->st) == 0)
		outbox_kick();
}

static void check_alerts(struct ctx *c)
{
	struct modem_health mh[CONFIG_MAX_MODEMS];
	size_t n = health_modems(mh, CONFIG_MAX_MODEMS);
	int depth = 0;
	int64_t oldest = 0;

	for (size_t i = 0; i < n && i < CONFIG_MAX_MODEMS; i++) {
		const struct modem_health *h = &mh[i];
		int64_t down_for = h->connected ? 0 : c->now - h->down_since;
		int minutes = (int)(down_for / 60);
		char mins[16], bal[32];

		snprintf(mins, sizeof(mins), "%d", minutes);
		struct menu_var dv[] = { { "modem.name", h->name }, { "minutes", mins } };
		alert(c, "modem_down", h->name,
		    c->cfg->down_alert_minutes > 0 && !h->connected && down_for >= (int64_t)c->cfg->down_alert_minutes * 60,
		    "alert_modem_down", dv, 2);
		/* stored parts the phone will not delete: its storage fills up, and then nothing comes in */
		int64_t failing_for = h->delete_failing_since ? c->now - h->delete_failing_since : 0;
		snprintf(mins, sizeof(mins), "%d", (int)(failing_for / 60));
		struct menu_var xv[] = { { "modem.name", h->name }, { "minutes", mins } };
		alert(c, "modem_delete", h->name,
		    c->cfg->down_alert_minutes > 0 && h->delete_failing_since != 0 &&
		    failing_for >= (int64_t)c->cfg->down_alert_minutes * 60,
		    "alert_modem_delete", xv, 2);
		snprintf(bal, sizeof(bal), "%.2f", h->balance);
		struct menu_var bv[] = { { "modem.name", h->name }, { "modem.balance", bal } };
		alert(c, "balance", h->name, !isnan(h->balance) && h->balance < c->cfg->balance_threshold,
		    "alert_balance", bv, 2);
	}
	/* the database file deleted or replaced under us (store_file_check): the supervisor must restart us */
	alert(c, "database", "file", store_file_check(c->st) < 0, "alert_database_lost", NULL, 0);
	if (c->cfg->outbox_alert > 0 && store_outbox_stats(c->st, c->now, &depth, &oldest) == 0) {
		char count[16];
		snprintf(count, sizeof(count), "%d", depth);
		struct menu_var ov[] = { { "count", count } };
		/* once when it backs up; cleared only when it is down to half, so it does not flap */
		if (depth >= c->cfg->outbox_alert || depth < c->cfg->outbox_alert / 2)
			alert(c, "outbox", "depth", depth >= c->cfg->outbox_alert, "alert_outbox", ov, 1);
	}
}

int maintenance_purge(struct ctx *c, int *n)
{
	*n = 0;
	if (c->cfg->retention_days <= 0)
		return 0;
	if (store_purge_texts(c->st, c->now - (int64_t)c->cfg->retention_days * 86400, n) < 0)
		return -1;
	if (*n > 0)
		log_info("maintenance", "erased the texts of %d message(s) older than %d days (retention.message_days)",
		    *n, c->cfg->retention_days);
	return 0;
}

void maintenance_tick(struct ctx *c)
{
	static int64_t last_flush, last_alerts, last_purge, last_cases, last_broadcast, last_markets, last_check;
	char err[256];
	int n;

	if (last_check == 0)
		last_check = c->now; /* hotlined ran the first quick_check before it started */
	/* a page gone bad on disk is found within a day, not when a villager's message needs it */
	EVERY(86400, last_check, c->now) {
		if (store_quick_check(c->st, err, sizeof(err)) < 0)
			log_errorx("maintenance", "the database %s failed its daily integrity check (PRAGMA quick_check: "
			    "%s): restore it from a backup", c->cfg->db_path, err);
	}

	EVERY(5, last_flush, c->now) {
		if (modem_flush_incomplete(c) < 0)
			log_warnx("maintenance", "could not process incomplete multipart messages; trying again");
	}
	EVERY(5, last_alerts, c->now) {
		check_alerts(c);
	}
	/* broadcasts: their next recipients into the outbox, at the pace the modems up can send */
	EVERY(1, last_broadcast, c->now) {
		struct modem_health mh[CONFIG_MAX_MODEMS];
		size_t nm = health_modems(mh, CONFIG_MAX_MODEMS);
		int up = 0, queued = 0;
		for (size_t i = 0; i < nm && i < CONFIG_MAX_MODEMS; i++)
			up += mh[i].connected;
		if (broadcast_tick(c, up, &queued) < 0)
			log_warnx("maintenance", "broadcasts could not be queued; trying again");
		if (queued > 0)
			outbox_kick();
	}
	/* market-day reminders: a broadcast the day before each market (broadcast_markets) */
	EVERY(60, last_markets, c->now) {
		int made = 0;
		if (broadcast_markets(c, &made) < 0)
			log_warnx("maintenance", "market reminders could not be made; trying again in a minute");
	}
	/* escalation, the morning digest, forms left idle (cases_jobs.c); their own transactions */
	EVERY(60, last_cases, c->now) {
		if (cases_jobs_run(c) < 0)
			log_warnx("maintenance", "case jobs did not all run; trying again in a minute");
	}
	EVERY(3600, last_purge, c->now) {
		if (maintenance_purge(c, &n) < 0)
			log_warnx("maintenance", "could not erase old message texts; trying again in an hour");
	}
}
