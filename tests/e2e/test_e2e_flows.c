/*
 * Flows as people use them (issue 13), end to end on Gammu's dummy phone and
 * the shipped menus: every menu page and the forms walked at a person's pace
 * under the shipped reply limits, a resend answered, 上门 starting the form,
 * help in the form for someone who cannot type, and the README's
 * walk-throughs replayed against `make run`'s configuration.
 *
 * "A person's pace" is 2 s between messages on a test clock (hl_use_clock):
 * the daemon sees the time move, the suite does not wait for it.
 */
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "hl.h"
#include "menu.h"
#include "util.h"

#define WAIT_MS 15000
#define PACE 2 /* seconds between two messages of one person */

/* 2026-12-02 16:30 in Beijing (08:30 UTC): daytime on either clock, out of quiet hours. */
#define DAYTIME 1796200200

static int replies_of(struct hl *h, const char *phone)
{
	return (int)hl_int(h, "SELECT count(*) FROM messages WHERE direction = 'out' AND phone_key = '+86%s' AND kind = 'reply'",
	    phone);
}

/*
 * One message from phone, PACE seconds after the one before; returns the
 * answer (caller frees), failing the test when there is none.
 */
static char *say(struct hl *h, const char *phone, const char *text)
{
	int before = replies_of(h, phone);
	char *r;

	assert_int_equal(hl_advance(h, PACE), 0);
	assert_int_equal(hl_sms_now(h, 0, phone, text), 1);
	if (!hl_wait_count(h, before + 1, WAIT_MS,
		"SELECT count(*) FROM messages WHERE direction = 'out' AND phone_key = '+86%s' AND kind = 'reply'", phone)) {
		hl_dump_log(h);
		fail_msg("%s sent \"%s\" and got no answer", phone, text);
	}
	r = hl_text(h, "SELECT text FROM messages WHERE direction = 'out' AND phone_key = '+86%s' AND kind = 'reply'"
		       " ORDER BY id DESC LIMIT 1", phone);
	assert_non_null(r);
	return r;
}

static void say_free(struct hl *h, const char *phone, const char *text)
{
	free(say(h, phone, text));
}

static int start(struct hl *h, const char *replace, const char *extra)
{
	if (hl_setup(h, 1, replace, extra) < 0 || hl_use_clock(h, DAYTIME) < 0 || hl_start(h, NULL) < 0)
		return -1;
	return 0;
}

/* ---- 1: the limits never stop a person answering our questions ------------------------------------ */

/* The digits that lead from the main menu to node idx, or false when it is reached by words only. */
static bool digit_path(const struct menu *m, int idx, char *out, size_t outlen)
{
	char rev[16];
	size_t n = 0;

	while (idx != menu_root(m)) {
		const struct menu_node *node = menu_node_at(m, idx);
		int parent = node->parent, d;
		if (parent < 0 || n >= sizeof(rev))
			return false;
		for (d = 1; d < MENU_DIGITS; d++)
			if (menu_node_at(m, parent)->options[d] == idx)
				break;
		if (d == MENU_DIGITS)
			return false;
		rev[n++] = (char)('0' + d);
		idx = parent;
	}
	if (n + 1 > outlen)
		return false;
	for (size_t i = 0; i < n; i++)
		out[i] = rev[n - 1 - i];
	out[n] = '\0';
	return true;
}

/*
 * Every page of every menu node reached by digits, and the home-visit form
 * twice (by the menu and by 上门), from one phone at one message per 2 s,
 * under the shipped limits (6 replies a minute, 60 a day): every message is
 * answered, nothing is limited, no notice, and both requests are made.
 */
