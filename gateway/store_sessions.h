/*
 * store_sessions: the sessions table, where each conversation stands
 * (store_sessions.c); what only USSD needs of it is store_ussd.h.
 * Conventions of store.h.
 */
#ifndef HOTLINE_STORE_SESSIONS_H
#define HOTLINE_STORE_SESSIONS_H

#include <stdint.h>

#include "session.h"
#include "store.h"

/*
 * Load the session `key` into s (which session_init() prepared). A session
 * idle longer than timeout comes back fresh (menu at root, form dropped) but
 * keeps its last reply, so that 重复 still works.
 */
int store_session_load(struct store *st, const char *key, int64_t now, int timeout, struct session *s) WARN_UNUSED;
int store_session_save(struct store *st, const struct session *s) WARN_UNUSED;
int store_session_delete(struct store *st, const char *key) WARN_UNUSED;
/* Forms left idle since before cutoff: fn for each (the caller notes and resets them). */
int store_session_idle_forms(struct store *st, int64_t cutoff, int (*fn)(struct session *s, void *arg), void *arg);
/* Sessions updated since t on a channel (USSD sessions active). */
int store_session_count(struct store *st, const char *channel, int64_t since, int *count);
/* Drop USSD sessions idle since before cutoff, not half-filled forms (cases_jobs drops those); *n how many. */
int store_session_purge(struct store *st, const char *channel, int64_t cutoff, int *n) WARN_UNUSED;

#endif
