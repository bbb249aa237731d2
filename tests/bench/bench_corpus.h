/*
 * bench_corpus: the message mix of the engine and store benchmarks.
 *
 * Conversations from the corpora (tests/corpus/villager-corpus.tsv and
 * ../shared/samples/villager-messages.tsv: lines of the same phone are one
 * conversation, in file order) plus free sentences as villagers write them
 * (one message each, from a sender of their own). One "pass" is every
 * message once, in the order they would arrive if every conversation started
 * at its own moment within the pass and its messages followed 12 seconds
 * apart: so conversations interleave as on a real hotline, and no sender
 * goes over the shipped reply limits (6 a minute) or the session timeout.
 */
#ifndef HOTLINE_BENCH_CORPUS_H
#define HOTLINE_BENCH_CORPUS_H

#include <stddef.h>
#include <stdint.h>

struct bench_msg {
	int conv;            /* conversation index: the sender */
	const char *text;
	size_t len;
	const char *expected; /* the node (or prefix, a|b) the corpus expects; "" for free sentences */
	int64_t at;          /* seconds after the start of the pass */
};

struct bench_corpus {
	struct bench_msg *msgs; /* in arrival order */
	size_t n;
	int nconv;
	int64_t span;           /* seconds one pass covers */
	size_t from_files, free_sentences;
};

/* Load the corpora (paths; missing files are an error). Returns 0 or -1 (with a message on stderr). */
int bench_corpus_load(struct bench_corpus *c, const char *const *paths, size_t npaths);
void bench_corpus_free(struct bench_corpus *c);

/* The sender of conversation conv in pass `pass`: a mobile number of its own (buf >= 16 bytes). */
void bench_phone(int pass, int conv, char *buf, size_t len);

/* Does node id match a corpus expectation ("dibao" accepts "dibao.apply"; a|b either)? */
int bench_expected_ok(const char *expected, const char *node);

/* Seconds of a monotonic clock, and of this thread's CPU. */
double bench_now(void);
double bench_cpu(void);

#endif
