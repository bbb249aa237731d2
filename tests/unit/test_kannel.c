/*
 * kannel: an MO's text as UTF-8 from what Kannel says of its bytes (coding
 * and charset: GSM, UCS-2, UTF-8, Latin-1), and Kannel's delivery report
 * types as the message's delivery state. Pure functions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kannel.h"
#include "util.h"

static char *decode(const char *coding, const char *charset, const char *in, size_t len, bool *binary)
{
	struct buf b = { 0 };

	kannel_decode_text(coding, charset, in, len, &b, binary);
	return buf_take(&b);
}

static void expect(const char *coding, const char *charset, const char *in, size_t len, const char *want)
{
	bool binary = true;
	char *got = decode(coding, charset, in, len, &binary);

	assert_false(binary);
	assert_string_equal(got, want);
	free(got);
}

static void test_ucs2(void **state)
{
	(void)state;
	/* 低保 as UTF-16BE: coding 2 without a charset, or the charset smsbox posts */
	expect("2", NULL, "\x4f\x4e\x4f\xdd", 4, "低保");
	expect("2", "UTF-16BE", "\x4f\x4e\x4f\xdd", 4, "低保");
	expect("0", "UCS-2", "\x4f\x4e\x4f\xdd", 4, "低保");
	/* a surrogate pair (an emoji), a lone surrogate, an odd byte */
	expect("2", NULL, "\xd8\x3d\xde\x00", 4, "\xf0\x9f\x98\x80");
	expect("2", NULL, "\xd8\x3d\x00\x41", 4, "\xef\xbf\xbd" "A");
	expect("2", NULL, "\x00\x41\x00", 3, "A\xef\xbf\xbd");
}

static void test_utf8_and_charset_first(void **state)
{
	(void)state;
	/* mo-recode: coding says UCS-2 but smsbox recoded to UTF-8 and says so */
	expect("2", "UTF-8", "低保", strlen("低保"), "低保");
	expect(NULL, NULL, "低保 ok", strlen("低保 ok"), "低保 ok");
	expect("0", "utf-8", "a\xff" "b", 3, "a\xef\xbf\xbd" "b");
	expect("0", "ISO-8859-1", "caf\xe9", 4, "café");
}

static void test_gsm(void **state)
{
	(void)state;
	/* @ £ $, the escape to €, { and a lone escape at the end */
	expect("0", "GSM", "\x00\x01\x02\x1b\x65\x1b\x28\x1b", 8, "@£$€{ ");
	expect("0", "GSM", "Hi\x0a\x11", 4, "Hi\n_");
}

static void test_binary_kept(void **state)
{
	bool binary = false;
	char *got;

	(void)state;
	got = decode("1", NULL, "\x01\x02", 2, &binary);
	assert_true(binary);
	assert_memory_equal(got, "\x01\x02", 2);
	free(got);
}

static void test_dlr_states(void **state)
{
	bool final = false;

	(void)state;
	assert_string_equal(kannel_dlr_state(1, &final), "delivered");
	assert_true(final);
	assert_string_equal(kannel_dlr_state(2, &final), "failed");
	assert_true(final);
	assert_string_equal(kannel_dlr_state(16, &final), "rejected");
	assert_true(final);
	assert_string_equal(kannel_dlr_state(8, &final), "accepted");
	assert_false(final);
	assert_string_equal(kannel_dlr_state(4, &final), "buffered");
	assert_false(final);
	assert_null(kannel_dlr_state(3, &final));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ucs2),
		cmocka_unit_test(test_utf8_and_charset_first),
		cmocka_unit_test(test_gsm),
		cmocka_unit_test(test_binary_kept),
		cmocka_unit_test(test_dlr_states),
	};

	return cmocka_run_group_tests_name("kannel", tests, NULL, NULL);
}
