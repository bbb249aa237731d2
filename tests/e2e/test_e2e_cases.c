/*
 * End to end, issue 4 (救助直通车): a real hotlined on Gammu's dummy phone.
 * A villager asks for a home visit by SMS, the staff phone has the request
 * at once, the staff member moves the case by SMS (接, 访, 审, 结), and the
 * applicant and the contact phone get one notification per change; quiet
 * hours hold those, not the staff's; a status query shows only the
 * asker's own case; a staff command from another phone changes nothing; an
 * unaccepted request escalates; `hotlinectl report` counts what happened.
 *
 * Texts are compared with the menus (loaded here from the same config).
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "hl.h"
#include "log.h"
#include "menu.h"
#include "world.h"

#define WAIT_MS 15000

/* as the database keeps them (E.164); the network may write them otherwise (test_identity_forms) */
#define LI "+8613900000002"    /* staff: 白水镇, 寨子街村 */
#define WANG "+8613900000001"  /* staff: 崆峒镇, duty */
#define ZHANG "+8613900000003" /* supervisor */
#define VA "+8613700000001"    /* the applicant */
#define VB "+8613700000002"    /* another villager */
#define KIN "+8613600000009"   /* the contact phone the applicant gives */

struct fx {
	struct hl h;
	struct world *w;
};

static int start(void **state, const char *cases_group)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct diag d;

	char extra[600];

	/* a whole form in a few seconds: no flood limits here (test_e2e_sms tests them) */
	snprintf(extra, sizeof(extra), "%s\nlimits = { poll_interval_ms = 50; retry_initial = 1; retry_max = 2;"
	    " replies_per_minute = 0; replies_per_day = 0; repeat_window = 0; };", cases_group);
	if (f == NULL || hl_setup(&f->h, 1, "cases,limits", extra) < 0 || hl_start(&f->h, NULL) < 0)
		goto fail;
	diag_init(&d);
	f->w = world_load(f->h.cfg, &d);
	if (f->w == NULL)
		diag_print(&d, stderr);
	diag_free(&d);
	if (f->w == NULL)
		goto fail;
	*state = f;
	return 0;
fail:
	if (f) {
		hl_cleanup(&f->h);
		free(f);
	}
	return -1;
}

/* Office hours all week and no quiet hours: the clock of the test machine does not matter. */
static int setup_plain(void **state)
{
	return start(state, "cases = { quiet_hours = \"\"; working_hours = \"00:00-23:59\"; working_days = \"1-7\";"
			    " escalate_after = 4; digest_time = \"\"; };");
}

/* Quiet hours from a minute ago to two hours from now. */
static int setup_quiet(void **state)
{
	time_t now = time(NULL);
	struct tm tm;
	char group[200];

	/* on the bureau's clock (timezone), here UTC whatever the machine's zone */
	gmtime_r(&now, &tm);
	int m = tm.tm_hour * 60 + tm.tm_min, a = (m + 1440 - 1) % 1440, b = (m + 120) % 1440;
	snprintf(group, sizeof(group),
	    "timezone = \"UTC\";\ncases = { quiet_hours = \"%02d:%02d-%02d:%02d\"; digest_time = \"\"; };", a / 60,
	    a % 60, b / 60, b % 60);
	return start(state, group);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	hl_cleanup(&f->h);
	world_release(f->w);
	free(f);
	return 0;
}

/* ---- helpers --------------------------------------------------------------------------------------- */

static const char *text(struct fx *f, const char *name)
{
	const char *t = menu_text(f->w->menu, name);

	assert_non_null(t);
	return t;
}

/* The text with only case.number filled, cut at its next placeholder: how such a message starts. */
static char *lead(struct fx *f, const char *name, const char *number)
{
	struct menu_var v[] = { { "case.number", number } };
	char *r = menu_render(text(f, name), v, 1);

	r[strcspn(r, "{")] = '\0';
	return r;
}