static void test_walk_everything_at_human_pace(void **state)
{
	struct hl h;
	struct world *w;
	const char *phone = "13700000501";
	int walked = 0;
	char path[16];

	(void)state;
	assert_int_equal(start(&h, NULL, NULL), 0);
	w = hl_load_world(h.cfg);
	assert_non_null(w);
	say_free(&h, phone, "菜单");
	for (size_t i = 0; i < menu_count(w->menu); i++) {
		const struct menu_node *n = menu_node_at(w->menu, (int)i);
		if ((int)i == menu_root(w->menu) || !digit_path(w->menu, (int)i, path, sizeof(path)))
			continue;
		say_free(&h, phone, "00");
		for (const char *p = path; *p; p++) {
			char d[2] = { *p, '\0' };
			say_free(&h, phone, d);
		}
		for (size_t pg = 1; pg < n->npages; pg++)
			say_free(&h, phone, "9");
		walked++;
	}
	assert_true(walked >= 20);
	/* the form through the menu: 6, 1, name, address, need, 1 (this phone), 1 (confirm) */
	say_free(&h, phone, "00");
	say_free(&h, phone, "6");
	say_free(&h, phone, "1");
	say_free(&h, phone, "张桂兰");
	say_free(&h, phone, "崆峒镇东关村5组");
	say_free(&h, phone, "老伴瘫痪在床，想办低保");
	say_free(&h, phone, "1");
	char *done = say(&h, phone, "1");
	assert_non_null(strstr(done, "上门请求已提交"));
	free(done);
	/* and by 上门 */
	say_free(&h, phone, "上门");
	say_free(&h, phone, "李大山");
	say_free(&h, phone, "白水镇寨子街村3组");
	say_free(&h, phone, "想问问临时救助");
	say_free(&h, phone, "1");
	done = say(&h, phone, "1");
	assert_non_null(strstr(done, "上门请求已提交"));
	free(done);
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM cases WHERE applicant_key = '+86%s' AND topic = 'zhitongche.apply'",
			     phone), 2);
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM messages WHERE direction = 'in' AND phone_key = '+86%s'"
				    " AND status <> 'answered'", phone), 0);
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM messages WHERE kind = 'notice' AND phone_key = '+86%s'", phone), 0);
	world_release(w);
	hl_cleanup(&h);
}

/* ---- 2: a resend is answered ----------------------------------------------------------------------- */

static void test_resend_answered(void **state)
{
	struct hl h;
	const char *phone = "13700000502";
	char *a, *b;

	(void)state;
	assert_int_equal(start(&h, NULL, NULL), 0);
	a = say(&h, phone, "低保");
	b = say(&h, phone, "低保"); /* did not see the answer: sends it again */
	assert_string_equal(a, b);
	free(a);
	free(b);
	hl_cleanup(&h);
}

/* ---- 3: two identical texts in the same second are two messages ------------------------------------------ */

static void test_same_text_same_second(void **state)
{
	struct hl h;
	const char *phone = "13700000511";
	struct gsm_inject_opts o;

	(void)state;
	assert_int_equal(start(&h, NULL, NULL), 0);
	say_free(&h, phone, "上门");
	say_free(&h, phone, "张桂兰");
	say_free(&h, phone, "崆峒镇东关村5组");
	say_free(&h, phone, "想办低保");
	/* the README's 1 (this phone) then 1 (confirm), both stamped the same second by the SMSC */
	gsm_inject_defaults(&o);
	o.smsc_time = hl_now(&h);
	assert_int_equal(hl_sms(&h, 0, phone, "1", &o), 1);
	assert_int_equal(hl_sms(&h, 0, phone, "1", &o), 1);
	assert_true(hl_wait_count(&h, 1, WAIT_MS, "SELECT count(*) FROM cases WHERE applicant_key = '+86%s'", phone));
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM messages WHERE direction = 'in' AND phone_key = '+86%s'"
				    " AND text = '1'", phone), 2);
	/* and once those are deleted from the phone, the same text in that same second again is new too */
	assert_int_equal(hl_sms(&h, 0, phone, "1", &o), 1);
	assert_true(hl_wait_count(&h, 3, WAIT_MS, "SELECT count(*) FROM messages WHERE direction = 'in'"
						  " AND phone_key = '+86%s' AND text = '1'", phone));
	hl_cleanup(&h);
}

/* ---- 4 and 5: 上门 starts the form; help in the form for someone who cannot type --------------------------- */

static void test_shangmen_starts_form(void **state)
{
	struct hl h;
	static const char *const words[] = { "上门", "申请上门", "来人", "能上门吗" };
	char phone[16], *r;

	(void)state;
	assert_int_equal(start(&h, NULL, NULL), 0);
	for (size_t i = 0; i < ARRAY_LEN(words); i++) {
		snprintf(phone, sizeof(phone), "1370000052%zu", i);
		r = say(&h, phone, words[i]);
		/* step 1 at once, with help for those who cannot type */
		assert_non_null(strstr(r, "第1步"));
		assert_non_null(strstr(r, "不会打字？回复9我们打电话给您"));
		free(r);
		r = say(&h, phone, "张桂兰");
		assert_non_null(strstr(r, "第2步"));
		free(r);
	}
	/* the information page stays on the menu: 6 */
	r = say(&h, "13700000529", "6");
	assert_non_null(strstr(r, "救助直通车："));
	free(r);
	hl_cleanup(&h);
}

