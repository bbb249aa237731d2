/*
 * End to end on libgammu's real `at` connection: hotlined talks to the AT
 * modem emulator (tests/tools/atemu.py) on a pty. The happy path (round
 * trips, +CMTI and the slow safety-net poll, multipart UCS-2 both ways,
 * calls, USSD) and the faults of issue 12 that do not stall the modem (a
 * failing delete, a failed part of a long reply, a call without caller ID,
 * the idle cost), checked on what went over the air. The stalls are in
 * test_e2e_atfault.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "hl.h"
#include "phone.h"

#include "at_common.h"

/* ---- the happy path, on one daemon ------------------------------------------------------- */

static int setup_happy(void **state)
{
	struct hl *h = calloc(1, sizeof(*h));

	if (start(h, MODEM_KEYS " poll_interval = 3;", NULL) < 0) {
		hl_cleanup(h);
		free(h);
		return -1;
	}
	*state = h;
	return 0;
}

static int teardown_happy(void **state)
{
	struct hl *h = *state;

	if (h == NULL)
		return 0;
	hl_cleanup(h);
	free(h);
	return 0;
}

/* +CMTI: the message is read at once, answered, deleted; the reply over the air is the stored one. */
static void test_round_trip(void **state)
{
	struct hl *h = *state;
	int st = 0;

	assert_int_equal(hl_emu_int(h, 0, "sms +8613700000001 cmti 低保"), 1);
	char *reply = hl_wait_reply(h, "13700000001", 1, 10000);
	assert_non_null(reply);
	free(reply);
	struct air_arg a = { "+8613700000001", 1 };
	assert_true(hl_wait(10000, air_has, h, &a));
	assert_true(hl_wait(10000, sim_empty, h, NULL));
	assert_air_matches_store(h, K("13700000001"), "+8613700000001");
	char *body = healthz(h, &st);
	assert_int_equal(st, 200);
	assert_non_null(strstr(body, "\"state\":\"ready\""));
	free(body);
}

/* A long Chinese message in three UCS-2 parts comes in whole; a long reply goes out in parts the handset joins. */
static void test_multipart_ucs2_both_ways(void **state)
{
	struct hl *h = *state;
	char text[1200] = "";

	/* 低保 and then more words: over 134 characters, three UCS-2 parts */
	strcat(text, "低保");
	for (int i = 0; i < 70; i++)
		strcat(text, "我家");
	assert_int_equal(hl_emu_int(h, 0, "sms +8613700000002 cmti %s", text), 3);
	assert_true(hl_wait_count(h, 1, 10000,
	    "SELECT count(*) FROM messages WHERE direction='in' AND parts=3 AND"
	    " phone_key = '%s'",
	    K("13700000002")));
	char *in = hl_text(h, "SELECT text FROM messages WHERE direction='in' AND phone_key = '%s'", K("13700000002"));
	assert_non_null(in);
	assert_string_equal(in, text);
	free(in);
	free(hl_wait_reply(h, "13700000002", 1, 10000));
	/* a page that takes more than one SMS */
	assert_int_equal(hl_emu_int(h, 0, "sms +8613700000002 cmti 2"), 1);
	assert_true(hl_wait_count(h, 1, 10000,
	    "SELECT count(*) FROM messages WHERE direction='out' AND status='sent'"
	    " AND parts > 1 AND phone_key = '%s'",
	    K("13700000002")));
	/* both replies sent (the first may have waited out a retry), then both over the air */
	assert_true(hl_wait_count(h, 2, 30000,
	    "SELECT count(*) FROM messages WHERE direction='out' AND status='sent'"
	    " AND phone_key = '%s'",
	    K("13700000002")));
	struct air_arg a = { "+8613700000002", 2 };
	if (!hl_wait(30000, air_has, h, &a)) {
		hl_dump_log(h);
		fail_msg("the two replies to +8613700000002 did not both reach the air");
	}
	assert_air_matches_store(h, K("13700000002"), "+8613700000002");
}

/* A call with caller ID: hung up with AT+CHUP, kept as a missed call with a call-back case. */
static void test_call_with_caller_id(void **state)
{
	struct hl *h = *state;

	char *r = hl_emu(h, 0, "ring +8613700000003");
	assert_non_null(r);
	assert_non_null(strstr(r, "ok"));
	free(r);
	assert_true(hl_emu_wait(h, 0, 1, 10000, "hangups"));
	assert_true(hl_wait_count(
	    h, 1, 10000, "SELECT count(*) FROM messages WHERE channel='call' AND phone_key = '%s'", K("13700000003")));
	char *call = hl_emu(h, 0, "call");
	assert_non_null(strstr(call, "idle"));
	free(call);
}

/* USSD through the modem: hotlinectl modem ussd gets the network's answer. */
static void test_ussd(void **state)
{
	struct hl *h = *state;
	char *out = NULL;

	free(hl_emu(h, 0, "ussd *100# 您的余额为12.50元"));
	assert_int_equal(ctl(h, &out, "modem ussd m0 '*100#'"), 0);
	assert_non_null(strstr(out, "您的余额为12.50元"));
	free(out);
}

