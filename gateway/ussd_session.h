/*
 * ussd_session: the USSD channel against the database. One aggregator step
 * (what the user's input leads to, as CON/END screens) and the
 * end-of-session notification, each in one transaction on the caller's
 * connection. The menu work is dispatch's, the same as for SMS; what is
 * USSD's own is here: the text diff, the screens of a long reply (98 shows
 * the next one without running the engine), END and the SMS copy of an
 * answer worth keeping. Parsing is ussd.c's, HTTP is http.c's.
 */
#ifndef HOTLINE_USSD_SESSION_H
#define HOTLINE_USSD_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "dispatch.h"
#include "menu.h"
#include "ussd.h"

struct ussd_reply {
	char *body;             /* owned: the HTTP body, "CON <screen>" or "END <screen>" */
	bool end;
	size_t screen, screens; /* the screen shown, of how many */
	char node[MENU_ID_MAX]; /* the node the session is at */
	int64_t in_id;          /* the stored inbound message */
	bool sms_copy;          /* an SMS copy of the answer was queued */
	bool engine;            /* false: a further screen (98) or a repeated request, no menu step */
	bool queued;            /* SMS were queued (a copy, staff alerts): wake the modems after the commit */
};

/*
 * Run one step of the session rq->session_id: store the input and the
 * answer in the messages table (channel "ussd"), move the session, and, when
 * the answer is worth keeping (a case or feedback number, a call back) end
 * the session and, with ussd.sms_copy, queue the same text as an SMS; the
 * modem threads are woken after the commit. c->now is the time of the step.
 * Returns 0 (out filled; free with ussd_reply_free), or -1 on a database
 * error (logged; rolled back: nothing stored, nothing to answer but an error).
 */
int ussd_session_step(struct ctx *c, const struct ussd_callback *rq, struct ussd_reply *out) WARN_UNUSED;
/*
 * The same step inside the caller's open transaction (no commit, no wake-up:
 * out->queued says whether the caller must ring the outbox after its
 * commit). On -1 the caller rolls back what the step wrote (a savepoint).
 */
int ussd_session_step_in(struct ctx *c, const struct ussd_callback *rq, struct ussd_reply *out) WARN_UNUSED;
void ussd_reply_free(struct ussd_reply *r);

/*
 * Store the end-of-session notification as an inbound message (channel
 * "ussd", kind "end", status "ignored") and forget the session. *id gets the
 * message id (may be NULL). 0, or -1 on a database error (rolled back).
 */
int ussd_session_end(struct ctx *c, const struct ussd_end *ev, int64_t *id) WARN_UNUSED;
/* The same inside the caller's open transaction (the USSD writer's batch); not counted in /metrics. */
int ussd_session_end_in(struct ctx *c, const struct ussd_end *ev, int64_t *id) WARN_UNUSED;

#endif
