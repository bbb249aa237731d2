/*
 * USSD: the pure parts (form parsing and every way a body can be malformed,
 * the text diff, screen splitting on both sides of the limits, the answer,
 * source addresses), then a USSD session step by step against an in-memory
 * database with the shipped menus.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "dispatch.h"
#include "log.h"
#include "smstext.h"
#include "store.h"
#include "store_cases.h"
#include "store_messages.h"
#include "store_outbox.h"
#include "store_sessions.h"
#include "ussd.h"
#include "ussd_session.h"
#include "utf8.h"
#include "world.h"

/* ---- helpers ------------------------------------------------------------------------------ */

/* Parse a copy of body (the parser writes into it). */
static int parse_cb(const char *body, struct ussd_callback *cb, char **keep, char *err, size_t errlen)
{
	size_t len = strlen(body);
	char *copy = malloc(len + 1);

	memcpy(copy, body, len);
	*keep = copy;
	return ussd_parse_callback(copy, len, PHONE_COUNTRY_DEFAULT, cb, err, errlen);
}

static const char *const ok_body =
    "sessionId=ATUid_0a1b&serviceCode=%2A123%23&phoneNumber=%2B8613800000001&networkCode=46000&text=";

static void test_parse_ok(void **state)
{
	struct ussd_callback cb;
	char err[160], *buf;

	(void)state;
	assert_int_equal(parse_cb(ok_body, &cb, &buf, err, sizeof(err)), 0);
	assert_string_equal(cb.session_id, "ATUid_0a1b");
	assert_string_equal(cb.service_code, "*123#");
	assert_string_equal(cb.phone, "+8613800000001");
	assert_string_equal(cb.network, "46000");
	assert_string_equal(cb.text, "");
	assert_int_equal(cb.text_len, 0);
	free(buf);

	/* '+' is a space, %XX a byte (UTF-8 of 张桂兰), '*' raw or encoded */
	assert_int_equal(parse_cb("text=6*1%2A%E5%BC%A0%E6%A1%82%E5%85%B0+3&phoneNumber=13800000001"
				  "&sessionId=s1&serviceCode=*123%23",
			     &cb, &buf, err, sizeof(err)),
	    0);
	assert_string_equal(cb.text, "6*1*张桂兰 3");
	assert_int_equal(cb.text_len, strlen("6*1*张桂兰 3"));
	assert_string_equal(cb.network, ""); /* networkCode is optional */
	assert_string_equal(cb.service_code, "*123#");
	free(buf);

	/* unknown fields are ignored once their encoding is checked, even if they are not UTF-8 */
	assert_int_equal(parse_cb("channel=ussd&sessionId=s2&serviceCode=*1%23&phoneNumber=13800000002&text=1"
				  "&hopsCount=1&junk=%FF",
			     &cb, &buf, err, sizeof(err)),
	    0);
	assert_string_equal(cb.text, "1");
	free(buf);

	/* raw UTF-8 bytes (not percent-encoded) are accepted when valid */
	assert_int_equal(parse_cb("sessionId=s3&serviceCode=*1%23&phoneNumber=13800000003&text=低保", &cb, &buf, err,
			     sizeof(err)),
	    0);
	assert_string_equal(cb.text, "低保");
	free(buf);
}

struct bad {
	const char *body;
	const char *why; /* a piece of the error message */
};

