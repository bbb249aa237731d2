/*
 * The fuzz corpora, run again: every file under tests/fuzz/corpus/<name>/
 * (the seeds, and every input that once crashed a harness, kept after the
 * fix) goes through that harness's LLVMFuzzerTestOneInput, built here with
 * the normal compiler and without libFuzzer. So `make check` re-checks each
 * committed crash under gcc, clang and ASan+UBSan; `make fuzz` looks for
 * new ones.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define LLVMFuzzerTestOneInput fuzz_normalize_one
#include "../fuzz/fuzz_normalize.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_menu_one
#include "../fuzz/fuzz_menu.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_staffcmd_one
#include "../fuzz/fuzz_staffcmd.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_ussd_one
#include "../fuzz/fuzz_ussd.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_phone_one
#include "../fuzz/fuzz_phone.c"
#undef LLVMFuzzerTestOneInput

/* Feed every file of corpus/<name> to fn; returns how many. */
static int run_corpus(const char *name, int (*fn)(const uint8_t *, size_t))
{
	char dir[1024];
	DIR *d;
	struct dirent *e;
	int n = 0;

	snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/%s", fuzz_src_dir(), name);
	d = opendir(dir);
	if (d == NULL) {
		fprintf(stderr, "%s: cannot open (set HOTLINE_SRC to the repository)\n", dir);
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		char path[1400];
		FILE *f;
		uint8_t *buf;
		long len;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		f = fopen(path, "rb");
		if (f == NULL)
			continue;
		fseek(f, 0, SEEK_END);
		len = ftell(f);
		fseek(f, 0, SEEK_SET);
		/* an exact-size copy, so that ASan sees any read past the input */
		buf = malloc(len > 0 ? (size_t)len : 1);
		if (len > 0 && fread(buf, 1, (size_t)len, f) != (size_t)len) {
			fclose(f);
			free(buf);
			continue;
		}
		fclose(f);
		fn(buf, (size_t)len);
		free(buf);
		n++;
	}
	closedir(d);
	return n;
}

static void test_corpus_normalize(void **state)
{
	(void)state;
	assert_true(run_corpus("normalize", fuzz_normalize_one) > 0);
}

static void test_corpus_menu(void **state)
{
	(void)state;
	assert_true(run_corpus("menu", fuzz_menu_one) > 0);
}

static void test_corpus_staffcmd(void **state)
{
	(void)state;
	assert_true(run_corpus("staffcmd", fuzz_staffcmd_one) > 0);
}

static void test_corpus_ussd(void **state)
{
	(void)state;
	assert_true(run_corpus("ussd", fuzz_ussd_one) > 0);
}

static void test_corpus_phone(void **state)
{
	(void)state;
	assert_true(run_corpus("phone", fuzz_phone_one) > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus_normalize),
		cmocka_unit_test(test_corpus_menu),
		cmocka_unit_test(test_corpus_staffcmd),
		cmocka_unit_test(test_corpus_ussd),
		cmocka_unit_test(test_corpus_phone),
	};

	return cmocka_run_group_tests_name("fuzz_corpus", tests, NULL, NULL);
}
