/*
 * End to end, floods, loops, privacy and security: per-number reply limits
 * with one notice a day; senders that are not people (short codes, 106
 * service numbers, names, our own number) never answered; the same text
 * over and over answered once per window; no full phone number in the log;
 * the database and its WAL readable by the daemon's user only (and the
 * configured group); no start as root unless told; a status query shows
 * the asker's own cases and nobody else's.
 */
#include <grp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "hl.h"

#define WAIT_MS 15000
#define BASE_LIMITS "poll_interval_ms = 50; retry_initial = 1; retry_max = 2;"

static bool inbox_empty(struct hl *h, void *arg)
{
	(void)arg;
	return hl_inbox_count(h, 0) == 0;
}

/* Place texts from phone, one second apart at the message centre (identical texts stay distinct SMS). */
static void send_texts(struct hl *h, const char *phone, const char *const *texts, size_t n, int64_t t0)
{
	struct gsm_inject_opts o;

	for (size_t i = 0; i < n; i++) {
		gsm_inject_defaults(&o);
		o.smsc_time = t0 + (int64_t)i;
		assert_int_equal(hl_sms(h, 0, phone, texts[i], &o), 1);
	}
}

/* Wait until phone's n inbound messages are all decided (answered, ignored or limited). */
static bool settled(struct hl *h, const char *phone, int n)
{
	char key[PHONE_LEN];

	hl_phone(phone, key, sizeof(key));
	return hl_wait_count(h, n, WAIT_MS,
	    "SELECT count(*) FROM messages WHERE direction = 'in' AND phone_key = '%s' AND status <> 'received'", key);
}

/*
 * Over replies_per_minute the message is stored, not answered, and the
 * first such message of the day gets the one rate_limited notice; over
 * replies_per_day the same.
 */
static void test_reply_limits(void **state)
{
	struct hl h;
	static const char *const five[] = { "低保", "特困", "临时救助", "高龄补贴", "救助直通车", "医保", "人工" };
	static const char *const two[] = { "低保", "特困" };
	char *notice;

	(void)state;
	assert_int_equal(hl_setup(&h, 1, "limits",
			     "limits = { " BASE_LIMITS " replies_per_minute = 3; replies_per_day = 5; repeat_window = 600; };"),
	    0);
	assert_int_equal(hl_start(&h, NULL), 0);

	/* per minute: 7 different questions at once */
	send_texts(&h, "13700000401", five, 7, 1764300000);
	assert_true(settled(&h, "13700000401", 7));
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM messages WHERE direction = 'in' AND phone_key = '+8613700000401'"), 7);
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM messages WHERE direction = 'in' AND phone_key = '+8613700000401'"
				    " AND status = 'answered'"), 3);
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM messages WHERE direction = 'in' AND phone_key = '+8613700000401'"
				    " AND status IN ('limited', 'ignored')"), 4);
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM messages WHERE direction = 'out' AND phone_key = '+8613700000401'"
				    " AND kind = 'reply'"), 3);
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM messages WHERE direction = 'out' AND phone_key = '+8613700000401'"
				    " AND kind = 'notice'"), 1);
	notice = hl_text(&h, "SELECT text FROM messages WHERE phone_key = '+8613700000401' AND kind = 'notice'");
	assert_non_null(notice);
	/* the notice says which limit: the minute's, not the day's */
	assert_non_null(strstr(notice, "一分钟"));
	assert_null(strstr(notice, "今天"));
	free(notice);
	/* every text kept whole, answered or not */
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM messages WHERE direction = 'in' AND phone_key = '+8613700000401'"
				    " AND text = '人工'"), 1);
	/* and no case was opened by the unanswered 人工 */
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM cases WHERE applicant_key = '+8613700000401'"), 0);

	/* per day: five replies earlier today (an hour ago), then two more questions */
	for (int i = 0; i < 5; i++)
		assert_true(hl_int(&h, "INSERT INTO messages (channel, direction, phone, phone_key, text, status, kind,"
				       " created_at, updated_at) VALUES ('sms', 'out', '+8613700000402', '+8613700000402', '早先的回复',"
				       " 'sent', 'reply', strftime('%%s', 'now') - 3600, strftime('%%s', 'now') - 3600)") >= 0);
	send_texts(&h, "13700000402", two, 2, 1764300100);
	assert_true(settled(&h, "13700000402", 2));
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM messages WHERE direction = 'in' AND phone_key = '+8613700000402'"
				    " AND status = 'answered'"), 0);
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM messages WHERE direction = 'out' AND phone_key = '+8613700000402'"
				    " AND kind = 'notice'"), 1);
	/* the notices do go out */
	assert_true(hl_wait_count(&h, 2, WAIT_MS, "SELECT count(*) FROM messages WHERE kind = 'notice' AND status = 'sent'"));
	hl_cleanup(&h);
}

