/*
 * phone: numbers normalised to E.164 (one form per person whatever the
 * network or the villager wrote, and a foreign number never taken for a
 * Chinese one), numbers judged (never answer a short code, a
 * 106 service number or a name: that is how reply loops start), and numbers
 * taken out of a sentence (the form's "another number").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"
#include "phone.h"
#include "utf8.h"

static void test_normalise(void **state)
{
	static const struct {
		const char *in, *out;
		enum phone_kind kind;
	} cases[] = {
		/* one Chinese mobile, every way it arrives: one E.164 */
		{ "13912345678", "+8613912345678", PHONE_E164 },
		{ "+8613912345678", "+8613912345678", PHONE_E164 },
		{ "008613912345678", "+8613912345678", PHONE_E164 },
		{ "8613912345678", "+8613912345678", PHONE_E164 },
		{ "+86 139-1234-5678", "+8613912345678", PHONE_E164 },
		{ "+86 (139) 1234 5678", "+8613912345678", PHONE_E164 },
		{ "139 1234 5678", "+8613912345678", PHONE_E164 },
		{ "１３９１２３４５６７８", "+8613912345678", PHONE_E164 },   /* full-width digits */
		{ "＋８６１３９１２３４５６７８", "+8613912345678", PHONE_E164 },
		{ "００８６　１３９－１２３４－５６７８", "+8613912345678", PHONE_E164 },
		/* landlines: the trunk 0 goes, the area code stays */
		{ "0933-1234567", "+869331234567", PHONE_E164 },
		{ "010-12345678", "+861012345678", PHONE_E164 },
		{ "+86 0933 1234567", "+869331234567", PHONE_E164 },
		/* another country keeps its code: never equal to a Chinese number */
		{ "+13900000001", "+13900000001", PHONE_E164 },
		{ "+14155550100", "+14155550100", PHONE_E164 },
		{ "001 415 555 0100", "+14155550100", PHONE_E164 },
		{ "+447911123456", "+447911123456", PHONE_E164 },
		{ "+44 13900000001", "+4413900000001", PHONE_E164 },
		/* short codes and service numbers stay what they are */
		{ "10086", "10086", PHONE_SERVICE },
		{ "95588", "95588", PHONE_SERVICE },
		{ "１００８６", "10086", PHONE_SERVICE },
		{ "1069012345678", "1069012345678", PHONE_SERVICE },
		{ "+8610086", "10086", PHONE_SERVICE },
		{ "861234567890", "861234567890", PHONE_SERVICE },   /* 86 before a non-mobile */
		{ "12912345678", "12912345678", PHONE_SERVICE },     /* 11 digits, no mobile prefix */
		{ "+1234", "+1234", PHONE_SERVICE },                 /* too short for E.164: kept as written */
		{ "+0933 1234567", "+09331234567", PHONE_SERVICE },  /* no country starts with 0 */
		{ "+86", "+86", PHONE_SERVICE },
		{ "+86008613912345678", "+86008613912345678", PHONE_SERVICE }, /* no 00 after +86 */
		{ "+86 8613912365478", "+868613912365478", PHONE_SERVICE },    /* nor 86 twice */
		{ "1234567890123456789012345678", "1234567890123456789012345678", PHONE_SERVICE },
		{ "+1234567890123456789012345678", "+1234567890123456789012345678", PHONE_SERVICE },
		/* names stay as given, without the spaces around them */
		{ "BANK", "BANK", PHONE_ALPHA },
		{ " bank info ", "bank info", PHONE_ALPHA },
		{ "10086a", "10086a", PHONE_ALPHA },
		{ "中国移动", "中国移动", PHONE_ALPHA },
		{ "", "", PHONE_NONE },
		{ "   ", "", PHONE_NONE },
		{ "+", "", PHONE_NONE },
	};
	char out[PHONE_LEN];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(out, 'X', sizeof(out));
		enum phone_kind k = phone_normalise(cases[i].in, "86", out, sizeof(out));
		if (strcmp(out, cases[i].out) != 0 || k != cases[i].kind)
			fail_msg("phone_normalise(\"%s\") = \"%s\" (kind %d), want \"%s\" (kind %d)", cases[i].in, out,
			    (int)k, cases[i].out, (int)cases[i].kind);
	}
}