static void test_form_help_for_who_cannot_type(void **state)
{
	struct hl h;
	/* the name step: 人工, 不会打字, 9; the address step: 人工 */
	static const char *const name_step[] = { "人工", "不会打字", "9" };
	char phone[16], *r;

	(void)state;
	assert_int_equal(start(&h, NULL, NULL), 0);
	for (size_t i = 0; i < ARRAY_LEN(name_step) + 1; i++) {
		snprintf(phone, sizeof(phone), "1370000053%zu", i);
		say_free(&h, phone, "上门");
		if (i == ARRAY_LEN(name_step))
			say_free(&h, phone, "张桂兰");
		r = say(&h, phone, i < ARRAY_LEN(name_step) ? name_step[i] : "人工");
		/* a call-back request with its number, not a name */
		assert_non_null(strstr(r, "已记下，编号"));
		free(r);
		assert_int_equal(hl_int(&h, "SELECT count(*) FROM cases WHERE applicant_key = '+86%s' AND topic = 'human'", phone),
		    1);
		assert_int_equal(hl_int(&h, "SELECT count(*) FROM cases WHERE applicant_key = '+86%s' AND topic <> 'human'", phone),
		    0);
	}
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM cases WHERE name IN ('人工', '不会打字', '9')"), 0);
	hl_cleanup(&h);
}

/* ---- USSD: 7 to 10 -------------------------------------------------------------------------------------- */

/* Percent-encode everything but unreserved characters and '*'. */
static void url_encode(struct buf *b, const char *t)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)t; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		    *p == '_' || *p == '.' || *p == '~' || *p == '*') {
			buf_addc(b, (char)*p);
		} else {
			buf_addc(b, '%');
			buf_addc(b, hex[*p >> 4]);
			buf_addc(b, hex[*p & 15]);
		}
	}
}

/* One aggregator step, PACE seconds after the one before; returns the body (caller frees). */
static char *ussd(struct hl *h, const char *sid, const char *phone, const char *text)
{
	struct buf body = { 0 };
	char path[128];
	int status = 0;
	char *out;

	assert_int_equal(hl_advance(h, PACE), 0);
	buf_printf(&body, "sessionId=%s&serviceCode=%%2A123%%23&phoneNumber=%s&networkCode=46000&text=", sid, phone);
	url_encode(&body, text);
	snprintf(path, sizeof(path), "/ussd/%s", h->secret);
	out = hl_http(h, "POST", path, buf_str(&body), NULL, &status);
	buf_free(&body);
	if (status != 200 || out == NULL) {
		hl_dump_log(h);
		fail_msg("POST %s text=%s: HTTP %d %s", path, text, status, out ? out : "(no body)");
	}
	return out;
}

/* 7: after minutes without USSD traffic, a new session's first step is stored at its own time. */
static void test_ussd_step_timed_when_it_happens(void **state)
{
	struct hl h;
	int64_t t;

	(void)state;
	assert_int_equal(start(&h, NULL, NULL), 0);
	free(ussd(&h, "quiet1", "13700000601", ""));
	assert_int_equal(hl_advance(&h, 200), 0); /* nobody dials for 200 s (ussd.timeout is 180) */
	free(ussd(&h, "quiet2", "13700000602", ""));
	t = hl_now(&h);
	assert_true(hl_int(&h, "SELECT max(created_at) FROM messages WHERE session = 'quiet2'") >= t - 1);
	free(ussd(&h, "quiet2", "13700000602", "1"));
	/* the session is the one just started, not an expired one */
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM messages WHERE session = 'quiet2' AND direction = 'in'"
				    " AND node = 'dibao'"), 1);
	assert_true(hl_int(&h, "SELECT min(created_at) FROM messages WHERE session = 'quiet2'") >= t - 1);
	hl_cleanup(&h);
}

/* 8: *123*6*1# arrives as text=6*1 in a new session: 6, then 1 (the form's first step). */
static void test_ussd_dial_string_inputs(void **state)
{
	struct hl h;
	char *a;

	(void)state;
	assert_int_equal(start(&h, NULL, NULL), 0);
	a = ussd(&h, "dial1", "13700000611", "6*1");
	assert_true(str_startswith(a, "CON "));
	assert_non_null(strstr(a, "第1步"));
	free(a);
	a = ussd(&h, "dial1", "13700000611", "6*1*张桂兰");
	assert_non_null(strstr(a, "第2步"));
	free(a);
	a = ussd(&h, "dial2", "13700000612", "1*2");
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM messages WHERE session = 'dial2' AND direction = 'in'"
				    " AND node = 'dibao.amount'"), 1);
	free(a);
	hl_cleanup(&h);
}

