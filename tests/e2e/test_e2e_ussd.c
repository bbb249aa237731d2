/*
 * End to end over HTTP: a real hotlined on Gammu's dummy phone, the
 * aggregator played by curl (hl_http) and, for what curl will not send, a
 * raw socket. Answers are checked as the phone would show them, and the
 * effects in the real database.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "hl.h"
#include "smstext.h"
#include "util.h"

#define WAIT_MS 15000
#define PHONE "13800000001"

/* ---- helpers ------------------------------------------------------------------------------ */

/* Percent-encode everything but unreserved characters and '*'. */
static void url_encode(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		    *p == '_' || *p == '.' || *p == '~' || *p == '*') {
			buf_addc(b, (char)*p);
		} else {
			buf_addc(b, '%');
			buf_addc(b, hex[*p >> 4]);
			buf_addc(b, hex[*p & 15]);
		}
	}
}

/* One aggregator step: POST /ussd/<secret>; returns the body (caller frees), asserts 200. */
static char *ussd(struct hl *h, const char *sid, const char *phone, const char *text)
{
	struct buf body = { 0 };
	char path[128];
	int status = 0;
	char *out;

	buf_printf(&body, "sessionId=%s&serviceCode=%%2A123%%23&phoneNumber=%s&networkCode=46000&text=", sid, phone);
	url_encode(&body, text);
	snprintf(path, sizeof(path), "/ussd/%s", h->secret);
	out = hl_http(h, "POST", path, buf_str(&body), NULL, &status);
	buf_free(&body);
	if (status != 200 || out == NULL) {
		hl_dump_log(h);
		fail_msg("POST %s text=%s: HTTP %d %s", path, text, status, out ? out : "(no body)");
	}
	return out;
}

/* The screen part of an answer, checked to be CON or END as wanted and to fit one screen. */
static const char *screen_of(const char *answer, const char *want)
{
	struct sms_count c;
	const char *screen = answer + 4;

	if (!str_startswith(answer, want))
		fail_msg("wanted %s..., got: %s", want, answer);
	sms_count(screen, strlen(screen), &c);
	if ((c.coding == SMS_CODING_GSM7 && c.units > 182) || (c.coding == SMS_CODING_UCS2 && c.units > 70))
		fail_msg("screen too long (%zu units): %s", c.units, screen);
	return screen;
}

static char *last_in_node(struct hl *h, const char *sid)
{
	return hl_text(h, "SELECT node FROM messages WHERE channel='ussd' AND direction='in' AND session='%s'"
			  " ORDER BY id DESC LIMIT 1", sid);
}

static void assert_node(struct hl *h, const char *sid, const char *want)
{
	char *node = last_in_node(h, sid);

	if (node == NULL || strcmp(node, want) != 0)
		fail_msg("session %s is at %s, wanted %s", sid, node ? node : "(none)", want);
	free(node);
}

/* Send raw bytes to the daemon and read the whole answer (the request should say Connection: close). */
static int raw_http(struct hl *h, const char *req, size_t len, char *resp, size_t resplen)
{
	struct sockaddr_in a;
	size_t got = 0;
	int fd = socket(AF_INET, SOCK_STREAM, 0), status = 0;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)h->port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("raw_http connect");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	for (size_t off = 0; off < len;) {
		ssize_t n = write(fd, req + off, len - off);
		if (n <= 0)
			break; /* the server may answer and close before reading everything */
		off += (size_t)n;
	}
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		if (poll(&p, 1, 10000) <= 0)
			break;
		ssize_t n = read(fd, resp + got, resplen - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		if (got + 1 >= resplen)
			break;
	}
	resp[got] = '\0';
	close(fd);
	if (sscanf(resp, "HTTP/1.%*d %d", &status) != 1)
		return 0;
	return status;
}

/* Rows that any request could have written. */
struct db_counts {
	long long messages, sessions, cases, outbox;
};

static void db_counts(struct hl *h, struct db_counts *c)
{
	c->messages = hl_int(h, "SELECT count(*) FROM messages");
	c->sessions = hl_int(h, "SELECT count(*) FROM sessions");
	c->cases = hl_int(h, "SELECT count(*) FROM cases");
	c->outbox = hl_int(h, "SELECT count(*) FROM outbox");
}

static double metric(const char *text, const char *prefix);

/* ---- fixtures ------------------------------------------------------------------------------- */

static int setup_default(void **state)
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

