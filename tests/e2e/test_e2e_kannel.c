/*
 * hotlined behind real Kannel on loopback: a bearerbox with Kannel's fake
 * SMSC, one smsbox per county routed by the number called, Kannel's own test
 * SMSC client fakesmsc playing the villagers (tests/harness/kb.c), and real
 * hotlined daemons (tests/harness/hl.c), all on free ports in the test's own
 * folder, all stopped by their PIDs.
 *
 * What goes in at fakesmsc comes back out at fakesmsc: Chinese intact, long
 * replies as one concatenated message, delivery reports on the message; two
 * counties each answer only their own number; SIGKILL of bearerbox or of
 * hotlined in the middle of a burst loses nothing and stores nothing twice
 * (Kannel's replays are recognised by their Kannel id); a reply smsbox
 * accepted but Kannel lost is sent again (after the link's fall, or after
 * ack_timeout); a wrong secret or address is refused and leaves nothing in
 * the database.
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
#include <unistd.h>

#include <cmocka.h>

#include "hl.h"
#include "kb.h"
#include "utf8.h"
#include "util.h"

#define WAIT_MS 20000
#define SECRET1 "kannel-secret-1"
#define SECRET2 "kannel-secret-2"
#define NUM1 "12349"
#define NUM2 "12350"

struct county {
	struct hl h;
};

struct fx {
	struct kb k;
	struct county c[2];
	int n;
	int check_interval, ack_timeout; /* 0: the test's defaults (1 s; the setting's default) */
};

/* The channel list of county i: its Kannel link (and, with refusals, a link nobody may call). */
static char *county_config(const struct fx *f, int i, bool with_closed_link)
{
	const struct kb *k = &f->k;
	struct buf b = { 0 };
	char ack[40] = "";

	if (f->ack_timeout)
		snprintf(ack, sizeof(ack), " ack_timeout = %d;", f->ack_timeout);

	buf_printf(&b,
	    "modems = (\n"
	    "  { name = \"k%d\"; kind = \"kannel\"; sendsms_url = \"http://127.0.0.1:%d/cgi-bin/sendsms\";\n"
	    "    sendsms_user = \"hotline\"; sendsms_password = \"kb-pass\"; numbers = [\"%s\"];\n"
	    "    secret = \"%s\"; allow = [\"127.0.0.1\"]; check_interval = %d; send_timeout = 5; senders = 2;%s }%s\n",
	    i + 1, k->box[i].sendsms_port, k->box[i].number, i == 0 ? SECRET1 : SECRET2,
	    f->check_interval ? f->check_interval : 1, ack, with_closed_link ? "," : "");
	if (with_closed_link)
		buf_printf(&b,
		    "  { name = \"closed\"; kind = \"kannel\"; sendsms_url = \"http://127.0.0.1:%d/cgi-bin/sendsms\";\n"
		    "    sendsms_user = \"hotline\"; sendsms_password = \"kb-pass\"; numbers = [\"12351\"];\n"
		    "    secret = \"closed-secret\"; allow = [\"192.0.2.1\"]; check_interval = 1; }\n",
		    k->box[i].sendsms_port);
	buf_adds(&b, ");\n");
	return buf_take(&b);
}

static int teardown(void **state);
static void restart_kannel(struct fx *f);

/* Everything up, or everything stopped again (cmocka runs no teardown after a failed setup). */
static int start_with(void **state, int counties, bool with_closed_link, int check_interval, int ack_timeout)
{
	struct fx *f = calloc(1, sizeof(*f));
	static const char *const numbers[] = { NUM1, NUM2 };
	char dir[] = "/tmp/kb-XXXXXX";

	if (!kb_available() || mkdtemp(dir) == NULL)
		return -1;
	f->n = counties;
	f->check_interval = check_interval;
	f->ack_timeout = ack_timeout;
	*state = f;
	if (kb_setup(&f->k, dir, counties, numbers) < 0)
		goto fail;
	for (int i = 0; i < counties; i++) {
		char *extra = county_config(f, i, with_closed_link);
		int rc = hl_setup(&f->c[i].h, 1, "modems", extra);
		free(extra);
		if (rc < 0)
			goto fail;
		kb_box_target(&f->k, i, f->c[i].h.port, i == 0 ? "k1" : "k2", i == 0 ? SECRET1 : SECRET2);
	}
	if (kb_start(&f->k) < 0) {
		kb_dump(&f->k);
		goto fail;
	}
	for (int i = 0; i < counties; i++)
		if (hl_start(&f->c[i].h, NULL) < 0)
			goto fail;
	return 0;
fail:
	teardown(state);
	*state = NULL;
	return -1;
}

