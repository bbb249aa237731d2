/*
 * Content a bureau can stand behind (issue 14), on the shipped menus/:
 * - empty office values: every text falls back to what is always true
 *   (找乡镇政府或村委会，或打12345), and loading warns once per empty value;
 *   a filled value is said;
 * - the main menu is one SMS and has 9 for a call-back;
 * - the referral node names the office and no phone while none is set;
 * - the glossary check flags a term without its plain words;
 * - the lunar calendar on known days (a lunar new year, a leap month), and
 *   market rules across them; the market node lists the next days for the
 *   asker's town (named, or where they live) or the next three anywhere.
 * Every day of 1900-2099 is compared with python3-lunardate by
 * scripts/check-lunar (make test).
 */
#include <dirent.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "diag.h"
#include "engine.h"
#include "lunar.h"
#include "market.h"
#include "menu.h"
#include "session.h"
#include "smstext.h"
#include "hl.h"

/* A copy of the shipped menus/ in a temp folder, plus one extra file; a config with these office values. */
struct env {
	char dir[PATH_MAX];
	char menus[PATH_MAX + 16];
	struct config *cfg;
	struct menu *m;
	struct diag d;
};

static void copy_file(const char *from, const char *to)
{
	FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
	char buf[8192];
	size_t n;

	assert_non_null(a);
	assert_non_null(b);
	while ((n = fread(buf, 1, sizeof(buf), a)) > 0)
		assert_int_equal(fwrite(buf, 1, n, b), n);
	fclose(a);
	fclose(b);
}

