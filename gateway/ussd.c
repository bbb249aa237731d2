#include "ussd.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "smstext.h"
#include "utf8.h"

/* ---- form-urlencoded bodies ---------------------------------------------------------- */

enum rule {
	RULE_ID,     /* printable ASCII without spaces, at least one byte */
	RULE_CODE,   /* printable ASCII without spaces, may be empty */
	RULE_PHONE,  /* optional '+', then digits */
	RULE_TEXT,   /* valid UTF-8 without control characters, may be empty */
	RULE_DIGITS, /* a decimal count */
};

/* A field we read: where its value goes and what it must look like. */
struct spec {
	const char *name;
	size_t max;
	enum rule rule;
	bool required;
	const char **dst;
	size_t *dst_len; /* may be NULL */
	bool seen;
};

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decode s[0..n) in place ('+' is a space, %XX a byte) and NUL-terminate it;
 * the result is never longer, so s[n] is the furthest byte written. False on
 * a '%' not followed by two hex digits.
 */
static bool decode(char *s, size_t n, size_t *outlen)
{
	size_t r = 0, w = 0;

	while (r < n) {
		unsigned char c = (unsigned char)s[r];
		if (c == '%') {
			int hi, lo;
			if (r + 2 >= n) /* fewer than two bytes after the '%' */
				return false;
			hi = hexval((unsigned char)s[r + 1]);
			lo = hexval((unsigned char)s[r + 2]);
			if (hi < 0 || lo < 0)
				return false;
			s[w++] = (char)(hi << 4 | lo);
			r += 3;
		} else {
			s[w++] = c == '+' ? ' ' : (char)c;
			r++;
		}
	}
	s[w] = '\0';
	*outlen = w;
	return true;
}

static bool printable_ascii(const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] <= 0x20 || (unsigned char)v[i] >= 0x7F)
			return false;
	return true;
}

/* Valid UTF-8, no NUL, no C0 or C1 control characters, no DEL. */
static bool clean_text(const char *v, size_t n)
{
	size_t i = 0;

	if (!utf8_valid(v, n))
		return false;
	while (i < n) {
		uint32_t cp = utf8_next(v, n, &i);
		if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F))
			return false;
	}
	return true;
}

static bool check_value(const struct spec *sp, const char *v, size_t n, char *err, size_t errlen)
{
	size_t i = 0;

	if (n > sp->max) {
		snprintf(err, errlen, "%s is too long (%zu bytes, at most %zu)", sp->name, n, sp->max);
		return false;
	}
	switch (sp->rule) {
	case RULE_ID:
	case RULE_CODE:
		if ((sp->rule == RULE_ID && n == 0) || !printable_ascii(v, n)) {
			snprintf(err, errlen, "%s must be printable ASCII without spaces%s", sp->name,
			    sp->rule == RULE_ID ? ", not empty" : "");
			return false;
		}
		return true;
	case RULE_PHONE:
		if (n > 0 && v[0] == '+')
			i = 1;
		if (n - i < 3) {
			snprintf(err, errlen, "%s is not a phone number", sp->name);
			return false;
		}
		for (; i < n; i++)
			if (v[i] < '0' || v[i] > '9') {
				snprintf(err, errlen, "%s is not a phone number", sp->name);
				return false;
			}
		return true;
	case RULE_DIGITS:
		if (n == 0 || n > 15) {
			snprintf(err, errlen, "%s is not a number", sp->name);
			return false;
		}
		for (; i < n; i++)
			if (v[i] < '0' || v[i] > '9') {
				snprintf(err, errlen, "%s is not a number", sp->name);
				return false;
			}
		return true;
	case RULE_TEXT:
		if (!clean_text(v, n)) {
			snprintf(err, errlen, "%s is not valid UTF-8 text (or holds control characters)", sp->name);
			return false;
		}
		return true;
	}
	return false;
}

/*
 * Walk the pairs of body, decoding each in place, and fill the specs. The
 * first problem wins; err says what it was.
 */
