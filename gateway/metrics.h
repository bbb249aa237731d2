/*
 * metrics: counters kept in memory for /metrics (Prometheus text format).
 * Every function is thread-safe and cheap (atomics; a short mutex for the
 * per-node and per-modem tables). Counters restart at zero with the daemon,
 * as Prometheus expects.
 */
#ifndef HOTLINE_METRICS_H
#define HOTLINE_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "msgtypes.h"
#include "util.h"

void metrics_message(enum channel channel, enum direction direction);
void metrics_send(bool ok, bool permanent);   /* one send attempt's outcome */
void metrics_retry(void);
/* A Kannel link put a sent MT back in the queue (no SMSC acknowledgement). */
void metrics_kannel_resent(void);
void metrics_node_hit(const char *node);
void metrics_unknown(void);
void metrics_silenced(void);
void metrics_http_request(int status);
/* Why the HTTP side refused a connection or a request (the label of hotline_http_refused_total). */
enum metrics_refusal {
	REFUSED_NOT_ALLOWED,  /* at accept: ussd.allow is set and the address is in neither it nor http.ops_allow */
	REFUSED_PER_IP,       /* at accept: http.per_ip_limit connections from this address already */
	REFUSED_FULL,         /* at accept: only the reserve is left, kept for allowed addresses */
	REFUSED_BAD_REQUEST,  /* 400 */
	REFUSED_FORBIDDEN,    /* 403 */
	REFUSED_NOT_FOUND,    /* 404 */
	REFUSED_METHOD,       /* 405 */
	REFUSED_TOO_LARGE,    /* 413 */
	REFUSED_MEDIA_TYPE,   /* 415 */
	REFUSED_UNAVAILABLE,  /* 503 */
	REFUSED_N
};
/* How a connection ended without its request answered (hotline_http_aborted_total). */
enum metrics_abort {
	ABORT_DEADLINE,   /* headers and body not in within the deadline: closed by us */
	ABORT_INCOMPLETE, /* closed (by the client, or idle) before a whole request came */
	ABORT_CLIENT,     /* the client went away while its request was under way */
	ABORT_ERROR,      /* an error or a timeout while answering */
	ABORT_N
};
const char *metrics_refusal_name(enum metrics_refusal r);
const char *metrics_abort_name(enum metrics_abort a);
void metrics_http_refused(enum metrics_refusal r);
void metrics_http_aborted(enum metrics_abort a);
/* A modem's state: connected (0/1), signal percent (-1 unknown), resets so far, balance (NaN unknown). */
void metrics_modem(const char *name, bool connected, int signal, int resets, double balance);
/*
 * Events worth a counter of their own (rendered as hotline_<name>_total;
 * names in metrics.c).
 */
enum metrics_event {
	METRIC_USSD_PHONE_MISMATCH, /* a USSD step whose phone is not its session's: a fresh session */
	METRIC_SMS_REREAD,          /* an inbox part dropped as one already stored (read again) */
	METRIC_LIMITED,             /* an SMS not answered because of limits.replies_per_* */
	METRIC_EVENT_N
};
void metrics_event(enum metrics_event e);
uint64_t metrics_event_count(enum metrics_event e);
/*
 * A modem's troubles: whether it is stalled now (the watchdog aborted an
 * operation and it reconnects), stalls so far, calls without caller ID hung
 * up, stored parts it could not delete from the phone.
 */
void metrics_modem_faults(const char *name, bool stalled, unsigned stalls, unsigned withheld, unsigned delete_failures);
/* Gauges filled by the caller at scrape time. */
struct metrics_gauges {
	int outbox_depth;
	int64_t outbox_oldest_age;
	int ussd_sessions;
	bool db_ok;
	int64_t db_last_commit_age; /* -1: no commit yet */
	uint64_t db_errors;
};
/* Append the whole exposition to out. */
void metrics_render(struct buf *out, const struct metrics_gauges *g);
/* For tests and benchmarks. */
uint64_t metrics_messages(enum channel channel, enum direction direction);

#endif
