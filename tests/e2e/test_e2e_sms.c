/*
 * End to end: a real hotlined on Gammu's dummy phone(s), messages placed in
 * the phone's inbox with libgammu, replies checked in the real database.
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

#define WAIT_MS 15000

static int setup_one(void **state)
{
	struct hl *h = calloc(1, sizeof(*h));

	if (hl_setup(h, 1, NULL, NULL) < 0 || hl_start(h, NULL) < 0) {
		hl_cleanup(h);
		free(h);
		return -1;
	}
	*state = h;
	return 0;
}

static int teardown(void **state)
{
	struct hl *h = *state;

	hl_cleanup(h);
	free(h);
	return 0;
}

static bool inbox_empty(struct hl *h, void *arg)
{
	int modem = arg ? *(int *)arg : 0;

	return hl_inbox_count(h, modem) == 0;
}

/* A keyword SMS gets its menu page back, sent through the modem, and leaves the inbox empty. */
static void test_single_message_answered(void **state)
{
	struct hl *h = *state;
	char *reply;

	assert_int_equal(hl_sms(h, 0, "+8613700000001", "低保", NULL), 1);
	reply = hl_wait_reply(h, "13700000001", 1, WAIT_MS);
	assert_non_null(reply);
	assert_non_null(strstr(reply, "低保"));
	free(reply);
	assert_true(hl_wait(WAIT_MS, inbox_empty, h, NULL));
	assert_true(hl_wait_count(h, 1, WAIT_MS,
	    "SELECT count(*) FROM messages WHERE direction='out' AND phone_key = '+8613700000001' AND status='sent'"));
	assert_int_equal(hl_int(h, "SELECT count(*) FROM messages WHERE direction='in' AND phone_key = '+8613700000001'"), 1);
	char *node = hl_text(h, "SELECT node FROM messages WHERE direction='in' AND phone_key = '+8613700000001'");
	assert_non_null(node);
	assert_string_equal(node, "dibao");
	free(node);
	/* the reply goes out on the modem the message came in on */
	char *modem = hl_text(h, "SELECT modem FROM messages WHERE direction='out' AND phone_key = '+8613700000001'");
	assert_string_equal(modem, "m0");
	free(modem);
}

/* Three UCS-2 parts become one message, stored once, answered once. */
static void test_three_part_chinese(void **state)
{
	struct hl *h = *state;
	const char *text = "您好，我家老人今年八十五岁了，一个人住在村里，腿脚不方便，走不动路，"
			   "想问问高龄补贴怎么申请，需要带什么材料，能不能请工作人员到家里来帮忙办理，"
			   "我们家离镇上很远，坐车也不方便，一来一回要大半天，老人家里就他一个人，"
			   "儿女都在外地打工，过年才回来一趟，谢谢你们了，麻烦尽快回复我，我等着呢。";
	struct gsm_inject_opts o;

	gsm_inject_defaults(&o);
	o.reverse = true; /* the parts arrive last first */
	assert_int_equal(hl_sms(h, 0, "13700000002", text, &o), 3);
	char *reply = hl_wait_reply(h, "13700000002", 1, WAIT_MS);
	assert_non_null(reply);
	free(reply);
	assert_int_equal(hl_int(h, "SELECT count(*) FROM messages WHERE direction='in' AND phone_key = '+8613700000002'"), 1);
	assert_int_equal(hl_int(h, "SELECT parts FROM messages WHERE direction='in' AND phone_key = '+8613700000002'"), 3);
	char *stored = hl_text(h, "SELECT text FROM messages WHERE direction='in' AND phone_key = '+8613700000002'");
	assert_non_null(stored);
	assert_string_equal(stored, text);
	free(stored);
	assert_int_equal(hl_int(h, "SELECT count(*) FROM inbox_parts WHERE sender LIKE '%%13700000002' AND message_id IS NOT NULL"), 3);
	assert_true(hl_wait(WAIT_MS, inbox_empty, h, NULL));
}

