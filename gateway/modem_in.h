/*
 * modem_in: inbound assembly of the SMS the modem threads read (modem.c reads,
 * deletes and answers; this module turns parts into messages). A part is
 * stored under its key (modem, sender, reference, sequence) before it is
 * deleted from the phone; a message whose parts are all there goes through
 * dispatch in the same transaction, and so does, after
 * limits.multipart_timeout, one whose missing parts never came.
 *
 * Who calls what: modem_store_parts() and modem_part_place() run on a modem
 * thread, with that thread's database connection; modem_flush_incomplete()
 * runs on the main thread (maintenance.c), with the main thread's
 * connection and world. They meet only in the database: a group is consumed
 * inside one transaction, so a message is answered once.
 */
#ifndef HOTLINE_MODEM_IN_H
#define HOTLINE_MODEM_IN_H

#include <stddef.h>

#include "gsm.h"
#include "util.h"

struct ctx;
struct store;
struct world;

/* Where a part sits on the phone, as one number (folder and place): part of its key. */
int modem_part_place(const struct gsm_part *p);

/*
 * Store the parts modem `modem` read and run every message they complete, in
 * one transaction on st (a modem thread's connection); *received counts the
 * parts new to the database. Returns 0 when committed (the parts may now be
 * deleted from the phone), -1 when rolled back (they stay on the phone).
 */
int modem_store_parts(struct store *st, const struct world *w, const char *modem, const struct gsm_part *parts,
    size_t n, unsigned *received) WARN_UNUSED;

/*
 * Carry out the multipart timeout: messages whose missing parts did not come
 * within limits.multipart_timeout are processed with what came, marked
 * incomplete. Run by the main loop with its own connection and world.
 */
int modem_flush_incomplete(struct ctx *c) WARN_UNUSED;

#endif
