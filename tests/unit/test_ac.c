/*
 * ac: the Aho-Corasick automaton that finds every keyword in one pass. Every
 * occurrence must be reported once, with the offset just past it, and
 * nothing else: checked on the textbook he/she/his/hers case, on UTF-8
 * keywords, and against a naive scan on random patterns and texts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ac.h"

struct hit {
	int id;
	size_t end;
};

struct hits {
	struct hit *v;
	size_t n, cap;
	size_t stop_after; /* 0: never stop */
};

static int collect(int id, size_t end, void *arg)
{
	struct hits *h = arg;

	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 16;
		h->v = realloc(h->v, h->cap * sizeof(*h->v));
	}
	h->v[h->n++] = (struct hit){ id, end };
	return h->stop_after && h->n >= h->stop_after;
}

static int cmp_hit(const void *a, const void *b)
{
	const struct hit *x = a, *y = b;

	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return x->id - y->id;
}

static void sort_hits(struct hits *h)
{
	if (h->n)
		qsort(h->v, h->n, sizeof(*h->v), cmp_hit);
}

static struct ac *build(const char *const *pats, size_t n)
{
	struct ac *a = ac_new();

	for (size_t i = 0; i < n; i++)
		ac_add(a, pats[i], strlen(pats[i]), (int)i);
	ac_build(a);
	return a;
}

/* Every occurrence by brute force: for each pattern, each start. */
static void naive(const char *const *pats, const size_t *lens, size_t np, const char *text, size_t n, struct hits *h)
{
	for (size_t p = 0; p < np; p++)
		for (size_t s = 0; s + lens[p] <= n; s++)
			if (memcmp(text + s, pats[p], lens[p]) == 0)
				collect((int)p, s + lens[p], h);
}

static void expect_hits(const char *const *pats, size_t np, const char *text, const struct hit *want, size_t nwant)
{
	struct ac *a = build(pats, np);
	struct hits h = { 0 };

	ac_search(a, text, strlen(text), collect, &h);
	sort_hits(&h);
	if (h.n != nwant)
		fail_msg("\"%s\": %zu matches, want %zu", text, h.n, nwant);
	for (size_t i = 0; i < nwant; i++)
		if (h.v[i].id != want[i].id || h.v[i].end != want[i].end)
			fail_msg("\"%s\": match %zu is (%d, %zu), want (%d, %zu)", text, i, h.v[i].id, h.v[i].end,
			    want[i].id, want[i].end);
	free(h.v);
	ac_free(a);
}

static void test_classic(void **state)
{
	static const char *const pats[] = { "he", "she", "his", "hers" };
	/* "ushers": she and he both end at 4, hers at 6 */
	static const struct hit ushers[] = { { 0, 4 }, { 1, 4 }, { 3, 6 } };
	/* "ahishers": his@4, she@6, he@6, hers@8 */
	static const struct hit ahishers[] = { { 2, 4 }, { 0, 6 }, { 1, 6 }, { 3, 8 } };
	static const struct hit hehehe[] = { { 0, 2 }, { 0, 4 }, { 0, 6 } };

	(void)state;
	expect_hits(pats, 4, "ushers", ushers, 3);
	expect_hits(pats, 4, "ahishers", ahishers, 4);
	expect_hits(pats, 4, "hehehe", hehehe, 3);
	expect_hits(pats, 4, "", NULL, 0);
	expect_hits(pats, 4, "xyz hs sh eh", NULL, 0); /* no false matches */
}

static void test_overlapping_nested(void **state)
{
	static const char *const pats[] = { "a", "aa", "aaa", "b", "ab", "bab" };
	/* "aaab": a@1,2,3; aa@2,3; aaa@3; b@4; ab@4 */
	static const struct hit want[] = { { 0, 1 }, { 0, 2 }, { 1, 2 }, { 0, 3 }, { 1, 3 }, { 2, 3 }, { 3, 4 }, { 4, 4 } };

	(void)state;
	expect_hits(pats, 6, "aaab", want, sizeof(want) / sizeof(want[0]));
}

