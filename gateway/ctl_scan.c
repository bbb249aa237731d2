/*
 * hotlinectl modem scan [DEVICE...]: the serial devices that answer AT, with
 * their stable /dev/serial/by-id/ name, maker and model, to fill a modem's
 * `device` in the config. A USB modem re-enumerates (ttyUSB2 becomes ttyUSB3
 * after a replug); its by-id name stays. Each device gets a short timeout,
 * so a port with nothing behind it costs about a second.
 *
 * It talks to the ports itself (plain termios, no libgammu): opening a port
 * hotlined is using would disturb it, so stop hotlined first.
 */
#include "ctl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "util.h"

#define BY_ID "/dev/serial/by-id"
#define SCAN_MAX 64
#define ANSWER_MS 1000 /* per command: a modem answers AT in a few milliseconds */

struct cand {
	char path[PATH_MAX]; /* as shown: the by-id name when there is one */
	char real[PATH_MAX]; /* the device it resolves to */
};

static void add(struct cand *c, size_t *n, const char *path)
{
	char real[PATH_MAX];

	if (*n >= SCAN_MAX || realpath(path, real) == NULL)
		return;
	for (size_t i = 0; i < *n; i++)
		if (strcmp(c[i].real, real) == 0)
			return;
	snprintf(c[*n].path, sizeof(c[*n].path), "%s", path);
	snprintf(c[*n].real, sizeof(c[*n].real), "%s", real);
	(*n)++;
}

/* The by-id links first (their names are what the config should say), then ttyUSB* and ttyACM* left. */
static size_t candidates(struct cand *c)
{
	size_t n = 0;
	struct dirent *e;
	DIR *d = opendir(BY_ID);

	if (d != NULL) {
		while ((e = readdir(d)) != NULL) {
			char p[PATH_MAX];
			if (e->d_name[0] == '.')
				continue;
			snprintf(p, sizeof(p), "%s/%s", BY_ID, e->d_name);
			add(c, &n, p);
		}
		closedir(d);
	}
	d = opendir("/dev");
	if (d != NULL) {
		while ((e = readdir(d)) != NULL) {
			char p[PATH_MAX];
			if (strncmp(e->d_name, "ttyUSB", 6) != 0 && strncmp(e->d_name, "ttyACM", 6) != 0)
				continue;
			snprintf(p, sizeof(p), "/dev/%s", e->d_name);
			add(c, &n, p);
		}
		closedir(d);
	}
	return n;
}

/* The by-id name of a device given by another path, when there is one. */
static void by_id_name(struct cand *c)
{
	struct dirent *e;
	DIR *d = opendir(BY_ID);

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char p[PATH_MAX], real[PATH_MAX];
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", BY_ID, e->d_name);
		if (realpath(p, real) != NULL && strcmp(real, c->real) == 0) {
			snprintf(c->path, sizeof(c->path), "%s", p);
			break;
		}
	}
	closedir(d);
}

/*
 * Send cmd and collect the answer's lines (not the echo, not OK) into out,
 * joined by spaces. 0 on OK, -1 on ERROR, no answer or a write failure.
 */
static int ask(int fd, const char *cmd, char *out, size_t outlen)
{
	char buf[512];
	size_t len = 0;
	int64_t deadline = mono_ms() + ANSWER_MS;

	out[0] = '\0';
	if (write(fd, cmd, strlen(cmd)) != (ssize_t)strlen(cmd) || write(fd, "\r", 1) != 1)
		return -1;
	while (mono_ms() < deadline && len < sizeof(buf) - 1) {
		struct pollfd p = { fd, POLLIN, 0 };
		int left = (int)(deadline - mono_ms());
		if (poll(&p, 1, left > 0 ? left : 0) <= 0)
			break;
		ssize_t k = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (k <= 0)
			break;
		len += (size_t)k;
		buf[len] = '\0';
		if (strstr(buf, "\r\nOK\r\n") != NULL || strstr(buf, "\nOK\r") != NULL ||
		    strncmp(buf, "OK\r", 3) == 0 || strstr(buf, "ERROR") != NULL)
			break;
	}
	buf[len] = '\0';
	if (strstr(buf, "OK") == NULL || strstr(buf, "ERROR") != NULL)
		return -1;
	for (char *save = NULL, *line = strtok_r(buf, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
		size_t o = strlen(out);
		if (strcmp(line, "OK") == 0 || strncmp(line, cmd, strlen(cmd)) == 0 || *line == '\0')
			continue;
		snprintf(out + o, outlen - o, "%s%s", o ? " " : "", line);
	}
	return 0;
}

/* Does the device answer AT? Then its maker and model. */
static bool probe(const char *dev, char *maker, size_t mlen, char *model, size_t molen)
{
	struct termios t;
	char junk[256];
	int fd = open(dev, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	bool ok = false;

	if (fd < 0)
		return false;
	if (tcgetattr(fd, &t) == 0) {
		cfmakeraw(&t);
		cfsetispeed(&t, B115200);
		cfsetospeed(&t, B115200);
		t.c_cflag |= CLOCAL | CREAD;
		(void)tcsetattr(fd, TCSANOW, &t);
	}
	(void)tcflush(fd, TCIOFLUSH);
	/* a modem left in a prompt or a half-typed line: ESC, then a bare AT */
	if (write(fd, "\x1b\r", 2) == 2) {
		struct pollfd p = { fd, POLLIN, 0 };
		while (poll(&p, 1, 100) > 0 && read(fd, junk, sizeof(junk)) > 0)
			;
	}
	if (ask(fd, "AT", junk, sizeof(junk)) == 0) {
		ok = true;
		if (ask(fd, "AT+CGMI", maker, mlen) < 0 || *maker == '\0')
			snprintf(maker, mlen, "?");
		if (ask(fd, "AT+CGMM", model, molen) < 0 || *model == '\0')
			snprintf(model, molen, "?");
	}
	close(fd);
	return ok;
}

int ctl_modem_scan(struct ctl *c, int argc, char **argv)
{
	struct cand *cands = xcalloc(SCAN_MAX, sizeof(*cands));
	size_t n = 0;
	int found = 0;

	(void)c;
	if (argc > 0) {
		for (int i = 0; i < argc; i++) {
			size_t before = n;
			add(cands, &n, argv[i]);
			if (n == before)
				fprintf(stderr, "hotlinectl modem scan: %s: %s\n", argv[i],
				    strerror(errno ? errno : ENOENT));
			else
				by_id_name(&cands[n - 1]);
		}
	} else {
		n = candidates(cands);
	}
	if (n == 0) {
		fprintf(stderr, "hotlinectl modem scan: 没找到串口设备（%s、/dev/ttyUSB*、/dev/ttyACM*）\n", BY_ID);
		free(cands);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		char maker[128], model[128];
		if (!probe(cands[i].real, maker, sizeof(maker), model, sizeof(model)))
			continue;
		found++;
		printf("%s\t%s\t%s", cands[i].path, maker, model);
		if (strcmp(cands[i].path, cands[i].real) != 0)
			printf("\t（现在是 %s）", cands[i].real);
		printf("\n");
	}
	fprintf(stderr, "%zu 个串口设备，%d 个回应 AT；把第一列填到配置里 modem 的 device\n", n, found);
	free(cands);
	return found > 0 ? 0 : 1;
}
