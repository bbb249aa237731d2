/*
 * cases (issue 4): home-visit requests from the form to 已办结, staff by
 * SMS, notifications to applicants, the periodic jobs and the report.
 *
 * On an in-memory store, the shipped menus ($HOTLINE_SRC/menus, with
 * menus/30-cases.cfg) and a config of the test's own (written to a temp
 * folder, so that a change to config/hotline.cfg does not move the clock
 * rules under the tests): quiet hours 21:00-08:00, office 08:30-17:30
 * Monday to Friday, escalation after 4 working hours, digest at 08:00,
 * staff 王建国 (崆峒镇, duty), 李秀英 (白水镇, 寨子街村), supervisor 张主任.
 * The time zone is pinned to China (CST-8); each message has its own time.
 *
 * What a person reads is compared with the menus' texts, never with
 * Chinese written here, except the command words a person types.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cases.h"
#include "cases_cmd.h"
#include "dispatch.h"
#include "log.h"
#include "phone.h"
#include "report.h"
#include "smstext.h"
#include "store.h"
#include "store_cases.h"
#include "store_messages.h"
#include "store_outbox.h"
#include "world.h"
#include "hl.h"

/* Tuesday 2026-12-01 10:00 in China */
#define TUE10 1796090400LL
#define HOUR 3600LL
#define DAY 86400LL

#define WANG "+8613900000001"  /* staff, 崆峒镇, duty */
#define LI "+8613900000002"    /* staff, 白水镇 and 寨子街村 */
#define ZHANG "+8613900000003" /* supervisor */
#define VA "+8613700000001"    /* villager A */
#define VB "+8613700000002"    /* villager B */
#define KIN "+8613600000009"   /* A's son: the contact phone A gives */

/* The repository, absolute: the test config lives in a temp folder. */
struct fx {
	char dir[PATH_MAX];
	struct world *w;
	struct store *st;
	struct ctx c;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char tmpl[] = "/tmp/test_cases-XXXXXX", phone[PATH_MAX + 32];

