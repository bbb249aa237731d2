/*
 * store_messages: the messages table, every SMS, USSD step and call in and
 * out (store_messages.c), and the counts the rate limits and the loop check
 * ask of it. Conventions of store.h.
 */
#ifndef HOTLINE_STORE_MESSAGES_H
#define HOTLINE_STORE_MESSAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "msgtypes.h"
#include "store.h"

struct store_msg {
	int64_t id;
	enum channel channel;
	enum direction direction;
	const char *phone;
	const char *text; /* valid UTF-8 */
	size_t text_len;
	const void *raw; /* the bytes as received when they differ from text; else NULL */
	size_t raw_len;
	int parts;
	const char *modem;
	enum msg_status status; /* in: received|answered|ignored|limited; out: queued|sending|sent|failed|superseded */
	const char *node;
	enum msg_kind kind;  /* in: text|flash|binary|status-report|incomplete|end|call; out: reply|notify|...; NONE */
	const char *session; /* USSD sessionId */
	const char *error;
	int64_t reply_to; /* 0: none */
	int64_t smsc_time;
	int64_t created_at; /* 0: now */
	int64_t sent_at;
	int msg_ref;
	bool asked; /* answers what the hotline asked, or the reply to such an answer */
};

int store_msg_add(struct store *st, const struct store_msg *m, int64_t *id) WARN_UNUSED;
/* Change an inbound message's status and answering node (NULL keeps it). */
int store_msg_set(struct store *st, int64_t id, const char *status, const char *node) WARN_UNUSED;

struct store_msg_filter {
	const char *phone;    /* normalised (phone_normalise); NULL: all */
	const char *channel;  /* NULL: all */
	int64_t since, until; /* 0: open */
	int64_t after_id;     /* only ids above */
	int limit;            /* 0: no limit */
	bool newest_first;
};
/* Call fn for each message matching f (strings valid during the call). fn returning non-zero stops. */
int store_msg_each(
    struct store *st, const struct store_msg_filter *f, int (*fn)(const struct store_msg *m, void *arg), void *arg);

/* Messages matching f (phone, channel, since, until), not counting exclude_id. */
int store_msg_count(struct store *st, const struct store_msg_filter *f, int64_t exclude_id, int *count);
/* SMS replies sent or queued to this phone since t (rate limits: answers to what it sent, not
 * notifications, alerts, USSD answers or replies to answers to our own questions (asked)). */
int store_replies_since(struct store *st, const char *phone, int64_t since, int *count);
/* Both at once: SMS replies since since_short and since since_long (one query per message). */
int store_replies_two(
    struct store *st, const char *phone, int64_t since_long, int64_t since_short, int *short_count, int *long_count);
/* How often the same text from this phone was answered since t (auto-responder loops)? */
int store_same_text_since(
    struct store *st, const char *phone, const char *text, int64_t since, int64_t exclude_id, int *answered);
/* Limit notices sent to this phone since t (of one kind: the notice's node; NULL: any). */
int store_notices_since(struct store *st, const char *phone, int64_t since, const char *node, int *count);

#endif
