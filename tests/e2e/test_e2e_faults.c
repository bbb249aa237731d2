/*
 * End to end, modem faults: the dummy phone vanishes (its folder renamed
 * away: root reads through chmod) and comes back; a modem whose device
 * cannot be opened; sends that can never succeed. Through all of it the
 * daemon keeps answering USSD over HTTP, reports the modem in /healthz and
 * /metrics, and loses nothing that was queued.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "hl.h"

#define WAIT_MS 15000

/* Seconds since midnight of the first max log lines that contain text; returns how many. */
static int log_times(struct hl *h, const char *text, double *out, int max)
{
	FILE *f = fopen(h->log, "r");
	char *line = NULL;
	size_t cap = 0;
	int n = 0, hh, mm;
	double ss;

	if (f == NULL)
		return 0;
	while (n < max && getline(&line, &cap, f) >= 0) {
		const char *t = strchr(line, 'T');
		if (strstr(line, text) && t && sscanf(t + 1, "%d:%d:%lf", &hh, &mm, &ss) == 3)
			out[n++] = hh * 3600 + mm * 60 + ss;
	}
	free(line);
	fclose(f);
	return n;
}

struct log_want {
	const char *text;
	int n;
};

static bool log_reaches(struct hl *h, void *arg)
{
	const struct log_want *w = arg;

	return hl_log_count(h, w->text) >= w->n;
}

static bool alive(struct hl *h)
{
	return h->pid > 0 && waitpid(h->pid, NULL, WNOHANG) == 0;
}

static bool inbox_empty(struct hl *h, void *arg)
{
	(void)arg;
	return hl_inbox_count(h, 0) == 0;
}

struct health_want {
	int status;
	const char *has; /* text the body must contain, or NULL */
};

static bool health_is(struct hl *h, void *arg)
{
	const struct health_want *w = arg;
	int status = 0;
	char *body = hl_http(h, "GET", "/healthz", NULL, NULL, &status);
	bool ok = status == w->status && (w->has == NULL || (body && strstr(body, w->has)));

	free(body);
	return ok;
}

/*
 * Queue an outbound SMS the way dispatch does (a messages row and an outbox
 * row), straight into the running daemon's database: what a staff tool or
 * another thread would have queued.
 */
static long long queue_sms(struct hl *h, const char *phone, const char *key, const char *text, int priority)
{
	if (hl_int(h, "INSERT INTO messages (channel, direction, phone, phone_key, text, status, kind, created_at,"
		      " updated_at) VALUES ('sms', 'out', '%s', '%s', '%s', 'queued', 'notify', strftime('%%s', 'now'),"
		      " strftime('%%s', 'now'))", phone, key, text) < 0)
		return -1;
	long long id = hl_int(h, "SELECT max(id) FROM messages WHERE direction = 'out' AND phone = '%s'", phone);
	if (id <= 0 || hl_int(h, "INSERT INTO outbox (message_id, modem, priority, not_before) VALUES (%lld, NULL, %d, 0)",
			   id, priority) < 0)
		return -1;
	return id;
}

static const char ussd_first[] = "sessionId=fault-1&serviceCode=%2A123%23&phoneNumber=13700000150&text=";

/*
 * The phone's folder disappears and comes back: one log line per state
 * change, reconnects with growing pauses, /healthz 503 then 200, USSD keeps
 * answering, and what was queued meanwhile (an outbound SMS, an SMS that
 * reached the phone) goes out once it is back.
 */
