/*
 * Broadcasts end to end (issue 17): a real hotlined on dummy phones, the
 * roster imported with hotlinectl, a broadcast created by one staff member
 * and approved by the supervisor, sent through both modems at the per-modem
 * rate, a status report
 * placed in the phone matched to the message it reports on; 退订 by SMS
 * before a broadcast; and every recipient texted exactly once while hotlined
 * is SIGKILLed again and again.
 *
 * The kill test sends BCAST_N recipients (200) with BCAST_KILLS kills (6);
 * `make stress` runs it with HOTLINE_BCAST_STRESS=1: 2,000 recipients, 25 kills.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gsm.h"
#include "hl.h"

#define WAIT_MS 60000
#define EXTRA "broadcast = { per_modem_per_minute = 0; allowed_hours = \"\"; subscriptions = [\"赶大集\"]; };\n"

/* hotlinectl with args; its stdout into out (may be NULL). Returns the exit status. */
static int ctl(struct hl *h, char *out, size_t outlen, const char *fmt, ...)
{
	char args[1024], cmd[2048];
	va_list ap;
	FILE *p;
	size_t n = 0;
	int status;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "%s/hotlinectl -c %s %s 2>>%s/ctl.err", getenv("HOTLINE_BUILD"), h->cfg, args, h->dir);
	p = popen(cmd, "r");
	if (p == NULL)
		return -1;
	if (out && outlen) {
		out[0] = '\0';
		n = fread(out, 1, outlen - 1, p);
		out[n] = '\0';
	} else {
		char sink[4096];
		while (fread(sink, 1, sizeof(sink), p) > 0)
			;
	}
	status = pclose(p);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* A roster of n 低保户 in 白水镇, numbers 1370000NNNN from first on. */
static void roster(struct hl *h, int first, int n)
{
	char path[400];
	FILE *f;

	snprintf(path, sizeof(path), "%s/roster.csv", h->dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "姓名,手机号,乡镇,村,类别\n");
	for (int i = first; i < first + n; i++)
		fprintf(f, "村民%d,1370000%04d,白水镇,寨子街村,低保户\n", i, i);
	fclose(f);
	assert_int_equal(ctl(h, NULL, 0, "contacts import %s", path), 0);
}

/* Create (by 李秀英) and approve (by 张主任) a broadcast to the 低保户; its id. */
static int create_approved(struct hl *h, const char *text)
{
	char out[4096];
	int id = 0;

	assert_int_equal(ctl(h, out, sizeof(out), "broadcast create --by 李秀英 --to group:低保户 --text '%s'", text), 0);
	assert_int_equal(sscanf(out, "群发 %d 已建好", &id), 1);
	assert_int_equal(ctl(h, NULL, 0, "broadcast approve %d --by 张主任", id), 0);
	return id;
}