/* 9: the final step sent again gets the same END; a step after END starts nothing. */
static void test_ussd_retry_same_answer(void **state)
{
	struct hl h;
	const char *steps[] = { "", "6", "6*1", "6*1*张桂兰", "6*1*张桂兰*崆峒镇寨子街村3组", "6*1*张桂兰*崆峒镇寨子街村3组*想办低保",
		"6*1*张桂兰*崆峒镇寨子街村3组*想办低保*1" };
	const char *confirm = "6*1*张桂兰*崆峒镇寨子街村3组*想办低保*1*1";
	char *first, *again, *after;

	(void)state;
	assert_int_equal(start(&h, "ussd", "ussd = { secret = \"test-secret\"; sms_copy = false; };"), 0);
	for (size_t i = 0; i < ARRAY_LEN(steps); i++)
		free(ussd(&h, "retry1", "13700000621", steps[i]));
	first = ussd(&h, "retry1", "13700000621", confirm);
	assert_true(str_startswith(first, "END "));
	again = ussd(&h, "retry1", "13700000621", confirm);
	assert_string_equal(again, first);
	after = ussd(&h, "retry1", "13700000621", "6*1*张桂兰*崆峒镇寨子街村3组*想办低保*1*1*1");
	assert_string_equal(after, first);
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM cases WHERE applicant_key = '+8613700000621'"), 1);
	free(first);
	free(again);
	free(after);
	hl_cleanup(&h);
}

/* 6: USSD speaks USSD: no 短信, no 回复 after END, 98 pages on everywhere, no 0返回 on the main menu. */
static void test_ussd_wording(void **state)
{
	struct hl h;
	const char *form[] = { "", "6", "6*1", "6*1*张桂兰", "6*1*张桂兰*崆峒镇寨子街村3组", "6*1*张桂兰*崆峒镇寨子街村3组*想办低保",
		"6*1*张桂兰*崆峒镇寨子街村3组*想办低保*1" };
	char *a, text[256];
	int pages_seen = 0;

	(void)state;
	assert_int_equal(start(&h, "ussd", "ussd = { secret = \"test-secret\"; sms_copy = false; };"), 0);
	a = ussd(&h, "word1", "13700000641", "");
	assert_null(strstr(a, "0返回"));
	free(a);
	for (size_t i = 1; i < ARRAY_LEN(form); i++)
		free(ussd(&h, "word1", "13700000641", form[i]));
	a = ussd(&h, "word1", "13700000641", "6*1*张桂兰*崆峒镇寨子街村3组*想办低保*1*1");
	assert_true(str_startswith(a, "END "));
	assert_non_null(strstr(a, "上门请求已提交"));
	assert_null(strstr(a, "回复"));
	assert_null(strstr(a, "短信"));
	free(a);
	/* a wrong digit: no "上一条短信" */
	free(ussd(&h, "word2", "13700000642", ""));
	a = ussd(&h, "word2", "13700000642", "99");
	assert_null(strstr(a, "短信"));
	free(a);
	/* a suggestion: asked for without 短信, thanked without 回复 */
	a = ussd(&h, "word3", "13700000643", "8");
	if (strstr(a, "意见")) {
		assert_null(strstr(a, "短信"));
		free(a);
		a = ussd(&h, "word3", "13700000643", "8*村里的路灯坏了好久了");
		assert_true(str_startswith(a, "END "));
		assert_null(strstr(a, "回复"));
	}
	free(a);
	/* 1 低保, 2 能领多少钱: 98 goes through every screen of every page, never "没有这个数字选项" */
	free(ussd(&h, "word4", "13700000644", "1"));
	a = ussd(&h, "word4", "13700000644", "1*2");
	assert_null(strstr(a, "回复9下一页"));
	snprintf(text, sizeof(text), "1*2");
	for (int i = 0; i < 12; i++) {
		free(a);
		if (strlen(text) + 4 >= sizeof(text))
			break;
		strcat(text, "*98");
		a = ussd(&h, "word4", "13700000644", text);
		assert_null(strstr(a, "没有这个数字选项"));
		assert_null(strstr(a, "回复9下一页"));
		if (hl_int(&h, "SELECT page FROM sessions WHERE key LIKE 'ussd:word4 %%'") > 0) {
			pages_seen = 1; /* past the first page's screens, on to its next page */
			break;
		}
	}
	free(a);
	assert_int_equal(pages_seen, 1);
	hl_cleanup(&h);
}

static bool session_gone(struct hl *h, void *arg)
{
	return hl_int(h, "SELECT count(*) FROM sessions WHERE key LIKE 'ussd:%s %%'", (const char *)arg) == 0;
}

