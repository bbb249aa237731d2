/*
 * calls: the missed-call hotline. The oldest villagers cannot type, but they
 * can ring: the modem hangs up at once (free for the caller), and the call
 * becomes a callback request for staff and an SMS to the caller
 * (calls.callback, calls.reply_menu). Repeated calls from one number within
 * calls.window make one request, not many.
 */
#ifndef HOTLINE_CALLS_H
#define HOTLINE_CALLS_H

#include "ctx.h"

/* A call from caller rang on ctx->modem and was hung up. Inside the caller's transaction. */
int calls_missed(struct ctx *c, const char *caller) WARN_UNUSED;

#endif