/* Only 10.1.2.3 may call (not us, on 127.0.0.1), and no SMS copies. */
static int setup_restricted(void **state)
{
	struct hl *h = calloc(1, sizeof(*h));

	if (hl_setup(h, 1, "ussd", "ussd = { secret = \"test-secret\"; allow = [\"10.1.2.3\"]; sms_copy = false; };") < 0 ||
	    hl_start(h, NULL) < 0) {
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

	if (h == NULL) /* the setup failed and said why */
		return 0;
	hl_cleanup(h);
	free(h);
	return 0;
}

/* ---- a walk ----------------------------------------------------------------------------------- */

/* Dial, see the main menu on one screen (issue 14.6), then 1 低保 and 2 能领多少钱. */
static void test_walk_to_dibao_amount(void **state)
{
	struct hl *h = *state;
	char *a;

	a = ussd(h, "walk1", PHONE, "");
	assert_non_null(strstr(screen_of(a, "CON "), "1低保"));
	assert_non_null(strstr(a, "6上门帮您办"));
	assert_non_null(strstr(a, "9找人打给您"));
	assert_null(strstr(a, "98更多")); /* the whole main menu on one screen */
	free(a);
	a = ussd(h, "walk1", PHONE, "1");
	assert_non_null(strstr(screen_of(a, "CON "), "2能领多少钱"));
	assert_node(h, "walk1", "dibao");
	free(a);
	a = ussd(h, "walk1", PHONE, "1*2");
	assert_non_null(strstr(screen_of(a, "CON "), "低保线"));
	assert_node(h, "walk1", "dibao.amount");
	free(a);

	/* each step is logged in and out on channel ussd, with the session id */
	assert_int_equal(hl_int(h, "SELECT count(*) FROM messages WHERE channel='ussd' AND direction='in' AND session='walk1'"), 3);
	assert_int_equal(hl_int(h, "SELECT count(*) FROM messages WHERE channel='ussd' AND direction='out' AND session='walk1'"), 3);
	char *in = hl_text(h, "SELECT group_concat(text, '|') FROM (SELECT text FROM messages WHERE session='walk1'"
			      " AND direction='in' ORDER BY id)");
	assert_string_equal(in, "|1|2");
	free(in);
	char *st = hl_text(h, "SELECT node || ' ' || ussd_text FROM sessions WHERE key LIKE 'ussd:walk1 %%'");
	assert_string_equal(st, "dibao.amount 1*2");
	free(st);
	/* nothing of a USSD walk goes out by SMS */
	assert_int_equal(hl_int(h, "SELECT count(*) FROM messages WHERE channel='sms' AND phone_key='+86" PHONE "'"), 0);
}

/* 0 goes back to the page above, 00 to the main menu. */
static void test_back_and_home(void **state)
{
	struct hl *h = *state;
	char *a;

	free(ussd(h, "nav1", PHONE, ""));
	free(ussd(h, "nav1", PHONE, "1"));
	free(ussd(h, "nav1", PHONE, "1*2"));
	assert_node(h, "nav1", "dibao.amount");
	a = ussd(h, "nav1", PHONE, "1*2*0");
	assert_non_null(strstr(screen_of(a, "CON "), "低保（最低生活保障"));
	assert_node(h, "nav1", "dibao");
	free(a);
	free(ussd(h, "nav1", PHONE, "1*2*0*3"));
	assert_node(h, "nav1", "dibao.apply");
	a = ussd(h, "nav1", PHONE, "1*2*0*3*00");
	assert_non_null(strstr(screen_of(a, "CON "), "1低保"));
	assert_node(h, "nav1", "root");
	free(a);
}

/* A page longer than a screen: 98 walks its screens (nothing lost), then 9 goes to its next page. */
static void test_more_screens(void **state)
{
	struct hl *h = *state;
	char text[128] = "1*2", *a, *page;
	struct buf seen = { 0 };
	int screens = 0;

	free(ussd(h, "more1", PHONE, ""));
	free(ussd(h, "more1", PHONE, "1"));
	for (;;) {
		a = ussd(h, "more1", PHONE, text);
		const char *s = screen_of(a, "CON ");
		char *tail = strstr(s, "\n98更多 0返回");
		screens++;
		if (seen.len)
			buf_addc(&seen, '\n');
		buf_add(&seen, s, tail ? (size_t)(tail - s) : strlen(s));
		free(a);
		if (tail == NULL)
			break;
		assert_true(screens < 10);
		strcat(text, "*98");
	}
	assert_true(screens >= 2);
	assert_node(h, "more1", "dibao.amount");
	/* the screens put together are the page (the SMS text of the node) */
	page = hl_text(h, "SELECT text FROM messages WHERE session='more1' AND direction='out' AND node='dibao.amount'"
			  " ORDER BY id LIMIT 1");
	assert_non_null(page);
	assert_string_equal(buf_str(&seen), page);
	free(page);
	buf_free(&seen);
	/* every 98 was logged: in with 98, out with the screen */
	assert_int_equal(hl_int(h, "SELECT count(*) FROM messages WHERE session='more1' AND direction='in' AND text='98'"),
	    screens - 1);
	/* 9: the next page, through the menu engine */
	strcat(text, "*9");
	a = ussd(h, "more1", PHONE, text);
	/* page 2: the amounts from menus/amounts.cfg, filled into the page */
	assert_non_null(strstr(screen_of(a, "CON "), "能领多少"));
	free(a);
}

/* 救助直通车 over USSD: 6 → 1 → name → place → need → 1 (this phone) → 1 confirm. */
static void test_home_visit_request(void **state)
{
	struct hl *h = *state;
	const char *phone = "13800000002";
	const char *steps[] = { "", "6", "6*1", "6*1*张桂兰", "6*1*张桂兰*崆峒镇寨子街村3组",
		"6*1*张桂兰*崆峒镇寨子街村3组*老伴瘫痪在床想办低保", "6*1*张桂兰*崆峒镇寨子街村3组*老伴瘫痪在床想办低保*1" };
	const char *confirm = "6*1*张桂兰*崆峒镇寨子街村3组*老伴瘫痪在床想办低保*1*1";
	char *a, *number, *copy, key[PHONE_LEN];

	hl_phone(phone, key, sizeof(key)); /* as the daemon keeps it */

	for (size_t i = 0; i < ARRAY_LEN(steps); i++)
		free(ussd(h, "visit1", phone, steps[i]));
	a = ussd(h, "visit1", phone, confirm);
	const char *s = screen_of(a, "END ");
	/* a row in cases, from ussd, with what was typed */
	assert_int_equal(hl_int(h, "SELECT count(*) FROM cases WHERE applicant_key='%s'", key), 1);
	char *row = hl_text(h, "SELECT channel || '|' || name || '|' || place || '|' || need || '|' || contact_phone"
			       " FROM cases WHERE applicant_key='%s'", key);
	assert_string_equal(row, "ussd|张桂兰|崆峒镇寨子街村3组|老伴瘫痪在床想办低保|+8613800000002");
	free(row);
	number = hl_text(h, "SELECT number FROM cases WHERE applicant_key='%s'", key);
	assert_non_null(strstr(s, number));
	/* the same words go out by SMS (ussd.sms_copy is on by default), and the modem sends them */
	copy = hl_text(h, "SELECT text FROM messages WHERE channel='sms' AND direction='out' AND kind='reply'"
			  " AND phone_key='%s'", key);
	assert_non_null(copy);
	assert_string_equal(copy, s);
	assert_true(hl_wait_count(h, 1, WAIT_MS, "SELECT count(*) FROM messages WHERE channel='sms' AND direction='out'"
						 " AND kind='reply' AND phone_key='%s' AND status='sent'", key));
	/* the staff member for 寨子街村 (the longest place name that matches) is told too */
	assert_int_equal(hl_int(h, "SELECT count(*) FROM messages WHERE direction='out' AND kind='staff'"
				   " AND phone_key = '+8613900000002' AND text LIKE '%%%s%%'", number), 1);
	free(copy);
	free(a);
	/* the aggregator repeats the confirming request (a lost answer): no second case */
	a = ussd(h, "visit1", phone, confirm);
	assert_non_null(strstr(a, number));
	assert_int_equal(hl_int(h, "SELECT count(*) FROM cases WHERE applicant_key='%s'", key), 1);
	free(a);
	free(number);
}

/*
 * A session belongs to its caller (issue 11 point 2): phone B sending A's
 * sessionId sees nothing of A's (not the half-filled form, not A's cases),
 * cannot submit A's form, is logged and counted; A carries on undisturbed.
 */
static void test_session_bound_to_phone(void **state)
{
	struct hl *h = *state;
	const char *a = "13800000031", *b = "13800000032";
	#define FILL "6*1*王秀兰*崆峒镇东关村2组*想问低保"
	const char *fill = FILL;
	char resp[65536], *r;
	const char *req = "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

	free(ussd(h, "shared1", a, ""));
	free(ussd(h, "shared1", a, "6"));
	free(ussd(h, "shared1", a, "6*1"));
	free(ussd(h, "shared1", a, "6*1*王秀兰"));
	free(ussd(h, "shared1", a, "6*1*王秀兰*崆峒镇东关村2组"));
	r = ussd(h, "shared1", a, fill);
	free(r);
	/* B continues A's session with A's text: the main menu of a fresh session, nothing of A's */
	r = ussd(h, "shared1", b, FILL "*1");
	screen_of(r, "CON ");
	assert_null(strstr(r, "王秀兰"));
	assert_null(strstr(r, "东关村"));
	free(r);
	r = ussd(h, "shared1", b, FILL "*1*1");
	assert_null(strstr(r, "王秀兰"));
	free(r);
	assert_int_equal(hl_int(h, "SELECT count(*) FROM cases WHERE applicant_key='+86%s'", b), 0);
	assert_int_equal(hl_int(h, "SELECT count(*) FROM cases WHERE name='王秀兰'"), 0);
	assert_true(hl_log_has(h, "not the session's phone"));
	assert_false(hl_log_has(h, b));
	assert_int_equal(raw_http(h, req, strlen(req), resp, sizeof(resp)), 200);
	assert_true(metric(resp, "hotline_ussd_session_phone_mismatch_total") >= 1);
	/* A's form is still A's: the contact phone, then confirm */
	free(ussd(h, "shared1", a, FILL "*1"));
	r = ussd(h, "shared1", a, FILL "*1*1");
	screen_of(r, "END ");
	free(r);
	assert_int_equal(hl_int(h, "SELECT count(*) FROM cases WHERE applicant_key='+86%s' AND name='王秀兰'", a), 1);
	/* B asking for its cases under A's id sees none of A's */
	r = ussd(h, "shared1", b, "7");
	char *num = hl_text(h, "SELECT number FROM cases WHERE applicant_key='+86%s'", a);
	assert_non_null(num);
	assert_null(strstr(r, num));
	free(num);
	free(r);
}

/* The end-of-session notification is stored, and the session forgotten. */
static void test_end_notification(void **state)
{
	struct hl *h = *state;
	char path[128], *a, *row;
	int status;

	free(ussd(h, "end1", PHONE, ""));
	free(ussd(h, "end1", PHONE, "1"));
	assert_int_equal(hl_int(h, "SELECT count(*) FROM sessions WHERE key LIKE 'ussd:end1 %%'"), 1);
	snprintf(path, sizeof(path), "/ussd/%s/end", h->secret);
	a = hl_http(h, "POST", path, "sessionId=end1&serviceCode=%2A123%23&networkCode=46000&phoneNumber=" PHONE
				     "&status=Success&cost=CNY+0.00&durationInMillis=20345&hopsCount=2&input=1"
				     "&lastAppResponse=CON+x&errorMessage=",
	    NULL, &status);
	assert_int_equal(status, 200);
	free(a);
	row = hl_text(h, "SELECT channel || '|' || direction || '|' || kind || '|' || status || '|' || text"
			 " FROM messages WHERE session='end1' AND kind='end'");
	assert_string_equal(row, "ussd|in|end|ignored|status=Success input=1 duration_ms=20345");
	free(row);
	assert_int_equal(hl_int(h, "SELECT count(*) FROM sessions WHERE key LIKE 'ussd:end1 %%'"), 0);

	/* the header form of the path; a failure with its message */
	a = hl_http(h, "POST", "/ussd/end", "sessionId=end2&phoneNumber=" PHONE "&status=Failed&errorMessage=timeout",
	    "X-Hotline-Secret: test-secret", &status);
	assert_int_equal(status, 200);
	free(a);
	row = hl_text(h, "SELECT error FROM messages WHERE session='end2' AND kind='end'");
	assert_string_equal(row, "timeout");
	free(row);
}

/* ---- what must be refused, with no effect ------------------------------------------------------------ */

struct bad_req {
	const char *method, *path, *body, *header;
	int status;
};

static void test_malformed_requests(void **state)
{
	struct hl *h = *state;
	static char big[6000], long_id[256];
	const char *ok = "serviceCode=%2A123%23&phoneNumber=13800000009&networkCode=46000";
	const struct bad_req reqs[] = {
		/* bodies */
		{ "POST", "/ussd/test-secret", "", NULL, 400 },
		{ "POST", "/ussd/test-secret", "serviceCode=%2A1%23&phoneNumber=13800000009&text=", NULL, 400 },
		{ "POST", "/ussd/test-secret", "sessionId=bad1&phoneNumber=13800000009&text=", NULL, 400 },
		{ "POST", "/ussd/test-secret", "sessionId=bad1&serviceCode=%2A1%23&text=", NULL, 400 },
		{ "POST", "/ussd/test-secret", "sessionId=bad1&serviceCode=%2A1%23&phoneNumber=13800000009", NULL, 400 },
		{ "POST", "/ussd/test-secret", "sessionId=bad1&sessionId=bad2&serviceCode=%2A1%23&phoneNumber=13800000009&text=", NULL, 400 },
		{ "POST", "/ussd/test-secret", "sessionId=bad1&serviceCode=%2A1%23&phoneNumber=13800000009&text=%G1", NULL, 400 },
		{ "POST", "/ussd/test-secret", "sessionId=bad1&serviceCode=%2A1%23&phoneNumber=13800000009&text=1%", NULL, 400 },
		{ "POST", "/ussd/test-secret", "sessionId=bad1&serviceCode=%2A1%23&phoneNumber=13800000009&text=%FF%FE", NULL, 400 },
		{ "POST", "/ussd/test-secret", "sessionId=bad1&serviceCode=%2A1%23&phoneNumber=13800000009&text=%C0%AF", NULL, 400 },
		{ "POST", "/ussd/test-secret", "sessionId=bad1&serviceCode=%2A1%23&phoneNumber=13800000009&text=1%002", NULL, 400 },
		{ "POST", "/ussd/test-secret", "sessionId=bad1&serviceCode=%2A1%23&phoneNumber=13800000009&text=1%0D%0A2", NULL, 400 },
		{ "POST", "/ussd/test-secret", "sessionId=bad1&serviceCode=%2A1%23&phoneNumber=abc&text=", NULL, 400 },
		{ "POST", "/ussd/test-secret", "sessionId=bad+1&serviceCode=%2A1%23&phoneNumber=13800000009&text=", NULL, 400 },
		{ "POST", "/ussd/test-secret", "sessionId=bad1&&serviceCode=%2A1%23&phoneNumber=13800000009&text=", NULL, 400 },
		{ "POST", "/ussd/test-secret", "sessionId=bad1&serviceCode=%2A1%23&phoneNumber=13800000009&text", NULL, 400 },
		{ "POST", "/ussd/test-secret", long_id, NULL, 400 },
		{ "POST", "/ussd/test-secret", big, NULL, 413 },
		{ "POST", "/ussd/test-secret/end", "sessionId=bad1&phoneNumber=13800000009", NULL, 400 },
		{ "POST", "/ussd/test-secret/end", "sessionId=bad1&phoneNumber=13800000009&status=Success&durationInMillis=x", NULL, 400 },
		/* methods */
		{ "GET", "/ussd/test-secret", NULL, NULL, 405 },
		{ "PUT", "/ussd/test-secret", "sessionId=bad1", NULL, 405 },
		{ "POST", "/healthz", "a=1", NULL, 405 },
		{ "DELETE", "/metrics", NULL, NULL, 405 },
		/* paths and the secret */
		{ "GET", "/", NULL, NULL, 404 },
		{ "GET", "/healthz/", NULL, NULL, 404 },
		{ "POST", "/ussd/wrong-secret", "a=1", NULL, 404 },
		{ "POST", "/ussd/test-secretX", "a=1", NULL, 404 },
		{ "POST", "/ussd/test-secre", "a=1", NULL, 404 },
		{ "POST", "/ussd/test-secret/x", "a=1", NULL, 404 },
		{ "POST", "/ussd/wrong-secret/end", "a=1", NULL, 404 },
		{ "POST", "/ussd", "sessionId=bad1&serviceCode=%2A1%23&phoneNumber=13800000009&text=", NULL, 403 },
		{ "POST", "/ussd", "sessionId=bad1&serviceCode=%2A1%23&phoneNumber=13800000009&text=", "X-Hotline-Secret: nope", 403 },
		{ "POST", "/ussd", "sessionId=bad1&serviceCode=%2A1%23&phoneNumber=13800000009&text=", "X-Hotline-Secret:", 403 },
		{ "POST", "/ussd/end", "sessionId=bad1&phoneNumber=13800000009&status=Success", NULL, 403 },
	};
	struct db_counts before, after;
	char resp[4096];

	memset(big, 'a', sizeof(big) - 1);
	memcpy(big, "text=", 5);
	snprintf(long_id, sizeof(long_id), "sessionId=%0120d&%s&text=", 7, ok);

	/* the daemon is idle: nothing else writes while we count */
	db_counts(h, &before);
	for (size_t i = 0; i < ARRAY_LEN(reqs); i++) {
		int status = 0;
		char *body = hl_http(h, reqs[i].method, reqs[i].path, reqs[i].body, reqs[i].header, &status);
		if (status != reqs[i].status) {
			hl_dump_log(h);
			fail_msg("request %zu (%s %s %.50s): HTTP %d, wanted %d: %s", i, reqs[i].method, reqs[i].path,
			    reqs[i].body ? reqs[i].body : "", status, reqs[i].status, body ? body : "");
		}
		free(body);
	}

	/* what curl will not send as such */
	const char *wrong_type = "POST /ussd/test-secret HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
				 "Content-Type: text/plain\r\nContent-Length: 11\r\n\r\nsessionId=1";
	assert_int_equal(raw_http(h, wrong_type, strlen(wrong_type), resp, sizeof(resp)), 415);
	const char *no_type = "POST /ussd/test-secret HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
			      "Content-Length: 11\r\n\r\nsessionId=1";
	assert_int_equal(raw_http(h, no_type, strlen(no_type), resp, sizeof(resp)), 415);
	/* a chunked body that grows past ussd.max_body (no Content-Length to refuse early) */
	struct buf chunked = { 0 };
	buf_adds(&chunked, "POST /ussd/test-secret HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
			   "Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n");
	for (int i = 0; i < 5; i++) {
		buf_printf(&chunked, "400\r\n");
		for (int k = 0; k < 0x400; k++)
			buf_addc(&chunked, 'a');
		buf_adds(&chunked, "\r\n");
	}
	buf_adds(&chunked, "0\r\n\r\n");
	assert_int_equal(raw_http(h, buf_str(&chunked), chunked.len, resp, sizeof(resp)), 413);
	buf_free(&chunked);
	/* not HTTP at all */
	const char *junk = "HELLO THERE\r\n\r\n";
	int st = raw_http(h, junk, strlen(junk), resp, sizeof(resp));
	assert_true(st == 0 || (st >= 400 && st < 500));

	/* none of it left a trace, and the daemon still answers */
	db_counts(h, &after);
	assert_true(before.messages == after.messages);
	assert_true(before.sessions == after.sessions);
	assert_true(before.cases == after.cases);
	assert_true(before.outbox == after.outbox);
	assert_int_equal(hl_int(h, "SELECT count(*) FROM messages WHERE session LIKE 'bad%%'"), 0);
	free(ussd(h, "afterbad", PHONE, ""));
}

/* The secret in a header works as well as in the path. */
static void test_secret_header(void **state)
{
	struct hl *h = *state;
	char *a;
	int status;

	a = hl_http(h, "POST", "/ussd", "sessionId=hdr1&serviceCode=%2A123%23&phoneNumber=" PHONE "&networkCode=46000&text=",
	    "X-Hotline-Secret: test-secret", &status);
	assert_int_equal(status, 200);
	screen_of(a, "CON ");
	free(a);
	assert_int_equal(hl_int(h, "SELECT count(*) FROM messages WHERE session='hdr1'"), 2);
}

/* A client that connects and says nothing does not hold the server, and is dropped. */
static void test_slow_clients(void **state)
{
	struct hl *h = *state;
	enum { N = 24 };
	int fds[N];
	struct sockaddr_in a;
	int64_t t0;
	char *ans;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)h->port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int i = 0; i < N; i++) {
		static const char part[] = "POST /ussd/test-secret HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n";
		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		assert_true(fds[i] >= 0);
		assert_int_equal(connect(fds[i], (struct sockaddr *)&a, sizeof(a)), 0);
		assert_true(write(fds[i], part, sizeof(part) - 1) > 0);
	}
	t0 = mono_ms();
	ans = ussd(h, "slow1", PHONE, "");
	free(ans);
	assert_true(mono_ms() - t0 < 3000);
	/* the idle ones are closed by the server within its timeout (a few seconds) */
	for (int i = 0; i < N; i++) {
		struct pollfd p = { fds[i], POLLIN, 0 };
		char c;
		assert_int_equal(poll(&p, 1, 15000), 1);
		assert_true(read(fds[i], &c, 1) <= 0);
		close(fds[i]);
	}
	assert_int_equal(hl_int(h, "SELECT count(*) FROM messages WHERE session IS NULL AND channel='ussd'"), 0);
}

