/*
 * smstext: how long a text is as SMS, in one place. Pure functions, no I/O.
 *
 * GSM-7 is used when every character is in the GSM 03.38 default alphabet or
 * its extension table (an extension character costs 2 septets); otherwise the
 * text goes as UCS-2 (UTF-16 code units; a character outside the BMP, such as
 * an emoji, costs 2 units).
 */
#ifndef HOTLINE_SMSTEXT_H
#define HOTLINE_SMSTEXT_H

#include <stdbool.h>
#include <stddef.h>

#define SMS_GSM7_SINGLE 160 /* septets in a lone SMS */
#define SMS_GSM7_PART   153 /* septets per part of a concatenated SMS */
#define SMS_UCS2_SINGLE 70  /* UTF-16 units in a lone SMS */
#define SMS_UCS2_PART   67  /* UTF-16 units per part of a concatenated SMS */
#define SMS_MAX_PARTS   255

enum sms_coding { SMS_CODING_GSM7, SMS_CODING_UCS2 };

struct sms_count {
	enum sms_coding coding;
	size_t chars;    /* Unicode code points */
	size_t units;    /* septets (GSM-7) or UTF-16 units (UCS-2) */
	size_t segments; /* SMS parts needed (no character split between parts); 1 for the empty text */
};

/* Count a UTF-8 text (invalid bytes count as one U+FFFD each). Never fails. */
void sms_count(const char *utf8, size_t len, struct sms_count *out);

/* True when every character of the UTF-8 text fits the GSM-7 alphabet. */
bool sms_is_gsm7(const char *utf8, size_t len);

/* Segments needed for `units` of the given coding (0 units -> 1 segment). */
size_t sms_segments(enum sms_coding coding, size_t units);

/*
 * Split a text into USSD screens. A screen holds at most gsm7_limit
 * characters when it is all GSM-7, else ucs2_limit UTF-16 units; every
 * screen but the last also carries `more` (e.g. "98更多 0返回") after a
 * newline, counted in that budget. Lines are kept whole where they fit; a
 * longer line is cut between characters. Writes up to max spans (byte offset
 * and length into text) and returns how many screens the text needs (which
 * may be more than max).
 */
struct sms_span {
	size_t off, len;
};
size_t sms_split_screens(const char *text, size_t len, const char *more, size_t gsm7_limit,
    size_t ucs2_limit, struct sms_span *spans, size_t max);

#endif