static int parse_form(char *body, size_t len, struct spec *specs, size_t nspecs, char *err, size_t errlen)
{
	size_t pos = 0, pairs = 0;

	body[len] = '\0';
	while (pos < len) {
		char *seg = body + pos;
		char *amp = memchr(seg, '&', len - pos);
		size_t seglen = amp ? (size_t)(amp - seg) : len - pos;
		char *eq = memchr(seg, '=', seglen);
		size_t nlen, vlen;
		char *val;

		if (++pairs > USSD_FIELDS_MAX) {
			snprintf(err, errlen, "too many fields (at most %d)", USSD_FIELDS_MAX);
			return -1;
		}
		if (seglen == 0) {
			snprintf(err, errlen, "empty field (\"&&\", or '&' at an end)");
			return -1;
		}
		if (eq == NULL) {
			snprintf(err, errlen, "a field without '='");
			return -1;
		}
		val = eq + 1;
		vlen = seglen - (size_t)(val - seg);
		if (!decode(seg, (size_t)(eq - seg), &nlen) || nlen == 0 || !printable_ascii(seg, nlen)) {
			snprintf(err, errlen, "a field name that is empty or badly encoded");
			return -1;
		}
		struct spec *sp = NULL;
		for (size_t k = 0; k < nspecs; k++)
			if (strcmp(specs[k].name, seg) == 0)
				sp = &specs[k];
		if (!decode(val, vlen, &vlen)) {
			snprintf(err, errlen, "bad percent-encoding in %.40s", seg);
			return -1;
		}
		if (sp != NULL) {
			if (sp->seen) {
				snprintf(err, errlen, "duplicate field %s", sp->name);
				return -1;
			}
			if (!check_value(sp, val, vlen, err, errlen))
				return -1;
			sp->seen = true;
			*sp->dst = val;
			if (sp->dst_len)
				*sp->dst_len = vlen;
		}
		pos += seglen + 1;
		if (amp != NULL && pos == len) {
			snprintf(err, errlen, "empty field (\"&&\", or '&' at an end)");
			return -1;
		}
	}
	for (size_t k = 0; k < nspecs; k++)
		if (specs[k].required && !specs[k].seen) {
			snprintf(err, errlen, "missing field %s", specs[k].name);
			return -1;
		}
	return 0;
}

/* The phoneNumber field (syntax checked) in its normalised form, kept in buf. */
static int normalise_phone(const char **phone, const char *country, char *buf, size_t buflen, char *err,
    size_t errlen)
{
	if (phone_normalise(*phone, country, buf, buflen) == PHONE_NONE) {
		snprintf(err, errlen, "phoneNumber is not a phone number");
		return -1;
	}
	*phone = buf;
	return 0;
}

int ussd_parse_callback(char *body, size_t len, const char *country, struct ussd_callback *out, char *err,
    size_t errlen)
{
	struct spec specs[] = {
		{ "sessionId", USSD_SESSION_ID_MAX, RULE_ID, true, &out->session_id, NULL, false },
		{ "serviceCode", USSD_SERVICE_CODE_MAX, RULE_ID, true, &out->service_code, NULL, false },
		{ "phoneNumber", USSD_PHONE_MAX, RULE_PHONE, true, &out->phone, NULL, false },
		{ "networkCode", USSD_NETWORK_MAX, RULE_CODE, false, &out->network, NULL, false },
		{ "text", USSD_TEXT_MAX, RULE_TEXT, true, &out->text, &out->text_len, false },
	};

	memset(out, 0, sizeof(*out));
	out->network = "";
	if (parse_form(body, len, specs, ARRAY_LEN(specs), err, errlen) < 0)
		return -1;
	return normalise_phone(&out->phone, country, out->phone_buf, sizeof(out->phone_buf), err, errlen);
}

int ussd_parse_end(char *body, size_t len, const char *country, struct ussd_end *out, char *err, size_t errlen)
{
	const char *duration = NULL;
	struct spec specs[] = {
		{ "sessionId", USSD_SESSION_ID_MAX, RULE_ID, true, &out->session_id, NULL, false },
		{ "phoneNumber", USSD_PHONE_MAX, RULE_PHONE, true, &out->phone, NULL, false },
		{ "status", USSD_STATUS_MAX, RULE_ID, true, &out->status, NULL, false },
		{ "input", USSD_TEXT_MAX, RULE_TEXT, false, &out->input, NULL, false },
		{ "errorMessage", USSD_ERROR_MAX, RULE_TEXT, false, &out->error, NULL, false },
		{ "durationInMillis", 15, RULE_DIGITS, false, &duration, NULL, false },
		{ "serviceCode", USSD_SERVICE_CODE_MAX, RULE_CODE, false, &out->service_code, NULL, false },
		{ "networkCode", USSD_NETWORK_MAX, RULE_CODE, false, &out->network, NULL, false },
	};
	long long d;

	memset(out, 0, sizeof(*out));
	out->input = out->error = out->service_code = out->network = "";
	out->duration_ms = -1;
	if (parse_form(body, len, specs, ARRAY_LEN(specs), err, errlen) < 0 ||
	    normalise_phone(&out->phone, country, out->phone_buf, sizeof(out->phone_buf), err, errlen) < 0)
		return -1;
	if (duration != NULL) {
		if (!parse_int(duration, 0, 999999999999999LL, &d)) {
			snprintf(err, errlen, "durationInMillis is not a number");
			return -1;
		}
		out->duration_ms = d;
	}
	return 0;
}

/* ---- the new input of a step -------------------------------------------------------------- */

enum ussd_input_kind ussd_new_input(const char *prev, const char *text, size_t len, size_t *off, size_t *inlen)
{
	size_t plen = prev ? strlen(prev) : 0;
	const char *star;

