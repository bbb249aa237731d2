/*
 * normalize: what a villager typed -> the form the menus match on
 * (menus/README.md, "How a message finds its node"). Table-driven cases,
 * then properties over random bytes: never longer than the input, always
 * valid UTF-8 with single spaces between ASCII words only, and a fixed point.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "normalize.h"
#include "utf8.h"

struct norm_case {
	const char *in, *want;
};

static void check_cases(const struct norm_case *cases, size_t n, unsigned flags)
{
	for (size_t i = 0; i < n; i++) {
		char *out = norm_dup(cases[i].in, strlen(cases[i].in), flags);
		if (strcmp(out, cases[i].want) != 0)
			fail_msg("norm(\"%s\") = \"%s\", want \"%s\"", cases[i].in, out, cases[i].want);
		free(out);
	}
}

static void test_fullwidth_and_case(void **state)
{
	static const struct norm_case cases[] = {
		{ "ＤＢ", "db" },
		{ "ｄｉｂａｏ", "dibao" },
		{ "６", "6" },
		{ "ＡＢＣ１２３", "abc123" },
		{ "HeLLo", "hello" },
		{ "ZTC", "ztc" },
		{ "Ｗｏ　Ｙａｏ　ＤＢ", "wo yao db" }, /* ideographic spaces between full-width words */
		{ "回复１", "回复1" },
		{ "É", "É" }, /* only ASCII letters fold: no surprise for other scripts */
	};

	(void)state;
	check_cases(cases, sizeof(cases) / sizeof(cases[0]), 0);
}

static void test_circled_digits(void **state)
{
	static const struct norm_case cases[] = {
		{ "①", "1" }, { "⑤", "5" }, { "⑩", "10" }, { "⑳", "20" },
		{ "⑴", "1" }, { "⒇", "20" }, { "⒈", "1" },
		{ "❶", "1" }, { "❿", "10" }, { "➀", "1" }, { "➊", "1" }, { "➓", "10" },
		{ "⓪", "0" },
		{ "选②", "选2" },
		{ "①②", "12" },
	};

	(void)state;
	check_cases(cases, sizeof(cases) / sizeof(cases[0]), 0);
}

static void test_chinese_numerals(void **state)
{
	static const struct norm_case cases[] = {
		{ "一", "1" },
		{ "十", "10" },
		{ "十五", "15" },
		{ "二十", "20" },
		{ "八十五", "85" },
		{ "八十五岁", "85岁" },
		{ "一百零二", "102" },
		{ "一百一十", "110" },
		{ "三百", "300" },
		{ "一千二百", "1200" },
		{ "二〇二六", "2026" },
		{ "二零二六年", "2026年" },
		{ "一二三", "123" },
		{ "两", "2" },
		{ "两百", "200" },
		{ "五保户", "5保户" },
		{ "第三个", "第3个" },
		{ "叁", "3" }, /* the financial forms */
		{ "壹佰", "100" },
		/* 百 and 千 with no digit before them are words, not numbers */
		{ "百姓", "百姓" },
		{ "千万", "千万" },
		{ "老百姓", "老百姓" },
		/* a numeral run ends at a space: two numbers */
		{ "十 五", "10 5" },
	};

	(void)state;
	check_cases(cases, sizeof(cases) / sizeof(cases[0]), 0);
}

static void test_dropped(void **state)
{
	static const struct norm_case cases[] = {
		{ "低保？", "低保" },
		{ "低保怎么申请？！", "低保怎么申请" },
		{ "「低保」。，、；：", "低保" },
		{ "低保😀👍", "低保" },
		{ "😀", "" },
		{ "\xff\xfe低保\xc0", "低保" },           /* invalid UTF-8 */
		{ "\xe4\xbd", "" },                        /* a truncated sequence */
		{ "\xed\xa0\x80x", "x" },                  /* a surrogate */
		{ "\xc0\xaf", "" },                        /* an overlong '/' */
		{ "...!!!", "" },
		{ "   ", "" },
		{ "", "" },
		{ "低保\t\r\n咋办", "低保咋办" },
		{ "★低保★", "低保" },
		{ "低保~~~", "低保" },
	};

	(void)state;
	check_cases(cases, sizeof(cases) / sizeof(cases[0]), 0);
}

static void test_one_space_rule(void **state)
{
	static const struct norm_case cases[] = {
		{ "wo yao db", "wo yao db" },
		{ "wo   yao,,db", "wo yao db" },
		{ "  db  ", "db" },
		{ "a,b", "a b" },
		{ "1 2", "1 2" },
		{ "低保 db", "低保db" },  /* no space next to a Chinese character */
		{ "db 低保", "db低保" },
		{ "低 保", "低保" },
		{ "a😀b", "a b" },       /* a dropped emoji separates like a space */
		{ "ab", "ab" },
	};

	(void)state;
	check_cases(cases, sizeof(cases) / sizeof(cases[0]), 0);
}

