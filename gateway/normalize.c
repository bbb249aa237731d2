#include "normalize.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "utf8.h"
#include "util.h"

/* Value of a Chinese numeral digit, -1 if not one. */
static int cn_digit(uint32_t cp)
{
	switch (cp) {
	case 0x96F6: /* 零 */
	case 0x3007: /* 〇 */
		return 0;
	case 0x4E00: /* 一 */
	case 0x58F9: /* 壹 */
		return 1;
	case 0x4E8C: /* 二 */
	case 0x8D30: /* 贰 */
	case 0x4E24: /* 两 */
		return 2;
	case 0x4E09: /* 三 */
	case 0x53C1: /* 叁 */
		return 3;
	case 0x56DB: /* 四 */
	case 0x8086: /* 肆 */
		return 4;
	case 0x4E94: /* 五 */
	case 0x4F0D: /* 伍 */
		return 5;
	case 0x516D: /* 六 */
	case 0x9646: /* 陆 */
		return 6;
	case 0x4E03: /* 七 */
	case 0x67D2: /* 柒 */
		return 7;
	case 0x516B: /* 八 */
	case 0x634C: /* 捌 */
		return 8;
	case 0x4E5D: /* 九 */
	case 0x7396: /* 玖 */
		return 9;
	}
	return -1;
}

/* Multiplier of a Chinese numeral unit, 0 if not one. */
static int cn_unit(uint32_t cp)
{
	switch (cp) {
	case 0x5341: /* 十 */
	case 0x62FE: /* 拾 */
		return 10;
	case 0x767E: /* 百 */
	case 0x4F70: /* 佰 */
		return 100;
	case 0x5343: /* 千 */
	case 0x4EDF: /* 仟 */
		return 1000;
	}
	return 0;
}

/* Circled, parenthesised and full-stop digit forms: their value, or -1. */
static int enclosed_number(uint32_t cp)
{
	if (cp >= 0x2460 && cp <= 0x2473) /* ① .. ⑳ */
		return (int)(cp - 0x2460) + 1;
	if (cp >= 0x2474 && cp <= 0x2487) /* ⑴ .. ⒇ */
		return (int)(cp - 0x2474) + 1;
	if (cp >= 0x2488 && cp <= 0x249B) /* ⒈ .. ⒛ */
		return (int)(cp - 0x2488) + 1;
	if (cp >= 0x2776 && cp <= 0x277F) /* ❶ .. ❿ */
		return (int)(cp - 0x2776) + 1;
	if (cp >= 0x2780 && cp <= 0x2789) /* ➀ .. ➉ */
		return (int)(cp - 0x2780) + 1;
	if (cp >= 0x278A && cp <= 0x2793) /* ➊ .. ➓ */
		return (int)(cp - 0x278A) + 1;
	if (cp == 0x24EA) /* ⓪ */
		return 0;
	return -1;
}

