#include "world.h"

#include <pthread.h>
#include <stdlib.h>

#include "util.h"

static pthread_mutex_t world_lock = PTHREAD_MUTEX_INITIALIZER;
static struct world *current;
static int generations;

struct world *world_load(const char *path, struct diag *d)
{
	struct config *cfg = config_load(path, d);
	struct menu *menu;
	struct world *w;

	if (cfg == NULL)
		return NULL;
	menu = menu_load(cfg->menus_dir, cfg, d);
	if (menu == NULL) {
		config_free(cfg);
		return NULL;
	}
	w = xcalloc(1, sizeof(*w));
	w->cfg = cfg;
	w->menu = menu;
	atomic_init(&w->refs, 1);
	return w;
}

void world_install(struct world *w)
{
	struct world *old;

	pthread_mutex_lock(&world_lock);
	old = current;
	current = w;
	if (w)
		w->generation = ++generations;
	pthread_mutex_unlock(&world_lock);
	if (old)
		world_release(old);
}

struct world *world_get(void)
{
	struct world *w;

	pthread_mutex_lock(&world_lock);
	w = current;
	if (w)
		atomic_fetch_add(&w->refs, 1);
	pthread_mutex_unlock(&world_lock);
	return w;
}

void world_release(struct world *w)
{
	if (w == NULL)
		return;
	if (atomic_fetch_sub(&w->refs, 1) == 1) {
		menu_free(w->menu);
		config_free(w->cfg);
		free(w);
	}
}

void world_shutdown(void)
{
	world_install(NULL);
}
