/*
 * cases_jobs: what happens to cases with the clock rather than with a
 * message: escalation of requests nobody accepted, the staff's morning
 * digest, and forms left half-filled. cases_jobs_run() (cases.h) is called
 * by the daemon's main loop about once a minute; each job is idempotent, so
 * running it more often, or again after a failure, sends nothing twice.
 */
#include "cases.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cases_int.h"
#include "outbox.h"
#include "log.h"
#include "phone.h"
#include "store_cases.h"
#include "store_modem.h"
#include "store_sessions.h"
#include "tz.h"

#define DIGEST_LATE_S (3 * 3600) /* a digest missed (daemon down) still goes this long after its time */

/* Midnight of the bureau's day (config timezone) that t is in. */
static int64_t day_start(const struct config *cfg, int64_t t, struct tm *tm_out)
{
	int64_t d = tz_day_start(cfg->tz, t);

	if (tm_out)
		tz_civil(cfg->tz, d, tm_out);
	return d;
}

static int64_t overlap(int64_t a0, int64_t a1, int64_t b0, int64_t b1)
{
	int64_t lo = a0 > b0 ? a0 : b0, hi = a1 < b1 ? a1 : b1;

	return hi > lo ? hi - lo : 0;
}

int64_t cases_working_seconds(const struct config *cfg, int64_t from, int64_t to)
{
	const struct time_window *w = &cfg->working_hours;
	int first = 1, last = 5;
	int64_t total = 0;
	struct tm tm;

	if (to <= from || !w->set)
		return 0;
	/* "1-5" (config.c checked the form); 1 = Monday */
	if (sscanf(cfg->working_days, "%d-%d", &first, &last) != 2) {
		first = 1;
		last = 5;
	}
	int64_t day = day_start(cfg, from, &tm);
	while (day < to) {
		int iso = tm.tm_wday == 0 ? 7 : tm.tm_wday;
		struct tm next = tm;
		next.tm_mday++;
		int64_t next_day = tz_from_civil(cfg->tz, &next);
		if (iso >= first && iso <= last) {
			if (w->start <= w->end) {
				total += overlap(from, to, day + w->start * 60, day + w->end * 60);
			} else {
				/* a window over midnight: its evening and its morning */
				total += overlap(from, to, day, day + w->end * 60);
				total += overlap(from, to, day + w->start * 60, next_day);
			}
		}
		day = next_day;
		tz_civil(cfg->tz, next_day, &tm);
	}
	return total;
}

/* ---- escalation ----------------------------------------------------------------------------- */

struct esc {
	struct ctx *c;
	int64_t need;      /* working seconds a request may wait */
	int sent;
	int failed;
};

static int queue_text(struct ctx *c, const char *phone, const char *text_name, const struct menu_var *v, size_t n)
{
	char *text = menu_render(menu_text(c->menu, text_name), v, n);
	int rc = outbox_queue_sms(c, phone, text, NOTIFY_STAFF, 0, NULL, NULL);

	free(text);
	return rc;
}

static int escalate_one(const struct store_case *k, void *arg)
{
	struct esc *e = arg;
	struct ctx *c = e->c;
	const struct staff_cfg *staff = k->staff ? config_staff_by_name(c->cfg, k->staff) : NULL;
	const struct staff_cfg *sup = config_supervisor(c->cfg);
	struct menu_var v[CASES_DETAIL_VARS + 2];
	const char *staff_name, *staff_phone;
	char hours[16];

	if (k->escalated_at > 0 || cases_working_seconds(c->cfg, k->created_at, c->now) < e->need)
		return 0;
	snprintf(hours, sizeof(hours), "%d", c->cfg->escalate_after);
	cases_detail_vars(c, k, v);
	cases_staff_of(c, k->staff, &staff_name, &staff_phone);
	v[CASES_DETAIL_VARS] = (struct menu_var){ "hours", hours };
	v[CASES_DETAIL_VARS + 1] = (struct menu_var){ "case.staff_name", staff_name };
	/* again to whoever has it (unless that is the supervisor, who gets the other text) */
	if (staff && staff != sup && queue_text(c, staff->phone, "staff_reminder", v, CASES_DETAIL_VARS + 1) < 0)
		goto fail;
	if (sup && queue_text(c, sup->phone, "supervisor_escalated", v, ARRAY_LEN(v)) < 0)
		goto fail;
	if (store_case_mark(c->st, k->id, true, staff && staff != sup, c->now) < 0)
		goto fail;
	log_info("cases", "case %s: not accepted within %d working hours; %s%s", k->number, c->cfg->escalate_after,
	    staff && staff != sup ? "sent again to " : "", staff && staff != sup ? staff->name : "");
	if (sup == NULL)
		log_warnx("cases", "case %s: no supervisor in the config to escalate to", k->number);
	e->sent++;
	return 0;
fail:
	e->failed = 1;
	return 1;
}

static int escalate(struct ctx *c, int *sent)
{
	struct store_case_filter f = { 0 };
	struct esc e = { c, (int64_t)c->cfg->escalate_after * 3600, 0, 0 };

	*sent = 0;
	if (c->cfg->escalate_after <= 0)
		return 0;
	f.status = case_status_code(CASE_RECEIVED);
	if (store_case_each(c->st, &f, escalate_one, &e) < 0 || e.failed)
		return -1;
	*sent = e.sent;
	return 0;
}

/* ---- the morning digest ------------------------------------------------------------------------ */

struct tally {
	const struct config *cfg;
	int64_t now;
	const char *staff; /* NULL: every case (the supervisor) */
	int fresh, overdue, waiting;
};