/* ---- operations ----------------------------------------------------------------------------------------- */

static bool health_is(struct hl *h, void *arg)
{
	int want = *(int *)arg, status = 0;
	char *body = hl_http(h, "GET", "/healthz", NULL, NULL, &status);

	free(body);
	return status == want;
}

static void test_healthz_ok(void **state)
{
	struct hl *h = *state;
	int want = 200, status;
	char *body;

	assert_true(hl_wait(WAIT_MS, health_is, h, &want));
	body = hl_http(h, "GET", "/healthz", NULL, NULL, &status);
	assert_int_equal(status, 200);
	assert_non_null(strstr(body, "\"status\":\"ok\""));
	assert_non_null(strstr(body, "\"database\":\"up\""));
	assert_non_null(strstr(body, "\"name\":\"m0\""));
	assert_non_null(strstr(body, "\"connected\":true"));
	free(body);
}

/* The value of the first line starting with prefix, or -1. */
static double metric(const char *text, const char *prefix)
{
	const char *p = text;
	size_t n = strlen(prefix);

	while (p && *p) {
		if (strncmp(p, prefix, n) == 0 && p[n] == ' ')
			return atof(p + n + 1);
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

static void test_metrics(void **state)
{
	struct hl *h = *state;
	char resp[65536];
	const char *req = "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

	free(ussd(h, "met1", PHONE, ""));
	free(ussd(h, "met1", PHONE, "1"));
	free(ussd(h, "met1", PHONE, "1*2"));
	assert_int_equal(raw_http(h, req, strlen(req), resp, sizeof(resp)), 200);
	assert_non_null(strstr(resp, "Content-Type: text/plain; version=0.0.4"));
	assert_true(metric(resp, "hotline_messages_total{channel=\"ussd\",direction=\"in\"}") >= 3);
	assert_true(metric(resp, "hotline_messages_total{channel=\"ussd\",direction=\"out\"}") >= 3);
	assert_true(metric(resp, "hotline_messages_total{channel=\"sms\",direction=\"out\"}") >= 0);
	assert_true(metric(resp, "hotline_sends_total{result=\"sent\"}") >= 0);
	assert_true(metric(resp, "hotline_outbox_depth") >= 0);
	assert_true(metric(resp, "hotline_outbox_oldest_seconds") >= 0);
	assert_true(metric(resp, "hotline_ussd_sessions_active") >= 1);
	assert_true(metric(resp, "hotline_database_up") == 1);
	assert_true(metric(resp, "hotline_modem_connected{modem=\"m0\"}") == 1);
	assert_true(metric(resp, "hotline_modem_signal_percent{modem=\"m0\"}") >= -1);
	assert_true(metric(resp, "hotline_node_hits_total{node=\"dibao.amount\"}") >= 1);
	assert_true(metric(resp, "hotline_http_requests_total{code=\"2xx\"}") >= 3);
}

/* ---- the restricted daemon: ussd.allow, no SMS copy, a modem that goes away ------------------------------------ */

static void test_allow_refuses(void **state)
{
	struct hl *h = *state;
	struct db_counts before, after;
	int status;
	char *a;

	db_counts(h, &before);
	a = hl_http(h, "POST", "/ussd/test-secret", "sessionId=al1&serviceCode=%2A1%23&phoneNumber=" PHONE "&text=", NULL,
	    &status);
	assert_int_equal(status, 403);
	free(a);
	db_counts(h, &after);
	assert_true(before.messages == after.messages && before.sessions == after.sessions);
	assert_true(hl_log_has(h, "source address not in ussd.allow"));
}

/* Reloading the config (SIGHUP) with our address allowed lets us in. */
static void test_allow_reload(void **state)
{
	struct hl *h = *state;
	struct buf out = { 0 };
	char line[1024], *a;
	FILE *f = fopen(h->cfg, "r");

	/* the same config with 127.0.0.0/8 in place of 10.1.2.3 */
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, "10.1.2.3");
		if (p) {
			*p = '\0';
			buf_adds(&out, line);
			buf_adds(&out, "127.0.0.0/8");
			buf_adds(&out, p + strlen("10.1.2.3"));
		} else {
			buf_adds(&out, line);
		}
	}
	fclose(f);
	assert_non_null(strstr(buf_str(&out), "127.0.0.0/8"));
	f = fopen(h->cfg, "w");
	assert_non_null(f);
	fputs(buf_str(&out), f);
	fclose(f);
	buf_free(&out);
	assert_int_equal(kill(h->pid, SIGHUP), 0);
	for (int i = 0; i < 500 && !hl_log_has(h, "reloaded"); i++) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	assert_true(hl_log_has(h, "reloaded"));
	a = ussd(h, "al2", PHONE, "");
	screen_of(a, "CON ");
	free(a);
}

