#include "metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

static _Atomic uint64_t messages[CHANNEL_N][DIRECTION_N];
static _Atomic uint64_t sends_ok, sends_failed, sends_perm, retries, unknown_in, silenced;
static _Atomic uint64_t kannel_resent;
static _Atomic uint64_t http_2xx, http_4xx, http_5xx;
static _Atomic uint64_t events[METRIC_EVENT_N];
static const char *const event_names[METRIC_EVENT_N][2] = {
	{ "ussd_session_phone_mismatch", "USSD steps whose phone was not the session's (a fresh session)." },
	{ "sms_rereads", "Inbox parts dropped as already stored (read again after a crash or failed delete)." },
	{ "sms_limited", "SMS not answered because of limits.replies_per_minute or replies_per_day." },
};

void metrics_event(enum metrics_event e)
{
	atomic_fetch_add(&events[e], 1);
}

uint64_t metrics_event_count(enum metrics_event e)
{
	return atomic_load(&events[e]);
}
static _Atomic uint64_t http_refused[REFUSED_N], http_aborted[ABORT_N];
static const char *const refusal_names[REFUSED_N] = { "not_allowed", "per_ip_limit", "reserve", "400", "403", "404",
	"405", "413", "415", "503" };
static const char *const abort_names[ABORT_N] = { "deadline", "incomplete", "client", "error" };

#define MAX_NODES 512

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char id[64];
	uint64_t hits;
} nodes[MAX_NODES];
static size_t nnodes;
static struct {
	char name[40];
	bool connected;
	int signal, resets;
	double balance;
	bool stalled;
	unsigned stalls, withheld, delete_failures;
} modems[CONFIG_MAX_MODEMS];
static size_t nmodems;

void metrics_message(enum channel channel, enum direction direction)
{
	atomic_fetch_add(&messages[channel][direction], 1);
}

uint64_t metrics_messages(enum channel channel, enum direction direction)
{
	return atomic_load(&messages[channel][direction]);
}

void metrics_send(bool ok, bool permanent)
{
	if (ok)
		atomic_fetch_add(&sends_ok, 1);
	else if (permanent)
		atomic_fetch_add(&sends_perm, 1);
	else
		atomic_fetch_add(&sends_failed, 1);
}

void metrics_retry(void)
{
	atomic_fetch_add(&retries, 1);
}

void metrics_kannel_resent(void)
{
	atomic_fetch_add(&kannel_resent, 1);
}

void metrics_unknown(void)
{
	atomic_fetch_add(&unknown_in, 1);
}

void metrics_silenced(void)
{
	atomic_fetch_add(&silenced, 1);
}

void metrics_http_request(int status)
{
	if (status < 400)
		atomic_fetch_add(&http_2xx, 1);
	else if (status < 500)
		atomic_fetch_add(&http_4xx, 1);
	else
		atomic_fetch_add(&http_5xx, 1);
}

const char *metrics_refusal_name(enum metrics_refusal r)
{
	return (unsigned)r < REFUSED_N ? refusal_names[r] : "?";
}

const char *metrics_abort_name(enum metrics_abort a)
{
	return (unsigned)a < ABORT_N ? abort_names[a] : "?";
}

void metrics_http_refused(enum metrics_refusal r)
{
	if ((unsigned)r < REFUSED_N)
		atomic_fetch_add(&http_refused[r], 1);
}

void metrics_http_aborted(enum metrics_abort a)
{
	if ((unsigned)a < ABORT_N)
		atomic_fetch_add(&http_aborted[a], 1);
}

/* Node ids hashed into slots of `nodes` (open addressing): one compare per message. */
static int node_slot[MAX_NODES * 2];

void metrics_node_hit(const char *node)
{
	size_t h = (size_t)(hash64(node, strlen(node)) % (MAX_NODES * 2));

	pthread_mutex_lock(&lock);
	for (size_t k = 0; k < MAX_NODES * 2; k++, h = (h + 1) % (MAX_NODES * 2)) {
		int i = node_slot[h] - 1;
		if (i < 0) {
			if (nnodes < MAX_NODES) {
				snprintf(nodes[nnodes].id, sizeof(nodes[nnodes].id), "%s", node);
				nodes[nnodes].hits = 1;
				node_slot[h] = (int)++nnodes;
			}
			break;
		}
		if (strcmp(nodes[i].id, node) == 0) {
			nodes[i].hits++;
			break;
		}
	}
	pthread_mutex_unlock(&lock);
}

/* The slot of modem name, made when new; call with lock held. CONFIG_MAX_MODEMS when full. */
static size_t modem_slot(const char *name)
{
	size_t i;

	for (i = 0; i < nmodems; i++)
		if (strcmp(modems[i].name, name) == 0)
			break;
	if (i == nmodems && nmodems < CONFIG_MAX_MODEMS) {
		memset(&modems[i], 0, sizeof(modems[i]));
		snprintf(modems[i].name, sizeof(modems[i].name), "%s", name);
		nmodems++;
	}
	return i;
}