static int count_case(const struct store_case *k, void *arg)
{
	struct tally *t = arg;

	if (t->staff && (k->staff == NULL || strcmp(k->staff, t->staff) != 0))
		return 0;
	if (strcmp(k->status, case_status_code(CASE_RECEIVED)) == 0) {
		t->fresh++;
		if (t->cfg->escalate_after > 0 &&
		    cases_working_seconds(t->cfg, k->created_at, t->now) >= (int64_t)t->cfg->escalate_after * 3600)
			t->overdue++;
	} else {
		t->waiting++;
	}
	return 0;
}

static int digest(struct ctx *c, int *sent)
{
	struct store_case_filter f = { 0 };
	int64_t moment;

	*sent = 0;
	if (c->cfg->digest_hour < 0)
		return 0;
	moment = day_start(c->cfg, c->now, NULL) + (int64_t)c->cfg->digest_hour * 60;
	if (c->now < moment || c->now >= moment + DIGEST_LATE_S)
		return 0;
	f.open_only = true;
	for (size_t i = 0; i < c->cfg->nstaff; i++) {
		const struct staff_cfg *s = &c->cfg->staff[i];
		struct tally t = { c->cfg, c->now, s->role == STAFF_ROLE_SUPERVISOR ? NULL : s->name, 0, 0, 0 };
		char n_all[16], n_new[16], n_over[16], n_wait[16];
		bool fresh = false;

		/*
		 * Once a day: not when one went at or after today's digest time. Marked
		 * before counting, so that the minutes after look no further; someone
		 * with nothing open then gets none today (new cases reach them anyway).
		 */
		if (store_alert_once(c->st, "digest", s->phone, c->now, c->now - moment + 1, &fresh) < 0)
			return -1;
		if (!fresh)
			continue;
		if (store_case_each(c->st, &f, count_case, &t) < 0)
			return -1;
		if (t.fresh + t.waiting == 0)
			continue;
		snprintf(n_all, sizeof(n_all), "%d", t.fresh + t.waiting);
		snprintf(n_new, sizeof(n_new), "%d", t.fresh);
		snprintf(n_over, sizeof(n_over), "%d", t.overdue);
		snprintf(n_wait, sizeof(n_wait), "%d", t.waiting);
		struct menu_var v[] = { { "count", n_all }, { "count.new", n_new }, { "count.overdue", n_over },
			{ "count.waiting", n_wait } };
		if (queue_text(c, s->phone, "staff_digest", v, ARRAY_LEN(v)) < 0)
			return -1;
		(*sent)++;
	}
	if (*sent > 0)
		log_info("cases", "morning digest sent to %d staff member%s", *sent, *sent == 1 ? "" : "s");
	return 0;
}

/* ---- forms left half-filled ---------------------------------------------------------------------- */

struct expiry {
	struct ctx *c;
	int dropped;
	int failed;
};

static int drop_form(struct session *s, void *arg)
{
	struct expiry *e = arg;
	const char *note = menu_text(e->c->menu, "form_expired");
	char who[LOG_PHONE_BUF];

	/*
	 * Back to the menus with the note as the last reply (重复 repeats it);
	 * updated_at stays, so the next message starts afresh as it would have.
	 */
	bool ussd = s->channel == CHANNEL_USSD;

	session_form_reset(s);
	s->page = 0;
	session_set(&s->last_reply, note);
	/* a USSD session is over when its form is dropped; an SMS conversation goes on */
	if ((ussd ? store_session_delete(e->c->st, s->key) : store_session_save(e->c->st, s)) < 0) {
		e->failed = 1;
		return 1;
	}
	/* USSD callers hear from us by SMS only when ussd.sms_copy says so */
	if (phone_is_ordinary(s->phone) && (!ussd || e->c->cfg->ussd_sms_copy) &&
	    outbox_queue_sms(e->c, s->phone, note, NOTIFY_APPLICANT, 0, NULL, NULL) < 0) {
		e->failed = 1;
		return 1;
	}
	log_info("cases", "an unfinished request form from %s was dropped after sessions.timeout",
	    log_phone(s->phone, who, sizeof(who)));
	e->dropped++;
	return 0;
}

static int expire_forms(struct ctx *c, int *dropped)
{
	struct expiry e = { c, 0, 0 };

	*dropped = 0;
	if (store_session_idle_forms(c->st, c->now - c->cfg->session_timeout, drop_form, &e) < 0 || e.failed)
		return -1;
	*dropped = e.dropped;
	return 0;
}

/* ---- the whole -------------------------------------------------------------------------------- */

/* One job in its own transaction; *queued when it queued SMS. */
static int run_job(struct ctx *c, const char *what, int (*job)(struct ctx *c, int *n), bool *queued)
{
	int n = 0;

	if (store_begin(c->st) < 0) {
		log_warnx("cases", "%s: the database is busy; trying again next time", what);
		return -1;
	}
	if (job(c, &n) < 0) {
		store_rollback(c->st);
		log_warnx("cases", "%s failed; trying again next time", what);
		return -1;
	}
	if (store_commit(c->st) < 0) {
		log_warnx("cases", "%s: could not commit; trying again next time", what);
		return -1;
	}
	if (n > 0)
		*queued = true;
	return 0;
}

int cases_jobs_run(struct ctx *c)
{
	bool queued = false;
	int rc = 0;

	if (run_job(c, "escalation", escalate, &queued) < 0)
		rc = -1;
	if (run_job(c, "digest", digest, &queued) < 0)
		rc = -1;
	if (run_job(c, "form expiry", expire_forms, &queued) < 0)
		rc = -1;
	if (queued)
		outbox_kick();
	return rc;
}