static long long count_kind(struct fx *f, const char *phone, const char *kind)
{
	return hl_int(&f->h, "SELECT count(*) FROM messages WHERE direction = 'out' AND phone_key = '%s' AND kind = '%s'",
	    phone, kind);
}

/*
 * Send text from sender (as the network writes it) and wait for the reply to
 * phone (kind 'reply', phone as stored); returns it (owned) or NULL.
 */
static char *ask_as(struct fx *f, const char *sender, const char *phone, const char *msg)
{
	static int64_t smsc; /* each SMS its own time: "1" then "1" again are two messages, not one read twice */
	long long before = count_kind(f, phone, "reply");
	struct gsm_inject_opts o;

	if (smsc == 0)
		smsc = (int64_t)time(NULL) - 86400;
	gsm_inject_defaults(&o);
	o.smsc_time = smsc++;
	if (hl_sms(&f->h, 0, sender, msg, &o) < 1)
		return NULL;
	if (!hl_wait_count(&f->h, (int)before + 1, WAIT_MS,
	    "SELECT count(*) FROM messages WHERE direction = 'out' AND phone_key = '%s' AND kind = 'reply'", phone)) {
		hl_dump_log(&f->h);
		return NULL;
	}
	return hl_text(&f->h, "SELECT text FROM messages WHERE direction = 'out' AND phone_key = '%s' AND kind = 'reply'"
			      " ORDER BY id DESC LIMIT 1",
	    phone);
}

static char *ask(struct fx *f, const char *phone, const char *msg)
{
	return ask_as(f, phone, phone, msg);
}

/* The home-visit form by SMS; returns the case number (owned). */
static char *request(struct fx *f, const char *phone, const char *place, const char *contact)
{
	const char *steps[] = { "申请上门", "张桂兰", place, "老伴瘫痪在床，想办低保", contact ? contact : "1", "1" };
	char *r = NULL, *number;

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		free(r);
		r = ask(f, phone, steps[i]);
		assert_non_null(r);
	}
	number = hl_text(&f->h, "SELECT number FROM cases WHERE applicant_key = '%s' ORDER BY id DESC LIMIT 1", phone);
	assert_non_null(number);
	/* the reply is case_created with that number */
	struct menu_var v[] = { { "case.number", number } };
	char *want = menu_render(text(f, "case_created"), v, 1);
	assert_string_equal(r, want);
	free(want);
	free(r);
	return number;
}

static char *status_of(struct fx *f, const char *number)
{
	return hl_text(&f->h, "SELECT status FROM cases WHERE number = '%s'", number);
}

static void assert_status(struct fx *f, const char *number, const char *want)
{
	char *s = status_of(f, number);

	assert_non_null(s);
	assert_string_equal(s, want);
	free(s);
}

/* phone got a message of kind starting like text `name` about number, sent by the modem. */
static bool wait_sent(struct fx *f, const char *phone, const char *kind, const char *name, const char *number,
    int want)
{
	char *l = lead(f, name, number);
	bool ok = hl_wait_count(&f->h, want, WAIT_MS,
	    "SELECT count(*) FROM messages WHERE direction = 'out' AND phone_key = '%s' AND kind = '%s'"
	    " AND status = 'sent' AND substr(text, 1, length('%s')) = '%s'",
	    phone, kind, l, l);

	if (!ok)
		hl_dump_log(&f->h);
	free(l);
	return ok;
}

/* ---- the flow ---------------------------------------------------------------------------------------------- */

