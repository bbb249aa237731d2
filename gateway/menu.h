/*
 * menu: the menu tree, its keywords and its system texts, loaded from the
 * *.cfg files of one folder (format and matching rules: menus/README.md).
 *
 * A loaded struct menu is immutable and shared by every thread; a reload
 * builds a new one. Loading checks everything `hotlinectl menu check`
 * reports: problems are collected in a struct diag as "file:line: message".
 */
#ifndef HOTLINE_MENU_H
#define HOTLINE_MENU_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "diag.h"
#include "market.h"

#define MENU_ID_MAX 64
#define MENU_DIGITS 10 /* options 1..9 (0 is reserved) */

enum menu_action {
	MENU_ACT_NONE,
	MENU_ACT_FORM,     /* start the home-visit request form */
	MENU_ACT_STATUS,   /* answer with the sender's own cases */
	MENU_ACT_FEEDBACK, /* the next message is a suggestion or complaint */
	MENU_ACT_CALLBACK, /* record a request for a person to call back */
	MENU_ACT_REPEAT,   /* send the last reply again */
	MENU_ACT_MARKET,   /* the next 救助赶大集 market days (menus/markets.cfg) */
};

struct menu_node {
	char *id, *title;
	int parent;            /* index; -1 for root */
	int topic;             /* the top-level ancestor (a child of root); -1 for root */
	int depth;             /* root 0, dibao 1, dibao.apply 2 */
	char **pages;          /* placeholders of config and values filled in */
	size_t npages;
	char **ussd_pages;     /* their USSD variants (menus/README.md, "Texts by channel"); NULL when none */
	size_t nussd_pages;
	int options[MENU_DIGITS]; /* digit -> node index, -1 for none */
	enum menu_action action;
	bool exact;            /* keywords count only as the whole message */
	bool keep;             /* USSD: end the session here and send the page by SMS too */
	const char *file;      /* where it is defined */
	int line;
};

/* What menu_match() found. */
enum menu_via { MENU_VIA_NONE, MENU_VIA_KEYWORD, MENU_VIA_CUE, MENU_VIA_SITUATION };
struct menu_match {
	int node;           /* -1 when nothing matched */
	enum menu_via via;
	size_t chars;       /* length of the keyword or cue that decided, in characters */
	size_t text_chars;  /* length of the normalised message, in characters */
};

struct menu;

/* A market where the bureau's stall stands (menus/markets.cfg). */
struct menu_market {
	char *town, *place, *time, *rule_text;
	char *town_norm; /* normalised, to find the town in a message */
	struct market_rule rule;
	const char *file;
	int line;
};

/*
 * Load every *.cfg in dir. Office values (and, for the SMS and USSD budget
 * checks, the limits) come from cfg. Returns NULL when there is any error;
 * errors and warnings are added to d either way. Free with menu_free().
 */
struct menu *menu_load(const char *dir, const struct config *cfg, struct diag *d);
void menu_free(struct menu *m);

size_t menu_count(const struct menu *m);
const struct menu_node *menu_node_at(const struct menu *m, int idx);
/* Index of the node with this id, or -1. */
int menu_find(const struct menu *m, const char *id);
int menu_root(const struct menu *m);

/*
 * Find the node a normalised message leads to (keywords, then cues below
 * it). context is the node the sender is at (-1 for none): when no keyword
 * matches, cues under that node's topic are tried. Pure and thread-safe.
 */
void menu_match(const struct menu *m, const char *norm, size_t len, int context, struct menu_match *out);

/*
 * menu_match(), and in words why: every keyword, cue and situation cue found,
 * the situation scores and the decision (hotlinectl menu why). Caller frees.
 */
char *menu_why(const struct menu *m, const char *norm, int context, struct menu_match *out);

/*
 * If the normalised message is a digit choice (digits, perhaps wrapped in
 * digit fillers such as 回复 or 第), copy the digits into out (up to outlen-1)
 * and return true.
 */
bool menu_digit_choice(const struct menu *m, const char *norm, char *out, size_t outlen);

/*
 * The system text `name` (see texts.def) with static placeholders filled;
 * runtime placeholders ({case.number}) are still in it: fill them with
 * menu_render(). Never NULL for a name in texts.def (the loader requires
 * them); NULL for an unknown name.
 */
/* The USSD variant of a text or a page when asked for and given, else the text itself. */
const char *menu_text_for(const struct menu *m, const char *name, bool ussd);
const char *menu_page_for(const struct menu_node *n, size_t page, bool ussd);
const char *menu_text(const struct menu *m, const char *name);

/* A value of the menus' values groups by its full name ("amount.dibao_city"), or NULL. */
const char *menu_value(const struct menu *m, const char *name);

/* A runtime value for menu_render(). */
struct menu_var {
	const char *name;  /* "case.number" */
	const char *value;
};
/* tmpl with every {name} of vars replaced; unknown names stay as they are. Caller frees. */
char *menu_render(const char *tmpl, const struct menu_var *vars, size_t nvars);

/* The files that were loaded (for `menu show`), NULL-terminated. */
const char *const *menu_files(const struct menu *m);
/* Keywords/cues patterns and automaton states, for `menu show`. */
void menu_stats(const struct menu *m, size_t *patterns, size_t *states);

/* The markets of the `markets` lists in menus/, in file order. */
size_t menu_markets(const struct menu *m, const struct menu_market **out);

/* Is node idx a descendant of (or equal to) node anc? */
bool menu_within(const struct menu *m, int idx, int anc);

#endif
