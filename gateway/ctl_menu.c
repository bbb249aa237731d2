/* hotlinectl menu check | menu show: what staff run after editing menus/. */
#include "ctl.h"

#include <stdlib.h>
#include <string.h>

#include "normalize.h"
#include "smstext.h"
#include "util.h"

static int menu_check(struct ctl *c)
{
	struct diag d;
	struct config *cfg;
	struct menu *m;
	size_t pats, states;

	diag_init(&d);
	cfg = config_load(c->config_path, &d);
	if (cfg == NULL) {
		diag_print(&d, stderr);
		diag_free(&d);
		return 1;
	}
	m = menu_load(cfg->menus_dir, cfg, &d);
	diag_print(&d, stderr);
	if (m == NULL) {
		fprintf(stderr, "menu check: %s 有 %zu 个错误、%zu 个提醒，改好错误才能用\n", cfg->menus_dir, d.errors,
		    d.warnings);
		diag_free(&d);
		config_free(cfg);
		return 1;
	}
	menu_stats(m, &pats, &states);
	printf("menu check: %s 没有错误：%zu 个节点，%zu 个关键词写法，%zu 个提醒\n", cfg->menus_dir, menu_count(m),
	    pats, d.warnings);
	diag_free(&d);
	menu_free(m);
	config_free(cfg);
	return 0;
}

static size_t page_segments(const char *p)
{
	struct sms_count sc;

	sms_count(p, strlen(p), &sc);
	return sc.segments;
}

static void show_node(const struct menu *m, int idx, const char *digit, int depth, size_t walk_before, bool *shown,
    size_t *leaves, size_t *total)
{
	const struct menu_node *n = menu_node_at(m, idx);
	size_t here = 0;
	bool leaf = true;

	if (shown[idx])
		return;
	shown[idx] = true;
	printf("%*s%s%s%s  %s", depth * 2, "", digit ? digit : "", digit ? " " : "", n->id, n->title);
	if (n->action != MENU_ACT_NONE)
		printf("  （动作）");
	printf("\n");
	for (size_t p = 0; p < n->npages; p++) {
		struct sms_count sc;
		sms_count(n->pages[p], strlen(n->pages[p]), &sc);
		printf("%*s  第 %zu 页：%zu 个字，%s，%zu 条短信\n", depth * 2, "", p + 1, sc.chars,
		    sc.coding == SMS_CODING_GSM7 ? "GSM-7" : "UCS-2", sc.segments);
		here += sc.segments;
	}
	for (int d = 1; d < MENU_DIGITS; d++) {
		int t = n->options[d];
		const struct menu_node *tn = menu_node_at(m, t);
		if (t < 0 || tn->parent != idx)
			continue;
		char dg[12];
		snprintf(dg, sizeof(dg), "%d", d);
		leaf = false;
		show_node(m, t, dg, depth + 1, walk_before + here, shown, leaves, total);
	}
	/* children reached by keywords only */
	for (size_t k = 0; k < menu_count(m); k++)
		if (menu_node_at(m, (int)k)->parent == idx && !shown[k]) {
			leaf = false;
			show_node(m, (int)k, "*", depth + 1, walk_before + here, shown, leaves, total);
		}
	if (leaf && idx != menu_root(m)) {
		printf("%*s  从主菜单走到这里：%zu 条短信\n", depth * 2, "", walk_before + here);
		(*leaves)++;
		*total += walk_before + here;
	}
}

static int menu_show(struct ctl *c)
{
	struct world *w = ctl_world(c);
	const struct menu *m;
	bool *shown;
	size_t leaves = 0, total = 0;

	if (w == NULL)
		return 1;
	m = w->menu;
	shown = xcalloc(menu_count(m), sizeof(bool));
	printf("每一页：字数、编码、占几条短信。每个末端节点：群众从主菜单走到那里\n"
	       "一共收到几条短信（民政局要付的钱）。\n\n");
	{
		const char *root = menu_node_at(m, menu_root(m))->pages[0];
		struct sms_count sc;
		sms_count(root, strlen(root), &sc);
		printf("主菜单：%zu 个字，%s，%zu 条短信\n\n", sc.chars,
		    sc.coding == SMS_CODING_GSM7 ? "GSM-7" : "UCS-2", sc.segments);
	}
	show_node(m, menu_root(m), NULL, 0, 0, shown, &leaves, &total);
	for (size_t k = 0; k < menu_count(m); k++)
		if (!shown[k])
			show_node(m, (int)k, "?", 0, page_segments(menu_node_at(m, menu_root(m))->pages[0]), shown,
			    &leaves, &total);
	if (leaves)
		printf("\n%zu 个末端节点；平均走一趟 %.1f 条短信\n", leaves, (double)total / (double)leaves);
	free(shown);
	return 0;
}

/* hotlinectl menu why TEXT: where a message from a new sender lands, and why. */
static int menu_why_cmd(struct ctl *c, const char *text)
{
	struct world *w = ctl_world(c);
	struct menu_match mm;
	char digits[8];

	if (w == NULL)
		return 1;
	char *norm = norm_dup(text, strlen(text), 0);
	if (menu_digit_choice(w->menu, norm, digits, sizeof(digits))) {
		printf("整理后：“%s”\n结果：数字选项 %s（新发信人在主菜单上选）\n", norm, digits);
		free(norm);
		return 0;
	}
	char *why = menu_why(w->menu, norm, -1, &mm);
	fputs(why, stdout);
	free(why);
	free(norm);
	return 0;
}

int ctl_menu(struct ctl *c, int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "why") == 0)
		return menu_why_cmd(c, argv[2]);
	if (argc == 2 && strcmp(argv[1], "check") == 0)
		return menu_check(c);
	if (argc == 2 && strcmp(argv[1], "show") == 0)
		return menu_show(c);
	fprintf(stderr,
	    "usage: hotlinectl [-c FILE] menu check|show|why TEXT\n"
	    "  why TEXT: where TEXT from a new sender lands: each keyword, cue and situation cue found, and the decision\n"
	    "  check: load the menus as hotlined would and report every problem (file:line)\n"
	    "  show:  the tree, each page's length, encoding and SMS count, and the cost of each walk\n");
	return 2;
}