/* A kept answer (feedback number) ends the session; with ussd.sms_copy off, no SMS. */
static void test_keep_without_sms_copy(void **state)
{
	struct hl *h = *state;
	char *a;

	free(ussd(h, "fb1", "13800000003", ""));
	free(ussd(h, "fb1", "13800000003", "8"));
	a = ussd(h, "fb1", "13800000003", "8*村里的路灯坏了请修一修");
	screen_of(a, "END ");
	free(a);
	assert_int_equal(hl_int(h, "SELECT count(*) FROM feedback WHERE phone LIKE '%%13800000003'"), 1);
	assert_int_equal(hl_int(h, "SELECT count(*) FROM messages WHERE channel='sms' AND kind='reply'"
				   " AND phone_key = '+8613800000003'"), 0);
}

static void test_healthz_down(void **state)
{
	struct hl *h = *state;
	char gone[400];
	int want = 503, status;
	char *body;

	/* the dummy phone's folder goes away: the modem is down */
	snprintf(gone, sizeof(gone), "%s.gone", h->phone[0]);
	assert_int_equal(rename(h->phone[0], gone), 0);
	assert_true(hl_wait(WAIT_MS, health_is, h, &want));
	body = hl_http(h, "GET", "/healthz", NULL, NULL, &status);
	assert_int_equal(status, 503);
	assert_non_null(strstr(body, "\"status\":\"down\""));
	assert_non_null(strstr(body, "\"down\":[\"modems\"]"));
	assert_non_null(strstr(body, "\"database\":\"up\""));
	free(body);
	/* USSD does not need a modem */
	free(ussd(h, "down1", PHONE, ""));
	assert_int_equal(rename(gone, h->phone[0]), 0);
	want = 200;
	assert_true(hl_wait(WAIT_MS * 2, health_is, h, &want));
}

