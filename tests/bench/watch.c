/*
 * watch: start a daemon, time it, sample its memory, stop it. The bench
 * scripts' stopwatch (drain.sh, mem.sh, startup.sh, ussd.sh).
 *
 *   watch [options] -- COMMAND ARGS...
 *
 *   --log FILE        the daemon's stdout and stderr go there (appended)
 *   --ready TEXT      ready when TEXT appears in the log (e.g. " ready: ")
 *   --http PORT       also time until GET /healthz on 127.0.0.1:PORT answers (any status)
 *   --journal FILE    HOTLINE_SENT_JOURNAL is set to FILE (one line per accepted send) ...
 *   --db FILE --want N  ... and the run is done when the database FILE holds N sent
 *                     replies (direction out, kind reply, status sent); the
 *                     database is read only once the journal has N lines
 *   --hold SECONDS    after ready (or done), keep the daemon running this long
 *   --until-file F    after ready, keep it running until file F exists (ussd.sh, mem.sh)
 *   --pidfile F       write the daemon's pid there once it is ready
 *   --timeout SECONDS give up (default 600)
 *
 * Polls every millisecond until ready, then every 2 ms. Prints one line of
 * key=value on stdout:
 *   ready_ms  fork to the ready line; started_ms the daemon's own "started in N ms";
 *   http_ms   fork to the first HTTP answer; done_s fork to the N-th sent reply;
 *   hwm_kb    VmHWM (peak RSS) just before the stop; rss_kb VmRSS then;
 *   cpu_s     the daemon's user+system CPU; status its exit status after SIGTERM.
 * Exit 0 when everything asked for happened, 1 otherwise (timeout, early exit).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void nap_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* A line "Key:   value kB" of /proc/pid/status, in kB; -1 when absent. */
static long proc_kb(pid_t pid, const char *key)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			v = strtol(line + klen + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/* user+system CPU seconds of pid (its threads included) from /proc/pid/stat. */
static double proc_cpu(pid_t pid)
{
	char path[64], buf[2048];
	unsigned long ut = 0, st = 0;
	FILE *f;
	char *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	if (fgets(buf, sizeof(buf), f) == NULL) {
		fclose(f);
		return -1;
	}
	fclose(f);
	p = strrchr(buf, ')');
	if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* Does the file contain text? (The log is small until the daemon is ready: read it whole.) */
static bool file_has(const char *path, const char *text, char *tail, size_t taillen)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	bool found = false;

	if (f == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *at = strstr(line, text);
		if (at) {
			snprintf(tail, taillen, "%s", at);
			found = true;
		}
	}
	fclose(f);
	return found;
}

static long count_lines(const char *path, long *off, long lines)
{
	char buf[65536];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return lines;
	if (lseek(fd, *off, SEEK_SET) < 0) {
		close(fd);
		return lines;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++)
			lines += buf[i] == '\n';
		*off += n;
	}
	close(fd);
	return lines;
}

static bool http_answers(int port)
{
	struct sockaddr_in a;
	char req[] = "GET /healthz HTTP/1.0\r\n\r\n", buf[16];
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok = false;

	if (fd < 0)
		return false;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 && write(fd, req, sizeof(req) - 1) > 0 &&
	    read(fd, buf, sizeof(buf)) >= 5 && memcmp(buf, "HTTP/", 5) == 0)
		ok = true;
	close(fd);
	return ok;
}

