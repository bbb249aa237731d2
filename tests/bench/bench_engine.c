/*
 * bench_engine: messages per second through the pure engine (normalise ->
 * match -> render) on one thread, in memory: no database, no modem.
 *
 *   bench_engine [-c CONFIG] [-t SECONDS] CORPUS.tsv...
 *
 * Every message of the corpus mix (bench_corpus.h) goes through
 * engine_step() with its sender's session, which it moves exactly as the
 * daemon would (the session's last reply is kept, as dispatch keeps it for
 * 重复); the reply is then counted into SMS segments, the last thing done to
 * it before it is queued. Sessions start fresh at each pass. One untimed
 * pass warms the caches; then whole passes run until SECONDS have gone by.
 *
 * Prints one line of key=value: msgs_per_s (wall clock), cpu_msgs_per_s
 * (this thread's CPU time), agree (messages of the first pass that reached
 * the node the corpus expects, as a check that the real work was done).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_corpus.h"
#include "engine.h"
#include "log.h"
#include "phone.h"
#include "smstext.h"
#include "world.h"

static size_t run_pass(const struct menu *m, const struct bench_corpus *c, struct session *ses, int pass,
    size_t *agree, size_t *checked, size_t *segments)
{
	char phone[24], key[64];

	for (int i = 0; i < c->nconv; i++) {
		bench_phone(pass, i, phone, sizeof(phone));
		session_key(CHANNEL_SMS, NULL, phone, key, sizeof(key));
		session_clear(&ses[i]);
		session_init(&ses[i], key, phone, CHANNEL_SMS);
		ses[i].fresh = true;
	}
	for (size_t i = 0; i < c->n; i++) {
		const struct bench_msg *bm = &c->msgs[i];
		struct session *s = &ses[bm->conv];
		struct engine_in in = { .text = bm->text, .len = bm->len, .phone = s->phone, .country = PHONE_COUNTRY_DEFAULT };
		struct engine_out out;
		struct sms_count sc;

		engine_step(m, s, &in, &out);
		if (out.reply) {
			sms_count(out.reply, strlen(out.reply), &sc);
			*segments += sc.segments;
			session_set(&s->last_reply, out.reply);
		}
		s->fresh = false;
		if (out.action == ENGINE_FORM_DONE) {
			/* what dispatch does once the case is stored: the form is done, back one level */
			const struct menu_node *n = menu_node_at(m, out.node);
			session_form_reset(s);
			if (n->parent >= 0)
				snprintf(s->node, sizeof(s->node), "%s", menu_node_at(m, n->parent)->id);
		}
		if (agree && *bm->expected) {
			const char *id = menu_node_at(m, out.node)->id;
			(*checked)++;
			if (bench_expected_ok(bm->expected, id))
				(*agree)++;
			else if (getenv("BENCH_DEBUG"))
				fprintf(stderr, "bench_engine: \"%s\" reached %s, the corpus expects %s\n", bm->text, id,
				    bm->expected);
		}
		engine_out_free(&out);
	}
	return c->n;
}

int main(int argc, char **argv)
{
	const char *cfg_path = "config/hotline.cfg";
	double seconds = 2.0;
	struct bench_corpus c;
	struct world *w;
	struct diag d;
	struct session *ses;
	size_t agree = 0, checked = 0, segments = 0, msgs = 0;
	int ch, pass = 0;

	while ((ch = getopt(argc, argv, "c:t:")) != -1) {
		switch (ch) {
		case 'c':
			cfg_path = optarg;
			break;
		case 't':
			seconds = atof(optarg);
			break;
		default:
			fprintf(stderr, "usage: bench_engine [-c CONFIG] [-t SECONDS] CORPUS.tsv...\n");
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: bench_engine [-c CONFIG] [-t SECONDS] CORPUS.tsv...\n");
		return 2;
	}
	log_init(LOG_LVL_WARN, true);
	diag_init(&d);
	w = world_load(cfg_path, &d);
	if (w == NULL) {
		diag_print(&d, stderr);
		return 1;
	}
	diag_free(&d);
	if (bench_corpus_load(&c, (const char *const *)argv + optind, (size_t)(argc - optind)) < 0)
		return 1;
	ses = calloc((size_t)c.nconv, sizeof(*ses));

	/* warm-up pass, which also checks the answers against the corpus */
	run_pass(w->menu, &c, ses, pass++, &agree, &checked, &segments);

	double t0 = bench_now(), cpu0 = bench_cpu(), t1;
	segments = 0;
	do {
		msgs += run_pass(w->menu, &c, ses, pass++, NULL, NULL, &segments);
		t1 = bench_now();
	} while (t1 - t0 < seconds);
	double cpu = bench_cpu() - cpu0;

	printf("engine msgs=%zu passes=%d wall_s=%.3f cpu_s=%.3f msgs_per_s=%.0f cpu_msgs_per_s=%.0f "
	       "us_per_msg=%.2f corpus=%zu (files %zu, free %zu) senders=%d agree=%zu/%zu segments_per_reply=%.2f\n",
	    msgs, pass - 1, t1 - t0, cpu, (double)msgs / (t1 - t0), (double)msgs / cpu, 1e6 * (t1 - t0) / (double)msgs,
	    c.n, c.from_files, c.free_sentences, c.nconv, agree, checked, (double)segments / (double)msgs);

	for (int i = 0; i < c.nconv; i++)
		session_clear(&ses[i]);
	free(ses);
	bench_corpus_free(&c);
	world_release(w);
	return 0;
}
