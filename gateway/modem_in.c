/*
 * modem_in: inbound assembly of SMS read from a modem (see modem_in.h): each
 * part stored under its key, a message run through dispatch once all its
 * parts are there (or once the multipart timeout gives up on the rest),
 * status reports matched to what was sent.
 */
#include "modem_in.h"

#include <string.h>

#include "dispatch.h"
#include "log.h"
#include "metrics.h"
#include "outbox.h"
#include "store.h"
#include "store_contacts.h"
#include "store_parts.h"
#include "world.h"

/* ---- a modem thread's parts ---------------------------------------------------------------- */

static enum msg_kind part_kind(const struct gsm_part *p)
{
	if (p->kind == GSM_PART_STATUS_REPORT)
		return MSG_KIND_STATUS_REPORT;
	if (p->kind != GSM_PART_DELIVER)
		return MSG_KIND_OTHER;
	if (p->coding == GSM_PART_8BIT)
		return MSG_KIND_BINARY;
	if (p->msg_class == 0)
		return MSG_KIND_FLASH;
	return MSG_KIND_TEXT;
}

/* The kind a group's parts were stored with (part_kind's names); text is text_as (incomplete, when given up on). */
static enum msg_kind group_kind(const char *stored, enum msg_kind text_as)
{
	int k = msg_kind_parse(stored);

	if (k == MSG_KIND_TEXT)
		return text_as;
	return k < 0 ? MSG_KIND_OTHER : (enum msg_kind)k;
}

/*
 * Run a whole message through dispatch, then link what it came from to it:
 * the parts of group g, or (single != NULL) the lone SMS's part, stored now
 * already linked.
 */
static int run_message(struct ctx *c, const char *sender, const char *text, size_t len, int parts, enum msg_kind kind,
    int64_t smsc_time, struct store_group *g, struct store_part *single)
{
	struct inbound in = { CHANNEL_SMS, sender, text, len, parts, kind, smsc_time, NULL, NULL };
	struct dispatch_result r;
	char who[LOG_PHONE_BUF];
	bool inserted;

	if (dispatch_inbound(c, &in, &r) < 0)
		return -1;
	if (single) {
		single->message_id = r.in_id;
		if (store_part_add(c->st, single, &inserted) < 0) {
			dispatch_result_free(&r);
			return -1;
		}
	} else if (store_group_consume(c->st, g, r.in_id) < 0) {
		dispatch_result_free(&r);
		return -1;
	}
	if (r.reply)
		log_info("modem", "%s: message %lld from %s (%d part%s) -> %s", c->modem, (long long)r.in_id,
		    log_phone(sender, who, sizeof(who)), parts, parts == 1 ? "" : "s", r.node);
	else
		log_info("modem", "%s: message %lld from %s stored, not answered: %s", c->modem, (long long)r.in_id,
		    log_phone(sender, who, sizeof(who)), r.why_silent ? r.why_silent : "?");
	dispatch_result_free(&r);
	return 0;
}

/* Where a part sits on the phone, as one number (folder and place): part of its key. */
int modem_part_place(const struct gsm_part *p)
{
	return p->folder * 100000 + p->location;
}

/*
 * A status report: the message this modem sent to that number with that
 * reference gets its delivery state (TP-Status: 0x00-0x1F delivered,
 * 0x20-0x3F the centre still tries, from 0x40 failed). Inside the caller's
 * transaction; a report nothing matches is only stored.
 */
static int match_report(struct store *st, const char *modem, const struct gsm_part *p, int64_t now)
{
	const char *state = p->delivery_status < 0x20 ? "delivered" : p->delivery_status < 0x40 ? "buffered" : "failed";
	char who[LOG_PHONE_BUF];
	int64_t matched = 0;

	if (p->status_ref < 0 || p->delivery_status < 0)
		return 0;
	if (store_dlr_match(st, modem, p->sender, p->status_ref, state, now, &matched) < 0)
		return -1;
	if (matched)
		log_info("modem", "%s: message %lld to %s: %s (status report)", modem, (long long)matched,
		    log_phone(p->sender, who, sizeof(who)), state);
	else
		log_debug("modem", "%s: a status report (reference %d) matches no message sent", modem, p->status_ref);
	return 0;
}

/*
 * Store the parts and run every message they complete, in one transaction.
 * Returns 0 when committed (the parts may now be deleted from the phone).
 */
