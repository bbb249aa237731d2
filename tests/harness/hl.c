#include "hl.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "phone.h"
#include "store.h"

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v && *v ? v : def;
}

/*
 * Before main() of every unit and end-to-end test (they all link this file):
 * run from the checkout's root without make, HOTLINE_SRC and HOTLINE_BUILD
 * default to absolute paths of "." and "build", as make sets them; and
 * HL_ONLY=PATTERN runs only the tests whose names match (cmocka's filter:
 * * and ? wildcards), e.g. HL_ONLY='test_log_file*' build/tests/test_e2e_ops.
 */
__attribute__((constructor)) static void hl_defaults(void)
{
	char cwd[PATH_MAX], build[PATH_MAX + 8];

	if (getcwd(cwd, sizeof(cwd)) != NULL) {
		snprintf(build, sizeof(build), "%s/build", cwd);
		setenv("HOTLINE_SRC", cwd, 0);
		setenv("HOTLINE_BUILD", build, 0);
	}
	if (getenv("HL_ONLY") && *getenv("HL_ONLY"))
		cmocka_set_test_filter(getenv("HL_ONLY"));
}

const char *hl_src_dir(void)
{
	return env_or("HOTLINE_SRC", ".");
}

struct world *hl_load_world(const char *config_path)
{
	struct diag d;
	struct world *w;

	diag_init(&d);
	w = world_load(config_path, &d);
	if (w == NULL)
		diag_print(&d, stderr);
	diag_free(&d);
	return w;
}

struct world *hl_unit_world(const char *dir, const char *config_body, struct store **st)
{
	struct store_opts o = { 0 };
	char cfg[PATH_MAX + 16], err[256];
	struct world *w;
	FILE *fp;