static void test_parse_malformed(void **state)
{
	static char long_id[USSD_SESSION_ID_MAX + 128], long_phone[128], long_text[USSD_TEXT_MAX + 128], many[1024];
	const struct bad cases[] = {
		{ "", "missing field sessionId" },
		{ "serviceCode=*1%23&phoneNumber=13800000001&text=", "missing field sessionId" },
		{ "sessionId=s&phoneNumber=13800000001&text=", "missing field serviceCode" },
		{ "sessionId=s&serviceCode=*1%23&text=", "missing field phoneNumber" },
		{ "sessionId=s&serviceCode=*1%23&phoneNumber=13800000001", "missing field text" },
		{ "sessionId=s&sessionId=t&serviceCode=*1%23&phoneNumber=13800000001&text=", "duplicate field sessionId" },
		{ "sessionId=s&serviceCode=*1%23&phoneNumber=13800000001&text=1&text=2", "duplicate field text" },
		{ "sessionId=s&serviceCode=*1%23&phoneNumber=13800000001&text=%G1", "bad percent-encoding in text" },
		{ "sessionId=s&serviceCode=*1%23&phoneNumber=13800000001&text=%4", "bad percent-encoding in text" },
		{ "sessionId=s&serviceCode=*1%23&phoneNumber=13800000001&text=1%", "bad percent-encoding in text" },
		{ "sessionId=s&serviceCode=*1%23&phoneNumber=13800000001&junk=%zz&text=", "bad percent-encoding in junk" },
		{ "sessionId=s&serviceCode=*1%23&phoneNumber=13800000001&text=%FF", "not valid UTF-8" },
		{ "sessionId=s&serviceCode=*1%23&phoneNumber=13800000001&text=%C0%AF", "not valid UTF-8" },      /* overlong */
		{ "sessionId=s&serviceCode=*1%23&phoneNumber=13800000001&text=%ED%A0%80", "not valid UTF-8" },   /* surrogate */
		{ "sessionId=s&serviceCode=*1%23&phoneNumber=13800000001&text=%E5%BC", "not valid UTF-8" },      /* truncated */
		{ "sessionId=s&serviceCode=*1%23&phoneNumber=13800000001&text=a%00b", "not valid UTF-8" },       /* NUL */
		{ "sessionId=s&serviceCode=*1%23&phoneNumber=13800000001&text=a%0Ab", "control characters" },
		{ "sessionId=s&serviceCode=*1%23&phoneNumber=13800000001&text=a%C2%85", "control characters" }, /* C1 */
		{ "sessionId=s&serviceCode=*1%23&phoneNumber=1380000abc1&text=", "not a phone number" },
		{ "sessionId=s&serviceCode=*1%23&phoneNumber=%2B&text=", "not a phone number" },
		{ "sessionId=s&serviceCode=*1%23&phoneNumber=&text=", "not a phone number" },
		{ "sessionId=&serviceCode=*1%23&phoneNumber=13800000001&text=", "sessionId must be printable" },
		{ "sessionId=a+b&serviceCode=*1%23&phoneNumber=13800000001&text=", "sessionId must be printable" },
		{ "sessionId=%E5%BC%A0&serviceCode=*1%23&phoneNumber=13800000001&text=", "sessionId must be printable" },
		{ "sessionId=s&serviceCode=&phoneNumber=13800000001&text=", "serviceCode must be printable" },
		{ "sessionId=s&serviceCode=*1%23&phoneNumber=13800000001&networkCode=46+00&text=", "networkCode must be" },
		{ "sessionId=s&serviceCode=*1%23&phoneNumber=13800000001&text", "without '='" },
		{ "sessionId=s&&serviceCode=*1%23&phoneNumber=13800000001&text=", "empty field" },
		{ "sessionId=s&serviceCode=*1%23&phoneNumber=13800000001&text=&", "empty field" },
		{ "&sessionId=s&serviceCode=*1%23&phoneNumber=13800000001&text=", "empty field" },
		{ "=1&sessionId=s&serviceCode=*1%23&phoneNumber=13800000001&text=", "field name" },
		{ "%ZZ=1&sessionId=s&serviceCode=*1%23&phoneNumber=13800000001&text=", "field name" },
		{ long_id, "sessionId is too long" },
		{ long_phone, "phoneNumber is too long" },
		{ long_text, "text is too long" },
		{ many, "too many fields" },
	};
	struct ussd_callback cb;
	char err[160], *buf;
	size_t n;

	(void)state;
	n = (size_t)snprintf(long_id, sizeof(long_id), "sessionId=");
	memset(long_id + n, 'x', USSD_SESSION_ID_MAX + 1);
	strcpy(long_id + n + USSD_SESSION_ID_MAX + 1, "&serviceCode=*1%23&phoneNumber=13800000001&text=");
	n = (size_t)snprintf(long_phone, sizeof(long_phone), "sessionId=s&serviceCode=*1%%23&text=&phoneNumber=");
	memset(long_phone + n, '1', USSD_PHONE_MAX + 1);
	long_phone[n + USSD_PHONE_MAX + 1] = '\0';
	n = (size_t)snprintf(long_text, sizeof(long_text), "sessionId=s&serviceCode=*1%%23&phoneNumber=13800000001&text=");
	memset(long_text + n, '1', USSD_TEXT_MAX + 1);
	long_text[n + USSD_TEXT_MAX + 1] = '\0';
	n = 0;
	for (int i = 0; i <= USSD_FIELDS_MAX; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, "f%d=1&", i);
	snprintf(many + n, sizeof(many) - n, "sessionId=s&serviceCode=*1%%23&phoneNumber=13800000001&text=");

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		err[0] = '\0';
		int rc = parse_cb(cases[i].body, &cb, &buf, err, sizeof(err));
		if (rc != -1 || strstr(err, cases[i].why) == NULL)
			fail_msg("case %zu (%.60s): rc %d, err \"%s\", wanted \"%s\"", i, cases[i].body, rc, err, cases[i].why);
		free(buf);
	}
}

