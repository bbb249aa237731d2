/*
 * store_ussd: what the USSD channel needs of the sessions table beyond
 * store.h (same conventions: 0/-1, errors logged once, strings copied).
 */
#ifndef HOTLINE_STORE_USSD_H
#define HOTLINE_STORE_USSD_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

/*
 * Record where a USSD session stands after an answer: the aggregator's text
 * of this step (the next step's text is compared with it) and the screen
 * shown, and whether it was END; updated_at becomes now. Only the session `key` changes, and nothing
 * when it does not exist (dispatch saves the session before this is called).
 */
int store_ussd_mark(struct store *st, const char *key, const char *text, int screen, bool ended, int64_t now) WARN_UNUSED;

/*
 * Is there a session of session_id updated since `since` under another key
 * than `key` (the same sessionId from another phone)? *found says.
 */
int store_ussd_other_owner(struct store *st, const char *session_id, const char *key, int64_t since,
    bool *found) WARN_UNUSED;

#endif