static void test_phone_vanishes_and_returns(void **state)
{
	struct hl h;
	char away[400], *reply, *body;
	int status, attempts;
	struct health_want up = { 200, "\"status\":\"ok\"" }, down = { 503, "\"backoff\"" };
	struct log_want back = { "connecting -> ready", 2 }, gone = { "m0: ready -> backoff", 1 };
	struct gsm_inject_opts o;
	char err[256];
	int parts;
	long long queued;

	(void)state;
	assert_int_equal(hl_setup(&h, 1, NULL, NULL), 0);
	assert_int_equal(hl_start(&h, NULL), 0);
	assert_int_equal(hl_sms(&h, 0, "13700000101", "低保", NULL), 1);
	reply = hl_wait_reply(&h, "13700000101", 1, WAIT_MS);
	assert_non_null(reply);
	free(reply);
	assert_true(hl_wait(WAIT_MS, health_is, &h, &up));

	/* the phone goes away: renamed, so that root cannot read it either */
	snprintf(away, sizeof(away), "%s.away", h.phone[0]);
	assert_int_equal(rename(h.phone[0], away), 0);
	assert_true(hl_wait(WAIT_MS, log_reaches, &h, &gone));
	assert_true(hl_wait(WAIT_MS, health_is, &h, &down));

	/* meanwhile: USSD over HTTP still answers (no modem involved) */
	body = hl_http(&h, "POST", "/ussd/test-secret", ussd_first, NULL, &status);
	assert_int_equal(status, 200);
	assert_non_null(body);
	assert_true(strncmp(body, "CON ", 4) == 0);
	free(body);
	/* ... a reply is queued for the modem ... */
	queued = queue_sms(&h, "+8613700000102", "+8613700000102", "停机期间排队的短信", 0);
	assert_true(queued > 0);
	/* ... and an SMS reaches the phone while we cannot read it */
	gsm_inject_defaults(&o);
	assert_int_equal(gsm_dummy_inject(away, "13700000103", "特困", &o, &parts, err, sizeof(err)), GSM_OK);

	/* reconnects with growing pauses (at once, then 1 s, 2 s, 4 s ...), not in a tight loop */
	struct log_want tries = { "m0: backoff -> connecting", 3 };
	double at[3];
	assert_true(hl_wait(WAIT_MS, log_reaches, &h, &tries));
	attempts = log_times(&h, "m0: backoff -> connecting", at, 3);
	assert_int_equal(attempts, 3);
	assert_true(at[1] - at[0] >= 0.9);
	assert_true(at[2] - at[1] >= 1.5 * (at[1] - at[0]));
	assert_int_equal(hl_int(&h, "SELECT status = 'queued' FROM messages WHERE id = %lld", queued), 1);

	/* back */
	assert_int_equal(rename(away, h.phone[0]), 0);
	assert_true(hl_wait(WAIT_MS, log_reaches, &h, &back));
	assert_true(hl_wait(WAIT_MS, health_is, &h, &up));
	assert_true(hl_wait_count(&h, 1, WAIT_MS, "SELECT count(*) FROM messages WHERE id = %lld AND status = 'sent'", queued));
	assert_true(hl_wait_count(&h, 1, WAIT_MS,
	    "SELECT count(*) FROM messages WHERE direction = 'out' AND phone_key = '+8613700000103' AND status = 'sent'"));
	assert_true(hl_wait(WAIT_MS, inbox_empty, &h, NULL));

	/* one line per state change: the loss, the first failed reconnect, the return */
	assert_int_equal(hl_log_count(&h, "m0: ready -> backoff"), 1);
	assert_int_equal(hl_log_count(&h, "m0: cannot connect"), 1);
	assert_int_equal(hl_log_count(&h, "connecting -> ready"), 2);
	assert_true(alive(&h));
	hl_cleanup(&h);
}

/*
 * A second modem whose serial device does not exist: it waits in backoff,
 * /healthz and /metrics name it, and the working modem answers as usual.
 */
static void test_device_cannot_open(void **state)
{
	struct hl h;
	char *reply, *body;
	int status;
	struct log_want tried = { "bad: cannot connect", 1 };

	(void)state;
	assert_int_equal(hl_setup(&h, 1, "modems",
			     "modems = (\n"
			     "  { name = \"m0\"; model = \"dummy\"; connection = \"none\"; device = \"phone0\"; },\n"
			     "  { name = \"bad\"; connection = \"at115200\"; device = \"/dev/ttyHOTLINE-no-such\"; }\n"
			     ");"),
	    0);
	assert_int_equal(hl_start(&h, NULL), 0);
	assert_true(hl_wait(WAIT_MS, log_reaches, &h, &tried));
	assert_int_equal(hl_sms(&h, 0, "13700000111", "高龄补贴", NULL), 1);
	reply = hl_wait_reply(&h, "13700000111", 1, WAIT_MS);
	assert_non_null(reply);
	free(reply);
	assert_true(hl_wait_count(&h, 1, WAIT_MS,
	    "SELECT count(*) FROM messages WHERE direction = 'out' AND phone_key = '+8613700000111' AND status = 'sent'"));

	body = hl_http(&h, "GET", "/healthz", NULL, NULL, &status);
	assert_int_equal(status, 200); /* one modem up is enough to serve */
	assert_non_null(body);
	assert_non_null(strstr(body, "\"name\":\"bad\""));
	assert_non_null(strstr(body, "\"connected\":false"));
	free(body);
	body = hl_http(&h, "GET", "/metrics", NULL, NULL, &status);
	assert_int_equal(status, 200);
	assert_non_null(body);
	assert_non_null(strstr(body, "modem=\"bad\""));
	free(body);
	/* once per state change, not once per try */
	assert_int_equal(hl_log_count(&h, "bad: cannot connect"), 1);
	hl_cleanup(&h);
}