static void test_keep_hash(void **state)
{
	static const struct norm_case with[] = { { "8#岁", "8#岁" }, { "##", "##" }, { "Ａ#", "a#" } };
	static const struct norm_case without[] = { { "8#岁", "8岁" }, { "##", "" } };

	(void)state;
	check_cases(with, sizeof(with) / sizeof(with[0]), NORM_KEEP_HASH);
	check_cases(without, sizeof(without) / sizeof(without[0]), 0);
}

/* norm_text writes exactly the returned length and a NUL, within len + 1 bytes. */
static void test_buffer_contract(void **state)
{
	char out[32];
	const char *in = "八十五岁ＡＢ";
	size_t len = strlen(in), n;

	(void)state;
	memset(out, 'X', sizeof(out));
	n = norm_text(in, len, out, 0);
	assert_int_equal(n, strlen("85岁ab"));
	assert_string_equal(out, "85岁ab");
	for (size_t i = len + 1; i < sizeof(out); i++)
		assert_int_equal(out[i], 'X');
	/* len bounds the input: a NUL inside is a separator, not the end */
	n = norm_text("ab\0cd", 5, out, 0);
	assert_string_equal(out, "ab cd");
	assert_int_equal(n, 5);
}

/* ---- properties ---------------------------------------------------------------------- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 32);
}

/* Pieces that exercise every rule, glued at random (and random bytes between). */
static const char *const pieces[] = {
	"一", "二", "十", "百", "千", "零", "〇", "两", "八十五", "一百零二", "①", "⑳", "❶", "⒇",
	"Ａ", "ｚ", "１", "A", "z", "9", " ", "　", ",", "。", "？", "#", "😀", "低", "保", "é", "\n",
	"\xff", "\xe4\xbd", "\0", "~", "十十十十十十十十十十十十十十十十十十十十十十十十十十十十十十十十十十",
};

static void check_properties(const char *in, size_t len, unsigned flags)
{
	char *out = malloc(len + 1);
	char *again;
	size_t n = norm_text(in, len, out, flags);

	if (n > len)
		fail_msg("output of %zu bytes for an input of %zu", n, len);
	assert_int_equal(strlen(out), n);
	if (!utf8_valid(out, n))
		fail_msg("output is not valid UTF-8 (input of %zu bytes)", len);
	if (n > 0 && (out[0] == ' ' || out[n - 1] == ' '))
		fail_msg("space at an end: \"%s\"", out);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)out[i];
		if (c >= 'A' && c <= 'Z')
			fail_msg("upper case left in \"%s\"", out);
		if (c == ' ') {
			unsigned char a = (unsigned char)out[i - 1], b = (unsigned char)out[i + 1];
			bool an = (a >= '0' && a <= '9') || (a >= 'a' && a <= 'z') || a == '#';
			bool bn = (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || b == '#';
			if (!an || !bn)
				fail_msg("a space not between two ASCII letters or digits in \"%s\"", out);
		}
		if (c == '#' && !(flags & NORM_KEEP_HASH))
			fail_msg("# kept without NORM_KEEP_HASH in \"%s\"", out);
	}
	/* a normalised text is its own normal form */
	again = norm_dup(out, n, flags);
	if (strcmp(again, out) != 0)
		fail_msg("not a fixed point: \"%s\" -> \"%s\"", out, again);
	free(again);
	free(out);
}

static void test_random_bytes(void **state)
{
	char buf[256];

	(void)state;
	for (int iter = 0; iter < 20000; iter++) {
		size_t len = rnd() % sizeof(buf);
		for (size_t i = 0; i < len; i++)
			buf[i] = (char)(rnd() & 0xFF);
		check_properties(buf, len, iter & 1 ? NORM_KEEP_HASH : 0);
	}
}

static void test_random_pieces(void **state)
{
	char buf[600];

	(void)state;
	for (int iter = 0; iter < 20000; iter++) {
		size_t len = 0, want = rnd() % 12;
		for (size_t k = 0; k < want; k++) {
			size_t pi = rnd() % (sizeof(pieces) / sizeof(pieces[0]));
			size_t pl = pieces[pi][0] == '\0' ? 1 : strlen(pieces[pi]);
			if (len + pl > sizeof(buf))
				break;
			memcpy(buf + len, pieces[pi], pl);
			len += pl;
		}
		check_properties(buf, len, iter & 1 ? NORM_KEEP_HASH : 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fullwidth_and_case),
		cmocka_unit_test(test_circled_digits),
		cmocka_unit_test(test_chinese_numerals),
		cmocka_unit_test(test_dropped),
		cmocka_unit_test(test_one_space_rule),
		cmocka_unit_test(test_keep_hash),
		cmocka_unit_test(test_buffer_contract),
		cmocka_unit_test(test_random_bytes),
		cmocka_unit_test(test_random_pieces),
	};

	return cmocka_run_group_tests_name("normalize", tests, NULL, NULL);
}
