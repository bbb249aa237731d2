/*
 * contacts (issue 17): roster import from CSV (UTF-8, GB18030) and XLSX,
 * bad rows reported by line and never half imported, re-import updates,
 * applicants become contacts, 退订 / 订阅 by SMS.
 *
 * Fixtures are written here: GB18030 through iconv(3), XLSX through
 * python3-openpyxl (the way Excel and WPS files look to a reader). On an
 * in-memory store and the shipped menus.
 */
#include <iconv.h>
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

#include "contacts.h"
#include "dispatch.h"
#include "phone.h"
#include "roster.h"
#include "store.h"
#include "store_contacts.h"
#include "store_messages.h"
#include "world.h"
#include "hl.h"

#define T0 1796090400LL /* Tuesday 2026-12-01 10:00 in China */

struct fx {
	char dir[PATH_MAX];
	struct world *w;
	struct store *st;
	struct ctx c;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char tmpl[] = "/tmp/test_contacts-XXXXXX";

	if (f == NULL || mkdtemp(tmpl) == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s", tmpl);
	f->w = hl_unit_world(f->dir,
	    "office = { name = \"崆峒区民政局\"; address = \"社会救助股\"; hours = \"周一至周五\"; phone = \"0933-0000000\"; };\n"
	    "cases = { quiet_hours = \"23:59-00:00\"; };\n"
	    "broadcast = { subscriptions = [\"赶大集\"]; };\n"
	    "staff = ( { name = \"王建国\"; phone = \"13900000001\"; areas = [\"崆峒镇\"]; duty = true; } );\n"
	    "modems = ( { name = \"m0\"; model = \"dummy\"; connection = \"none\"; device = \"phone0\"; } );\n",
	    &f->st);
	if (f->w == NULL)
		return -1;
	f->c.st = f->st;
	f->c.cfg = f->w->cfg;
	f->c.menu = f->w->menu;
	f->c.now = T0;
	f->c.flags = CTX_NO_LIMITS;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[PATH_MAX + 16];

	store_close(f->st);
	world_release(f->w);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", f->dir);
	free(f);
	return 0;
}

static void write_file(const char *path, const char *data, size_t len)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	fclose(fp);
}

/* UTF-8 to GB18030, as Chinese Excel writes CSV. */
static char *to_gb18030(const char *utf8, size_t *outlen)
{
	iconv_t cd = iconv_open("GB18030", "UTF-8");
	size_t inleft = strlen(utf8), cap = inleft * 2 + 16, left = cap;
	char *out = malloc(cap), *o = out, *in = (char *)utf8;

	assert_true(cd != (iconv_t)-1);
	assert_true(iconv(cd, &in, &inleft, &o, &left) != (size_t)-1);
	iconv_close(cd);
	*outlen = cap - left;
	return out;
}

struct found {
	int n;
	char name[64], town[64], village[64], groups[128], source[16];
	bool opted_out;
};

static int take(const struct store_contact *k, void *arg)
{
	struct found *x = arg;

	x->n++;
	snprintf(x->name, sizeof(x->name), "%s", k->name);
	snprintf(x->town, sizeof(x->town), "%s", k->town);
	snprintf(x->village, sizeof(x->village), "%s", k->village);
	snprintf(x->groups, sizeof(x->groups), "%s", k->groups);
	snprintf(x->source, sizeof(x->source), "%s", k->source);
	x->opted_out = k->opted_out;
	return 0;
}

/* The contact with this number (as a person writes it: normalised here, as the edges do). */
static struct found contact(struct fx *f, const char *phone)
{
	struct store_contact_filter cf = { 0 };
	struct found x;
	char norm[PHONE_LEN];

	memset(&x, 0, sizeof(x));
	phone_normalise(phone, "86", norm, sizeof(norm));
	cf.phone = norm;
	assert_int_equal(store_contact_each(f->st, &cf, take, &x), 0);
	return x;
}

static int count_all(struct fx *f)
{
	struct store_contact_filter cf = { 0 };
	struct found x;

	memset(&x, 0, sizeof(x));
	assert_int_equal(store_contact_each(f->st, &cf, take, &x), 0);
	return x.n;
}