/*
 * 10: a USSD form left half-filled sends no SMS unless ussd.sms_copy asks,
 * whatever other USSD traffic comes meanwhile.
 */
static void test_ussd_abandoned_form(void **state)
{
	for (int copy = 0; copy < 2; copy++) {
		struct hl h;
		char extra[160];

		(void)state;
		snprintf(extra, sizeof(extra), "ussd = { secret = \"test-secret\"; sms_copy = %s; };", copy ? "true" : "false");
		assert_int_equal(start(&h, "ussd", extra), 0);
		free(ussd(&h, "left1", "13700000631", "6*1"));
		free(ussd(&h, "left1", "13700000631", "6*1*张桂兰"));
		/* other callers keep the server busy (the idle sessions' purge runs) */
		assert_int_equal(hl_advance(&h, 400), 0);
		free(ussd(&h, "busy1", "13700000632", ""));
		assert_int_equal(hl_advance(&h, 1800), 0);
		free(ussd(&h, "busy2", "13700000633", ""));
		assert_true(hl_wait(WAIT_MS, session_gone, &h, (void *)"left1"));
		if (copy)
			assert_true(hl_wait_count(&h, 1, WAIT_MS, "SELECT count(*) FROM messages WHERE channel = 'sms'"
								  " AND phone_key = '+8613700000631' AND kind = 'notify'"));
		else
			assert_int_equal(hl_int(&h, "SELECT count(*) FROM messages WHERE channel = 'sms'"
						    " AND phone_key = '+8613700000631'"), 0);
		hl_cleanup(&h);
	}
}

/* ---- 13 and 14: staff commands in traditional forms; the supervisor's list --------------------------------- */

static void test_staff_traditional_and_list(void **state)
{
	struct hl h;
	char *r;

	(void)state;
	assert_int_equal(start(&h, NULL, NULL), 0);
	say_free(&h, "13700000701", "上门");
	say_free(&h, "13700000701", "张桂兰");
	say_free(&h, "13700000701", "崆峒镇东关村5组");
	say_free(&h, "13700000701", "想办低保");
	say_free(&h, "13700000701", "1");
	say_free(&h, "13700000701", "1");
	say_free(&h, "13700000702", "人工"); /* a call-back request: no name, no place */
	/* the supervisor's list: number, status, name or phone, place; no comma at the end of a line */
	r = say(&h, "13900000003", "列表");
	assert_non_null(strstr(r, "张桂兰，崆峒镇东关村5组"));
	assert_non_null(strstr(r, "13700000702"));
	assert_null(strstr(r, "，\n"));
	assert_false(strlen(r) >= 3 && strcmp(r + strlen(r) - 3, "，") == 0);
	free(r);
	/* 接, then 訪 審 結 as a phone set to traditional characters writes them */
	say_free(&h, "13900000001", "接 1");
	say_free(&h, "13900000001", "訪 1 見到本人");
	say_free(&h, "13900000001", "審 1");
	r = say(&h, "13900000001", "結 1");
	free(r);
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM cases WHERE applicant_key = '+8613700000701' AND status = 'done'"), 1);
	hl_cleanup(&h);
}

/* ---- 18: a new database is created, not migrated ---------------------------------------------------- */

static void test_new_database_one_line(void **state)
{
	struct hl h;

	(void)state;
	assert_int_equal(start(&h, NULL, NULL), 0);
	assert_false(hl_log_has(&h, "migrated"));
	assert_int_equal(hl_log_count(&h, "at schema version"), 1);
	assert_true(hl_log_has(&h, "created "));
	hl_cleanup(&h);
}

/* ---- the README's walk-throughs, on make run's configuration ------------------------------------------ */

/*
 * Run build/hotlinectl -c cfg args...; *status gets its exit status (-1 when
 * killed after 10 s); returns stdout, and stderr after it when both_streams.
 */