static void test_utf8(void **state)
{
	static const char *const pats[] = { "低保", "保障", "最低生活保障", "生活", "低" };
	const char *text = "我想问最低生活保障和低保";
	/* byte offsets: 我想问 = 9 bytes; 最低生活保障 ends at 27; 低保 at the end ends at 36 */
	static const struct hit want[] = {
		{ 4, 15 },  /* 低 in 最低 */
		{ 3, 21 },  /* 生活 */
		{ 1, 27 },  /* 保障 */
		{ 2, 27 },  /* 最低生活保障 */
		{ 4, 33 },  /* 低 of 低保 */
		{ 0, 36 },  /* 低保 */
	};

	(void)state;
	expect_hits(pats, 5, text, want, sizeof(want) / sizeof(want[0]));
	/* a pattern that shares a UTF-8 lead byte with the text never matches half a character */
	{
		static const char *const p2[] = { "保" };
		expect_hits(p2, 1, "宝堡葆", NULL, 0);
	}
}

static void test_duplicates_and_bytes(void **state)
{
	/* the same pattern under two ids is reported for both; any byte may be in a pattern */
	struct ac *a = ac_new();
	struct hits h = { 0 };
	const char text[] = "x\0\xff" "db";

	(void)state;
	ac_add(a, "db", 2, 7);
	ac_add(a, "db", 2, 9);
	ac_add(a, "\0\xff", 2, 3);
	ac_build(a);
	ac_search(a, text, sizeof(text) - 1, collect, &h);
	sort_hits(&h);
	assert_int_equal(h.n, 3);
	assert_int_equal(h.v[0].id, 3);
	assert_int_equal(h.v[0].end, 3);
	assert_int_equal(h.v[1].id, 7);
	assert_int_equal(h.v[1].end, 5);
	assert_int_equal(h.v[2].id, 9);
	assert_int_equal(h.v[2].end, 5);
	free(h.v);
	ac_free(a);
}

static void test_stop_and_states(void **state)
{
	static const char *const pats[] = { "a" };
	struct ac *a = build(pats, 1), *empty = ac_new();
	struct hits h = { 0 };

	(void)state;
	h.stop_after = 2;
	ac_search(a, "aaaaa", 5, collect, &h);
	assert_int_equal(h.n, 2); /* non-zero from the callback stops the search */
	assert_int_equal(ac_states(a), 2);
	free(h.v);
	ac_free(a);

	/* an automaton with no patterns finds nothing */
	ac_build(empty);
	memset(&h, 0, sizeof(h));
	ac_search(empty, "anything", 8, collect, &h);
	assert_int_equal(h.n, 0);
	assert_int_equal(ac_states(empty), 1);
	ac_free(empty);
	ac_free(NULL);
}

static uint64_t rng_state = 0xD1B54A32D192ED03ull;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 32);
}

/* Random patterns over small alphabets (many overlaps) against a naive scan. */
static void test_random_against_naive(void **state)
{
	static const char *const alphabets[] = { "ab", "abc", "ab\xe4\xbd\x8e", "aaab" };

	(void)state;
	for (int iter = 0; iter < 2000; iter++) {
		const char *alpha = alphabets[iter % 4];
		size_t al = strlen(alpha), np = 1 + rnd() % 30, tl = rnd() % 200;
		char *pats[32], text[200];
		size_t lens[32];
		struct ac *a = ac_new();
		struct hits got = { 0 }, want = { 0 };

		for (size_t p = 0; p < np; p++) {
			lens[p] = 1 + rnd() % 6;
			pats[p] = malloc(lens[p] + 1);
			for (size_t k = 0; k < lens[p]; k++)
				pats[p][k] = alpha[rnd() % al];
			pats[p][lens[p]] = '\0';
			ac_add(a, pats[p], lens[p], (int)p);
		}
		ac_build(a);
		for (size_t k = 0; k < tl; k++)
			text[k] = alpha[rnd() % al];
		ac_search(a, text, tl, collect, &got);
		naive((const char *const *)pats, lens, np, text, tl, &want);
		sort_hits(&got);
		sort_hits(&want);
		if (got.n != want.n)
			fail_msg("iteration %d: %zu matches, the naive scan finds %zu", iter, got.n, want.n);
		for (size_t i = 0; i < got.n; i++)
			if (got.v[i].id != want.v[i].id || got.v[i].end != want.v[i].end)
				fail_msg("iteration %d: match %zu is (%d, %zu), the naive scan says (%d, %zu)", iter, i,
				    got.v[i].id, got.v[i].end, want.v[i].id, want.v[i].end);
		for (size_t p = 0; p < np; p++)
			free(pats[p]);
		free(got.v);
		free(want.v);
		ac_free(a);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classic),
		cmocka_unit_test(test_overlapping_nested),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_duplicates_and_bytes),
		cmocka_unit_test(test_stop_and_states),
		cmocka_unit_test(test_random_against_naive),
	};

	return cmocka_run_group_tests_name("ac", tests, NULL, NULL);
}
