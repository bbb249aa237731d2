/*
 * kannel: an MO's text as UTF-8 from what Kannel says of its bytes (coding
 * and charset: GSM, UCS-2, UTF-8, Latin-1), and Kannel's delivery report
 * types as the message's delivery state (pure functions); and a link whose
 * smsbox does not answer: the real sender thread (libcurl against a closed
 * loopback port) puts it down, and the supervisor is alerted after
 * monitor.down_alert_minutes exactly as for a dead modem.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "dispatch.h"
#include "health.h"
#include "hl.h"
#include "kannel.h"
#include "maintenance.h"
#include "store.h"
#include "store_kannel.h"
#include "store_messages.h"
#include "store_outbox.h"
#include "util.h"
#include "world.h"

static char *decode(const char *coding, const char *charset, const char *in, size_t len, bool *binary)
{
	struct buf b = { 0 };

	kannel_decode_text(coding, charset, in, len, &b, binary);
	return buf_take(&b);
}

static void expect(const char *coding, const char *charset, const char *in, size_t len, const char *want)
{
	bool binary = true;
	char *got = decode(coding, charset, in, len, &binary);

	assert_false(binary);
	assert_string_equal(got, want);
	free(got);
}

static void test_ucs2(void **state)
{
	(void)state;
	/* 低保 as UTF-16BE: coding 2 without a charset, or the charset smsbox posts */
	expect("2", NULL, "\x4f\x4e\x4f\xdd", 4, "低保");
	expect("2", "UTF-16BE", "\x4f\x4e\x4f\xdd", 4, "低保");
	expect("0", "UCS-2", "\x4f\x4e\x4f\xdd", 4, "低保");
	/* a surrogate pair (an emoji), a lone surrogate, an odd byte */
	expect("2", NULL, "\xd8\x3d\xde\x00", 4, "\xf0\x9f\x98\x80");
	expect("2", NULL, "\xd8\x3d\x00\x41", 4, "\xef\xbf\xbd" "A");
	expect("2", NULL, "\x00\x41\x00", 3, "A\xef\xbf\xbd");
}

static void test_utf8_and_charset_first(void **state)
{
	(void)state;
	/* mo-recode: coding says UCS-2 but smsbox recoded to UTF-8 and says so */
	expect("2", "UTF-8", "低保", strlen("低保"), "低保");
	expect(NULL, NULL, "低保 ok", strlen("低保 ok"), "低保 ok");
	expect("0", "utf-8", "a\xff" "b", 3, "a\xef\xbf\xbd" "b");
	expect("0", "ISO-8859-1", "caf\xe9", 4, "café");
}

static void test_gsm(void **state)
{
	(void)state;
	/* @ £ $, the escape to €, { and a lone escape at the end */
	expect("0", "GSM", "\x00\x01\x02\x1b\x65\x1b\x28\x1b", 8, "@£$€{ ");
	expect("0", "GSM", "Hi\x0a\x11", 4, "Hi\n_");
}

static void test_binary_kept(void **state)
{
	bool binary = false;
	char *got;

	(void)state;
	got = decode("1", NULL, "\x01\x02", 2, &binary);
	assert_true(binary);
	assert_memory_equal(got, "\x01\x02", 2);
	free(got);
}

static void test_dlr_states(void **state)
{
	bool final = false;

	(void)state;
	assert_string_equal(kannel_dlr_state(1, &final), "delivered");
	assert_true(final);
	assert_string_equal(kannel_dlr_state(2, &final), "failed");
	assert_true(final);
	assert_string_equal(kannel_dlr_state(16, &final), "rejected");
	assert_true(final);
	assert_string_equal(kannel_dlr_state(8, &final), "accepted");
	assert_false(final);
	assert_string_equal(kannel_dlr_state(4, &final), "buffered");
	assert_false(final);
	assert_null(kannel_dlr_state(3, &final));
}

/* A loopback port nobody listens on (bound, never listened, closed). */
static int closed_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static bool down_with_error(const char *name)
{
	struct modem_health mh[16];
	size_t n = health_modems(mh, 16);

	for (size_t i = 0; i < n && i < 16; i++)
		if (strcmp(mh[i].name, name) == 0)
			return mh[i].state == MODEM_BACKOFF && !mh[i].connected && mh[i].error[0] != '\0';
	return false;
}

/* Send message id as the claim/sent path does, at time `at`. */
static void send_at(struct store *st, int64_t id, int64_t at)
{
	struct store_send one;
	size_t n = 0;

	assert_int_equal(store_outbox_claim(st, "k1", "k1", at, &one, 1, &n), 0);
	assert_int_equal(n, 1);
	assert_true(one.id == id);
	store_sends_free(&one, 1);
	assert_int_equal(store_outbox_sent(st, id, 1, -1, at), 0);
}

static size_t unacked(struct store *st, int64_t before, int64_t *ids)
{
	size_t n = 0;

	assert_int_equal(store_kannel_unacked(st, "k1", 0, before, 3, ids, 8, &n), 0);
	return n;
}

/*
 * A sent MT the SMSC has not acknowledged is found (none or 'buffered'), an
 * acknowledged one ('accepted', final) is not; a resend puts the same row back
 * in the outbox (queued, uncertain + 1) and is bounded by max_resends.
 */
