#include "smstext.h"

#include <string.h>

#include "utf8.h"

/* GSM 03.38 default alphabet, beyond printable ASCII (which is all in, but for
 * the characters listed in gsm7_ext and the backquote). */
static const uint32_t gsm7_basic_extra[] = {
	0x00A3, 0x00A5, 0x00E8, 0x00E9, 0x00F9, 0x00EC, 0x00F2, 0x00C7, 0x00D8, 0x00F8,
	0x00C5, 0x00E5, 0x0394, 0x03A6, 0x0393, 0x039B, 0x03A9, 0x03A0, 0x03A8, 0x03A3,
	0x0398, 0x039E, 0x00C6, 0x00E6, 0x00DF, 0x00C9, 0x00A4, 0x00A1, 0x00C4, 0x00D6,
	0x00D1, 0x00DC, 0x00A7, 0x00BF, 0x00E4, 0x00F6, 0x00F1, 0x00FC, 0x00E0,
};
/* The extension table: each costs an escape septet too. */
static const uint32_t gsm7_ext[] = { 0x0C, '^', '{', '}', '\\', '[', '~', ']', '|', 0x20AC };

/* Septets for cp in GSM-7, or 0 when it has no GSM-7 form. */
static size_t gsm7_septets(uint32_t cp)
{
	size_t k;

	if (cp > 0x20AC) /* past the euro sign, the last character GSM-7 has: Chinese, emoji */
		return 0;
	for (k = 0; k < sizeof(gsm7_ext) / sizeof(gsm7_ext[0]); k++)
		if (cp == gsm7_ext[k])
			return 2;
	if (cp == '\n' || cp == '\r' || (cp >= 0x20 && cp <= 0x7E && cp != '`'))
		return 1;
	for (k = 0; k < sizeof(gsm7_basic_extra) / sizeof(gsm7_basic_extra[0]); k++)
		if (cp == gsm7_basic_extra[k])
			return 1;
	return 0;
}

size_t sms_segments(enum sms_coding coding, size_t units)
{
	size_t single = coding == SMS_CODING_GSM7 ? SMS_GSM7_SINGLE : SMS_UCS2_SINGLE;
	size_t part = coding == SMS_CODING_GSM7 ? SMS_GSM7_PART : SMS_UCS2_PART;

	if (units <= single)
		return 1;
	return (units + part - 1) / part;
}

/*
 * Parts of a concatenated message, packed as encoders do: a character is
 * never split between parts (a GSM-7 extension character's escape and its
 * septet, the two halves of a surrogate pair), so one that does not fit the
 * room left starts the next part.
 */
static size_t packed_parts(const char *utf8, size_t len, bool gsm7)
{
	size_t cap = gsm7 ? SMS_GSM7_PART : SMS_UCS2_PART, parts = 1, used = 0, i = 0;

	while (i < len) {
		uint32_t cp = utf8_next(utf8, len, &i);
		size_t w = gsm7 ? gsm7_septets(cp) : (cp >= 0x10000 ? 2 : 1);
		if (used + w > cap) {
			parts++;
			used = 0;
		}
		used += w;
	}
	return parts;
}

void sms_count(const char *utf8, size_t len, struct sms_count *out)
{
	size_t i = 0, septets = 0, u16 = 0, chars = 0;
	bool gsm7 = true;

	while (i < len) {
		uint32_t cp = utf8_next(utf8, len, &i);
		size_t s = gsm7_septets(cp);
		if (s == 0)
			gsm7 = false;
		septets += s;
		u16 += cp >= 0x10000 ? 2 : 1;
		chars++;
	}
	out->chars = chars;
	out->coding = gsm7 ? SMS_CODING_GSM7 : SMS_CODING_UCS2;
	out->units = gsm7 ? septets : u16;
	out->segments = sms_segments(out->coding, out->units);
	if (out->segments > 1)
		out->segments = packed_parts(utf8, len, gsm7);
}

bool sms_is_gsm7(const char *utf8, size_t len)
{
	size_t i = 0;

	while (i < len)
		if (gsm7_septets(utf8_next(utf8, len, &i)) == 0)
			return false;
	return true;
}

/* What a stretch of text costs on a screen, counted as it grows. */
struct meter {
	size_t septets, units;
	bool gsm7;
};

static void meter_add(struct meter *m, uint32_t cp)
{
	size_t s = gsm7_septets(cp);

	if (s == 0)
		m->gsm7 = false;
	m->septets += s;
	m->units += cp >= 0x10000 ? 2 : 1;
}

static struct meter meter_of(const char *text, size_t n)
{
	struct meter m = { 0, 0, true };
	size_t i = 0;

	while (i < n)
		meter_add(&m, utf8_next(text, n, &i));
	return m;
}

/* Does a stretch costing a fit one screen, with "\n" + the tail when tail != NULL? */
static bool screen_fits(const struct meter *a, const struct meter *tail, size_t gsm7_limit, size_t ucs2_limit)
{
	if (tail == NULL)
		return a->gsm7 ? a->septets <= gsm7_limit : a->units <= ucs2_limit;
	if (a->gsm7 && tail->gsm7)
		return a->septets + 1 + tail->septets <= gsm7_limit;
	return a->units + 1 + tail->units <= ucs2_limit;
}

/*
 * Does a screen ending at end leave text for another one (a line break right
 * there is eaten by the screen break)? If not it is the last screen, shown
 * without the "more" tail, and must fit as that: a GSM-7 rest too long on its
 * own can fit next to a UCS-2 tail when the UCS-2 limit is the larger one.
 */
static bool leaves_rest(const char *text, size_t len, size_t end)
{
	if (end < len && text[end] == '\n')
		end++;
	return end < len;
}

size_t sms_split_screens(const char *text, size_t len, const char *more, size_t gsm7_limit,
    size_t ucs2_limit, struct sms_span *spans, size_t max)
{
	struct meter tail = meter_of(more ? more : "", more ? strlen(more) : 0);
	size_t off = 0, count = 0;

	/* each screen is measured as it grows: linear in the text, whatever its length */
	while (off < len || count == 0) {
		struct meter rest = meter_of(text + off, len - off);
		size_t best = 0;

		if (screen_fits(&rest, NULL, gsm7_limit, ucs2_limit)) {
			/* the whole rest fits as the last screen */
			best = len - off;
		} else {
			/* as many whole lines as fit, with the "more" tail */
			struct meter m = { 0, 0, true };
			size_t i = off;
			while (i < len) {
				size_t q = i;
				uint32_t cp = utf8_next(text, len, &q);
				if (cp == '\n') {
					if (!leaves_rest(text, len, i) || !screen_fits(&m, &tail, gsm7_limit, ucs2_limit))
						break;
					best = i - off;
				}
				meter_add(&m, cp);
				i = q;
			}
			if (best == 0) {
				/* one line too long: cut between characters */
				struct meter c = { 0, 0, true };
				size_t last = off;
				i = off;
				while (i < len) {
					size_t q = i;
					meter_add(&c, utf8_next(text, len, &q));
					if (!leaves_rest(text, len, q) || !screen_fits(&c, &tail, gsm7_limit, ucs2_limit))
						break;
					last = q;
					i = q;
				}
				best = last - off;
				if (best == 0) { /* not even one character fits: take one anyway */
					size_t q = off;
					utf8_next(text, len, &q);
					best = q - off;
				}
			}
		}
		if (count < max) {
			spans[count].off = off;
			spans[count].len = best;
		}
		count++;
		off += best;
		if (off < len && text[off] == '\n')
			off++; /* the line break is replaced by the screen break */
		if (off >= len)
			break;
	}
	return count;
}
