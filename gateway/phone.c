#include "phone.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "utf8.h"

/* More digits than any number has (E.164: 15, with a 00 prefix 17): a longer run is no number. */
#define DIGITS_MAX 24
/* Digits read before giving up: a too long run is kept as such (cut to fit out). */
#define DIGITS_READ 63

/* A full-width digit or plus as its ASCII twin; anything else unchanged. */
static uint32_t narrow(uint32_t cp)
{
	if (cp >= 0xFF10 && cp <= 0xFF19)
		return '0' + (cp - 0xFF10);
	if (cp == 0xFF0B)
		return '+';
	return cp;
}

/* Signs people and networks put between the digits of a number. */
static bool is_separator(uint32_t cp)
{
	return cp == ' ' || cp == '\t' || cp == 0x3000 || cp == '-' || cp == 0xFF0D || (cp >= 0x2010 && cp <= 0x2015) ||
	    cp == '.' || cp == '(' || cp == ')' || cp == 0xFF08 || cp == 0xFF09 || cp == '/';
}

static bool is_cn_mobile(const char *nat)
{
	return strlen(nat) == 11 && nat[0] == '1' && nat[1] >= '3' && nat[1] <= '9';
}

/* A Chinese landline without its trunk 0: area code (10, 2x, 3 digits) and 7 or 8 digits. */
static bool is_cn_landline(const char *nat)
{
	size_t n = strlen(nat);

	if (nat[0] == '1')
		return n == 10 && nat[1] == '0'; /* Beijing: 10 and 8 digits */
	return nat[0] >= '2' && nat[0] <= '9' && n >= 9 && n <= 11;
}

/*
 * Would digits written without + stay a service number under any default
 * country? Not when they start with a trunk 0, or look like a Chinese mobile
 * (with or without 86): those are kept in their + form, so that a number
 * normalised once normalises to itself.
 */
static bool national_inert(const char *d)
{
	return d[0] != '0' && !is_cn_mobile(d) && !(strlen(d) == 13 && strncmp(d, "86", 2) == 0 && is_cn_mobile(d + 2));
}

static enum phone_kind service(const char *digits, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s", digits);
	return PHONE_SERVICE;
}

/* intl: the digits after + (country code first). */
static enum phone_kind from_international(const char *intl, char *out, size_t outlen)
{
	size_t n = strlen(intl);

	if (strncmp(intl, "86", 2) == 0) {
		const char *nat = intl + 2;
		if (*nat == '0') /* "+86 0933 ..." : the trunk 0 written after the country code */
			nat++;
		if (is_cn_mobile(nat) || is_cn_landline(nat)) {
			snprintf(out, outlen, "+86%s", nat);
			return PHONE_E164;
		}
		if (*nat && national_inert(nat))
			return service(nat, out, outlen); /* +8610086 is 10086 */
	}
	if (strncmp(intl, "86", 2) == 0 || intl[0] == '0' || n < 8 || n > 15) {
		/* written as international but no number: kept so, so that it stays what it is */
		snprintf(out, outlen, "+%s", intl);
		return PHONE_SERVICE;
	}
	snprintf(out, outlen, "+%s", intl);
	return PHONE_E164;
}

static enum phone_kind from_digits(const char *d, bool plus, const char *country, char *out, size_t outlen)
{
	size_t n = strlen(d);
	char intl[DIGITS_MAX + 8];

	if (plus)
		return from_international(d, out, outlen);
	if (n > 2 && d[0] == '0' && d[1] == '0')
		return from_international(d + 2, out, outlen);
	if (!phone_country_ok(country))
		return service(d, out, outlen);
	if (strcmp(country, "86") == 0) {
		if (n == 13 && strncmp(d, "86", 2) == 0 && is_cn_mobile(d + 2))
			return from_international(d, out, outlen);
		if (is_cn_mobile(d) || (d[0] == '0' && n >= 10 && n <= 12)) {
			snprintf(intl, sizeof(intl), "86%s", d);
			return from_international(intl, out, outlen);
		}
		return service(d, out, outlen);
	}
	/* elsewhere: only a national number with its trunk 0 is known to be one */
	if (d[0] == '0' && n >= 7) {
		snprintf(intl, sizeof(intl), "%s%s", country, d + 1);
		return from_international(intl, out, outlen);
	}
	return service(d, out, outlen);
}

