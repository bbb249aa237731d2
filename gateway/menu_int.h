/*
 * menu_int.h: what menu.c (queries) and menu_load.c (loading and checks)
 * share: the loaded tree itself, the table of system texts and the
 * placeholder syntax. menu_load.c calls menu.c, never the other way.
 * Nothing else includes it.
 */
#ifndef HOTLINE_MENU_INT_H
#define HOTLINE_MENU_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "menu.h"

/* The system texts of texts.def, by index. */
enum {
#define TEXT(name, req, vars) MENU_TEXT_##name,
#include "texts.def"
#undef TEXT
	MENU_NTEXTS
};

struct menu_text_def {
	const char *name;
	int required;
	const char *vars;
};
extern const struct menu_text_def menu_text_defs[MENU_NTEXTS];

/* One keyword or cue in the automaton. */
struct pattern {
	int node;
	bool cue;
	bool word;  /* ASCII letters only, up to 3: must stand as a whole word */
	bool exact; /* the whole message only */
	size_t chars;
	int weight; /* > 0: a situation cue (situations.cfg), adding weight to node's score */
};

struct menu_text {
	const char *name;
	char *text;
	char *ussd; /* the USSD variant; NULL: text */
	const char *file;
	int line;
};

struct menu {
	struct menu_node *nodes;
	size_t nnodes;
	struct menu_text texts[MENU_NTEXTS];
	char **fillers; /* normalised, longest first */
	size_t nfillers;
	char **dwords;  /* normalised words that stand for a digit choice ("下一页") */
	char **ddigits; /* ... and the digits they stand for ("9") */
	size_t ndwords;
	struct ac *ac;
	struct pattern *pats;
	size_t npats, cappats;
	char **files;
	size_t nfiles;
	struct menu_market *markets;
	size_t nmarkets;
	int situ_threshold; /* the score a node needs from situation cues */
	int root;
	/* sorted ids for menu_find */
	int *by_id;
	char **value_names, **value_vals; /* the values groups, flattened ("amount.dibao_city") */
	size_t nvalues;
};

/* The index of system text `name` in menu_text_defs, or -1. */
int menu_text_index(const char *name);
/* A placeholder "{name}" at p: its name's length in *namelen. */
bool menu_placeholder_at(const char *p, size_t *namelen);
/*
 * An optional part "{?...}" of a text: said only when every placeholder in it
 * has a value ("或打{?{office.phone}、}12345" says 12345 alone while
 * office.phone is empty). p points at "{?"; returns the length of the part's
 * inside (up to the "}" that closes it) and sets *ok, or false when the part
 * is not closed.
 */
bool menu_optional_at(const char *p, size_t *inner);

#endif
