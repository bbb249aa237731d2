/*
 * End to end, issue 8: a missed call on the dummy phone becomes a callback
 * request and an SMS; the SIM balance is read by USSD and a low balance
 * alerts the supervisor; hotlinectl modem status / modem ussd.
 */
#include <setjmp.h>
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

#define WAIT_MS 15000
#define DUMMY_CALLER "+800123456" /* the dummy driver's incoming call is from +800123456 */

static const char modems_balance[] =
    "modems = ( { name = \"m0\"; model = \"dummy\"; connection = \"none\"; device = \"phone0\";"
    " balance_code = \"*5#\"; balance_pattern = \"for [*]([0-9.]+)#\"; } );\n"
    "monitor = { interval = 1; balance_threshold = 10; down_alert_minutes = 30; };";

static void ring(struct hl *h)
{
	char path[400];
	FILE *f;

	snprintf(path, sizeof(path), "%s/incoming-call", h->phone[0]);
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
}

static bool call_taken(struct hl *h, void *arg)
{
	char path[400];

	(void)arg;
	snprintf(path, sizeof(path), "%s/incoming-call", h->phone[0]);
	return access(path, F_OK) != 0;
}

/* Run hotlinectl with the test config; returns its exit status and its stdout in *out. */
static int ctl(struct hl *h, char **out, const char *a1, const char *a2, const char *a3, const char *a4)
{
	char cmd[2048];
	FILE *p;
	size_t n = 0, cap = 4096;
	int st;

	snprintf(cmd, sizeof(cmd), "%s/hotlinectl -c %s %s %s %s %s", getenv("HOTLINE_BUILD"), h->cfg, a1,
	    a2 ? a2 : "", a3 ? a3 : "", a4 ? a4 : "");
	p = popen(cmd, "r");
	assert_non_null(p);
	*out = calloc(1, cap);
	while (!feof(p) && n + 1 < cap)
		n += fread(*out + n, 1, cap - 1 - n, p);
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_missed_call_makes_request(void **state)
{
	struct hl h;

	(void)state;
	assert_int_equal(hl_setup(&h, 1, NULL, NULL), 0);
	assert_int_equal(hl_start(&h, NULL), 0);
	ring(&h);
	assert_true(hl_wait(WAIT_MS, call_taken, &h, NULL));
	/* the call is kept, a callback case is opened, the caller gets an SMS with its number */
	assert_true(hl_wait_count(&h, 1, WAIT_MS, "SELECT count(*) FROM messages WHERE channel='call' AND phone_key='" DUMMY_CALLER "'"));
	assert_true(hl_wait_count(&h, 1, WAIT_MS, "SELECT count(*) FROM cases WHERE topic='callback' AND applicant_key='" DUMMY_CALLER "'"));
	char *number = hl_text(&h, "SELECT number FROM cases WHERE topic='callback'");
	assert_non_null(number);
	char *reply = hl_wait_reply(&h, DUMMY_CALLER, 1, WAIT_MS);
	assert_non_null(reply);
	assert_non_null(strstr(reply, number));
	free(reply);
	/* routed like a request: the duty staff member is asked to call back */
	assert_true(hl_wait_count(&h, 1, WAIT_MS,
	    "SELECT count(*) FROM messages WHERE direction='out' AND phone_key = '+8613900000001' AND text LIKE '%%%s%%'", number));
	char *alert = hl_text(&h, "SELECT text FROM messages WHERE direction='out' AND phone_key = '+8613900000001'");
	assert_non_null(strstr(alert, DUMMY_CALLER));
	free(alert);
	/* ... and closes it by SMS once the call is made: 回 N */
	{
		char cmd[64];
		snprintf(cmd, sizeof(cmd), "回 %s", number);
		assert_int_equal(hl_sms(&h, 0, "13900000001", cmd, NULL), 1);
		assert_true(hl_wait_count(&h, 1, WAIT_MS, "SELECT count(*) FROM cases WHERE number='%s' AND status='done'", number));
	}
	free(number);

	/* ringing again within calls.window makes no second request and no second SMS */
	ring(&h);
	assert_true(hl_wait(WAIT_MS, call_taken, &h, NULL));
	assert_true(hl_wait_count(&h, 2, WAIT_MS, "SELECT count(*) FROM messages WHERE channel='call'"));
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM cases WHERE topic='callback'"), 1);
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM messages WHERE direction='out' AND kind='reply' AND phone_key='" DUMMY_CALLER "'"), 1);
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM messages WHERE channel='call' AND status='ignored'"), 1);
	hl_cleanup(&h);
}

static void test_call_menu_only(void **state)
{
	struct hl h;

	(void)state;
	assert_int_equal(hl_setup(&h, 1, NULL, "calls = { callback = false; reply_menu = true; };"), 0);
	assert_int_equal(hl_start(&h, NULL), 0);
	ring(&h);
	char *reply = hl_wait_reply(&h, DUMMY_CALLER, 1, WAIT_MS);
	assert_non_null(reply);
	/* the main menu: it lists the eight choices */
	assert_non_null(strstr(reply, "8"));
	free(reply);
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM cases"), 0);
	hl_cleanup(&h);
}

static void test_low_balance_alerts_supervisor(void **state)
{
	struct hl h;
	char *out = NULL;

	(void)state;
	assert_int_equal(hl_setup(&h, 1, "modems", modems_balance), 0);
	assert_int_equal(hl_start(&h, NULL), 0);
	/* the dummy answers "Reply for *5#": the pattern reads 5, under the threshold of 10 */
	assert_true(hl_wait_count(&h, 1, WAIT_MS, "SELECT count(*) FROM modem_readings WHERE balance = 5"));
	assert_true(hl_wait_count(&h, 1, 45000,
	    "SELECT count(*) FROM messages WHERE direction='out' AND phone_key = '+8613900000003' AND text LIKE '%%5.00%%'"));
	/* once, not at every reading */
	assert_true(hl_wait_count(&h, 3, WAIT_MS, "SELECT count(*) FROM modem_readings"));
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM messages WHERE direction='out' AND phone_key = '+8613900000003'"), 1);

	assert_int_equal(ctl(&h, &out, "modem", "status", NULL, NULL), 0);
	assert_non_null(strstr(out, "m0"));
	assert_non_null(strstr(out, "在线状态  在线"));
	assert_non_null(strstr(out, "话费余额  5.00"));
	free(out);

	assert_int_equal(ctl(&h, &out, "modem", "ussd", "m0", "'*100#'"), 0);
	assert_non_null(strstr(out, "Reply for *100#"));
	free(out);
	assert_int_equal(ctl(&h, &out, "modem", "ussd", "nosuch", "'*100#'"), 1);
	free(out);
	hl_cleanup(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_missed_call_makes_request),
		cmocka_unit_test(test_call_menu_only),
		cmocka_unit_test(test_low_balance_alerts_supervisor),
	};

	return cmocka_run_group_tests_name("e2e_calls", tests, NULL, NULL);
}
