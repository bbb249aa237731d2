/*
 * hotlined: the hotline daemon. Runs in the foreground (systemd style) and
 * logs to stderr.
 *
 * Threads: this main thread (signals, reload, periodic jobs), one thread per
 * modem (modem.c), libmicrohttpd's thread and the USSD writer thread
 * (http.c). Each has its own database connection; they share the read-only
 * world (config + menus).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cases.h"
#include "config.h"
#include "dispatch.h"
#include "outbox.h"
#include "http.h"
#include "http_console.h"
#include "log.h"
#include "maintenance.h"
#include "kannel.h"
#include "modem.h"
#include "store.h"
#include "store_outbox.h"
#include "world.h"

#ifndef HOTLINE_DEFAULT_CONFIG
#define HOTLINE_DEFAULT_CONFIG "config/hotline.cfg"
#endif

static volatile sig_atomic_t got_stop, got_reload;
static int log_fd = -1;

/*
 * log.file: a copy of every log line in a file of our own (mode 0600, 0640
 * with database.group), reopened on SIGHUP so that logrotate can move it.
 * Other threads write to log_fd at any moment, so the descriptor number is
 * never closed while they run: a reload opens the new file and dup2()s it
 * onto that same number (one atomic swap), and with no log.file any more
 * the number points at /dev/null. A thread that loaded the number writes
 * into the old file or the new one, never into whatever else the kernel
 * would have given that number after a close.
 */
static void open_log_file(const struct config *cfg)
{
	const char *path = *cfg->log_file ? cfg->log_file : "/dev/null";
	int fd;

	if (*cfg->log_file == '\0' && log_fd < 0)
		return;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, *cfg->db_group ? 0640 : 0600);
	if (fd < 0) {
		log_warn("hotlined", "cannot open log.file %s; %s", path,
		    log_fd < 0 ? "logging to stderr only" : "the log goes on where it went");
		return;
	}
	if (log_fd < 0) {
		log_fd = fd;
	} else {
		if (dup3(fd, log_fd, O_CLOEXEC) < 0) {
			log_warn("hotlined", "cannot switch the log to %s; the log goes on where it went", path);
			close(fd);
			return;
		}
		close(fd);
	}
	log_set_fd(*cfg->log_file ? log_fd : -1);
}

/*
 * One daemon per database: an exclusive flock on <database.path>.lock, held
 * until exit (the kernel drops it even after SIGKILL). The file holds the
 * holder's PID, for the message a second start prints. Returns the open
 * descriptor, or -1 after logging why not.
 */
static int lock_database(const char *db_path)
{
	char lock_path[4200], other[32] = "";
	ssize_t n;
	int fd;

	snprintf(lock_path, sizeof(lock_path), "%s.lock", db_path);
	fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0640); /* the umask makes it 0600 without a group */
	if (fd < 0) {
		log_errorx("hotlined", "cannot open the lock file %s beside the database %s: %s", lock_path, db_path,
		    strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		n = pread(fd, other, sizeof(other) - 1, 0);
		other[n > 0 ? n : 0] = '\0';
		other[strcspn(other, "\n")] = '\0';
		if (e == EWOULDBLOCK)
			log_errorx("hotlined", "another hotlined (pid %s) is running on the database %s (it holds %s); "
			    "not started", *other ? other : "unknown", db_path, lock_path);
		else
			log_errorx("hotlined", "cannot lock %s: %s", lock_path, strerror(e));
		close(fd);
		return -1;
	}
	n = snprintf(other, sizeof(other), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, other, (size_t)n, 0) != n)
		log_warn("hotlined", "cannot write the PID into %s", lock_path);
	return fd;
}

static void on_signal(int sig)
{
	if (sig == SIGHUP) {
		got_reload = 1;
		return;
	}
	if (got_stop) {
		/* a second SIGTERM or SIGINT: leave at once */
		static const char msg[] = "hotlined: second signal, exiting now\n";
		if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
			/* nothing to do */
		}
		_exit(1);
	}
	got_stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: hotlined [-c FILE] [-n] [-v] [--allow-root]\n"
		   "  -c FILE       configuration (default: $HOTLINE_CONFIG or %s)\n"
		   "  -n            check the configuration and menus, then exit\n"
		   "  -v            debug logging\n"
		   "  --allow-root  run as root (better: a user of its own, see scripts/hotlined.service)\n",
	    HOTLINE_DEFAULT_CONFIG);
}

