/*
 * End to end, bad input: what a network or a phone can deliver and a menu
 * does not expect. Invalid UTF-16 (a lone surrogate), empty messages, NUL
 * (in data and in text), a 10 KB text, a 255-part concatenation, SQL
 * metacharacters, printf directives, emoji; and on the USSD side malformed
 * bodies. Each is stored as received (the text verbatim, or valid text plus
 * the received bytes in messages.raw), answered sanely (text: a reply goes
 * out; data: stored, not answered), and the daemon keeps running.
 *
 * Parts libgammu's encoder will not make are written by tests/tools/sms-parts.
 */
#include <fcntl.h>
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
#include "utf8.h"

#define WAIT_MS 20000

static bool alive(struct hl *h)
{
	return h->pid > 0 && waitpid(h->pid, NULL, WNOHANG) == 0;
}

/* Run $HOTLINE_BUILD/tools/sms-parts with args (NULL-terminated) into modem 0's phone. */
static int sms_parts(struct hl *h, const char *sender, const char *text, ...)
{
	const char *argv[24];
	char bin[400];
	int argc = 0, status;
	va_list ap;
	pid_t pid;
	const char *a;

	snprintf(bin, sizeof(bin), "%s/tools/sms-parts", getenv("HOTLINE_BUILD") ? getenv("HOTLINE_BUILD") : "build");
	argv[argc++] = bin;
	va_start(ap, text);
	while ((a = va_arg(ap, const char *)) != NULL && argc < 18)
		argv[argc++] = a;
	va_end(ap);
	argv[argc++] = h->phone[0];
	argv[argc++] = sender;
	argv[argc++] = text;
	argv[argc] = NULL;
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0)
			dup2(null, STDOUT_FILENO);
		execv(bin, (char *const *)argv);
		perror(bin);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "sms-parts failed for %s\n", sender);
		return -1;
	}
	return 0;
}

/* Wait for phone's inbound message to be decided and return its id (0 on timeout). */
static long long inbound_id(struct hl *h, const char *phone)
{
	char key[PHONE_LEN];

	hl_phone(phone, key, sizeof(key));
	if (!hl_wait_count(h, 1, WAIT_MS,
		"SELECT count(*) FROM messages WHERE direction = 'in' AND phone_key = '%s' AND status <> 'received'", key))
		return 0;
	return hl_int(h, "SELECT max(id) FROM messages WHERE direction = 'in' AND phone_key = '%s'", key);
}

/* The inbound message id was answered: a reply to it went out, non-empty. */
static void assert_answered(struct hl *h, long long id)
{
	assert_true(hl_wait_count(h, 1, WAIT_MS,
	    "SELECT count(*) FROM messages WHERE reply_to = %lld AND direction = 'out' AND status = 'sent'"
	    " AND length(text) > 0", id));
	assert_int_equal(hl_int(h, "SELECT count(*) FROM messages WHERE id = %lld AND status = 'answered'", id), 1);
}

/* The stored text of id, and that it is valid UTF-8 without NUL. */
static char *stored_text(struct hl *h, long long id)
{
	char *t = hl_text(h, "SELECT text FROM messages WHERE id = %lld", id);

	assert_non_null(t);
	assert_true(utf8_valid(t, strlen(t)));
	return t;
}

static int group_setup(void **state)
{
	struct hl *h = calloc(1, sizeof(*h));

	/* no flood limits here: each case is one sender, but some send twice */
	if (hl_setup(h, 1, "limits", "limits = { poll_interval_ms = 50; retry_initial = 1; retry_max = 2;"
				     " replies_per_minute = 0; replies_per_day = 0; repeat_window = 0; };") < 0 ||
	    hl_start(h, NULL) < 0) {
		hl_cleanup(h);
		free(h);
		return -1;
	}
	*state = h;
	return 0;
}

static int group_teardown(void **state)
{
	struct hl *h = *state;
	char *reply;
	int ok;

	/* after all of it the daemon is alive and answers a plain question */
	ok = alive(h) && hl_sms(h, 0, "13700000599", "低保", NULL) == 1 &&
	    (reply = hl_wait_reply(h, "13700000599", 1, WAIT_MS)) != NULL;
	if (ok)
		free(reply);
	else
		hl_dump_log(h);
	ok = ok && hl_stop(h, SIGTERM, 5000) == 0;
	hl_cleanup(h);
	free(h);
	return ok ? 0 : -1;
}

/*
 * A lone high surrogate between two letters: stored as valid text with
 * U+FFFD in its place (gsm.c decodes UTF-16 itself), answered.
 */
static void test_invalid_utf16(void **state)
{
	struct hl *h = *state;
	long long id;
	char *t;

	assert_int_equal(sms_parts(h, "13700000501", "0041D8000042", "-x", NULL), 0);
	id = inbound_id(h, "13700000501");
	assert_true(id > 0);
	t = stored_text(h, id);
	/* the unit that is no character is marked where it was, nothing around it lost */
	assert_string_equal(t, "A\xEF\xBF\xBD" "B");
	free(t);
	assert_answered(h, id);
}

