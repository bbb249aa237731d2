#include "health.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "config.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct modem_health modems[CONFIG_MAX_MODEMS];
static size_t nmodems;

static pthread_mutex_t bell_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t bell_cond;
static pthread_once_t bell_once = PTHREAD_ONCE_INIT;
static uint64_t bell_rings;

const char *modem_state_name(enum modem_state s)
{
	static const char *const names[] = { "down", "connecting", "ready", "backoff", "resetting", "stalled" };

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

void health_modem_set(const struct modem_health *h)
{
	size_t i;

	pthread_mutex_lock(&lock);
	for (i = 0; i < nmodems; i++)
		if (strcmp(modems[i].name, h->name) == 0)
			break;
	if (i == nmodems && nmodems < CONFIG_MAX_MODEMS)
		nmodems++;
	if (i < CONFIG_MAX_MODEMS)
		modems[i] = *h;
	pthread_mutex_unlock(&lock);
}

size_t health_modems(struct modem_health *out, size_t max)
{
	size_t n;

	pthread_mutex_lock(&lock);
	n = nmodems;
	for (size_t i = 0; i < n && i < max; i++)
		out[i] = modems[i];
	pthread_mutex_unlock(&lock);
	return n;
}

bool health_any_connected(void)
{
	bool ok = false;

	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < nmodems; i++)
		ok |= modems[i].connected;
	pthread_mutex_unlock(&lock);
	return ok;
}

void health_reset(void)
{
	pthread_mutex_lock(&lock);
	nmodems = 0;
	pthread_mutex_unlock(&lock);
}

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
