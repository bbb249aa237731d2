/*
 * phone: phone numbers as the network gives them (+8613912345678,
 * 13912345678, 0933-1234567, 10086, BANK) made comparable, and judged.
 */
#ifndef HOTLINE_PHONE_H
#define HOTLINE_PHONE_H

#include <stdbool.h>
#include <stddef.h>

#define PHONE_KEY_LEN 24

/*
 * The comparable form of a number: digits only, with a Chinese country
 * prefix (+86, 0086, 86 before an 11-digit mobile) removed, so that
 * "+86 139-1234-5678" and "13912345678" give the same key. A sender with
 * letters keeps its letters, upper-cased. Never fails; truncates.
 */
void phone_key(const char *in, char *out, size_t outlen);
/* True when a and b are the same number by phone_key(). */
bool phone_same(const char *a, const char *b);
/*
 * True for a number a person could be texting from: a mobile, a landline or
 * an international number. False for short codes (10086, 95588), service
 * numbers (106...), alphanumeric senders and empty strings: those are never
 * answered, which stops loops with auto-responders.
 */
bool phone_is_ordinary(const char *in);
/*
 * Take the number out of what a person typed (full-width digits, spaces,
 * dashes, words around it: 儿子电话139 1234 5678) into out as digits (a
 * leading + kept). False when there are letters, or not 7 to 15 digits.
 */
bool phone_parse_typed(const char *in, char *out, size_t outlen);

#endif
