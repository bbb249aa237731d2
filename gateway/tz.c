#include "tz.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TZ_FILE_MAX (256 * 1024)

struct tz {
	char *name;
	size_t n;         /* transitions */
	int64_t *at;      /* UTC times, ascending */
	int32_t *off;     /* offset in force from at[i] */
	int32_t before;   /* offset before the first transition */
	int32_t after;    /* offset after the last (the footer's, when fixed) */
};

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* Is name a zone name (letters, digits, _ + - and / between parts; no "..", not absolute)? */
static bool name_ok(const char *name)
{
	if (*name == '\0' || *name == '/' || strlen(name) > 64 || strstr(name, ".."))
		return false;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_+-/", *p))
			return false;
	return true;
}

/* A footer "CST-8" or "<+08>-8": the fixed offset, or false when it has summer time (or does not parse). */
static bool footer_fixed(const char *s, int32_t *off)
{
	int sign = 1, h = 0, m = 0, sec = 0;

	if (*s == '<') {
		s = strchr(s, '>');
		if (s == NULL)
			return false;
		s++;
	} else {
		while (isalpha((unsigned char)*s))
			s++;
	}
	if (*s == '+' || *s == '-')
		sign = *s++ == '-' ? -1 : 1;
	if (!isdigit((unsigned char)*s))
		return false;
	h = (int)strtol(s, (char **)&s, 10);
	if (*s == ':') {
		m = (int)strtol(s + 1, (char **)&s, 10);
		if (*s == ':')
			sec = (int)strtol(s + 1, (char **)&s, 10);
	}
	if (*s != '\0' && *s != '\n')
		return false; /* a summer-time part follows */
	/* POSIX counts west of UTC positive */
	*off = (int32_t)(-sign * (h * 3600 + m * 60 + sec));
	return true;
}

static struct tz *parse(const char *name, const unsigned char *b, size_t len, char *err, size_t errlen)
{
	size_t pos = 0, tsize = 4;
	uint32_t cnt[6];
	struct tz *z;

	for (int pass = 0;; pass++) {
		if (len - pos < 44 || memcmp(b + pos, "TZif", 4) != 0) {
			snprintf(err, errlen, "not a tz database file");
			return NULL;
		}
		for (int i = 0; i < 6; i++)
			cnt[i] = be32(b + pos + 20 + 4 * i);
		/* isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt */
		size_t body = (size_t)cnt[3] * tsize + cnt[3] + (size_t)cnt[4] * 6 + cnt[5] +
		    (size_t)cnt[2] * (tsize + 4) + cnt[1] + cnt[0];
		if (cnt[4] == 0 || cnt[3] > 100000 || cnt[4] > 256 || len - pos - 44 < body) {
			snprintf(err, errlen, "a tz database file that is cut short or malformed");
			return NULL;
		}
		if (pass == 0 && b[pos + 4] >= '2') {
			/* version 2 and later: the same again with 64-bit times; use that */
			pos += 44 + body;
			tsize = 8;
			continue;
		}
		break;
	}
	const unsigned char *times = b + pos + 44, *idx = times + (size_t)cnt[3] * tsize, *types = idx + cnt[3];
	size_t end = pos + 44 + (size_t)cnt[3] * tsize + cnt[3] + (size_t)cnt[4] * 6 + cnt[5] + (size_t)cnt[2] * (tsize + 4) +
	    cnt[1] + cnt[0];