/*
 * Short codes, 106 service numbers, alphanumeric senders and the modem's
 * own number are stored and never answered, whatever they say.
 */
static void test_loop_senders_never_answered(void **state)
{
	struct hl h;
	static const char *const senders[] = { "10086", "10010", "95588", "1069012345678", "106575000123", "12345",
		"ChinaMobile", "BANK", "+8613800009999", "13800009999" };
	char *ok;

	(void)state;
	assert_int_equal(hl_setup(&h, 1, "modems",
			     "modems = ( { name = \"m0\"; model = \"dummy\"; connection = \"none\"; device = \"phone0\";"
			     " own_number = \"+86 138-0000-9999\"; } );"),
	    0);
	assert_int_equal(hl_start(&h, NULL), 0);
	/* texts differ: the own number's two spellings are one sender now, and one text at one time is one message */
	for (size_t i = 0; i < sizeof(senders) / sizeof(senders[0]); i++)
		assert_int_equal(hl_sms(&h, 0, senders[i], i % 2 ? "低保" : "低保咋办", NULL), 1);
	/* a person afterwards, to know the others were processed */
	assert_int_equal(hl_sms(&h, 0, "13700000411", "低保", NULL), 1);
	ok = hl_wait_reply(&h, "13700000411", 1, WAIT_MS);
	assert_non_null(ok);
	free(ok);
	assert_true(hl_wait(WAIT_MS, inbox_empty, &h, NULL));
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM messages WHERE direction = 'in' AND status = 'ignored'"), 10);
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM messages WHERE direction = 'out'"), 1);
	assert_true(hl_log_has(&h, "sender is one of our own modems"));
	assert_true(hl_log_has(&h, "sender is not a phone number"));
	hl_cleanup(&h);
}

/*
 * The same text again and again from one number (an auto-responder) is
 * answered once per limits.repeat_window; menu digits are not repeats;
 * after the window the text is answered again.
 */
static void test_same_text_once_per_window(void **state)
{
	struct hl h;
	static const char *const again[] = { "您好，我现在不方便，稍后回复您。", "您好，我现在不方便，稍后回复您。",
		"您好，我现在不方便，稍后回复您。", "您好，我现在不方便，稍后回复您。" };
	static const char *const digits[] = { "低保", "9", "9" };
	static const char *const later[] = { "您好，我现在不方便，稍后回复您。" };

	(void)state;
	assert_int_equal(hl_setup(&h, 1, "limits",
			     "limits = { " BASE_LIMITS " replies_per_minute = 0; replies_per_day = 0; repeat_window = 3; };"),
	    0);
	assert_int_equal(hl_start(&h, NULL), 0);
	/* a resend is answered once more (a person who did not see the answer); then no more */
	send_texts(&h, "13700000421", again, 4, 1764300200);
	assert_true(settled(&h, "13700000421", 4));
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM messages WHERE direction = 'in' AND phone_key = '+8613700000421'"
				    " AND status = 'answered'"), 2);
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM messages WHERE direction = 'out' AND phone_key = '+8613700000421'"), 2);

	/* a person paging with 9, 9 is not a loop */
	send_texts(&h, "13700000422", digits, 3, 1764300300);
	assert_true(settled(&h, "13700000422", 3));
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM messages WHERE direction = 'in' AND phone_key = '+8613700000422'"
				    " AND status = 'answered'"), 3);

	/* after the window: answered again */
	assert_true(hl_wait_count(&h, 1, 10000,
	    "SELECT strftime('%%s', 'now') - max(created_at) > 3 FROM messages WHERE phone_key = '+8613700000421'"));
	send_texts(&h, "13700000421", later, 1, 1764300400);
	assert_true(settled(&h, "13700000421", 5));
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM messages WHERE direction = 'in' AND phone_key = '+8613700000421'"
				    " AND status = 'answered'"), 3);
	hl_cleanup(&h);
}