static char *ctl_run(struct hl *h, const char *const *args, bool both_streams, int *status)
{
	char bin[512], *out = NULL;
	const char *argv[16];
	int fds[2], argc = 0, st = 0;
	size_t len = 0;
	pid_t pid;
	int64_t deadline = mono_ms() + 10000;

	snprintf(bin, sizeof(bin), "%s/hotlinectl", getenv("HOTLINE_BUILD") ? getenv("HOTLINE_BUILD") : "build");
	argv[argc++] = bin;
	argv[argc++] = "-c";
	argv[argc++] = h->cfg;
	for (; *args && argc < 15; args++)
		argv[argc++] = *args;
	argv[argc] = NULL;
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		if (both_streams)
			dup2(fds[1], STDERR_FILENO);
		close(fds[0]);
		close(fds[1]);
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	close(fds[1]);
	for (;;) {
		char chunk[4096];
		struct pollfd p = { fds[0], POLLIN, 0 };
		int left = (int)(deadline - mono_ms());
		if (left <= 0 || poll(&p, 1, left) <= 0)
			break;
		ssize_t n = read(fds[0], chunk, sizeof(chunk));
		if (n <= 0)
			break;
		out = realloc(out, len + (size_t)n + 1);
		memcpy(out + len, chunk, (size_t)n);
		len += (size_t)n;
		out[len] = '\0';
	}
	close(fds[0]);
	while (waitpid(pid, &st, WNOHANG) == 0) {
		if (mono_ms() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			*status = -1;
			return out ? out : strdup("");
		}
		poll(NULL, 0, 20);
	}
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return out ? out : strdup("");
}

/* The same, asserting exit 0; stdout only. */
static char *ctl(struct hl *h, const char *const *args)
{
	int status = -1;
	char *out = ctl_run(h, args, false, &status);

	if (status != 0)
		fail_msg("hotlinectl %s exited %d", args[0], status);
	return out;
}

/* A run expected to fail with `want` status and to say `says` (stdout and stderr together). */
static void ctl_refuses(struct hl *h, const char *const *args, int want, const char *says)
{
	int status = -1;
	char *out = ctl_run(h, args, true, &status);

	if (status != want || strstr(out, says) == NULL)
		fail_msg("hotlinectl %s %s: exit %d (wanted %d), said: %s", args[0], args[1] ? args[1] : "", status, want, out);
	free(out);
}