static enum log_level level_of(const char *s)
{
	if (strcmp(s, "debug") == 0)
		return LOG_LVL_DEBUG;
	if (strcmp(s, "warn") == 0)
		return LOG_LVL_WARN;
	if (strcmp(s, "error") == 0)
		return LOG_LVL_ERROR;
	return LOG_LVL_INFO;
}

static void reload(const char *path, bool verbose)
{
	struct diag d;
	struct world *neu, *old;

	diag_init(&d);
	neu = world_load(path, &d);
	old = world_get();
	if (neu == NULL) {
		diag_log(&d, "config");
		log_errorx("hotlined", "reload failed: keeping the configuration and menus in use");
	} else {
		config_restart_changes(old->cfg, neu->cfg, &d);
		diag_log(&d, "config");
		log_init(verbose ? LOG_LVL_DEBUG : level_of(neu->cfg->log_level), neu->cfg->log_mask_phones);
		log_set_zone(neu->cfg->timezone);
		open_log_file(neu->cfg);
		world_install(neu);
		log_info("hotlined", "reloaded %s and the menus (%zu nodes)", path, menu_count(neu->menu));
	}
	world_release(old);
	diag_free(&d);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "allow-root", no_argument, NULL, 'R' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	const char *path = getenv("HOTLINE_CONFIG") ? getenv("HOTLINE_CONFIG") : HOTLINE_DEFAULT_CONFIG;
	bool check_only = false, verbose = false, allow_root = false;
	int64_t t0 = mono_ms();
	struct world *w;
	struct diag d;
	struct store *st = NULL;
	struct store_opts so = { 0 };
	struct modem **modems = NULL;
	struct kannel **kannels = NULL;
	struct http *http = NULL;
	struct http_console *console = NULL;
	struct sigaction sa;
	sigset_t all, old;
	char err[512];
	int ch, recovered = 0, rc = 1, lock_fd = -1;

	while ((ch = getopt_long(argc, argv, "c:nvh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'n':
			check_only = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'R':
			allow_root = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	log_init(verbose ? LOG_LVL_DEBUG : LOG_LVL_INFO, true);
	if (getenv("HOTLINE_TEST_CLOCK")) {
		/* tests play conversations at a person's pace on a clock they move (util.h) */
		util_set_clock_file(getenv("HOTLINE_TEST_CLOCK"));
		log_warnx("main", "test clock: the time is taken from %s", getenv("HOTLINE_TEST_CLOCK"));
	}

	diag_init(&d);
	w = world_load(path, &d);
	if (w == NULL) {
		diag_print(&d, stderr);
		fprintf(stderr, "hotlined: %zu error%s in the configuration or menus; not started\n", d.errors,
		    d.errors == 1 ? "" : "s");
		diag_free(&d);
		return 1;
	}
	if (check_only) {
		diag_print(&d, stderr);
		printf("configuration OK: %s, %zu modem%s, %zu menu nodes\n", path, w->cfg->nmodems,
		    w->cfg->nmodems == 1 ? "" : "s", menu_count(w->menu));
		diag_free(&d);
		world_release(w);
		return 0;
	}
	log_init(verbose ? LOG_LVL_DEBUG : level_of(w->cfg->log_level), w->cfg->log_mask_phones);
	log_set_zone(w->cfg->timezone);
	diag_log(&d, "config");
	diag_free(&d);
	if (geteuid() == 0 && !allow_root && !w->cfg->allow_root) {
		log_errorx("hotlined", "refusing to run as root: run it as its own user (scripts/hotlined.service), "
				       "or pass --allow-root");
		world_release(w);
		return 1;
	}
	/* the database, its WAL and the logs are for this user (and the configured group) only */
	umask(*w->cfg->db_group ? 027 : 077);
	/* before anything touches the database, the outbox or a modem (issue 11.11) */
	lock_fd = lock_database(w->cfg->db_path);
	if (lock_fd < 0) {
		world_release(w);
		return 1;
	}
	open_log_file(w->cfg);
	world_install(w);

	so.create = true;
	so.migrate = true;
	so.synchronous = w->cfg->db_synchronous;
	so.group = w->cfg->db_group;
	so.country = w->cfg->phone_country;
	if (store_open(w->cfg->db_path, &so, &st, err, sizeof(err)) < 0) {
		log_errorx("hotlined", "%s", err);
		goto out;
	}
	if (store_quick_check(st, err, sizeof(err)) < 0) {
		log_errorx("hotlined", "the database %s failed its integrity check (PRAGMA quick_check: %s); not "
		    "started: restore it from a backup", w->cfg->db_path, err);
		goto out;
	}
	if (store_outbox_recover(st, &recovered) < 0)
		goto out;
	if (recovered > 0)
		log_warnx("hotlined", "%d message(s) were being sent when the daemon stopped; they go out again", recovered);

	/* the worker threads take no signals: they all come here */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	/* one thread per channel: a libgammu modem, or the sender of a Kannel link */
	modems = xcalloc(w->cfg->nmodems + 1, sizeof(*modems));
	kannels = xcalloc(w->cfg->nmodems + 1, sizeof(*kannels));
	for (size_t i = 0, nm = 0, nk = 0; i < w->cfg->nmodems; i++) {
		const struct modem_cfg *mc = &w->cfg->modems[i];
		if (mc->kind == CHANNEL_KANNEL ? kannel_start(mc, w->cfg, &kannels[nk++]) < 0
					       : modem_start(mc, w->cfg->db_path, &modems[nm++]) < 0)
			goto out_threads;
	}
	if (w->cfg->http_enabled && http_start(w->cfg->db_path, &http, err, sizeof(err)) < 0) {
		log_errorx("hotlined", "%s", err);
		goto out_threads;
	}
	if (w->cfg->console_enabled && http_console_start(w->cfg->db_path, &console, err, sizeof(err)) < 0) {
		log_errorx("hotlined", "%s", err);
		goto out_threads;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	log_info("hotlined", "ready: %zu modem%s, %s, %zu menu nodes, database %s (started in %lld ms)",
	    w->cfg->nmodems, w->cfg->nmodems == 1 ? "" : "s", http ? "HTTP on" : "HTTP off", menu_count(w->menu),
	    w->cfg->db_path, (long long)(mono_ms() - t0));
	if (http)
		log_info("hotlined", "HTTP listening on %s:%d", w->cfg->http_address, w->cfg->http_port);

	while (!got_stop) {
		struct timespec tick = { 0, 200 * 1000 * 1000 };
		if (got_reload) {
			got_reload = 0;
			reload(path, verbose);
		}
		struct world *cur = world_get();
		struct ctx c = { st, cur->cfg, cur->menu, now_unix(), NULL, 0 };
		maintenance_tick(&c);
		world_release(cur);
		nanosleep(&tick, NULL);
	}
	log_info("hotlined", "stopping: finishing the sends under way");
	rc = 0;
out_threads:
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	http_console_stop(console);
	http_stop(http);
	for (size_t i = 0; modems && modems[i]; i++)
		modem_request_stop(modems[i]);
	for (size_t i = 0; kannels && kannels[i]; i++)
		kannel_request_stop(kannels[i]);
	outbox_kick();
	for (size_t i = 0; modems && modems[i]; i++)
		modem_join(modems[i]);
	for (size_t i = 0; kannels && kannels[i]; i++)
		kannel_join(kannels[i]);
	free(modems);
	free(kannels);
out:
	store_close(st);
	world_shutdown();
	log_info("hotlined", "exiting");
	log_set_fd(-1);
	if (log_fd >= 0)
		close(log_fd);
	if (lock_fd >= 0)
		close(lock_fd); /* the file stays: removing it would race with a daemon starting now */
	return rc;
}