/* Characters that separate words and carry no meaning for matching. */
static bool is_separator(uint32_t cp)
{
	if (cp < 0x80)
		return !((cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z'));
	return (cp >= 0x80 && cp <= 0xBF) ||      /* Latin-1 punctuation and symbols */
	    cp == 0xD7 || cp == 0xF7 ||
	    (cp >= 0x2000 && cp <= 0x2BFF) ||     /* punctuation, symbols, arrows, shapes */
	    (cp >= 0x3000 && cp <= 0x303F) ||     /* CJK punctuation (〇 is handled before) */
	    (cp >= 0xFE00 && cp <= 0xFE6F) ||     /* variation selectors, vertical and small forms */
	    (cp >= 0xFF00 && cp <= 0xFF0F) || (cp >= 0xFF1A && cp <= 0xFF20) ||
	    (cp >= 0xFF3B && cp <= 0xFF40) || (cp >= 0xFF5B && cp <= 0xFF65) ||
	    (cp >= 0xFFE0 && cp <= 0xFFFF) ||     /* full-width symbols, specials, U+FFFD */
	    (cp >= 0xE000 && cp <= 0xF8FF) ||     /* private use */
	    (cp >= 0x1F000 && cp <= 0x1FAFF) ||   /* emoji and pictographs */
	    (cp >= 0xE0000 && cp <= 0xE007F);     /* tags */
}

static bool is_ascii_alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z');
}

struct out {
	char *p;
	size_t n;
	bool sep; /* a separator was dropped since the last character written */
};

static void emit(struct out *o, const char *s, size_t n)
{
	if (n == 0)
		return;
	if (o->sep && o->n > 0 && is_ascii_alnum(o->p[o->n - 1]) && is_ascii_alnum(s[0]))
		o->p[o->n++] = ' ';
	o->sep = false;
	memcpy(o->p + o->n, s, n);
	o->n += n;
}

static void emit_number(struct out *o, long long v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%lld", v);

	emit(o, tmp, (size_t)n);
}

/*
 * Convert the run of Chinese numerals starting at in[*i]. Without units it is
 * read digit by digit (一二三 -> 123, 二〇二六 -> 2026); with units as a value
 * (八十五 -> 85, 一百零二 -> 102). A unit with no digit before it is taken as 1
 * only for 十 (十五 -> 15); a lone 百 or 千 is left as it is.
 */
static bool cn_run(const char *in, size_t len, size_t *i, struct out *o)
{
	size_t p = *i, end;
	uint32_t cps[32];
	size_t n = 0;
	bool units = false;

	end = p;
	while (end < len && n < ARRAY_LEN(cps)) {
		size_t q = end;
		uint32_t cp = utf8_next(in, len, &q);
		if (cn_digit(cp) < 0 && cn_unit(cp) == 0)
			break;
		if (cn_unit(cp) >= 100 && (n == 0 || cn_unit(cps[n - 1]) != 0))
			break; /* 百/千 must follow a digit */
		units |= cn_unit(cp) != 0;
		cps[n++] = cp;
		end = q;
	}
	if (n == 0)
		return false;
	if (!units) {
		char digits[ARRAY_LEN(cps)];
		for (size_t k = 0; k < n; k++)
			digits[k] = (char)('0' + cn_digit(cps[k]));
		emit(o, digits, n);
	} else {
		long long total = 0, cur = 0;
		bool have = false;
		for (size_t k = 0; k < n; k++) {
			int d = cn_digit(cps[k]), u = cn_unit(cps[k]);
			if (d >= 0) {
				cur = d;
				have = true;
			} else {
				total += (have ? cur : 1) * u;
				cur = 0;
				have = false;
			}
		}
		emit_number(o, total + cur);
	}
	*i = end;
	return true;
}

size_t norm_text(const char *in, size_t len, char *outbuf, unsigned flags)
{
	struct out o = { outbuf, 0, false };
	size_t i = 0;

	while (i < len) {
		size_t start = i;
		uint32_t cp = utf8_next(in, len, &i);
		char tmp[4];
		int v;

		if (cp == UTF8_REPLACEMENT && i - start == 1)
			continue; /* an invalid byte */
		if (cp >= 0xFF01 && cp <= 0xFF5E) /* full-width ASCII */
			cp -= 0xFEE0;
		if (cp >= 'A' && cp <= 'Z')
			cp += 'a' - 'A';
		if (cp == '#' && (flags & NORM_KEEP_HASH)) {
			emit(&o, "#", 1);
			continue;
		}
		if ((v = enclosed_number(cp)) >= 0) {
			emit_number(&o, v);
			continue;
		}
		if (cn_digit(cp) >= 0 || cn_unit(cp) == 10) {
			i = start;
			if (cn_run(in, len, &i, &o))
				continue;
			i = start;
			utf8_next(in, len, &i);
		}
		if (cp == 0 || is_separator(cp)) {
			o.sep = true;
			continue;
		}
		emit(&o, tmp, utf8_put(cp, tmp));
	}
	outbuf[o.n] = '\0';
	return o.n;
}

char *norm_dup(const char *in, size_t len, unsigned flags)
{
	char *out = xmalloc(len + 1);

	norm_text(in, len, out, flags);
	return out;
}