/* Last in each group: nothing above made the daemon log an error (a 4xx is info, a 5xx a warning). */
static void test_no_errors_logged(void **state)
{
	struct hl *h = *state;

	if (hl_log_has(h, " error ") || hl_log_has(h, "runtime error") || hl_log_has(h, "Sanitizer")) {
		hl_dump_log(h);
		fail_msg("the daemon logged an error");
	}
}

int main(void)
{
	const struct CMUnitTest main_tests[] = {
		cmocka_unit_test(test_walk_to_dibao_amount),
		cmocka_unit_test(test_back_and_home),
		cmocka_unit_test(test_more_screens),
		cmocka_unit_test(test_home_visit_request),
		cmocka_unit_test(test_end_notification),
		cmocka_unit_test(test_session_bound_to_phone),
		cmocka_unit_test(test_malformed_requests),
		cmocka_unit_test(test_secret_header),
		cmocka_unit_test(test_healthz_ok),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_slow_clients),
		cmocka_unit_test(test_no_errors_logged),
	};
	const struct CMUnitTest restricted_tests[] = {
		cmocka_unit_test(test_allow_refuses),
		cmocka_unit_test(test_allow_reload),
		cmocka_unit_test(test_keep_without_sms_copy),
		cmocka_unit_test(test_healthz_down),
		cmocka_unit_test(test_no_errors_logged),
	};
	int failed = 0;

	signal(SIGPIPE, SIG_IGN);
	failed += cmocka_run_group_tests_name("ussd", main_tests, setup_default, teardown);
	failed += cmocka_run_group_tests_name("ussd-restricted", restricted_tests, setup_restricted, teardown);
	return failed;
}
