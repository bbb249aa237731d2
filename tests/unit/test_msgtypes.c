/*
 * msgtypes: every enum value has a name and comes back from it (the
 * database stores the names, so a table that lost or doubled one would
 * mislabel stored rows), and a name nobody knows parses as -1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "msgtypes.h"

static void test_round_trip(void **state)
{
	(void)state;
	for (int i = 0; i < CHANNEL_N; i++)
		assert_int_equal(channel_parse(channel_name((enum channel)i)), i);
	for (int i = 0; i < DIRECTION_N; i++)
		assert_int_equal(direction_parse(direction_name((enum direction)i)), i);
	for (int i = 0; i < MSG_KIND_N; i++)
		assert_int_equal(msg_kind_parse(msg_kind_name((enum msg_kind)i)), i);
	for (int i = 0; i < MSG_STATUS_N; i++)
		assert_int_equal(msg_status_parse(msg_status_name((enum msg_status)i)), i);
}

/* The names the database has always stored. */
static void test_stored_names(void **state)
{
	(void)state;
	assert_string_equal(channel_name(CHANNEL_SMS), "sms");
	assert_string_equal(channel_name(CHANNEL_USSD), "ussd");
	assert_string_equal(channel_name(CHANNEL_CALL), "call");
	assert_string_equal(direction_name(DIRECTION_IN), "in");
	assert_string_equal(direction_name(DIRECTION_OUT), "out");
	assert_string_equal(msg_kind_name(MSG_KIND_STATUS_REPORT), "status-report");
	assert_string_equal(msg_kind_name(MSG_KIND_INCOMPLETE), "incomplete");
	assert_string_equal(msg_kind_name(MSG_KIND_BROADCAST), "broadcast");
	assert_string_equal(msg_status_name(MSG_STATUS_LIMITED), "limited");
	assert_string_equal(msg_status_name(MSG_STATUS_SUPERSEDED), "superseded");
}

static void test_unknown(void **state)
{
	(void)state;
	assert_int_equal(channel_parse("fax"), -1);
	assert_int_equal(channel_parse(NULL), -1);
	assert_int_equal(direction_parse("IN"), -1);
	assert_int_equal(msg_kind_parse("sms"), -1);
	/* no kind stored (NULL, or "" as a column is read) */
	assert_int_equal(msg_kind_parse(""), MSG_KIND_NONE);
	assert_int_equal(msg_kind_parse(NULL), MSG_KIND_NONE);
	assert_null(msg_kind_name(MSG_KIND_NONE));
	assert_int_equal(msg_status_parse("delivered"), -1);
	assert_string_equal(channel_name((enum channel)CHANNEL_N), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_stored_names),
		cmocka_unit_test(test_unknown),
	};

	return cmocka_run_group_tests_name("msgtypes", tests, NULL, NULL);
}