/* Values right at the limits pass. */
static void test_parse_limits(void **state)
{
	static char body[USSD_TEXT_MAX + USSD_SESSION_ID_MAX + 256];
	struct ussd_callback cb;
	char err[160], *buf;
	size_t n;

	(void)state;
	n = (size_t)snprintf(body, sizeof(body), "sessionId=");
	memset(body + n, 'x', USSD_SESSION_ID_MAX);
	n += USSD_SESSION_ID_MAX;
	n += (size_t)snprintf(body + n, sizeof(body) - n, "&serviceCode=*1%%23&phoneNumber=13800000001&text=");
	memset(body + n, '1', USSD_TEXT_MAX);
	body[n + USSD_TEXT_MAX] = '\0';
	assert_int_equal(parse_cb(body, &cb, &buf, err, sizeof(err)), 0);
	assert_int_equal(strlen(cb.session_id), USSD_SESSION_ID_MAX);
	assert_int_equal(cb.text_len, USSD_TEXT_MAX);
	free(buf);
}

static int parse_end(const char *body, struct ussd_end *ev, char **keep, char *err, size_t errlen)
{
	size_t len = strlen(body);
	char *copy = malloc(len + 1);

	memcpy(copy, body, len);
	*keep = copy;
	return ussd_parse_end(copy, len, PHONE_COUNTRY_DEFAULT, ev, err, errlen);
}

static void test_parse_end(void **state)
{
	struct ussd_end ev;
	char err[160], *buf;

	(void)state;
	assert_int_equal(parse_end("sessionId=s1&serviceCode=*123%23&networkCode=46000&phoneNumber=%2B8613800000001"
				   "&status=Success&cost=KES+0.00&durationInMillis=12345&hopsCount=3&input=1*2"
				   "&lastAppResponse=END+ok&errorMessage=&date=2026-11-28+10%3A00%3A00",
			     &ev, &buf, err, sizeof(err)),
	    0);
	assert_string_equal(ev.session_id, "s1");
	assert_string_equal(ev.status, "Success");
	assert_string_equal(ev.input, "1*2");
	assert_string_equal(ev.error, "");
	assert_true(ev.duration_ms == 12345);
	free(buf);

	assert_int_equal(parse_end("sessionId=s1&phoneNumber=13800000001&status=Failed", &ev, &buf, err, sizeof(err)), 0);
	assert_true(ev.duration_ms == -1);
	assert_string_equal(ev.input, "");
	free(buf);

	assert_int_equal(parse_end("sessionId=s1&phoneNumber=13800000001", &ev, &buf, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "missing field status"));
	free(buf);
	assert_int_equal(parse_end("sessionId=s1&phoneNumber=13800000001&status=Success&durationInMillis=12a", &ev, &buf,
			     err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "durationInMillis"));
	free(buf);
	assert_int_equal(parse_end("sessionId=s1&phoneNumber=13800000001&status=Success&errorMessage=%FF", &ev, &buf,
			     err, sizeof(err)),
	    -1);
	free(buf);
}

/* ---- the text diff ---------------------------------------------------------------------------- */

struct diff_case {
	const char *prev; /* NULL: no live session */
	const char *text;
	enum ussd_input_kind kind;
	const char *input;
};

static void test_new_input(void **state)
{
	const struct diff_case cases[] = {
		{ NULL, "", USSD_INPUT_FIRST, "" },
		{ "1*2", "", USSD_INPUT_FIRST, "" },         /* a new dial on the same session id */
		{ "", "", USSD_INPUT_AGAIN, "" },            /* the first request repeated */
		{ "", "1", USSD_INPUT_NEW, "1" },
		{ "1", "1*2", USSD_INPUT_NEW, "2" },
		{ "1*2", "1*2*98", USSD_INPUT_NEW, "98" },
		{ "6*1", "6*1*张桂兰", USSD_INPUT_NEW, "张桂兰" },
		{ "1", "1*", USSD_INPUT_NEW, "" },           /* an empty input */
		{ "1", "1*2*3", USSD_INPUT_NEW, "2*3" },     /* what extends is the input, '*' and all */
		{ "1*2", "1*2", USSD_INPUT_AGAIN, "2" },     /* repeated: the last input, not run again */
		{ "1*2", "1*3", USSD_INPUT_NEW, "3" },       /* does not extend: the last field */
		{ "1*2", "12", USSD_INPUT_NEW, "12" },       /* no '*': the whole text */
		{ "12", "1", USSD_INPUT_NEW, "1" },          /* shorter */
		{ "1", "12", USSD_INPUT_NEW, "12" },         /* a prefix but not at a '*' */
		{ NULL, "1*2", USSD_INPUT_NEW, "2" },        /* expired or unknown session: the last field */
		{ NULL, "5", USSD_INPUT_NEW, "5" },
		{ NULL, "1*", USSD_INPUT_NEW, "" },
	};
	size_t off, len;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		const char *t = cases[i].text;
		enum ussd_input_kind k = ussd_new_input(cases[i].prev, t, strlen(t), &off, &len);
		if (k != cases[i].kind || len != strlen(cases[i].input) || memcmp(t + off, cases[i].input, len) != 0 ||
		    off + len != strlen(t))
			fail_msg("case %zu (%s -> %s): kind %d input \"%.*s\", wanted %d \"%s\"", i,
			    cases[i].prev ? cases[i].prev : "NULL", t, k, (int)len, t + off, cases[i].kind, cases[i].input);
	}
}