/* Does the log hold the first digits of number (which masking hides)? */
static bool log_shows_number(struct hl *h, const char *number)
{
	char prefix[16];
	size_t n = strlen(number);

	/* everything but the last four digits */
	snprintf(prefix, sizeof(prefix), "%.*s", (int)(n - 4), number);
	return hl_log_has(h, prefix);
}

static const char *const villagers[] = { "13712345671", "+8613712345672", "13712345673" };

/* Traffic that logs numbers: SMS in and out, a case with a staff alert, USSD. */
static void log_traffic(struct hl *h)
{
	char *reply, *body;
	int status;

	assert_int_equal(hl_sms(h, 0, villagers[0], "低保", NULL), 1);
	assert_int_equal(hl_sms(h, 0, villagers[1], "人工", NULL), 1);
	assert_int_equal(hl_sms(h, 0, villagers[2], "10086", NULL), 1);
	reply = hl_wait_reply(h, "13712345672", 1, WAIT_MS);
	assert_non_null(reply);
	free(reply);
	body = hl_http(h, "POST", "/ussd/test-secret",
	    "sessionId=mask-1&serviceCode=%2A123%23&phoneNumber=%2B8613712345674&text=", NULL, &status);
	free(body);
	assert_true(hl_wait_count(h, 3, WAIT_MS, "SELECT count(*) FROM messages WHERE direction = 'out' AND status = 'sent'"
						 " AND channel = 'sms'"));
}

/* With log.mask_phones (the default) no line shows a whole number; the switch turns it off. */
static void test_log_masks_phones(void **state)
{
	struct hl h;

	(void)state;
	assert_int_equal(hl_setup(&h, 1, NULL, NULL), 0); /* debug level: every line there is */
	assert_int_equal(hl_start(&h, NULL), 0);
	log_traffic(&h);
	assert_int_equal(hl_stop(&h, SIGTERM, 5000), 0);
	for (size_t i = 0; i < sizeof(villagers) / sizeof(villagers[0]); i++)
		assert_false(log_shows_number(&h, villagers[i]));
	assert_false(log_shows_number(&h, "13712345674"));
	assert_false(log_shows_number(&h, "13900000001")); /* the staff member alerted */
	assert_true(hl_log_has(&h, "5671")); /* the last four digits are what a log reader gets */
	hl_cleanup(&h);

	assert_int_equal(hl_setup(&h, 1, "log", "log = { level = \"debug\"; mask_phones = false; };"), 0);
	assert_int_equal(hl_start(&h, NULL), 0);
	log_traffic(&h);
	assert_true(log_shows_number(&h, villagers[0]));
	hl_cleanup(&h);
}

static int mode_of(const char *path, gid_t *gid)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -1;
	if (gid)
		*gid = st.st_gid;
	return (int)(st.st_mode & 07777);
}

static void check_modes(struct hl *h, int want, const struct group *gr)
{
	char wal[400], *reply;
	gid_t gid;

	assert_int_equal(hl_start(h, NULL), 0);
	assert_int_equal(hl_sms(h, 0, "13700000431", "低保", NULL), 1);
	reply = hl_wait_reply(h, "13700000431", 1, WAIT_MS);
	assert_non_null(reply);
	free(reply);
	snprintf(wal, sizeof(wal), "%s-wal", h->db);
	assert_int_equal(mode_of(h->db, &gid), want);
	if (gr)
		assert_int_equal(gid, gr->gr_gid);
	assert_int_equal(mode_of(wal, NULL), want);
}