/* Every written form of a number is one E.164; a foreign number is never a Chinese one. */
static void test_same_person(void **state)
{
	static const char *const same[] = {
		"13900000001", "+8613900000001", "008613900000001", "8613900000001", "１３９０００００００１",
		"139-0000-0001", "+86 139 0000 0001",
	};
	static const char *const other[] = { "+13900000001", "+4413900000001", "0013900000001", "+13 900000001" };
	char a[PHONE_LEN], b[PHONE_LEN];

	(void)state;
	phone_normalise(same[0], "86", a, sizeof(a));
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		phone_normalise(same[i], "86", b, sizeof(b));
		if (strcmp(a, b) != 0)
			fail_msg("\"%s\" gave \"%s\", not \"%s\"", same[i], b, a);
	}
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
		phone_normalise(other[i], "86", b, sizeof(b));
		if (strcmp(a, b) == 0)
			fail_msg("\"%s\" is taken for %s", other[i], a);
	}
}

/* The default country comes from the config; without one only numbers with their country count. */
static void test_country(void **state)
{
	char out[PHONE_LEN];

	(void)state;
	assert_int_equal(phone_normalise("020 7946 0018", "44", out, sizeof(out)), PHONE_E164);
	assert_string_equal(out, "+442079460018");
	assert_int_equal(phone_normalise("13912345678", "44", out, sizeof(out)), PHONE_SERVICE);
	assert_int_equal(phone_normalise("13912345678", NULL, out, sizeof(out)), PHONE_SERVICE);
	assert_int_equal(phone_normalise("+8613912345678", NULL, out, sizeof(out)), PHONE_E164);
	assert_string_equal(out, "+8613912345678");
	assert_true(phone_country_ok("86"));
	assert_true(phone_country_ok("1"));
	assert_true(phone_country_ok("852"));
	assert_false(phone_country_ok("+86"));
	assert_false(phone_country_ok("0086"));
	assert_false(phone_country_ok(""));
	assert_false(phone_country_ok(NULL));
	assert_false(phone_country_ok("8a"));
}

static void test_truncates(void **state)
{
	char small[6];

	(void)state;
	memset(small, 'X', sizeof(small));
	phone_normalise("ALPHANUMERIC", "86", small, sizeof(small));
	assert_string_equal(small, "ALPHA");
	phone_normalise("中国移动", "86", small, sizeof(small));
	assert_string_equal(small, "中"); /* cut at a character, never inside one */
	/* a zero-length buffer is left alone */
	assert_int_equal(phone_normalise("13912345678", "86", small, 0), PHONE_NONE);
	assert_string_equal(small, "中");
}

static void test_shown(void **state)
{
	(void)state;
	assert_string_equal(phone_shown("+8613912345678", "86"), "13912345678");
	assert_string_equal(phone_shown("+869331234567", "86"), "+869331234567");
	assert_string_equal(phone_shown("+13900000001", "86"), "+13900000001");
	assert_string_equal(phone_shown("10086", "86"), "10086");
	assert_string_equal(phone_shown("+8613912345678", "44"), "+8613912345678");
}

