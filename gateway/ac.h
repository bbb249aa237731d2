/*
 * ac: an Aho-Corasick automaton over bytes, to find every keyword of every
 * menu node in one pass over a message, whatever the number of keywords.
 *
 * Build: ac_new(), ac_add() each pattern with an id, ac_build() once. Then
 * ac_search() is read-only and may run in many threads at once.
 */
#ifndef HOTLINE_AC_H
#define HOTLINE_AC_H

#include <stddef.h>

struct ac;

struct ac *ac_new(void);
void ac_free(struct ac *a);
/* Add pattern (n > 0 bytes) with an id >= 0. Before ac_build() only. */
void ac_add(struct ac *a, const char *pattern, size_t n, int id);
void ac_build(struct ac *a);
/*
 * Report every occurrence of every pattern in text: fn(id, end, arg) with
 * end the offset just past the match. Return non-zero from fn to stop.
 */
void ac_search(const struct ac *a, const char *text, size_t n,
    int (*fn)(int id, size_t end, void *arg), void *arg);
/* States in the automaton, for `menu show` and benchmarks. */
size_t ac_states(const struct ac *a);

#endif
