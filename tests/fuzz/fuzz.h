/*
 * fuzz.h: what the libFuzzer harnesses in tests/fuzz share.
 *
 * Each harness is one file defining LLVMFuzzerTestOneInput. `make fuzz`
 * builds each with clang -fsanitize=fuzzer,address,undefined; the unit test
 * tests/unit/test_fuzz_corpus.c includes all five (renaming the entry
 * point) and feeds them every file of tests/fuzz/corpus/<name>/, so that
 * `make check` runs each committed seed and crash again, with gcc, clang
 * and ASan+UBSan. That is why everything here is static inline and each
 * harness prefixes its own statics.
 *
 * A harness checks its promises with FUZZ_CHECK: a broken one aborts, which
 * libFuzzer reports as a crash and the corpus test as a failure.
 */
#ifndef HOTLINE_FUZZ_H
#define HOTLINE_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "log.h"
#include "utf8.h"
#include "world.h"

#ifndef FUZZ_SRC_DIR
#define FUZZ_SRC_DIR "."
#endif

#define FUZZ_CHECK(cond)                                                                             \
	do {                                                                                             \
		if (!(cond)) {                                                                               \
			fprintf(stderr, "%s:%d: broken promise: %s\n", __FILE__, __LINE__, #cond);               \
			abort();                                                                                 \
		}                                                                                            \
	} while (0)

/* FUZZ_VERBOSE=1: harnesses say what they do (to understand a crash input). */
static inline int fuzz_verbose(void)
{
	const char *v = getenv("FUZZ_VERBOSE");

	return v && *v && *v != '0';
}

/* The repository: $HOTLINE_SRC, else where `make fuzz` built the harness. */
static inline const char *fuzz_src_dir(void)
{
	const char *s = getenv("HOTLINE_SRC");

	return s && *s ? s : FUZZ_SRC_DIR;
}

/* The shipped configuration and menus, loaded once; quiet logging. Aborts when they do not load. */
static inline struct world *fuzz_world(void)
{
	static struct world *w;

	if (w == NULL) {
		char path[1024];
		struct diag d;

		log_init(LOG_LVL_ERROR, true);
		snprintf(path, sizeof(path), "%s/config/hotline.cfg", fuzz_src_dir());
		diag_init(&d);
		w = world_load(path, &d);
		if (w == NULL) {
			diag_print(&d, stderr);
			fprintf(stderr, "fuzz: cannot load %s (set HOTLINE_SRC to the repository)\n", path);
			abort();
		}
		diag_free(&d);
	}
	return w;
}

/* Any bytes as valid UTF-8 (invalid sequences and NUL become U+FFFD), as dispatch does. Caller frees. */
static inline char *fuzz_valid_utf8(const uint8_t *data, size_t size, size_t *len)
{
	char *out = malloc(size * 3 + 1);
	size_t i = 0, n = 0;

	if (out == NULL)
		abort();
	while (i < size) {
		size_t start = i;
		uint32_t cp = utf8_next((const char *)data, size, &i);
		if (cp == 0 || (cp == UTF8_REPLACEMENT && i - start == 1)) {
			n += utf8_put(UTF8_REPLACEMENT, out + n);
			continue;
		}
		memcpy(out + n, data + start, i - start);
		n += i - start;
	}
	out[n] = '\0';
	*len = n;
	return out;
}

#endif