bool phone_country_ok(const char *country)
{
	size_t n = country ? strlen(country) : 0;

	if (n < 1 || n > 3 || country[0] == '0')
		return false;
	for (size_t i = 0; i < n; i++)
		if (country[i] < '0' || country[i] > '9')
			return false;
	return true;
}

/* in without the spaces around it, cut at a character boundary to fit out. */
static enum phone_kind alpha(const char *in, char *out, size_t outlen)
{
	size_t len = strlen(in), i = 0, start = len, end, n = 0;

	while (i < len) {
		size_t at = i;
		uint32_t cp = utf8_next(in, len, &i);
		if (cp != ' ' && cp != '\t' && cp != 0x3000) {
			start = at;
			break;
		}
		start = i;
	}
	end = start;
	for (i = start; i < len;) {
		uint32_t cp = utf8_next(in, len, &i);
		if (cp != ' ' && cp != '\t' && cp != 0x3000)
			end = i;
	}
	for (i = start; i < end;) {
		size_t at = i;
		utf8_next(in, end, &i);
		if (n + (i - at) + 1 > outlen)
			break;
		memcpy(out + n, in + at, i - at);
		n += i - at;
	}
	out[n] = '\0';
	return n ? PHONE_ALPHA : PHONE_NONE;
}

enum phone_kind phone_normalise(const char *in, const char *country, char *out, size_t outlen)
{
	char d[DIGITS_READ + 1];
	size_t n = 0, i = 0, len;
	bool plus = false, other = false;

	if (outlen == 0)
		return PHONE_NONE;
	out[0] = '\0';
	if (in == NULL)
		return PHONE_NONE;
	len = strlen(in);
	while (i < len) {
		uint32_t cp = narrow(utf8_next(in, len, &i));
		if (cp >= '0' && cp <= '9') {
			if (n < DIGITS_READ)
				d[n++] = (char)cp;
		} else if (cp == '+' && n == 0 && !plus) {
			plus = true;
		} else if (!is_separator(cp)) {
			other = true;
		}
	}
	d[n] = '\0';
	if (other)
		return alpha(in, out, outlen);
	if (n == 0)
		return PHONE_NONE;
	if (n > DIGITS_MAX) { /* no number is this long: kept as written (its + too), so that it stays so */
		snprintf(out, outlen, "%s%s", plus ? "+" : "", d);
		return PHONE_SERVICE;
	}
	return from_digits(d, plus, country, out, outlen);
}

bool phone_is_ordinary(const char *p)
{
	char again[PHONE_LEN];

	/* an E.164 number that normalises to itself (+86 and a Chinese mobile or landline, or another country's) */
	return p != NULL && p[0] == '+' && phone_normalise(p, NULL, again, sizeof(again)) == PHONE_E164 &&
	    strcmp(again, p) == 0;
}

const char *phone_shown(const char *p, const char *country)
{
	if (p && country && strcmp(country, "86") == 0 && strncmp(p, "+86", 3) == 0 && is_cn_mobile(p + 3))
		return p + 3;
	return p;
}

bool phone_parse_typed(const char *in, const char *country, char *out, size_t outlen)
{
	char d[DIGITS_MAX + 1];
	size_t n = 0, i = 0, len = strlen(in);
	bool plus = false;

	if (outlen > 0)
		out[0] = '\0';
	while (i < len) {
		uint32_t cp = narrow(utf8_next(in, len, &i));
		if (cp >= '0' && cp <= '9') {
			if (n >= DIGITS_MAX)
				return false;
			d[n++] = (char)cp;
		} else if (cp == '+' && n == 0) {
			plus = true;
		} else if (cp < 0x80 && isalpha((int)cp)) {
			return false; /* "my phone 139...": not only a number */
		}
	}
	d[n] = '\0';
	if (n == 0)
		return false;
	return from_digits(d, plus, country, out, outlen) == PHONE_E164;
}