	*st = NULL;
	snprintf(cfg, sizeof(cfg), "%s/hotline.cfg", dir);
	fp = fopen(cfg, "w");
	if (fp == NULL)
		return NULL;
	fprintf(fp, "menus = { dir = \"%s/menus\"; };\n%s", hl_src_dir(), config_body);
	fclose(fp);
	w = hl_load_world(cfg);
	if (w == NULL)
		return NULL;
	o.create = true;
	o.migrate = true;
	o.synchronous = "normal";
	if (store_open(":memory:", &o, st, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		world_release(w);
		*st = NULL;
		return NULL;
	}
	return w;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int free_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	if (fd < 0)
		return -1;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static bool wants(const char *replace, const char *group)
{
	size_t n = strlen(group);

	for (const char *p = replace; p && *p;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (len == n && strncmp(p, group, n) == 0)
			return false; /* the caller gives this group */
		if (!comma)
			break;
		p = comma + 1;
	}
	return true;
}

int hl_setup(struct hl *h, int nmodems, const char *replace, const char *extra)
{
	char tmpl[] = "/tmp/hl-XXXXXX";
	const char *src = hl_src_dir();
	FILE *f;

	memset(h, 0, sizeof(*h));
	if (nmodems < 1 || nmodems > HL_MAX_MODEMS || mkdtemp(tmpl) == NULL) {
		perror("hl_setup");
		return -1;
	}
	snprintf(h->dir, sizeof(h->dir), "%s", tmpl);
	snprintf(h->cfg, sizeof(h->cfg), "%s/hotline.cfg", h->dir);
	snprintf(h->db, sizeof(h->db), "%s/var/hotline.db", h->dir);
	snprintf(h->log, sizeof(h->log), "%s/hotlined.log", h->dir);
	snprintf(h->secret, sizeof(h->secret), "test-secret");
	h->nmodems = nmodems;
	h->port = free_port();
	{
		char var[300];
		snprintf(var, sizeof(var), "%s/var", h->dir);
		mkdir(var, 0700);
	}
	for (int i = 0; i < nmodems; i++) {
		char path[sizeof(h->phone[0])];
		snprintf(path, sizeof(path), "%s/phone%d", tmpl, i);
		memcpy(h->phone[i], path, sizeof(path));
		mkdir(h->phone[i], 0700);
	}
	f = fopen(h->cfg, "w");
	if (f == NULL) {
		perror(h->cfg);
		return -1;
	}
	fprintf(f, "# written by the test harness\n");
	if (wants(replace, "database"))
		fprintf(f, "database = { path = \"var/hotline.db\"; synchronous = \"normal\"; };\n");
	if (wants(replace, "menus"))
		fprintf(f, "menus = { dir = \"%s/menus\"; };\n", src);
	if (wants(replace, "daemon"))
		fprintf(f, "daemon = { allow_root = true; };\n");
	if (wants(replace, "log"))
		fprintf(f, "log = { level = \"%s\"; };\n", env_or("HL_LOG_LEVEL", "debug"));
	if (wants(replace, "limits"))
		fprintf(f, "limits = { poll_interval_ms = 50; retry_initial = 1; retry_max = 2; };\n");
	if (wants(replace, "http"))
		fprintf(f, "http = { address = \"127.0.0.1\"; port = %d; };\n", h->port);
	/* the staff console has its own port: off unless a test asks for it (parallel tests, one 8081) */
	if (wants(replace, "console"))
		fprintf(f, "console = { enabled = false; };\n");
	if (wants(replace, "ussd"))
		fprintf(f, "ussd = { secret = \"%s\"; };\n", h->secret);
	if (wants(replace, "office"))
		fprintf(f, "office = { name = \"崆峒区民政局\"; address = \"崆峒区民政局社会救助股\";"
			   " hours = \"周一至周五 8:30-17:30\"; phone = \"0933-0000000\"; };\n");
	if (wants(replace, "cases"))
		fprintf(f, "cases = { quiet_hours = \"\"; };\n");
	if (wants(replace, "staff"))
		fprintf(f, "staff = (\n"
			   "  { name = \"王建国\"; phone = \"13900000001\"; areas = [\"崆峒镇\"]; duty = true; },\n"
			   "  { name = \"李秀英\"; phone = \"13900000002\"; areas = [\"白水镇\", \"寨子街村\"]; },\n"
			   "  { name = \"张主任\"; phone = \"13900000003\"; role = \"supervisor\"; }\n"
			   ");\n");
	if (wants(replace, "modems")) {
		fprintf(f, "modems = (\n");
		for (int i = 0; i < nmodems; i++)
			fprintf(f, "  { name = \"m%d\"; model = \"dummy\"; connection = \"none\"; device = \"phone%d\"; }%s\n",
			    i, i, i + 1 < nmodems ? "," : "");
		fprintf(f, ");\n");
	}
	if (extra)
		fprintf(f, "%s\n", extra);
	fclose(f);
	return 0;
}

/* Replace the one occurrence of `from` in *text with `to`; false when it is not there. */
static bool swap_once(char **text, const char *from, const char *to)
{
	char *at = strstr(*text, from), *out;
	size_t a, n;

	if (at == NULL) {
		fprintf(stderr, "hl_setup_shipped: config/hotline.cfg no longer has: %s\n", from);
		return false;
	}
	a = (size_t)(at - *text);
	n = strlen(*text) - a - strlen(from);
	out = malloc(a + strlen(to) + n + 1);
	memcpy(out, *text, a);
	memcpy(out + a, to, strlen(to));
	memcpy(out + a + strlen(to), at + strlen(from), n + 1);
	free(*text);
	*text = out;
	return true;
}

int hl_setup_shipped(struct hl *h)
{
	char path[512], menus[600], port[64], console[64], *text = NULL;
	size_t len = 0;
	FILE *f;
	bool ok;

	if (hl_setup(h, 1, NULL, NULL) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/config/hotline.cfg", hl_src_dir());
	f = fopen(path, "r");
	if (f == NULL) {
		perror(path);
		return -1;
	}
	{
		char chunk[4096];
		size_t n;
		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
			text = realloc(text, len + n + 1);
			memcpy(text + len, chunk, n);
			len += n;
			text[len] = '\0';
		}
	}
	fclose(f);
	if (text == NULL)
		return -1;
	snprintf(menus, sizeof(menus), "dir = \"%s/menus\";", hl_src_dir());
	snprintf(port, sizeof(port), "port = %d;", h->port);
	snprintf(console, sizeof(console), "port = %d;", free_port());
	ok = swap_once(&text, "path = \"../var/hotline.db\";", "path = \"var/hotline.db\";") &&
	    swap_once(&text, "dir = \"../menus\";", menus) && swap_once(&text, "port = 8080;", port) &&
	    swap_once(&text, "device = \"../var/phone\";", "device = \"phone0\";");
	/* the staff console, when the shipped config has one, on a free port too */
	if (ok && strstr(text, "port = 8081;"))
		ok = swap_once(&text, "port = 8081;", console);
	if (ok) {
		f = fopen(h->cfg, "w");
		ok = f != NULL && fputs(text, f) >= 0 && fputs("\ndaemon = { allow_root = true; };\n", f) >= 0;
		if (f)
			fclose(f);
	}
	free(text);
	snprintf(h->secret, sizeof(h->secret), "change-me");
	return ok ? 0 : -1;
}

/*
 * The clock file is replaced whole (written beside, then renamed over it):
 * hotlined reads it at any moment, and a file truncated by fopen("w") but not
 * yet written reads as no offset, the real time, hours away from the test's
 * (a form then looked idle for hours and was dropped; seen under ASan).
 */
static int write_clock(struct hl *h)
{
	char path[400], tmp[410];
	FILE *f;

	snprintf(path, sizeof(path), "%s/clock", h->dir);
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	f = fopen(tmp, "w");
	if (f == NULL) {
		perror(tmp);
		return -1;
	}
	fprintf(f, "%lld\n", (long long)h->clock_offset);
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		perror(path);
		return -1;
	}
	return 0;
}

int hl_use_clock(struct hl *h, int64_t start)
{
	h->clock = true;
	h->clock_offset = start ? start - (int64_t)time(NULL) : 0;
	return write_clock(h);
}

int hl_advance(struct hl *h, int64_t seconds)
{
	h->clock_offset += seconds;
	return write_clock(h);
}

int64_t hl_now(struct hl *h)
{
	return (int64_t)time(NULL) + h->clock_offset;
}

int hl_sms_now(struct hl *h, int modem, const char *phone, const char *text)
{
	struct gsm_inject_opts o;

	gsm_inject_defaults(&o);
	o.smsc_time = hl_now(h);
	return hl_sms(h, modem, phone, text, &o);
}

int hl_start(struct hl *h, const char *const *extra_args)
{
	char bin[512];
	const char *argv[32];
	int argc = 0, status;
	pid_t pid;
	int64_t deadline;
	const char *build = env_or("HOTLINE_BUILD", "build");
	char *wrap = getenv("HL_WRAP") && *getenv("HL_WRAP") ? strdup(getenv("HL_WRAP")) : NULL;

	snprintf(bin, sizeof(bin), "%s/hotlined", build);
	/* HL_WRAP="valgrind --log-file=..." runs hotlined under that command (make valgrind) */
	if (wrap != NULL) {
		for (char *tok = strtok(wrap, " "); tok != NULL && argc < 16; tok = strtok(NULL, " "))
			argv[argc++] = tok;
	}
	argv[argc++] = bin;
	argv[argc++] = "-c";
	argv[argc++] = h->cfg;
	for (int i = 0; extra_args && extra_args[i] && argc < 30; i++)
		argv[argc++] = extra_args[i];
	argv[argc] = NULL;
	pid = fork();
	if (pid < 0) {
		perror("fork");
		free(wrap);
		return -1;
	}
	if (pid == 0) {
		int fd = open(h->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (h->clock) {
			char clock[400];
			snprintf(clock, sizeof(clock), "%s/clock", h->dir);
			setenv("HOTLINE_TEST_CLOCK", clock, 1);
		}
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
			close(fd);
		}
		if (h->nofile > 0) {
			struct rlimit rl = { (rlim_t)h->nofile, (rlim_t)h->nofile };
			if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
				perror("setrlimit RLIMIT_NOFILE");
		}
		execvp(argv[0], (char *const *)argv);
		perror(argv[0]);
		_exit(127);
	}
	free(wrap);
	h->pid = pid;
	/* ready when the log says so; give sanitizer builds time */
	deadline = (int64_t)time(NULL) + 30;
	while ((int64_t)time(NULL) < deadline) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			fprintf(stderr, "hl_start: hotlined exited early (status %d)\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
			h->pid = 0;
			hl_dump_log(h);
			return -1;
		}
		if (hl_log_has(h, " ready: "))
			return 0;
		sleep_ms(20);
	}
	fprintf(stderr, "hl_start: hotlined not ready after 30 s\n");
	hl_dump_log(h);
	return -1;
}