static int start(void **state, int counties, bool with_closed_link)
{
	return start_with(state, counties, with_closed_link, 0, 0);
}

/* smsbox checked only once an hour, and a sent MT resent when the SMSC has not acknowledged it in 2 s. */
static int setup_ack_timeout(void **state)
{
	return start_with(state, 1, false, 3600, 2);
}

static int setup_one(void **state)
{
	return start(state, 1, false);
}

static int setup_closed(void **state)
{
	return start(state, 1, true);
}

static int setup_two(void **state)
{
	return start(state, 2, false);
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[400];

	if (f == NULL)
		return 0;
	for (int i = 0; i < f->n; i++)
		hl_cleanup(&f->c[i].h);
	kb_stop(&f->k);
	if (getenv("HL_KEEP") == NULL || strcmp(getenv("HL_KEEP"), "1") != 0) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->k.dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", f->k.dir);
	}
	free(f);
	return 0;
}

static void dump(struct fx *f)
{
	kb_dump(&f->k);
	for (int i = 0; i < f->n; i++)
		hl_dump_log(&f->c[i].h);
}

/* The one whole text fakesmsc got for phone (asserting there is exactly one); caller frees. */
static char *only_text(struct fx *f, const char *phone, const char *from)
{
	size_t n = 0;
	char **t;
	char *one, e164[40];

	/* hotlined sends to the number as it stores it: E.164 */
	hl_phone(phone, e164, sizeof(e164));
	if (kb_wait_texts(&f->k, e164, 1, WAIT_MS) < 1)
		dump(f);
	t = kb_texts_to(&f->k, e164, from, &n);
	assert_int_equal(n, 1);
	one = t[0];
	free(t);
	return one;
}

/* A villager's Chinese SMS through fakesmsc: stored as UTF-8, and the reply back at fakesmsc intact. */
static void test_chinese_round_trip(void **state)
{
	struct fx *f = *state;
	struct hl *h = &f->c[0].h;

	assert_int_equal(kb_mo(&f->k, "13800000001", NUM1, "低保"), 0);
	char *reply = hl_wait_reply(h, "13800000001", 1, WAIT_MS);
	if (reply == NULL)
		dump(f);
	assert_non_null(reply);
	char *in = hl_text(h, "SELECT text || '|' || modem || '|' || channel FROM messages WHERE direction = 'in'");
	assert_string_equal(in, "低保|k1|sms");
	char *got = only_text(f, "13800000001", NUM1);
	assert_string_equal(got, reply);
	assert_non_null(strstr(got, "低保"));
	assert_true(hl_wait_count(h, 1, WAIT_MS, "SELECT count(*) FROM messages WHERE direction = 'out' AND status = 'sent' AND modem = 'k1'"));
	free(in);
	free(got);
	free(reply);
}

/* A reply longer than one SMS leaves as parts Kannel concatenates; joined, they are the reply. */
static void test_long_reply_concatenated(void **state)
{
	struct fx *f = *state;
	struct hl *h = &f->c[0].h;

	assert_int_equal(kb_mo(&f->k, "13800000002", NUM1, "低保怎么申请"), 0); /* dibao.apply: over 80 characters */
	char *reply = hl_wait_reply(h, "13800000002", 1, WAIT_MS);
	assert_non_null(reply);
	assert_true(utf8_chars(reply, strlen(reply)) > 70); /* more than one UCS-2 SMS */
	char *got = only_text(f, "13800000002", NUM1);
	assert_string_equal(got, reply);
	/* it came in parts */
	size_t nm, parts = 0;
	struct kb_mt *m = kb_mts(&f->k, &nm);
	for (size_t i = 0; i < nm; i++)
		if (strcmp(m[i].to, "+8613800000002") == 0) {
			assert_true(m[i].total >= 2);
			parts++;
		}
	assert_true(parts >= 2);
	assert_int_equal(hl_int(h, "SELECT parts FROM messages WHERE direction = 'out'"), (long long)parts);
	kb_mts_free(m, nm);
	free(got);
	free(reply);
}

