/*
 * health: what each modem thread says about itself, for /healthz, /metrics,
 * `hotlinectl modem status` and the supervisor's alerts. Thread-safe.
 * (The outbox doorbell that wakes the senders is outbox.c's.)
 */
#ifndef HOTLINE_HEALTH_H
#define HOTLINE_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* STALLED: the watchdog aborted an operation that got no answer in time; the modem reconnects. */
enum modem_state { MODEM_DOWN = 0, MODEM_CONNECTING, MODEM_READY, MODEM_BACKOFF, MODEM_RESETTING, MODEM_STALLED };

struct modem_health {
	char name[40];
	enum modem_state state;
	bool connected;        /* READY */
	int64_t since;         /* when it entered this state */
	int64_t down_since;    /* when it was last connected (0: never was) */
	int signal;            /* percent, -1 unknown */
	char network[64];
	int battery;           /* percent, -1 unknown */
	double balance;        /* NaN when unknown */
	int64_t balance_at;
	int resets;
	unsigned stalls;       /* operations aborted by the watchdog */
	unsigned withheld;     /* calls without caller ID hung up */
	unsigned delete_failures; /* stored parts the phone would not delete */
	int64_t delete_failing_since; /* deletes failing since (unix s), 0 when they work */
	unsigned sent, received; /* since start */
	char error[160];       /* the last failure */
};

const char *modem_state_name(enum modem_state s);
/* Register (or replace) the modem's record. */
void health_modem_set(const struct modem_health *h);
/* Copy up to max records; returns how many modems there are. */
size_t health_modems(struct modem_health *out, size_t max);
bool health_any_connected(void);
/* Forget all modems (tests). */
void health_reset(void);

#endif
