/*
 * menu: the loader, the matcher and the checker, on the tiny menu set in
 * tests/data/menus/ok (independent of the shipped menus/).
 *
 * - ok/ loads with no error and no warning; placeholders are filled.
 * - Matching, case by case as in menus/README.md: the longest keyword wins,
 *   then the deeper node, then the one defined first; ASCII keywords of up
 *   to 3 letters only as whole words; # is any digit; exact nodes; cues only
 *   under the matched topic (or the sender's); digit fillers.
 * - Every tests/data/menus/bad-* folder (ok/ plus one mistake) reports
 *   exactly the problems its `expect` file lists, at the exact file:line,
 *   both through menu_load() and through `hotlinectl menu check` (exit 1 on
 *   errors, 0 on warnings only, 0 on the shipped menus).
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "diag.h"
#include "menu.h"
#include "normalize.h"
#include "hl.h"
#include "world.h"

static void print_diag(const struct diag *d)
{
	for (size_t i = 0; i < d->n; i++)
		fprintf(stderr, "    got: %s\n", d->items[i].text);
}

struct fixture {
	struct config *cfg;
	struct menu *m;
	char data[PATH_MAX]; /* tests/data, absolute */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char path[PATH_MAX + 32];
	struct diag d;

	snprintf(path, sizeof(path), "%s/tests/data", hl_src_dir());
	if (realpath(path, f->data) == NULL) {
		fprintf(stderr, "%s: not found (set HOTLINE_SRC to the repository)\n", path);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/hotline-test.cfg", f->data);
	diag_init(&d);
	f->cfg = config_load(path, &d);
	if (f->cfg)
		f->m = menu_load(f->cfg->menus_dir, f->cfg, &d);
	if (f->m == NULL || d.n != 0) {
		/* the ok set must stay clean, or the bad-* tests prove nothing */
		fprintf(stderr, "tests/data/menus/ok: %zu errors, %zu warnings\n", d.errors, d.warnings);
		print_diag(&d);
		diag_free(&d);
		return -1;
	}
	diag_free(&d);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	menu_free(f->m);
	config_free(f->cfg);
	free(f);
	return 0;
}

static const struct menu_node *node(const struct menu *m, const char *id)
{
	int i = menu_find(m, id);

	if (i < 0)
		fail_msg("no node \"%s\"", id);
	return menu_node_at(m, i);
}

/* ---- loading ----------------------------------------------------------------------------- */

static void test_ok_structure(void **state)
{
	struct fixture *f = *state;
	const struct menu *m = f->m;
	const struct menu_node *root = node(m, "root"), *dibao = node(m, "dibao"), *amount = node(m, "dibao.amount");
	const char *const *files = menu_files(m);
	size_t nfiles = 0;

	assert_int_equal(menu_count(m), 34);
	assert_int_equal(menu_root(m), menu_find(m, "root"));
	assert_int_equal(menu_find(m, "nothing"), -1);
	/* files in alphabetical order */
	while (files[nfiles])
		nfiles++;
	assert_int_equal(nfiles, 5);
	assert_non_null(strstr(files[0], "/00-main.cfg"));
	assert_non_null(strstr(files[3], "/30-market.cfg"));
	assert_non_null(strstr(files[4], "/texts.cfg"));

	/* levels: the parent by the id, topics, depths */
	assert_int_equal(root->parent, -1);
	assert_int_equal(root->depth, 0);
	assert_int_equal(root->topic, -1);
	assert_int_equal(dibao->parent, menu_root(m));
	assert_int_equal(dibao->depth, 1);
	assert_int_equal(dibao->topic, menu_find(m, "dibao"));
	assert_int_equal(amount->parent, menu_find(m, "dibao"));
	assert_int_equal(amount->depth, 2);
	assert_int_equal(amount->topic, menu_find(m, "dibao"));
	assert_true(menu_within(m, menu_find(m, "dibao.amount"), menu_find(m, "dibao")));
	assert_true(menu_within(m, menu_find(m, "dibao"), menu_find(m, "dibao")));
	assert_false(menu_within(m, menu_find(m, "tekun.amount"), menu_find(m, "dibao")));

	/* options; the main menu as the issue fixes it */
	static const char *const main_menu[] = { NULL, "dibao", "tekun", "linshi", "gaoling", "ertong", "zhitongche",
		"status", "feedback" };
	for (int d = 1; d <= 8; d++)
		assert_int_equal(root->options[d], menu_find(m, main_menu[d]));
	assert_int_equal(root->options[9], -1);
	assert_int_equal(dibao->options[5], menu_find(m, "contact"));
	assert_int_equal(amount->options[1], -1);

	/* actions and flags */
	assert_int_equal(node(m, "zhitongche.apply")->action, MENU_ACT_FORM);
	assert_int_equal(node(m, "status")->action, MENU_ACT_STATUS);
	assert_int_equal(node(m, "feedback")->action, MENU_ACT_FEEDBACK);
	assert_int_equal(node(m, "human")->action, MENU_ACT_CALLBACK);
	assert_int_equal(node(m, "repeat")->action, MENU_ACT_REPEAT);
	assert_int_equal(dibao->action, MENU_ACT_NONE);
	assert_true(node(m, "repeat")->exact);
	assert_true(root->exact);
	assert_false(dibao->exact);
	assert_int_equal(amount->npages, 2);
	assert_int_equal(dibao->npages, 1);
	assert_null(amount->pages[2]);
	assert_string_equal(dibao->title, "低保");
	assert_non_null(strstr(dibao->file, "10-topics.cfg"));
	assert_int_equal(dibao->line, 5);
}