/* The fake SMSC's delivery report comes back through smsbox's dlr-url and lands on the message. */
static void test_delivery_report(void **state)
{
	struct fx *f = *state;
	struct hl *h = &f->c[0].h;

	assert_int_equal(kb_mo(&f->k, "13800000003", NUM1, "你好"), 0);
	if (!hl_wait_count(h, 1, WAIT_MS, "SELECT count(*) FROM deliveries WHERE state = 'delivered'"))
		dump(f);
	assert_int_equal(hl_int(h, "SELECT count(*) FROM deliveries d JOIN messages m ON m.id = d.message_id"
				   " WHERE d.state = 'delivered' AND m.direction = 'out' AND m.status = 'sent' AND m.modem = 'k1'"), 1);
	/* a report for a message this link never sent changes nothing */
	int status = 0;
	char *body = hl_http(h, "GET", "/kannel/k1/" SECRET1 "/dlr?msg=999999&type=1", NULL, NULL, &status);
	assert_int_equal(status, 404);
	free(body);
}

/* A retried call (smsbox got no answer) is recognised by its Kannel id: stored and answered once. */
static void test_retried_call_answered_once(void **state)
{
	struct fx *f = *state;
	struct hl *h = &f->c[0].h;
	int status = 0;

	for (int i = 0; i < 3; i++) {
		char *body = hl_http(h, "POST", "/kannel/k1/" SECRET1 "?id=6f1c-retry&from=13800000004&to=12349&coding=0&charset=UTF-8",
		    "%E4%BD%A0%E5%A5%BD", NULL, &status);
		assert_int_equal(status, 202);
		free(body);
	}
	assert_true(hl_wait_count(h, 1, WAIT_MS, "SELECT count(*) FROM messages WHERE direction = 'out' AND phone = '+8613800000004'"));
	assert_int_equal(hl_int(h, "SELECT count(*) FROM messages WHERE direction = 'in' AND phone = '+8613800000004'"), 1);
	assert_int_equal(hl_int(h, "SELECT count(*) FROM messages WHERE direction = 'out' AND phone = '+8613800000004'"), 1);
	assert_true(hl_log_has(h, "came again (Kannel id seen before)"));
}

/*
 * smsbox's get-url form: the text in a `text` argument, here UCS-2 bytes as
 * %b gives them (低保 as UTF-16BE), stored as UTF-8 and answered.
 */
static void test_get_url_ucs2(void **state)
{
	struct fx *f = *state;
	struct hl *h = &f->c[0].h;
	int status = 0;
	char *body = hl_http(h, "GET", "/kannel/k1/" SECRET1 "?id=get-1&from=13800000007&to=12349&coding=2&text=ON%4F%DD",
	    NULL, NULL, &status);

	assert_int_equal(status, 202);
	free(body);
	char *in = hl_text(h, "SELECT text FROM messages WHERE direction = 'in' AND phone = '+8613800000007'");
	assert_non_null(in);
	assert_string_equal(in, "低保");
	char *reply = hl_wait_reply(h, "13800000007", 1, WAIT_MS);
	assert_non_null(reply);
	assert_non_null(strstr(reply, "低保"));
	free(in);
	free(reply);
}