int hl_stop(struct hl *h, int sig, int timeout_ms)
{
	int status;
	int waited = 0;

	if (h->pid <= 0)
		return -1;
	kill(h->pid, sig);
	while (waited <= timeout_ms) {
		pid_t r = waitpid(h->pid, &status, WNOHANG);
		if (r == h->pid) {
			h->pid = 0;
			if (WIFEXITED(status))
				return WEXITSTATUS(status);
			return 128 + WTERMSIG(status);
		}
		sleep_ms(10);
		waited += 10;
	}
	return -1;
}

static void rm_rf(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;

	if (d == NULL) {
		unlink(path);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		char sub[1024];
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		rm_rf(sub);
	}
	closedir(d);
	rmdir(path);
}

void hl_cleanup(struct hl *h)
{
	if (h->pid > 0 && hl_stop(h, SIGTERM, 10000) < 0) {
		kill(h->pid, SIGKILL);
		waitpid(h->pid, NULL, 0);
		h->pid = 0;
	}
	for (int i = 0; i < HL_MAX_MODEMS; i++) {
		if (h->emu_pid[i] <= 0)
			continue;
		kill(h->emu_pid[i], SIGTERM);
		waitpid(h->emu_pid[i], NULL, 0);
		h->emu_pid[i] = 0;
	}
	if (h->dir[0] && strcmp(env_or("HL_KEEP", "0"), "1") != 0)
		rm_rf(h->dir);
	else if (h->dir[0])
		fprintf(stderr, "hl: kept %s\n", h->dir);
}

