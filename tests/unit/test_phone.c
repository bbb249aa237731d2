/*
 * phone: numbers made comparable (one key per person whatever the network
 * or the villager wrote), numbers judged (never answer a short code, a
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

#include "phone.h"

static void test_key(void **state)
{
	static const struct {
		const char *in, *key;
	} cases[] = {
		{ "13912345678", "13912345678" },
		{ "+8613912345678", "13912345678" },
		{ "008613912345678", "13912345678" },
		{ "8613912345678", "13912345678" },
		{ "+86 139-1234-5678", "13912345678" },
		{ "+86 (139) 1234 5678", "13912345678" },
		{ "１３９１２３４５６７８", "13912345678" },   /* full-width digits */
		{ "＋８６１３９１２３４５６７８", "13912345678" },
		{ "0933-1234567", "09331234567" },
		{ "10086", "10086" },
		{ "95588", "95588" },
		{ "1069012345678", "1069012345678" },
		{ "+14155550100", "14155550100" },            /* another country keeps its code */
		{ "861234567890", "861234567890" },           /* 86 before a non-mobile stays */
		{ "BANK", "BANK" },
		{ "bank info", "BANKINFO" },                  /* letters: upper-cased, spaces out */
		{ "10086a", "10086A" },
		{ "", "" },
	};
	char key[PHONE_KEY_LEN];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(key, 'X', sizeof(key));
		phone_key(cases[i].in, key, sizeof(key));
		if (strcmp(key, cases[i].key) != 0)
			fail_msg("phone_key(\"%s\") = \"%s\", want \"%s\"", cases[i].in, key, cases[i].key);
	}
}

static void test_key_truncates(void **state)
{
	char small[6];

	(void)state;
	memset(small, 'X', sizeof(small));
	phone_key("+8613912345678", small, sizeof(small));
	assert_string_equal(small, "13912");
	phone_key("ALPHANUMERIC", small, sizeof(small));
	assert_string_equal(small, "ALPHA");
	/* a zero-length buffer is left alone */
	phone_key("13912345678", small, 0);
	assert_string_equal(small, "ALPHA");
}

static void test_same(void **state)
{
	(void)state;
	assert_true(phone_same("+86 139 1234 5678", "13912345678"));
	assert_true(phone_same("008613912345678", "8613912345678"));
	assert_true(phone_same("１３９１２３４５６７８", "+8613912345678"));
	assert_true(phone_same("10086", "10086"));
	assert_false(phone_same("13912345678", "13912345679"));
	assert_false(phone_same("", ""));
	assert_false(phone_same("13912345678", ""));
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
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (phone_is_ordinary(cases[i].in) != cases[i].ordinary)
			fail_msg("phone_is_ordinary(\"%s\") = %d, want %d", cases[i].in, !cases[i].ordinary,
			    cases[i].ordinary);
}

static void test_parse_typed(void **state)
{
	static const struct {
		const char *in, *out; /* out NULL: not a number */
	} cases[] = {
		{ "13912345678", "13912345678" },
		{ "139 1234 5678", "13912345678" },
		{ "139-1234-5678", "13912345678" },
		{ "儿子电话139 1234 5678", "13912345678" },
		{ "电话：１３９１２３４５６７８。", "13912345678" },
		{ "+86 139 1234 5678", "+8613912345678" },
		{ "0933-1234567", "09331234567" },
		{ "1234567", "1234567" },               /* 7 digits: the shortest */
		{ "123456789012345", "123456789012345" }, /* 15: the longest */
		{ "123456", NULL },
		{ "1234567890123456", NULL },
		{ "my phone 13912345678", NULL },       /* letters */
		{ "张桂兰", NULL },
		{ "", NULL },
		{ "1", NULL },
	};
	char out[32];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool ok = phone_parse_typed(cases[i].in, out, sizeof(out));
		if (ok != (cases[i].out != NULL))
			fail_msg("phone_parse_typed(\"%s\") = %d", cases[i].in, ok);
		if (ok && strcmp(out, cases[i].out) != 0)
			fail_msg("phone_parse_typed(\"%s\") gave \"%s\", want \"%s\"", cases[i].in, out, cases[i].out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_key_truncates),
		cmocka_unit_test(test_same),
		cmocka_unit_test(test_ordinary),
		cmocka_unit_test(test_parse_typed),
	};

	return cmocka_run_group_tests_name("phone", tests, NULL, NULL);
}
