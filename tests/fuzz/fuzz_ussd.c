/*
 * fuzz_ussd: the pure half of the USSD channel (ussd.h) on any bytes: the
 * aggregator's step and end bodies, the text diff, the next-screen input,
 * screen splitting and the CON/END answer, ussd.allow entries.
 *
 * Promises checked: the parsers either refuse with a reason or give fields
 * that are NUL-terminated, inside the body, within their documented length
 * and valid UTF-8 text, and the phone number normalised; the new input is a suffix of the text; every screen
 * lies inside the reply, starts on a character boundary, follows the one
 * before it and keeps to the limit (GSM-7 characters or UTF-16 units, the
 * "more" footer counted); the answer is "CON " or "END " and valid UTF-8.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "phone.h"
#include "smstext.h"
#include "ussd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fu_check_field(const char *f, const char *buf, size_t buflen, size_t max)
{
	FUZZ_CHECK(f != NULL);
	FUZZ_CHECK(f >= buf && f <= buf + buflen);
	FUZZ_CHECK(strlen(f) <= max);
}

/* phoneNumber comes out normalised, in its own buffer, and stays so when normalised again. */
static void fu_check_phone(const char *phone, const char *buf)
{
	char again[PHONE_LEN];

	FUZZ_CHECK(phone == buf && *phone != '\0' && strlen(phone) < PHONE_LEN);
	phone_normalise(phone, PHONE_COUNTRY_DEFAULT, again, sizeof(again));
	FUZZ_CHECK(strcmp(again, phone) == 0);
}

static void fu_parse(const uint8_t *data, size_t size)
{
	char *body = malloc(size + 1), err[200];
	struct ussd_callback cb;
	struct ussd_end ev;

	memcpy(body, data, size);
	if (ussd_parse_callback(body, size, PHONE_COUNTRY_DEFAULT, &cb, err, sizeof(err)) == 0) {
		fu_check_field(cb.session_id, body, size, USSD_SESSION_ID_MAX);
		fu_check_field(cb.service_code, body, size, USSD_SERVICE_CODE_MAX);
		fu_check_phone(cb.phone, cb.phone_buf);
		FUZZ_CHECK(cb.network != NULL && strlen(cb.network) <= USSD_NETWORK_MAX);
		fu_check_field(cb.text, body, size, USSD_TEXT_MAX);
		FUZZ_CHECK(cb.text_len == strlen(cb.text));
		FUZZ_CHECK(utf8_valid(cb.text, cb.text_len));
		for (const char *p = cb.session_id; *p; p++)
			FUZZ_CHECK(*p > ' ' && *p < 0x7f);
	} else {
		FUZZ_CHECK(err[0] != '\0');
	}
	memcpy(body, data, size);
	if (ussd_parse_end(body, size, PHONE_COUNTRY_DEFAULT, &ev, err, sizeof(err)) == 0) {
		fu_check_field(ev.session_id, body, size, USSD_SESSION_ID_MAX);
		fu_check_phone(ev.phone, ev.phone_buf);
		FUZZ_CHECK(ev.status != NULL && strlen(ev.status) <= USSD_STATUS_MAX);
		FUZZ_CHECK(ev.input != NULL && ev.error != NULL && ev.service_code != NULL && ev.network != NULL);
	} else {
		FUZZ_CHECK(err[0] != '\0');
	}
	free(body);
}

/* prev and text: the input split at its first NUL (prev absent when there is none). */
static void fu_new_input(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	char *prev = NULL, *text;
	size_t tlen, off = 0, inlen = 0;
	enum ussd_input_kind k;

	if (nul != NULL) {
		prev = strndup((const char *)data, (size_t)(nul - data));
		text = fuzz_valid_utf8(nul + 1, size - (size_t)(nul - data) - 1, &tlen);
	} else {
		text = fuzz_valid_utf8(data, size, &tlen);
	}
	k = ussd_new_input(prev, text, tlen, &off, &inlen);
	FUZZ_CHECK(k == USSD_INPUT_FIRST || k == USSD_INPUT_NEW || k == USSD_INPUT_AGAIN);
	FUZZ_CHECK(off <= tlen && inlen <= tlen - off && off + inlen == tlen);
	(void)ussd_is_more(text + off, inlen);
	(void)ussd_is_more((const char *)data, size);
	free(prev);
	free(text);
}

#define FU_MAX_SCREENS 512