static char *vformat(const char *fmt, va_list ap);

/* ---- the AT modem emulator ---------------------------------------------------------------- */

int hl_emu_start(struct hl *h, int i)
{
	char script[512], ready[400];
	const char *argv[4];
	pid_t pid;

	{
		char path[sizeof(h->emu[0])];
		snprintf(path, sizeof(path), "%s/emu%d", h->dir, i);
		memcpy(h->emu[i], path, sizeof(path));
	}
	mkdir(h->emu[i], 0700);
	snprintf(script, sizeof(script), "%s/tests/tools/atemu.py", hl_src_dir());
	argv[0] = "python3";
	argv[1] = script;
	argv[2] = h->emu[i];
	argv[3] = NULL;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		char log[400];
		snprintf(log, sizeof(log), "%s/atemu.err", h->emu[i]);
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
			close(fd);
		}
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	h->emu_pid[i] = pid;
	/* ready when it wrote its pid file (after the pty link and the control socket) */
	snprintf(ready, sizeof(ready), "%s/atemu.pid", h->emu[i]);
	for (int waited = 0; waited < 10000; waited += 10) {
		if (access(ready, F_OK) == 0)
			return 0;
		if (waitpid(pid, NULL, WNOHANG) == pid) {
			h->emu_pid[i] = 0;
			break;
		}
		sleep_ms(10);
	}
	fprintf(stderr, "hl: the AT emulator in %s did not start\n", h->emu[i]);
	return -1;
}

int hl_setup_at(struct hl *h, int nmodems, const char *modem_keys, const char *replace, const char *extra)
{
	char *rep = NULL, *ext = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	/* the emulators' folders are known once the temp folder is: write the modems after */
	if (asprintf(&rep, "%s%smodems", replace ? replace : "", replace && *replace ? "," : "") < 0)
		return -1;
	rc = hl_setup(h, nmodems, rep, extra);
	free(rep);
	if (rc < 0)
		return -1;
	f = open_memstream(&ext, &len);
	if (f == NULL)
		return -1;
	fprintf(f, "modems = (\n");
	for (int i = 0; i < nmodems; i++) {
		if (hl_emu_start(h, i) < 0) {
			fclose(f);
			free(ext);
			return -1;
		}
		fprintf(f, "  { name = \"m%d\"; connection = \"at\"; device = \"%s/modem\"; %s }%s\n", i, h->emu[i],
		    modem_keys ? modem_keys : "", i + 1 < nmodems ? "," : "");
	}
	fprintf(f, ");\n");
	fclose(f);
	f = fopen(h->cfg, "a");
	if (f == NULL) {
		free(ext);
		return -1;
	}
	fputs(ext, f);
	fclose(f);
	free(ext);
	return 0;
}

static char *emu_vask(struct hl *h, int i, const char *fmt, va_list ap)
{
	struct sockaddr_un a;
	char *line = NULL, *out = NULL;
	size_t len = 0, cap = 0;
	int fd;

	if (vasprintf(&line, fmt, ap) < 0)
		return NULL;
	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	snprintf(a.sun_path, sizeof(a.sun_path), "%s/ctl.sock", h->emu[i]);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		fprintf(stderr, "hl_emu: %s: %s\n", a.sun_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		free(line);
		return NULL;
	}
	if (write(fd, line, strlen(line)) < 0 || write(fd, "\n", 1) < 0) {
		close(fd);
		free(line);
		return NULL;
	}
	free(line);
	for (;;) {
		ssize_t n;
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			out = realloc(out, cap);
		}
		n = read(fd, out + len, cap - len - 1);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (out)
		out[len] = '\0';
	return out;
}