/*
 * An idle modem with +CMTI costs next to no AT commands: only the safety-net
 * poll (modems[].poll_interval, 3 s here; 30 s by default). Before: about 12
 * a second.
 */
static void test_idle_cost(void **state)
{
	struct hl *h = *state;
	char *t = hl_emu(h, 0, "now");
	struct timespec ts = { 0, 100 * 1000000L };
	int64_t until;

	assert_non_null(t);
	/* a window of 6 s, measured on the emulator's clock; waiting is the point here */
	until = now_ms() + 6000;
	while (now_ms() < until)
		nanosleep(&ts, NULL);
	long long n = hl_emu_int(h, 0, "since %s", t + 3);
	free(t);
	fprintf(stderr, "idle: %lld AT commands in 6 s (safety-net poll every 3 s)\n", n);
	/* at most three polls of about 7 commands fall in the window; before: about 12 commands a second */
	assert_true(n >= 0 && n <= 30);
}

/* The poll alone finds a message that was not announced. */
static void test_poll_safety_net(void **state)
{
	struct hl *h = *state;

	assert_int_equal(hl_emu_int(h, 0, "sms +8613700000010 - 高龄"), 1);
	free(hl_wait_reply(h, "13700000010", 1, 10000));
	struct air_arg a = { "+8613700000010", 1 };
	assert_true(hl_wait(10000, air_has, h, &a));
}

/* Part 2 of a long reply fails once: the retry sends part 2 alone, same reference; one message on the handset. */
static void test_long_reply_resends_missing_part(void **state)
{
	struct hl *h = *state;

	long long sent0 = hl_emu_int(h, 0, "sent");
	assert_int_equal(hl_emu_int(h, 0, "sms +8613700000050 cmti 低保"), 1);
	free(hl_wait_reply(h, "13700000050", 1, 10000));
	struct air_arg a1 = { "+8613700000050", 1 };
	assert_true(hl_wait(10000, air_has, h, &a1));
	free(hl_emu(h, 0, "fail CMGS 1 after=1 +CMS ERROR: 38"));
	assert_int_equal(hl_emu_int(h, 0, "sms +8613700000050 cmti 2"), 1);
	assert_true(hl_wait_count(h, 1, 20000,
	    "SELECT count(*) FROM messages WHERE direction='out' AND status='sent'"
	    " AND parts > 1 AND phone_key = '%s'",
	    K("13700000050")));
	struct air_arg a2 = { "+8613700000050", 2 };
	assert_true(hl_wait(10000, air_has, h, &a2));
	/* part 1 went once, part 2 once: no orphan, no copy */
	assert_air_matches_store(h, K("13700000050"), "+8613700000050");
	long long parts = hl_int(h,
	    "SELECT sum(parts) FROM messages WHERE direction='out' AND status='sent'"
	    " AND phone_key = '%s'",
	    K("13700000050"));
	/* parts accepted over the air: each part of both replies once, the failed one included */
	assert_int_equal(hl_emu_int(h, 0, "sent") - sent0, parts);
}

/* A call without caller ID is hung up after its RING, counted, and leaves no SMS and no case. */
static void test_call_without_caller_id(void **state)
{
	struct hl *h = *state;
	int st = 0;
	long long calls = hl_int(h, "SELECT count(*) FROM messages WHERE channel='call'");
	long long out = hl_int(h, "SELECT count(*) FROM messages WHERE direction='out'");
	long long cases = hl_int(h, "SELECT count(*) FROM cases");

	long long hangups = hl_emu_int(h, 0, "hangups");
	free(hl_emu(h, 0, "ring -"));
	assert_true(hl_emu_wait(h, 0, hangups + 1, 10000, "hangups"));
	char *call = hl_emu(h, 0, "call");
	assert_non_null(strstr(call, "idle"));
	free(call);
	char *m = hl_http(h, "GET", "/metrics", NULL, NULL, &st);
	assert_non_null(m);
	assert_non_null(strstr(m, "hotline_calls_withheld_total{modem=\"m0\"} 1"));
	free(m);
	assert_int_equal(hl_int(h, "SELECT count(*) FROM messages WHERE channel='call'"), calls);
	assert_int_equal(hl_int(h, "SELECT count(*) FROM messages WHERE direction='out'"), out);
	assert_int_equal(hl_int(h, "SELECT count(*) FROM cases"), cases);
}

static bool log_says(struct hl *h, void *text)
{
	return hl_log_has(h, text);
}

/*
 * Deletes that keep failing: the message is answered once, the reads back
 * off (no busy loop: today ~200 AT commands a second), one warning with a
 * count, and once deletes work the part leaves the phone without a second
 * answer.
 */