/*
 * Sends that can never succeed are marked failed with the reason and do not
 * hold up the queue: the messages behind them (and after them) go out.
 */
static void test_permanent_failure_does_not_block(void **state)
{
	struct hl h;
	long long bad1, bad2, good;
	char *err;

	(void)state;
	assert_int_equal(hl_setup(&h, 1, NULL, NULL), 0);
	assert_int_equal(hl_start(&h, NULL), 0);
	/* first in line: two numbers no network takes */
	bad1 = queue_sms(&h, "not-a-number", "NOTANUMBER", "发不出去", 9);
	bad2 = queue_sms(&h, "+8613700000121999999999999", "13700000121999999999999", "号码太长", 9);
	good = queue_sms(&h, "+8613700000122", "+8613700000122", "排在后面的短信", 0);
	assert_true(bad1 > 0 && bad2 > 0 && good > 0);
	assert_int_equal(hl_sms(&h, 0, "13700000123", "临时救助", NULL), 1);

	assert_true(hl_wait_count(&h, 1, WAIT_MS, "SELECT count(*) FROM messages WHERE id = %lld AND status = 'sent'", good));
	assert_true(hl_wait_count(&h, 1, WAIT_MS,
	    "SELECT count(*) FROM messages WHERE direction = 'out' AND phone_key = '+8613700000123' AND status = 'sent'"));
	assert_true(hl_wait_count(&h, 2, WAIT_MS,
	    "SELECT count(*) FROM messages WHERE id IN (%lld, %lld) AND status = 'failed'", bad1, bad2));
	err = hl_text(&h, "SELECT error FROM messages WHERE id = %lld", bad1);
	assert_non_null(err);
	assert_non_null(strstr(err, "not a number"));
	free(err);
	err = hl_text(&h, "SELECT error FROM messages WHERE id = %lld", bad2);
	assert_non_null(err);
	free(err);
	/* failed for good: out of the queue, tried once */
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM outbox WHERE message_id IN (%lld, %lld)", bad1, bad2), 0);
	assert_int_equal(hl_log_count(&h, "failed for good"), 2);
	assert_true(alive(&h));
	hl_cleanup(&h);
}

/*
 * A file in the phone's inbox that libgammu cannot read as a message (a PDU
 * it cannot decode) is left alone, warned about once, and does not hold up
 * the messages behind it.
 */
static void test_unreadable_message_does_not_block(void **state)
{
	struct hl h;
	char bad[400], *reply;
	FILE *f;

	(void)state;
	assert_int_equal(hl_setup(&h, 1, NULL, NULL), 0);
	assert_int_equal(hl_start(&h, NULL), 0);
	assert_int_equal(hl_sms(&h, 0, "13700000131", "低保", NULL), 1);
	reply = hl_wait_reply(&h, "13700000131", 1, WAIT_MS);
	assert_non_null(reply);
	free(reply);
	/* first in the inbox: something that is no message */
	snprintf(bad, sizeof(bad), "%s/sms/1/1", h.phone[0]);
	f = fopen(bad, "w");
	assert_non_null(f);
	fputs("[SMSBackup000]\nthis is no message\n", f);
	fclose(f);
	for (int i = 0; i < 3; i++) {
		char phone[24];
		snprintf(phone, sizeof(phone), "1370000014%d", i);
		assert_int_equal(hl_sms(&h, 0, phone, "特困", NULL), 1);
		reply = hl_wait_reply(&h, phone, 1, WAIT_MS);
		assert_non_null(reply);
		free(reply);
	}
	assert_int_equal(hl_inbox_count(&h, 0), 1);
	assert_int_equal(hl_log_count(&h, "not messages libgammu can read"), 1);
	assert_int_equal(hl_log_count(&h, "-> resetting"), 0);
	assert_true(alive(&h));
	hl_cleanup(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_phone_vanishes_and_returns),
		cmocka_unit_test(test_device_cannot_open),
		cmocka_unit_test(test_permanent_failure_does_not_block),
		cmocka_unit_test(test_unreadable_message_does_not_block),
	};

	return cmocka_run_group_tests_name("e2e_faults", tests, NULL, NULL);
}