/* The same part read again (a crash between commit and delete) is not processed twice. */
static void test_reread_is_noop(void **state)
{
	struct hl *h = *state;
	struct gsm_inject_opts o;

	gsm_inject_defaults(&o);
	o.smsc_time = 1764300000;
	assert_int_equal(hl_sms(h, 0, "13700000003", "特困", &o), 1);
	assert_true(hl_wait_count(h, 1, WAIT_MS, "SELECT count(*) FROM messages WHERE direction='out' AND phone_key = '+8613700000003'"));
	assert_true(hl_wait(WAIT_MS, inbox_empty, h, NULL));
	/* as after a crash between the commit and the delete: the part was never noted as deleted, and
	 * the very same SMS is in the inbox again at its place (the dummy phone's first free one) */
	(void)hl_int(h, "UPDATE inbox_parts SET gone = 0 WHERE sender LIKE '%%13700000003'");
	assert_int_equal(hl_int(h, "SELECT count(*) FROM inbox_parts WHERE sender LIKE '%%13700000003' AND gone = 0"), 1);
	assert_int_equal(hl_sms(h, 0, "13700000003", "特困", &o), 1);
	assert_true(hl_wait(WAIT_MS, inbox_empty, h, NULL));
	/* give it the time it would need to answer, then check it did not */
	assert_int_equal(hl_sms(h, 0, "13700000099", "高龄", NULL), 1);
	assert_true(hl_wait_count(h, 1, WAIT_MS, "SELECT count(*) FROM messages WHERE direction='out' AND phone_key = '+8613700000099'"));
	assert_int_equal(hl_int(h, "SELECT count(*) FROM messages WHERE direction='in' AND phone_key = '+8613700000003'"), 1);
	assert_int_equal(hl_int(h, "SELECT count(*) FROM messages WHERE direction='out' AND phone_key = '+8613700000003'"), 1);
	/* and counted: every part dropped as a re-read */
	int status = 0;
	char *m = hl_http(h, "GET", "/metrics", NULL, NULL, &status);
	assert_int_equal(status, 200);
	const char *at = m ? strstr(m, "\nhotline_sms_rereads_total ") : NULL;
	assert_non_null(at);
	assert_true(atoi(at + strlen("\nhotline_sms_rereads_total ")) >= 1);
	free(m);
}

/* Status reports, flash and binary messages are stored, not answered; short codes neither. */
static void test_stored_not_answered(void **state)
{
	struct hl *h = *state;
	struct gsm_inject_opts o;

	gsm_inject_defaults(&o);
	o.msg_class = 0;
	assert_true(hl_sms(h, 0, "13700000004", "flash", &o) >= 1);
	gsm_inject_defaults(&o);
	o.binary = true;
	assert_true(hl_sms(h, 0, "13700000005", "\x01\x02\x03", &o) >= 1);
	gsm_inject_defaults(&o);
	o.status_report = true;
	assert_true(hl_sms(h, 0, "13700000006", "", &o) >= 1);
	assert_true(hl_sms(h, 0, "10086", "您的话费余额为10元", NULL) >= 1);
	assert_true(hl_sms(h, 0, "BANK", "验证码 1234", NULL) >= 1);
	assert_true(hl_wait(WAIT_MS, inbox_empty, h, NULL));
	assert_true(hl_wait_count(h, 5, WAIT_MS,
	    "SELECT count(*) FROM messages WHERE direction='in' AND status='ignored' AND phone_key IN "
	    "('+8613700000004','+8613700000005','+8613700000006','10086','BANK')"));
	assert_int_equal(hl_int(h, "SELECT count(*) FROM messages WHERE direction='out' AND phone_key IN "
				   "('+8613700000004','+8613700000005','+8613700000006','10086','BANK')"), 0);
	char *kind = hl_text(h, "SELECT kind FROM messages WHERE phone_key = '+8613700000005'");
	assert_string_equal(kind, "binary");
	free(kind);
	kind = hl_text(h, "SELECT kind FROM messages WHERE phone_key = '+8613700000004'");
	assert_string_equal(kind, "flash");
	free(kind);
}

