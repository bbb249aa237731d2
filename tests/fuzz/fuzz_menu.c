/*
 * fuzz_menu: a configuration file or one menu file of any content.
 *
 * The first byte chooses: even, the rest is one menu file (10-topics.cfg)
 * in a folder that holds the other files of the unit tests' small menu set
 * (tests/data/menus/ok; the shipped menus/ when that is missing, replacing
 * 10-dibao.cfg), so near-valid input loads a whole menu tree, quickly; odd,
 * the rest is hotline.cfg. Promises checked:
 * loading never crashes or leaks, fails exactly when it reports an error
 * (and then returns nothing), and every error names the file (file:line).
 */
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "diag.h"
#include "fuzz.h"
#include "menu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * libconfig 1.5 (Debian bookworm's libconfig9) leaks its scanner's string
 * buffer when a file ends inside a string or breaks off after one: fixed
 * upstream in 1.7, not ours to fix. LeakSanitizer reads this hook (under
 * libFuzzer and in the ASan build of the corpus test).
 */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libconfig.so\n";
}

static char fm_dir[256];
static const char *fm_replaced = "10-topics.cfg";

/* A temp folder with the shipped menus but one; removed at exit. */
static void fm_cleanup(void)
{
	char path[600];
	DIR *d;
	struct dirent *e;

	snprintf(path, sizeof(path), "%s/menus", fm_dir);
	if ((d = opendir(path)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			char f[900];
			if (e->d_name[0] == '.')
				continue;
			snprintf(f, sizeof(f), "%s/%s", path, e->d_name);
			unlink(f);
		}
		closedir(d);
	}
	rmdir(path);
	snprintf(path, sizeof(path), "%s/hotline.cfg", fm_dir);
	unlink(path);
	rmdir(fm_dir);
}

static void fm_copy(const char *from, const char *to)
{
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	char buf[8192];
	size_t n;

	FUZZ_CHECK(in != NULL && out != NULL);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		FUZZ_CHECK(fwrite(buf, 1, n, out) == n);
	fclose(in);
	fclose(out);
}

static void fm_init(void)
{
	char src[600], dst[900];
	DIR *d;
	struct dirent *e;

	if (fm_dir[0])
		return;
	snprintf(fm_dir, sizeof(fm_dir), "%s/hotline-fuzz-menu-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	FUZZ_CHECK(mkdtemp(fm_dir) != NULL);
	atexit(fm_cleanup);
	snprintf(dst, sizeof(dst), "%s/menus", fm_dir);
	FUZZ_CHECK(mkdir(dst, 0700) == 0);
	snprintf(src, sizeof(src), "%s/tests/data/menus/ok", fuzz_src_dir());
	d = opendir(src);
	if (d == NULL) {
		snprintf(src, sizeof(src), "%s/menus", fuzz_src_dir());
		fm_replaced = "10-dibao.cfg";
		d = opendir(src);
	}
	FUZZ_CHECK(d != NULL);
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		char from[900];
		if (n < 5 || strcmp(e->d_name + n - 4, ".cfg") != 0 || strcmp(e->d_name, fm_replaced) == 0)
			continue;
		snprintf(from, sizeof(from), "%s/%s", src, e->d_name);
		snprintf(dst, sizeof(dst), "%s/menus/%s", fm_dir, e->d_name);
		fm_copy(from, dst);
	}
	closedir(d);
}

static void fm_write(const char *path, const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "wb");

	FUZZ_CHECK(f != NULL);
	FUZZ_CHECK(size == 0 || fwrite(data, 1, size, f) == size);
	FUZZ_CHECK(fclose(f) == 0);
}

/* Every error names a file, and a loader fails exactly when it reports one. */
static void fm_check_diag(const struct diag *d, bool loaded)
{
	FUZZ_CHECK(loaded == (d->errors == 0));
	for (size_t i = 0; i < d->n; i++) {
		FUZZ_CHECK(d->items[i].text != NULL);
		if (d->items[i].error)
			FUZZ_CHECK(strstr(d->items[i].text, ".cfg") != NULL);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct config *cfg = fuzz_world()->cfg;
	char path[800], menus[600];
	struct diag d;

	fm_init();
	if (size == 0)
		return 0;
	diag_init(&d);
	if (data[0] & 1) {
		struct config *c;
		snprintf(path, sizeof(path), "%s/hotline.cfg", fm_dir);
		fm_write(path, data + 1, size - 1);
		c = config_load(path, &d);
		fm_check_diag(&d, c != NULL);
		config_free(c);
	} else {
		struct menu *m;
		snprintf(menus, sizeof(menus), "%s/menus", fm_dir);
		snprintf(path, sizeof(path), "%s/%s", menus, fm_replaced);
		fm_write(path, data + 1, size - 1);
		m = menu_load(menus, cfg, &d);
		fm_check_diag(&d, m != NULL);
		if (m != NULL)
			FUZZ_CHECK(menu_count(m) > 0 && menu_root(m) >= 0);
		menu_free(m);
	}
	diag_free(&d);
	return 0;
}