char *hl_emu(struct hl *h, int i, const char *fmt, ...)
{
	va_list ap;
	char *r;

	va_start(ap, fmt);
	r = emu_vask(h, i, fmt, ap);
	va_end(ap);
	return r;
}

long long hl_emu_int(struct hl *h, int i, const char *fmt, ...)
{
	va_list ap;
	char *r;
	long long n = -1;

	va_start(ap, fmt);
	r = emu_vask(h, i, fmt, ap);
	va_end(ap);
	if (r && strncmp(r, "ok ", 3) == 0)
		n = atoll(r + 3);
	else if (r)
		fprintf(stderr, "hl_emu: %s", r);
	free(r);
	return n;
}

bool hl_emu_wait(struct hl *h, int i, long long want, int timeout_ms, const char *fmt, ...)
{
	va_list ap;
	char *cmd;

	va_start(ap, fmt);
	cmd = vformat(fmt, ap);
	va_end(ap);
	for (int waited = 0; waited <= timeout_ms; waited += 50) {
		if (hl_emu_int(h, i, "%s", cmd) >= want) {
			free(cmd);
			return true;
		}
		sleep_ms(50);
	}
	free(cmd);
	return false;
}

int hl_sms(struct hl *h, int modem, const char *phone, const char *text, const struct gsm_inject_opts *opts)
{
	struct gsm_inject_opts def;
	char err[256];
	int parts = 0;

	if (opts == NULL) {
		gsm_inject_defaults(&def);
		opts = &def;
	}
	if (gsm_dummy_inject(h->phone[modem], phone, text, opts, &parts, err, sizeof(err)) != GSM_OK) {
		fprintf(stderr, "hl_sms: %s\n", err);
		return -1;
	}
	return parts;
}

int hl_inbox_count(struct hl *h, int modem)
{
	char path[400];
	DIR *d;
	struct dirent *e;
	int n = 0;

	snprintf(path, sizeof(path), "%s/sms/1", h->phone[modem]);
	d = opendir(path);
	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] >= '0' && e->d_name[0] <= '9')
			n++;
	closedir(d);
	return n;
}

bool hl_wait(int timeout_ms, bool (*fn)(struct hl *h, void *arg), struct hl *h, void *arg)
{
	for (int waited = 0; waited <= timeout_ms; waited += 20) {
		if (fn(h, arg))
			return true;
		sleep_ms(20);
	}
	return fn(h, arg);
}

static sqlite3 *open_db(struct hl *h)
{
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(h->db, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 5000);
	return db;
}

static char *query_text(struct hl *h, const char *sql, bool *ok)
{
	sqlite3 *db = open_db(h);
	sqlite3_stmt *s = NULL;
	char *out = NULL;

	*ok = false;
	if (db == NULL)
		return NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
		fprintf(stderr, "hl: %s: %s\n", sql, sqlite3_errmsg(db));
		sqlite3_close(db);
		return NULL;
	}
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(s, 0);
		if (t)
			out = strdup((const char *)t);
		*ok = true;
	} else if (rc == SQLITE_DONE) {
		*ok = true;
	}
	sqlite3_finalize(s);
	sqlite3_close(db);
	return out;
}

static char *vformat(const char *fmt, va_list ap)
{
	char *s = NULL;

	if (vasprintf(&s, fmt, ap) < 0)
		return NULL;
	return s;
}

long long hl_int(struct hl *h, const char *fmt, ...)
{
	va_list ap;
	char *sql, *v;
	bool ok;
	long long n;

	va_start(ap, fmt);
	sql = vformat(fmt, ap);
	va_end(ap);
	v = query_text(h, sql, &ok);
	n = ok && v ? atoll(v) : (ok ? 0 : -1);
	free(v);
	free(sql);
	return n;
}

char *hl_text(struct hl *h, const char *fmt, ...)
{
	va_list ap;
	char *sql, *v;
	bool ok;

	va_start(ap, fmt);
	sql = vformat(fmt, ap);
	va_end(ap);
	v = query_text(h, sql, &ok);
	free(sql);
	return v;
}

