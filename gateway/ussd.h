/*
 * ussd: the pure half of the USSD channel. No I/O, no allocation except in
 * ussd_answer(), no global state: every function here can be called from a
 * unit test or a libFuzzer harness on any bytes.
 *
 *   - parsing an aggregator's form-urlencoded body (the step callback and the
 *     end-of-session notification), strictly: bad percent-encoding, invalid
 *     UTF-8, control characters, duplicate or missing fields and over-long
 *     values are refused with a reason;
 *   - the aggregator's `text` (every input of the session joined by '*')
 *     turned into the one new input of this step;
 *   - a reply cut into USSD screens, and the "CON ..."/"END ..." answer;
 *   - whether a source address is in ussd.allow.
 *
 * What touches the database (sessions, dispatch, the message log) is in
 * ussd_session.c; the HTTP plumbing in http.c.
 */
#ifndef HOTLINE_USSD_H
#define HOTLINE_USSD_H

#include <stdbool.h>
#include <stddef.h>

#include "phone.h"
#include "util.h"

struct sockaddr;

/* Longest value accepted per field, in bytes after decoding. */
#define USSD_SESSION_ID_MAX   100  /* fits "ussd:<id> <phone>" in session.key */
#define USSD_PHONE_MAX        24
#define USSD_SERVICE_CODE_MAX 40   /* "*123*45#" */
#define USSD_NETWORK_MAX      16   /* "46000" */
#define USSD_STATUS_MAX       32   /* "Success" | "Incomplete" | "Failed" */
#define USSD_TEXT_MAX         2048 /* a whole session's inputs, joined by '*' */
#define USSD_ERROR_MAX        512
#define USSD_FIELDS_MAX       32   /* pairs in one body, known or not */

/* "98": show the next screen of the same reply (the ussd_more footer says so). */
#define USSD_MORE_INPUT "98"

/*
 * The step callback. Every pointer points into the body given to
 * ussd_parse_callback() (decoded in place, NUL-terminated) and is valid as
 * long as that buffer is. network is "" when the aggregator left it out.
 */
struct ussd_callback {
	const char *session_id;   /* printable ASCII, no spaces */
	const char *service_code;
	const char *phone;        /* normalised (phone_normalise): "+8613800000001"; points into phone_buf */
	const char *network;
	const char *text;         /* valid UTF-8, no control characters; may be "" */
	size_t text_len;
	char phone_buf[PHONE_LEN];
};

/* The end-of-session notification (pointers as above; optional ones are "" when absent). */
struct ussd_end {
	const char *session_id;
	const char *phone;
	const char *status;
	const char *input;        /* what the user sent last, as the aggregator saw it */
	const char *error;        /* errorMessage */
	const char *service_code;
	const char *network;
	long long duration_ms;    /* durationInMillis; -1 when absent */
	char phone_buf[PHONE_LEN];
};

/*
 * Parse a form-urlencoded body: fields sessionId, serviceCode, phoneNumber,
 * text (required) and networkCode (optional); other fields are ignored once
 * their encoding is checked. body holds len bytes and must have room for one
 * more: it is decoded in place (body[len] is written). phoneNumber is
 * normalised here, the edge where it enters (country: phone.country_code).
 * Returns 0, or -1 with a one-line reason for the client in err (out is then
 * undefined).
 */
int ussd_parse_callback(char *body, size_t len, const char *country, struct ussd_callback *out, char *err,
    size_t errlen) WARN_UNUSED;

/*
 * The same for the end-of-session notification: sessionId, phoneNumber and
 * status required; input, errorMessage, durationInMillis, serviceCode,
 * networkCode optional.
 */
int ussd_parse_end(char *body, size_t len, const char *country, struct ussd_end *out, char *err,
    size_t errlen) WARN_UNUSED;

/* ---- the new input of a step ------------------------------------------------------ */

enum ussd_input_kind {
	USSD_INPUT_FIRST, /* text is empty: the dial itself; the input is "" (the main menu) */
	USSD_INPUT_NEW,   /* the input is new: run it */
	USSD_INPUT_AGAIN, /* text is the previous text again: the aggregator repeated a request */
};

/*
 * What this step's text adds. prev is the text of the session's previous
 * step, NULL when there is no live session. When text is prev + "*" + rest
 * (or prev is "" and text is not), the input is rest; when it does not
 * extend prev, the input is the last '*'-separated field of text. *off and
 * *inlen give the input inside text (always a suffix of it). Never fails.
 */
enum ussd_input_kind ussd_new_input(const char *prev, const char *text, size_t len, size_t *off, size_t *inlen);

/* Is the input the "next screen" choice (98, spaces around allowed)? */
bool ussd_is_more(const char *input, size_t len);

/* ---- screens and answers ------------------------------------------------------------ */

/* Where one screen is in a reply: byte offset and length. */
struct ussd_span {
	size_t off, len;
};

struct ussd_limits {
	size_t gsm7;     /* characters on a screen that is all GSM-7 (ussd.gsm7_limit) */
	size_t ucs2;     /* UTF-16 units on any other screen (ussd.ucs2_limit) */
	const char *more; /* the footer of a screen with more after it (texts.ussd_more) */
};

/*
 * How many screens reply needs, and where screen `index` is (clamped to the
 * last screen). Every screen but the last carries "\n" + more, counted in the
 * limit (sms_split_screens in smstext.h). Never fails.
 */
size_t ussd_screen(const char *reply, size_t len, const struct ussd_limits *lim, size_t index, struct ussd_span *span);

/*
 * The HTTP body for screen `index` of reply: "END <screen>" when end is
 * asked and the reply fits one screen, else "CON <screen>" (with the footer
 * when more screens follow). *ended says which; *screens how many the reply
 * has (either may be NULL). The caller frees the result.
 */
char *ussd_answer(const char *reply, const struct ussd_limits *lim, size_t index, bool end, bool *ended,
    size_t *screens);

/* ---- source addresses ------------------------------------------------------------------ */

/*
 * Is sa (AF_INET or AF_INET6; an IPv4-mapped IPv6 address counts as IPv4)
 * one of the entries: "10.1.2.3", "10.0.0.0/8", "2001:db8::1",
 * "2001:db8::/32"? Entries that do not parse never match (see
 * ussd_allow_entry_ok). An empty list allows nobody: the caller decides what
 * an empty ussd.allow means.
 */
bool ussd_source_allowed(const struct sockaddr *sa, char *const *allow, size_t n);
/* Does one ussd.allow entry parse? */
bool ussd_allow_entry_ok(const char *entry);

#endif