/* A long reply goes out as concatenated parts, counted. */
static void test_session_and_pages(void **state)
{
	struct hl *h = *state;

	assert_int_equal(hl_sms(h, 0, "13700000007", "菜单", NULL), 1);
	free(hl_wait_reply(h, "13700000007", 1, WAIT_MS));
	assert_int_equal(hl_sms(h, 0, "13700000007", "1", NULL), 1);
	assert_true(hl_wait_count(h, 2, WAIT_MS, "SELECT count(*) FROM messages WHERE direction='out' AND phone_key = '+8613700000007'"));
	char *node = hl_text(h, "SELECT node FROM messages WHERE direction='in' AND phone_key = '+8613700000007' ORDER BY id DESC LIMIT 1");
	assert_string_equal(node, "dibao");
	free(node);
	/* parts recorded for what was sent */
	assert_true(hl_wait_count(h, 2, WAIT_MS,
	    "SELECT count(*) FROM messages WHERE direction='out' AND phone_key = '+8613700000007' AND status='sent' AND parts >= 1"));
}

/* A session survives a restart: the digit after the restart is read in the old menu. */
static void test_session_survives_restart(void **state)
{
	struct hl *h = *state;

	assert_int_equal(hl_sms(h, 0, "13700000008", "低保", NULL), 1);
	assert_true(hl_wait_count(h, 1, WAIT_MS, "SELECT count(*) FROM messages WHERE direction='out' AND phone_key = '+8613700000008'"));
	assert_int_equal(hl_stop(h, SIGTERM, 10000), 0);
	assert_int_equal(hl_start(h, NULL), 0);
	assert_int_equal(hl_sms(h, 0, "13700000008", "2", NULL), 1);
	assert_true(hl_wait_count(h, 2, WAIT_MS, "SELECT count(*) FROM messages WHERE direction='out' AND phone_key = '+8613700000008'"));
	char *node = hl_text(h, "SELECT node FROM messages WHERE direction='in' AND phone_key = '+8613700000008' ORDER BY id DESC LIMIT 1");
	assert_string_equal(node, "dibao.amount");
	free(node);
}

/* The second part never comes: after the timeout, what came is answered, marked incomplete. */
static void test_missing_part(void **state)
{
	struct hl h;
	struct gsm_inject_opts o;
	const char *text = "我想问一下事实无人抚养儿童的补贴怎么申请，孩子的爸爸在外地打工好几年都联系不上了，"
			   "妈妈也改嫁走了，现在孩子跟着我这个奶奶过，我年纪大了身体也不好，不知道该找谁。"
			   "孩子今年上三年级，学习还可以，就是家里实在困难，想问问这个补贴一个月能给多少钱，"
			   "要准备哪些证明材料，到哪里去交。";

	(void)state;
	assert_int_equal(hl_setup(&h, 1, "limits", "limits = { poll_interval_ms = 50; multipart_timeout = 5; };"), 0);
	assert_int_equal(hl_start(&h, NULL), 0);
	gsm_inject_defaults(&o);
	o.skip_parts = 1u << 1; /* part 2 of 3 never comes */
	assert_int_equal(hl_sms(&h, 0, "13700000010", text, &o), 2);
	assert_true(hl_wait(WAIT_MS, inbox_empty, &h, NULL));
	/* stored at once, answered only after the timeout */
	assert_true(hl_wait_count(&h, 2, WAIT_MS, "SELECT count(*) FROM inbox_parts WHERE sender LIKE '%%13700000010'"));
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM messages WHERE phone_key = '+8613700000010'"), 0);
	assert_true(hl_wait_count(&h, 1, 20000, "SELECT count(*) FROM messages WHERE direction='out' AND phone_key = '+8613700000010'"));
	char *kind = hl_text(&h, "SELECT kind FROM messages WHERE direction='in' AND phone_key = '+8613700000010'");
	assert_string_equal(kind, "incomplete");
	free(kind);
	assert_int_equal(hl_int(&h, "SELECT parts FROM messages WHERE direction='in' AND phone_key = '+8613700000010'"), 2);
	hl_cleanup(&h);
}

