#include "market.h"

#include <stdlib.h>
#include <string.h>

#include "lunar.h"
#include "utf8.h"
#include "util.h"

/* The value of a Chinese numeral character, or -1 (十 is 10). */
static int cn_digit(uint32_t cp)
{
	static const uint32_t cn[] = { 0x96F6, 0x4E00, 0x4E8C, 0x4E09, 0x56DB, 0x4E94, 0x516D, 0x4E03, 0x516B, 0x4E5D };

	for (int i = 0; i < 10; i++)
		if (cp == cn[i])
			return i;
	if (cp == 0x3007) /* 〇 */
		return 0;
	if (cp == 0x4E24) /* 两 */
		return 2;
	if (cp == 0x5341) /* 十 */
		return 10;
	return -1;
}

/*
 * Read the numbers of a rule: runs of digits or Chinese numerals (十五,
 * 二十五, 廿五, 初三), separated by anything else. Returns the count.
 */
static size_t numbers(const char *s, long *out, size_t max, bool *dash_dates)
{
	size_t n = 0, i = 0, len = strlen(s);
	long cur = -1;
	bool cn_mode = false;
	int cn_tens = -1, cn_units = -1;

	*dash_dates = false;
	while (i <= len) {
		uint32_t cp = i < len ? utf8_next(s, len, &i) : (i++, 0);
		if (cp >= '0' && cp <= '9') {
			cur = (cur < 0 ? 0 : cur * 10) + (long)(cp - '0');
			continue;
		}
		if (cp == 0x5EFF) { /* 廿 = 20 */
			cn_mode = true;
			cn_tens = 2;
			continue;
		}
		if (cp == 0x5345) { /* 卅 = 30 */
			cn_mode = true;
			cn_tens = 3;
			continue;
		}
		int v = cn_digit(cp);
		if (v >= 0 && v != 10 && cn_units >= 0) {
			/* 三六九: a new digit after a digit is a new number */
			if (n < max)
				out[n++] = (cn_tens >= 0 ? cn_tens * 10 : 0) + cn_units;
			cn_tens = cn_units = -1;
		}
		if (v >= 0) {
			cn_mode = true;
			if (v == 10)
				cn_tens = cn_units >= 0 ? cn_units : 1, cn_units = -1;
			else
				cn_units = v;
			continue;
		}
		if (cp == 0x521D) /* 初 (初三) */
			continue;
		if (cp == '-' && cur >= 0)
			*dash_dates = true;
		if (cn_mode) {
			long val = (cn_tens >= 0 ? cn_tens * 10 : 0) + (cn_units >= 0 ? cn_units : 0);
			if (n < max)
				out[n++] = val;
			cn_mode = false;
			cn_tens = cn_units = -1;
		}
		if (cur >= 0) {
			if (n < max)
				out[n++] = cur;
			cur = -1;
		}
	}
	return n;
}

bool market_rule_parse(const char *text, struct market_rule *out, const char **why)
{
	long v[64];
	bool dashed;
	size_t n;

	memset(out, 0, sizeof(*out));
	n = numbers(text, v, ARRAY_LEN(v), &dashed);
	if (n == 0) {
		*why = "没写哪一天（写成 农历逢三、六、九，农历初一、十五，每月5、15、25 或 2026-12-05）";
		return false;
	}
	if (dashed) {
		if (n % 3 != 0) {
			*why = "日期要写成 2026-12-05";
			return false;
		}
		out->kind = MARKET_DATES;
		out->dates = xcalloc(n / 3, sizeof(long));
		for (size_t k = 0; k < n; k += 3) {
			if (v[k] < 1900 || v[k] > 2099 || v[k + 1] < 1 || v[k + 1] > 12 || v[k + 2] < 1 ||
			    v[k + 2] > 31) {
				*why = "日期不是 1900 到 2099 年里的一天";
				market_rule_free(out);
				return false;
			}
			out->dates[out->ndates++] = lunar_days_from_civil((int)v[k], (int)v[k + 1], (int)v[k + 2]);
		}
		return true;
	}
	bool lunar = strstr(text, "农历") || strstr(text, "阴历") || strstr(text, "初");
	if (lunar && strstr(text, "逢")) {
		out->kind = MARKET_LUNAR_ENDING;
		for (size_t k = 0; k < n; k++) {
			if (v[k] < 0 || v[k] > 10) {
				*why = "逢 后面写个位数：逢三、六、九（尾数是 0 的写 十）";
				return false;
			}
			out->digits[v[k] % 10] = true;
		}
		return true;
	}
	if (!lunar && !strstr(text, "每月")) {
		*why = "要写 农历 或 每月，或者写日期 2026-12-05";
		return false;
	}
	out->kind = lunar ? MARKET_LUNAR_DAYS : MARKET_SOLAR_DAYS;
	for (size_t k = 0; k < n; k++) {
		if (v[k] < 1 || v[k] > (lunar ? 30 : 31)) {
			*why = lunar ? "农历日子是 1 到 30" : "每月的日子是 1 到 31";
			return false;
		}
		out->days[v[k]] = true;
	}
	return true;
}

void market_rule_free(struct market_rule *r)
{
	free(r->dates);
	r->dates = NULL;
	r->ndates = 0;
}

bool market_rule_on(const struct market_rule *r, long day)
{
	struct lunar_date ld;
	int y, m, d;

	switch (r->kind) {
	case MARKET_LUNAR_ENDING:
		return lunar_from_days(day, &ld) && r->digits[ld.day % 10];
	case MARKET_LUNAR_DAYS:
		return lunar_from_days(day, &ld) && r->days[ld.day];
	case MARKET_SOLAR_DAYS:
		lunar_civil_from_days(day, &y, &m, &d);
		return r->days[d];
	case MARKET_DATES:
		for (size_t k = 0; k < r->ndates; k++)
			if (r->dates[k] == day)
				return true;
		return false;
	}
	return false;
}