bool hl_wait_count(struct hl *h, int want, int timeout_ms, const char *fmt, ...)
{
	va_list ap;
	char *sql;
	bool ok = false, qok;

	va_start(ap, fmt);
	sql = vformat(fmt, ap);
	va_end(ap);
	for (int waited = 0; waited <= timeout_ms; waited += 20) {
		char *v = query_text(h, sql, &qok);
		long long n = v ? atoll(v) : 0;
		free(v);
		if (qok && n >= want) {
			ok = true;
			break;
		}
		sleep_ms(20);
	}
	free(sql);
	return ok;
}

const char *hl_phone(const char *phone, char *buf, size_t len)
{
	phone_normalise(phone, PHONE_COUNTRY_DEFAULT, buf, len);
	return buf;
}

char *hl_last_reply(struct hl *h, const char *phone)
{
	char key[PHONE_LEN];

	phone_normalise(phone, PHONE_COUNTRY_DEFAULT, key, sizeof(key));
	return hl_text(h, "SELECT text FROM messages WHERE direction = 'out' AND phone_key = '%s' ORDER BY id DESC LIMIT 1",
	    key);
}

char *hl_wait_reply(struct hl *h, const char *phone, int n, int timeout_ms)
{
	char key[PHONE_LEN];

	phone_normalise(phone, PHONE_COUNTRY_DEFAULT, key, sizeof(key));
	if (!hl_wait_count(h, n, timeout_ms, "SELECT count(*) FROM messages WHERE direction = 'out' AND phone_key = '%s'", key))
		return NULL;
	return hl_last_reply(h, phone);
}

char *hl_http(struct hl *h, const char *method, const char *path, const char *body, const char *header, int *status)
{
	char url[512], bodyfile[400], code[16];
	const char *argv[24];
	int argc = 0, pipefd[2], st;
	pid_t pid;
	ssize_t n;
	size_t got = 0;
	FILE *f;
	char *out = NULL;
	long len;

	*status = 0;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", h->port, path);
	snprintf(bodyfile, sizeof(bodyfile), "%s/http-body-%d", h->dir, (int)getpid());
	argv[argc++] = "curl";
	argv[argc++] = "-s";
	argv[argc++] = "--max-time";
	argv[argc++] = "20";
	argv[argc++] = "-o";
	argv[argc++] = bodyfile;
	argv[argc++] = "-w";
	argv[argc++] = "%{http_code}";
	argv[argc++] = "-X";
	argv[argc++] = method;
	if (header) {
		argv[argc++] = "-H";
		argv[argc++] = header;
	}
	if (body) {
		argv[argc++] = "-H";
		argv[argc++] = "Content-Type: application/x-www-form-urlencoded";
		argv[argc++] = "--data-binary";
		argv[argc++] = body;
	}
	argv[argc++] = url;
	argv[argc] = NULL;
	if (pipe(pipefd) < 0)
		return NULL;
	pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], STDOUT_FILENO);
		close(pipefd[0]);
		close(pipefd[1]);
		execvp("curl", (char *const *)argv);
		_exit(127);
	}
	close(pipefd[1]);
	while (got + 1 < sizeof(code) && (n = read(pipefd[0], code + got, sizeof(code) - 1 - got)) > 0)
		got += (size_t)n;
	code[got] = '\0';
	close(pipefd[0]);
	waitpid(pid, &st, 0);
	*status = atoi(code);
	f = fopen(bodyfile, "rb");
	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	out = malloc((size_t)len + 1);
	if (out && fread(out, 1, (size_t)len, f) != (size_t)len) {
		free(out);
		out = NULL;
	} else if (out) {
		out[len] = '\0';
	}
	fclose(f);
	unlink(bodyfile);
	return out;
}

int hl_log_count(struct hl *h, const char *text)
{
	FILE *f = fopen(h->log, "r");
	char *line = NULL;
	size_t cap = 0;
	int n = 0;

	if (f == NULL)
		return 0;
	while (getline(&line, &cap, f) >= 0)
		n += strstr(line, text) != NULL;
	free(line);
	fclose(f);
	return n;
}

bool hl_log_has(struct hl *h, const char *text)
{
	return hl_log_count(h, text) > 0;
}

void hl_dump_log(struct hl *h)
{
	FILE *f = fopen(h->log, "r");
	char buf[4096];
	size_t n;

	if (f == NULL)
		return;
	fprintf(stderr, "---- hotlined log (%s) ----\n", h->log);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, stderr);
	fprintf(stderr, "---- end of log ----\n");
	fclose(f);
}
