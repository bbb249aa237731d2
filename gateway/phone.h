/*
 * phone: every phone number that enters the hotline (a modem's sender, a
 * caller, USSD's phoneNumber, the config's staff and own numbers,
 * hotlinectl's arguments, the number a villager types into a form) is
 * normalised here once, at that edge, to E.164 ("+8613912345678"). The
 * database keeps only normalised forms and everything compares them with
 * strcmp: there is no lenient comparison, so +1 390 000 0001 is never
 * 139 0000 0001.
 */
#ifndef HOTLINE_PHONE_H
#define HOTLINE_PHONE_H

#include <stdbool.h>
#include <stddef.h>

/* Room for any normalised number: E.164 is at most 16 bytes; other senders are cut to fit. */
#define PHONE_LEN 40
/* The E.164 country code used when a number carries none (config: phone.country_code). */
#define PHONE_COUNTRY_DEFAULT "86"

enum phone_kind {
	PHONE_NONE = 0, /* nothing there: empty or only spaces */
	PHONE_E164,     /* "+8613912345678", "+14155550100": a person's number; the only kind answered */
	PHONE_SERVICE,  /* digits that are no person's number: 10086, 95588, 106..., "+8610086" -> "10086" */
	PHONE_ALPHA,    /* a sender with letters or other signs ("BANK"): kept as given, spaces trimmed */
};

/*
 * Normalise in (as a network, an aggregator, a config file or a person wrote
 * it: "+86 139-1234-5678", "008613912345678", "8613912345678",
 * "13912345678", full-width digits, "0933-1234567") into out and say what it
 * is. country is the E.164 country code for numbers written without one
 * ("86"); with NULL, only numbers that carry their country (+..., 00...)
 * become E.164. With "86", a national mobile (1[3-9] and 9 digits), "86"
 * before one, and a landline with its trunk 0 (0933-1234567) gain +86. A
 * number after + or 00 keeps its own country. out is always terminated
 * (empty for PHONE_NONE); a PHONE_ALPHA sender is cut at a character
 * boundary to fit. Never fails.
 */
enum phone_kind phone_normalise(const char *in, const char *country, char *out, size_t outlen);

/* Is country an E.164 country code (1 to 3 digits, not starting with 0)? */
bool phone_country_ok(const char *country);

/*
 * True for a normalised number a person could be texting from (PHONE_E164).
 * False for short codes (10086, 95588), service numbers (106...),
 * alphanumeric senders and empty strings: those are never answered, which
 * stops loops with auto-responders. Takes only phone_normalise()'s output.
 */
bool phone_is_ordinary(const char *normalised);

/*
 * How a normalised number is written for a villager or staff member in an
 * SMS: a Chinese mobile of the home country (country "86") without its +86
 * ("13912345678", as people dial it); any other number as stored. Returns a
 * pointer into normalised (or normalised itself).
 */
const char *phone_shown(const char *normalised, const char *country);

/*
 * Take the number out of what a person typed (full-width digits, spaces,
 * dashes, words around it: 儿子电话139 1234 5678) and normalise it into out.
 * True only when it is a person's number (PHONE_E164); false when there are
 * letters, or no such number.
 */
bool phone_parse_typed(const char *in, const char *country, char *out, size_t outlen);

#endif
