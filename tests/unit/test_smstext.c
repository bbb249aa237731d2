/*
 * smstext: the one place that says how long a text is as SMS. GSM-7 or
 * UCS-2, septets and UTF-16 units, segments on both sides of every limit,
 * and USSD screens (sms_split_screens) checked by their invariants on fixed
 * and random texts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "smstext.h"
#include "utf8.h"

static const char *const MORE_CN = "98更多 0返回"; /* UCS-2: 7 characters */
static const char *const MORE_EN = "98 more";      /* GSM-7: 7 septets */

/* s repeated n times; caller frees. */
static char *rep(const char *s, size_t n)
{
	size_t l = strlen(s);
	char *out = malloc(l * n + 1);

	for (size_t i = 0; i < n; i++)
		memcpy(out + i * l, s, l);
	out[l * n] = '\0';
	return out;
}

static struct sms_count count_of(const char *s)
{
	struct sms_count c;

	sms_count(s, strlen(s), &c);
	assert_int_equal(sms_is_gsm7(s, strlen(s)), c.coding == SMS_CODING_GSM7);
	return c;
}

/* ---- coding ------------------------------------------------------------------------- */

static void test_coding(void **state)
{
	static const struct {
		const char *text;
		enum sms_coding coding;
		size_t chars, units;
	} cases[] = {
		{ "", SMS_CODING_GSM7, 0, 0 },
		{ "Hello, world! 0-9 @$_", SMS_CODING_GSM7, 21, 21 },
		{ "line\nbreak\r", SMS_CODING_GSM7, 11, 11 },
		/* the extension table costs an escape septet each */
		{ "€", SMS_CODING_GSM7, 1, 2 },
		{ "^{}[]~|\\", SMS_CODING_GSM7, 8, 16 },
		{ "a€b", SMS_CODING_GSM7, 3, 4 },
		/* the rest of the default alphabet beyond ASCII: one septet each */
		{ "£¥èéùìòÇØøÅåΔΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà", SMS_CODING_GSM7, 39, 39 },
		/* not in GSM-7 at all */
		{ "`", SMS_CODING_UCS2, 1, 1 },
		{ "a`b", SMS_CODING_UCS2, 3, 3 },
		{ "\t", SMS_CODING_UCS2, 1, 1 },
		{ "ç", SMS_CODING_UCS2, 1, 1 },
		{ "低保", SMS_CODING_UCS2, 2, 2 },
		{ "ok低保€", SMS_CODING_UCS2, 5, 5 }, /* UCS-2: € is one unit there */
		/* outside the BMP: two UTF-16 units */
		{ "😀", SMS_CODING_UCS2, 1, 2 },
		{ "a😀b", SMS_CODING_UCS2, 3, 4 },
		/* invalid bytes count as U+FFFD each */
		{ "\xff\xfe", SMS_CODING_UCS2, 2, 2 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sms_count c = count_of(cases[i].text);
		if (c.coding != cases[i].coding || c.chars != cases[i].chars || c.units != cases[i].units)
			fail_msg("\"%s\": coding %d chars %zu units %zu, want %d %zu %zu", cases[i].text, c.coding,
			    c.chars, c.units, cases[i].coding, cases[i].chars, cases[i].units);
	}
}

/* ---- segments on both sides of each limit ---------------------------------------------- */

static void check_segments(const char *unit, size_t n, enum sms_coding coding, size_t want)
{
	char *s = rep(unit, n);
	struct sms_count c = count_of(s);

	if (c.coding != coding || c.segments != want)
		fail_msg("%zu x \"%s\": coding %d, %zu segments (units %zu); want coding %d, %zu segments", n, unit,
		    c.coding, c.segments, c.units, coding, want);
	free(s);
}

static void test_segments_gsm7(void **state)
{
	(void)state;
	check_segments("a", 0, SMS_CODING_GSM7, 1);
	check_segments("a", 1, SMS_CODING_GSM7, 1);
	check_segments("a", 160, SMS_CODING_GSM7, 1);
	check_segments("a", 161, SMS_CODING_GSM7, 2);
	check_segments("a", 306, SMS_CODING_GSM7, 2); /* 153 x 2 */
	check_segments("a", 307, SMS_CODING_GSM7, 3);
	check_segments("a", 459, SMS_CODING_GSM7, 3); /* 153 x 3 */
	check_segments("a", 460, SMS_CODING_GSM7, 4);
	/* extension characters count double: 80 x € is 160 septets */
	check_segments("€", 80, SMS_CODING_GSM7, 1);
	check_segments("€", 81, SMS_CODING_GSM7, 2);
	/* in parts an extension character is never split: 76 a part (152 septets), as libgammu sends */
	check_segments("{", 152, SMS_CODING_GSM7, 2);
	check_segments("{", 153, SMS_CODING_GSM7, 3);
}

static void test_segments_ucs2(void **state)
{
	(void)state;
	check_segments("低", 1, SMS_CODING_UCS2, 1);
	check_segments("低", 70, SMS_CODING_UCS2, 1);
	check_segments("低", 71, SMS_CODING_UCS2, 2);
	check_segments("低", 134, SMS_CODING_UCS2, 2); /* 67 x 2: the menu page budget */
	check_segments("低", 135, SMS_CODING_UCS2, 3);
	check_segments("低", 201, SMS_CODING_UCS2, 3); /* 67 x 3 */
	check_segments("低", 202, SMS_CODING_UCS2, 4);
	/* an emoji is two units: 35 fill one SMS, 36 do not */
	check_segments("😀", 35, SMS_CODING_UCS2, 1);
	check_segments("😀", 36, SMS_CODING_UCS2, 2);
	/* in parts a surrogate pair is never split: 33 emoji a part (66 units), as libgammu sends */
	check_segments("😀", 66, SMS_CODING_UCS2, 2);
	check_segments("😀", 67, SMS_CODING_UCS2, 3);
	/* one Chinese character turns 160 letters into UCS-2 */
	{
		char *s = rep("a", 69);
		char *t = malloc(strlen(s) + 5); /* "a" + "低" + NUL */
		struct sms_count c;
		sprintf(t, "%s低", s);
		c = count_of(t);
		assert_int_equal(c.coding, SMS_CODING_UCS2);
		assert_int_equal(c.units, 70);
		assert_int_equal(c.segments, 1);
		sprintf(t, "%sa低", s);
		c = count_of(t);
		assert_int_equal(c.segments, 2);
		free(s);
		free(t);
	}
}

static void test_sms_segments(void **state)
{
	(void)state;
	assert_int_equal(sms_segments(SMS_CODING_GSM7, 0), 1);
	assert_int_equal(sms_segments(SMS_CODING_GSM7, SMS_GSM7_SINGLE), 1);
	assert_int_equal(sms_segments(SMS_CODING_GSM7, SMS_GSM7_SINGLE + 1), 2);
	assert_int_equal(sms_segments(SMS_CODING_GSM7, 2 * SMS_GSM7_PART + 1), 3);
	assert_int_equal(sms_segments(SMS_CODING_UCS2, 0), 1);
	assert_int_equal(sms_segments(SMS_CODING_UCS2, SMS_UCS2_SINGLE), 1);
	assert_int_equal(sms_segments(SMS_CODING_UCS2, SMS_UCS2_SINGLE + 1), 2);
	assert_int_equal(sms_segments(SMS_CODING_UCS2, 3 * SMS_UCS2_PART), 3);
}

/* ---- USSD screens ---------------------------------------------------------------------- */

/* Does this screen's text (span plus, unless last, "\n" + more) fit the limits? */
static bool screen_ok(const char *text, const struct sms_span *sp, bool last, const char *more, size_t g7,
    size_t u2)
{
	size_t ml = strlen(more);
	char *screen = malloc(sp->len + ml + 2);
	struct sms_count c;
	bool ok;

	memcpy(screen, text + sp->off, sp->len);
	if (!last) {
		screen[sp->len] = '\n';
		memcpy(screen + sp->len + 1, more, ml);
		screen[sp->len + 1 + ml] = '\0';
	} else {
		screen[sp->len] = '\0';
	}
	sms_count(screen, strlen(screen), &c);
	ok = c.units <= (c.coding == SMS_CODING_GSM7 ? g7 : u2);
	free(screen);
	return ok;
}

/*
 * The invariants of a split: the spans cover the text in order (a line break
 * between two screens is the only byte left out), none starts or ends inside
 * a UTF-8 sequence, every screen fits (a single character that cannot fit is
 * the only exception), and the count returned is the number of spans.
 */
static size_t check_split(const char *text, size_t len, const char *more, size_t g7, size_t u2)
{
	struct sms_span sp[512];
	size_t n = sms_split_screens(text, len, more, g7, u2, sp, 512), pos = 0;

	assert_true(n >= 1 && n <= 512);
	for (size_t i = 0; i < n; i++) {
		bool last = i + 1 == n;
		if (sp[i].off != pos)
			fail_msg("screen %zu starts at %zu, want %zu (len %zu)", i, sp[i].off, pos, len);
		if (sp[i].off + sp[i].len > len)
			fail_msg("screen %zu runs past the text", i);
		if (!utf8_valid(text + sp[i].off, sp[i].len) && utf8_valid(text, len))
			fail_msg("screen %zu cuts a UTF-8 sequence", i);
		if (!last && sp[i].len == 0 && !(text[sp[i].off] == '\n'))
			fail_msg("screen %zu is empty", i);
		if (!screen_ok(text, &sp[i], last, more, g7, u2) && utf8_chars(text + sp[i].off, sp[i].len) > 1)
			fail_msg("screen %zu (%zu bytes) does not fit", i, sp[i].len);
		pos = sp[i].off + sp[i].len;
		if (!last && pos < len && text[pos] == '\n')
			pos++; /* the line break becomes the screen break */
	}
	if (pos != len)
		fail_msg("the screens end at %zu of %zu", pos, len);
	return n;
}

static void test_screens_limits(void **state)
{
	char *s;

	(void)state;
	/* GSM-7: 182 characters on one screen, 183 need two */
	s = rep("a", 182);
	assert_int_equal(check_split(s, strlen(s), MORE_EN, 182, 70), 1);
	free(s);
	s = rep("a", 183);
	{
		struct sms_span sp[4];
		assert_int_equal(sms_split_screens(s, strlen(s), MORE_EN, 182, 70, sp, 4), 2);
		/* the first screen carries "\n98 more": 182 - 8 = 174 letters */
		assert_int_equal(sp[0].len, 174);
		assert_int_equal(sp[1].off, 174);
		assert_int_equal(sp[1].len, 9);
		/* the Chinese tail (8 characters) makes the screen UCS-2: 70 - 9 = 61 letters */
		assert_int_equal(sms_split_screens(s, strlen(s), MORE_CN, 182, 70, sp, 4), 2);
		assert_int_equal(sp[0].len, 61);
	}
	check_split(s, strlen(s), MORE_EN, 182, 70);
	check_split(s, strlen(s), MORE_CN, 182, 70);
	free(s);

	/* UCS-2: 70 characters on one screen, 71 need two (61 + 10) */
	s = rep("低", 70);
	assert_int_equal(check_split(s, strlen(s), MORE_CN, 182, 70), 1);
	free(s);
	s = rep("低", 71);
	{
		struct sms_span sp[4];
		assert_int_equal(sms_split_screens(s, strlen(s), MORE_CN, 182, 70, sp, 4), 2);
		assert_int_equal(utf8_chars(s + sp[0].off, sp[0].len), 61);
		assert_int_equal(utf8_chars(s + sp[1].off, sp[1].len), 10);
	}
	check_split(s, strlen(s), MORE_CN, 182, 70);
	free(s);

	/* the empty text is one empty screen */
	{
		struct sms_span sp[2];
		assert_int_equal(sms_split_screens("", 0, MORE_CN, 182, 70, sp, 2), 1);
		assert_int_equal(sp[0].off, 0);
		assert_int_equal(sp[0].len, 0);
	}
}

static void test_screens_whole_lines(void **state)
{
	/* five lines of 25 characters */
	char *line = rep("低", 25), text[512];
	struct sms_span sp[8];
	size_t n;

	(void)state;
	snprintf(text, sizeof(text), "%s\n%s\n%s\n%s\n%s", line, line, line, line, line);
	n = sms_split_screens(text, strlen(text), MORE_CN, 182, 70, sp, 8);
	assert_int_equal(n, check_split(text, strlen(text), MORE_CN, 182, 70));
	/*
	 * 25+1+25 = 51 and "\n98更多 0返回" (9) fit a screen, a third line does not;
	 * the last three lines (77) do not fit the last screen either: 2 + 2 + 1
	 */
	assert_int_equal(n, 3);
	for (size_t i = 0; i < n; i++) {
		/* each screen ends at a line end: never inside a line */
		size_t end = sp[i].off + sp[i].len;
		assert_true(end == strlen(text) || text[end] == '\n');
	}
	assert_int_equal(utf8_chars(text + sp[0].off, sp[0].len), 51);
	assert_int_equal(utf8_chars(text + sp[1].off, sp[1].len), 51);
	assert_int_equal(utf8_chars(text + sp[2].off, sp[2].len), 25);
	free(line);
}

static void test_screens_long_line_cut(void **state)
{
	/* one line longer than a screen, of mixed widths: cut between characters */
	const char *text = "低保a€😀低保低保低保低保低保低保低保低保低保低保低保低保低保低保低保低保低保低保低保低保低保低保低保"
			   "低保低保低保低保低保😀😀😀😀😀低保低保低保低保低保低保低保低保低保低保低保低保低保低保低保低保";
	struct sms_span sp[8];
	size_t n;

	(void)state;
	n = check_split(text, strlen(text), MORE_CN, 182, 70);
	assert_true(n >= 2);
	sms_split_screens(text, strlen(text), MORE_CN, 182, 70, sp, 8);
	/* the first screen is as full as it can be: one more character would not fit */
	{
		struct sms_span longer = sp[0];
		size_t q = longer.off + longer.len;
		utf8_next(text, strlen(text), &q);
		longer.len = q - longer.off;
		assert_true(screen_ok(text, &sp[0], false, MORE_CN, 182, 70));
		assert_false(screen_ok(text, &longer, false, MORE_CN, 182, 70));
	}
	/* fewer spans than screens: the count is still the whole count */
	assert_int_equal(sms_split_screens(text, strlen(text), MORE_CN, 182, 70, sp, 1), n);
	assert_int_equal(sms_split_screens(text, strlen(text), MORE_CN, 182, 70, NULL, 0), n);
}

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 32);
}