static void test_broadcast_delivered(void **state)
{
	struct hl h;
	struct gsm_inject_opts o;
	char out[8192], *phone, *modem, dir[400];
	int id, parts = 0, m = 0;
	long long mid;

	(void)state;
	/* 20 a minute per modem: one modem alone cannot send the 25 within the minute, so both do */
	assert_int_equal(hl_setup(&h, 2, NULL,
	    "broadcast = { per_modem_per_minute = 20; allowed_hours = \"\"; };\n"), 0);
	assert_int_equal(hl_start(&h, NULL), 0);
	roster(&h, 1, 25);
	/* 25 recipients, over broadcast.approval_over (20): its author cannot approve it */
	assert_int_equal(ctl(&h, out, sizeof(out), "broadcast create --by 李秀英 --to group:低保户 --text '{name}您好，低保年审下周开始。'"), 0);
	assert_non_null(strstr(out, "发给 25 人"));
	assert_non_null(strstr(out, "村民1您好，低保年审下周开始。"));
	assert_int_equal(sscanf(out, "群发 %d 已建好", &id), 1);
	assert_int_equal(ctl(&h, NULL, 0, "broadcast approve %d --by 李秀英", id), 1);
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM messages WHERE kind = 'broadcast'"), 0);
	assert_int_equal(ctl(&h, NULL, 0, "broadcast approve %d --by 张主任", id), 0);
	assert_true(hl_wait_count(&h, 25, WAIT_MS, "SELECT count(*) FROM messages WHERE kind = 'broadcast' AND status = 'sent'"));
	assert_true(hl_wait_count(&h, 1, WAIT_MS, "SELECT count(*) FROM broadcasts WHERE id = %d AND status = 'done'", id));
	/* one message each, through both modems */
	assert_int_equal(hl_int(&h, "SELECT count(DISTINCT phone) FROM messages WHERE kind = 'broadcast'"), 25);
	assert_int_equal(hl_int(&h, "SELECT count(DISTINCT modem) FROM messages WHERE kind = 'broadcast'"), 2);
	assert_true(hl_int(&h, "SELECT max(n) FROM (SELECT count(*) AS n FROM messages WHERE kind = 'broadcast'"
			       " GROUP BY modem)") <= 20);
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM messages WHERE kind = 'broadcast' AND text NOT LIKE '%%回复TD退订'"), 0);

	/* the status report the network sends back (the dummy phone gives every send reference 255) */
	mid = hl_int(&h, "SELECT min(id) FROM messages WHERE kind = 'broadcast'");
	phone = hl_text(&h, "SELECT phone FROM messages WHERE id = %lld", mid);
	modem = hl_text(&h, "SELECT modem FROM messages WHERE id = %lld", mid);
	assert_non_null(phone);
	assert_non_null(modem);
	assert_int_equal(sscanf(modem, "m%d", &m), 1);
	gsm_inject_defaults(&o);
	o.status_report = true;
	o.concat_ref = 255;
	snprintf(dir, sizeof(dir), "%s", h.phone[m]);
	assert_int_equal(gsm_dummy_inject(dir, phone, "x", &o, &parts, out, sizeof(out)), GSM_OK);
	assert_true(hl_wait_count(&h, 1, WAIT_MS, "SELECT count(*) FROM deliveries WHERE message_id = %lld AND state = 'delivered'", mid));
	assert_int_equal(ctl(&h, out, sizeof(out), "broadcast show %d", id), 0);
	assert_non_null(strstr(out, "已发出 24，已送达 1，没发成 0"));
	assert_int_equal(ctl(&h, out, sizeof(out), "messages --phone %s --format tsv", phone), 0);
	assert_non_null(strstr(out, "\tdelivered\t"));
	free(phone);
	free(modem);
	assert_int_equal(hl_stop(&h, SIGTERM, 5000), 0);
	hl_cleanup(&h);
}

static void test_optout_before_broadcast(void **state)
{
	struct hl h;
	char out[8192], *reply;
	int id;

	(void)state;
	assert_int_equal(hl_setup(&h, 1, NULL, EXTRA), 0);
	assert_int_equal(hl_start(&h, NULL), 0);
	roster(&h, 1, 3);
	assert_true(hl_sms(&h, 0, "13700000002", "退订", NULL) >= 1);
	reply = hl_wait_reply(&h, "+8613700000002", 1, WAIT_MS);
	assert_non_null(reply);
	assert_non_null(strstr(reply, "已退订"));
	free(reply);
	id = create_approved(&h, "通知：低保年审下周开始。");
	assert_true(hl_wait_count(&h, 1, WAIT_MS, "SELECT count(*) FROM broadcasts WHERE id = %d AND status = 'done'", id));
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM messages WHERE kind = 'broadcast' AND phone = '+8613700000002'"), 0);
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM messages WHERE kind = 'broadcast'"), 2);
	assert_int_equal(ctl(&h, out, sizeof(out), "broadcast show %d", id), 0);
	assert_non_null(strstr(out, "不发 1"));
	assert_non_null(strstr(out, "已退订"));
	/* 订阅 again: the next one reaches them */
	assert_true(hl_sms(&h, 0, "13700000002", "订阅", NULL) >= 1);
	reply = hl_wait_reply(&h, "+8613700000002", 2, WAIT_MS);
	assert_non_null(strstr(reply, "已订阅"));
	free(reply);
	id = create_approved(&h, "通知：年审改到下下周。");
	assert_true(hl_wait_count(&h, 1, WAIT_MS, "SELECT count(*) FROM broadcasts WHERE id = %d AND status = 'done'", id));
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM messages WHERE kind = 'broadcast' AND phone = '+8613700000002'"), 1);
	assert_int_equal(hl_stop(&h, SIGTERM, 5000), 0);
	hl_cleanup(&h);
}

