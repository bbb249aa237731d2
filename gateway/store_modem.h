/*
 * store_modem: what the modem threads record about the modems (state,
 * readings), requests that hotlinectl leaves for them (a USSD query), and
 * which alerts were already sent. Conventions of store.h.
 */
#ifndef HOTLINE_STORE_MODEM_H
#define HOTLINE_STORE_MODEM_H

#include "health.h"
#include "store.h"

/* Record the modem's current state (one row per modem). */
int store_modem_status_set(struct store *st, const struct modem_health *h) WARN_UNUSED;

struct store_modem_row {
	const char *modem, *state, *network, *error;
	int64_t since, balance_at, updated_at;
	int signal, battery, resets;
	double balance;     /* NaN when never read */
	int sent_today, received_today;
};
/* Each modem the daemon recorded, with today's message counts (local day from day_start). */
int store_modem_each(struct store *st, int64_t day_start,
    int (*fn)(const struct store_modem_row *r, void *arg), void *arg);

/* Keep a reading (balance NaN when none was taken). */
int store_modem_reading_add(struct store *st, const char *modem, int64_t at, int signal, const char *network,
    int battery, double balance, const char *answer) WARN_UNUSED;

/* Requests from hotlinectl to a modem thread. */
int store_modem_request_add(struct store *st, const char *modem, const char *kind, const char *arg,
    int64_t *id) WARN_UNUSED;
/* The oldest pending request for modem, if any: *id > 0, kind and arg copied. */
int store_modem_request_next(struct store *st, const char *modem, int64_t *id, char *kind, size_t kindlen,
    char *arg, size_t arglen) WARN_UNUSED;
int store_modem_request_done(struct store *st, int64_t id, bool ok, const char *answer) WARN_UNUSED;
/* The request's status ("pending", "done", "failed") and answer (caller frees). */
int store_modem_request_get(struct store *st, int64_t id, char *status, size_t statuslen, char **answer) WARN_UNUSED;

/*
 * An alert of this kind and key goes out at most once per `every` seconds:
 * *fresh is true (and the time recorded) when it was not sent within that
 * time. Inside the caller's transaction.
 */
int store_alert_once(struct store *st, const char *kind, const char *key, int64_t now, int64_t every,
    bool *fresh) WARN_UNUSED;
/* Forget an alert (the condition is over: the next one may go at once). */
int store_alert_clear(struct store *st, const char *kind, const char *key) WARN_UNUSED;

#endif
