/*
 * world: the configuration and the menus that go together, shared read-only
 * by every thread. A reload (SIGHUP) builds a new world and swaps it in; a
 * thread holds a reference for one unit of work (a batch of SMS, an HTTP
 * request), so the old world is freed when the last user lets go.
 */
#ifndef HOTLINE_WORLD_H
#define HOTLINE_WORLD_H

#include <stdatomic.h>

#include "config.h"
#include "diag.h"
#include "menu.h"

struct world {
	struct config *cfg;
	struct menu *menu;
	atomic_int refs;
	int generation;
};

/* Load the config at path and the menus it names. NULL on any error (all in d). */
struct world *world_load(const char *path, struct diag *d);

/* Install w as the current world (taking over the caller's reference). */
void world_install(struct world *w);
/* A reference to the current world; NULL before any install. Release it. */
struct world *world_get(void);
void world_release(struct world *w);
/* Drop the current world (at exit). */
void world_shutdown(void);

#endif