static void test_is_more(void **state)
{
	(void)state;
	assert_true(ussd_is_more("98", 2));
	assert_true(ussd_is_more(" 98 ", 4));
	assert_false(ussd_is_more("9", 1));
	assert_false(ussd_is_more("980", 3));
	assert_false(ussd_is_more("", 0));
	assert_false(ussd_is_more("98*1", 4));
}

/* ---- screens -------------------------------------------------------------------------------------- */

static const struct ussd_limits zh = { 182, 70, "98更多 0返回" };
static const struct ussd_limits en = { 182, 70, "98 more 0 back" };
/* Characters of the 70 left for text on a Chinese screen with the footer: "\n" + "98更多 0返回" is 9. */
#define ZH_ROOM (70 - 9)

static char *repeat_str(const char *unit, size_t n)
{
	size_t ul = strlen(unit);
	char *s = malloc(ul * n + 1);

	for (size_t i = 0; i < n; i++)
		memcpy(s + i * ul, unit, ul);
	s[ul * n] = '\0';
	return s;
}

/* The screen as the phone shows it fits the budget of its coding. */
static void assert_screen_fits(const char *answer, const struct ussd_limits *lim)
{
	const char *screen = answer + 4; /* "CON " / "END " is protocol, not screen */
	struct sms_count c;

	sms_count(screen, strlen(screen), &c);
	if (c.coding == SMS_CODING_GSM7)
		assert_true(c.units <= lim->gsm7);
	else
		assert_true(c.units <= lim->ucs2);
}

static void test_screens_ucs2(void **state)
{
	struct ussd_span sp;
	char *t70 = repeat_str("低", 70), *t71 = repeat_str("低", 71), *a;
	size_t screens;
	bool ended;

	(void)state;
	assert_int_equal(ussd_screen(t70, strlen(t70), &zh, 0, &sp), 1);
	assert_int_equal(sp.len, strlen(t70));
	a = ussd_answer(t70, &zh, 0, false, &ended, &screens);
	assert_int_equal(screens, 1);
	assert_null(strstr(a, "98更多"));
	assert_screen_fits(a, &zh);
	free(a);

	/* one more character: two screens; the first carries the footer in the same 70 units */
	assert_int_equal(ussd_screen(t71, strlen(t71), &zh, 0, &sp), 2);
	a = ussd_answer(t71, &zh, 0, false, &ended, &screens);
	assert_int_equal(screens, 2);
	assert_true(str_startswith(a, "CON "));
	assert_non_null(strstr(a, "\n98更多 0返回"));
	assert_screen_fits(a, &zh);
	assert_int_equal(utf8_chars(a + 4, strlen(a + 4)), 70);
	free(a);
	a = ussd_answer(t71, &zh, 1, false, &ended, &screens);
	assert_null(strstr(a, "98更多"));
	assert_int_equal(utf8_chars(a + 4, strlen(a + 4)), 71 - ZH_ROOM);
	free(a);
	/* past the end: the last screen */
	a = ussd_answer(t71, &zh, 9, false, &ended, &screens);
	assert_int_equal(utf8_chars(a + 4, strlen(a + 4)), 71 - ZH_ROOM);
	free(a);
	free(t70);
	free(t71);

	/* a character outside the BMP costs two units */
	char *emoji = repeat_str("低", 69);
	char *t = malloc(strlen(emoji) + 5);
	sprintf(t, "%s\xF0\x9F\x98\x80", emoji);
	assert_int_equal(ussd_screen(t, strlen(t), &zh, 0, &sp), 2);
	free(t);
	free(emoji);
}

static void test_screens_gsm7(void **state)
{
	struct ussd_span sp;
	char *t182 = repeat_str("a", 182), *t183 = repeat_str("a", 183), *a;
	size_t screens;
	bool ended;

	(void)state;
	assert_int_equal(ussd_screen(t182, 182, &en, 0, &sp), 1);
	assert_int_equal(sp.len, 182);
	assert_int_equal(ussd_screen(t183, 183, &en, 0, &sp), 2);
	assert_int_equal(sp.len, 182 - 1 - strlen(en.more));
	a = ussd_answer(t183, &en, 0, false, &ended, &screens);
	assert_screen_fits(a, &en);
	assert_int_equal(strlen(a + 4), 182);
	free(a);

	/* an extension character (€, ^ ...) costs two septets */
	char *ext = repeat_str("^", 91);
	assert_int_equal(ussd_screen(ext, strlen(ext), &en, 0, &sp), 1);
	free(ext);
	ext = repeat_str("^", 92);
	assert_int_equal(ussd_screen(ext, strlen(ext), &en, 0, &sp), 2);
	free(ext);

	/* GSM-7 text with a Chinese footer: the screens with the footer are UCS-2, the last one GSM-7 */
	assert_int_equal(ussd_screen(t183, 183, &zh, 0, &sp), 2);
	assert_int_equal(sp.len, ZH_ROOM);
	a = ussd_answer(t183, &zh, 0, false, &ended, &screens);
	assert_screen_fits(a, &zh);
	free(a);
	assert_int_equal(ussd_screen(t183, 183, &zh, 1, &sp), 2);
	assert_int_equal(sp.len, 183 - ZH_ROOM);
	free(t182);
	free(t183);
}