static void test_ordinary(void **state)
{
	static const struct {
		const char *in;
		bool ordinary;
	} cases[] = {
		{ "13912345678", true },
		{ "+8613912345678", true },
		{ "8613912345678", true },
		{ "008613912345678", true },
		{ "19912345678", true },
		{ "0933-1234567", true },        /* a landline with its area code */
		{ "010-12345678", true },
		{ "+14155550100", true },        /* another country */
		{ "+447911123456", true },
		{ "10086", false },              /* operator short code */
		{ "95588", false },              /* bank short code */
		{ "12345", false },              /* the government hotline itself */
		{ "1069012345678", false },      /* 106 service numbers */
		{ "10655025123456", false },
		{ "+8610086", false },           /* a short code with the country code */
		{ "12912345678", false },        /* 11 digits, but no mobile prefix */
		{ "BANK", false },
		{ "ICBC95588", false },
		{ "", false },
		{ "+", false },
		{ "0", false },
		{ "+13900000001", true },        /* a +1 number is a person, just not the Chinese one */
		{ "+86(00 01339", false },       /* +86 and no Chinese number */
	};

	char norm[PHONE_LEN];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		phone_normalise(cases[i].in, "86", norm, sizeof(norm));
		if (phone_is_ordinary(norm) != cases[i].ordinary)
			fail_msg("phone_is_ordinary(\"%s\") = %d, want %d", cases[i].in, !cases[i].ordinary,
			    cases[i].ordinary);
	}
}

static void test_parse_typed(void **state)
{
	static const struct {
		const char *in, *out; /* out NULL: not a number */
	} cases[] = {
		{ "13912345678", "+8613912345678" },
		{ "139 1234 5678", "+8613912345678" },
		{ "139-1234-5678", "+8613912345678" },
		{ "儿子电话139 1234 5678", "+8613912345678" },
		{ "电话：１３９１２３４５６７８。", "+8613912345678" },
		{ "+86 139 1234 5678", "+8613912345678" },
		{ "0086 139 1234 5678", "+8613912345678" },
		{ "0933-1234567", "+869331234567" },
		{ "+1 415 555 0100", "+14155550100" },
		{ "1234567", NULL },                    /* a landline without its area code: cannot be called back */
		{ "10086", NULL },                      /* a short code is nobody's contact number */
		{ "123456789012345678901234567", NULL },
		{ "my phone 13912345678", NULL },       /* letters */
		{ "张桂兰", NULL },
		{ "", NULL },
		{ "1", NULL },
	};
	char out[PHONE_LEN];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool ok = phone_parse_typed(cases[i].in, "86", out, sizeof(out));
		if (ok != (cases[i].out != NULL))
			fail_msg("phone_parse_typed(\"%s\") = %d", cases[i].in, ok);
		if (ok && strcmp(out, cases[i].out) != 0)
			fail_msg("phone_parse_typed(\"%s\") gave \"%s\", want \"%s\"", cases[i].in, out, cases[i].out);
	}
}

/* Masking in log lines works on characters: a full-width number stays valid UTF-8 (issue 11.4). */
static void test_log_mask(void **state)
{
	char buf[LOG_PHONE_BUF], small[8];

	(void)state;
	log_init(LOG_LVL_ERROR, true);
	assert_string_equal(log_phone("+8613912345678", buf, sizeof(buf)), "+*********5678");
	assert_string_equal(log_phone("１３９１２３４５６７８", buf, sizeof(buf)), "*******５６７８");
	assert_true(utf8_valid(buf, strlen(buf)));
	assert_string_equal(log_phone("139 0000 0001", buf, sizeof(buf)), "*********0001");
	assert_string_equal(log_phone("1234", buf, sizeof(buf)), "1234");
	/* cut at a character, never inside one */
	assert_string_equal(log_phone("１３９１２３４５６７８", small, sizeof(small)), "*******");
	assert_string_equal(log_phone("中国移动客服热线", small, sizeof(small)), "****客");
	log_init(LOG_LVL_ERROR, false);
	assert_string_equal(log_phone("１３９１", buf, sizeof(buf)), "１３９１");
	log_init(LOG_LVL_ERROR, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalise),
		cmocka_unit_test(test_same_person),
		cmocka_unit_test(test_country),
		cmocka_unit_test(test_truncates),
		cmocka_unit_test(test_shown),
		cmocka_unit_test(test_log_mask),
		cmocka_unit_test(test_ordinary),
		cmocka_unit_test(test_parse_typed),
	};

	return cmocka_run_group_tests_name("phone", tests, NULL, NULL);
}