static void test_request_to_done(void **state)
{
	struct fx *f = *state;
	char *number = request(f, VA, "崆峒镇寨子街村3组", KIN);
	char cmd[80], *r;
	static const struct {
		const char *word, *status;
	} steps[] = { { "接", "assigned" }, { "访", "visited" }, { "审", "reviewing" }, { "结", "done" } };

	/* the staff member for 寨子街村 has the request at once, sent by the modem */
	assert_true(wait_sent(f, LI, "staff", "staff_new_case", number, 1));
	assert_int_equal(count_kind(f, WANG, "staff"), 0);

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		char name[32];
		snprintf(cmd, sizeof(cmd), i == 0 ? "%s %s" : "%s %s 备注", steps[i].word, number);
		r = ask(f, LI, cmd);
		assert_non_null(r);
		assert_non_null(strstr(r, number));
		free(r);
		assert_status(f, number, steps[i].status);
		/* the applicant and the contact phone: one notification each per change */
		snprintf(name, sizeof(name), "notify_%s", steps[i].status);
		assert_true(wait_sent(f, VA, "notify", name, number, 1));
		assert_true(wait_sent(f, KIN, "notify", name, number, 1));
		assert_int_equal(count_kind(f, VA, "notify"), (long long)i + 1);
		assert_int_equal(count_kind(f, KIN, "notify"), (long long)i + 1);

		if (i == 0) {
			/* another phone sending a staff command: menu input, nothing changes */
			long long events = hl_int(&f->h, "SELECT count(*) FROM case_events");
			snprintf(cmd, sizeof(cmd), "结 %s", number);
			r = ask(f, VB, cmd);
			assert_non_null(r);
			assert_null(strstr(r, "张桂兰"));
			free(r);
			r = ask(f, VB, "结 1");
			assert_non_null(r);
			free(r);
			assert_status(f, number, "assigned");
			assert_int_equal(hl_int(&f->h, "SELECT count(*) FROM case_events"), events);
			assert_int_equal(hl_int(&f->h, "SELECT count(*) FROM messages WHERE direction = 'in'"
						       " AND phone_key = '%s' AND node = 'command'", VB), 0);
		}
	}
	/* 已派单 told the applicant who comes and their phone */
	char *n1 = hl_text(&f->h, "SELECT text FROM messages WHERE phone_key = '%s' AND kind = 'notify' ORDER BY id LIMIT 1",
	    VA);
	assert_non_null(strstr(n1, &LI[3])); /* written as people dial it */
	free(n1);

	/* the applicant asks: their own case; the other villager: nothing of it */
	r = ask(f, VA, "查询");
	assert_non_null(r);
	assert_non_null(strstr(r, number));
	assert_non_null(strstr(r, text(f, "label_done")));
	free(r);
	r = ask(f, VB, "我的申请咋样了");
	assert_non_null(r);
	assert_null(strstr(r, number));
	assert_string_equal(r, text(f, "status_none"));
	free(r);

	/* hotlinectl: the report counts it */
	char line[512], cmdline[1200];
	bool done_row = false, requests_row = false;
	snprintf(cmdline, sizeof(cmdline), "%s/hotlinectl -c %s report --format csv",
	    getenv("HOTLINE_BUILD") ? getenv("HOTLINE_BUILD") : "build", f->h.cfg);
	FILE *p = popen(cmdline, "r");
	assert_non_null(p);
	assert_non_null(fgets(line, sizeof(line), p));
	assert_memory_equal(line, "\xEF\xBB\xBF", 3); /* the BOM WPS and Excel need */
	while (fgets(line, sizeof(line), p)) {
		if (strstr(line, ",已办结,1\r\n"))
			done_row = true;
		if (strncmp(line, "上门帮办请求,,1\r\n", strlen("上门帮办请求,,1\r\n")) == 0)
			requests_row = true;
	}
	assert_int_equal(pclose(p), 0);
	assert_true(done_row);
	assert_true(requests_row);
	free(number);
}

/* The applicant withdraws; someone else's 撤销 changes nothing. */
static void test_withdraw(void **state)
{
	struct fx *f = *state;
	char *number = request(f, VA, "白水镇王家村", NULL);
	char cmd[80], *r;

	snprintf(cmd, sizeof(cmd), "撤销 %s", number);
	r = ask(f, VB, cmd);
	assert_non_null(r);
	assert_null(strstr(r, number));
	assert_int_equal(hl_int(&f->h, "SELECT count(*) FROM messages WHERE direction = 'in' AND phone_key = '%s'"
				       " AND node = 'command'", VB), 1);
	free(r);
	assert_status(f, number, "received");
	r = ask(f, VA, cmd);
	assert_non_null(r);
	struct menu_var v[] = { { "case.number", number } };
	char *want = menu_render(text(f, "withdraw_done"), v, 1);
	assert_string_equal(r, want);
	free(want);
	free(r);
	assert_status(f, number, "withdrawn");
	/* the staff member need not go */
	assert_true(wait_sent(f, LI, "staff", "staff_case_withdrawn", number, 1));
	free(number);
}

