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

#endif