static void env_open(struct env *e, const char *office, const char *extra_name, const char *extra)
{
	char src[PATH_MAX], path[PATH_MAX * 2 + 8];
	DIR *dh;
	struct dirent *de;
	FILE *f;

	memset(e, 0, sizeof(*e));
	snprintf(e->dir, sizeof(e->dir), "/tmp/test_content-XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	snprintf(e->menus, sizeof(e->menus), "%s/menus", e->dir);
	assert_int_equal(mkdir(e->menus, 0700), 0);
	snprintf(src, sizeof(src), "%s/menus", hl_src_dir());
	dh = opendir(src);
	assert_non_null(dh);
	while ((de = readdir(dh)) != NULL) {
		size_t n = strlen(de->d_name);
		if (n < 5 || strcmp(de->d_name + n - 4, ".cfg") != 0)
			continue;
		if (extra_name && strcmp(de->d_name, extra_name) == 0)
			continue; /* replaced below */
		char from[PATH_MAX * 2], to[PATH_MAX * 2];
		snprintf(from, sizeof(from), "%s/%s", src, de->d_name);
		snprintf(to, sizeof(to), "%s/%s", e->menus, de->d_name);
		copy_file(from, to);
	}
	closedir(dh);
	if (extra_name) {
		snprintf(path, sizeof(path), "%s/%s", e->menus, extra_name);
		f = fopen(path, "w");
		assert_non_null(f);
		fputs(extra, f);
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/hotline.cfg", e->dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f,
	    "menus = { dir = \"menus\"; };\noffice = { name = \"崆峒区民政局\"; %s };\n"
	    "modems = ( { name = \"m0\"; model = \"dummy\"; connection = \"none\"; device = \"phone0\"; } );\n",
	    office);
	fclose(f);
	diag_init(&e->d);
	e->cfg = config_load(path, &e->d);
	assert_non_null(e->cfg);
	e->m = menu_load(e->cfg->menus_dir, e->cfg, &e->d);
	if (e->m == NULL)
		diag_print(&e->d, stderr);
	assert_non_null(e->m);
}

static void env_close(struct env *e)
{
	char cmd[PATH_MAX + 16];

	menu_free(e->m);
	config_free(e->cfg);
	diag_free(&e->d);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
	assert_int_equal(system(cmd), 0);
}

static size_t warnings_with(const struct diag *d, const char *frag)
{
	size_t n = 0;

	for (size_t i = 0; i < d->n; i++)
		n += !d->items[i].error && strstr(d->items[i].text, frag) != NULL;
	return n;
}

/* One message from a fresh sender (or the session given); the reply, owned. */
static char *say(
    const struct env *e, struct session *s, const char *text, long today, char *(*place)(void *), const char **node)
{
	struct engine_in in = {
		.text = text, .len = strlen(text), .phone = "13700000001", .today = today, .known_place = place
	};
	struct engine_out out;

	engine_step(e->m, s, &in, &out);
	if (node)
		*node = menu_node_at(e->m, out.node)->id;
	char *r = out.reply ? strdup(out.reply) : strdup("");
	engine_out_free(&out);
	return r;
}

static const char *page_of(const struct menu *m, const char *id, size_t p)
{
	int i = menu_find(m, id);

	assert_true(i >= 0);
	assert_true(p < menu_node_at(m, i)->npages);
	return menu_node_at(m, i)->pages[p];
}

static void test_empty_office_falls_back(void **state)
{
	struct env e;
	(void)state;

	env_open(&e, "address = \"\"; hours = \"\"; phone = \"\";", NULL, NULL);
	/* one warning per empty value, naming it */
	assert_int_equal(warnings_with(&e.d, "office.phone 是空的"), 1);
	assert_int_equal(warnings_with(&e.d, "office.address 是空的"), 1);
	assert_int_equal(warnings_with(&e.d, "office.hours 是空的"), 1);
	const char *contact = page_of(e.m, "contact", 0);
	assert_non_null(strstr(contact, "找乡镇政府或村委会，或打12345"));
	assert_null(strstr(contact, "电话："));
	assert_null(strstr(contact, "地址："));
	assert_null(strstr(contact, "上班："));
	/* no page and no text says an empty value's label or a made-up number */
	for (size_t i = 0; i < menu_count(e.m); i++)
		for (size_t p = 0; p < menu_node_at(e.m, (int)i)->npages; p++) {
			const char *t = menu_node_at(e.m, (int)i)->pages[p];
			assert_null(strstr(t, "0933-0000000"));
			assert_null(strstr(t, "或打、"));
			assert_null(strstr(t, "打，"));
			assert_null(strstr(t, "{?"));
		}
	assert_non_null(strstr(menu_text(e.m, "callback_ack"), "或打12345"));
	assert_non_null(strstr(menu_text(e.m, "rate_limited"), "或打12345"));
	assert_null(strstr(menu_text(e.m, "call_callback"), "（"));
	env_close(&e);

	/* filled in: said, and no warning */
	env_open(&e, "address = \"测试路1号\"; hours = \"周一至周五\"; phone = \"0933-1234567\";", NULL, NULL);
	assert_int_equal(warnings_with(&e.d, "is empty"), 0);
	contact = page_of(e.m, "contact", 0);
	assert_non_null(strstr(contact, "电话：0933-1234567"));
	assert_non_null(strstr(contact, "地址：测试路1号"));
	assert_non_null(strstr(menu_text(e.m, "callback_ack"), "或打0933-1234567、12345"));
	assert_non_null(strstr(page_of(e.m, "dibao.amount", 2), "0933-1234567、12345"));
	env_close(&e);
}

static void test_render_optional_parts(void **state)
{
	(void)state;
	struct menu_var v[] = { { "a", "甲" }, { "b", "" } };
	char *r = menu_render("x{?[{a}]}y{?[{b}]}z{?[{c}]}", v, 2);
	/* a has a value: kept; b is empty: dropped; c is unknown: dropped */
	assert_string_equal(r, "x[甲]yz");
	free(r);
}

static void test_main_menu_one_sms(void **state)
{
	struct env e;
	struct sms_count c;
	(void)state;

	env_open(&e, "address = \"\"; hours = \"\"; phone = \"\";", NULL, NULL);
	const char *root = page_of(e.m, "root", 0);
	sms_count(root, strlen(root), &c);
	assert_int_equal(c.segments, 1);
	assert_true(c.chars <= 70);
	assert_int_equal(menu_node_at(e.m, menu_root(e.m))->options[9], menu_find(e.m, "human"));
	/* every page of every plain node ends with the digit to send next */
	for (size_t i = 0; i < menu_count(e.m); i++) {
		const struct menu_node *n = menu_node_at(e.m, (int)i);
		if (n->action != MENU_ACT_NONE)
			continue;
		for (size_t p = 0; p < n->npages; p++) {
			const char *last = strrchr(n->pages[p], '\n');
			last = last ? last + 1 : n->pages[p];
			assert_non_null(strpbrk(last, "0123456789"));
		}
	}
	env_close(&e);
}

static void test_referral(void **state)
{
	struct env e;
	struct session s;
	const char *node;
	(void)state;

	env_open(&e, "address = \"\"; hours = \"\"; phone = \"\";", NULL, NULL);
	static const struct {
		const char *text, *node, *office;
	} cases[] = {
		{ "我的养老金咋还没到", "referral.pension", "人社局" },
		{ "残疾人两项补贴找谁", "referral.disability", "残联" },
		{ "住院报销比例是多少", "referral.medical", "医保局" },
		{ "危房改造咋申请", "referral.housing", "住建局" },
		{ "孙子上户口去哪", "referral.hukou", "派出所" },
		{ "想找个公益岗", "referral.jobs", "人社局" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		session_init(&s, "k", "13700000001", CHANNEL_SMS);
		char *r = say(&e, &s, cases[i].text, 0, NULL, &node);
		if (strcmp(node, cases[i].node) != 0)
			fail_msg("%s: reached %s, want %s", cases[i].text, node, cases[i].node);
		assert_non_null(strstr(r, cases[i].office));
		assert_null(strstr(r, "电话")); /* no phone configured: none said */
		assert_non_null(strstr(r, "12345"));
		free(r);
		session_clear(&s);
	}
	/* and by digits from the contact page: 2, then 3 */
	session_init(&s, "k", "13700000001", CHANNEL_SMS);
	free(say(&e, &s, "电话", 0, NULL, &node));
	assert_string_equal(node, "contact");
	free(say(&e, &s, "2", 0, NULL, &node));
	assert_string_equal(node, "referral");
	free(say(&e, &s, "3", 0, NULL, &node));
	assert_string_equal(node, "referral.medical");
	session_clear(&s);
	env_close(&e);
}

static void test_glossary_flags(void **state)
{
	struct env e;
	(void)state;

	env_open(&e, "address = \"\"; hours = \"\"; phone = \"\";", NULL, NULL);
	assert_int_equal(warnings_with(&e.d, "没加大白话解释"), 0);
	env_close(&e);
	env_open(&e, "address = \"\"; hours = \"\"; phone = \"\";", "99-extra.cfg",
	    "nodes = ( { id = \"dibao.extra\"; title = \"x\"; keywords = [\"测试公示\"];\n"
	    "  text = \"在村里公示7天，工作日30天。\\n回复0返回\"; },\n"
	    "  { id = \"dibao.extra2\"; title = \"y\"; keywords = [\"测试公示二\"];\n"
	    "  text = \"在村里公示（贴出来让大家看）7天。\\n回复0返回\"; } );\n");
	assert_int_equal(warnings_with(&e.d, "\"dibao.extra\" 的文字用了 \"公示\"，没加大白话解释"), 1);
	assert_int_equal(warnings_with(&e.d, "\"dibao.extra\" 的文字用了 \"工作日\"，没加大白话解释"), 1);
	assert_int_equal(warnings_with(&e.d, "\"dibao.extra2\" 的文字用了"), 0);
	env_close(&e);
}

static long day(int y, int m, int d)
{
	return lunar_days_from_civil(y, m, d);
}

static void test_lunar_known_days(void **state)
{
	struct lunar_date l;
	(void)state;

	/* the lunar new year of 2026 */
	assert_true(lunar_from_civil(2026, 2, 16, &l));
	assert_int_equal(l.year, 2025);
	assert_int_equal(l.month, 12);
	assert_int_equal(l.day, 29);
	assert_true(lunar_from_civil(2026, 2, 17, &l));
	assert_int_equal(l.year, 2026);
	assert_int_equal(l.month, 1);
	assert_int_equal(l.day, 1);
	assert_false(l.leap);
	/* 2025's leap sixth month: 六月三十, then 闰六月初一 … 闰六月廿九, then 七月初一 */
	assert_true(lunar_from_civil(2025, 7, 24, &l));
	assert_true(l.month == 6 && l.day == 30 && !l.leap);
	assert_true(lunar_from_civil(2025, 7, 25, &l));
	assert_true(l.month == 6 && l.day == 1 && l.leap);
	assert_true(lunar_from_civil(2025, 8, 22, &l));
	assert_true(l.month == 6 && l.day == 29 && l.leap);
	assert_true(lunar_from_civil(2025, 8, 23, &l));
	assert_true(l.month == 7 && l.day == 1 && !l.leap);
	/* the ends of the table */
	assert_true(lunar_from_civil(1900, 1, 31, &l));
	assert_true(l.year == 1900 && l.month == 1 && l.day == 1);
	assert_false(lunar_from_civil(1900, 1, 30, &l));
	assert_true(lunar_from_civil(2100, 2, 8, &l));
	assert_true(l.year == 2099 && l.month == 12 && l.day == 30);
	assert_false(lunar_from_civil(2100, 2, 9, &l));
	/* civil round trip */
	int y, m, d;
	lunar_civil_from_days(day(2024, 2, 29), &y, &m, &d);
	assert_true(y == 2024 && m == 2 && d == 29);
}

static void test_market_rules(void **state)
{
	struct market_rule r;
	const char *why;
	(void)state;

	assert_true(market_rule_parse("农历逢三、六、九", &r, &why));
	/* across the lunar new year 2026: 腊月廿六, 廿九 (no 三十 that year), 正月初三, 初六 */
	long want[] = { day(2026, 2, 13), day(2026, 2, 16), day(2026, 2, 19), day(2026, 2, 22) };
	size_t k = 0;
	for (long x = day(2026, 2, 11); x <= day(2026, 2, 23); x++)
		if (market_rule_on(&r, x)) {
			assert_true(k < 4);
			assert_int_equal(x, want[k]);
			k++;
		}
	assert_int_equal(k, 4);
	/* in 2025's leap sixth month: 闰六月初三 is 2025-07-27, 初六 07-30 */
	assert_true(market_rule_on(&r, day(2025, 7, 27)));
	assert_false(market_rule_on(&r, day(2025, 7, 28)));
	assert_true(market_rule_on(&r, day(2025, 7, 30)));
	market_rule_free(&r);

	assert_true(market_rule_parse("农历逢3、6、9", &r, &why));
	assert_true(market_rule_on(&r, day(2026, 2, 19)));
	market_rule_free(&r);
	assert_true(market_rule_parse("农历逢三六九", &r, &why));
	assert_true(market_rule_on(&r, day(2026, 2, 22)));
	assert_false(market_rule_on(&r, day(2026, 2, 21)));
	market_rule_free(&r);
	assert_true(market_rule_parse("农历逢五、十", &r, &why));
	assert_true(market_rule_on(&r, day(2026, 2, 26))); /* 正月初十 */
	market_rule_free(&r);
	assert_true(market_rule_parse("农历初一、十五", &r, &why));
	assert_true(market_rule_on(&r, day(2026, 2, 17)));
	assert_true(market_rule_on(&r, day(2026, 3, 3))); /* 正月十五 */
	assert_false(market_rule_on(&r, day(2026, 3, 4)));
	market_rule_free(&r);
	assert_true(market_rule_parse("每月5、15、25", &r, &why));
	assert_true(market_rule_on(&r, day(2026, 12, 15)));
	assert_false(market_rule_on(&r, day(2026, 12, 16)));
	market_rule_free(&r);
	assert_true(market_rule_parse("2026-12-05、2027-01-09", &r, &why));
	assert_true(market_rule_on(&r, day(2027, 1, 9)));
	assert_false(market_rule_on(&r, day(2027, 1, 10)));
	market_rule_free(&r);
	assert_false(market_rule_parse("逢集", &r, &why));
	assert_false(market_rule_parse("每周三", &r, &why));
	assert_false(market_rule_parse("农历逢十二", &r, &why));
	assert_false(market_rule_parse("每月32", &r, &why));
}

static char *lives_in_baishui(void *arg)
{
	(void)arg;
	return strdup("白水镇某村2组");
}

static const char markets_cfg[] =
    "markets = (\n"
    "  { town = \"崆峒镇\"; place = \"寨子街村农贸市场\"; rule = \"农历逢三、六、九\"; time = \"上午\"; },\n"
    "  { town = \"白水镇\"; place = \"白水街集市\"; rule = \"每月5、15、25\"; }\n"
    ");\n"
    "nodes = ( { id = \"market\"; title = \"救助赶大集\"; action = \"market\";\n"
    "  keywords = [\"赶集\", \"大集\", \"啥时候来我们镇\"]; text = \"赶集\"; } );\n";

static void test_market_node(void **state)
{
	struct env e;
	struct session s;
	const char *node;
	char *r;
	(void)state;

	env_open(&e, "address = \"\"; hours = \"\"; phone = \"\";", "22-market.cfg", markets_cfg);
	/* anywhere: the next three, across the lunar new year */
	session_init(&s, "k", "13700000001", CHANNEL_SMS);
	r = say(&e, &s, "啥时候赶大集", day(2026, 2, 14), NULL, &node);
	assert_string_equal(node, "market");
	const char *a = strstr(r, "2月15日"), *b = strstr(r, "2月16日（农历腊月廿九）崆峒镇"),
		   *c = strstr(r, "2月19日（农历正月初三）");
	if (!(a && b && c && a < b && b < c))
		fail_msg("reply: %s", r);
	assert_non_null(strstr(a, "白水镇白水街集市"));
	assert_null(strstr(r, "2月22日")); /* three only */
	assert_non_null(strstr(r, "回复0返回"));
	free(r);
	session_clear(&s);

	/* a town named in the message: its days only */
	session_init(&s, "k", "13700000001", CHANNEL_SMS);
	r = say(&e, &s, "崆峒镇的大集哪天", day(2025, 7, 25), NULL, &node);
	assert_non_null(strstr(r, "7月27日（农历闰六月初三）崆峒镇寨子街村农贸市场，上午"));
	assert_non_null(strstr(r, "7月30日（农历闰六月初六）"));
	assert_non_null(strstr(r, "8月2日（农历闰六月初九）"));
	assert_null(strstr(r, "白水镇"));
	free(r);
	session_clear(&s);

	/* the asker's town from where they live */
	session_init(&s, "k", "13700000001", CHANNEL_SMS);
	r = say(&e, &s, "啥时候来我们镇", day(2026, 12, 2), lives_in_baishui, &node);
	assert_string_equal(node, "market");
	assert_non_null(strstr(r, "12月5日"));
	assert_non_null(strstr(r, "12月15日"));
	assert_non_null(strstr(r, "12月25日"));
	assert_null(strstr(r, "崆峒镇"));
	free(r);
	session_clear(&s);

	/* no date known: no days, where to ask */
	session_init(&s, "k", "13700000001", CHANNEL_SMS);
	r = say(&e, &s, "赶集", 0, NULL, &node);
	assert_non_null(strstr(r, "12345"));
	free(r);
	session_clear(&s);
	env_close(&e);

	/* the shipped schedule is empty: the node says so and where to ask */
	env_open(&e, "address = \"\"; hours = \"\"; phone = \"\";", NULL, NULL);
	session_init(&s, "k", "13700000001", CHANNEL_SMS);
	r = say(&e, &s, "大集啥时候来", day(2026, 12, 2), NULL, &node);
	assert_string_equal(node, "market");
	assert_non_null(strstr(r, "还没登记"));
	assert_non_null(strstr(r, "找乡镇政府或村委会，或打12345"));
	free(r);
	session_clear(&s);
	env_close(&e);
}

static void test_situations_and_why(void **state)
{
	struct env e;
	struct menu_match mm;
	(void)state;

	env_open(&e, "address = \"\"; hours = \"\"; phone = \"\";", NULL, NULL);
	/* no keyword: the weights decide, and why says so word by word */
	char *why = menu_why(e.m, "冬天没钱买炭", -1, &mm);
	assert_int_equal(mm.node, menu_find(e.m, "linshi"));
	assert_int_equal(mm.via, MENU_VIA_SITUATION);
	assert_non_null(strstr(why, "情境词“炭” -> linshi +2"));
	assert_non_null(strstr(why, "情境得分：linshi 5"));
	assert_non_null(strstr(why, "结果：linshi"));
	free(why);
	/* a cue below the situation's node still applies */
	why = menu_why(e.m, "房子塌了要带啥材料", -1, &mm);
	assert_int_equal(mm.node, menu_find(e.m, "linshi.apply"));
	free(why);
	/* a keyword decides first: situation words do not count then */
	why = menu_why(e.m, "冬天没钱买炭想办低保", -1, &mm);
	assert_int_equal(menu_node_at(e.m, mm.node)->topic, menu_find(e.m, "dibao"));
	assert_int_not_equal(mm.via, MENU_VIA_SITUATION);
	free(why);
	/* one light word alone is below the threshold: not understood */
	why = menu_why(e.m, "冬天", -1, &mm);
	assert_int_equal(mm.node, -1);
	assert_non_null(strstr(why, "（不到门槛）"));
	free(why);
	/* the same through menu_match() */
	menu_match(e.m, "孙女她爸判了刑", strlen("孙女她爸判了刑"), -1, &mm);
	assert_int_equal(menu_node_at(e.m, mm.node)->topic, menu_find(e.m, "ertong"));
	env_close(&e);
}

/* The §10 corrections and the amounts' meaning (issue 14.2-4), as the pages say them. */
static void test_figures_and_corrections(void **state)
{
	struct env e;
	(void)state;

	env_open(&e, "address = \"\"; hours = \"\"; phone = \"\";", NULL, NULL);
	/* 特困: minors supported to 18, and beyond while in school; no "under 16" */
	assert_non_null(strstr(page_of(e.m, "tekun.who", 2), "供养到18岁"));
	assert_non_null(strstr(page_of(e.m, "tekun.who", 2), "还在上学"));
	/* the 2021 disability list */
	assert_non_null(strstr(page_of(e.m, "tekun.who", 1), "智力、精神残疾1到3级"));
	assert_non_null(strstr(page_of(e.m, "tekun.who", 1), "2021年"));
	for (size_t i = 0; i < menu_count(e.m); i++)
		for (size_t p = 0; p < menu_node_at(e.m, (int)i)->npages; p++) {
			const char *t = menu_node_at(e.m, (int)i)->pages[p];
			assert_null(strstr(t, "16岁"));
			assert_null(strstr(t, "不分城里和农村")); /* contradicted the separate standards */
		}
	/* 临时救助: the Gansu 2021 way of computing it, the small emergency grant, the county for large ones */
	const char *l1 = page_of(e.m, "linshi.amount", 0), *l2 = page_of(e.m, "linshi.amount", 1);
	assert_non_null(strstr(l1, "甘肃省2021年"));
	assert_non_null(strstr(l1, "低保线（每人每月）×家里人数×困难的月数"));
	assert_non_null(strstr(l1, "6个月"));
	assert_non_null(strstr(l1, "最多800元"));
	assert_non_null(strstr(l2, "区政府批"));
	/* 低保: the line first, then the payment by class, villagers first; city on page 3 */
	const char *d1 = page_of(e.m, "dibao.amount", 0), *d2 = page_of(e.m, "dibao.amount", 1),
		   *d3 = page_of(e.m, "dibao.amount", 2);
	assert_non_null(strstr(d1, "家里每人每年收入低于这个数，才能办"));
	assert_non_null(strstr(d1, "农村每人每年4788元"));
	assert_null(strstr(d1, "7476"));
	assert_non_null(strstr(d2, "按家里困难程度分4类"));
	assert_non_null(strstr(d2, "3类1008元，4类696元"));
	assert_non_null(strstr(d3, "7476"));
	/* every figure page names its year */
	assert_non_null(strstr(d2, "2021年"));
	assert_non_null(strstr(d3, "2021年"));
	assert_non_null(strstr(page_of(e.m, "tekun.amount", 0), "2021年"));
	assert_non_null(strstr(page_of(e.m, "ertong.amount", 0), "2020年1月"));
	/* 30 working days for 低保 */
	assert_non_null(strstr(page_of(e.m, "dibao.review", 1), "30个工作日"));
	/* 高龄补贴: set locally, whom to ask, what to bring, not income for 特困 */
	const char *g = page_of(e.m, "gaoling.amount", 0);
	assert_non_null(strstr(g, "由当地定"));
	assert_non_null(strstr(g, "身份证、户口本"));
	assert_non_null(strstr(g, "村委会或乡镇政府"));
	assert_non_null(strstr(g, "不算进收入"));
	env_close(&e);
}

/* 一站式帮办 (issue 14.9): we do the whole application; 6 sends someone to look. */
static void test_onestop(void **state)
{
	struct env e;
	struct session s;
	const char *node;
	char *r;
	(void)state;

	env_open(&e, "address = \"\"; hours = \"\"; phone = \"\";", NULL, NULL);
	session_init(&s, "k", "13700000001", CHANNEL_SMS);
	r = say(&e, &s, "不知道该办啥", 0, NULL, &node);
	assert_string_equal(node, "onestop");
	assert_non_null(strstr(r, "不用懂政策"));
	assert_non_null(strstr(r, "不知道该办啥？回复6，我们派人上门帮您看"));
	free(r);
	r = say(&e, &s, "6", 0, NULL, &node);
	assert_string_equal(node, "zhitongche.apply"); /* the home-visit form starts */
	assert_non_null(strstr(r, menu_text(e.m, "form_name")));
	free(r);
	session_clear(&s);
	env_close(&e);
}

static void test_callback_advertised(void **state)
{
	struct env e;
	(void)state;

	env_open(&e, "address = \"\"; hours = \"\"; phone = \"\";", NULL, NULL);
	assert_non_null(strstr(page_of(e.m, "contact", 0), "响一声就挂"));
	assert_non_null(strstr(page_of(e.m, "contact", 0), "9找人打给您"));
	env_close(&e);
	/* call-backs off: the contact page does not promise one */
	env_open(&e, "address = \"\"; hours = \"\"; phone = \"\"; }; calls = { callback = false;", NULL, NULL);
	assert_null(strstr(page_of(e.m, "contact", 0), "响一声就挂"));
	env_close(&e);
}

static void test_bad_market_rule(void **state)
{
	char dir[] = "/tmp/test_content-market-XXXXXX", path[PATH_MAX];
	struct diag d;
	struct config *cfg;
	FILE *f;
	(void)state;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/m.cfg", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("markets = (\n  { town = \"白水镇\"; rule = \"逢集\"; }\n);\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/hotline.cfg", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f,
	    "menus = { dir = \"%s\"; };\noffice = { name = \"x\"; };\n"
	    "modems = ( { name = \"m0\"; model = \"dummy\"; connection = \"none\"; device = \"p\"; } );\n",
	    dir);
	fclose(f);
	diag_init(&d);
	cfg = config_load(path, &d);
	assert_non_null(cfg);
	assert_null(menu_load(dir, cfg, &d));
	bool seen = false;
	char want[PATH_MAX + 64];
	snprintf(want, sizeof(want), "%s/m.cfg:2: 错误：集市规则 \"逢集\"：没写哪一天", dir);
	for (size_t i = 0; i < d.n; i++)
		seen |= strstr(d.items[i].text, want) != NULL;
	if (!seen)
		diag_print(&d, stderr);
	assert_true(seen);
	diag_free(&d);
	config_free(cfg);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	assert_int_equal(system(path), 0);
}

/* hotlinectl ... with the shipped config; its stdout (caller frees), NULL when the tool is not built. */
static char *ctl_out(const char *args)
{
	const char *build = getenv("HOTLINE_BUILD");
	char cmd[PATH_MAX * 3], buf[4096];
	struct buf {
		char *p;
		size_t n;
	} out = { NULL, 0 };
	FILE *p;
	size_t n;

	snprintf(cmd, sizeof(cmd), "%s/hotlinectl", build && *build ? build : "build");
	if (access(cmd, X_OK) != 0) {
		fprintf(stderr, "%s is not built: `make` first\n", cmd);
		return NULL;
	}
	snprintf(cmd, sizeof(cmd), "'%s/hotlinectl' -c '%s/config/hotline.cfg' %s 2>/dev/null",
	    build && *build ? build : "build", hl_src_dir(), args);
	p = popen(cmd, "r");
	assert_non_null(p);
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0) {
		out.p = realloc(out.p, out.n + n + 1);
		assert_non_null(out.p);
		memcpy(out.p + out.n, buf, n);
		out.n += n;
		out.p[out.n] = '\0';
	}
	assert_int_equal(pclose(p), 0);
	return out.p ? out.p : strdup("");
}

/* The tool: `menu why TEXT` explains a landing; `menu show` reports the main menu as 1 SMS. */
static void test_cli_why_and_show(void **state)
{
	char *o;
	(void)state;

	o = ctl_out("menu why '孙子他爸坐牢了他妈改嫁了'");
	if (o == NULL)
		skip();
	assert_non_null(strstr(o, "关键词“改嫁” -> ertong"));
	assert_non_null(strstr(o, "结果：ertong"));
	free(o);
	o = ctl_out("menu why '冬天没钱买炭'");
	assert_non_null(strstr(o, "情境词“炭” -> linshi +2"));
	assert_non_null(strstr(o, "结果：linshi（临时救助），依据：情境词"));
	free(o);
	o = ctl_out("menu why '回复6'");
	assert_non_null(strstr(o, "结果：数字选项 6"));
	free(o);
	o = ctl_out("menu show");
	assert_non_null(strstr(o, "主菜单："));
	assert_non_null(strstr(o, "，UCS-2，1 条短信\n"));
	assert_non_null(strstr(o, "从主菜单走到这里："));
	assert_null(strstr(o, " SMS\n"));
	free(o);
}

/* `sim` talks to the office in Chinese: the prompt, a reply's node, and why a message gets no reply. */
static void test_cli_sim(void **state)
{
	char in[] = "/tmp/test_content-sim-XXXXXX", args[PATH_MAX + 64], *o;
	int fd;
	(void)state;

	fd = mkstemp(in);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "低保\n", strlen("低保\n")), (ssize_t)strlen("低保\n"));
	close(fd);
	snprintf(args, sizeof(args), "sim --phone 13900000001 < '%s'", in);
	o = ctl_out(args);
	if (o == NULL) {
		unlink(in);
		skip();
	}
	assert_non_null(strstr(o, "以 13900000001 的身份给热线发短信"));
	assert_non_null(strstr(o, "[dibao] "));
	free(o);
	/* a short code is not answered, and sim says why in the office's words */
	snprintf(args, sizeof(args), "sim --phone 10086 < '%s'", in);
	o = ctl_out(args);
	assert_non_null(strstr(o, "（不回复：发信方不是手机号（短号或名字））"));
	free(o);
	unlink(in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_optional_parts),
		cmocka_unit_test(test_empty_office_falls_back),
		cmocka_unit_test(test_main_menu_one_sms),
		cmocka_unit_test(test_referral),
		cmocka_unit_test(test_glossary_flags),
		cmocka_unit_test(test_lunar_known_days),
		cmocka_unit_test(test_market_rules),
		cmocka_unit_test(test_market_node),
		cmocka_unit_test(test_situations_and_why),
		cmocka_unit_test(test_callback_advertised),
		cmocka_unit_test(test_figures_and_corrections),
		cmocka_unit_test(test_onestop),
		cmocka_unit_test(test_cli_why_and_show),
		cmocka_unit_test(test_cli_sim),
		cmocka_unit_test(test_bad_market_rule),
	};
	return cmocka_run_group_tests_name("content", tests, NULL, NULL);
}