static void fu_screens(const uint8_t *data, size_t size)
{
	static struct sms_span spans[FU_MAX_SCREENS];
	struct ussd_limits lim;
	struct ussd_span span;
	size_t len, screens, prev_end = 0, pick;
	char *reply;
	static const char *const mores[] = { "98更多 0返回", "98 more", "" };

	if (size < 2)
		return;
	lim.gsm7 = 40 + data[0] % 143;      /* ussd.gsm7_limit: 40..182 */
	lim.ucs2 = 20 + data[1] % 72;       /* ussd.ucs2_limit: 20..91 */
	lim.more = mores[(data[0] >> 4) % 3];
	reply = fuzz_valid_utf8(data + 2, size - 2, &len);
	/* every screen at once from the splitter, then ussd_screen agrees on some of them */
	screens = sms_split_screens(reply, len, lim.more, lim.gsm7, lim.ucs2, spans, FU_MAX_SCREENS);
	FUZZ_CHECK(screens >= 1);
	pick = data[1] % screens;
	if (pick < FU_MAX_SCREENS) {
		FUZZ_CHECK(ussd_screen(reply, len, &lim, pick, &span) == screens);
		FUZZ_CHECK(span.off == spans[pick].off && span.len == spans[pick].len);
	}
	for (size_t i = 0; i < screens && i < FU_MAX_SCREENS; i++) {
		struct sms_count cnt;
		char *shown;
		size_t slen;
		span.off = spans[i].off;
		span.len = spans[i].len;
		FUZZ_CHECK(span.off <= len && span.len <= len - span.off);
		FUZZ_CHECK(span.off >= prev_end);
		FUZZ_CHECK(span.len > 0 || len == 0);
		FUZZ_CHECK(span.off == len || ((unsigned char)reply[span.off] & 0xC0) != 0x80);
		FUZZ_CHECK(span.off + span.len == len || ((unsigned char)reply[span.off + span.len] & 0xC0) != 0x80);
		prev_end = span.off + span.len;
		/* what the screen shows, the footer counted; one character always goes, even if too wide */
		shown = malloc(span.len + strlen(lim.more) + 2);
		memcpy(shown, reply + span.off, span.len);
		slen = span.len;
		if (i + 1 < screens) {
			shown[slen++] = '\n';
			memcpy(shown + slen, lim.more, strlen(lim.more));
			slen += strlen(lim.more);
		}
		sms_count(shown, slen, &cnt);
		if (utf8_chars(reply + span.off, span.len) > 1) {
			if (sms_is_gsm7(shown, slen))
				FUZZ_CHECK(cnt.chars <= lim.gsm7);
			else
				FUZZ_CHECK(cnt.units <= lim.ucs2);
		}
		free(shown);
	}
	/* the last screen ends the text */
	if (screens <= FU_MAX_SCREENS)
		FUZZ_CHECK(spans[screens - 1].off + spans[screens - 1].len <= len);
	{
		bool ended, end = (data[0] & 1) != 0;
		size_t n;
		char *a = ussd_answer(reply, &lim, data[1] % (screens + 1), end, &ended, &n);
		FUZZ_CHECK(a != NULL);
		FUZZ_CHECK(n == screens);
		FUZZ_CHECK(strncmp(a, ended ? "END " : "CON ", 4) == 0);
		FUZZ_CHECK(ended == (end && screens == 1));
		FUZZ_CHECK(utf8_valid(a, strlen(a)));
		free(a);
	}
	free(reply);
}

static void fu_allow(const uint8_t *data, size_t size)
{
	char *entry = strndup((const char *)data, size > 64 ? 64 : size);
	char *list[1] = { entry };
	struct sockaddr_in a4;
	struct sockaddr_in6 a6;

	memset(&a4, 0, sizeof(a4));
	a4.sin_family = AF_INET;
	memcpy(&a4.sin_addr, data, size >= 4 ? 4 : size);
	memset(&a6, 0, sizeof(a6));
	a6.sin6_family = AF_INET6;
	memcpy(&a6.sin6_addr, data, size >= 16 ? 16 : size);
	if (!ussd_allow_entry_ok(entry)) {
		FUZZ_CHECK(!ussd_source_allowed((struct sockaddr *)&a4, list, 1));
		FUZZ_CHECK(!ussd_source_allowed((struct sockaddr *)&a6, list, 1));
	} else {
		(void)ussd_source_allowed((struct sockaddr *)&a4, list, 1);
		(void)ussd_source_allowed((struct sockaddr *)&a6, list, 1);
	}
	free(entry);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fu_parse(data, size);
	fu_new_input(data, size);
	fu_screens(data, size);
	fu_allow(data, size);
	return 0;
}
