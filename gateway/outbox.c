#include "outbox.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "store_contacts.h"
#include "store_messages.h"
#include "store_outbox.h"
#include "tz.h"

/* The minute of the bureau's day (config timezone) at t. */
static int minute_of_day(const struct config *cfg, int64_t t)
{
	struct tm tm;

	tz_civil(cfg->tz, t, &tm);
	return tm.tm_hour * 60 + tm.tm_min;
}

int64_t outbox_quiet_until(const struct config *cfg, int64_t t)
{
	const struct time_window *q = &cfg->quiet_hours;
	int minute = minute_of_day(cfg, t);
	int wait;

	if (!time_window_contains(q, minute))
		return t;
	wait = q->end - minute;
	if (wait <= 0)
		wait += 24 * 60;
	/* to the start of the minute the window ends in */
	return t - (t % 60) + (int64_t)wait * 60;
}

int outbox_queue_sms(struct ctx *c, const char *phone, const char *text, enum notify_kind kind, int64_t reply_to,
    const char *node, int64_t *id)
{
	return outbox_queue_sms_asked(c, phone, text, kind, reply_to, node, false, id);
}

/* The message row of one SMS we send, queued now. */
static void outgoing(struct store_msg *m, const struct ctx *c, const char *phone, const char *text, enum msg_kind kind)
{
	memset(m, 0, sizeof(*m));
	m->channel = CHANNEL_SMS;
	m->direction = DIRECTION_OUT;
	m->phone = phone;
	m->text = text;
	m->text_len = strlen(text);
	m->status = MSG_STATUS_QUEUED;
	m->kind = kind;
	m->created_at = c->now;
}

int outbox_queue_sms_asked(struct ctx *c, const char *phone, const char *text, enum notify_kind kind, int64_t reply_to,
    const char *node, bool asked, int64_t *id)
{
	static const enum msg_kind kinds[] = { MSG_KIND_REPLY, MSG_KIND_NOTIFY, MSG_KIND_STAFF, MSG_KIND_NOTICE };
	struct store_msg m;
	int64_t mid, not_before = c->now;
	int priority = kind == NOTIFY_STAFF ? 10 : 0;

	outgoing(&m, c, phone, text, kinds[kind]);
	m.node = node;
	m.reply_to = reply_to;
	m.asked = asked;
	if (kind == NOTIFY_APPLICANT)
		not_before = outbox_quiet_until(c->cfg, c->now);
	if (store_msg_add(c->st, &m, &mid) < 0)
		return -1;
	/* a reply goes back through the modem the conversation came in on */
	if (store_outbox_add(c->st, mid, kind == NOTIFY_REPLY ? c->modem : NULL, priority, not_before) < 0)
		return -1;
	if (id)
		*id = mid;
	return 0;
}

int outbox_queue_broadcast(struct ctx *c, const char *phone, const char *text, int64_t *id)
{
	struct store_msg m;
	int64_t mid;

	outgoing(&m, c, phone, text, MSG_KIND_BROADCAST);
	if (store_msg_add(c->st, &m, &mid) < 0 || store_outbox_add_broadcast(c->st, mid, c->now) < 0)
		return -1;
	if (id)
		*id = mid;
	return 0;
}

int64_t outbox_retry_delay(const struct config *cfg, int attempts)
{
	int64_t d = cfg->retry_initial;

	for (int i = 1; i < attempts && d < cfg->retry_max; i++)
		d *= 2;
	return d > cfg->retry_max ? cfg->retry_max : d;
}

/* ---- the doorbell ------------------------------------------------------------------------------- */

static pthread_mutex_t bell_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t bell_cond;
static pthread_once_t bell_once = PTHREAD_ONCE_INIT;
static uint64_t bell_rings;

static void bell_init(void)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&bell_cond, &a);
	pthread_condattr_destroy(&a);
}

void outbox_kick(void)
{
	pthread_once(&bell_once, bell_init);
	pthread_mutex_lock(&bell_lock);
	bell_rings++;
	pthread_cond_broadcast(&bell_cond);
	pthread_mutex_unlock(&bell_lock);
}
bool outbox_wait(uint64_t *seen, int ms)
{
	struct timespec ts;
	bool rang;

	pthread_once(&bell_once, bell_init);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&bell_lock);
	while (bell_rings == *seen)
		if (pthread_cond_timedwait(&bell_cond, &bell_lock, &ts) == ETIMEDOUT)
			break;
	rang = bell_rings != *seen;
	*seen = bell_rings;
	pthread_mutex_unlock(&bell_lock);
	return rang;
}
