#include "health.h"

#include <math.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "config.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct modem_health modems[CONFIG_MAX_MODEMS];
static size_t nmodems;

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
