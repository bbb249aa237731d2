/*
 * outbox: every SMS the hotline sends goes through here. Queueing one (a
 * message row and an outbox row, inside the caller's transaction), the
 * quiet hours that hold applicant notifications, the retry back-off of
 * every sender, and the doorbell that wakes the senders (the modem threads,
 * Kannel's) after the caller's commit. Below dispatch, cases, calls,
 * broadcasts and the timers, which all call it; it calls only the store.
 */
#ifndef HOTLINE_OUTBOX_H
#define HOTLINE_OUTBOX_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "ctx.h"

enum notify_kind {
	NOTIFY_REPLY,     /* the answer to what someone sent */
	NOTIFY_APPLICANT, /* a case moved: held in quiet hours */
	NOTIFY_STAFF,     /* a request or alert for staff: never held, sent first */
	NOTIFY_NOTICE,    /* a limit notice */
};

/*
 * Queue an SMS in the outbox (as a message row and an outbox row), inside the
 * caller's transaction. Applicant notifications wait for the end of quiet
 * hours; a reply goes back through c->modem (the one the conversation came
 * in on). *id gets the message id (may be NULL).
 */
int outbox_queue_sms(struct ctx *c, const char *phone, const char *text, enum notify_kind kind, int64_t reply_to,
    const char *node, int64_t *id);
/*
 * The same, the message marked `asked`: a reply to an answer to what the
 * hotline asked, which never counts against the reply limits (dispatch).
 */
int outbox_queue_sms_asked(struct ctx *c, const char *phone, const char *text, enum notify_kind kind, int64_t reply_to,
    const char *node, bool asked, int64_t *id);
/*
 * One broadcast message (kind "broadcast"): its outbox row is paced by the
 * claim (broadcast.per_modem_per_minute), not by the caller. *id gets the
 * message id.
 */
int outbox_queue_broadcast(struct ctx *c, const char *phone, const char *text, int64_t *id);

/* When quiet hours (cases.quiet_hours) end after t, or t when not in them. */
int64_t outbox_quiet_until(const struct config *cfg, int64_t t);

/*
 * The back-off of every sender: seconds before the next try of a send that
 * failed `attempts` times (limits.retry_initial, doubling, capped at
 * limits.retry_max).
 */
int64_t outbox_retry_delay(const struct config *cfg, int attempts);

/* Ring the outbox doorbell (after the commit): the senders look at the outbox now. Thread-safe. */
void outbox_kick(void);
/*
 * A sender's wait: until the doorbell rings (since the ring *seen counts) or
 * ms pass; returns true when it rang. Thread-safe.
 */
bool outbox_wait(uint64_t *seen, int ms);

#endif