/* The database and its WAL: 0600, or 0640 and the group with database.group. */
static void test_database_modes(void **state)
{
	struct hl h;
	struct group *gr = getgrnam("adm");

	(void)state;
	assert_int_equal(hl_setup(&h, 1, NULL, NULL), 0);
	check_modes(&h, 0600, NULL);
	hl_cleanup(&h);
	if (gr == NULL) {
		fprintf(stderr, "no group \"adm\" on this machine: database.group not tried\n");
		return;
	}
	assert_int_equal(hl_setup(&h, 1, "database",
			     "database = { path = \"var/hotline.db\"; synchronous = \"normal\"; group = \"adm\"; };"),
	    0);
	check_modes(&h, 0640, gr);
	hl_cleanup(&h);
}

/* As root it does not start unless told: daemon.allow_root or --allow-root. */
static void test_refuses_root(void **state)
{
	struct hl h;
	static const char *const allow[] = { "--allow-root", NULL };

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(hl_setup(&h, 1, "daemon", "daemon = { allow_root = false; };"), 0);
	assert_int_equal(hl_start(&h, NULL), -1);
	assert_true(hl_log_has(&h, "refusing to run as root"));
	assert_int_equal(hl_start(&h, allow), 0);
	hl_cleanup(&h);
}

/*
 * 查询 answers with the asker's own cases only; another phone's number, in
 * a command or not, changes nothing and reveals nothing.
 */
static void test_status_only_own_cases(void **state)
{
	struct hl h;
	char *number, *reply, *status;

	(void)state;
	assert_int_equal(hl_setup(&h, 1, NULL, NULL), 0);
	assert_int_equal(hl_start(&h, NULL), 0);
	assert_int_equal(hl_sms(&h, 0, "13700000441", "人工", NULL), 1);
	reply = hl_wait_reply(&h, "13700000441", 1, WAIT_MS);
	assert_non_null(reply);
	free(reply);
	number = hl_text(&h, "SELECT number FROM cases WHERE applicant_key = '+8613700000441'");
	assert_non_null(number);

	/* someone else asks */
	assert_int_equal(hl_sms(&h, 0, "13700000442", "查询", NULL), 1);
	reply = hl_wait_reply(&h, "13700000442", 1, WAIT_MS);
	assert_non_null(reply);
	assert_null(strstr(reply, number));
	assert_non_null(strstr(reply, "还没查到"));
	free(reply);
	/* ... and tries the case number in commands (staff ones and the applicant's own) */
	{
		char text[96];
		struct gsm_inject_opts o;
		static const char *const cmds[] = { "撤销 %s", "接 %s", "办结 %s", "查询 %s" };
		for (int i = 0; i < 4; i++) {
			snprintf(text, sizeof(text), cmds[i], number);
			gsm_inject_defaults(&o);
			o.smsc_time = 1764300500 + i;
			assert_int_equal(hl_sms(&h, 0, "13700000442", text, &o), 1);
		}
	}
	assert_true(hl_wait_count(&h, 5, WAIT_MS,
	    "SELECT count(*) FROM messages WHERE direction = 'in' AND phone_key = '+8613700000442' AND status <> 'received'"));
	status = hl_text(&h, "SELECT status FROM cases WHERE number = '%s'", number);
	assert_string_equal(status, "received");
	free(status);
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM case_events e JOIN cases c ON c.id = e.case_id"
				    " WHERE c.number = '%s' AND e.actor LIKE '%%13700000442%%'", number), 0);
	/* nothing sent to the other phone carries the case or the applicant's number */
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM messages WHERE direction = 'out' AND phone_key = '+8613700000442'"
				    " AND (instr(text, '%s') > 0 OR instr(text, '0441') > 0)", number), 0);

	/* the applicant, writing from the same number with +86, sees it */
	assert_int_equal(hl_sms(&h, 0, "+8613700000441", "查询", NULL), 1);
	reply = hl_wait_reply(&h, "13700000441", 2, WAIT_MS);
	assert_non_null(reply);
	assert_non_null(strstr(reply, number));
	free(reply);
	free(number);
	hl_cleanup(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reply_limits),
		cmocka_unit_test(test_loop_senders_never_answered),
		cmocka_unit_test(test_same_text_once_per_window),
		cmocka_unit_test(test_log_masks_phones),
		cmocka_unit_test(test_database_modes),
		cmocka_unit_test(test_refuses_root),
		cmocka_unit_test(test_status_only_own_cases),
	};

	return cmocka_run_group_tests_name("e2e_limits", tests, NULL, NULL);
}