	if (f == NULL || mkdtemp(tmpl) == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s", tmpl);
	snprintf(phone, sizeof(phone), "%s/phone0", f->dir);
	mkdir(phone, 0700);
	f->w = hl_unit_world(f->dir,
	    "office = { name = \"崆峒区民政局\"; address = \"社会救助股\"; hours = \"周一至周五\"; phone = \"0933-0000000\"; };\n"
	    "sessions = { timeout = 1800; };\n"
	    "cases = { number_format = \"year\"; escalate_after = 4; working_hours = \"08:30-17:30\";\n"
	    "  working_days = \"1-5\"; quiet_hours = \"21:00-08:00\"; digest_time = \"08:00\"; };\n"
	    "staff = (\n"
	    "  { name = \"王建国\"; phone = \"" WANG "\"; areas = [\"崆峒镇\"]; duty = true; },\n"
	    "  { name = \"李秀英\"; phone = \"" LI "\"; areas = [\"白水镇\", \"寨子街村\"]; },\n"
	    "  { name = \"张主任\"; phone = \"" ZHANG "\"; role = \"supervisor\"; }\n"
	    ");\n"
	    "modems = ( { name = \"m0\"; model = \"dummy\"; connection = \"none\"; device = \"phone0\"; } );\n",
	    &f->st);
	if (f->w == NULL)
		return -1;
	f->c.st = f->st;
	f->c.cfg = f->w->cfg;
	f->c.menu = f->w->menu;
	f->c.now = TUE10;
	f->c.modem = NULL;
	f->c.flags = CTX_NO_LIMITS;
	util_set_time_override(TUE10);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char p[PATH_MAX + 32];

	store_close(f->st);
	world_release(f->w);
	snprintf(p, sizeof(p), "%s/hotline.cfg", f->dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/phone0", f->dir);
	rmdir(p);
	rmdir(f->dir);
	util_set_time_override(0);
	free(f);
	return 0;
}

/* ---- helpers ------------------------------------------------------------------------------------ */

static const char *text(struct fx *f, const char *name)
{
	const char *t = menu_text(f->w->menu, name);

	assert_non_null(t);
	return t;
}

/* The text before its first placeholder: what every rendering of it starts with. */
static char *lead(struct fx *f, const char *name)
{
	const char *t = text(f, name);

	return strndup(t, strcspn(t, "{"));
}

struct sent {
	char *reply;
	char node[MENU_ID_MAX];
};

/* An SMS from phone at time t, through dispatch in a transaction. */
static struct sent sms(struct fx *f, const char *phone, const char *msg, int64_t t)
{
	char norm[PHONE_LEN];
	struct inbound in = { .channel = CHANNEL_SMS, .phone = norm, .text = msg, .len = strlen(msg), .parts = 1,
		.kind = MSG_KIND_TEXT, .smsc_time = t };
	struct dispatch_result r;
	struct sent s;

	/* as the modem edge hands it on: normalised */
	phone_normalise(phone, f->w->cfg->phone_country, norm, sizeof(norm));

	f->c.now = t;
	util_set_time_override(t);
	assert_int_equal(store_begin(f->st), 0);
	assert_int_equal(dispatch_inbound(&f->c, &in, &r), 0);
	assert_int_equal(store_commit(f->st), 0);
	assert_non_null(r.reply);
	s.reply = r.reply;
	snprintf(s.node, sizeof(s.node), "%s", r.node);
	return s;
}

/* The reply only. */
static char *say(struct fx *f, const char *phone, const char *msg, int64_t t)
{
	return sms(f, phone, msg, t).reply;
}

struct outq {
	const char *kind;
	int n;
	char *last;
};

static int take_out(const struct store_msg *m, void *arg)
{
	struct outq *q = arg;

	if (m->direction != DIRECTION_OUT || (q->kind && msg_kind_parse(q->kind) != (int)m->kind))
		return 0;
	q->n++;
	free(q->last);
	q->last = strndup(m->text, m->text_len);
	return 0;
}

/* Outbound messages to phone of a kind ("reply", "notify", "staff"; NULL: any); *last (owned) the newest. */
static int outbound(struct fx *f, const char *phone, const char *kind, char **last)
{
	struct store_msg_filter mf = { 0 };
	struct outq q = { kind, 0, NULL };

	mf.phone = phone;
	assert_int_equal(store_msg_each(f->st, &mf, take_out, &q), 0);
	if (last)
		*last = q.last;
	else
		free(q.last);
	return q.n;
}

/* Messages due at t for phone, claimed (so counted once). */
static int due(struct fx *f, int64_t t, const char *phone)
{
	struct store_send s[64];
	size_t n = 0;
	int hits = 0;

	assert_int_equal(store_outbox_claim(f->st, NULL, "test", t, s, 64, &n), 0);
	for (size_t i = 0; i < n; i++)
		if (phone == NULL || strcmp(s[i].phone, phone) == 0)
			hits++;
	store_sends_free(s, n);
	return hits;
}

/* Fill in the form as phone; returns the new case's number (owned). contact NULL: this phone. */
static char *request(struct fx *f, const char *phone, const char *name, const char *place, const char *contact,
    int64_t t)
{
	const char *steps[] = { "申请上门", name, place, "腿脚不好，想问低保", contact ? contact : "1", "1" };
	char *r = NULL, *number;

	for (size_t i = 0; i < ARRAY_LEN(steps); i++) {
		free(r);
		r = say(f, phone, steps[i], t + (int64_t)i);
	}
	/* case_created: the number is what its placeholder became */
	const char *tmpl = text(f, "case_created"), *ph = strstr(tmpl, "{case.number}");
	assert_non_null(ph);
	assert_memory_equal(r, tmpl, (size_t)(ph - tmpl));
	const char *start = r + (ph - tmpl);
	size_t len = strspn(start, "0123456789-");
	assert_true(len >= 9);
	number = strndup(start, len);
	free(r);
	return number;
}

static char *status_of(struct fx *f, const char *number)
{
	struct store_case k;
	bool found;
	char *s;

	assert_int_equal(store_case_get(f->st, number, &k, &found), 0);
	assert_true(found);
	s = strdup(k.status);
	store_case_free(&k);
	return s;
}

static void assert_status(struct fx *f, const char *number, const char *code)
{
	char *s = status_of(f, number);

	assert_string_equal(s, code);
	free(s);
}

static int count_case(const struct store_case *k, void *arg)
{
	(void)k;
	(*(int *)arg)++;
	return 0;
}

static int count_event(const struct store_case_event *e, void *arg)
{
	(void)e;
	(*(int *)arg)++;
	return 0;
}

static int events(struct fx *f, const char *number)
{
	struct store_case k;
	bool found;
	int n = 0;

	assert_int_equal(store_case_get(f->st, number, &k, &found), 0);
	assert_true(found);
	assert_int_equal(store_case_events(f->st, k.id, count_event, &n), 0);
	store_case_free(&k);
	return n;
}

static char *render(struct fx *f, const char *name, const struct menu_var *v, size_t n)
{
	return menu_render(text(f, name), v, n);
}

static void assert_starts(const char *s, const char *prefix)
{
	if (strncmp(s, prefix, strlen(prefix)) != 0)
		fail_msg("\"%s\" does not start with \"%s\"", s, prefix);
}

/* s is text `name` about case number: it starts as the text does, up to its first other placeholder. */
static void assert_text(struct fx *f, const char *s, const char *name, const char *number)
{
	struct menu_var v[] = { { "case.number", number } };
	char *r = render(f, name, v, 1);

	r[strcspn(r, "{")] = '\0';
	assert_starts(s, r);
	free(r);
}

struct prefix_q {
	const char *prefix;
	int n;
};

static int take_prefix(const struct store_msg *m, void *arg)
{
	struct prefix_q *q = arg;

	if (m->direction == DIRECTION_OUT && m->text_len >= strlen(q->prefix) &&
	    memcmp(m->text, q->prefix, strlen(q->prefix)) == 0)
		q->n++;
	return 0;
}

/* Outbound messages to phone that are text `name` (compared up to its first placeholder). */
static int sent_text(struct fx *f, const char *phone, const char *name)
{
	struct store_msg_filter mf = { 0 };
	char *l = lead(f, name);
	struct prefix_q q = { l, 0 };

	assert_true(*l != '\0');
	mf.phone = phone;
	assert_int_equal(store_msg_each(f->st, &mf, take_prefix, &q), 0);
	free(l);
	return q.n;
}

/* ---- the parser ------------------------------------------------------------------------------------ */

struct parse_case {
	const char *in;
	enum cases_cmd_kind kind;
	bool usage;
	int year;
	long long seq;
	const char *note; /* NULL: none */
};

static void test_parse_table(void **state)
{
	static const struct parse_case t[] = {
		/* the forms of a number */
		{ "接 5", CCMD_ACCEPT, false, 0, 5, NULL },
		{ "接5", CCMD_ACCEPT, false, 0, 5, NULL },
		{ "接 2026-0005", CCMD_ACCEPT, false, 2026, 5, NULL },
		{ "接2026-0005", CCMD_ACCEPT, false, 2026, 5, NULL },
		{ "接0005", CCMD_ACCEPT, false, 0, 5, NULL },
		{ "接 5号", CCMD_ACCEPT, false, 0, 5, NULL },
		{ "接第5", CCMD_ACCEPT, false, 0, 5, NULL },
		{ "接 第5号", CCMD_ACCEPT, false, 0, 5, NULL },
		{ "接２０２６－０００５", CCMD_ACCEPT, false, 2026, 5, NULL },
		{ "接　５", CCMD_ACCEPT, false, 0, 5, NULL },
		{ "接 2026 0005", CCMD_ACCEPT, false, 2026, 5, NULL },
		{ "接 2026—0005", CCMD_ACCEPT, false, 2026, 5, NULL },
		{ "接20260005", CCMD_ACCEPT, false, 0, 20260005, NULL },
		{ "  接 5  ", CCMD_ACCEPT, false, 0, 5, NULL },
		{ "接单 7", CCMD_ACCEPT, false, 0, 7, NULL },
		/* pinyin, any case, full-width */
		{ "jie 5", CCMD_ACCEPT, false, 0, 5, NULL },
		{ "JIE5", CCMD_ACCEPT, false, 0, 5, NULL },
		{ "J 5", CCMD_ACCEPT, false, 0, 5, NULL },
		{ "ＪＩＥ ５", CCMD_ACCEPT, false, 0, 5, NULL },
		{ "fang 5 见到本人", CCMD_VISITED, false, 0, 5, "见到本人" },
		{ "f5", CCMD_VISITED, false, 0, 5, NULL },
		{ "shen 2026-0003 材料齐", CCMD_REVIEW, false, 2026, 3, "材料齐" },
		{ "bj 3", CCMD_DONE, false, 0, 3, NULL },
		{ "BanJie 3 已发放", CCMD_DONE, false, 0, 3, "已发放" },
		{ "tui 4 家里有车", CCMD_REJECT, false, 0, 4, "家里有车" },
		/* notes */
		{ "访 5 老人不在家，邻居说去女儿家了", CCMD_VISITED, false, 0, 5, "老人不在家，邻居说去女儿家了" },
		{ "访5，见到本人。", CCMD_VISITED, false, 0, 5, "见到本人。" },
		{ "访5见到本人", CCMD_VISITED, false, 0, 5, "见到本人" },
		{ "审 2026 0007 材料齐了", CCMD_REVIEW, false, 2026, 7, "材料齐了" },
		{ "结 12 已发放 ", CCMD_DONE, false, 0, 12, "已发放" },
		{ "结案 12", CCMD_DONE, false, 0, 12, NULL },
		{ "退 4 家里有两个劳力", CCMD_REJECT, false, 0, 4, "家里有两个劳力" },
		{ "退 4", CCMD_REJECT, false, 0, 4, NULL },
		{ "接 5-3", CCMD_ACCEPT, false, 0, 5, "3" },
		{ "查 5", CCMD_SHOW, false, 0, 5, NULL },
		{ "撤销 2026-0001", CCMD_WITHDRAW, false, 2026, 1, NULL },
		{ "撤销2026-0001号", CCMD_WITHDRAW, false, 2026, 1, NULL },
		{ "chexiao 1", CCMD_WITHDRAW, false, 0, 1, NULL },
		/* standing alone */
		{ "列表", CCMD_LIST, false, 0, 0, NULL },
		{ "列表 ", CCMD_LIST, false, 0, 0, NULL },
		{ "LB", CCMD_LIST, false, 0, 0, NULL },
		{ "帮助", CCMD_HELP, false, 0, 0, NULL },
		{ "help!", CCMD_HELP, false, 0, 0, NULL },
		{ "列表一下", CCMD_NONE, false, 0, 0, NULL },
		{ "帮助我", CCMD_NONE, false, 0, 0, NULL },
		/* a command word without a usable number */
		{ "接", CCMD_ACCEPT, true, 0, 0, NULL },
		{ "接 王大爷", CCMD_ACCEPT, true, 0, 0, NULL },
		{ "接 0", CCMD_ACCEPT, true, 0, 0, NULL },
		{ "接 0000", CCMD_ACCEPT, true, 0, 0, NULL },
		{ "接 1234567890123", CCMD_ACCEPT, true, 0, 0, NULL },
		{ "j", CCMD_ACCEPT, true, 0, 0, NULL },
		{ "撤销", CCMD_WITHDRAW, true, 0, 0, NULL },
		/* words that only start like a command */
		{ "查询", CCMD_NONE, false, 0, 0, NULL },
		{ "查询5", CCMD_NONE, false, 0, 0, NULL },
		{ "结果出来没", CCMD_NONE, false, 0, 0, NULL },
		{ "接到通知了", CCMD_NONE, false, 0, 0, NULL },
		{ "退休金咋领", CCMD_NONE, false, 0, 0, NULL },
		{ "审批", CCMD_NONE, false, 0, 0, NULL },
		{ "jiekou 5", CCMD_NONE, false, 0, 0, NULL },
		{ "jd", CCMD_NONE, false, 0, 0, NULL },
		{ "cx", CCMD_NONE, false, 0, 0, NULL },
		{ "helpme", CCMD_NONE, false, 0, 0, NULL },
		{ "我要接 5", CCMD_NONE, false, 0, 0, NULL },
		{ "5", CCMD_NONE, false, 0, 0, NULL },
		{ "第5", CCMD_NONE, false, 0, 0, NULL },
		{ "", CCMD_NONE, false, 0, 0, NULL },
		{ "\xff\xfe\x80", CCMD_NONE, false, 0, 0, NULL },
		{ "低保咋申请", CCMD_NONE, false, 0, 0, NULL },
	};
	struct fx *f = *state;
	struct cases_cmd_words w;

	cases_cmd_words_from_menu(f->w->menu, &w);
	for (size_t i = 0; i < ARRAY_LEN(t); i++) {
		struct cases_cmd c;
		cases_cmd_parse(&w, t[i].in, strlen(t[i].in), &c);
		if (c.kind != t[i].kind || c.usage != t[i].usage || (!c.usage && (c.year != t[i].year || c.seq != t[i].seq)))
			fail_msg("\"%s\": kind %d usage %d year %d seq %lld; want %d %d %d %lld", t[i].in, (int)c.kind, c.usage,
			    c.year, c.seq, (int)t[i].kind, t[i].usage, t[i].year, t[i].seq);
		if (t[i].note == NULL) {
			if (c.kind != CCMD_NONE && !c.usage && c.note != NULL)
				fail_msg("\"%s\": note \"%.*s\", want none", t[i].in, (int)c.note_len, c.note);
		} else if (c.note == NULL || c.note_len != strlen(t[i].note) || memcmp(c.note, t[i].note, c.note_len) != 0) {
			fail_msg("\"%s\": note \"%.*s\", want \"%s\"", t[i].in, c.note ? (int)c.note_len : 0,
			    c.note ? c.note : "", t[i].note);
		}
	}
	/* a truncated multibyte character at the end never reads past it */
	const char cut[] = "接 5 \xE8\xA7";
	struct cases_cmd c;
	cases_cmd_parse(&w, cut, sizeof(cut) - 1, &c);
	assert_int_equal(c.kind, CCMD_ACCEPT);
	assert_int_equal(c.seq, 5);
}

static void test_numbers(void **state)
{
	struct cases_cmd c;
	char out[2][CASES_NUMBER_MAX];

	(void)state;
	memset(&c, 0, sizeof(c));
	c.seq = 5;
	c.seq_digits = 1;
	assert_int_equal(cases_cmd_numbers(&c, "year", 2026, out, 2), 2);
	assert_string_equal(out[0], "2026-0005"); /* this year's first */
	assert_string_equal(out[1], "2025-0005"); /* then last year's */
	c.year = 2025;
	assert_int_equal(cases_cmd_numbers(&c, "year", 2026, out, 2), 1);
	assert_string_equal(out[0], "2025-0005");
	c.year = 0;
	c.seq = 20260042;
	c.seq_digits = 8;
	assert_int_equal(cases_cmd_numbers(&c, "year", 2026, out, 2), 1);
	assert_string_equal(out[0], "2026-0042");
	c.seq = 12345;
	c.seq_digits = 5;
	assert_int_equal(cases_cmd_numbers(&c, "year", 2026, out, 2), 2);
	assert_string_equal(out[0], "2026-12345");
	c.seq = 42;
	assert_int_equal(cases_cmd_numbers(&c, "plain", 2026, out, 2), 1);
	assert_string_equal(out[0], "42");
	c.seq = 0;
	assert_int_equal(cases_cmd_numbers(&c, "year", 2026, out, 2), 0);
}

/* The command words are the menus' data: no word belongs to two commands. */
static void test_words_unambiguous(void **state)
{
	struct fx *f = *state;
	struct cases_cmd_words w;

	cases_cmd_words_from_menu(f->w->menu, &w);
	for (int a = 1; a < CCMD_COUNT; a++) {
		assert_non_null(w.words[a]);
		assert_true(*w.words[a] != '\0');
		/* each word, followed by a number, parses as its own command */
		char *copy = strdup(w.words[a]);
		for (char *tok = strtok(copy, " "); tok; tok = strtok(NULL, " ")) {
			char msg[64];
			struct cases_cmd c;
			snprintf(msg, sizeof(msg), "%s 5", tok);
			cases_cmd_parse(&w, msg, strlen(msg), &c);
			if (a == CCMD_LIST || a == CCMD_HELP)
				assert_int_equal(c.kind, CCMD_NONE);
			else if ((int)c.kind != a)
				fail_msg("\"%s\" is command %d, want %d", msg, (int)c.kind, a);
			cases_cmd_parse(&w, tok, strlen(tok), &c);
			assert_int_equal((int)c.kind, a);
		}
		free(copy);
	}
}

/* ---- the status rules ---------------------------------------------------------------------------------- */

static void test_move_rules(void **state)
{
	/* allowed[from][to] */
	static const bool allowed[CASE_STATUS_COUNT][CASE_STATUS_COUNT] = {
		[CASE_RECEIVED] = { [CASE_ASSIGNED] = true, [CASE_REJECTED] = true, [CASE_WITHDRAWN] = true },
		[CASE_ASSIGNED] = { [CASE_VISITED] = true, [CASE_REJECTED] = true, [CASE_WITHDRAWN] = true },
		[CASE_VISITED] = { [CASE_REVIEWING] = true, [CASE_REJECTED] = true, [CASE_WITHDRAWN] = true },
		[CASE_REVIEWING] = { [CASE_DONE] = true, [CASE_REJECTED] = true, [CASE_WITHDRAWN] = true },
	};

	(void)state;
	for (int a = 0; a < CASE_STATUS_COUNT; a++)
		for (int b = 0; b < CASE_STATUS_COUNT; b++)
			if (case_move_allowed((enum case_status)a, (enum case_status)b) != allowed[a][b])
				fail_msg("%s -> %s: %d", case_status_code((enum case_status)a), case_status_code((enum case_status)b),
				    !allowed[a][b]);
	/* codes and Chinese names both parse; nothing else does */
	for (int s = 0; s < CASE_STATUS_COUNT; s++) {
		assert_int_equal(case_status_parse(case_status_code((enum case_status)s)), s);
		assert_int_equal(case_status_parse(case_status_name((enum case_status)s)), s);
	}
	assert_int_equal(case_status_parse("finished"), -1);
}

/* Who may do what, checked without the database. */
static void test_permissions(void **state)
{
	struct fx *f = *state;
	const struct config *cfg = f->w->cfg;
	const struct staff_cfg *wang = config_staff_by_phone(cfg, WANG), *li = config_staff_by_phone(cfg, LI),
	    *zhang = config_staff_by_phone(cfg, ZHANG), *who;
	struct store_case k;
	struct case_change ch;

	memset(&k, 0, sizeof(k));
	k.number = "2026-0001";
	k.applicant_phone = VA;
	k.staff = "李秀英";
	k.status = "received";
	memset(&ch, 0, sizeof(ch));
	ch.number = k.number;
	ch.to = CASE_ASSIGNED;
	ch.by = li;
	assert_int_equal(case_check_change(cfg, &k, &ch, &who), CASE_OK);
	assert_ptr_equal(who, li);
	ch.by = wang; /* routed to someone else */
	assert_int_equal(case_check_change(cfg, &k, &ch, &who), CASE_NOT_YOURS);
	ch.by = zhang; /* the supervisor takes it over */
	assert_int_equal(case_check_change(cfg, &k, &ch, &who), CASE_OK);
	assert_ptr_equal(who, zhang);
	ch.by = NULL; /* the office confirms the one it was routed to */
	assert_int_equal(case_check_change(cfg, &k, &ch, &who), CASE_OK);
	assert_ptr_equal(who, li);
	ch.by = li;
	ch.to = CASE_VISITED; /* 访 before 接 */
	assert_int_equal(case_check_change(cfg, &k, &ch, &who), CASE_BAD_MOVE);
	ch.to = CASE_REJECTED; /* 退 without a reason */
	assert_int_equal(case_check_change(cfg, &k, &ch, &who), CASE_NEED_REASON);
	ch.note = "不符合";
	assert_int_equal(case_check_change(cfg, &k, &ch, &who), CASE_OK);

	/* the applicant: their own case, only to withdrawn; another phone never learns it exists */
	memset(&ch, 0, sizeof(ch));
	ch.number = k.number;
	ch.to = CASE_WITHDRAWN;
	ch.applicant = VA;
	assert_int_equal(case_check_change(cfg, &k, &ch, &who), CASE_OK);
	ch.applicant = "+13700000001"; /* the same digits in another country: someone else */
	assert_int_equal(case_check_change(cfg, &k, &ch, &who), CASE_NOT_FOUND);
	ch.applicant = VB;
	assert_int_equal(case_check_change(cfg, &k, &ch, &who), CASE_NOT_FOUND);
	ch.applicant = VA;
	ch.to = CASE_DONE;
	assert_int_equal(case_check_change(cfg, &k, &ch, &who), CASE_BAD_MOVE);

	/* a case nobody has: any staff member may 接 it, nothing else */
	k.staff = NULL;
	memset(&ch, 0, sizeof(ch));
	ch.number = k.number;
	ch.to = CASE_ASSIGNED;
	ch.by = wang;
	assert_int_equal(case_check_change(cfg, &k, &ch, &who), CASE_OK);
	assert_ptr_equal(who, wang);
	ch.to = CASE_REJECTED;
	ch.note = "x";
	assert_int_equal(case_check_change(cfg, &k, &ch, &who), CASE_NOT_YOURS);
	ch.by = NULL;
	ch.to = CASE_ASSIGNED; /* the office must say who */
	assert_int_equal(case_check_change(cfg, &k, &ch, &who), CASE_NO_STAFF);

	/* nothing moves out of a closed case, whoever asks */
	k.staff = "李秀英";
	k.status = "done";
	ch.by = zhang;
	ch.to = CASE_REJECTED;
	assert_int_equal(case_check_change(cfg, &k, &ch, &who), CASE_BAD_MOVE);
}

/* ---- routing -------------------------------------------------------------------------------------------- */

static void test_routing(void **state)
{
	static const struct {
		const char *place, *staff_phone, *staff;
	} t[] = {
		{ "白水镇王家村2组", LI, "李秀英" },
		{ "崆峒镇寨子街村3组", LI, "李秀英" }, /* the village beats its town */
		{ "崆峒镇东关村", WANG, "王建国" },
		{ "泾川县某村", WANG, "王建国" },      /* no area: the duty staff */
	};
	struct fx *f = *state;
	char phone[16];

	for (size_t i = 0; i < ARRAY_LEN(t); i++) {
		char *number, *alert = NULL;
		struct store_case k;
		bool found;
		int before = outbound(f, t[i].staff_phone, "staff", NULL);

		snprintf(phone, sizeof(phone), "1370000010%zu", i);
		number = request(f, phone, "张桂兰", t[i].place, NULL, TUE10 + (int64_t)i * 60);
		assert_int_equal(store_case_get(f->st, number, &k, &found), 0);
		assert_true(found);
		assert_string_equal(k.staff, t[i].staff);
		assert_string_equal(k.status, "received");
		store_case_free(&k);
		/* the alert, at once and only to them */
		assert_int_equal(outbound(f, t[i].staff_phone, "staff", &alert), before + 1);
		assert_non_null(strstr(alert, number));
		assert_non_null(strstr(alert, t[i].place));
		free(alert);
		free(number);
	}
	assert_int_equal(outbound(f, ZHANG, "staff", NULL), 0);
}

/* ---- the whole flow by SMS -------------------------------------------------------------------------------- */

static void test_staff_flow(void **state)
{
	struct fx *f = *state;
	int64_t t = TUE10;
	char *number = request(f, VA, "张桂兰", "崆峒镇寨子街村3组", KIN, t);
	char *r, *last = NULL, cmd[64];
	const char *steps[][2] = { { "接", "assigned" }, { "访", "visited" }, { "审", "reviewing" }, { "结", "done" } };

	/* the staff phone has the request at once, priority over other SMS */
	assert_int_equal(outbound(f, LI, "staff", NULL), 1);
	assert_int_equal(due(f, t + 10, LI), 1);
	assert_int_equal(events(f, number), 1);
	/* the applicant's own reply was the only message to them so far */
	assert_int_equal(outbound(f, VA, "notify", NULL), 0);
	assert_int_equal(outbound(f, KIN, NULL, NULL), 0);

	for (size_t i = 0; i < ARRAY_LEN(steps); i++) {
		t += HOUR;
		snprintf(cmd, sizeof(cmd), "%s %s 备注%zu", steps[i][0], number, i);
		struct sent s = sms(f, LI, cmd, t);
		assert_string_equal(s.node, "command");
		{
			struct menu_var v[] = { { "case.number", number }, { "case.name", "张桂兰" },
				{ "case.status", text(f, strcmp(steps[i][1], "assigned") == 0 ? "label_assigned"
				    : strcmp(steps[i][1], "visited") == 0 ? "label_visited"
				    : strcmp(steps[i][1], "reviewing") == 0 ? "label_reviewing" : "label_done") } };
			char *want = render(f, "staff_ok", v, ARRAY_LEN(v));
			assert_string_equal(s.reply, want);
			free(want);
		}
		free(s.reply);
		assert_status(f, number, steps[i][1]);
		assert_int_equal(events(f, number), (int)i + 2);
		/* exactly one notification per change to the applicant and one to the contact phone */
		assert_int_equal(outbound(f, VA, "notify", &last), (int)i + 1);
		char name[32];
		snprintf(name, sizeof(name), "notify_%s", steps[i][1]);
		char *want_lead = lead(f, name);
		assert_starts(last, want_lead);
		assert_non_null(strstr(last, number));
		free(want_lead);
		free(last);
		assert_int_equal(outbound(f, KIN, "notify", NULL), (int)i + 1);
		/* nobody else is told: the one who acted has the reply */
		assert_int_equal(outbound(f, LI, "staff", NULL), 1);
		assert_int_equal(outbound(f, ZHANG, NULL, NULL), 0);
	}
	/* 已派单 named the staff member and their phone */
	struct store_case k;
	bool found;
	assert_int_equal(store_case_get(f->st, number, &k, &found), 0);
	assert_true(k.accepted_at > 0 && k.visited_at > k.accepted_at && k.closed_at > k.visited_at);
	store_case_free(&k);

	/* nothing moves out of done; no extra SMS */
	snprintf(cmd, sizeof(cmd), "退 %s 不符合", number);
	r = say(f, LI, cmd, t + 60);
	assert_text(f, r, "staff_bad_move", number);
	free(r);
	assert_status(f, number, "done");
	assert_int_equal(outbound(f, VA, "notify", NULL), 4);
	assert_int_equal(events(f, number), 5);
	free(number);
}

static void test_staff_errors(void **state)
{
	struct fx *f = *state;
	char *number = request(f, VA, "张桂兰", "白水镇王家村", NULL, TUE10);
	char cmd[64], *r, *want;

	/* no such case */
	r = say(f, LI, "接 2026-0999", TUE10 + 60);
	{
		struct menu_var v[] = { { "case.number", "2026-0999" } };
		want = render(f, "staff_no_case", v, 1);
		assert_string_equal(r, want);
		free(want);
	}
	free(r);
	/* not theirs: 王建国 covers 崆峒镇, the case is 李秀英's */
	snprintf(cmd, sizeof(cmd), "接 %s", number);
	r = say(f, WANG, cmd, TUE10 + 120);
	{
		struct menu_var v[] = { { "case.number", number } };
		want = render(f, "staff_not_yours", v, 1);
		assert_string_equal(r, want);
		free(want);
	}
	free(r);
	/* 查 N does not show them the case either */
	snprintf(cmd, sizeof(cmd), "查 %s", number);
	r = say(f, WANG, cmd, TUE10 + 130);
	assert_null(strstr(r, "张桂兰"));
	assert_null(strstr(r, VA));
	free(r);
	assert_status(f, number, "received");
	/* a bad move: 访 before 接 */
	snprintf(cmd, sizeof(cmd), "访 %s", number);
	r = say(f, LI, cmd, TUE10 + 180);
	{
		struct menu_var v[] = { { "case.number", number }, { "case.status", text(f, "label_received") },
			{ "case.new_status", text(f, "label_visited") } };
		want = render(f, "staff_bad_move", v, ARRAY_LEN(v));
		assert_string_equal(r, want);
		free(want);
	}
	free(r);
	/* 退 needs a reason */
	snprintf(cmd, sizeof(cmd), "退 %s", number);
	r = say(f, LI, cmd, TUE10 + 240);
	{
		struct menu_var v[] = { { "case.number", number } };
		want = render(f, "staff_need_reason", v, 1);
		assert_string_equal(r, want);
		free(want);
	}
	free(r);
	/* a command word without a number: the help */
	r = say(f, LI, "接", TUE10 + 300);
	assert_string_equal(r, text(f, "staff_help"));
	free(r);
	r = say(f, LI, "帮助", TUE10 + 310);
	assert_string_equal(r, text(f, "staff_help"));
	free(r);
	/* nothing of this changed the case or told the applicant */
	assert_status(f, number, "received");
	assert_int_equal(events(f, number), 1);
	assert_int_equal(outbound(f, VA, "notify", NULL), 0);

	/* 接 twice: the second is a bad move, and one notification only */
	snprintf(cmd, sizeof(cmd), "接%s", number);
	free(say(f, LI, cmd, TUE10 + 400));
	free(say(f, LI, cmd, TUE10 + 460));
	assert_int_equal(outbound(f, VA, "notify", NULL), 1);
	assert_int_equal(events(f, number), 2);

	/* the reason of 退 reaches the applicant, the staff note does not */
	snprintf(cmd, sizeof(cmd), "访 %s 家里很乱", number);
	free(say(f, LI, cmd, TUE10 + 500));
	snprintf(cmd, sizeof(cmd), "退 %s 家里有两个劳力", number);
	free(say(f, LI, cmd, TUE10 + 600));
	assert_status(f, number, "rejected");
	char *last = NULL;
	assert_int_equal(outbound(f, VA, "notify", &last), 3);
	assert_non_null(strstr(last, "家里有两个劳力"));
	free(last);
	struct store_case k;
	bool found;
	assert_int_equal(store_case_get(f->st, number, &k, &found), 0);
	assert_string_equal(k.reason, "家里有两个劳力");
	store_case_free(&k);
	/* 查进度 on a refused case: the reason, how to ask for a review (复核), and a digit to send next */
	char *sr = say(f, VA, "查进度", TUE10 + 700);
	assert_non_null(strstr(sr, number));
	assert_non_null(strstr(sr, "原因：家里有两个劳力"));
	assert_non_null(strstr(sr, "复核"));
	const char *tail = strrchr(sr, '\n');
	assert_non_null(tail);
	assert_string_equal(tail + 1, text(f, "status_tail"));
	assert_non_null(strpbrk(tail + 1, "0123456789"));
	free(sr);
	/* the refusal notice itself says how to ask for a review */
	assert_int_equal(outbound(f, VA, "notify", &last), 3);
	assert_non_null(strstr(last, "复核"));
	free(last);
	free(number);
}

/* The supervisor may act on any case; 接 takes it over, and the one who had it is told. */
static void test_supervisor(void **state)
{
	struct fx *f = *state;
	char *number = request(f, VA, "张桂兰", "白水镇王家村", NULL, TUE10);
	char cmd[64], *last = NULL;
	struct store_case k;
	bool found;

	snprintf(cmd, sizeof(cmd), "接 %s", number);
	free(say(f, ZHANG, cmd, TUE10 + 60));
	assert_status(f, number, "assigned");
	assert_int_equal(store_case_get(f->st, number, &k, &found), 0);
	assert_string_equal(k.staff, "张主任");
	store_case_free(&k);
	assert_int_equal(outbound(f, LI, "staff", &last), 2);
	assert_text(f, last, "staff_case_moved", number);
	free(last);
	/* the applicant reads the supervisor's name and phone */
	assert_int_equal(outbound(f, VA, "notify", &last), 1);
	assert_non_null(strstr(last, &ZHANG[3])); /* written as people dial it, without +86 */
	free(last);
	free(number);
}

/* From any other phone a staff command is menu input: nothing changes, nobody learns anything. */
static void test_non_staff_command(void **state)
{
	struct fx *f = *state;
	char *number = request(f, VA, "张桂兰", "白水镇王家村", NULL, TUE10);
	const char *tries[] = { "结 1", "接 1", "查 1", "列表", "退 1 不行" };
	char buf[64];

	for (size_t i = 0; i < ARRAY_LEN(tries) + 1; i++) {
		const char *msg = tries[i < ARRAY_LEN(tries) ? i : 0];
		if (i == ARRAY_LEN(tries)) {
			snprintf(buf, sizeof(buf), "结 %s", number);
			msg = buf;
		}
		struct sent s = sms(f, VB, msg, TUE10 + 600 + (int64_t)i * 60);
		assert_string_not_equal(s.node, "command");
		assert_null(strstr(s.reply, "张桂兰"));
		assert_null(strstr(s.reply, VA));
		free(s.reply);
	}
	/* the applicant themselves cannot close their case by SMS either */
	snprintf(buf, sizeof(buf), "结 %s", number);
	struct sent s = sms(f, VA, buf, TUE10 + 1200);
	assert_string_not_equal(s.node, "command");
	free(s.reply);
	assert_status(f, number, "received");
	assert_int_equal(events(f, number), 1);
	assert_int_equal(outbound(f, VA, "notify", NULL), 0);
	free(number);
}

/* Quiet hours hold what goes to applicants, not what goes to staff. */
static void test_quiet_hours(void **state)
{
	struct fx *f = *state;
	int64_t night = TUE10 + 12 * HOUR, morning = TUE10 + 22 * HOUR; /* 22:00, and 08:00 the next day */
	char *number = request(f, VA, "张桂兰", "白水镇王家村", KIN, night);
	char cmd[64];

	/* the request reaches the staff at once, at night too */
	assert_int_equal(due(f, night + 10, LI), 1);
	snprintf(cmd, sizeof(cmd), "接 %s", number);
	free(say(f, LI, cmd, night + 600));
	/* the staff's reply goes at once; the applicant's and the contact's notifications wait */
	assert_int_equal(due(f, night + 601, LI), 1);
	assert_int_equal(due(f, night + 601, VA), 0);
	assert_int_equal(due(f, morning - 1, VA), 0);
	assert_int_equal(due(f, morning - 1, KIN), 0);
	assert_int_equal(outbound(f, VA, "notify", NULL), 1);
	assert_int_equal(due(f, morning, NULL), 2);
	free(number);
}

/*
 * Held notifications collapse (issue 13 point 11): four changes in one night
 * give one text in the morning, the newest; a withdrawal cancels what was
 * held and leaves one text.
 */
static void test_held_notifications_collapse(void **state)
{
	struct fx *f = *state;
	int64_t night = TUE10 + 12 * HOUR + 30 * 60, morning = TUE10 + 22 * HOUR;
	char *number = request(f, VA, "张桂兰", "白水镇王家村", KIN, night);
	char cmd[80], *last = NULL;
	const char *steps[] = { "接", "访", "审", "结" };

	assert_int_equal(due(f, night + 10, LI), 1);
	for (size_t i = 0; i < ARRAY_LEN(steps); i++) {
		snprintf(cmd, sizeof(cmd), "%s %s 记录", steps[i], number);
		free(say(f, LI, cmd, night + 600 + 60 * (int64_t)i));
	}
	(void)due(f, night + 900, LI);
	/* the morning: one text each to the applicant and the contact (not four each), the newest: 已办结 */
	assert_int_equal(due(f, morning - 1, VA), 0);
	assert_int_equal(outbound(f, VA, "notify", &last), 4);
	assert_non_null(strstr(last, number));
	free(last);
	assert_int_equal(due(f, morning, NULL), 2);
	free(number);

	/* a withdrawal at night after 接: the held 已派单 is cancelled, one text says withdrawn */
	number = request(f, VB, "李四", "白水镇李家村", NULL, night + 3600);
	snprintf(cmd, sizeof(cmd), "接 %s", number);
	free(say(f, LI, cmd, night + 3700));
	snprintf(cmd, sizeof(cmd), "撤销 %s", number);
	char *r = say(f, VB, cmd, night + 3800);
	assert_non_null(r);
	free(r);
	(void)due(f, night + 3900, LI);
	assert_int_equal(due(f, morning + 3600, VB), 0); /* nothing left waiting: the reply said it at once */
	free(number);
}

/* 查进度 answers with the asker's own cases; 撤销 only their own open one. */
static void test_status_and_withdraw(void **state)
{
	struct fx *f = *state;
	char *na = request(f, VA, "张桂兰", "白水镇王家村", KIN, TUE10);
	char *nb = request(f, VB, "李四", "崆峒镇东关村", NULL, TUE10 + 60);
	char cmd[64], *r, *want, *last = NULL;

	r = say(f, VA, "查询", TUE10 + 120);
	assert_non_null(strstr(r, na));
	assert_null(strstr(r, nb));
	free(r);
	r = say(f, VB, "7", TUE10 + 130);
	assert_non_null(strstr(r, nb));
	assert_null(strstr(r, na));
	free(r);

	/* B tries to withdraw A's case: the same answer as for a number that does not exist, without the number */
	snprintf(cmd, sizeof(cmd), "撤销 %s", na);
	r = say(f, VB, cmd, TUE10 + 180);
	{
		struct menu_var v[] = { { "case.number", "" } };
		want = render(f, "withdraw_bad", v, 1);
		assert_string_equal(r, want);
		free(want);
	}
	assert_null(strstr(r, na));
	free(r);
	assert_status(f, na, "received");
	r = say(f, VB, "撤销 2026-0999", TUE10 + 190);
	{
		struct menu_var v[] = { { "case.number", "" } };
		want = render(f, "withdraw_bad", v, 1);
		assert_string_equal(r, want);
		free(want);
	}
	free(r);

	/* A withdraws: the reply says so; the contact phone and the staff member are told */
	snprintf(cmd, sizeof(cmd), "撤销%s", na);
	r = say(f, VA, cmd, TUE10 + 240);
	{
		struct menu_var v[] = { { "case.number", na } };
		want = render(f, "withdraw_done", v, 1);
		assert_string_equal(r, want);
		free(want);
	}
	free(r);
	assert_status(f, na, "withdrawn");
	assert_int_equal(outbound(f, VA, "notify", NULL), 0);
	assert_int_equal(outbound(f, KIN, "notify", &last), 1);
	assert_text(f, last, "notify_withdrawn", na);
	free(last);
	assert_int_equal(outbound(f, LI, "staff", &last), 2);
	assert_non_null(strstr(last, na));
	free(last);
	/* again: closed now */
	r = say(f, VA, cmd, TUE10 + 300);
	assert_non_null(strstr(r, na));
	assert_string_not_equal(r, text(f, "withdraw_done"));
	free(r);
	assert_int_equal(events(f, na), 2);
	free(na);
	free(nb);
}

static void test_show_and_list(void **state)
{
	struct fx *f = *state;
	char *first = NULL, cmd[64], *r, phone[16];
	int total = 14;

	for (int i = 0; i < total; i++) {
		snprintf(phone, sizeof(phone), "137000002%02d", i);
		char *n = request(f, phone, "王秀兰", "白水镇王家村", NULL, TUE10 + i * 60);
		if (i == 0)
			first = n;
		else
			free(n);
	}
	/* 查 N: the details and the history, to the one who has it */
	snprintf(cmd, sizeof(cmd), "接 %s", first);
	free(say(f, LI, cmd, TUE10 + HOUR));
	snprintf(cmd, sizeof(cmd), "查 %s", first);
	r = say(f, LI, cmd, TUE10 + HOUR + 60);
	assert_non_null(strstr(r, first));
	assert_non_null(strstr(r, "王秀兰"));
	assert_non_null(strstr(r, "白水镇王家村"));
	assert_non_null(strstr(r, "13700000200"));
	assert_non_null(strstr(r, text(f, "label_assigned")));
	free(r);
	/* the supervisor may look too */
	r = say(f, ZHANG, cmd, TUE10 + HOUR + 70);
	assert_non_null(strstr(r, "王秀兰"));
	free(r);

	/* 列表: as many as fit in the SMS budget, and how many more */
	r = say(f, LI, "列表", TUE10 + HOUR + 120);
	struct sms_count sc;
	sms_count(r, strlen(r), &sc);
	assert_true(sc.segments <= (size_t)f->w->cfg->sms_page_segments);
	int shown = 0;
	for (const char *p = r; (p = strstr(p, "2026-")) != NULL; p++)
		shown++;
	assert_true(shown > 1 && shown < total);
	char more[16];
	snprintf(more, sizeof(more), "%d", total - shown);
	{
		struct menu_var v[] = { { "count", more } };
		char *want = render(f, "staff_list_more", v, 1);
		assert_non_null(strstr(r, want));
		free(want);
	}
	/* new requests first: the accepted one is not among the first shown */
	assert_null(strstr(r, first));
	free(r);
	/* 王建国 has none */
	r = say(f, WANG, "列表", TUE10 + HOUR + 180);
	assert_string_equal(r, text(f, "staff_list_none"));
	free(r);
	free(first);
}

/* ---- hotlinectl's changes go the same way ------------------------------------------------------------- */

static void test_office_changes(void **state)
{
	struct fx *f = *state;
	char *number = request(f, VA, "张桂兰", "白水镇王家村", NULL, TUE10);
	const struct staff_cfg *wang = config_staff_by_phone(f->w->cfg, WANG);
	enum case_outcome o;
	struct case_change ch;
	struct store_case k;
	bool found;
	char *last = NULL;

	f->c.now = TUE10 + HOUR;
	assert_int_equal(store_begin(f->st), 0);
	assert_int_equal(cases_assign(&f->c, number, wang, "hotlinectl", &o), 0);
	assert_int_equal(store_commit(f->st), 0);
	assert_int_equal(o, CASE_OK);
	assert_int_equal(store_case_get(f->st, number, &k, &found), 0);
	assert_string_equal(k.staff, "王建国");
	assert_string_equal(k.status, "assigned");
	store_case_free(&k);
	/* the new one gets the request, the old one a note, the applicant one notification */
	assert_int_equal(outbound(f, WANG, "staff", &last), 1);
	assert_non_null(strstr(last, "白水镇王家村"));
	free(last);
	assert_int_equal(outbound(f, LI, "staff", NULL), 2);
	assert_int_equal(outbound(f, VA, "notify", &last), 1);
	assert_non_null(strstr(last, &WANG[3]));
	free(last);

	/* set-status: the same rules and notifications as an SMS command */
	memset(&ch, 0, sizeof(ch));
	ch.number = number;
	ch.to = CASE_DONE;
	ch.actor = "hotlinectl";
	assert_int_equal(store_begin(f->st), 0);
	assert_int_equal(cases_change(&f->c, &ch, &o, NULL), 0);
	assert_int_equal(store_commit(f->st), 0);
	assert_int_equal(o, CASE_BAD_MOVE);
	ch.to = CASE_VISITED;
	ch.note = "电话核实";
	assert_int_equal(store_begin(f->st), 0);
	assert_int_equal(cases_change(&f->c, &ch, &o, NULL), 0);
	assert_int_equal(store_commit(f->st), 0);
	assert_int_equal(o, CASE_OK);
	assert_status(f, number, "visited");
	assert_int_equal(outbound(f, VA, "notify", NULL), 2);
	/* the staff member who has the case hears that the office moved it */
	assert_int_equal(outbound(f, WANG, "staff", &last), 2);
	assert_non_null(strstr(last, number));
	free(last);
	free(number);
}

/* ---- the clock: escalation, digest, idle forms --------------------------------------------------------- */

static void test_working_seconds(void **state)
{
	struct fx *f = *state;
	const struct config *cfg = f->w->cfg;
	int64_t fri16 = TUE10 + 3 * DAY + 6 * HOUR; /* Friday 16:00 */

	assert_int_equal(cases_working_seconds(cfg, TUE10, TUE10 + HOUR), HOUR);
	/* Tuesday 16:00 to Wednesday 10:00: 1.5 + 1.5 hours */
	assert_int_equal(cases_working_seconds(cfg, TUE10 + 6 * HOUR, TUE10 + DAY), 3 * HOUR);
	/* nights and weekends do not count: Friday 16:00 to Monday 11:00 is 1.5 + 2.5 */
	assert_int_equal(cases_working_seconds(cfg, fri16, fri16 + 2 * DAY + 19 * HOUR), 4 * HOUR);
	/* a whole week */
	assert_int_equal(cases_working_seconds(cfg, TUE10, TUE10 + 7 * DAY), 5 * 9 * HOUR);
	assert_int_equal(cases_working_seconds(cfg, TUE10, TUE10), 0);
	assert_int_equal(cases_working_seconds(cfg, TUE10, TUE10 - HOUR), 0);
}

static int jobs_at(struct fx *f, int64_t t)
{
	f->c.now = t;
	util_set_time_override(t);
	return cases_jobs_run(&f->c);
}

static void test_escalation(void **state)
{
	struct fx *f = *state;
	int64_t fri16 = TUE10 + 3 * DAY + 6 * HOUR; /* Friday 16:00: 1.5 working hours left that day */
	int64_t mon = fri16 + 2 * DAY + 16 * HOUR;  /* Monday 08:00 */
	char *number = request(f, VA, "张桂兰", "白水镇王家村", NULL, fri16);
	char *other = request(f, VB, "李四", "崆峒镇东关村", NULL, fri16 + 60);
	char cmd[64];
	struct store_case k;
	bool found;

	/* 王建国 accepts his at once: an accepted request never escalates */
	snprintf(cmd, sizeof(cmd), "接 %s", other);
	free(say(f, WANG, cmd, fri16 + 120));
	/* over the weekend nothing happens; Monday 10:59 is 3 h 59 of working time */
	assert_int_equal(jobs_at(f, fri16 + 2 * HOUR), 0);
	assert_int_equal(jobs_at(f, mon + 2 * HOUR + 59 * 60), 0);
	assert_int_equal(sent_text(f, LI, "staff_reminder"), 0);
	assert_int_equal(sent_text(f, ZHANG, "supervisor_escalated"), 0);
	/* Monday 11:00 (and the seconds the form took): sent again to 李秀英, the supervisor told, with who has it */
	assert_int_equal(jobs_at(f, mon + 3 * HOUR + 10), 0);
	assert_int_equal(sent_text(f, LI, "staff_reminder"), 1);
	assert_int_equal(sent_text(f, ZHANG, "supervisor_escalated"), 1);
	char *last = NULL;
	outbound(f, ZHANG, "staff", &last);
	assert_non_null(strstr(last, number));
	assert_non_null(strstr(last, "李秀英"));
	free(last);
	assert_int_equal(store_case_get(f->st, number, &k, &found), 0);
	assert_true(k.escalated_at > 0 && k.resent_at > 0);
	store_case_free(&k);
	/* staff alerts are never held: due at once */
	assert_true(due(f, mon + 3 * HOUR, ZHANG) >= 1);
	/* once per case */
	assert_int_equal(jobs_at(f, mon + 4 * HOUR), 0);
	assert_int_equal(jobs_at(f, mon + DAY + 4 * HOUR), 0);
	assert_int_equal(sent_text(f, LI, "staff_reminder"), 1);
	assert_int_equal(sent_text(f, ZHANG, "supervisor_escalated"), 1);
	assert_int_equal(sent_text(f, WANG, "staff_reminder"), 0);
	/* escalation does not move the case */
	assert_status(f, number, "received");
	free(number);
	free(other);
}

static void test_digest(void **state)
{
	struct fx *f = *state;
	int64_t wed8 = TUE10 + DAY - 2 * HOUR; /* Wednesday 08:00 */
	char *a = request(f, VA, "张桂兰", "白水镇王家村", NULL, TUE10);
	char *b = request(f, VB, "李四", "白水镇李家村", NULL, TUE10 + 60);
	char cmd[64], *last = NULL;

	snprintf(cmd, sizeof(cmd), "接 %s", b);
	free(say(f, LI, cmd, TUE10 + 120));
	/* before its time nothing; at 08:00 each staff member with open cases, once */
	assert_int_equal(jobs_at(f, wed8 - 60), 0);
	assert_int_equal(sent_text(f, LI, "staff_digest"), 0);
	assert_int_equal(jobs_at(f, wed8), 0);
	assert_int_equal(sent_text(f, LI, "staff_digest"), 1);
	assert_int_equal(sent_text(f, ZHANG, "staff_digest"), 1); /* the supervisor: every open case */
	assert_int_equal(sent_text(f, WANG, "staff_digest"), 0);  /* nothing open */
	outbound(f, LI, "staff", &last);
	{
		/* a is new and overdue (Tuesday 10:00 to 17:30 is 7.5 working hours), b in hand */
		struct menu_var v[] = { { "count", "2" }, { "count.new", "1" }, { "count.overdue", "1" },
			{ "count.waiting", "1" } };
		char *want = render(f, "staff_digest", v, ARRAY_LEN(v));
		assert_string_equal(last, want);
		free(want);
	}
	free(last);
	assert_int_equal(jobs_at(f, wed8 + 30 * 60), 0);
	assert_int_equal(jobs_at(f, wed8 + 2 * HOUR), 0);
	assert_int_equal(sent_text(f, LI, "staff_digest"), 1);
	/* after the late window nothing; the next morning again */
	assert_int_equal(jobs_at(f, wed8 + DAY - 60), 0);
	assert_int_equal(sent_text(f, LI, "staff_digest"), 1);
	assert_int_equal(jobs_at(f, wed8 + DAY + 60), 0);
	assert_int_equal(sent_text(f, LI, "staff_digest"), 2);
	free(a);
	free(b);
}

static void test_form_expiry(void **state)
{
	struct fx *f = *state;
	int64_t t = TUE10 + 12 * HOUR; /* 22:00: the note waits for the morning */
	char *r;

	free(say(f, VA, "申请上门", t));
	free(say(f, VA, "张桂兰", t + 60));
	due(f, t + 61, NULL); /* the replies so far are out */
	/* kept until the timeout */
	assert_int_equal(jobs_at(f, t + 60 + 1800 - 1), 0);
	assert_int_equal(outbound(f, VA, "notify", NULL), 0);
	/* then dropped with the note, once */
	assert_int_equal(jobs_at(f, t + 60 + 1801), 0);
	assert_int_equal(jobs_at(f, t + 60 + 1900), 0);
	char *last = NULL;
	assert_int_equal(outbound(f, VA, "notify", &last), 1);
	assert_string_equal(last, text(f, "form_expired"));
	free(last);
	assert_int_equal(due(f, t + 2000, VA), 0);
	assert_int_equal(due(f, t + 10 * HOUR, VA), 1);
	/* 重复 repeats the note; the form is gone: the next message is menu input, no case */
	r = say(f, VA, "重复", t + 10 * HOUR);
	assert_non_null(strstr(r, text(f, "form_expired")));
	free(r);
	r = say(f, VA, "1", t + 10 * HOUR + 60);
	free(r);
	struct store_case_filter cf = { 0 };
	int n = 0;
	cf.applicant = VA;
	assert_int_equal(store_case_each(f->st, &cf, count_case, &n), 0);
	assert_int_equal(n, 0);
}

/* ---- the report --------------------------------------------------------------------------------------- */

static int add_msg(struct fx *f, const char *phone, const char *node, const char *status, int64_t t)
{
	struct store_msg m;
	int64_t id;

	memset(&m, 0, sizeof(m));
	m.channel = CHANNEL_SMS;
	m.direction = DIRECTION_IN;
	m.phone = phone;
	m.text = "x";
	m.text_len = 1;
	m.status = (enum msg_status)msg_status_parse(status);
	m.node = node;
	m.kind = MSG_KIND_TEXT;
	m.created_at = t;
	return store_msg_add(f->st, &m, &id);
}

static void test_report(void **state)
{
	struct fx *f = *state;
	int64_t jan = TUE10 - 30 * DAY;  /* before the period */
	int64_t t = TUE10;
	struct report r;
	char cmd[64];

	/* consultations: 3 低保 (two numbers), 1 高龄; not counted: ignored, staff commands, outside the period */
	assert_int_equal(store_begin(f->st), 0);
	assert_int_equal(add_msg(f, "13500000001", "dibao.amount", "answered", t), 0);
	assert_int_equal(add_msg(f, "13500000001", "dibao", "answered", t + 1), 0);
	assert_int_equal(add_msg(f, "+8613500000002", "dibao.apply", "answered", t + 2), 0);
	assert_int_equal(add_msg(f, "13500000003", "gaoling", "answered", t + 3), 0);
	assert_int_equal(add_msg(f, "10086", NULL, "ignored", t + 4), 0);
	assert_int_equal(add_msg(f, "13500000004", "dibao", "answered", jan), 0);
	assert_int_equal(store_commit(f->st), 0);
	free(say(f, LI, "列表", t + 5)); /* a staff command: not a consultation */

	/* cases: a done in 2 days (visited after 1), a visited after 3 days, a rejected, a received */
	char *c1 = request(f, "13500000011", "甲", "白水镇", NULL, t + 100);
	char *c2 = request(f, "13500000012", "乙", "白水镇", NULL, t + 200);
	char *c3 = request(f, "13500000013", "丙", "白水镇", NULL, t + 300);
	char *c4 = request(f, "13500000014", "丁", "白水镇", NULL, t + 400);
	const struct {
		const char *number, *cmd;
		int64_t at;
	} moves[] = {
		{ c1, "接", t + HOUR }, { c1, "访", t + 100 + DAY }, { c1, "审", t + 100 + DAY + HOUR },
		{ c1, "结", t + 100 + 2 * DAY }, { c2, "接", t + HOUR }, { c2, "访", t + 200 + 3 * DAY },
		{ c3, "退", t + HOUR },
	};
	for (size_t i = 0; i < ARRAY_LEN(moves); i++) {
		snprintf(cmd, sizeof(cmd), "%s %s%s", moves[i].cmd, moves[i].number,
		    strcmp(moves[i].cmd, "退") == 0 ? " 不符合条件" : "");
		char *rep = say(f, LI, cmd, moves[i].at);
		assert_non_null(strstr(rep, moves[i].number));
		free(rep);
	}
	/* a call-back request and a suggestion */
	free(say(f, "13500000015", "人工", t + 500));
	free(say(f, "13500000016", "8", t + 600));
	free(say(f, "13500000016", "村里的路灯坏了三个月了，没人修", t + 700));

	assert_int_equal(report_build(f->st, f->w->menu, f->w->cfg->tz, t - HOUR, t + 10 * DAY, &r), 0);
	/* conversations, not messages: one per number, topic and day (issue 13 point 17): 低保 from two
	 * numbers (the first asked twice), 高龄 once, four forms of 6 steps each, one 人工, one
	 * suggestion in two messages; staff commands are none */
	assert_int_equal(r.consultations, 2 + 1 + 4 + 1 + 1);
	int64_t dibao = -1;
	for (size_t i = 0; i < r.ntopics; i++)
		if (strcmp(r.topics[i].name, menu_node_at(f->w->menu, menu_find(f->w->menu, "dibao"))->title) == 0)
			dibao = r.topics[i].count;
	assert_int_equal(dibao, 2);
	/* 3 consultation numbers + 4 applicants + 1 caller + 1 suggestion */
	assert_int_equal(r.callers, 3 + 4 + 1 + 1);
	assert_int_equal(r.requests, 4);
	assert_int_equal(r.callbacks, 1);
	assert_int_equal(r.by_status[CASE_DONE], 1);
	assert_int_equal(r.by_status[CASE_VISITED], 1);
	assert_int_equal(r.by_status[CASE_REJECTED], 1);
	assert_int_equal(r.by_status[CASE_RECEIVED], 2); /* c4 and the call-back */
	/* visits after 1 and 3 days: median 2; one done after 2 days */
	assert_true(r.median_visit_days > 1.99 && r.median_visit_days < 2.01);
	assert_true(r.median_done_days > 1.99 && r.median_done_days < 2.01);
	assert_int_equal(r.feedback, 1);

	/* CSV: BOM, CRLF, the figures as rows WPS and Excel read */
	char *csv = NULL;
	size_t len = 0;
	FILE *mf = open_memstream(&csv, &len);
	report_write(mf, &r, f->w->cfg, true);
	fclose(mf);
	assert_memory_equal(csv, "\xEF\xBB\xBF", 3);
	assert_non_null(strstr(csv, "\r\n"));
	char row[128];
	snprintf(row, sizeof(row), ",%s,1\r\n", case_status_name(CASE_DONE));
	assert_non_null(strstr(csv, row));
	snprintf(row, sizeof(row), ",%lld\r\n", (long long)r.consultations);
	assert_non_null(strstr(csv, row));
	free(csv);
	report_free(&r);

	/* a period before all of it: nothing but the January message */
	assert_int_equal(report_build(f->st, f->w->menu, f->w->cfg->tz, jan - HOUR, jan + HOUR, &r), 0);
	assert_int_equal(r.consultations, 1);
	assert_int_equal(r.requests + r.callbacks + r.feedback, 0);
	assert_true(r.median_visit_days < 0);
	report_free(&r);
	double v[] = { 5, 1, 3 };
	assert_true(report_median(v, 3) == 3);
	assert_true(report_median(v, 0) < 0);
	free(c1);
	free(c2);
	free(c3);
	free(c4);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_parse_table),
		T(test_numbers),
		T(test_words_unambiguous),
		T(test_move_rules),
		T(test_permissions),
		T(test_routing),
		T(test_staff_flow),
		T(test_staff_errors),
		T(test_supervisor),
		T(test_non_staff_command),
		T(test_quiet_hours),
		T(test_held_notifications_collapse),
		T(test_status_and_withdraw),
		T(test_show_and_list),
		T(test_office_changes),
		T(test_working_seconds),
		T(test_escalation),
		T(test_digest),
		T(test_form_expiry),
		T(test_report),
	};

	/* China has one time zone and no daylight saving; the tests' times are in it */
	setenv("TZ", "CST-8", 1);
	tzset();
	log_init(LOG_LVL_WARN, true);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