/* Wrong secrets, a missing one, a caller not allowed, a number not served: refused, nothing stored. */
static void test_refusals_store_nothing(void **state)
{
	struct fx *f = *state;
	struct hl *h = &f->c[0].h;
	static const struct {
		const char *path, *header;
		int status;
	} cases[] = {
		{ "/kannel/k1/wrong-secret?id=a1&from=13800000005&to=12349", NULL, 404 },
		{ "/kannel/k1?id=a2&from=13800000005&to=12349", NULL, 403 },
		{ "/kannel/k1?id=a3&from=13800000005&to=12349", "X-Hotline-Secret: wrong-secret", 403 },
		{ "/kannel/nosuch/" SECRET1 "?id=a4&from=13800000005&to=12349", NULL, 404 },
		{ "/kannel/closed/closed-secret?id=a5&from=13800000005&to=12351", NULL, 403 },
		{ "/kannel/k1/" SECRET1 "?id=a6&from=13800000005&to=12350", NULL, 400 },
		{ "/kannel/k1/" SECRET1 "?from=13800000005&to=12349", NULL, 400 },
		{ "/kannel/k1/" SECRET1 "/dlr?msg=1&type=1", "X-Hotline-Secret: wrong-secret", 404 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int status = 0;
		char *body = hl_http(h, "POST", cases[i].path, "%E4%BD%A0%E5%A5%BD", cases[i].header, &status);
		if (status != cases[i].status)
			fprintf(stderr, "case %zu: %s: want %d, got %d\n", i, cases[i].path, cases[i].status, status);
		assert_int_equal(status, cases[i].status);
		free(body);
	}
	/* the header form of the secret works */
	int status = 0;
	char *body = hl_http(h, "POST", "/kannel/k1?id=a7&from=13800000006&to=12349", "%E4%BD%A0%E5%A5%BD",
	    "X-Hotline-Secret: " SECRET1, &status);
	assert_int_equal(status, 202);
	free(body);
	assert_int_equal(hl_int(h, "SELECT count(*) FROM messages WHERE phone = '+8613800000005'"), 0);
	assert_int_equal(hl_int(h, "SELECT count(*) FROM inbound_keys WHERE key LIKE 'a%%' AND key <> 'a7'"), 0);
	assert_int_equal(hl_int(h, "SELECT count(*) FROM messages WHERE direction = 'in'"), 1);
	/* the secret is never in the log */
	assert_false(hl_log_has(h, SECRET1));
}

/* Two counties behind one bearerbox: each hotlined gets and answers only its own number. */
static void test_two_counties(void **state)
{
	struct fx *f = *state;

	assert_int_equal(kb_mo(&f->k, "13800000011", NUM1, "低保"), 0);
	assert_int_equal(kb_mo(&f->k, "13800000012", NUM2, "低保"), 0);
	assert_int_equal(kb_mo(&f->k, "13800000013", NUM2, "你好"), 0);
	assert_true(hl_wait_count(&f->c[0].h, 1, WAIT_MS, "SELECT count(*) FROM messages WHERE direction = 'out'"));
	assert_true(hl_wait_count(&f->c[1].h, 2, WAIT_MS, "SELECT count(*) FROM messages WHERE direction = 'out'"));
	assert_int_equal(hl_int(&f->c[0].h, "SELECT count(*) FROM messages WHERE direction = 'in'"), 1);
	assert_int_equal(hl_int(&f->c[0].h, "SELECT count(*) FROM messages WHERE phone = '+8613800000011'"), 2);
	assert_int_equal(hl_int(&f->c[1].h, "SELECT count(*) FROM messages WHERE direction = 'in'"), 2);
	assert_int_equal(hl_int(&f->c[1].h, "SELECT count(*) FROM messages WHERE phone = '+8613800000011'"), 0);
	/* the answers come from the number each villager texted */
	static const struct {
		const char *phone, *number;
		int county;
	} who[] = { { "13800000011", NUM1, 0 }, { "13800000012", NUM2, 1 }, { "13800000013", NUM2, 1 } };
	for (size_t i = 0; i < 3; i++) {
		char *got = only_text(f, who[i].phone, who[i].number);
		char *want = hl_last_reply(&f->c[who[i].county].h, who[i].phone);
		assert_non_null(want);
		assert_string_equal(got, want);
		free(got);
		free(want);
	}
}

#define BURST 16

static void burst_phone(int i, char *out, size_t len)
{
	snprintf(out, len, "139000%05u", (unsigned)(100 + i) % 100000u);
}

/* MOs from..to-1 of the burst, each from its own phone, one after the other. */
static void send_burst(struct fx *f, int from, int to)
{
	static const char *const texts[] = { "低保", "你好", "特困供养", "临时救助" };

	for (int i = from; i < to; i++) {
		char phone[16];
		burst_phone(i, phone, sizeof(phone));
		assert_int_equal(kb_mo(&f->k, phone, NUM1, texts[i % 4]), 0);
	}
}

static bool healthz_is(struct hl *h, int want)
{
	int status = 0;

	for (int waited = 0; waited <= WAIT_MS; waited += 50) {
		char *body = hl_http(h, "GET", "/healthz", NULL, NULL, &status);
		free(body);
		if (status == want)
			return true;
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	return false;
}

/* Every MO of the burst stored once and answered once; every villager got the answer at fakesmsc. */
static void assert_burst_answered_once(struct fx *f)
{
	struct hl *h = &f->c[0].h;

	if (!hl_wait_count(h, BURST, WAIT_MS * 2, "SELECT count(*) FROM messages WHERE direction = 'out' AND status = 'sent'"))
		dump(f);
	assert_int_equal(hl_int(h, "SELECT count(*) FROM messages WHERE direction = 'in'"), BURST);
	assert_int_equal(hl_int(h, "SELECT count(DISTINCT phone) FROM messages WHERE direction = 'in'"), BURST);
	assert_int_equal(hl_int(h, "SELECT count(*) FROM messages WHERE direction = 'out'"), BURST);
	assert_int_equal(hl_int(h, "SELECT count(DISTINCT phone) FROM messages WHERE direction = 'out' AND status = 'sent'"), BURST);
	assert_int_equal(hl_int(h, "SELECT count(*) FROM inbound_keys"), BURST);
	for (int i = 0; i < BURST; i++) {
		char phone[16], e164[40];
		burst_phone(i, phone, sizeof(phone));
		hl_phone(phone, e164, sizeof(e164));
		if (kb_wait_texts(&f->k, e164, 1, WAIT_MS) < 1) {
			fprintf(stderr, "no answer reached %s\n", phone);
			dump(f);
		}
		size_t n = 0;
		char **t = kb_texts_to(&f->k, e164, NUM1, &n);
		char *want = hl_last_reply(h, phone);
		/* more than one only in the crash window: Kannel's store replayed it, or hotlined resent it */
		bool answered = n >= 1 && want != NULL;
		bool same = true;
		for (size_t j = 0; j < n; j++) {
			same = same && want != NULL && strcmp(t[j], want) == 0;
			free(t[j]);
		}
		free(t);
		free(want);
		assert_true(answered);
		assert_true(same);
	}
	/* and one reply per MO in the database, whatever went out twice */
	assert_int_equal(hl_int(h, "SELECT count(*) FROM messages WHERE direction = 'out'"), BURST);
}

/*
 * bearerbox SIGKILLed in the middle of a burst and started again (its
 * smsbox exits with it and is started again, as run_kannel_box or systemd
 * would; fakesmsc too): the link shows down in /healthz and /metrics, then
 * up; every MO has one reply in the database and reached fakesmsc at least
 * once (twice only in the crash window: Kannel's store replays an MT, or
 * hotlined resends one the SMSC had not acknowledged).
 */
static void test_bearerbox_killed_mid_burst(void **state)
{
	struct fx *f = *state;
	struct hl *h = &f->c[0].h;
	int status = 0;

	send_burst(f, 0, BURST / 2);
	assert_true(hl_wait_count(h, 3, WAIT_MS, "SELECT count(*) FROM messages WHERE direction = 'in'"));
	/* what fakesmsc wrote has reached bearerbox (the fake SMSC has no acks of its own) */
	for (int waited = 0; kb_received(&f->k) < BURST / 2 && waited < WAIT_MS; waited += 20) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	kb_kill(&f->k.bearerbox, SIGKILL, 1000);
	assert_true(healthz_is(h, 503));
	char *m = hl_http(h, "GET", "/metrics", NULL, NULL, &status);
	assert_non_null(strstr(m, "hotline_modem_connected{modem=\"k1\"} 0"));
	free(m);
	/* the smsbox goes with its bearerbox; a supervisor starts them again */
	restart_kannel(f);
	assert_true(healthz_is(h, 200));
	send_burst(f, BURST / 2, BURST);
	assert_burst_answered_once(f);
}

/*
 * hotlined SIGKILLed in the middle of a burst and started again: smsbox
 * keeps calling (http-request-retry), calls that were committed but not
 * answered come again and are recognised by their Kannel id; every MO is
 * answered exactly once.
 */
static void test_hotlined_killed_mid_burst(void **state)
{
	struct fx *f = *state;
	struct hl *h = &f->c[0].h;

	send_burst(f, 0, BURST / 2);
	assert_true(hl_wait_count(h, 3, WAIT_MS, "SELECT count(*) FROM messages WHERE direction = 'in'"));
	assert_int_equal(hl_stop(h, SIGKILL, 5000), 128 + SIGKILL);
	send_burst(f, BURST / 2, BURST);
	assert_int_equal(hl_start(h, NULL), 0);
	assert_burst_answered_once(f);
}

/* Restart bearerbox, its smsbox and fakesmsc after bearerbox was killed (as a supervisor would). */
static void restart_kannel(struct fx *f)
{
	for (int waited = 0; !kb_exited(&f->k.box[0].pid) && waited < 3000; waited += 20) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	kb_kill(&f->k.box[0].pid, SIGKILL, 1000);
	kb_kill(&f->k.fake, SIGKILL, 1000);
	assert_int_equal(kb_start_bearerbox(&f->k), 0);
	assert_int_equal(kb_start_smsbox(&f->k, 0), 0);
	assert_int_equal(kb_start_fakesmsc(&f->k), 0);
}

/*
 * The loss itself, made certain: fakesmsc gone, so bearerbox keeps the
 * reply queued after smsbox said 202; then bearerbox is SIGKILLed and its
 * store is lost with it (what a kill before store-dump-freq does by chance).
 * hotlined has the reply as sent with no SMSC acknowledgement;
 * f->check_interval decides whether it sees the link fall (then it resends
 * when the link is back) or only ack_timeout finds it.
 */
static void lose_one_reply(struct fx *f, const char *phone, const char *id)
{
	struct hl *h = &f->c[0].h;
	char path[400], e164[40];
	int status = 0;

	hl_phone(phone, e164, sizeof(e164));
	kb_kill(&f->k.fake, SIGKILL, 1000);
	snprintf(path, sizeof(path), "/kannel/k1/" SECRET1 "?id=%s&from=%s&to=" NUM1 "&coding=0&charset=UTF-8", id, phone);
	char *body = hl_http(h, "POST", path, "%E4%BD%8E%E4%BF%9D", NULL, &status); /* 低保 */
	free(body);
	assert_int_equal(status, 202);
	/* smsbox took it: hotlined has it as sent */
	bool sent = hl_wait_count(h, 1, WAIT_MS, "SELECT count(*) FROM messages WHERE direction = 'out' AND status = 'sent'"
	    " AND phone = '%s'", e164);
	kb_kill(&f->k.bearerbox, SIGKILL, 1000);
	if (!sent)
		dump(f);
	assert_true(sent);
	assert_int_equal(hl_int(h, "SELECT count(*) FROM deliveries d JOIN messages m ON m.id = d.message_id"
				   " WHERE m.phone = '%s' AND m.direction = 'out'", e164), 0);
	static const char *const tails[] = { "", ".new", ".bak" };
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s%s", f->k.store, tails[i]);
		unlink(path);
	}
}

/* After the resend: the reply reached fakesmsc, one reply row in the database, the resend counted and logged. */
static void assert_resent(struct fx *f, const char *phone)
{
	struct hl *h = &f->c[0].h;
	char e164[40];
	int status = 0;

	hl_phone(phone, e164, sizeof(e164));
	if (kb_wait_texts(&f->k, e164, 1, WAIT_MS) < 1)
		dump(f);
	size_t n = 0;
	char **t = kb_texts_to(&f->k, e164, NUM1, &n);
	char *want = hl_last_reply(h, phone);
	bool same = n >= 1 && want != NULL && strcmp(t[0], want) == 0;
	for (size_t j = 0; j < n; j++)
		free(t[j]);
	free(t);
	free(want);
	assert_true(same);
	assert_int_equal(hl_int(h, "SELECT count(*) FROM messages WHERE direction = 'out' AND phone = '%s'", e164), 1);
	assert_true(hl_int(h, "SELECT uncertain FROM messages WHERE direction = 'out' AND phone = '%s'", e164) >= 1);
	/* the SMSC acknowledged the resent one: it is not sent again */
	assert_true(hl_wait_count(h, 1, WAIT_MS, "SELECT count(*) FROM deliveries d JOIN messages m ON m.id = d.message_id"
	    " WHERE m.phone = '%s' AND d.state IN ('accepted', 'delivered')", e164));
	char *m = hl_http(h, "GET", "/metrics", NULL, NULL, &status);
	bool counted = m != NULL && strstr(m, "hotline_kannel_resent_total 0\n") == NULL
	    && strstr(m, "hotline_kannel_resent_total ") != NULL;
	free(m);
	assert_true(counted);
	assert_true(hl_log_has(h, "has no acknowledgement from the SMSC"));
	assert_false(hl_log_has(h, phone + 3)); /* the log names the message, not the phone */
}

/* A reply lost inside Kannel while hotlined saw the link fall: resent when the link is back. */
static void test_lost_mt_resent_after_restart(void **state)
{
	struct fx *f = *state;

	lose_one_reply(f, "13800000021", "lost-1");
	assert_true(healthz_is(&f->c[0].h, 503));
	restart_kannel(f);
	assert_true(healthz_is(&f->c[0].h, 200));
	assert_resent(f, "13800000021");
	assert_true(hl_log_has(&f->c[0].h, "the link was down after it was handed over"));
}

/* The same loss unseen by hotlined (smsbox checked once an hour): ack_timeout finds it. */
static void test_lost_mt_resent_after_ack_timeout(void **state)
{
	struct fx *f = *state;

	lose_one_reply(f, "13800000022", "lost-2");
	restart_kannel(f);
	assert_resent(f, "13800000022");
	assert_true(hl_log_has(&f->c[0].h, "ack_timeout passed"));
}

int main(void)
{
	const struct CMUnitTest one[] = {
		cmocka_unit_test_setup_teardown(test_chinese_round_trip, setup_one, teardown),
		cmocka_unit_test_setup_teardown(test_long_reply_concatenated, setup_one, teardown),
		cmocka_unit_test_setup_teardown(test_delivery_report, setup_one, teardown),
		cmocka_unit_test_setup_teardown(test_retried_call_answered_once, setup_one, teardown),
		cmocka_unit_test_setup_teardown(test_get_url_ucs2, setup_one, teardown),
		cmocka_unit_test_setup_teardown(test_refusals_store_nothing, setup_closed, teardown),
		cmocka_unit_test_setup_teardown(test_two_counties, setup_two, teardown),
		cmocka_unit_test_setup_teardown(test_bearerbox_killed_mid_burst, setup_one, teardown),
		cmocka_unit_test_setup_teardown(test_hotlined_killed_mid_burst, setup_one, teardown),
		cmocka_unit_test_setup_teardown(test_lost_mt_resent_after_restart, setup_one, teardown),
		cmocka_unit_test_setup_teardown(test_lost_mt_resent_after_ack_timeout, setup_ack_timeout, teardown),
	};

	return cmocka_run_group_tests_name("kannel", one, NULL, NULL);
}
