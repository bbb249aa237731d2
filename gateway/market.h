/*
 * market: the days of the rural markets where the bureau's 救助赶大集 stalls
 * stand (menus/markets.cfg), and the next such days after a given date.
 * Pure: no clock, no I/O; the caller passes today.
 *
 * A rule is one of (Chinese numerals and Arabic digits alike; 、，, or
 * spaces between the numbers):
 *   农历逢三、六、九      lunar days ending in 3, 6 or 9 (初三 … 廿九);
 *                         逢十 is a day ending in 0 (初十, 二十, 三十)
 *   农历初一、十五        those lunar days of every lunar month (also
 *                         "农历每月1、15")
 *   每月5、15、25         those Gregorian days of every month
 *   2026-12-05、2027-01-09  those dates only
 */
#ifndef HOTLINE_MARKET_H
#define HOTLINE_MARKET_H

#include <stdbool.h>
#include <stddef.h>

enum market_kind {
	MARKET_LUNAR_ENDING, /* lunar days whose last digit is in `digits` */
	MARKET_LUNAR_DAYS,   /* lunar days in `days` */
	MARKET_SOLAR_DAYS,   /* Gregorian days of the month in `days` */
	MARKET_DATES,        /* the dates in `dates` (days since 1970-01-01) */
};

struct market_rule {
	enum market_kind kind;
	bool digits[10];
	bool days[32];
	long *dates;
	size_t ndates;
};

/* Parse a rule; false (and *why set to an English reason) when it is not one. */
bool market_rule_parse(const char *text, struct market_rule *out, const char **why);
void market_rule_free(struct market_rule *r);

/* Is the day (days since 1970-01-01) a market day under r? */
bool market_rule_on(const struct market_rule *r, long day);

#endif
