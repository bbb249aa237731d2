/*
 * kannel_in: the inbound side of a Kannel link (MO and delivery reports).
 * No libcurl here: http.c reads the call, this file decides and stores.
 */
#include "kannel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dispatch.h"
#include "outbox.h"
#include "log.h"
#include "metrics.h"
#include "phone.h"
#include "store.h"
#include "store_kannel.h"
#include "utf8.h"

/* GSM 03.38 default alphabet, septet -> code point (0x1B is the escape). */
static const uint16_t gsm_basic[128] = {
	0x0040, 0x00A3, 0x0024, 0x00A5, 0x00E8, 0x00E9, 0x00F9, 0x00EC, 0x00F2, 0x00C7, 0x000A, 0x00D8, 0x00F8,
	0x000D, 0x00C5, 0x00E5, 0x0394, 0x005F, 0x03A6, 0x0393, 0x039B, 0x03A9, 0x03A0, 0x03A8, 0x03A3, 0x0398,
	0x039E, 0x001B, 0x00C6, 0x00E6, 0x00DF, 0x00C9, 0x0020, 0x0021, 0x0022, 0x0023, 0x00A4, 0x0025, 0x0026,
	0x0027, 0x0028, 0x0029, 0x002A, 0x002B, 0x002C, 0x002D, 0x002E, 0x002F, 0x0030, 0x0031, 0x0032, 0x0033,
	0x0034, 0x0035, 0x0036, 0x0037, 0x0038, 0x0039, 0x003A, 0x003B, 0x003C, 0x003D, 0x003E, 0x003F, 0x00A1,
	0x0041, 0x0042, 0x0043, 0x0044, 0x0045, 0x0046, 0x0047, 0x0048, 0x0049, 0x004A, 0x004B, 0x004C, 0x004D,
	0x004E, 0x004F, 0x0050, 0x0051, 0x0052, 0x0053, 0x0054, 0x0055, 0x0056, 0x0057, 0x0058, 0x0059, 0x005A,
	0x00C4, 0x00D6, 0x00D1, 0x00DC, 0x00A7, 0x00BF, 0x0061, 0x0062, 0x0063, 0x0064, 0x0065, 0x0066, 0x0067,
	0x0068, 0x0069, 0x006A, 0x006B, 0x006C, 0x006D, 0x006E, 0x006F, 0x0070, 0x0071, 0x0072, 0x0073, 0x0074,
	0x0075, 0x0076, 0x0077, 0x0078, 0x0079, 0x007A, 0x00E4, 0x00F6, 0x00F1, 0x00FC, 0x00E0,
};

/* The extension table: the septet after an escape, and its code point. */
static uint32_t gsm_ext(unsigned char c)
{
	switch (c) {
	case 0x0A: return 0x000C;
	case 0x14: return '^';
	case 0x28: return '{';
	case 0x29: return '}';
	case 0x2F: return '\\';
	case 0x3C: return '[';
	case 0x3D: return '~';
	case 0x3E: return ']';
	case 0x40: return '|';
	case 0x65: return 0x20AC;
	default: return UTF8_REPLACEMENT;
	}
}

static void put_cp(struct buf *out, uint32_t cp)
{
	char u[4];

	buf_add(out, u, utf8_put(cp, u));
}

static bool charset_is(const char *cs, const char *const *names)
{
	for (; *names; names++)
		if (strcasecmp(cs, *names) == 0)
			return true;
	return false;
}

void kannel_decode_text(const char *coding, const char *charset, const char *in, size_t len, struct buf *out,
    bool *binary)
{
	static const char *const utf8[] = { "UTF-8", "UTF8", NULL };
	static const char *const utf16[] = { "UTF-16BE", "UTF-16", "UCS-2", "UCS-2BE", "UCS2", "UNICODE", NULL };
	static const char *const latin1[] = { "ISO-8859-1", "ISO8859-1", "LATIN1", "WINDOWS-1252", "CP1252", NULL };
	static const char *const gsm[] = { "GSM", "GSM7", "GSM-7", "GSM0338", NULL };
	const unsigned char *p = (const unsigned char *)in;
	int code = coding && *coding ? atoi(coding) : 0;
	const char *cs = charset && *charset ? charset : code == 2 ? "UTF-16BE" : "UTF-8";

	*binary = code == 1;
	buf_reset(out);
	if (*binary) {
		buf_add(out, in, len);
		return;
	}
	if (charset_is(cs, utf16)) {
		for (size_t i = 0; i + 1 < len; i += 2) {
			uint32_t u = (uint32_t)p[i] << 8 | p[i + 1];
			if (u >= 0xD800 && u <= 0xDBFF && i + 3 < len) {
				uint32_t lo = (uint32_t)p[i + 2] << 8 | p[i + 3];
				if (lo >= 0xDC00 && lo <= 0xDFFF) {
					put_cp(out, 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00));
					i += 2;
					continue;
				}
			}
			put_cp(out, u >= 0xD800 && u <= 0xDFFF ? UTF8_REPLACEMENT : u);
		}
		if (len % 2)
			put_cp(out, UTF8_REPLACEMENT);
		return;
	}
	if (charset_is(cs, latin1)) {
		for (size_t i = 0; i < len; i++)
			put_cp(out, p[i]);
		return;
	}
	if (charset_is(cs, gsm)) {
		for (size_t i = 0; i < len; i++) {
			if (p[i] >= 0x80)
				put_cp(out, UTF8_REPLACEMENT);
			else if (p[i] == 0x1B && i + 1 < len)
				put_cp(out, gsm_ext(p[++i]));
			else if (p[i] == 0x1B)
				put_cp(out, ' ');
			else
				put_cp(out, gsm_basic[p[i]]);
		}
		return;
	}
	/* UTF-8, and anything unknown read as UTF-8: invalid bytes become U+FFFD */
	(void)utf8;
	for (size_t i = 0; i < len;)
		put_cp(out, utf8_next(in, len, &i));
}