static void test_screens_random(void **state)
{
	static const char *const pieces[] = { "a", "b", " ", "1", "\n", "\n", "低", "保", "€", "{", "😀", "é", "`" };
	char text[1200];

	(void)state;
	for (int iter = 0; iter < 3000; iter++) {
		size_t len = 0, want = rnd() % 300;
		for (size_t k = 0; k < want; k++) {
			const char *p = pieces[rnd() % (sizeof(pieces) / sizeof(pieces[0]))];
			size_t pl = strlen(p);
			if (len + pl >= sizeof(text))
				break;
			memcpy(text + len, p, pl);
			len += pl;
		}
		text[len] = '\0';
		size_t g7 = 40 + rnd() % 143, u2 = 20 + rnd() % 72;
		check_split(text, len, iter & 1 ? MORE_CN : MORE_EN, g7, u2);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_coding),
		cmocka_unit_test(test_segments_gsm7),
		cmocka_unit_test(test_segments_ucs2),
		cmocka_unit_test(test_sms_segments),
		cmocka_unit_test(test_screens_limits),
		cmocka_unit_test(test_screens_whole_lines),
		cmocka_unit_test(test_screens_long_line_cut),
		cmocka_unit_test(test_screens_random),
	};

	return cmocka_run_group_tests_name("smstext", tests, NULL, NULL);
}
