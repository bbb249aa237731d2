/*
 * The bureau's clock (issue 13 point 12): times read from the system's tz
 * database for the configured zone, whatever the machine's zone is (the
 * tests run with TZ=UTC, as a server often does), and the config key
 * `timezone` governing quiet hours and case years.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "diag.h"
#include "outbox.h"
#include "tz.h"

/* 2026-12-02 13:30:00 UTC = 21:30 in Beijing */
#define T_2130_BJ 1796218200LL

static void test_shanghai(void **state)
{
	char err[256], buf[40];
	struct tz *z = tz_load("Asia/Shanghai", err, sizeof(err));
	struct tm tm;

	(void)state;
	assert_non_null(z);
	assert_string_equal(tz_name(z), "Asia/Shanghai");
	assert_int_equal(tz_offset(z, T_2130_BJ), 8 * 3600);
	tz_civil(z, T_2130_BJ, &tm);
	assert_int_equal(tm.tm_hour, 21);
	assert_int_equal(tm.tm_min, 30);
	assert_string_equal(tz_iso8601(z, T_2130_BJ, buf, sizeof(buf)), "2026-12-02T21:30:00+08:00");
	/* and back: Beijing's midnight of that day is 16:00 UTC the day before */
	assert_int_equal(tz_day_start(z, T_2130_BJ), T_2130_BJ - (21 * 3600 + 30 * 60));
	tm.tm_hour = 8;
	tm.tm_min = 0;
	assert_int_equal(tz_from_civil(z, &tm), T_2130_BJ - (13 * 3600 + 30 * 60));
	/* 1988 had summer time in China: the file says so (the offset is read, not assumed) */
	assert_int_equal(tz_offset(z, 581212800LL /* 1988-06-02 UTC */), 9 * 3600);
	tz_free(z);
}

static void test_other_zones(void **state)
{
	char err[256];
	struct tz *z;

	(void)state;
	/* a zone with summer time today: winter and summer offsets */
	z = tz_load("Europe/Berlin", err, sizeof(err));
	assert_non_null(z);
	assert_int_equal(tz_offset(z, T_2130_BJ), 3600);            /* December */
	assert_int_equal(tz_offset(z, 1780000000LL), 2 * 3600);     /* June 2026 */
	tz_free(z);
	z = tz_load("UTC", err, sizeof(err));
	assert_non_null(z);
	assert_int_equal(tz_offset(z, T_2130_BJ), 0);
	tz_free(z);
	/* not zones */
	assert_null(tz_load("Mars/Olympus", err, sizeof(err)));
	assert_non_null(strstr(err, "Mars/Olympus"));
	assert_null(tz_load("../../etc/passwd", err, sizeof(err)));
	assert_null(tz_load("/etc/localtime", err, sizeof(err)));
	assert_null(tz_load("", err, sizeof(err)));
}

static char dir[] = "/tmp/hl-tz-XXXXXX";

static struct config *load(const char *text, struct diag *d)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/hotline.cfg", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	diag_init(d);
	return config_load(path, d);
}

#define BASE "office = { name = \"崆峒区民政局\"; };\n" \
	     "modems = ( { name = \"m0\"; model = \"dummy\"; connection = \"none\"; device = \"p\"; } );\n" \
	     "cases = { quiet_hours = \"21:00-08:00\"; };\n"

/* quiet hours follow the configured zone, on a machine whose zone is UTC */
static void test_quiet_hours_in_the_bureaus_zone(void **state)
{
	struct diag d;
	struct config *c;

	(void)state;
	c = load(BASE, &d);
	if (c == NULL) {
		diag_print(&d, stderr);
		fail();
	}
	assert_string_equal(c->timezone, "Asia/Shanghai");
	/* 21:30 in Beijing: held until 08:00 Beijing (00:00 UTC) */
	assert_int_equal(outbox_quiet_until(c, T_2130_BJ), T_2130_BJ + 10 * 3600 + 30 * 60);
	/* 13:30 in Beijing (05:30 UTC, "quiet" on a UTC clock): not held */
	assert_int_equal(outbox_quiet_until(c, T_2130_BJ - 8 * 3600), T_2130_BJ - 8 * 3600);
	config_free(c);
	diag_free(&d);

	c = load(BASE "timezone = \"UTC\";\n", &d);
	assert_non_null(c);
	assert_int_equal(outbox_quiet_until(c, T_2130_BJ), T_2130_BJ);
	config_free(c);
	diag_free(&d);

	/* a zone that does not exist names the file and line */
	c = load(BASE "timezone = \"Asia/Shangai\";\n", &d);
	assert_null(c);
	assert_true(d.errors >= 1);
	{
		char *out = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&out, &len);
		diag_print(&d, m);
		fclose(m);
		assert_non_null(strstr(out, "hotline.cfg:4"));
		assert_non_null(strstr(out, "Asia/Shangai"));
		free(out);
	}
	diag_free(&d);
}

static int setup(void **state)
{
	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/hotline.cfg", dir);
	unlink(path);
	rmdir(dir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shanghai),
		cmocka_unit_test(test_other_zones),
		cmocka_unit_test(test_quiet_hours_in_the_bureaus_zone),
	};

	return cmocka_run_group_tests_name("tz", tests, setup, teardown);
}