/* Lines are kept whole where they fit; the line break at a cut goes. */
static void test_screens_lines(void **state)
{
	const char *text = "您好，这里是民政局救助热线。请回复数字：\n1低保\n2特困供养（五保）\n3临时救助\n4高龄补贴\n"
			   "5没人抚养的娃\n6救助直通车（上门帮办）\n7查进度\n8提意见\n找人回电话，回复“人工”";
	struct ussd_span sp;
	size_t n = ussd_screen(text, strlen(text), &zh, 0, &sp), total = 0;

	(void)state;
	assert_true(n >= 2);
	for (size_t i = 0; i < n; i++) {
		char *a = ussd_answer(text, &zh, i, false, NULL, NULL);
		assert_screen_fits(a, &zh);
		ussd_screen(text, strlen(text), &zh, i, &sp);
		assert_true(sp.off + sp.len == strlen(text) || text[sp.off + sp.len] == '\n');
		total += utf8_chars(text + sp.off, sp.len);
		free(a);
	}
	/* nothing lost but the line breaks that became screen breaks */
	assert_int_equal(total + (n - 1), utf8_chars(text, strlen(text)));
}

/* A reply of many screens (more than the splitter's chunk) is reachable to the end. */
static void test_screens_many(void **state)
{
	char *t = repeat_str("低", ZH_ROOM * 40 + 15);
	struct ussd_span sp;
	size_t n;

	(void)state;
	n = ussd_screen(t, strlen(t), &zh, 0, &sp);
	assert_int_equal(n, 41);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(ussd_screen(t, strlen(t), &zh, i, &sp), n);
		assert_int_equal(sp.off, i * ZH_ROOM * 3);
	}
	assert_int_equal(sp.len, 15 * 3);
	free(t);
}

static void test_answer_end(void **state)
{
	char *t71 = repeat_str("低", 71), *a;
	bool ended;
	size_t screens;

	(void)state;
	a = ussd_answer("编号2026-0001", &zh, 0, true, &ended, &screens);
	assert_string_equal(a, "END 编号2026-0001");
	assert_true(ended);
	free(a);
	a = ussd_answer("编号2026-0001", &zh, 0, false, &ended, &screens);
	assert_string_equal(a, "CON 编号2026-0001");
	assert_false(ended);
	free(a);
	/* END cannot carry "98": a kept answer of two screens goes on with CON */
	a = ussd_answer(t71, &zh, 0, true, &ended, &screens);
	assert_true(str_startswith(a, "CON "));
	assert_false(ended);
	free(a);
	a = ussd_answer("", &zh, 0, false, &ended, &screens);
	assert_string_equal(a, "CON ");
	assert_int_equal(screens, 1);
	free(a);
	free(t71);
}

/* ---- source addresses ---------------------------------------------------------------------------------- */

static void test_source_allowed(void **state)
{
	char *allow[] = { "10.1.2.3", "192.168.0.0/16", "2001:db8::/32", "::1", "bogus", "10.0.0.0/33" };
	struct sockaddr_in a4;
	struct sockaddr_in6 a6;

	(void)state;
	memset(&a4, 0, sizeof(a4));
	a4.sin_family = AF_INET;
	inet_pton(AF_INET, "10.1.2.3", &a4.sin_addr);
	assert_true(ussd_source_allowed((struct sockaddr *)&a4, allow, ARRAY_LEN(allow)));
	inet_pton(AF_INET, "10.1.2.4", &a4.sin_addr);
	assert_false(ussd_source_allowed((struct sockaddr *)&a4, allow, ARRAY_LEN(allow)));
	inet_pton(AF_INET, "192.168.77.1", &a4.sin_addr);
	assert_true(ussd_source_allowed((struct sockaddr *)&a4, allow, ARRAY_LEN(allow)));
	inet_pton(AF_INET, "192.169.0.1", &a4.sin_addr);
	assert_false(ussd_source_allowed((struct sockaddr *)&a4, allow, ARRAY_LEN(allow)));
	/* nobody is allowed by an empty list */
	assert_false(ussd_source_allowed((struct sockaddr *)&a4, allow, 0));

	memset(&a6, 0, sizeof(a6));
	a6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8:1::5", &a6.sin6_addr);
	assert_true(ussd_source_allowed((struct sockaddr *)&a6, allow, ARRAY_LEN(allow)));
	inet_pton(AF_INET6, "2001:db9::5", &a6.sin6_addr);
	assert_false(ussd_source_allowed((struct sockaddr *)&a6, allow, ARRAY_LEN(allow)));
	inet_pton(AF_INET6, "::1", &a6.sin6_addr);
	assert_true(ussd_source_allowed((struct sockaddr *)&a6, allow, ARRAY_LEN(allow)));
	/* an IPv4 client on an IPv6 socket */
	inet_pton(AF_INET6, "::ffff:10.1.2.3", &a6.sin6_addr);
	assert_true(ussd_source_allowed((struct sockaddr *)&a6, allow, ARRAY_LEN(allow)));

	assert_true(ussd_allow_entry_ok("0.0.0.0/0"));
	assert_true(ussd_allow_entry_ok("fe80::/10"));
	assert_false(ussd_allow_entry_ok("bogus"));
	assert_false(ussd_allow_entry_ok("10.0.0.0/33"));
	assert_false(ussd_allow_entry_ok("10.0.0.0/"));
	assert_false(ussd_allow_entry_ok(""));
	assert_false(ussd_allow_entry_ok("localhost"));
}

