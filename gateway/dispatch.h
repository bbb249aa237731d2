/*
 * dispatch: what happens to one inbound message, whatever its channel.
 *
 * Inside the caller's open transaction: store the message, decide whether it
 * is answered (not for status reports, loops, floods), run staff commands or
 * the menu engine, carry out what the engine asks (cases, feedback), queue
 * the replies in the outbox and save the session. The caller commits; the
 * SMS path deletes the message from the modem only after that commit.
 */
#ifndef HOTLINE_DISPATCH_H
#define HOTLINE_DISPATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctx.h"
#include "menu.h"
#include "msgtypes.h"
#include "outbox.h"
#include "session.h"
#include "store.h"
#include "world.h"

struct inbound {
	enum channel channel; /* CHANNEL_SMS | CHANNEL_USSD */
	const char *phone;
	const char *text;     /* as received: any bytes */
	size_t len;
	int parts;
	enum msg_kind kind;   /* TEXT | INCOMPLETE | FLASH | BINARY | STATUS_REPORT | OTHER */
	int64_t smsc_time;
	const char *ussd_session; /* USSD: the aggregator's sessionId */
	const char *ussd_text;    /* USSD: the aggregator's whole text, kept in the session with it */
};

struct dispatch_result {
	int64_t in_id;            /* the stored inbound message */
	char *reply;              /* owned: the answer to the sender, NULL when none */
	bool keep;                /* worth keeping (USSD: END, and an SMS copy) */
	char node[MENU_ID_MAX];   /* the node that answered, "" when none */
	const char *why_silent;   /* when not answered: why (static string) */
};

/*
 * Run one inbound message (see above). For SMS the reply is also queued in
 * the outbox (to go out through ctx->modem if it is healthy); for USSD it is
 * stored as sent and returned for the HTTP answer. Returns 0, or -1 on a
 * database error (the caller rolls back and retries later: nothing is lost).
 */
int dispatch_inbound(struct ctx *c, const struct inbound *in, struct dispatch_result *res);
/*
 * The same with the sender's session already loaded by the caller (a USSD
 * step: one step loads it once), as store_session_load gives it for this
 * message's key (session_key). It is moved and saved in place; the caller
 * still owns it (session_clear).
 */
int dispatch_inbound_loaded(struct ctx *c, const struct inbound *in, struct session *s,
    struct dispatch_result *res);
void dispatch_result_free(struct dispatch_result *res);

#endif