static void import(struct fx *f, const char *path, const char *group, struct contacts_import *r)
{
	struct roster_table t;
	char err[512];

	if (roster_read(path, &t, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	if (contacts_import_table(f->st, &t, group, "86", T0, r, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	roster_free(&t);
}

static const char ROSTER[] = "序号,姓名,手机号码,乡镇,村,类别\r\n"
			     "1,张桂兰,139 1234 5678,白水镇,寨子街村,低保户\r\n"
			     "2,李福贵,+86 13912345679,崆峒镇,东关村,\"低保户、高龄\"\r\n"
			     "3,王秀英,1391234,崆峒镇,东关村,特困\r\n" /* too few digits */
			     ",,,,,\r\n"                               /* an empty row: skipped, not bad */
			     "5,赵大山,,白水镇,寨子街村,低保户\r\n"    /* no phone */
			     "6,\"孙,小红\",10086,白水镇,,低保户\r\n"; /* a short code */

static void test_csv_utf8_bad_rows_reimport(void **state)
{
	struct fx *f = *state;
	struct contacts_import r;
	char path[PATH_MAX + 32], *bom;
	struct found x;

	snprintf(path, sizeof(path), "%s/roster.csv", f->dir);
	bom = malloc(sizeof(ROSTER) + 3);
	memcpy(bom, "\xEF\xBB\xBF", 3);
	memcpy(bom + 3, ROSTER, sizeof(ROSTER));
	write_file(path, bom, sizeof(ROSTER) + 2);
	free(bom);
	import(f, path, "2026名册", &r);
	assert_string_equal(r.encoding, "UTF-8");
	assert_int_equal(r.rows, 5);
	assert_int_equal(r.added, 2);
	assert_int_equal(r.bad, 3);
	/* each bad row by its line, with the reason; the good ones whole */
	assert_non_null(strstr(buf_str(&r.report), "第 4 行："));
	assert_non_null(strstr(buf_str(&r.report), "第 6 行：没有电话号码"));
	assert_non_null(strstr(buf_str(&r.report), "第 7 行："));
	assert_null(strstr(buf_str(&r.report), "第 5 行"));
	contacts_import_free(&r);
	assert_int_equal(count_all(f), 2);
	x = contact(f, "13912345678");
	assert_int_equal(x.n, 1);
	assert_string_equal(x.name, "张桂兰");
	assert_string_equal(x.town, "白水镇");
	assert_string_equal(x.village, "寨子街村");
	assert_string_equal(x.groups, "2026名册,低保户");
	assert_string_equal(x.source, "roster");
	x = contact(f, "13912345679");
	assert_string_equal(x.groups, "2026名册,低保户,高龄");

	/* the same roster again, one village corrected: updated, never duplicated */
	{
		static const char again[] = "姓名,电话,乡镇,村\n张桂兰,13912345678,白水镇,新村\n";
		write_file(path, again, sizeof(again) - 1);
		import(f, path, NULL, &r);
		assert_int_equal(r.added, 0);
		assert_int_equal(r.updated, 1);
		assert_int_equal(r.bad, 0);
		contacts_import_free(&r);
		assert_int_equal(count_all(f), 2);
		x = contact(f, "+8613912345678");
		assert_string_equal(x.village, "新村");
		assert_string_equal(x.groups, "2026名册,低保户");
	}
}

static void test_csv_gb18030(void **state)
{
	struct fx *f = *state;
	struct contacts_import r;
	char path[PATH_MAX + 32], *gb;
	size_t len;
	struct found x;

	snprintf(path, sizeof(path), "%s/roster-gbk.csv", f->dir);
	gb = to_gb18030(ROSTER, &len);
	write_file(path, gb, len);
	free(gb);
	import(f, path, NULL, &r);
	assert_string_equal(r.encoding, "GB18030");
	assert_int_equal(r.added, 2);
	assert_int_equal(r.bad, 3);
	contacts_import_free(&r);
	x = contact(f, "13912345679");
	assert_string_equal(x.name, "李福贵");
	assert_string_equal(x.town, "崆峒镇");
	assert_string_equal(x.groups, "低保户,高龄");
}

static void test_header_without_phone(void **state)
{
	struct fx *f = *state;
	struct roster_table t;
	struct contacts_import r;
	char err[512];
	static const char csv[] = "姓名,住址\n张三,白水镇\n";

	assert_int_equal(roster_parse_csv(csv, sizeof(csv) - 1, &t, err, sizeof(err)), 0);
	assert_int_equal(contacts_import_table(f->st, &t, NULL, "86", T0, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "第 1 行：表头里没有电话"));
	roster_free(&t);
	contacts_import_free(&r);
	/* bytes that are neither UTF-8 nor GB18030 */
	assert_int_equal(roster_parse_csv("\x81\x20\xff\xfe\x00", 5, &t, err, sizeof(err)), -1);
}

static void test_xlsx(void **state)
{
	struct fx *f = *state;
	struct contacts_import r;
	char path[PATH_MAX + 32], script[PATH_MAX + 32], cmd[3 * PATH_MAX];
	struct found x;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/名册.xlsx", f->dir);
	snprintf(script, sizeof(script), "%s/make.py", f->dir);
	fp = fopen(script, "w");
	assert_non_null(fp);
	/* a title row above the header, a number cell for the phone, an inline string, a second sheet */
	fprintf(fp,
	    "import sys, openpyxl\n"
	    "wb = openpyxl.Workbook()\n"
	    "ws = wb.active\n"
	    "ws.title = '名册'\n"
	    "ws.append(['姓名', '手机号', '乡镇', '村', '类别'])\n"
	    "ws.append(['张桂兰', 13912345678, '白水镇', '寨子街村', '低保户'])\n"
	    "ws.append(['李福贵', '13912345679', '崆峒镇', '东关村', '高龄'])\n"
	    "ws.append(['空号', '', '崆峒镇', '东关村', '高龄'])\n"
	    "ws.append([])\n"
	    "ws.append(['王秀英', '0933 8211234', '崆峒镇', '', '特困'])\n"
	    "wb.create_sheet('其他').append(['电话', '18800000000'])\n"
	    "wb.save(sys.argv[1])\n");
	fclose(fp);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 '%s' '%s'", script, path);
	assert_int_equal(system(cmd), 0);
	import(f, path, "村干部", &r);
	assert_string_equal(r.encoding, "XLSX");
	assert_int_equal(r.rows, 4);
	assert_int_equal(r.added, 3);
	assert_int_equal(r.bad, 1);
	assert_non_null(strstr(buf_str(&r.report), "第 4 行：没有电话号码"));
	contacts_import_free(&r);
	x = contact(f, "13912345678");
	assert_string_equal(x.name, "张桂兰");
	assert_string_equal(x.groups, "低保户,村干部");
	x = contact(f, "09338211234");
	assert_string_equal(x.name, "王秀英");
	assert_int_equal(contact(f, "18800000000").n, 0); /* only the first sheet */

	/* a broken .xlsx: what contacts import prints is in the office's words */
	struct roster_table t;
	char err[512];
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("姓名,手机号\n", fp); /* a CSV renamed .xlsx */
	fclose(fp);
	assert_int_equal(roster_read(path, &t, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "名册.xlsx：打不开，不是有效的 .xlsx 文件"));
	snprintf(cmd, sizeof(cmd),
	    "/usr/bin/python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1], \"w\").writestr(\"a.txt\", \"x\")' '%s'",
	    path);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(roster_read(path, &t, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "名册.xlsx：里面没有工作表"));
}

static void test_split_place(void **state)
{
	char town[64], village[64];

	(void)state;
	contacts_split_place("崆峒镇东关村5组", town, sizeof(town), village, sizeof(village));
	assert_string_equal(town, "崆峒镇");
	assert_string_equal(village, "东关村");
	contacts_split_place("寨子街村", town, sizeof(town), village, sizeof(village));
	assert_string_equal(town, "");
	assert_string_equal(village, "寨子街村");
	contacts_split_place("在家", town, sizeof(town), village, sizeof(village));
	assert_string_equal(town, "");
	assert_string_equal(village, "");
}

/* An SMS from phone through dispatch in a transaction; the reply (owned). */
static char *sms(struct fx *f, const char *phone, const char *msg)
{
	char norm[PHONE_LEN];
	struct inbound in = { .channel = CHANNEL_SMS,
		.phone = norm,
		.text = msg,
		.len = strlen(msg),
		.parts = 1,
		.kind = MSG_KIND_TEXT,
		.smsc_time = f->c.now };
	struct dispatch_result r;

	phone_normalise(phone, "86", norm, sizeof(norm));
	f->c.now += 60;
	assert_int_equal(store_begin(f->st), 0);
	assert_int_equal(dispatch_inbound(&f->c, &in, &r), 0);
	assert_int_equal(store_commit(f->st), 0);
	assert_non_null(r.reply);
	return r.reply;
}

static void test_applicant_becomes_contact(void **state)
{
	struct fx *f = *state;
	const char *steps[] = { "申请上门", "张桂兰", "崆峒镇东关村5组", "老伴瘫痪在床，想办低保", "1", "1" };
	struct found x;

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		free(sms(f, "13700000001", steps[i]));
	x = contact(f, "13700000001");
	assert_int_equal(x.n, 1);
	assert_string_equal(x.source, "applicant");
	assert_string_equal(x.name, "张桂兰");
	assert_string_equal(x.town, "崆峒镇");
	assert_string_equal(x.village, "东关村");
}

static void test_optout_optin(void **state)
{
	struct fx *f = *state;
	const char *words[] = { "退订", "TD", "t", " Ｔ Ｄ ", "不要再发" };
	char *reply;
	struct found x;

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		reply = sms(f, "13700000002", words[i]);
		assert_string_equal(reply, menu_text(f->w->menu, "optout_done"));
		free(reply);
		x = contact(f, "13700000002");
		assert_int_equal(x.n, 1);
		assert_true(x.opted_out);
		assert_string_equal(x.source, "self");
		reply = sms(f, "13700000002", "订阅");
		assert_string_equal(reply, menu_text(f->w->menu, "optin_done"));
		free(reply);
		assert_false(contact(f, "13700000002").opted_out);
	}
	/* 订阅 赶大集: a kind from broadcast.subscriptions is a group */
	reply = sms(f, "13700000002", "订阅 赶大集");
	assert_non_null(strstr(reply, "赶大集"));
	free(reply);
	assert_string_equal(contact(f, "13700000002").groups, "赶大集");
	/* a word inside a sentence is no opt-out; 订阅 with another word is no subscription */
	reply = sms(f, "13700000003", "我想退订低保短信怎么办");
	assert_string_not_equal(reply, menu_text(f->w->menu, "optout_done"));
	free(reply);
	assert_int_equal(contact(f, "13700000003").n, 0);
	reply = sms(f, "13700000003", "订阅低保户");
	free(reply);
	assert_int_equal(contact(f, "13700000003").n, 0);
	/* an opt-out survives a roster import of the same number */
	{
		struct roster_table t;
		struct contacts_import r;
		char err[256];
		static const char csv[] = "姓名,电话\n张三,13700000002\n";
		free(sms(f, "13700000002", "退订"));
		assert_int_equal(roster_parse_csv(csv, sizeof(csv) - 1, &t, err, sizeof(err)), 0);
		assert_int_equal(contacts_import_table(f->st, &t, NULL, "86", T0, &r, err, sizeof(err)), 0);
		roster_free(&t);
		contacts_import_free(&r);
		x = contact(f, "13700000002");
		assert_true(x.opted_out);
		assert_string_equal(x.name, "张三");
	}
}

/* 退订 stops broadcasts, never the notifications about the villager's own request. */
static void test_optout_keeps_case_notifications(void **state)
{
	struct fx *f = *state;
	const char *steps[] = { "申请上门", "张桂兰", "崆峒镇东关村5组", "想办低保", "1", "1" };
	int before, after;

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		free(sms(f, "13700000001", steps[i]));
	free(sms(f, "13700000001", "退订"));
	assert_true(contact(f, "13700000001").opted_out);
	struct store_msg_filter mf = { 0 };
	mf.phone = "+8613700000001";
	assert_int_equal(store_msg_count(f->st, &mf, 0, &before), 0);
	free(sms(f, "13900000001", "接 1")); /* the duty staff member accepts it */
	assert_int_equal(store_msg_count(f->st, &mf, 0, &after), 0);
	assert_int_equal(after, before + 1); /* the applicant is told */
}

#define TT(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TT(test_csv_utf8_bad_rows_reimport),
		TT(test_csv_gb18030),
		TT(test_header_without_phone),
		TT(test_xlsx),
		TT(test_split_place),
		TT(test_applicant_becomes_contact),
		TT(test_optout_optin),
		TT(test_optout_keeps_case_notifications),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