static long sent_replies(sqlite3 **db, const char *path)
{
	sqlite3_stmt *s;
	long n = -1;

	if (*db == NULL && sqlite3_open_v2(path, db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		sqlite3_close(*db);
		*db = NULL;
		return -1;
	}
	sqlite3_busy_timeout(*db, 1000);
	if (sqlite3_prepare_v2(*db,
	    "SELECT count(*) FROM messages WHERE direction = 'out' AND kind = 'reply' AND status = 'sent'", -1, &s,
	    NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

int main(int argc, char **argv)
{
	const char *log = "/dev/null", *ready = NULL, *journal = NULL, *dbpath = NULL, *until = NULL, *pidfile = NULL;
	int http = 0, i;
	long want = 0;
	double hold = 0, timeout = 600;
	double t0, t_ready = -1, t_http = -1, t_done = -1, t_end;
	long started_ms = -1, j_off = 0, j_lines = 0, hwm = -1, rss = -1;
	char tail[256] = "";
	double cpu = -1;
	int status = -1, ok = 1;
	sqlite3 *db = NULL;
	pid_t pid;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (v == NULL)
			goto usage;
		if (strcmp(o, "--log") == 0)
			log = v;
		else if (strcmp(o, "--ready") == 0)
			ready = v;
		else if (strcmp(o, "--http") == 0)
			http = atoi(v);
		else if (strcmp(o, "--journal") == 0)
			journal = v;
		else if (strcmp(o, "--db") == 0)
			dbpath = v;
		else if (strcmp(o, "--want") == 0)
			want = atol(v);
		else if (strcmp(o, "--hold") == 0)
			hold = atof(v);
		else if (strcmp(o, "--until-file") == 0)
			until = v;
		else if (strcmp(o, "--pidfile") == 0)
			pidfile = v;
		else if (strcmp(o, "--timeout") == 0)
			timeout = atof(v);
		else
			goto usage;
		i++;
	}
	if (i + 1 >= argc)
		goto usage;
	if (journal)
		setenv("HOTLINE_SENT_JOURNAL", journal, 1);

	t0 = now_s();
	pid = fork();
	if (pid < 0) {
		perror("watch: fork");
		return 1;
	}
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
			close(fd);
		}
		execvp(argv[i + 1], argv + i + 1);
		perror(argv[i + 1]);
		_exit(127);
	}
	for (;;) {
		double t = now_s();
		bool all = true;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			fprintf(stderr, "watch: the daemon exited early (status %d)\n", status);
			pid = 0;
			ok = 0;
			break;
		}
		if (t - t0 > timeout) {
			fprintf(stderr, "watch: timeout after %.0f s\n", timeout);
			ok = 0;
			break;
		}
		if (ready && t_ready < 0) {
			if (file_has(log, ready, tail, sizeof(tail))) {
				char *p = strstr(tail, "started in ");
				t_ready = t;
				if (p)
					started_ms = strtol(p + 11, NULL, 10);
				if (pidfile) {
					FILE *f = fopen(pidfile, "w");
					if (f) {
						fprintf(f, "%d\n", (int)pid);
						fclose(f);
					}
				}
			}
			all = false;
		}
		if (http && t_http < 0) {
			if (http_answers(http))
				t_http = t;
			else
				all = false;
		}
		if (want > 0 && t_done < 0) {
			j_lines = journal ? count_lines(journal, &j_off, j_lines) : want;
			if (j_lines >= want && sent_replies(&db, dbpath) >= want)
				t_done = t;
			else
				all = false;
		}
		if (all)
			break;
		nap_ms(t_ready < 0 && ready ? 1 : 2);
	}
	if (ok && hold > 0) {
		double until_t = now_s() + hold;
		while (now_s() < until_t && waitpid(pid, &status, WNOHANG) == 0)
			nap_ms(20);
	}
	if (ok && until) {
		struct stat sb;
		double dead = t0 + timeout;
		while (stat(until, &sb) != 0 && now_s() < dead && waitpid(pid, &status, WNOHANG) == 0)
			nap_ms(20);
		if (stat(until, &sb) != 0) {
			fprintf(stderr, "watch: %s never came\n", until);
			ok = 0;
		}
	}
	t_end = now_s();
	if (pid > 0) {
		hwm = proc_kb(pid, "VmHWM");
		rss = proc_kb(pid, "VmRSS");
		cpu = proc_cpu(pid);
		kill(pid, SIGTERM);
		for (int k = 0; k < 1000 && waitpid(pid, &status, WNOHANG) == 0; k++)
			nap_ms(10);
		if (waitpid(pid, &status, WNOHANG) == 0) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			ok = 0;
		}
	}
	if (db)
		sqlite3_close(db);
	printf("ready_ms=%.1f started_ms=%ld http_ms=%.1f done_s=%.3f hwm_kb=%ld rss_kb=%ld cpu_s=%.2f wall_s=%.3f "
	       "journal_lines=%ld status=%d\n",
	    t_ready < 0 ? -1 : 1000 * (t_ready - t0), started_ms, t_http < 0 ? -1 : 1000 * (t_http - t0),
	    t_done < 0 ? -1 : t_done - t0, hwm, rss, cpu, t_end - t0, j_lines,
	    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return ok ? 0 : 1;
usage:
	fprintf(stderr, "usage: watch [--log F] [--ready TEXT] [--http PORT] [--journal F --db F --want N] "
			"[--hold S] [--until-file F] [--pidfile F] [--timeout S] -- COMMAND...\n");
	return 2;
}