/* Journal lines (ids sent) and how many were sent more than once. */
static int journal_duplicates(const char *path, int *lines)
{
	FILE *f = fopen(path, "r");
	long long *ids = NULL, v;
	size_t n = 0, cap = 0;
	int dups = 0;

	*lines = 0;
	if (f == NULL)
		return 0;
	while (fscanf(f, "%lld", &v) == 1) {
		for (size_t i = 0; i < n; i++)
			if (ids[i] == v) {
				dups++;
				break;
			}
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			ids = realloc(ids, cap * sizeof(*ids));
		}
		ids[n++] = v;
	}
	*lines = (int)n;
	free(ids);
	fclose(f);
	return dups;
}

static void test_exactly_once_across_kills(void **state)
{
	bool stress = getenv("HOTLINE_BCAST_STRESS") != NULL;
	int n = stress ? 2000 : 200, kills = stress ? 25 : 6;
	struct hl h;
	char journal[400];
	int id, lines = 0, dups;
	long long sent = 0;

	(void)state;
	assert_int_equal(hl_setup(&h, 2, NULL, EXTRA), 0);
	snprintf(journal, sizeof(journal), "%s/sent.journal", h.dir);
	setenv("HOTLINE_SENT_JOURNAL", journal, 1);
	assert_int_equal(hl_start(&h, NULL), 0);
	roster(&h, 1, n);
	id = create_approved(&h, "通知：低保年审下周开始，请带身份证到村委会。");
	for (int k = 0; k < kills; k++) {
		/* kill it while it sends: after the next few sends */
		long long want = sent + n / (kills + 2);
		if (want >= n)
			break;
		assert_true(hl_wait_count(&h, (int)want, WAIT_MS,
		    "SELECT count(*) FROM messages WHERE kind = 'broadcast' AND status = 'sent'"));
		hl_stop(&h, SIGKILL, 5000); /* its exit status is the signal's */
		sent = hl_int(&h, "SELECT count(*) FROM messages WHERE kind = 'broadcast' AND status = 'sent'");
		assert_int_equal(hl_start(&h, NULL), 0);
	}
	assert_true(hl_wait_count(&h, 1, 3 * WAIT_MS, "SELECT count(*) FROM broadcasts WHERE id = %d AND status = 'done'", id));
	assert_int_equal(hl_stop(&h, SIGTERM, 5000), 0);
	/* every recipient queued exactly once, every message sent */
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM messages WHERE kind = 'broadcast'"), n);
	assert_int_equal(hl_int(&h, "SELECT count(DISTINCT phone) FROM messages WHERE kind = 'broadcast'"), n);
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM messages WHERE kind = 'broadcast' AND status = 'sent'"), n);
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM broadcast_recipients WHERE broadcast_id = %d AND status = 'queued'"
				    " AND message_id IN (SELECT id FROM messages)", id), n);
	/* on the air: each at least once; a second time only for a send killed between the network
	 * taking it and the commit of that fact, each counted uncertain */
	dups = journal_duplicates(journal, &lines);
	assert_int_equal(lines - dups, n);
	assert_true(dups <= hl_int(&h, "SELECT coalesce(sum(uncertain), 0) FROM messages WHERE kind = 'broadcast'"));
	fprintf(stderr, "broadcast of %d, %d kills: %d sends on the air, %d sent twice (uncertain %lld)\n", n, kills,
	    lines, dups, hl_int(&h, "SELECT coalesce(sum(uncertain), 0) FROM messages WHERE kind = 'broadcast'"));
	unsetenv("HOTLINE_SENT_JOURNAL");
	hl_cleanup(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_broadcast_delivered),
		cmocka_unit_test(test_optout_before_broadcast),
		cmocka_unit_test(test_exactly_once_across_kills),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