void metrics_modem_faults(const char *name, bool stalled, unsigned stalls, unsigned withheld, unsigned delete_failures)
{
	size_t i;

	pthread_mutex_lock(&lock);
	i = modem_slot(name);
	if (i < CONFIG_MAX_MODEMS) {
		modems[i].stalled = stalled;
		modems[i].stalls = stalls;
		modems[i].withheld = withheld;
		modems[i].delete_failures = delete_failures;
	}
	pthread_mutex_unlock(&lock);
}

void metrics_modem(const char *name, bool connected, int signal, int resets, double balance)
{
	size_t i;

	pthread_mutex_lock(&lock);
	i = modem_slot(name);
	if (i < CONFIG_MAX_MODEMS) {
		modems[i].connected = connected;
		modems[i].signal = signal;
		modems[i].resets = resets;
		modems[i].balance = balance;
	}
	pthread_mutex_unlock(&lock);
}

void metrics_render(struct buf *out, const struct metrics_gauges *g)
{
	buf_adds(out, "# HELP hotline_messages_total Messages stored, by channel and direction.\n"
		      "# TYPE hotline_messages_total counter\n");
	for (int c = 0; c < CHANNEL_N; c++)
		for (int d = 0; d < DIRECTION_N; d++)
			buf_printf(out, "hotline_messages_total{channel=\"%s\",direction=\"%s\"} %llu\n",
			    channel_name((enum channel)c), direction_name((enum direction)d),
			    (unsigned long long)atomic_load(&messages[c][d]));
	buf_printf(out, "# HELP hotline_sends_total SMS send attempts, by outcome.\n"
			"# TYPE hotline_sends_total counter\n"
			"hotline_sends_total{result=\"sent\"} %llu\n"
			"hotline_sends_total{result=\"failed\"} %llu\n"
			"hotline_sends_total{result=\"failed_permanently\"} %llu\n"
			"# HELP hotline_send_retries_total Sends put back in the queue to try again.\n"
			"# TYPE hotline_send_retries_total counter\n"
			"hotline_send_retries_total %llu\n"
			"# HELP hotline_kannel_resent_total Sent MT put back in the queue: the SMSC never acknowledged them.\n"
			"# TYPE hotline_kannel_resent_total counter\n"
			"hotline_kannel_resent_total %llu\n"
			"# HELP hotline_unknown_total Messages the menus did not understand.\n"
			"# TYPE hotline_unknown_total counter\n"
			"hotline_unknown_total %llu\n"
			"# HELP hotline_silenced_total Messages stored and left unanswered (reports, short codes, our own modems, loops, floods).\n"
			"# TYPE hotline_silenced_total counter\n"
			"hotline_silenced_total %llu\n",
	    (unsigned long long)atomic_load(&sends_ok), (unsigned long long)atomic_load(&sends_failed),
	    (unsigned long long)atomic_load(&sends_perm), (unsigned long long)atomic_load(&retries),
	    (unsigned long long)atomic_load(&kannel_resent),
	    (unsigned long long)atomic_load(&unknown_in), (unsigned long long)atomic_load(&silenced));
	buf_printf(out, "# HELP hotline_http_requests_total HTTP requests, by status class.\n"
			"# TYPE hotline_http_requests_total counter\n"
			"hotline_http_requests_total{code=\"2xx\"} %llu\n"
			"hotline_http_requests_total{code=\"4xx\"} %llu\n"
			"hotline_http_requests_total{code=\"5xx\"} %llu\n",
	    (unsigned long long)atomic_load(&http_2xx), (unsigned long long)atomic_load(&http_4xx),
	    (unsigned long long)atomic_load(&http_5xx));
	for (int e = 0; e < METRIC_EVENT_N; e++)
		buf_printf(out, "# HELP hotline_%s_total %s\n# TYPE hotline_%s_total counter\nhotline_%s_total %llu\n",
		    event_names[e][0], event_names[e][1], event_names[e][0], event_names[e][0],
		    (unsigned long long)atomic_load(&events[e]));
	buf_adds(out, "# HELP hotline_http_refused_total Connections refused at accept and requests refused, by reason.\n"
		      "# TYPE hotline_http_refused_total counter\n");
	for (int i = 0; i < REFUSED_N; i++)
		buf_printf(out, "hotline_http_refused_total{reason=\"%s\"} %llu\n", refusal_names[i],
		    (unsigned long long)atomic_load(&http_refused[i]));
	buf_adds(out, "# HELP hotline_http_aborted_total Connections that ended without their request answered, by kind.\n"
		      "# TYPE hotline_http_aborted_total counter\n");
	for (int i = 0; i < ABORT_N; i++)
		buf_printf(out, "hotline_http_aborted_total{kind=\"%s\"} %llu\n", abort_names[i],
		    (unsigned long long)atomic_load(&http_aborted[i]));
	if (g) {
		buf_printf(out, "# HELP hotline_outbox_depth SMS waiting to be sent.\n"
				"# TYPE hotline_outbox_depth gauge\n"
				"hotline_outbox_depth %d\n"
				"# HELP hotline_outbox_oldest_seconds Age of the oldest SMS due to be sent.\n"
				"# TYPE hotline_outbox_oldest_seconds gauge\n"
				"hotline_outbox_oldest_seconds %lld\n"
				"# HELP hotline_ussd_sessions_active USSD sessions seen within the session timeout.\n"
				"# TYPE hotline_ussd_sessions_active gauge\n"
				"hotline_ussd_sessions_active %d\n"
				"# HELP hotline_database_up Whether the database answers.\n"
				"# TYPE hotline_database_up gauge\n"
				"hotline_database_up %d\n",
		    g->outbox_depth, (long long)g->outbox_oldest_age, g->ussd_sessions, g->db_ok ? 1 : 0);
		if (g->db_last_commit_age >= 0)
			buf_printf(out, "# HELP hotline_database_last_commit_seconds Seconds since the last write committed.\n"
					"# TYPE hotline_database_last_commit_seconds gauge\n"
					"hotline_database_last_commit_seconds %lld\n",
			    (long long)g->db_last_commit_age);
		buf_printf(out, "# HELP hotline_database_errors_total Database statements that failed.\n"
				"# TYPE hotline_database_errors_total counter\n"
				"hotline_database_errors_total %llu\n",
		    (unsigned long long)g->db_errors);
	}
	pthread_mutex_lock(&lock);
	buf_adds(out, "# HELP hotline_modem_connected Whether the modem is connected.\n"
		      "# TYPE hotline_modem_connected gauge\n");
	for (size_t i = 0; i < nmodems; i++)
		buf_printf(out, "hotline_modem_connected{modem=\"%s\"} %d\n", modems[i].name, modems[i].connected);
	buf_adds(out, "# HELP hotline_modem_signal_percent Signal strength, percent (-1 unknown).\n"
		      "# TYPE hotline_modem_signal_percent gauge\n");
	for (size_t i = 0; i < nmodems; i++)
		buf_printf(out, "hotline_modem_signal_percent{modem=\"%s\"} %d\n", modems[i].name, modems[i].signal);
	buf_adds(out, "# HELP hotline_modem_resets_total Resets after repeated failures.\n"
		      "# TYPE hotline_modem_resets_total counter\n");
	for (size_t i = 0; i < nmodems; i++)
		buf_printf(out, "hotline_modem_resets_total{modem=\"%s\"} %d\n", modems[i].name, modems[i].resets);
	buf_adds(out, "# HELP hotline_modem_stalled Whether the watchdog found the modem stalled (it reconnects).\n"
		      "# TYPE hotline_modem_stalled gauge\n");
	for (size_t i = 0; i < nmodems; i++)
		buf_printf(out, "hotline_modem_stalled{modem=\"%s\"} %d\n", modems[i].name, modems[i].stalled);
	buf_adds(out, "# HELP hotline_modem_stalls_total Operations the watchdog aborted (no answer in time).\n"
		      "# TYPE hotline_modem_stalls_total counter\n");
	for (size_t i = 0; i < nmodems; i++)
		buf_printf(out, "hotline_modem_stalls_total{modem=\"%s\"} %u\n", modems[i].name, modems[i].stalls);
	buf_adds(out, "# HELP hotline_calls_withheld_total Calls without caller ID, hung up and not answered.\n"
		      "# TYPE hotline_calls_withheld_total counter\n");
	for (size_t i = 0; i < nmodems; i++)
		buf_printf(out, "hotline_calls_withheld_total{modem=\"%s\"} %u\n", modems[i].name, modems[i].withheld);
	buf_adds(out, "# HELP hotline_modem_delete_failures_total Stored parts the phone would not delete.\n"
		      "# TYPE hotline_modem_delete_failures_total counter\n");
	for (size_t i = 0; i < nmodems; i++)
		buf_printf(out, "hotline_modem_delete_failures_total{modem=\"%s\"} %u\n", modems[i].name,
		    modems[i].delete_failures);
	buf_adds(out, "# HELP hotline_modem_balance Last SIM balance reading.\n"
		      "# TYPE hotline_modem_balance gauge\n");
	for (size_t i = 0; i < nmodems; i++)
		if (!isnan(modems[i].balance))
			buf_printf(out, "hotline_modem_balance{modem=\"%s\"} %.2f\n", modems[i].name, modems[i].balance);
	buf_adds(out, "# HELP hotline_node_hits_total Messages answered at each menu node.\n"
		      "# TYPE hotline_node_hits_total counter\n");
	for (size_t i = 0; i < nnodes; i++)
		buf_printf(out, "hotline_node_hits_total{node=\"%s\"} %llu\n", nodes[i].id,
		    (unsigned long long)nodes[i].hits);
	pthread_mutex_unlock(&lock);
}