/* An incomplete message waits across a restart and is linked when its last part comes. */
static void test_parts_across_restart(void **state)
{
	struct hl h;
	struct gsm_inject_opts o;
	const char *text = "请问临时救助怎么申请，我家里前几天着火了，房子烧了一半，东西都没了，"
			   "现在住在亲戚家，家里还有两个上学的孩子，急需帮助，请问到哪里去办，要带什么材料呢？";
	int parts;

	(void)state;
	assert_int_equal(hl_setup(&h, 1, NULL, NULL), 0);
	assert_int_equal(hl_start(&h, NULL), 0);
	gsm_inject_defaults(&o);
	o.concat_ref = 77;
	o.smsc_time = 1764300100;
	o.skip_parts = 1u << 1;
	parts = hl_sms(&h, 0, "13700000011", text, &o);
	assert_int_equal(parts, 1); /* part 1 of 2 */
	assert_true(hl_wait(WAIT_MS, inbox_empty, &h, NULL));
	assert_int_equal(hl_stop(&h, SIGKILL, 5000), 128 + SIGKILL);
	/* the missing part arrives while the daemon is down */
	o.skip_parts = 1u << 0;
	assert_int_equal(hl_sms(&h, 0, "13700000011", text, &o), 1);
	assert_int_equal(hl_start(&h, NULL), 0);
	assert_true(hl_wait_count(&h, 1, WAIT_MS, "SELECT count(*) FROM messages WHERE direction='out' AND phone_key = '+8613700000011'"));
	char *stored = hl_text(&h, "SELECT text FROM messages WHERE direction='in' AND phone_key = '+8613700000011'");
	assert_string_equal(stored, text);
	free(stored);
	hl_cleanup(&h);
}

static bool both_inboxes_empty(struct hl *h, void *arg)
{
	(void)arg;
	return hl_inbox_count(h, 0) == 0 && hl_inbox_count(h, 1) == 0;
}

/* Two modems at once: each conversation is answered through its own modem. */
static void test_two_modems(void **state)
{
	struct hl h;

	(void)state;
	assert_int_equal(hl_setup(&h, 2, NULL, NULL), 0);
	assert_int_equal(hl_start(&h, NULL), 0);
	for (int i = 0; i < 5; i++) {
		char phone[32];
		snprintf(phone, sizeof(phone), "1370000002%d", i);
		assert_int_equal(hl_sms(&h, 0, phone, "低保", NULL), 1);
		snprintf(phone, sizeof(phone), "1370000003%d", i);
		assert_int_equal(hl_sms(&h, 1, phone, "高龄补贴", NULL), 1);
	}
	assert_true(hl_wait(WAIT_MS, both_inboxes_empty, &h, NULL));
	assert_true(hl_wait_count(&h, 10, WAIT_MS, "SELECT count(*) FROM messages WHERE direction='out' AND status='sent'"));
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM messages WHERE direction='out' AND phone_key LIKE '+861370000002_' AND modem='m1'"), 0);
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM messages WHERE direction='out' AND phone_key LIKE '+861370000002_' AND modem='m0'"), 5);
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM messages WHERE direction='out' AND phone_key LIKE '+861370000003_' AND modem='m1'"), 5);
	assert_int_equal(hl_int(&h, "SELECT count(DISTINCT modem) FROM messages WHERE direction='in'"), 2);
	hl_cleanup(&h);
}

/* An invalid configuration stops the start with file:line, and -n checks without starting. */
static void test_bad_config_refused(void **state)
{
	struct hl h;

	(void)state;
	assert_int_equal(hl_setup(&h, 1, NULL, "bogus_group = { x = 1; };"), 0);
	assert_int_equal(hl_start(&h, NULL), -1);
	assert_true(hl_log_has(&h, "hotline.cfg:"));
	assert_true(hl_log_has(&h, "unknown setting 'bogus_group'"));
	hl_cleanup(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_single_message_answered, setup_one, teardown),
		cmocka_unit_test_setup_teardown(test_three_part_chinese, setup_one, teardown),
		cmocka_unit_test_setup_teardown(test_reread_is_noop, setup_one, teardown),
		cmocka_unit_test_setup_teardown(test_stored_not_answered, setup_one, teardown),
		cmocka_unit_test_setup_teardown(test_session_and_pages, setup_one, teardown),
		cmocka_unit_test_setup_teardown(test_session_survives_restart, setup_one, teardown),
		cmocka_unit_test(test_missing_part),
		cmocka_unit_test(test_parts_across_restart),
		cmocka_unit_test(test_two_modems),
		cmocka_unit_test(test_bad_config_refused),
	};

	return cmocka_run_group_tests_name("e2e_sms", tests, NULL, NULL);
}