static void test_failing_delete(void **state)
{
	struct hl *h = *state;

	long long cmgd = hl_emu_int(h, 0, "count CMGD");
	free(hl_emu(h, 0, "fail CMGD 3 +CMS ERROR: 321"));
	assert_int_equal(hl_emu_int(h, 0, "sms +8613700000040 cmti 低保"), 1);
	free(hl_wait_reply(h, "13700000040", 1, 10000));
	assert_true(hl_emu_wait(h, 0, cmgd + 1, 10000, "count CMGD"));
	char *t = hl_emu(h, 0, "now");
	int64_t until = now_ms() + 5000;
	while (now_ms() < until) {
		struct timespec ts = { 0, 100 * 1000000L };
		nanosleep(&ts, NULL);
	}
	long long n = hl_emu_int(h, 0, "since %s", t + 3);
	free(t);
	fprintf(stderr, "failing deletes: %lld AT commands in 5 s\n", n);
	assert_true(n >= 0 && n < 60);
	assert_int_equal(hl_log_count(h, "could not be deleted from the phone"), 1);
	int st = 0;
	char *m = hl_http(h, "GET", "/metrics", NULL, NULL, &st);
	assert_non_null(m);
	assert_null(strstr(m, "hotline_modem_delete_failures_total{modem=\"m0\"} 0"));
	free(m);
	assert_true(hl_wait(30000, sim_empty, h, NULL));
	/* the part leaves the SIM first, the line is logged after the batch */
	assert_true(hl_wait(5000, log_says, h, "deleting works again"));
	assert_int_equal(
	    hl_int(h, "SELECT count(*) FROM messages WHERE direction='in' AND phone_key = '%s'", K("13700000040")), 1);
	assert_int_equal(
	    hl_int(h, "SELECT count(*) FROM messages WHERE direction='out' AND phone_key = '%s'", K("13700000040")), 1);
}

/*
 * A PDU libgammu cannot decode sits on the SIM, and an unsolicited +CMTI
 * comes inside the answer to AT+CMGL: the good message is answered once, the
 * bad one is left alone (logged), and the modem does not stall.
 */
static void test_malformed_pdu_and_unsolicited(void **state)
{
	struct hl *h = *state;
	int st = 0;

	assert_true(hl_emu_int(h, 0, "raw 07915892000000F0040B915892214365F700007040213252242331FFFF") >= 1);
	free(hl_emu(h, 0, "unsol CMGL +CMTI: \"SM\",9"));
	assert_int_equal(hl_emu_int(h, 0, "sms +8613700000060 cmti 低保"), 1);
	char *reply = hl_wait_reply(h, "13700000060", 1, 10000);
	assert_non_null(reply);
	free(reply);
	struct air_arg a = { "+8613700000060", 1 };
	assert_true(hl_wait(10000, air_has, h, &a));
	assert_air_matches_store(h, K("13700000060"), "+8613700000060");
	assert_int_equal(
	    hl_int(h, "SELECT count(*) FROM messages WHERE direction='in' AND phone_key = '%s'", K("13700000060")), 1);
	char *body = healthz(h, &st);
	assert_int_equal(st, 200);
	free(body);
}

/*
 * hotlinectl modem scan lists the devices that answer AT with maker and
 * model, and passes over one that answers nothing (a short timeout each).
 */
static void test_modem_scan(void **state)
{
	struct hl *h = *state;
	char args[1200], want[400], *out = NULL;

	assert_int_equal(hl_emu_start(h, 1), 0);
	assert_int_equal(hl_emu_start(h, 2), 0);
	free(hl_emu(h, 2, "silence 60"));
	snprintf(args, sizeof(args), "modem scan %s/modem %s/modem 2>&1", h->emu[1], h->emu[2]);
	assert_int_equal(ctl(h, &out, args), 0);
	snprintf(want, sizeof(want), "%s/modem\tHotlineEmu\tATEMU-1", h->emu[1]);
	assert_non_null(strstr(out, want));
	snprintf(want, sizeof(want), "%s/modem", h->emu[2]);
	assert_null(strstr(out, want));
	/* the summary is for the office: in Chinese */
	assert_non_null(strstr(out, "2 个串口设备，1 个回应 AT"));
	free(out);
	assert_true(hl_emu_int(h, 1, "count CGMM") >= 1);
}

int main(void)
{
	const struct CMUnitTest happy[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_multipart_ucs2_both_ways),
		cmocka_unit_test(test_call_with_caller_id),
		cmocka_unit_test(test_ussd),
		cmocka_unit_test(test_idle_cost),
		cmocka_unit_test(test_poll_safety_net),
		cmocka_unit_test(test_long_reply_resends_missing_part),
		cmocka_unit_test(test_call_without_caller_id),
		cmocka_unit_test(test_failing_delete),
		cmocka_unit_test(test_malformed_pdu_and_unsolicited),
		cmocka_unit_test(test_modem_scan),
	};
	/* HL_TEST=test_name runs one test (cmocka's own filter) */
	if (getenv("HL_TEST") && *getenv("HL_TEST"))
		cmocka_set_test_filter(getenv("HL_TEST"));
	return cmocka_run_group_tests_name("at happy path", happy, setup_happy, teardown_happy);
}
