#include "ac.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

struct edge {
	unsigned char byte;
	int target;
};

struct state {
	int fail;     /* longest proper suffix that is also a state */
	int dict;     /* next state along the fail chain that has outputs, -1 if none */
	int edges;    /* first edge in a->edges (sorted by byte once built) */
	int nedges;
	int outs;     /* first id in a->outs */
	int nouts;
};

struct ac {
	struct state *st;
	size_t nst, capst;
	struct edge *edges; /* while building: per-state linked via tmp arrays */
	size_t nedges;
	int *outs;
	size_t nouts;
	int root_next[256]; /* full transition table for the root: most bytes go nowhere */
	/* build-time storage */
	struct bedge { unsigned char byte; int target; int next; } *bed;
	size_t nbed, capbed;
	int *bfirst; /* per state: first build edge, -1 */
	struct bout { int id; int next; } *bout;
	size_t nbout, capbout;
	int *boutfirst;
	int built;
};

static int new_state(struct ac *a)
{
	if (a->nst == a->capst) {
		a->capst = a->capst ? a->capst * 2 : 64;
		a->st = xrealloc(a->st, a->capst * sizeof(*a->st));
		a->bfirst = xrealloc(a->bfirst, a->capst * sizeof(int));
		a->boutfirst = xrealloc(a->boutfirst, a->capst * sizeof(int));
	}
	memset(&a->st[a->nst], 0, sizeof(a->st[0]));
	a->st[a->nst].dict = -1;
	a->bfirst[a->nst] = -1;
	a->boutfirst[a->nst] = -1;
	return (int)a->nst++;
}

struct ac *ac_new(void)
{
	struct ac *a = xcalloc(1, sizeof(*a));

	new_state(a);
	return a;
}

void ac_free(struct ac *a)
{
	if (a == NULL)
		return;
	free(a->st);
	free(a->edges);
	free(a->outs);
	free(a->bed);
	free(a->bfirst);
	free(a->bout);
	free(a->boutfirst);
	free(a);
}

static int build_child(const struct ac *a, int s, unsigned char c)
{
	for (int e = a->bfirst[s]; e >= 0; e = a->bed[e].next)
		if (a->bed[e].byte == c)
			return a->bed[e].target;
	return -1;
}

void ac_add(struct ac *a, const char *pattern, size_t n, int id)
{
	int s = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)pattern[i];
		int t = build_child(a, s, c);
		if (t < 0) {
			t = new_state(a);
			if (a->nbed == a->capbed) {
				a->capbed = a->capbed ? a->capbed * 2 : 64;
				a->bed = xrealloc(a->bed, a->capbed * sizeof(*a->bed));
			}
			a->bed[a->nbed] = (struct bedge){ c, t, a->bfirst[s] };
			a->bfirst[s] = (int)a->nbed++;
		}
		s = t;
	}
	if (a->nbout == a->capbout) {
		a->capbout = a->capbout ? a->capbout * 2 : 64;
		a->bout = xrealloc(a->bout, a->capbout * sizeof(*a->bout));
	}
	a->bout[a->nbout] = (struct bout){ id, a->boutfirst[s] };
	a->boutfirst[s] = (int)a->nbout++;
}

static int cmp_edge(const void *x, const void *y)
{
	const struct edge *a = x, *b = y;

	return (int)a->byte - (int)b->byte;
}

static int child(const struct ac *a, int s, unsigned char c)
{
	const struct edge *e = a->edges + a->st[s].edges;
	int lo = 0, hi = a->st[s].nedges - 1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		if (e[mid].byte == c)
			return e[mid].target;
		if (e[mid].byte < c)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

void ac_build(struct ac *a)
{
	int *queue;
	size_t head = 0, tail = 0;

	/* compact edges and outputs into flat arrays, edges sorted per state */
	a->edges = xmalloc((a->nbed ? a->nbed : 1) * sizeof(*a->edges));
	a->outs = xmalloc((a->nbout ? a->nbout : 1) * sizeof(int));
	a->nedges = a->nouts = 0;
	for (size_t s = 0; s < a->nst; s++) {
		a->st[s].edges = (int)a->nedges;
		for (int e = a->bfirst[s]; e >= 0; e = a->bed[e].next)
			a->edges[a->nedges++] = (struct edge){ a->bed[e].byte, a->bed[e].target };
		a->st[s].nedges = (int)a->nedges - a->st[s].edges;
		qsort(a->edges + a->st[s].edges, (size_t)a->st[s].nedges, sizeof(struct edge), cmp_edge);
		a->st[s].outs = (int)a->nouts;
		for (int o = a->boutfirst[s]; o >= 0; o = a->bout[o].next)
			a->outs[a->nouts++] = a->bout[o].id;
		a->st[s].nouts = (int)a->nouts - a->st[s].outs;
	}
	free(a->bed);
	free(a->bfirst);
	free(a->bout);
	free(a->boutfirst);
	a->bed = NULL;
	a->bfirst = NULL;
	a->bout = NULL;
	a->boutfirst = NULL;

	/* breadth first: fail and dictionary links */
	queue = xmalloc(a->nst * sizeof(int));
	for (int c = 0; c < 256; c++) {
		int t = child(a, 0, (unsigned char)c);
		a->root_next[c] = t < 0 ? 0 : t;
		if (t > 0) {
			a->st[t].fail = 0;
			queue[tail++] = t;
		}
	}
	while (head < tail) {
		int s = queue[head++];
		const struct edge *e = a->edges + a->st[s].edges;
		for (int k = 0; k < a->st[s].nedges; k++) {
			int t = e[k].target, f = a->st[s].fail, g;
			while (f != 0 && (g = child(a, f, e[k].byte)) < 0)
				f = a->st[f].fail;
			g = child(a, f, e[k].byte);
			a->st[t].fail = (g >= 0 && g != t) ? g : 0;
			a->st[t].dict = a->st[a->st[t].fail].nouts > 0 ? a->st[t].fail : a->st[a->st[t].fail].dict;
			queue[tail++] = t;
		}
	}
	free(queue);
	a->built = 1;
}

void ac_search(const struct ac *a, const char *text, size_t n,
    int (*fn)(int id, size_t end, void *arg), void *arg)
{
	int s = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)text[i];
		int t;
		if (s == 0) {
			s = a->root_next[c];
		} else {
			while (s != 0 && (t = child(a, s, c)) < 0)
				s = a->st[s].fail;
			s = s == 0 ? a->root_next[c] : t;
		}
		for (int o = a->st[s].nouts > 0 ? s : a->st[s].dict; o > 0; o = a->st[o].dict)
			for (int k = 0; k < a->st[o].nouts; k++)
				if (fn(a->outs[a->st[o].outs + k], i + 1, arg))
					return;
	}
}

size_t ac_states(const struct ac *a)
{
	return a->nst;
}