/* ---- a session against the database ------------------------------------------------------------------------ */

struct fx {
	struct world *w;
	struct store *st;
	int64_t now;
};

static int setup_db(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct store_opts o = { 0 };
	struct diag d;
	char path[512], err[256];
	const char *src = getenv("HOTLINE_SRC");

	log_init(LOG_LVL_WARN, true);
	snprintf(path, sizeof(path), "%s/config/hotline.cfg", src && *src ? src : ".");
	diag_init(&d);
	f->w = world_load(path, &d);
	if (f->w == NULL)
		diag_print(&d, stderr);
	diag_free(&d);
	if (f->w == NULL) {
		free(f);
		return -1;
	}
	/* quiet hours do not hold a reply; keep the test independent of the clock anyway */
	f->w->cfg->ussd_sms_copy = true;
	o.create = true;
	o.migrate = true;
	o.synchronous = "normal";
	if (store_open(":memory:", &o, &f->st, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		world_release(f->w);
		free(f);
		return -1;
	}
	f->now = 1795000000; /* a fixed moment: expiry is tested by moving it */
	*state = f;
	return 0;
}

static int teardown_db(void **state)
{
	struct fx *f = *state;

	store_close(f->st);
	world_release(f->w);
	free(f);
	return 0;
}

/* One step: body fields from arguments; returns the answer body (caller frees). */
static char *step(struct fx *f, const char *sid, const char *phone, const char *text, struct ussd_reply *rep_out)
{
	struct ctx c = { f->st, f->w->cfg, f->w->menu, f->now, NULL, 0 };
	struct ussd_callback cb = { sid, "*123#", phone, "46000", text, strlen(text), "" };
	struct ussd_reply rep;
	char *body;

	/* as ussd_parse_callback hands it on: normalised */
	phone_normalise(phone, f->w->cfg->phone_country, cb.phone_buf, sizeof(cb.phone_buf));
	cb.phone = cb.phone_buf;

	assert_int_equal(ussd_session_step(&c, &cb, &rep), 0);
	body = rep.body;
	rep.body = NULL;
	if (rep_out)
		*rep_out = rep;
	return body;
}

struct counter {
	const char *channel, *direction, *kind, *session;
	int n;
	char last_text[1024];
};

static int count_msg(const struct store_msg *m, void *arg)
{
	struct counter *k = arg;

	if ((k->channel && strcmp(channel_name(m->channel), k->channel) != 0) ||
	    (k->direction && strcmp(direction_name(m->direction), k->direction) != 0) ||
	    (k->kind && (m->kind == MSG_KIND_NONE || strcmp(msg_kind_name(m->kind), k->kind) != 0)) ||
	    (k->session && (m->session == NULL || strcmp(m->session, k->session) != 0)))
		return 0;
	if (k->n++ == 0)
		snprintf(k->last_text, sizeof(k->last_text), "%.*s", (int)m->text_len, m->text);
	return 0;
}

static int messages(struct fx *f, const char *channel, const char *direction, const char *kind, const char *session,
    char *last, size_t lastlen)
{
	struct store_msg_filter flt = { 0 };
	struct counter k = { channel, direction, kind, session, 0, "" };

	flt.newest_first = true;
	assert_int_equal(store_msg_each(f->st, &flt, count_msg, &k), 0);
	if (last)
		snprintf(last, lastlen, "%s", k.last_text);
	return k.n;
}

static int count_case(const struct store_case *c, void *arg)
{
	(void)c;
	(*(int *)arg)++;
	return 0;
}

static int cases(struct fx *f)
{
	struct store_case_filter flt = { 0 };
	int n = 0;

	assert_int_equal(store_case_each(f->st, &flt, count_case, &n), 0);
	return n;
}

static void test_step_walk(void **state)
{
	struct fx *f = *state;
	struct ussd_reply rep;
	char *a;

	a = step(f, "w1", "13800000001", "", &rep);
	assert_true(str_startswith(a, "CON "));
	assert_string_equal(rep.node, "root");
	assert_true(rep.engine);
	free(a);
	a = step(f, "w1", "13800000001", "1", &rep);
	assert_string_equal(rep.node, "dibao");
	assert_true(str_startswith(a, "CON 低保"));
	free(a);
	a = step(f, "w1", "13800000001", "1*2", &rep);
	assert_string_equal(rep.node, "dibao.amount");
	assert_false(rep.end);
	free(a);
	/* 0 back, 00 home */
	a = step(f, "w1", "13800000001", "1*2*0", &rep);
	assert_string_equal(rep.node, "dibao");
	free(a);
	a = step(f, "w1", "13800000001", "1*2*0*00", &rep);
	assert_string_equal(rep.node, "root");
	free(a);
	/* every step is in the log, in and out, on channel ussd with the session id */
	assert_int_equal(messages(f, "ussd", "in", NULL, "w1", NULL, 0), 5);
	assert_int_equal(messages(f, "ussd", "out", NULL, "w1", NULL, 0), 5);
	/* into the form, then a new dial (empty text) under the same id: the main menu, form dropped */
	free(step(f, "w1", "13800000001", "1*2*0*00*6", &rep));
	free(step(f, "w1", "13800000001", "1*2*0*00*6*1", &rep));
	assert_string_equal(rep.node, "zhitongche.apply");
	a = step(f, "w1", "13800000001", "", &rep);
	assert_string_equal(rep.node, "root");
	assert_non_null(strstr(a, "1低保"));
	free(a);
	a = step(f, "w1", "13800000001", "1", &rep);
	assert_string_equal(rep.node, "dibao");
	free(a);
	int active = 0;
	assert_int_equal(store_session_count(f->st, "ussd", f->now - 1, &active), 0);
	assert_int_equal(active, 1);
}

static void test_step_more_screens(void **state)
{
	struct fx *f = *state;
	struct ussd_reply rep;
	char *a, *b, last[1024];
	size_t screens;

	a = step(f, "m1", "13800000002", "", &rep);
	assert_int_equal(rep.screens, 1); /* the main menu fits one SMS, and one screen (issue 14.6) */
	free(a);
	a = step(f, "m1", "13800000002", "1", &rep);
	screens = rep.screens;
	assert_true(screens >= 2); /* the 低保 menu is longer than one screen */
	assert_non_null(strstr(a, "98更多"));
	free(a);
	a = step(f, "m1", "13800000002", "1*98", &rep);
	assert_false(rep.engine);
	assert_int_equal(rep.screen, 1);
	assert_string_equal(rep.node, "dibao");
	/* the further screen is logged as an exchange of its own */
	assert_int_equal(messages(f, "ussd", "in", NULL, "m1", last, sizeof(last)), 3);
	assert_string_equal(last, "98");
	assert_int_equal(messages(f, "ussd", "out", NULL, "m1", last, sizeof(last)), 3);
	assert_string_equal(last, a + 4);
	/* the aggregator repeats the request: the same screen again, no menu step */
	b = step(f, "m1", "13800000002", "1*98", &rep);
	assert_string_equal(a, b);
	assert_false(rep.engine);
	free(a);
	free(b);
	char text[64] = "1*98";
	for (size_t i = 2; i < screens; i++) {
		strcat(text, "*98");
		free(step(f, "m1", "13800000002", text, &rep));
		assert_false(rep.engine);
		assert_int_equal(rep.screen, i);
	}
	/* 98 with nothing more to show is an input like any other (no such option) */
	strcat(text, "*98");
	free(step(f, "m1", "13800000002", text, &rep));
	assert_true(rep.engine);
	/* a digit on a later screen is an option of the page */
	strcat(text, "*2");
	free(step(f, "m1", "13800000002", text, &rep));
	assert_string_equal(rep.node, "dibao.amount");
}

static void test_step_form_case(void **state)
{
	struct fx *f = *state;
	const char *steps[] = { "6", "6*1", "6*1*张桂兰", "6*1*张桂兰*崆峒镇寨子街村3组", "6*1*张桂兰*崆峒镇寨子街村3组*老伴瘫痪在床想办低保",
		"6*1*张桂兰*崆峒镇寨子街村3组*老伴瘫痪在床想办低保*1" };
	const char *last = "6*1*张桂兰*崆峒镇寨子街村3组*老伴瘫痪在床想办低保*1*1";
	struct ussd_reply rep;
	char *a, sms[1024];
	int depth;
	int64_t oldest;

	free(step(f, "f1", "13800000003", "", NULL));
	for (size_t i = 0; i < ARRAY_LEN(steps); i++) {
		a = step(f, "f1", "13800000003", steps[i], &rep);
		if (!str_startswith(a, "CON "))
			fail_msg("step %zu: %s", i, a);
		free(a);
	}
	assert_int_equal(cases(f), 0);
	a = step(f, "f1", "13800000003", last, &rep);
	assert_true(str_startswith(a, "END "));
	assert_true(rep.end);
	assert_true(rep.sms_copy);
	assert_int_equal(cases(f), 1);
	/* the SMS copy carries the same words */
	assert_true(messages(f, "sms", "out", "reply", NULL, sms, sizeof(sms)) >= 1);
	assert_string_equal(sms, a + 4);
	assert_int_equal(store_outbox_stats(f->st, f->now, &depth, &oldest), 0);
	assert_true(depth >= 2); /* the copy and the staff notice */
	/* the aggregator repeats the confirming request: no second case */
	free(a);
	a = step(f, "f1", "13800000003", last, &rep);
	assert_false(rep.engine);
	assert_int_equal(cases(f), 1);
	free(a);

	/* without ussd.sms_copy: END, and no copy */
	f->w->cfg->ussd_sms_copy = false;
	int copies = messages(f, "sms", "out", "reply", NULL, NULL, 0);
	free(step(f, "f2", "13800000004", "", NULL));
	for (size_t i = 0; i < ARRAY_LEN(steps); i++)
		free(step(f, "f2", "13800000004", steps[i], NULL));
	a = step(f, "f2", "13800000004", last, &rep);
	assert_true(rep.end);
	assert_false(rep.sms_copy);
	assert_int_equal(messages(f, "sms", "out", "reply", NULL, NULL, 0), copies);
	assert_int_equal(cases(f), 2);
	free(a);
	f->w->cfg->ussd_sms_copy = true;
}

static void test_step_expiry(void **state)
{
	struct fx *f = *state;
	struct ussd_reply rep;
	int n = -1;

	free(step(f, "e1", "13800000005", "", NULL));
	free(step(f, "e1", "13800000005", "1", &rep));
	assert_string_equal(rep.node, "dibao");
	/* idle past ussd.timeout: the session starts again, and its inputs are walked from the main menu
	 * (as a dial string *123*1*2# would be) */
	f->now += f->w->cfg->ussd_timeout + 1;
	free(step(f, "e1", "13800000005", "1*2", &rep));
	assert_true(rep.engine);
	assert_string_equal(rep.node, "dibao.amount");
	/* purge forgets sessions idle past the timeout, and only USSD ones */
	f->now += f->w->cfg->ussd_timeout + 1;
	assert_int_equal(store_session_purge(f->st, "ussd", f->now - f->w->cfg->ussd_timeout, &n), 0);
	assert_true(n >= 1);
	assert_int_equal(store_session_count(f->st, "ussd", 0, &n), 0);
	assert_int_equal(n, 0);
}

static void test_end_notification(void **state)
{
	struct fx *f = *state;
	struct ctx c = { f->st, f->w->cfg, f->w->menu, f->now, NULL, 0 };
	struct ussd_end ev = { "n1", "+8613800000006", "Success", "1*2", "", "*123#", "46000", 5400, "" };
	char text[1024];
	int64_t id = 0;
	int n = -1;

	free(step(f, "n1", "13800000006", "", NULL));
	assert_int_equal(ussd_session_end(&c, &ev, &id), 0);
	assert_true(id > 0);
	assert_int_equal(messages(f, "ussd", "in", "end", "n1", text, sizeof(text)), 1);
	assert_string_equal(text, "status=Success input=1*2 duration_ms=5400");
	/* the session is over */
	assert_int_equal(store_session_count(f->st, "ussd", 0, &n), 0);
	assert_int_equal(n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_parse_end),
		cmocka_unit_test(test_new_input),
		cmocka_unit_test(test_is_more),
		cmocka_unit_test(test_screens_ucs2),
		cmocka_unit_test(test_screens_gsm7),
		cmocka_unit_test(test_screens_lines),
		cmocka_unit_test(test_screens_many),
		cmocka_unit_test(test_answer_end),
		cmocka_unit_test(test_source_allowed),
		cmocka_unit_test_setup_teardown(test_step_walk, setup_db, teardown_db),
		cmocka_unit_test_setup_teardown(test_step_more_screens, setup_db, teardown_db),
		cmocka_unit_test_setup_teardown(test_step_form_case, setup_db, teardown_db),
		cmocka_unit_test_setup_teardown(test_step_expiry, setup_db, teardown_db),
		cmocka_unit_test_setup_teardown(test_end_notification, setup_db, teardown_db),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
