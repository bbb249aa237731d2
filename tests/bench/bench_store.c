/*
 * bench_store: messages per second through the engine with the store, every
 * message committed on its own as the daemon commits an SMS that arrives
 * alone: one transaction (BEGIN IMMEDIATE ... COMMIT) holding the part row
 * (the store-then-delete key, checked first, written linked to its message), the message row, the flood and loop checks,
 * the session, the reply in the outbox (and, where the menus ask for it, a
 * case and the staff alert), on a real SQLite file in WAL mode.
 *
 *   bench_store [-c CONFIG] [-s full|normal] [-b BATCH] [-t SECONDS] [-d DIR] CORPUS.tsv...
 *
 * -s: PRAGMA synchronous (default: the config's database.synchronous).
 * -b: messages per transaction (default 1: every message committed on its
 *     own, the figure the target is about). The modem thread commits all the
 *     parts one read of the phone returns (up to 64) in one transaction, so
 *     under a backlog the daemon works with -b 64; -b shows what that buys.
 *
 * The same corpus mix as bench_engine (bench_corpus.h); each pass uses new
 * senders and the clock handed to dispatch moves with the corpus schedule
 * (12 s between two messages of one conversation), so the shipped flood
 * limits apply as in service and are rarely hit. The database starts empty
 * and grows through the run (the WAL is checkpointed by SQLite as usual).
 * One untimed pass first. Prints one line of key=value.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_corpus.h"
#include "dispatch.h"
#include "log.h"
#include "store.h"
#include "store_parts.h"
#include "world.h"

struct tally {
	size_t answered, silent;
};

static int one(struct store *st, const struct world *w, int64_t now, const char *phone, const struct bench_msg *bm,
    struct tally *t, bool begin, bool commit)
{
	struct ctx c = { st, w->cfg, w->menu, now, "bench", 0 };
	struct inbound in = { CHANNEL_SMS, phone, bm->text, bm->len, 1, MSG_KIND_TEXT, now, NULL, NULL };
	struct store_part sp;
	struct dispatch_result r;
	bool inserted;

	if (begin && store_begin(st) < 0)
		return -1;
	memset(&sp, 0, sizeof(sp));
	sp.modem = "bench";
	sp.sender = phone;
	sp.smsc_time = now;
	sp.ref = -1;
	sp.total = 1;
	sp.seq = 1;
	sp.text = bm->text;
	sp.text_len = bm->len;
	sp.kind = "text";
	sp.received_at = now;
	/* as modem.c stores a lone SMS: the key checked, the message run, the part written linked to it */
	bool seen;
	if (store_part_seen(st, &sp, &seen) < 0 || seen)
		goto fail;
	if (dispatch_inbound(&c, &in, &r) < 0)
		goto fail;
	sp.message_id = r.in_id;
	if (store_part_add(st, &sp, &inserted) < 0 || !inserted) {
		dispatch_result_free(&r);
		goto fail;
	}
	if (r.reply)
		t->answered++;
	else
		t->silent++;
	dispatch_result_free(&r);
	return commit ? store_commit(st) : 0;
fail:
	store_rollback(st);
	return -1;
}

static size_t batch = 1;

static int pass_run(struct store *st, const struct world *w, const struct bench_corpus *c, int pass, int64_t t0,
    struct tally *t)
{
	char phone[24];

	for (size_t i = 0; i < c->n; i++) {
		const struct bench_msg *bm = &c->msgs[i];
		bool begin = i % batch == 0, commit = (i + 1) % batch == 0 || i + 1 == c->n;
		bench_phone(pass, bm->conv, phone, sizeof(phone));
		if (one(st, w, t0 + (int64_t)pass * c->span + bm->at, phone, bm, t, begin, commit) < 0) {
			fprintf(stderr, "bench_store: a database error at pass %d message %zu\n", pass, i);
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *cfg_path = "config/hotline.cfg", *sync = NULL, *dir = NULL;
	double seconds = 2.0;
	struct bench_corpus c;
	struct world *w;
	struct diag d;
	struct store *st;
	struct store_opts so = { 0 };
	struct tally t = { 0, 0 }, warm = { 0, 0 };
	char tmpl[] = "/tmp/bench-store-XXXXXX", err[512], *path;
	int ch, pass = 0, rc = 1;
	size_t msgs = 0;

	while ((ch = getopt(argc, argv, "c:s:b:t:d:")) != -1) {
		switch (ch) {
		case 'c':
			cfg_path = optarg;
			break;
		case 's':
			sync = optarg;
			break;
		case 'b':
			batch = (size_t)atoi(optarg);
			if (batch < 1)
				goto usage;
			break;
		case 't':
			seconds = atof(optarg);
			break;
		case 'd':
			dir = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (optind >= argc)
		goto usage;
	log_init(LOG_LVL_WARN, true);
	diag_init(&d);
	w = world_load(cfg_path, &d);
	if (w == NULL) {
		diag_print(&d, stderr);
		return 1;
	}
	diag_free(&d);
	if (sync == NULL)
		sync = w->cfg->db_synchronous; /* the shipped config's setting */
	if (bench_corpus_load(&c, (const char *const *)argv + optind, (size_t)(argc - optind)) < 0)
		return 1;
	if (dir == NULL && (dir = mkdtemp(tmpl)) == NULL) {
		perror("bench_store: mkdtemp");
		return 1;
	}
	path = xasprintf("%s/bench-%s.db", dir, sync);
	so.create = true;
	so.migrate = true;
	so.synchronous = sync;
	if (store_open(path, &so, &st, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_store: %s\n", err);
		return 1;
	}
	int64_t t0 = now_unix();
	if (pass_run(st, w, &c, pass++, t0, &warm) < 0)
		goto out;
	double s0 = bench_now(), cpu0 = bench_cpu(), s1;
	do {
		if (pass_run(st, w, &c, pass++, t0, &t) < 0)
			goto out;
		msgs += c.n;
		s1 = bench_now();
	} while (s1 - s0 < seconds);
	double cpu = bench_cpu() - cpu0;
	printf("store sync=%s batch=%zu msgs=%zu passes=%d wall_s=%.3f cpu_s=%.3f msgs_per_s=%.0f us_per_msg=%.1f "
	       "answered=%zu silent=%zu (flood/loop limits and non-text) journal=wal\n",
	    sync, batch, msgs, pass - 1, s1 - s0, cpu, (double)msgs / (s1 - s0), 1e6 * (s1 - s0) / (double)msgs, t.answered,
	    t.silent);
	rc = 0;
out:
	store_close(st);
	{
		const char *suffix[] = { "", "-wal", "-shm" };
		for (size_t i = 0; i < 3; i++) {
			char *f = xasprintf("%s%s", path, suffix[i]);
			unlink(f);
			free(f);
		}
		if (dir == tmpl)
			rmdir(tmpl);
	}
	free(path);
	bench_corpus_free(&c);
	world_release(w);
	return rc;
usage:
	fprintf(stderr, "usage: bench_store [-c CONFIG] [-s full|normal] [-b BATCH] [-t SECONDS] [-d DIR] CORPUS.tsv...\n");
	return 2;
}