/*
 * A number keeps its country (issue 11.1): the staff's and the applicant's
 * numbers under +1 or +44 are strangers (no staff command, no case to see or
 * withdraw); the same numbers written 0086..., 86..., or in full-width digits
 * are the same people.
 */
static void test_identity_forms(void **state)
{
	struct fx *f = *state;
	char *number = request(f, VA, "崆峒镇寨子街村3组", NULL);
	char cmd[80], *r;
	long long events;

	assert_true(wait_sent(f, LI, "staff", "staff_new_case", number, 1));
	events = hl_int(&f->h, "SELECT count(*) FROM case_events");

	/* LI's digits in another country: a stranger to the staff commands */
	static const struct {
		const char *sender, *key;
	} strangers[] = { { "+13900000002", "+13900000002" }, { "+4413900000002", "+4413900000002" } };
	for (size_t i = 0; i < sizeof(strangers) / sizeof(strangers[0]); i++) {
		r = ask_as(f, strangers[i].sender, strangers[i].key, "列表");
		assert_non_null(r);
		assert_null(strstr(r, number));
		free(r);
		snprintf(cmd, sizeof(cmd), "查 %s", number);
		r = ask_as(f, strangers[i].sender, strangers[i].key, cmd);
		assert_non_null(r);
		assert_null(strstr(r, "张桂兰"));
		assert_null(strstr(r, "寨子街村"));
		free(r);
		snprintf(cmd, sizeof(cmd), "接 %s", number);
		r = ask_as(f, strangers[i].sender, strangers[i].key, cmd);
		assert_non_null(r);
		free(r);
		assert_int_equal(hl_int(&f->h, "SELECT count(*) FROM messages WHERE direction = 'in'"
					       " AND phone_key = '%s' AND node = 'command'", strangers[i].key), 0);
	}
	/* VA's digits in another country: not the applicant */
	static const char *const not_va[] = { "+13700000001", "+4413700000001" };
	for (size_t i = 0; i < sizeof(not_va) / sizeof(not_va[0]); i++) {
		r = ask_as(f, not_va[i], not_va[i], "查询");
		assert_non_null(r);
		assert_null(strstr(r, number));
		assert_string_equal(r, text(f, "status_none"));
		free(r);
		snprintf(cmd, sizeof(cmd), "撤销 %s", number);
		r = ask_as(f, not_va[i], not_va[i], cmd);
		assert_non_null(r);
		assert_null(strstr(r, number));
		free(r);
	}
	assert_status(f, number, "received");
	assert_int_equal(hl_int(&f->h, "SELECT count(*) FROM case_events"), events);
	assert_int_equal(hl_int(&f->h, "SELECT count(*) FROM cases WHERE applicant_key <> '%s'", VA), 0);

	/* the real numbers, however the network writes them */
	r = ask_as(f, "008613900000002", LI, "列表");
	assert_non_null(r);
	assert_non_null(strstr(r, number));
	free(r);
	snprintf(cmd, sizeof(cmd), "查 %s", number);
	r = ask_as(f, "8613900000002", LI, cmd);
	assert_non_null(r);
	assert_non_null(strstr(r, "寨子街村"));
	free(r);
	r = ask_as(f, "１３９０００００００２", LI, "列表");
	assert_non_null(r);
	assert_non_null(strstr(r, number));
	free(r);
	r = ask_as(f, "00８６１３７０００００００１", VA, "查询");
	assert_non_null(r);
	assert_non_null(strstr(r, number));
	free(r);
	snprintf(cmd, sizeof(cmd), "撤销 %s", number);
	r = ask_as(f, "8613700000001", VA, cmd);
	assert_non_null(r);
	struct menu_var v[] = { { "case.number", number } };
	char *want = menu_render(text(f, "withdraw_done"), v, 1);
	assert_string_equal(r, want);
	free(want);
	free(r);
	assert_status(f, number, "withdrawn");
	/* only normalised numbers were stored */
	assert_int_equal(hl_int(&f->h, "SELECT count(*) FROM messages WHERE phone NOT LIKE '+%%' OR phone <> phone_key"), 0);
	free(number);
}

