/*
 * fuzz_staffcmd: conversations of any bytes through dispatch, on an
 * in-memory database with the shipped config and menus: staff commands
 * (cases_command, reached before the menus), forms, cases, feedback,
 * status queries, limits, loops.
 *
 * Input: lines; the first byte of a line picks the sender (staff, the
 * supervisor, two villagers, a villager in another number format, a short
 * code) and whether it comes by SMS or USSD, the rest is the text (any
 * bytes). Each input runs in one transaction that is rolled back, so every
 * input starts from the same empty database.
 *
 * Promises checked: dispatch never fails on input; a message is stored and
 * either answered with valid UTF-8 text or silent with a reason; a reply to
 * one villager never carries the other villager's phone number or case
 * numbers (unless the reader typed them).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "fuzz.h"
#include "store.h"
#include "store_cases.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FS_NOW 1795000000 /* a fixed Tuesday morning: runs are reproducible */

static const char *const fs_senders[] = {
	"13900000001",    /* staff 王建国 (duty) */
	"13900000002",    /* staff 李秀英 */
	"13900000003",    /* supervisor 张主任 */
	"13700000001",    /* villager A */
	"+8613700000001", /* villager A, other format */
	"13700000002",    /* villager B */
	"10086",          /* a short code */
	"13800000000",    /* another villager */
};
#define FS_NSENDERS (sizeof(fs_senders) / sizeof(fs_senders[0]))

static struct store *fs_store(void)
{
	static struct store *st;

	if (st == NULL) {
		struct store_opts o = { 0 };
		char err[256];
		o.create = true;
		o.migrate = true;
		o.synchronous = "normal";
		if (store_open(":memory:", &o, &st, err, sizeof(err)) < 0) {
			fprintf(stderr, "fuzz_staffcmd: %s\n", err);
			abort();
		}
	}
	return st;
}

struct fs_leak {
	struct store *st;
	const char *reply;  /* to one villager */
	const char *typed;  /* everything that villager sent in this input */
	size_t typed_len;
};

/* Does text show number on its own (not as the tail of a suggestion's YJ number)? */
static bool fs_shows_number(const char *text, const char *number)
{
	size_t n = strlen(number);

	for (const char *p = strstr(text, number); p != NULL; p = strstr(p + 1, number)) {
		bool in_suggestion = p - text >= 2 && p[-2] == 'Y' && p[-1] == 'J';
		bool longer = (p > text && p[-1] >= '0' && p[-1] <= '9') || (p[n] >= '0' && p[n] <= '9');
		if (!in_suggestion && !longer)
			return true;
	}
	return false;
}

static int fs_case_not_in_reply(const struct store_case *k, void *arg)
{
	const struct fs_leak *l = arg;

	/* the other villager's case number, unless this one typed it themselves */
	if (memmem(l->typed, l->typed_len, k->number, strlen(k->number)) != NULL)
		return 0;
	FUZZ_CHECK(!fs_shows_number(l->reply, k->number));
	return 0;
}

/* A reply to villager A (or B) never shows B's (or A's) cases or number. */
static void fs_check_privacy(struct store *st, const char *to, const char *reply, const char *typed, size_t typed_len)
{
	const char *other;
	struct store_case_filter f = { 0 };
	struct fs_leak l = { st, reply, typed, typed_len };

	if (strstr(to, "13700000001"))
		other = "13700000002";
	else if (strstr(to, "13700000002"))
		other = "13700000001";
	else
		return;
	if (memmem(typed, typed_len, other, strlen(other)) == NULL)
		FUZZ_CHECK(strstr(reply, other) == NULL);
	f.applicant = other;
	FUZZ_CHECK(store_case_each(st, &f, fs_case_not_in_reply, &l) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct world *w = fuzz_world();
	struct store *st = fs_store();
	size_t i = 0;
	int step = 0;
	/* what each villager typed so far (a reply may show what its reader typed) */
	char *typed[2] = { malloc(size + 1), malloc(size + 1) };
	size_t typed_len[2] = { 0, 0 };

	if (store_begin(st) < 0)
		abort();
	while (i < size && step < 64) {
		size_t end = i;
		unsigned sel;
		struct inbound in;
		struct dispatch_result r;
		struct ctx c = { st, w->cfg, w->menu, FS_NOW + step * 30, "dummy", 0 };
		char session[32];

		while (end < size && data[end] != '\n')
			end++;
		sel = data[i];
		memset(&in, 0, sizeof(in));
		in.phone = fs_senders[sel % FS_NSENDERS];
		in.text = (const char *)data + i + 1;
		in.len = end > i ? end - i - 1 : 0;
		in.parts = 1;
		in.kind = MSG_KIND_TEXT;
		in.smsc_time = c.now;
		if (sel & 0x80) {
			snprintf(session, sizeof(session), "fz-%u", (sel >> 3) & 3);
			in.channel = CHANNEL_USSD;
			in.ussd_session = session;
			c.modem = NULL;
		} else {
			in.channel = CHANNEL_SMS;
		}
		if (end < size && i == end) /* an empty line: a message with no text */
			in.len = 0;
		int who = strstr(in.phone, "13700000001") ? 0 : strstr(in.phone, "13700000002") ? 1 : -1;
		if (who >= 0) {
			memcpy(typed[who] + typed_len[who], in.text, in.len);
			typed_len[who] += in.len;
		}
		FUZZ_CHECK(dispatch_inbound(&c, &in, &r) == 0);
		FUZZ_CHECK(r.in_id > 0);
		if (fuzz_verbose())
			fprintf(stderr, "%s %s: \"%.*s\" -> %s\n%s\n", channel_name(in.channel), in.phone, (int)in.len, in.text,
			    r.reply ? r.node : r.why_silent, r.reply ? r.reply : "");
		if (r.reply != NULL) {
			FUZZ_CHECK(utf8_valid(r.reply, strlen(r.reply)));
			FUZZ_CHECK(*r.reply != '\0');
			if (who >= 0)
				fs_check_privacy(st, in.phone, r.reply, typed[who], typed_len[who]);
		} else {
			FUZZ_CHECK(r.why_silent != NULL);
		}
		dispatch_result_free(&r);
		i = end + 1;
		step++;
	}
	store_rollback(st);
	free(typed[0]);
	free(typed[1]);
	return 0;
}