static void test_unacked_resend(void **state)
{
	char dir[] = "/tmp/test_kannel-XXXXXX", path[128], err[256];
	struct store_opts o = { 0 };
	struct store *st = NULL;
	int64_t a = 0, b = 0, c = 0, ids[8];
	bool matched = false, queued = false;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/h.db", dir);
	o.create = true;
	o.migrate = true;
	o.synchronous = "normal";
	assert_int_equal(store_open(path, &o, &st, err, sizeof(err)), 0);
	int64_t *mid[] = { &a, &b, &c };
	for (int i = 0; i < 3; i++) {
		struct store_msg m = { 0 };
		m.channel = CHANNEL_SMS;
		m.direction = DIRECTION_OUT;
		m.phone = "+8613800000031";
		m.text = "x";
		m.text_len = 1;
		m.parts = 1;
		m.status = MSG_STATUS_QUEUED;
		m.created_at = 1000;
		assert_int_equal(store_msg_add(st, &m, mid[i]), 0);
		assert_int_equal(store_outbox_add(st, *mid[i], "k1", 0, 1000), 0);
		send_at(st, *mid[i], 1000 + i);
	}
	assert_int_equal(store_delivery_set(st, a, "k1", "accepted", false, 1010, &matched), 0);
	assert_true(matched);
	assert_int_equal(store_delivery_set(st, b, "k1", "buffered", false, 1010, &matched), 0);
	/* c sent at 1002: only sends before `before` count */
	assert_int_equal(unacked(st, 1002, ids), 1);
	assert_true(ids[0] == b);
	assert_int_equal(unacked(st, 2000, ids), 2);
	assert_true(ids[0] == b && ids[1] == c);
	/* resent: the same row, back in the outbox; not found again while it waits there */
	assert_int_equal(store_kannel_resend(st, c, "k1", 1100, &queued), 0);
	assert_true(queued);
	assert_int_equal(unacked(st, 2000, ids), 1);
	assert_int_equal(store_kannel_resend(st, c, "k1", 1100, &queued), 0);
	assert_false(queued); /* not 'sent' any more: nothing changes */
	/* sent again, twice more without an acknowledgement: then no more */
	send_at(st, c, 1101);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(unacked(st, 2000, ids), 2);
		assert_int_equal(store_kannel_resend(st, c, "k1", 1200, &queued), 0);
		assert_true(queued);
		send_at(st, c, 1201);
	}
	assert_int_equal(unacked(st, 2000, ids), 1); /* c: 3 resends */
	assert_true(ids[0] == b);
	/* a final report ends the wait */
	assert_int_equal(store_delivery_set(st, b, "k1", "delivered", true, 1300, &matched), 0);
	assert_int_equal(unacked(st, 2000, ids), 0);
	store_close(st);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	assert_int_equal(system(path), 0);
}

static void test_link_down_alerts_like_a_modem(void **state)
{
	char dir[] = "/tmp/test_kannel-XXXXXX", db[PATH_MAX], cfgpath[PATH_MAX], url[128], err[512];
	struct store_opts o = { 0 };
	struct store *st = NULL;
	struct kannel *k = NULL;
	struct world *w;
	struct modem_cfg mc;
	char *numbers[] = { "12349", NULL };

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/hotline.db", dir);
	snprintf(cfgpath, sizeof(cfgpath), "%s/tests/data/hotline-test.cfg", hl_src_dir());
	w = hl_load_world(cfgpath);
	assert_non_null(w);
	o.create = true;
	o.migrate = true;
	o.synchronous = "normal";
	assert_int_equal(store_open(db, &o, &st, err, sizeof(err)), 0);

	struct config cfg = *w->cfg;
	cfg.db_path = db;
	memset(&mc, 0, sizeof(mc));
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/cgi-bin/sendsms", closed_port());
	mc.name = "k1";
	mc.kind = CHANNEL_KANNEL;
	mc.sendsms_url = url;
	mc.sendsms_user = "hotline";
	mc.sendsms_password = "x";
	mc.numbers = numbers;
	mc.nnumbers = 1;
	mc.secret = "kannel-secret";
	mc.dlr_url = "";
	mc.check_interval = 1;
	mc.send_timeout = 2;
	mc.senders = 1;
	health_reset();
	assert_int_equal(kannel_start(&mc, &cfg, &k), 0);
	bool down = false;
	for (int i = 0; i < 500 && !(down = down_with_error("k1")); i++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	assert_true(down);
	assert_false(health_any_connected());

	/* down longer than monitor.down_alert_minutes: the supervisor (13900000003) gets one SMS naming it */
	struct ctx c = { st, &cfg, w->menu, now_unix() + (int64_t)cfg.down_alert_minutes * 60 + 120, NULL, 0 };
	maintenance_tick(&c);
	struct store_msg_filter f = { 0 };
	int n = 0;
	f.phone = "+8613900000003";
	assert_int_equal(store_msg_count(st, &f, 0, &n), 0);
	assert_int_equal(n, 1);

	kannel_request_stop(k);
	kannel_join(k);
	health_reset();
	store_close(st);
	world_release(w);
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ucs2),
		cmocka_unit_test(test_utf8_and_charset_first),
		cmocka_unit_test(test_gsm),
		cmocka_unit_test(test_binary_kept),
		cmocka_unit_test(test_dlr_states),
		cmocka_unit_test(test_unacked_resend),
		cmocka_unit_test(test_link_down_alerts_like_a_modem),
	};

	return cmocka_run_group_tests_name("kannel", tests, NULL, NULL);
}
