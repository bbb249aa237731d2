/*
 * ctx: what one unit of work needs (an inbound message, a USSD step, a
 * console action, a timer's job): the caller's database connection, the
 * world it holds a reference to, and the time. Every module that works
 * inside the caller's transaction takes one; none owns it.
 */
#ifndef HOTLINE_CTX_H
#define HOTLINE_CTX_H

#include <stdint.h>

#include "menu.h"
#include "store.h"
#include "world.h"

struct ctx {
	struct store *st;
	const struct config *cfg;
	const struct menu *menu;
	int64_t now;
	const char *modem; /* the modem the message came in on; NULL for USSD and tools */
	unsigned flags;    /* CTX_* */
};
#define CTX_NO_LIMITS 0x1 /* no flood or loop limits (the simulator) */

#endif