/* README "A message, round trip" and "救助直通车: a home visit, from request to done", at 2 s a message. */
static void test_readme_sms_walkthroughs(void **state)
{
	struct hl h;
	char *r, *number;

	(void)state;
	assert_int_equal(hl_setup_shipped(&h), 0);
	assert_int_equal(hl_use_clock(&h, DAYTIME), 0);
	assert_int_equal(hl_start(&h, NULL), 0);

	/* a message, round trip */
	r = say(&h, "13800000001", "我想问问低保咋申请");
	assert_true(str_startswith(r, "低保咋申请："));
	free(r);
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM messages WHERE phone_key = '+8613800000001' AND direction = 'in'"
				    " AND status = 'answered' AND node = 'dibao.apply'"), 1);

	/* the home visit, one message at a time */
	say_free(&h, "13700000001", "申请上门");
	say_free(&h, "13700000001", "张桂兰");
	say_free(&h, "13700000001", "崆峒镇东关村5组");
	say_free(&h, "13700000001", "老伴瘫痪在床，想办低保");
	say_free(&h, "13700000001", "1");
	r = say(&h, "13700000001", "1");
	assert_true(str_startswith(r, "上门请求已提交，编号2026-0001"));
	free(r);
	{
		/* messages --phone 13700000001 --limit 1: the confirmation, as the README shows */
		static const char *const last[] = { "messages", "--phone", "13700000001", "--limit", "1", NULL };
		char *out = ctl(&h, last);
		assert_non_null(strstr(out, "上门请求已提交，编号2026-0001"));
		assert_true(strchr(out, '\n') == out + strlen(out) - 1); /* one line */
		free(out);
	}
	/* the staff member's alert, at once */
	assert_true(hl_wait_count(&h, 1, WAIT_MS, "SELECT count(*) FROM messages WHERE phone_key = '+8615400000001'"
						  " AND kind = 'staff' AND text LIKE '%%2026-0001%%'"));
	number = hl_text(&h, "SELECT number FROM cases WHERE applicant_key = '+8613700000001'");
	assert_string_equal(number, "2026-0001");
	free(number);

	/* staff answer by SMS */
	say_free(&h, "15400000001", "接 2026-0001");
	assert_true(hl_wait_count(&h, 1, WAIT_MS, "SELECT count(*) FROM messages WHERE phone_key = '+8613700000001'"
						  " AND kind = 'notify' AND text LIKE '您的请求2026-0001%%已派单，由演示甲负责%%'"));
	say_free(&h, "15400000001", "访 1 见到本人");
	say_free(&h, "15400000001", "审 1");
	say_free(&h, "15400000001", "结 1");
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM cases WHERE number = '2026-0001' AND status = 'done'"), 1);
	assert_true(hl_wait_count(&h, 4, WAIT_MS, "SELECT count(*) FROM messages WHERE phone_key = '+8613700000001'"
						  " AND kind = 'notify'"));

	/* in the office: the commands as the README writes them */
	{
		static const char *const list[] = { "cases", "list", NULL };
		static const char *const show[] = { "cases", "show", "2026-0001", NULL };
		static const char *const fb[] = { "feedback", "list", NULL };
		static const char *const rep[] = { "report", "--from", "2026-01-01", "--to", "2026-12-31", "--format", "csv",
			NULL };
		static const char *const msgs[] = { "messages", "--phone", "13700000001", "--limit", "1", NULL };
		char *out = ctl(&h, list);
		assert_non_null(strstr(out, "2026-0001"));
		free(out);
		out = ctl(&h, show);
		assert_non_null(strstr(out, "张桂兰"));
		free(out);
		free(ctl(&h, fb));
		out = ctl(&h, rep);
		assert_true(str_startswith(out, "\xEF\xBB\xBF")); /* UTF-8 with a byte-order mark */
		free(out);
		out = ctl(&h, msgs);
		assert_non_null(strstr(out, "13700000001"));
		free(out);
		/* messages sorts the same way with --limit as without: the last lines of the whole log */
		static const char *const all[] = { "messages", "--phone", "13700000001", NULL };
		static const char *const two[] = { "messages", "--phone", "13700000001", "--limit", "2", NULL };
		char *whole = ctl(&h, all), *tail = ctl(&h, two);
		assert_true(strlen(whole) > strlen(tail));
		assert_string_equal(whole + strlen(whole) - strlen(tail), tail);
		free(whole);
		free(tail);
	}
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM messages WHERE direction = 'in' AND status <> 'answered'"), 0);

	/* 16: the office's lists: the topic of each request, suggestions with a header, marked handled */
	say_free(&h, "13700000003", "人工");
	say_free(&h, "13700000004", "8");
	say_free(&h, "13700000004", "村里的路灯坏了三个月了，请派人修一修");
	{
		static const char *const list[] = { "cases", "list", NULL };
		static const char *const fb[] = { "feedback", "list", NULL };
		static const char *const done[] = { "feedback", "done", "YJ2026-0001", "--note", "已转村委会", NULL };
		char *out = ctl(&h, list);
		assert_non_null(strstr(out, "主题"));
		assert_non_null(strstr(out, "上门帮办"));
		assert_non_null(strstr(out, "来电回拨"));
		assert_non_null(strstr(out, "+8613700000003"));
		free(out);
		out = ctl(&h, fb);
		assert_true(str_startswith(out, "编号"));
		assert_non_null(strstr(out, "YJ2026-0001"));
		assert_non_null(strstr(out, "未处理"));
		free(out);
		free(ctl(&h, done));
		out = ctl(&h, fb);
		assert_non_null(strstr(out, "已处理"));
		assert_non_null(strstr(out, "已转村委会"));
		free(out);
	}

	/* 15: help, wrong arguments named, the office's words, and no wait for a daemon that is not there */
	{
		static const char *const help[] = { "--help", NULL };
		static const char *const sub_help[] = { "cases", "--help", NULL };
		static const char *const since[] = { "messages", "--since", "yesterday", NULL };
		static const char *const limit[] = { "messages", "--limit", "abc", NULL };
		static const char *const month[] = { "report", "--from", "2026-13-01", NULL };
		static const char *const order[] = { "report", "--from", "2026-12-01", "--to", "2026-11-01", NULL };
		static const char *const format[] = { "feedback", "list", "--format", "xls", NULL };
		static const char *const assign[] = { "cases", "assign", "2026-0001", "演示乙", NULL };
		static const char *const ussd_q[] = { "modem", "ussd", "dummy", "*100#", NULL };
		static const char *const status[] = { "cases", "list", "--status", "finished", NULL };
		static const char *const dummy[] = { "dummy-sms", "13700000009", "你好", NULL };
		static const char *const no_phone[] = { "dummy-sms", "+", "你好", NULL };
		static const char *const no_modem[] = { "dummy-sms", "--modem", "m9", "13700000009", "你好", NULL };
		char *out = ctl(&h, help);
		assert_non_null(strstr(out, "cases"));
		free(out);
		out = ctl(&h, sub_help);
		assert_non_null(strstr(out, "set-status"));
		free(out);
		ctl_refuses(&h, since, 2, "yesterday");
		ctl_refuses(&h, limit, 2, "abc");
		ctl_refuses(&h, month, 2, "2026-13-01");
		ctl_refuses(&h, order, 2, "--from");
		ctl_refuses(&h, format, 2, "xls");
		ctl_refuses(&h, assign, 1, "已办结的请求不能再改");
		ctl_refuses(&h, status, 2, "--status “finished” 不认识");
		assert_int_equal(hl_stop(&h, SIGTERM, 10000), 0);
		ctl_refuses(&h, ussd_q, 1, "没有运行");
		/* what the README's walk-throughs print to the office, in its words */
		out = ctl(&h, dummy);
		assert_non_null(strstr(out, "短信已放进 dummy 的收件箱"));
		free(out);
		ctl_refuses(&h, no_phone, 1, "不是电话号码");
		ctl_refuses(&h, no_modem, 1, "没有叫“m9”的模拟短信猫");
	}
	hl_cleanup(&h);
}