static void test_placeholders_filled(void **state)
{
	struct fixture *f = *state;
	const struct menu *m = f->m;

	/* office.* from the config, amounts from a values group (a string and a number) */
	assert_non_null(strstr(node(m, "root")->pages[0], "您好，测试民政局热线。"));
	assert_string_equal(node(m, "dibao.amount")->pages[0], "2021年低保标准：城市每人每年7476元。回复9下一页");
	assert_string_equal(node(m, "dibao.amount")->pages[1], "农村每人每年4788元。回复0返回");
	assert_string_equal(node(m, "ertong.amount")->pages[0], "每月不低于1000元。回复0返回");
	assert_string_equal(node(m, "contact")->pages[0],
	    "测试民政局\n地址：测试路1号\n电话：0933-1234567\n上班：周一至周五\n回复0返回");
	/* texts: static placeholders filled, runtime ones left for menu_render */
	assert_string_equal(menu_text(m, "rate_limited"), "今天的短信已到上限，急事请打0933-1234567。");
	assert_string_equal(menu_text(m, "callback_ack"), "已记下，编号{case.number}，周一至周五回电。");
	assert_string_equal(menu_text(m, "case_created"), "已提交，编号{case.number}。查进度回复7");
	assert_string_equal(menu_text(m, "ussd_more"), "98更多 0返回");
	assert_null(menu_text(m, "no_such_text"));
}