	if (prev != NULL && plen == len && memcmp(prev, text, len) == 0) {
		star = len ? memrchr(text, '*', len) : NULL;
		*off = star ? (size_t)(star - text) + 1 : 0;
		*inlen = len - *off;
		return USSD_INPUT_AGAIN;
	}
	if (len == 0) {
		*off = *inlen = 0;
		return USSD_INPUT_FIRST;
	}
	if (prev != NULL && plen == 0) {
		*off = 0;
		*inlen = len;
		return USSD_INPUT_NEW;
	}
	if (prev != NULL && len > plen && memcmp(text, prev, plen) == 0 && text[plen] == '*') {
		*off = plen + 1;
		*inlen = len - *off;
		return USSD_INPUT_NEW;
	}
	/* no live session, or the aggregator sent something else: the last input is what counts */
	star = memrchr(text, '*', len);
	*off = star ? (size_t)(star - text) + 1 : 0;
	*inlen = len - *off;
	return USSD_INPUT_NEW;
}

bool ussd_is_more(const char *input, size_t len)
{
	while (len > 0 && input[0] == ' ') {
		input++;
		len--;
	}
	while (len > 0 && input[len - 1] == ' ')
		len--;
	return len == strlen(USSD_MORE_INPUT) && memcmp(input, USSD_MORE_INPUT, len) == 0;
}

/* ---- screens and answers ------------------------------------------------------------------- */

#define SPAN_CHUNK 16

size_t ussd_screen(const char *reply, size_t len, const struct ussd_limits *lim, size_t index, struct ussd_span *span)
{
	struct sms_span spans[SPAN_CHUNK];
	size_t base = 0, total;

	total = sms_split_screens(reply, len, lim->more, lim->gsm7, lim->ucs2, spans, SPAN_CHUNK);
	if (index >= total)
		index = total - 1;
	/* a reply of more than SPAN_CHUNK screens: split again from where the chunk ended */
	while (index >= SPAN_CHUNK) {
		size_t next = base + spans[SPAN_CHUNK - 1].off + spans[SPAN_CHUNK - 1].len;
		if (next < len && reply[next] == '\n')
			next++;
		base = next;
		index -= SPAN_CHUNK;
		(void)sms_split_screens(reply + base, len - base, lim->more, lim->gsm7, lim->ucs2, spans, SPAN_CHUNK);
	}
	span->off = base + spans[index].off;
	span->len = spans[index].len;
	return total;
}

char *ussd_answer(const char *reply, const struct ussd_limits *lim, size_t index, bool end, bool *ended,
    size_t *screens)
{
	size_t len = strlen(reply), more_len = lim->more ? strlen(lim->more) : 0, n, w;
	struct ussd_span sp;
	bool last;
	char *out;

	n = ussd_screen(reply, len, lim, index, &sp);
	last = index + 1 >= n;
	end = end && n == 1;
	out = xmalloc(4 + sp.len + 1 + more_len + 1);
	memcpy(out, end ? "END " : "CON ", 4);
	memcpy(out + 4, reply + sp.off, sp.len);
	w = 4 + sp.len;
	if (!last && more_len > 0) {
		out[w++] = '\n';
		memcpy(out + w, lim->more, more_len);
		w += more_len;
	}
	out[w] = '\0';
	if (ended)
		*ended = end;
	if (screens)
		*screens = n;
	return out;
}

/* ---- source addresses ------------------------------------------------------------------------ */

struct net {
	int family;
	unsigned char addr[16];
	int bits;
};

static bool parse_net(const char *entry, struct net *n)
{
	char host[64];
	const char *slash = strchr(entry, '/');
	size_t hlen = slash ? (size_t)(slash - entry) : strlen(entry);
	long long bits;

	if (hlen == 0 || hlen >= sizeof(host))
		return false;
	memcpy(host, entry, hlen);
	host[hlen] = '\0';
	if (inet_pton(AF_INET, host, n->addr) == 1) {
		n->family = AF_INET;
		n->bits = 32;
	} else if (inet_pton(AF_INET6, host, n->addr) == 1) {
		n->family = AF_INET6;
		n->bits = 128;
	} else {
		return false;
	}
	if (slash) {
		if (!parse_int(slash + 1, 0, n->bits, &bits))
			return false;
		n->bits = (int)bits;
	}
	return true;
}

bool ussd_allow_entry_ok(const char *entry)
{
	struct net n;

	return parse_net(entry, &n);
}

static bool prefix_equal(const unsigned char *a, const unsigned char *b, int bits)
{
	int whole = bits / 8, rest = bits % 8;

	if (memcmp(a, b, (size_t)whole) != 0)
		return false;
	if (rest == 0)
		return true;
	unsigned char mask = (unsigned char)(0xFF << (8 - rest));
	return (a[whole] & mask) == (b[whole] & mask);
}

bool ussd_source_allowed(const struct sockaddr *sa, char *const *allow, size_t n)
{
	unsigned char addr[16];
	int family;

	if (sa == NULL)
		return false;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
		family = AF_INET;
		memcpy(addr, &in->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			family = AF_INET;
			memcpy(addr, in6->sin6_addr.s6_addr + 12, 4);
		} else {
			family = AF_INET6;
			memcpy(addr, &in6->sin6_addr, 16);
		}
	} else {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		struct net net;
		if (allow[i] && parse_net(allow[i], &net) && net.family == family && prefix_equal(addr, net.addr, net.bits))
			return true;
	}
	return false;
}