/* Empty messages (through libgammu's encoder and as a bare UCS-2 part) get the main menu. */
static void test_empty_message(void **state)
{
	struct hl *h = *state;
	long long id;
	char *t;

	assert_true(hl_sms(h, 0, "13700000502", "", NULL) >= 1);
	id = inbound_id(h, "13700000502");
	assert_true(id > 0);
	t = stored_text(h, id);
	assert_string_equal(t, "");
	free(t);
	assert_answered(h, id);

	assert_int_equal(sms_parts(h, "13700000503", "", NULL), 0);
	id = inbound_id(h, "13700000503");
	assert_true(id > 0);
	assert_answered(h, id);
}

/*
 * NUL in data (an 8-bit message: stored as hex, not answered) and U+0000 in
 * a UCS-2 text (stored as valid text with the received bytes in raw, with
 * what follows the NUL, and answered).
 */
static void test_nul_bytes(void **state)
{
	struct hl *h = *state;
	long long id;
	char *t;

	assert_int_equal(sms_parts(h, "13700000504", "00410042000043", "-c", "8bit", "-x", NULL), 0);
	id = inbound_id(h, "13700000504");
	assert_true(id > 0);
	t = stored_text(h, id);
	assert_string_equal(t, "00410042000043");
	free(t);
	assert_int_equal(hl_int(h, "SELECT count(*) FROM messages WHERE id = %lld AND kind = 'binary' AND status = 'ignored'", id), 1);
	assert_int_equal(hl_int(h, "SELECT count(*) FROM messages WHERE reply_to = %lld", id), 0);

	/* "低保" U+0000 "申请" */
	assert_int_equal(sms_parts(h, "13700000505", "4F4E4FDD000075338BF7", "-x", NULL), 0);
	id = inbound_id(h, "13700000505");
	assert_true(id > 0);
	t = stored_text(h, id);
	assert_non_null(strstr(t, "低保"));
	assert_non_null(strstr(t, "申请")); /* nothing after the NUL is lost */
	free(t);
	assert_int_equal(hl_int(h, "SELECT length(CAST(raw AS BLOB)) FROM messages WHERE id = %lld", id),
	    (long long)strlen("低保") + 1 + (long long)strlen("申请"));
	assert_answered(h, id);
}

static char *repeat(const char *unit, size_t n)
{
	size_t len = strlen(unit);
	char *s = malloc(len * n + 1);

	for (size_t i = 0; i < n; i++)
		memcpy(s + i * len, unit, len);
	s[len * n] = '\0';
	return s;
}

/* 10 KB in one message: ASCII (GSM-7, 67 parts) and Chinese (UCS-2, 52 parts), stored whole. */
static void test_ten_kilobytes(void **state)
{
	struct hl *h = *state;
	char *ascii = repeat("dibao shenqing 1234567890 ", 394); /* 10,244 bytes */
	char *zh = repeat("我想问问低保咋申请", 380);          /* 10,260 bytes, 3,420 characters */
	long long id;
	char *t;

	assert_true(strlen(ascii) >= 10240 && strlen(zh) >= 10240);
	assert_int_equal(sms_parts(h, "13700000506", ascii, "-c", "gsm7", NULL), 0);
	id = inbound_id(h, "13700000506");
	assert_true(id > 0);
	t = stored_text(h, id);
	assert_string_equal(t, ascii);
	free(t);
	assert_int_equal(hl_int(h, "SELECT parts FROM messages WHERE id = %lld", id), 67);
	assert_answered(h, id);

	assert_int_equal(sms_parts(h, "13700000507", zh, "-R", NULL), 0);
	id = inbound_id(h, "13700000507");
	assert_true(id > 0);
	t = stored_text(h, id);
	assert_string_equal(t, zh);
	free(t);
	assert_int_equal(hl_int(h, "SELECT parts FROM messages WHERE id = %lld", id), 52);
	assert_answered(h, id);
	free(ascii);
	free(zh);
}

/* The most parts a concatenation can have, arriving last first: one message, whole, answered. */
static void test_255_parts(void **state)
{
	struct hl *h = *state;
	char *text = malloc(255 * 32), *t;
	size_t len = 0;
	long long id;

	for (int i = 1; i <= 255; i++)
		len += (size_t)snprintf(text + len, 32, "第%03d段：低保。", i);
	assert_int_equal(sms_parts(h, "13700000508", text, "-n", "255", "-R", "-r", "201", NULL), 0);
	id = inbound_id(h, "13700000508");
	assert_true(id > 0);
	t = stored_text(h, id);
	assert_string_equal(t, text);
	free(t);
	assert_int_equal(hl_int(h, "SELECT parts FROM messages WHERE id = %lld", id), 255);
	assert_int_equal(hl_int(h, "SELECT count(DISTINCT seq) FROM inbox_parts WHERE message_id = %lld", id), 255);
	assert_int_equal(hl_int(h, "SELECT count(*) FROM messages WHERE direction = 'in' AND phone_key = '+8613700000508'"), 1);
	assert_answered(h, id);
	free(text);
}

