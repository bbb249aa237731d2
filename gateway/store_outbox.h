/*
 * store_outbox: the outbox, what waits to be sent and by which modem
 * (store_outbox.c): queue, claim, sent, retry, failed, recovery after a
 * crash, and the notifications a newer one supersedes. Conventions of
 * store.h.
 */
#ifndef HOTLINE_STORE_OUTBOX_H
#define HOTLINE_STORE_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "msgtypes.h"
#include "store.h"

/*
 * Queue the outbound message id (already added with store_msg_add, status
 * "queued"). modem: the modem the conversation came in on, or NULL for any.
 * priority: higher goes first (staff alerts). not_before: quiet hours.
 */
int store_outbox_add(struct store *st, int64_t msg_id, const char *modem, int priority, int64_t not_before) WARN_UNUSED;

struct store_send {
	int64_t id;
	char phone[48];
	char *text; /* owned: free with store_sends_free */
	char modem[40];
	int attempts;
	enum msg_kind kind; /* the message's kind: reply, notify, staff, notice, broadcast */
	int concat_ref;     /* a long text's concatenation reference from an earlier attempt, -1: none yet */
	int parts_done;     /* its parts the network accepted already (in order) */
};
/*
 * Claim up to max queued messages due at now for modem `for_modem` (NULL:
 * those with no modem) and mark them "sending", recording `by` as the modem
 * that sends them. Its own transaction: the claim is committed before any
 * send, so a crash in the send leaves a "sending" row for store_outbox_recover.
 */
int store_outbox_claim(struct store *st, const char *for_modem, const char *by, int64_t now, struct store_send *out,
    size_t max, size_t *n) WARN_UNUSED;
void store_sends_free(struct store_send *s, size_t n);
/*
 * The broadcast rate for this connection's claims: a broadcast message is
 * claimed only while the claiming modem has sent fewer than per_minute
 * broadcast messages in the last 60 s (0: no limit). The modem threads set
 * it from broadcast.per_modem_per_minute; each modem keeps its own pace, so
 * the rate spreads over the modems that are up.
 */
void store_outbox_broadcast_rate(struct store *st, int per_minute);
int store_outbox_sent(struct store *st, int64_t id, int parts, int msg_ref, int64_t now) WARN_UNUSED;
int store_outbox_retry(struct store *st, int64_t id, int64_t not_before, const char *error) WARN_UNUSED;
/* The same, keeping a long text's progress: its reference (-1: none) and the parts accepted. */
int store_outbox_retry_from(
    struct store *st, int64_t id, int64_t not_before, const char *error, int concat_ref, int parts_done) WARN_UNUSED;
int store_outbox_failed(struct store *st, int64_t id, const char *error) WARN_UNUSED;
/*
 * At start: messages left "sending" by a crash go back to the queue (they may
 * have reached the network: each is counted in messages.uncertain). *n gets
 * how many.
 */
int store_outbox_recover(struct store *st, int *n) WARN_UNUSED;
/* Queue depth, and age in seconds of the oldest due message (0 when empty). */
int store_outbox_stats(struct store *st, int64_t now, int *depth, int64_t *oldest_age);
/* Seconds until the next queued message is due (INT64_MAX when none). */
int store_outbox_next_due(struct store *st, int64_t now, int64_t *wait);

/*
 * Notifications to phone about one thing (their node, "case:2026-0001") held
 * for the end of quiet hours and not yet due at now: marked "superseded" and
 * dropped from the outbox, inside the caller's transaction (a newer one about
 * the same case replaces them). *n how many.
 */
int store_notify_supersede(struct store *st, const char *phone, const char *node, int64_t now, int *n) WARN_UNUSED;

#endif