/* README "USSD: dialling *code#": both walk-throughs, on make run's configuration, 2 s a step. */
static void test_readme_ussd_walkthroughs(void **state)
{
	struct hl h;
	const char *form[] = { "", "6", "6*1", "6*1*张桂兰", "6*1*张桂兰*崆峒镇寨子街村3组",
		"6*1*张桂兰*崆峒镇寨子街村3组*老伴瘫痪在床想办低保", "6*1*张桂兰*崆峒镇寨子街村3组*老伴瘫痪在床想办低保*1" };
	char *a, *node;

	(void)state;
	assert_int_equal(hl_setup_shipped(&h), 0);
	assert_int_equal(hl_use_clock(&h, DAYTIME), 0);
	assert_int_equal(hl_start(&h, NULL), 0);
#define LAST_NODE(sid) hl_text(&h, "SELECT node FROM messages WHERE session = '" sid "' AND direction = 'in' ORDER BY id DESC LIMIT 1")
	a = ussd(&h, "s1", "13800000001", "");
	assert_true(str_startswith(a, "CON "));
	assert_non_null(strstr(a, "1低保"));
	assert_null(strstr(a, "98更多"));
	free(a);
	a = ussd(&h, "s1", "13800000001", "1");
	assert_true(str_startswith(a, "CON "));
	free(a);
	assert_string_equal((node = LAST_NODE("s1")), "dibao");
	free(node);
	a = ussd(&h, "s1", "13800000001", "1*2");
	assert_true(str_startswith(a, "CON "));
	assert_true(strlen(a) > strlen("98更多 0返回") && strcmp(a + strlen(a) - strlen("98更多 0返回"), "98更多 0返回") == 0);
	free(a);
	assert_string_equal((node = LAST_NODE("s1")), "dibao.amount");
	free(node);
	a = ussd(&h, "s1", "13800000001", "1*2*98");
	assert_true(str_startswith(a, "CON "));
	assert_null(strstr(a, "没有这个数字选项"));
	free(a);
	a = ussd(&h, "s1", "13800000001", "1*2*98*0");
	free(a);
	assert_string_equal((node = LAST_NODE("s1")), "dibao");
	free(node);
	a = ussd(&h, "s1", "13800000001", "1*2*98*0*00");
	assert_non_null(strstr(a, "1低保"));
	free(a);

	for (size_t i = 0; i < ARRAY_LEN(form); i++)
		free(ussd(&h, "s2", "13800000002", form[i]));
	a = ussd(&h, "s2", "13800000002", "6*1*张桂兰*崆峒镇寨子街村3组*老伴瘫痪在床想办低保*1*1");
	assert_true(str_startswith(a, "END 上门请求已提交，编号"));
	free(a);
	/* the SMS copy and the staff member's alert */
	assert_true(hl_wait_count(&h, 1, WAIT_MS, "SELECT count(*) FROM messages WHERE channel = 'sms' AND direction = 'out'"
						  " AND phone_key = '+8613800000002'"));
	assert_true(hl_wait_count(&h, 1, WAIT_MS, "SELECT count(*) FROM messages WHERE kind = 'staff'"));
#undef LAST_NODE
	hl_cleanup(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_walk_everything_at_human_pace),
		cmocka_unit_test(test_resend_answered),
		cmocka_unit_test(test_same_text_same_second),
		cmocka_unit_test(test_shangmen_starts_form),
		cmocka_unit_test(test_form_help_for_who_cannot_type),
		cmocka_unit_test(test_ussd_step_timed_when_it_happens),
		cmocka_unit_test(test_ussd_dial_string_inputs),
		cmocka_unit_test(test_ussd_retry_same_answer),
		cmocka_unit_test(test_ussd_wording),
		cmocka_unit_test(test_ussd_abandoned_form),
		cmocka_unit_test(test_staff_traditional_and_list),
		cmocka_unit_test(test_new_database_one_line),
		cmocka_unit_test(test_readme_sms_walkthroughs),
		cmocka_unit_test(test_readme_ussd_walkthroughs),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("flows", tests, NULL, NULL);
}