const struct modem_cfg *kannel_channel(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nmodems; i++)
		if (cfg->modems[i].kind == CHANNEL_KANNEL && strcmp(cfg->modems[i].name, name) == 0)
			return &cfg->modems[i];
	return NULL;
}

/* The link's numbers are normalised by config.c, the called number here: compared as strings. */
static bool serves(const struct modem_cfg *ch, const char *to)
{
	for (size_t i = 0; i < ch->nnumbers; i++)
		if (strcmp(ch->numbers[i], to) == 0)
			return true;
	return false;
}

void kannel_mo(struct ctx *c, const struct modem_cfg *ch, const struct kannel_mo *mo, struct kannel_mo_result *res)
{
	struct buf text = { 0 };
	struct dispatch_result r;
	char who[LOG_PHONE_BUF], from[PHONE_LEN], to[PHONE_LEN];
	bool binary;
	int64_t prev;

	memset(res, 0, sizeof(*res));
	res->outcome = KANNEL_BAD;
	if (mo->id == NULL || *mo->id == '\0' || strlen(mo->id) > 128) {
		res->why = "no message id (add id=%I to the sms-service URL)";
		return;
	}
	if (mo->from == NULL || *mo->from == '\0' || strlen(mo->from) > 40) {
		res->why = "no sender (add from=%p to the sms-service URL)";
		return;
	}
	/* the edge: both numbers in the form stored and compared from here on */
	if (phone_normalise(mo->from, c->cfg->phone_country, from, sizeof(from)) == PHONE_NONE) {
		res->why = "no sender (add from=%p to the sms-service URL)";
		return;
	}
	if (mo->to == NULL || phone_normalise(mo->to, c->cfg->phone_country, to, sizeof(to)) == PHONE_NONE ||
	    !serves(ch, to)) {
		res->why = "not a number this link serves (to=%P must be one of its numbers)";
		return;
	}
	kannel_decode_text(mo->coding, mo->charset, mo->text ? mo->text : "", mo->text ? mo->len : 0, &text, &binary);

	res->outcome = KANNEL_DBERROR;
	c->modem = ch->name;
	if (store_begin(c->st) < 0)
		goto out;
	if (store_inbound_key_find(c->st, ch->name, mo->id, &prev) < 0)
		goto fail;
	if (prev != 0) {
		/* smsbox called again (no answer reached it), or bearerbox replayed its store */
		store_rollback(c->st);
		res->outcome = KANNEL_DUPLICATE;
		res->in_id = prev;
		log_info("kannel", "%s: message %lld from %s came again (Kannel id seen before): not answered twice",
		    ch->name, (long long)prev, log_phone(from, who, sizeof(who)));
		goto out;
	}
	struct inbound in = { CHANNEL_SMS, from, buf_str(&text), text.len, 1, binary ? MSG_KIND_BINARY : MSG_KIND_TEXT,
		mo->time, NULL, NULL };
	if (dispatch_inbound(c, &in, &r) < 0)
		goto fail;
	res->in_id = r.in_id;
	snprintf(res->node, sizeof(res->node), "%s", r.node);
	if (store_inbound_key_add(c->st, ch->name, mo->id, r.in_id, c->now) < 0 || store_commit(c->st) < 0) {
		dispatch_result_free(&r);
		goto fail;
	}
	res->outcome = KANNEL_STORED;
	if (r.reply)
		log_info("kannel", "%s: message %lld from %s -> %s", ch->name, (long long)r.in_id,
		    log_phone(from, who, sizeof(who)), r.node);
	else
		log_info("kannel", "%s: message %lld from %s stored, not answered: %s", ch->name, (long long)r.in_id,
		    log_phone(from, who, sizeof(who)), r.why_silent ? r.why_silent : "?");
	dispatch_result_free(&r);
	outbox_kick();
	goto out;
fail:
	store_rollback(c->st);
out:
	buf_free(&text);
}

const char *kannel_dlr_state(int type, bool *final)
{
	*final = true;
	switch (type) {
	case 1:
		return "delivered";
	case 2:
		return "failed";
	case 16:
		return "rejected";
	case 4:
		*final = false;
		return "buffered";
	case 8:
		*final = false;
		return "accepted";
	default:
		return NULL;
	}
}

int kannel_dlr(struct ctx *c, const struct modem_cfg *ch, int64_t msg, int type)
{
	bool final, matched;
	const char *state = kannel_dlr_state(type, &final);

	if (state == NULL)
		return 1;
	if (store_delivery_set(c->st, msg, ch->name, state, final, c->now, &matched) < 0)
		return -1;
	if (!matched)
		return 1;
	log_debug("kannel", "%s: message %lld %s", ch->name, (long long)msg, state);
	return 0;
}