	/* plain allocation, no util.h: log.c formats its times through here, and util's x* log */
	if ((z = calloc(1, sizeof(*z))) == NULL)
		goto oom;
	z->n = cnt[3];
	z->name = strdup(name);
	z->at = calloc(z->n + 1, sizeof(*z->at));
	z->off = calloc(z->n + 1, sizeof(*z->off));
	if (z->name == NULL || z->at == NULL || z->off == NULL)
		goto oom;
	for (size_t i = 0; i < z->n; i++) {
		unsigned t = idx[i];
		if (t >= cnt[4]) {
			snprintf(err, errlen, "a tz database file with a bad type index");
			tz_free(z);
			return NULL;
		}
		z->at[i] = tsize == 8 ? be64(times + 8 * i) : (int64_t)(int32_t)be32(times + 4 * i);
		z->off[i] = (int32_t)be32(types + 6 * t);
	}
	/* before the first transition: the first standard-time type (type 0 when none) */
	z->before = (int32_t)be32(types);
	for (uint32_t t = 0; t < cnt[4]; t++)
		if (types[6 * t + 4] == 0) {
			z->before = (int32_t)be32(types + 6 * t);
			break;
		}
	z->after = z->n ? z->off[z->n - 1] : z->before;
	if (tsize == 8 && end < len && b[end] == '\n') {
		char footer[64];
		size_t n = 0;
		for (size_t i = end + 1; i < len && b[i] != '\n' && n + 1 < sizeof(footer); i++)
			footer[n++] = (char)b[i];
		footer[n] = '\0';
		int32_t off;
		if (n > 0 && footer_fixed(footer, &off))
			z->after = off;
	}
	return z;
oom:
	snprintf(err, errlen, "out of memory");
	tz_free(z);
	return NULL;
}

struct tz *tz_load(const char *name, char *err, size_t errlen)
{
	const char *dir = getenv("TZDIR") && *getenv("TZDIR") ? getenv("TZDIR") : "/usr/share/zoneinfo";
	char path[512];
	unsigned char *b;
	size_t len;
	FILE *f;
	struct tz *z;

	if (!name_ok(name)) {
		snprintf(err, errlen, "\"%s\" is not a time zone name (like \"Asia/Shanghai\")", name);
		return NULL;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (f == NULL) {
		snprintf(err, errlen, "no time zone \"%s\" in %s (is the tzdata package installed?)", name, dir);
		return NULL;
	}
	if ((b = malloc(TZ_FILE_MAX)) == NULL) {
		fclose(f);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	len = fread(b, 1, TZ_FILE_MAX, f);
	fclose(f);
	z = parse(name, b, len, err, errlen);
	if (z == NULL) {
		char why[128];
		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "%s: %s", path, why);
	}
	free(b);
	return z;
}

void tz_free(struct tz *z)
{
	if (z == NULL)
		return;
	free(z->name);
	free(z->at);
	free(z->off);
	free(z);
}

const char *tz_name(const struct tz *z)
{
	return z ? z->name : "UTC";
}

int tz_offset(const struct tz *z, int64_t t)
{
	size_t lo = 0, hi;

	if (z == NULL)
		return 0;
	if (z->n == 0 || t < z->at[0])
		return z->n ? z->before : z->after;
	if (t >= z->at[z->n - 1])
		return z->after;
	/* the last transition at or before t */
	hi = z->n - 1;
	while (lo < hi) {
		size_t mid = (lo + hi + 1) / 2;
		if (z->at[mid] <= t)
			lo = mid;
		else
			hi = mid - 1;
	}
	return z->off[lo];
}

void tz_civil(const struct tz *z, int64_t t, struct tm *out)
{
	int off = tz_offset(z, t);
	time_t local = (time_t)(t + off);

	gmtime_r(&local, out);
	out->tm_isdst = 0;
	out->tm_gmtoff = off;
	out->tm_zone = NULL;
}

int64_t tz_from_civil(const struct tz *z, const struct tm *tm)
{
	struct tm c = *tm;
	int64_t local, t;

	c.tm_isdst = 0;
	local = (int64_t)timegm(&c);
	/* the offset at the guess, then at the corrected time (once is enough but at a change of offset) */
	t = local - tz_offset(z, local);
	t = local - tz_offset(z, t);
	return t;
}

int64_t tz_day_start(const struct tz *z, int64_t t)
{
	struct tm tm;

	tz_civil(z, t, &tm);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	return tz_from_civil(z, &tm);
}

const char *tz_iso8601(const struct tz *z, int64_t t, char *buf, size_t len)
{
	struct tm tm;
	int off;

	tz_civil(z, t, &tm);
	off = (int)tm.tm_gmtoff;
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	    tm.tm_hour, tm.tm_min, tm.tm_sec, off < 0 ? '-' : '+', abs(off) / 3600, abs(off) % 3600 / 60);
	return buf;
}
