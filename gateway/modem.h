/*
 * modem: one thread per configured modem. The thread alone owns its phone
 * connection (struct gsm) and its database connection, and moves through
 * DOWN -> CONNECTING -> READY, BACKOFF after a failure, RESETTING when a
 * connected modem keeps failing. While READY it
 *   - reads the inbox, stores each part and runs complete messages through
 *     dispatch in one transaction (modem_in.c), and deletes the parts from
 *     the phone only after that commit (store, then delete);
 *   - sends what the outbox holds for it (and for modems that are down),
 *     with exponential backoff on failures, never blocking on one message;
 *   - takes incoming calls (hung up at once) and reads signal and balance.
 */
#ifndef HOTLINE_MODEM_H
#define HOTLINE_MODEM_H

#include "config.h"
#include "util.h"

struct modem;

/*
 * Start the thread for modem `mc` (copied). db_path: the database it opens.
 * Returns -1 only when the thread cannot be created.
 */
int modem_start(const struct modem_cfg *mc, const char *db_path, struct modem **out) WARN_UNUSED;
/* Ask the thread to stop after the operation under way (a send finishes and is recorded). */
void modem_request_stop(struct modem *m);
/* Wait for the thread to end and free it. */
void modem_join(struct modem *m);

#endif
