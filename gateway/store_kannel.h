/*
 * store_kannel: what a Kannel link keeps beside the messages: the id Kannel
 * gave each inbound message (its dedup key) and the delivery reports of the
 * messages it sent.
 */
#ifndef HOTLINE_STORE_KANNEL_H
#define HOTLINE_STORE_KANNEL_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

/* The message stored under (channel, key), or *message_id = 0 when none. */
int store_inbound_key_find(struct store *st, const char *channel, const char *key, int64_t *message_id) WARN_UNUSED;
/* Record (channel, key) as message_id, inside the caller's transaction. */
int store_inbound_key_add(struct store *st, const char *channel, const char *key, int64_t message_id,
    int64_t at) WARN_UNUSED;

/*
 * A delivery report for outbound message id sent through `channel`: its own
 * transaction. A final state (delivered, failed, rejected) is not replaced by
 * a later intermediate one (accepted, buffered). *matched: whether such a
 * message exists.
 */
int store_delivery_set(struct store *st, int64_t id, const char *channel, const char *delivery, bool final,
    int64_t at, bool *matched) WARN_UNUSED;
/* The delivery state of message id ("" when none), for tools and tests. */
int store_delivery_get(struct store *st, int64_t id, char *out, size_t outlen) WARN_UNUSED;

/*
 * Up to max messages sent through `channel` with since <= sent_at < before
 * that the SMSC has not acknowledged (no report but 'buffered'), not in the
 * outbox, and resent fewer than max_resends times (messages.uncertain).
 */
int store_kannel_unacked(struct store *st, const char *channel, int64_t since, int64_t before, int max_resends,
    int64_t *ids, size_t max, size_t *n) WARN_UNUSED;
/*
 * Put sent message id back in `channel`'s outbox (its own transaction): the
 * same message row, status queued, uncertain + 1, sent again by the usual
 * claim. *queued false: it was no longer 'sent' (nothing changed).
 */
int store_kannel_resend(struct store *st, int64_t id, const char *channel, int64_t now, bool *queued) WARN_UNUSED;

#endif
