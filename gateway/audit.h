/*
 * audit: the console's audit trail. Every login, failed login, lockout, view
 * of a case's personal data, change, assignment, export and account change
 * is one row: who (an account name; "-" before login; "hotlinectl" from the
 * shell), when, from where (the client address; "shell"), what, on what
 * (a case number or an account name) and a short detail. Kept apart from
 * message texts: retention.message_days does not erase it.
 */
#ifndef HOTLINE_AUDIT_H
#define HOTLINE_AUDIT_H

#include <stdint.h>

#include "store.h"

/* Inside the caller's transaction (or autocommit). -1 on a database error. */
int audit_log(struct store *st, int64_t now, const char *who, const char *addr, const char *action,
    const char *target, const char *detail) WARN_UNUSED;

#endif