/* SQL and printf metacharacters are text like any other. */
static void test_sql_and_format_metacharacters(void **state)
{
	struct hl *h = *state;
	static const char *const texts[] = {
		"'; DROP TABLE messages; --",
		"低保'); DELETE FROM outbox; --",
		"\" OR 1=1 -- %s%n%x%p {case.number} \\",
	};
	struct gsm_inject_opts o;
	long long before = hl_int(h, "SELECT count(*) FROM messages");

	for (int i = 0; i < 3; i++) {
		gsm_inject_defaults(&o);
		o.smsc_time = 1764301000 + i;
		assert_int_equal(hl_sms(h, 0, "13700000509", texts[i], &o), 1);
	}
	assert_true(hl_wait_count(h, 3, WAIT_MS,
	    "SELECT count(*) FROM messages WHERE direction = 'in' AND phone_key = '+8613700000509' AND status = 'answered'"));
	for (int i = 0; i < 3; i++) {
		char *t = hl_text(h, "SELECT text FROM messages WHERE direction = 'in' AND phone_key = '+8613700000509'"
				     " ORDER BY id LIMIT 1 OFFSET %d", i);
		assert_non_null(t);
		assert_string_equal(t, texts[i]);
		free(t);
	}
	assert_true(hl_wait_count(h, 3, WAIT_MS,
	    "SELECT count(*) FROM messages WHERE direction = 'out' AND phone_key = '+8613700000509' AND status = 'sent'"));
	assert_true(hl_int(h, "SELECT count(*) FROM messages") >= before + 6);
	/* a reply never echoes the directives filled in */
	assert_int_equal(hl_int(h, "SELECT count(*) FROM messages WHERE direction = 'out' AND phone_key = '+8613700000509'"
				   " AND text LIKE '%%(null)%%'"), 0);
}

/* Emoji (outside UCS-2: surrogate pairs) stored verbatim, and the keyword among them found. */
static void test_emoji(void **state)
{
	struct hl *h = *state;
	static const char text[] = "😀低保👍🏽怎么申请🙏";
	long long id;
	char *t, *node;

	assert_true(hl_sms(h, 0, "13700000510", text, NULL) >= 1);
	id = inbound_id(h, "13700000510");
	assert_true(id > 0);
	t = stored_text(h, id);
	assert_string_equal(t, text);
	free(t);
	assert_answered(h, id);
	node = hl_text(h, "SELECT node FROM messages WHERE id = %lld", id);
	assert_non_null(node);
	assert_non_null(strstr(node, "dibao"));
	free(node);

	assert_true(hl_sms(h, 0, "13700000511", "🙏🙏🙏", NULL) >= 1);
	id = inbound_id(h, "13700000511");
	assert_true(id > 0);
	t = stored_text(h, id);
	assert_string_equal(t, "🙏🙏🙏");
	free(t);
	assert_answered(h, id);
}

/* The USSD side: malformed bodies are refused with 4xx and nothing else happens. */
static void test_ussd_bad_bodies(void **state)
{
	struct hl *h = *state;
	static const char *const bad[] = {
		"sessionId=bad-1&serviceCode=%2A123%23&phoneNumber=13700000520&text=%FF%FE", /* not UTF-8 */
		"sessionId=bad-2&serviceCode=%2A123%23&phoneNumber=13700000520&text=1%002",  /* NUL */
		"sessionId=bad-3&serviceCode=%2A123%23&phoneNumber=13700000520&text=%",      /* cut escape */
		"sessionId=bad-4&serviceCode=%2A123%23&phoneNumber=%27%3B+DROP+TABLE+messages%3B&text=",
	};
	char *body, *big;
	int status;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		body = hl_http(h, "POST", "/ussd/test-secret", bad[i], NULL, &status);
		free(body);
		assert_in_range(status, 400, 499);
	}
	big = repeat("x", 70000);
	memcpy(big, "text=", 5);
	body = hl_http(h, "POST", "/ussd/test-secret", big, NULL, &status);
	free(body);
	free(big);
	assert_in_range(status, 400, 499);
	/* nothing stored from them */
	assert_int_equal(hl_int(h, "SELECT count(*) FROM messages WHERE channel = 'ussd' AND session LIKE 'bad-%%'"), 0);
	/* and a good one still works, emoji and all */
	body = hl_http(h, "POST", "/ussd/test-secret",
	    "sessionId=good-1&serviceCode=%2A123%23&phoneNumber=13700000521&text=%F0%9F%99%8F", NULL, &status);
	assert_int_equal(status, 200);
	assert_non_null(body);
	assert_true(strncmp(body, "CON ", 4) == 0 || strncmp(body, "END ", 4) == 0);
	free(body);
	assert_true(alive(h));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_invalid_utf16),
		cmocka_unit_test(test_empty_message),
		cmocka_unit_test(test_nul_bytes),
		cmocka_unit_test(test_ten_kilobytes),
		cmocka_unit_test(test_255_parts),
		cmocka_unit_test(test_sql_and_format_metacharacters),
		cmocka_unit_test(test_emoji),
		cmocka_unit_test(test_ussd_bad_bodies),
	};

	return cmocka_run_group_tests_name("e2e_badinput", tests, group_setup, group_teardown);
}