static void test_render(void **state)
{
	static const struct menu_var vars[] = {
		{ "case.number", "2026-0042" },
		{ "count", "3" },
		{ "form.name", NULL },
	};
	static const struct {
		const char *tmpl, *want;
	} cases[] = {
		{ "编号{case.number}。", "编号2026-0042。" },
		{ "{count}件：{case.number}、{case.number}", "3件：2026-0042、2026-0042" },
		{ "{form.name}", "" },              /* a NULL value is empty */
		{ "{case.other}", "{case.other}" }, /* unknown names stay */
		{ "{", "{" },
		{ "{}", "{}" },
		{ "{Case.Number}", "{Case.Number}" }, /* not a placeholder: upper case */
		{ "{case.number", "{case.number" },
		{ "", "" },
		{ "没有占位符", "没有占位符" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *r = menu_render(cases[i].tmpl, vars, 3);
		if (strcmp(r, cases[i].want) != 0)
			fail_msg("menu_render(\"%s\") = \"%s\", want \"%s\"", cases[i].tmpl, r, cases[i].want);
		free(r);
	}
}

/* ---- matching ---------------------------------------------------------------------------- */

struct match_case {
	const char *text;
	const char *context; /* the sender's node, NULL for none */
	const char *want;    /* NULL: nothing matches */
	enum menu_via via;
};

static void check_match(const struct menu *m, const struct match_case *c)
{
	char *norm = norm_dup(c->text, strlen(c->text), 0);
	struct menu_match mm;
	int ctx = c->context ? menu_find(m, c->context) : -1;

	menu_match(m, norm, strlen(norm), ctx, &mm);
	if (c->want == NULL && mm.node >= 0)
		fail_msg("\"%s\" (at %s) reached \"%s\", want nothing", c->text, c->context ? c->context : "-",
		    menu_node_at(m, mm.node)->id);
	if (c->want != NULL && mm.node != menu_find(m, c->want))
		fail_msg("\"%s\" (at %s) reached \"%s\", want \"%s\"", c->text, c->context ? c->context : "-",
		    mm.node >= 0 ? menu_node_at(m, mm.node)->id : "nothing", c->want);
	if (c->want != NULL && mm.via != c->via)
		fail_msg("\"%s\" reached \"%s\" via %d, want via %d", c->text, c->want, mm.via, c->via);
	if (c->want == NULL && mm.via != MENU_VIA_NONE)
		fail_msg("\"%s\": via %d with no node", c->text, mm.via);
	free(norm);
}

static void test_match_rules(void **state)
{
	static const struct match_case cases[] = {
		{ "低保", NULL, "dibao", MENU_VIA_KEYWORD },
		{ "低包", NULL, "dibao", MENU_VIA_KEYWORD },
		{ "我想问一下低保怎么申请", NULL, "dibao.apply", MENU_VIA_CUE },
		/* the longest keyword wins, wherever it is */
		{ "低保申请", NULL, "dibao.apply", MENU_VIA_KEYWORD },
		{ "特困低保标准", NULL, "dibao.amount", MENU_VIA_KEYWORD },
		/* a tie in length: the deeper node (gaoling.amount is defined after gaoling) */
		{ "高龄补贴", NULL, "gaoling.amount", MENU_VIA_KEYWORD },
		{ "补贴高龄", NULL, "gaoling.amount", MENU_VIA_KEYWORD },
		/* a tie in length and depth: the node defined first, whatever the order in the message */
		{ "特困低保", NULL, "dibao", MENU_VIA_KEYWORD },
		{ "低保特困", NULL, "dibao", MENU_VIA_KEYWORD },
		{ "申请上门", NULL, "zhitongche.apply", MENU_VIA_KEYWORD },
		{ "上门申请", NULL, "zhitongche", MENU_VIA_KEYWORD }, /* 申请 is a cue of 低保, not of 直通车 */
		/* ASCII keywords of up to 3 letters: whole words only */
		{ "db", NULL, "dibao", MENU_VIA_KEYWORD },
		{ "DB!", NULL, "dibao", MENU_VIA_KEYWORD },
		{ "ＤＢ", NULL, "dibao", MENU_VIA_KEYWORD },
		{ "wo yao db", NULL, "dibao", MENU_VIA_KEYWORD },
		{ "db1", NULL, "dibao", MENU_VIA_KEYWORD },
		{ "低保db", NULL, "dibao", MENU_VIA_KEYWORD },
		{ "dbx", NULL, NULL, MENU_VIA_NONE },
		{ "adb", NULL, NULL, MENU_VIA_NONE },
		{ "feedback", NULL, NULL, MENU_VIA_NONE }, /* "db" inside a word */
		{ "tk", NULL, "tekun", MENU_VIA_KEYWORD },
		{ "ztc", NULL, "zhitongche", MENU_VIA_KEYWORD },
		{ "ztcs", NULL, NULL, MENU_VIA_NONE },
		{ "woyaodibaoa", NULL, "dibao", MENU_VIA_KEYWORD }, /* longer ASCII keywords match inside words */
		/* # is any one digit */
		{ "我85岁了", NULL, "gaoling", MENU_VIA_KEYWORD },
		{ "我今年八十五岁", NULL, "gaoling", MENU_VIA_KEYWORD },
		{ "90岁", NULL, "gaoling", MENU_VIA_KEYWORD },
		{ "8岁", NULL, NULL, MENU_VIA_NONE },
		{ "75岁", NULL, NULL, MENU_VIA_NONE },
		{ "8#岁", NULL, NULL, MENU_VIA_NONE },
		/* exact nodes: only the whole message */
		{ "重复", NULL, "repeat", MENU_VIA_KEYWORD },
		{ "重复！", NULL, "repeat", MENU_VIA_KEYWORD },
		{ "CF", NULL, "repeat", MENU_VIA_KEYWORD },
		{ "重复申请低保", NULL, "dibao.apply", MENU_VIA_CUE },
		{ "重复一下", NULL, NULL, MENU_VIA_NONE },
		{ "你好", NULL, "root", MENU_VIA_KEYWORD },
		{ "你好，低保", NULL, "dibao", MENU_VIA_KEYWORD },
		{ "菜单", NULL, "root", MENU_VIA_KEYWORD },
		/* cues: under the matched topic, or under the sender's topic */
		{ "低保一个月能领多少钱", NULL, "dibao.amount", MENU_VIA_CUE },
		{ "多少钱", NULL, NULL, MENU_VIA_NONE },
		{ "多少钱", "root", NULL, MENU_VIA_NONE },
		{ "多少钱", "dibao", "dibao.amount", MENU_VIA_CUE },
		{ "多少钱", "dibao.who", "dibao.amount", MENU_VIA_CUE },
		{ "多少钱", "tekun.review", "tekun.amount", MENU_VIA_CUE },
		{ "多少钱", "contact", NULL, MENU_VIA_NONE },
		{ "特困多少钱", "dibao.who", "tekun.amount", MENU_VIA_CUE }, /* a keyword's topic beats the context */
		{ "特困申请", NULL, "tekun", MENU_VIA_KEYWORD },             /* 申请 is no cue under 特困 */
		{ "申请", "tekun", NULL, MENU_VIA_NONE },
		{ "申请", "dibao.who", "dibao.apply", MENU_VIA_CUE },
		/* nothing */
		{ "路灯坏了", NULL, NULL, MENU_VIA_NONE },
		{ "", NULL, NULL, MENU_VIA_NONE },
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_match(f->m, &cases[i]);
}

static void test_match_lengths(void **state)
{
	struct fixture *f = *state;
	char *norm = norm_dup("低保一个月能领多少钱", strlen("低保一个月能领多少钱"), 0);
	struct menu_match mm;

	/* "低保1个月能领多少钱": 低保 (2) and 多少钱 (3) decide; 10 characters in all */
	menu_match(f->m, norm, strlen(norm), -1, &mm);
	assert_int_equal(mm.node, menu_find(f->m, "dibao.amount"));
	assert_int_equal(mm.chars, 5);
	assert_int_equal(mm.text_chars, 10);
	free(norm);
	norm = norm_dup("我建议修路", strlen("我建议修路"), 0);
	menu_match(f->m, norm, strlen(norm), -1, &mm);
	assert_int_equal(mm.node, menu_find(f->m, "feedback"));
	assert_int_equal(mm.chars, 2);
	assert_int_equal(mm.text_chars, 5);
	free(norm);
}

/* However many keywords a long message holds, the longest one still wins. */
static void test_match_many_hits(void **state)
{
	struct fixture *f = *state;
	struct menu_match mm;
	char text[2048] = "";

	for (int i = 0; i < 100; i++)
		strcat(text, "低保");
	strcat(text, "低保标准"); /* the longest keyword comes last */
	menu_match(f->m, text, strlen(text), -1, &mm);
	assert_int_equal(mm.node, menu_find(f->m, "dibao.amount"));
	/* and a cue after many keywords */
	text[0] = '\0';
	for (int i = 0; i < 100; i++)
		strcat(text, "特困");
	strcat(text, "多少钱");
	menu_match(f->m, text, strlen(text), -1, &mm);
	assert_int_equal(mm.node, menu_find(f->m, "tekun.amount"));
	assert_int_equal(mm.via, MENU_VIA_CUE);
}

static void test_digit_choice(void **state)
{
	static const struct {
		const char *text, *digits; /* digits NULL: not a choice */
	} cases[] = {
		{ "1", "1" },
		{ "9", "9" },
		{ "0", "0" },
		{ "00", "00" },
		{ "回复1", "1" },
		{ "回复 1", "1" },
		{ "回复１", "1" },
		{ "回复００", "00" },
		{ "第3个", "3" },
		{ "1号", "1" },
		{ "选三", "3" },
		{ "选②", "2" },
		{ "回复：2。", "2" },
		{ "123", "123" },
		{ "1234", NULL }, /* more than 3 digits: a number, not a choice */
		{ "回复", NULL },
		{ "", NULL },
		{ "1低保", NULL },
		{ "低保", NULL },
		{ "1 2", NULL },   /* two numbers */
		{ "我要1", NULL }, /* 我要 is not a filler of this menu set */
		/* digit_words: a word that stands for a digit, with or without fillers */
		{ "下一页", "9" },
		{ "回复下一页", "9" },
		{ "返回", "0" },
		{ "回复：返回", "0" },
		{ "主菜单", "00" },
		{ "下一页低保", NULL },
	};
	struct fixture *f = *state;
	char out[8];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *norm = norm_dup(cases[i].text, strlen(cases[i].text), 0);
		bool is = menu_digit_choice(f->m, norm, out, sizeof(out));
		if (is != (cases[i].digits != NULL))
			fail_msg("\"%s\" (\"%s\"): choice = %d", cases[i].text, norm, is);
		if (is && strcmp(out, cases[i].digits) != 0)
			fail_msg("\"%s\": digits \"%s\", want \"%s\"", cases[i].text, out, cases[i].digits);
		free(norm);
	}
	/* a buffer too small for the digits: not a choice rather than a cut one */
	{
		char tiny[2];
		assert_false(menu_digit_choice(f->m, "00", tiny, sizeof(tiny)));
	}
}

/* ---- the checker on every bad-* folder ------------------------------------------------------ */

struct expect {
	bool error;
	char loc[160]; /* "<dir>/<file>:<line>: " or "<dir>/<file>: " */
	char frag[400];
	bool seen;
};

static size_t read_expect(const char *dir, struct expect *ex, size_t max)
{
	char path[PATH_MAX + 16], line[600];
	FILE *f;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/expect", dir);
	f = fopen(path, "r");
	if (f == NULL)
		fail_msg("%s: missing", path);
	while (fgets(line, sizeof(line), f) && n < max) {
		char *sp, *colon, *loc;
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		sp = strchr(line, ' ');
		assert_non_null(sp);
		*sp = '\0';
		if (strcmp(line, "error") == 0)
			ex[n].error = true;
		else if (strcmp(line, "warning") == 0)
			ex[n].error = false;
		else
			fail_msg("%s: \"%s\" is neither error nor warning", path, line);
		loc = sp + 1;
		colon = strstr(loc, ": ");
		assert_non_null(colon);
		*colon = '\0';
		snprintf(ex[n].loc, sizeof(ex[n].loc), "%.100s: %s", loc, ex[n].error ? "错误：" : "提醒：");
		snprintf(ex[n].frag, sizeof(ex[n].frag), "%s", colon + 2);
		ex[n].seen = false;
		n++;
	}
	fclose(f);
	if (n == 0)
		fail_msg("%s: no expectation", path);
	return n;
}

/* Is text "<dir>/<loc><...frag...>"? */
static bool matches(const char *text, const char *dir, const struct expect *e)
{
	size_t dl = strlen(dir), ll = strlen(e->loc);

	return strncmp(text, dir, dl) == 0 && text[dl] == '/' && strncmp(text + dl + 1, e->loc, ll) == 0 &&
	    strstr(text + dl + 1 + ll, e->frag) != NULL;
}

static size_t bad_dirs(const char *data, char names[][64], size_t max)
{
	char path[PATH_MAX + 16];
	DIR *dh;
	struct dirent *de;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/menus", data);
	dh = opendir(path);
	assert_non_null(dh);
	while ((de = readdir(dh)) != NULL && n < max)
		if (strncmp(de->d_name, "bad-", 4) == 0)
			snprintf(names[n++], 64, "%.60s", de->d_name);
	closedir(dh);
	return n;
}

static void test_bad_menus(void **state)
{
	struct fixture *f = *state;
	char names[64][64];
	size_t n = bad_dirs(f->data, names, 64), failures = 0;

	assert_true(n >= 13);
	for (size_t i = 0; i < n; i++) {
		char dir[PATH_MAX + 80];
		struct expect ex[8];
		size_t nex, nerr = 0, nwarn = 0;
		struct diag d;
		struct menu *m;
		bool ok = true;

		snprintf(dir, sizeof(dir), "%s/menus/%s", f->data, names[i]);
		nex = read_expect(dir, ex, 8);
		for (size_t k = 0; k < nex; k++)
			ex[k].error ? nerr++ : nwarn++;
		diag_init(&d);
		m = menu_load(dir, f->cfg, &d);
		if ((m == NULL) != (nerr > 0) || d.errors != nerr || d.warnings != nwarn)
			ok = false;
		for (size_t k = 0; k < nex; k++) {
			for (size_t j = 0; j < d.n; j++)
				if (d.items[j].error == ex[k].error && matches(d.items[j].text, dir, &ex[k]))
					ex[k].seen = true;
			if (!ex[k].seen) {
				fprintf(stderr, "%s: missing: %s%s\n", names[i], ex[k].loc, ex[k].frag);
				ok = false;
			}
		}
		if (!ok) {
			fprintf(stderr, "%s: want %zu errors and %zu warnings, got %zu and %zu%s\n", names[i], nerr,
			    nwarn, d.errors, d.warnings, m ? " (and it loaded)" : "");
			print_diag(&d);
			failures++;
		}
		menu_free(m);
		diag_free(&d);
	}
	if (failures)
		fail_msg("%zu of %zu bad menu folders were not reported as expected", failures, n);
}

static void test_missing_folder(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	char tmpl[] = "/tmp/test_menu-XXXXXX";

	diag_init(&d);
	assert_null(menu_load("/nonexistent/menus", f->cfg, &d));
	assert_int_equal(d.errors, 1);
	assert_string_equal(d.items[0].text, "/nonexistent/menus: 错误：打不开菜单文件夹");
	diag_free(&d);
	/* a folder with no *.cfg */
	assert_non_null(mkdtemp(tmpl));
	diag_init(&d);
	assert_null(menu_load(tmpl, f->cfg, &d));
	assert_int_equal(d.errors, 1);
	assert_non_null(strstr(d.items[0].text, "这个文件夹里没有 *.cfg 菜单文件"));
	diag_free(&d);
	rmdir(tmpl);
}

/* A folder of links to ok/'s files, plus what a test adds; returns its path (caller frees, rm_dir). */
static char *ok_copy(const struct fixture *f)
{
	char tmpl[] = "/tmp/test_menu-XXXXXX", ok[PATH_MAX + 16], *dir;
	DIR *dh;
	struct dirent *de;

	assert_non_null(mkdtemp(tmpl));
	dir = strdup(tmpl);
	snprintf(ok, sizeof(ok), "%s/menus/ok", f->data);
	dh = opendir(ok);
	assert_non_null(dh);
	while ((de = readdir(dh)) != NULL) {
		char from[PATH_MAX + 300], to[PATH_MAX + 300];
		if (de->d_name[0] == '.')
			continue;
		snprintf(from, sizeof(from), "%s/%s", ok, de->d_name);
		snprintf(to, sizeof(to), "%s/%s", dir, de->d_name);
		assert_int_equal(symlink(from, to), 0);
	}
	closedir(dh);
	return dir;
}

static void rm_dir(char *dir)
{
	DIR *dh = opendir(dir);
	struct dirent *de;

	while (dh && (de = readdir(dh)) != NULL) {
		char p[PATH_MAX + 300];
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		unlink(p);
	}
	if (dh)
		closedir(dh);
	rmdir(dir);
	free(dir);
}

/* Only regular files are read: a FIFO named x.cfg is passed over with a warning, not waited on (issue 11.15). */
static void test_fifo_in_folder(void **state)
{
	struct fixture *f = *state;
	char *dir = ok_copy(f), fifo[PATH_MAX + 16];
	struct diag d;
	struct menu *m;

	snprintf(fifo, sizeof(fifo), "%s/x.cfg", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	alarm(60); /* a regression blocks in open(): let it fail, not stall the suite */
	diag_init(&d);
	m = menu_load(dir, f->cfg, &d);
	alarm(0);
	if (m == NULL || d.n != 1)
		print_diag(&d);
	assert_non_null(m);
	assert_int_equal(d.errors, 0);
	assert_int_equal(d.warnings, 1);
	assert_non_null(strstr(d.items[0].text, "x.cfg: 提醒：不是普通文件"));
	for (const char *const *p = menu_files(m); *p; p++)
		assert_null(strstr(*p, "x.cfg"));
	menu_free(m);
	diag_free(&d);
	rm_dir(dir);
}

/*
 * Loading is linear (issue 11.16), values may hold values, and a number is
 * the number as written even past 32 bits (issue 11.14): 200,000
 * values in 200 groups and a 16 MB one load (quadratic loading of this size
 * takes minutes: no clock here, the suite's timeout shows it), and a value
 * inside a value is filled in.
 */
static void test_linear_load(void **state)
{
	struct fixture *f = *state;
	enum { GROUPS = 200, PER = 1000, BIG = 16 << 20 };
	char *dir = ok_copy(f), path[PATH_MAX + 16];
	struct diag d;
	struct menu *m;
	FILE *out;

	snprintf(path, sizeof(path), "%s/90-big.cfg", dir);
	out = fopen(path, "w");
	assert_non_null(out);
	fputs("values = {\n  big = \"", out);
	for (size_t i = 0; i < BIG / 3; i++)
		fputs("村", out);
	/* wide: an amount over 32 bits, which libconfig would keep as 100 */
	fputs("\";\n  nested = \"{g7.v42}元，{amount.city}，{wide}\";\n  wide = 4294967396;\n", out);
	for (int g = 0; g < GROUPS; g++) {
		fprintf(out, "  g%d = {", g);
		for (int v = 0; v < PER; v++)
			fprintf(out, " v%d = \"%d\";", v, g * PER + v);
		fputs(" };\n", out);
	}
	fputs("};\nnodes = ( { id = \"linshi.extra\"; title = \"临时救助补充\"; keywords = [ \"救急\" ];\n"
	      "  text = \"标准{nested}。回复0返回\"; } );\n",
	    out);
	fclose(out);

	diag_init(&d);
	m = menu_load(dir, f->cfg, &d);
	if (m == NULL || d.n != 0)
		print_diag(&d);
	assert_non_null(m);
	assert_int_equal(d.n, 0);
	assert_string_equal(node(m, "linshi.extra")->pages[0], "标准7042元，7476，4294967396。回复0返回");
	menu_free(m);
	diag_free(&d);
	rm_dir(dir);
}

/* ---- hotlinectl menu check ------------------------------------------------------------------- */

/* Run hotlinectl -c cfg menu check; stderr into *err (caller frees). Returns the exit status, -1 if it did not run. */
static int run_check(const char *cfg, char **err)
{
	const char *build = getenv("HOTLINE_BUILD");
	char bin[PATH_MAX], errfile[] = "/tmp/test_menu-err-XXXXXX";
	int fd = mkstemp(errfile), status;
	pid_t pid;
	FILE *f;
	long len;

	snprintf(bin, sizeof(bin), "%s/hotlinectl", build && *build ? build : "build");
	assert_true(fd >= 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		execl(bin, bin, "-c", cfg, "menu", "check", (char *)NULL);
		_exit(127);
	}
	close(fd);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	f = fopen(errfile, "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	*err = calloc(1, (size_t)len + 1);
	assert_int_equal(fread(*err, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	unlink(errfile);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static bool have_hotlinectl(void)
{
	const char *build = getenv("HOTLINE_BUILD");
	char bin[PATH_MAX];

	snprintf(bin, sizeof(bin), "%s/hotlinectl", build && *build ? build : "build");
	if (access(bin, X_OK) == 0)
		return true;
	fprintf(stderr, "%s is not built: `make` first (make check does)\n", bin);
	return false;
}

static void test_cli_menu_check(void **state)
{
	struct fixture *f = *state;
	char names[64][64], tmpl[] = "/tmp/test_menu-XXXXXX", cfg[PATH_MAX];
	size_t n = bad_dirs(f->data, names, 64);
	char *err;
	FILE *fp;
	int rc;

	if (!have_hotlinectl())
		skip();
	assert_non_null(mkdtemp(tmpl));
	snprintf(cfg, sizeof(cfg), "%s/hotline.cfg", tmpl);

	/* the shipped menus with the shipped config: clean */
	{
		char shipped[PATH_MAX];
		snprintf(shipped, sizeof(shipped), "%s/config/hotline.cfg", hl_src_dir());
		rc = run_check(shipped, &err);
		if (rc != 0)
			fail_msg("menu check on the shipped menus: exit %d\n%s", rc, err);
		free(err);
	}
	for (size_t i = 0; i <= n; i++) {
		char dir[PATH_MAX + 80];
		struct expect ex[8];
		size_t nex = 0, nerr = 0;

		snprintf(dir, sizeof(dir), "%s/menus/%s", f->data, i < n ? names[i] : "ok");
		if (i < n)
			nex = read_expect(dir, ex, 8);
		for (size_t k = 0; k < nex; k++)
			nerr += ex[k].error;
		fp = fopen(cfg, "w");
		assert_non_null(fp);
		fprintf(fp,
		    "menus = { dir = \"%s\"; };\n"
		    "office = { name = \"测试民政局\"; address = \"测试路1号\"; hours = \"周一至周五\"; phone = \"0933-1234567\"; };\n"
		    "modems = ( { name = \"m0\"; model = \"dummy\"; connection = \"none\"; device = \"phone0\"; } );\n",
		    dir);
		fclose(fp);
		rc = run_check(cfg, &err);
		/* errors fail the check, warnings do not */
		if (rc != (nerr > 0 ? 1 : 0))
			fail_msg("menu check on %s: exit %d, want %d\n%s", dir, rc, nerr > 0 ? 1 : 0, err);
		for (size_t k = 0; k < nex; k++) {
			bool seen = false;
			for (char *line = err; line && *line;) {
				char *nl = strchr(line, '\n');
				if (nl)
					*nl = '\0';
				seen |= matches(line, dir, &ex[k]);
				if (nl)
					*nl = '\n';
				line = nl ? nl + 1 : NULL;
			}
			if (!seen)
				fail_msg(
				    "menu check on %s: stderr lacks \"%s%s\":\n%s", dir, ex[k].loc, ex[k].frag, err);
		}
		free(err);
	}
	unlink(cfg);
	rmdir(tmpl);
}

/*
 * The SMS way of paging, in a text: "回复9看第3页", "回复9下一页" (9 is the next
 * page by SMS; on USSD 98 is), "看第3页", "上一条短信" (a USSD screen is no SMS
 * to look back at). NULL when none. A digit to choose ("回复3看咋申请",
 * "回复0返回") is no paging: USSD takes the same digits.
 */
static const char *sms_paging(const char *t)
{
	static const char *const words[] = { "看第", "上一条短信", "下一条短信", "短信里" };

	for (const char *p = strstr(t, "回复"); p; p = strstr(p + 1, "回复")) {
		const char *q = p + strlen("回复");
		while (*q == ' ')
			q++;
		if (*q < '0' || *q > '9')
			continue;
		while (*q >= '0' && *q <= '9')
			q++;
		if (strncmp(q, "下一页", strlen("下一页")) == 0 || strncmp(q, "上一页", strlen("上一页")) == 0)
			return p;
	}
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		const char *p = strstr(t, words[i]);
		if (p)
			return p;
	}
	return NULL;
}

/*
 * USSD speaks USSD (issue 13.6): no page of any shipped node and no system
 * text, in the form a USSD screen shows, pages the SMS way ("回复9看第3页",
 * "回复9下一页", "上一条短信"): such a text needs its ussd form
 * (menus/README.md, "Texts by channel").
 */
static void test_shipped_ussd_pages(void **state)
{
	static const char *const texts[] = {
#define TEXT(name, required, ph) #name,
#include "texts.def"
#undef TEXT
	};
	char cfg[PATH_MAX];
	struct world *w;
	int bad = 0;

	(void)state;
	snprintf(cfg, sizeof(cfg), "%s/config/hotline.cfg", hl_src_dir());
	w = hl_load_world(cfg);
	assert_non_null(w);
	/* the check finds what it is for */
	assert_non_null(sms_paging("城里的回复9看第3页"));
	assert_non_null(sms_paging("\n回复9下一页"));
	assert_null(sms_paging("\n98下一页"));
	assert_null(sms_paging("回复0返回"));
	assert_null(sms_paging("回复3看咋申请"));
	for (size_t i = 0; i < menu_count(w->menu); i++) {
		const struct menu_node *n = menu_node_at(w->menu, (int)i);
		for (size_t p = 0; p < n->npages; p++) {
			const char *t = menu_page_for(n, p, true), *at = sms_paging(t);
			if (at) {
				fprintf(stderr, "node %s page %zu on USSD: \"%.40s\"\n", n->id, p + 1, at);
				bad++;
			}
		}
	}
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		const char *t = menu_text_for(w->menu, texts[i], true), *at = t ? sms_paging(t) : NULL;
		if (at) {
			fprintf(stderr, "text %s on USSD: \"%.40s\"\n", texts[i], at);
			bad++;
		}
	}
	world_release(w);
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ok_structure),
		cmocka_unit_test(test_shipped_ussd_pages),
		cmocka_unit_test(test_placeholders_filled),
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_match_rules),
		cmocka_unit_test(test_match_lengths),
		cmocka_unit_test(test_match_many_hits),
		cmocka_unit_test(test_digit_choice),
		cmocka_unit_test(test_bad_menus),
		cmocka_unit_test(test_missing_folder),
		cmocka_unit_test(test_fifo_in_folder),
		cmocka_unit_test(test_linear_load),
		cmocka_unit_test(test_cli_menu_check),
	};

	return cmocka_run_group_tests_name("menu", tests, setup, teardown);
}