int modem_store_parts(struct store *st, const struct world *w, const char *modem, const struct gsm_part *parts,
    size_t n, unsigned *received)
{
	struct ctx c = { st, w->cfg, w->menu, now_unix(), modem, 0 };

	if (store_begin(st) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct gsm_part *p = &parts[i];
		bool single = p->concat_ref < 0 || p->concat_total <= 1;
		struct store_part sp;
		struct store_group g;
		bool inserted;

		memset(&sp, 0, sizeof(sp));
		sp.modem = modem;
		sp.sender = p->sender;
		sp.smsc_time = p->smsc_time;
		sp.ref = single ? -1 : p->concat_ref;
		sp.ref_bits = single ? 0 : p->concat_ref_bits;
		sp.total = single ? 1 : p->concat_total;
		sp.seq = single ? 1 : p->concat_seq;
		sp.text = p->text ? p->text : "";
		sp.text_len = p->text ? p->text_len : 0;
		sp.kind = msg_kind_name(part_kind(p));
		sp.received_at = c.now;
		sp.location = modem_part_place(p);
		if (single) {
			/* a lone SMS: the key decides whether it was handled before; its part row is
			 * written once, after its message, already linked to it */
			bool seen;
			if (store_part_seen(st, &sp, &seen) < 0)
				goto fail;
			if (seen) {
				log_debug("modem",
				    "%s: message at %d/%d was stored before (read again after a restart)", modem,
				    p->folder, p->location);
				metrics_event(METRIC_SMS_REREAD);
				continue;
			}
			(*received)++;
			if (run_message(&c, p->sender, sp.text, sp.text_len, 1, part_kind(p), p->smsc_time, NULL, &sp) <
			    0)
				goto fail;
			if (p->kind == GSM_PART_STATUS_REPORT && match_report(st, modem, p, c.now) < 0)
				goto fail;
			continue;
		}
		if (store_part_add(st, &sp, &inserted) < 0)
			goto fail;
		if (!inserted) {
			log_debug("modem", "%s: part at %d/%d was stored before (read again after a restart)", modem,
			    p->folder, p->location);
			metrics_event(METRIC_SMS_REREAD);
			continue;
		}
		(*received)++;
		if (store_group_load(st, modem, p->sender, sp.ref, sp.ref_bits, sp.total, &g) < 0)
			goto fail;
		if (g.complete) {
			int rc = run_message(&c, p->sender, buf_str(&g.text), g.text.len, sp.total,
			    group_kind(g.kind, MSG_KIND_TEXT), g.smsc_time, &g, NULL);
			store_group_free(&g);
			if (rc < 0)
				goto fail;
		} else {
			log_debug("modem", "%s: part %d of %d stored, waiting for the rest", modem, sp.seq, sp.total);
			store_group_free(&g);
		}
	}
	if (store_commit(st) < 0)
		return -1;
	outbox_kick();
	return 0;
fail:
	store_rollback(st);
	return -1;
}

/* ---- the multipart timeout (main thread) ------------------------------------------------- */

int modem_flush_incomplete(struct ctx *c)
{
	struct store_group stale[32];
	size_t n = 0;

	if (store_group_stale(c->st, c->now - c->cfg->multipart_timeout, stale, 32, &n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct store_group g;
		const char *modem_save = c->modem;
		if (store_begin(c->st) < 0)
			return -1;
		if (store_group_load(c->st, stale[i].modem, stale[i].sender, stale[i].ref, stale[i].ref_bits,
			stale[i].total, &g) < 0) {
			store_rollback(c->st);
			return -1;
		}
		if (g.n == 0) { /* taken meanwhile */
			store_group_free(&g);
			store_rollback(c->st);
			continue;
		}
		log_info("modem", "%s: %zu of %d parts came within %d s; answering what came", g.modem, g.n, g.total,
		    c->cfg->multipart_timeout);
		c->modem = g.modem;
		int rc = run_message(c, g.sender, buf_str(&g.text), g.text.len, (int)g.n,
		    group_kind(g.kind, MSG_KIND_INCOMPLETE), g.smsc_time, &g, NULL);
		c->modem = modem_save;
		store_group_free(&g);
		if (rc < 0 || store_commit(c->st) < 0) {
			store_rollback(c->st);
			return -1;
		}
		outbox_kick();
	}
	return 0;
}