/* Quiet hours hold the applicant's notifications; the staff's messages go at once. */
static void test_quiet_hours(void **state)
{
	struct fx *f = *state;
	char *number = request(f, VA, "白水镇王家村", NULL);
	char cmd[80], *r;

	assert_true(wait_sent(f, LI, "staff", "staff_new_case", number, 1));
	snprintf(cmd, sizeof(cmd), "接%s", number);
	r = ask(f, LI, cmd);
	assert_non_null(r);
	free(r);
	/* the staff's reply was sent; the notification is queued for the end of quiet hours */
	assert_true(hl_wait_count(&f->h, 1, WAIT_MS,
	    "SELECT count(*) FROM messages WHERE phone_key = '%s' AND kind = 'reply' AND status = 'sent'"
	    " AND text LIKE '%%%s%%'",
	    LI, number));
	assert_int_equal(count_kind(f, VA, "notify"), 1);
	assert_int_equal(hl_int(&f->h, "SELECT count(*) FROM messages m JOIN outbox o ON o.message_id = m.id"
				       " WHERE m.phone_key = '%s' AND m.kind = 'notify' AND m.status = 'queued'"
				       " AND o.not_before > m.created_at + 60",
			     VA),
	    1);
	free(number);
}

/* Unaccepted past cases.escalate_after working hours: sent again, and the supervisor is told. */
static void test_escalation(void **state)
{
	struct fx *f = *state;
	char *number = request(f, VA, "白水镇王家村", NULL);

	assert_true(wait_sent(f, LI, "staff", "staff_new_case", number, 1));
	assert_int_equal(count_kind(f, ZHANG, "staff"), 0);
	/* the request is made five hours old, with the daemon stopped */
	assert_int_equal(hl_stop(&f->h, SIGTERM, 10000), 0);
	assert_int_equal(hl_int(&f->h, "UPDATE cases SET created_at = created_at - 5 * 3600 WHERE number = '%s'", number),
	    0);
	assert_int_equal(hl_start(&f->h, NULL), 0);
	assert_true(wait_sent(f, ZHANG, "staff", "supervisor_escalated", number, 1));
	assert_true(wait_sent(f, LI, "staff", "staff_reminder", number, 1));
	assert_true(hl_int(&f->h, "SELECT escalated_at FROM cases WHERE number = '%s'", number) > 0);
	assert_status(f, number, "received");
	/* accepted now: the supervisor's escalation went once, the applicant hears of 接 once */
	char cmd[80], *r;
	snprintf(cmd, sizeof(cmd), "接 %s", number);
	r = ask(f, LI, cmd);
	assert_non_null(r);
	free(r);
	assert_status(f, number, "assigned");
	assert_int_equal(count_kind(f, ZHANG, "staff"), 1);
	assert_int_equal(count_kind(f, VA, "notify"), 1);
	free(number);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_request_to_done, setup_plain, teardown),
		cmocka_unit_test_setup_teardown(test_withdraw, setup_plain, teardown),
		cmocka_unit_test_setup_teardown(test_identity_forms, setup_plain, teardown),
		cmocka_unit_test_setup_teardown(test_quiet_hours, setup_quiet, teardown),
		cmocka_unit_test_setup_teardown(test_escalation, setup_plain, teardown),
	};

	log_init(LOG_LVL_WARN, true);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
