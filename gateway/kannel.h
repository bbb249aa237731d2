/*
 * kannel: a link to Kannel's smsbox, a channel beside the libgammu modems
 * (kind = "kannel" in the `modems` list).
 *
 * Inbound (kannel_in.c, no libcurl): smsbox's sms-service calls
 * /kannel/<name>/<secret> (http.c routes it and checks the secret and the
 * address); kannel_mo() decodes the text as Kannel says it is coded, stores
 * it with Kannel's message id as its dedup key and runs it through dispatch
 * like a modem's message, in one transaction, before the call is answered.
 * kannel_dlr() puts a delivery report on the message it is about.
 *
 * Outbound (kannel.c, the only user of libcurl): one sender thread per link
 * drains the same outbox as the modem threads (claim, send, record with the
 * store_outbox_* functions) through smsbox's sendsms, and tells /healthz,
 * /metrics and the alerts whether smsbox answers.
 */
#ifndef HOTLINE_KANNEL_H
#define HOTLINE_KANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "util.h"

struct ctx;

/* ---- inbound ------------------------------------------------------------------------ */

/* One call of smsbox's sms-service (post-url or get-url), as http.c read it. */
struct kannel_mo {
	const char *id;      /* %I: Kannel's message id, the dedup key */
	const char *from;    /* %p: the villager */
	const char *to;      /* %P: the number called (one of the link's numbers) */
	const char *coding;  /* %c: 0 GSM/7-bit, 1 8-bit data, 2 UCS-2; NULL or "" = 0 */
	const char *charset; /* %C or the Content-Type's charset; NULL or "" = by coding */
	const char *text;    /* the body (post-url) or the text argument (get-url): any bytes */
	size_t len;
	int64_t time;        /* %T: when the SMSC got it; 0 = unknown */
};

enum kannel_outcome {
	KANNEL_STORED,    /* stored and dispatched now */
	KANNEL_DUPLICATE, /* the same Kannel id was stored before: nothing done */
	KANNEL_BAD,       /* refused (why says it): nothing stored */
	KANNEL_DBERROR,   /* nothing stored; smsbox should call again */
};

struct kannel_mo_result {
	enum kannel_outcome outcome;
	int64_t in_id;        /* the stored message (also for a duplicate) */
	char node[64];        /* the node that answered, "" when none */
	const char *why;      /* KANNEL_BAD: why (static string) */
};

/* Store and dispatch one MO (see above); c->cfg is the world's config. */
void kannel_mo(struct ctx *c, const struct modem_cfg *ch, const struct kannel_mo *mo, struct kannel_mo_result *res);

/*
 * A delivery report: msg is the outbound message id hotlined put in the
 * dlr-url, type Kannel's %d (1 delivered, 2 failed, 4 buffered, 8 accepted by
 * the SMSC, 16 rejected by the SMSC). Returns 0 when recorded, 1 when no such
 * message went out through this link, -1 on a database error.
 */
int kannel_dlr(struct ctx *c, const struct modem_cfg *ch, int64_t msg, int type);

/* Kannel's DLR type as hotlined's delivery state ("delivered", ...), NULL when unknown. */
const char *kannel_dlr_state(int type, bool *final);

/*
 * The text of an MO as UTF-8, from the bytes and what Kannel says of them:
 * charset UTF-8, UTF-16BE/UCS-2, ISO-8859-1, GSM (unpacked GSM 03.38
 * septets) or, without a charset, coding 2 as UTF-16BE and else UTF-8.
 * Invalid input becomes U+FFFD. *binary is set for coding 1 (8-bit data),
 * whose bytes are kept as they are. Pure.
 */
void kannel_decode_text(const char *coding, const char *charset, const char *in, size_t len, struct buf *out,
    bool *binary);

/* The channel named `name` of kind kannel, or NULL. */
const struct modem_cfg *kannel_channel(const struct config *cfg, const char *name);

/* ---- outbound ------------------------------------------------------------------------ */

struct kannel;

/* Start the sender thread of link `mc` (copied). -1 only when the thread cannot start. */
int kannel_start(const struct modem_cfg *mc, const struct config *cfg, struct kannel **out) WARN_UNUSED;
void kannel_request_stop(struct kannel *k);
void kannel_join(struct kannel *k);

#endif
