#include "kb.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "utf8.h"

#define BEARERBOX "/usr/sbin/bearerbox"
#define SMSBOX "/usr/sbin/smsbox"
#define FAKESMSC "/usr/lib/kannel/test/fakesmsc"

static void nap_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

bool kb_available(void)
{
	const char *need[] = { BEARERBOX, SMSBOX, FAKESMSC };
	bool ok = true;

	for (size_t i = 0; i < 3; i++)
		if (access(need[i], X_OK) != 0) {
			fprintf(stderr, "kb: %s is missing (Debian packages kannel and kannel-extras: scripts/bootstrap)\n",
			    need[i]);
			ok = false;
		}
	return ok;
}

int kb_free_port(void)
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

int kb_setup(struct kb *k, const char *dir, int nbox, const char *const *numbers)
{
	memset(k, 0, sizeof(*k));
	if (nbox < 1 || nbox > KB_MAX_BOXES)
		return -1;
	snprintf(k->dir, sizeof(k->dir), "%s", dir);
	mkdir(k->dir, 0700);
	snprintf(k->conf, sizeof(k->conf), "%s/bearerbox.conf", dir);
	snprintf(k->log, sizeof(k->log), "%s/bearerbox.log", dir);
	snprintf(k->store, sizeof(k->store), "%s/bearerbox.store", dir);
	snprintf(k->fake_log, sizeof(k->fake_log), "%s/fakesmsc.log", dir);
	k->admin_port = kb_free_port();
	k->smsbox_port = kb_free_port();
	k->smsc_port = kb_free_port();
	k->nbox = nbox;
	k->fake_in = -1;
	for (int i = 0; i < nbox; i++) {
		struct kb_box *b = &k->box[i];
		snprintf(b->id, sizeof(b->id), "c%d", i + 1);
		snprintf(b->number, sizeof(b->number), "%s", numbers[i]);
		snprintf(b->conf, sizeof(b->conf), "%s/smsbox-c%d.conf", dir, i + 1);
		snprintf(b->log, sizeof(b->log), "%s/smsbox-c%d.log", dir, i + 1);
		b->sendsms_port = kb_free_port();
	}
	/* ports are taken when the boxes bind: make sure no two are the same */
	for (int tries = 0; tries < 8; tries++) {
		int p[3 + KB_MAX_BOXES], n = 0;
		bool dup = false;
		p[n++] = k->admin_port;
		p[n++] = k->smsbox_port;
		p[n++] = k->smsc_port;
		for (int i = 0; i < nbox; i++)
			p[n++] = k->box[i].sendsms_port;
		for (int i = 0; i < n && !dup; i++)
			for (int j = i + 1; j < n; j++)
				if (p[i] == p[j] || p[i] <= 0)
					dup = true;
		if (!dup)
			return 0;
		k->smsc_port = kb_free_port();
		for (int i = 0; i < nbox; i++)
			k->box[i].sendsms_port = kb_free_port();
	}
	return -1;
}

void kb_box_target(struct kb *k, int i, int port, const char *channel, const char *secret)
{
	k->box[i].hotlined_port = port;
	snprintf(k->box[i].channel, sizeof(k->box[i].channel), "%s", channel);
	snprintf(k->box[i].secret, sizeof(k->box[i].secret), "%s", secret);
}

static int write_configs(struct kb *k)
{
	FILE *f = fopen(k->conf, "w");

	if (f == NULL)
		return -1;
	fprintf(f,
	    "group = core\n"
	    "admin-port = %d\n"
	    "admin-password = kb-admin\n"
	    "admin-interface = 127.0.0.1\n"
	    "smsbox-port = %d\n"
	    "box-allow-ip = 127.0.0.1\n"
	    "log-file = \"%s\"\n"
	    "log-level = 0\n"
	    "store-type = file\n"
	    "store-location = \"%s\"\n"
	    "store-dump-freq = 1\n"
	    "dlr-storage = internal\n"
	    "\n"
	    "# bearerbox wants one smsbox group; the boxes have their own files\n"
	    "group = smsbox\n"
	    "bearerbox-host = 127.0.0.1\n"
	    "\n"
	    "group = smsc\n"
	    "smsc = fake\n"
	    "smsc-id = fake\n"
	    "port = %d\n"
	    "connect-allow-ip = 127.0.0.1\n",
	    k->admin_port, k->smsbox_port, k->log, k->store, k->smsc_port);
	for (int i = 0; i < k->nbox; i++)
		fprintf(f, "\ngroup = smsbox-route\nsmsbox-id = %s\nshortcode = \"%s\"\n", k->box[i].id, k->box[i].number);
	fclose(f);
	for (int i = 0; i < k->nbox; i++) {
		struct kb_box *b = &k->box[i];
		f = fopen(b->conf, "w");
		if (f == NULL)
			return -1;
		fprintf(f,
		    "group = core\n"
		    "admin-port = %d\n"
		    "smsbox-port = %d\n"
		    "\n"
		    "group = smsbox\n"
		    "smsbox-id = %s\n"
		    "bearerbox-host = 127.0.0.1\n"
		    "bearerbox-port = %d\n"
		    "sendsms-port = %d\n"
		    "sendsms-interface = 127.0.0.1\n"
		    "log-file = \"%s\"\n"
		    "log-level = 0\n"
		    "http-request-retry = 60\n"
		    "http-queue-delay = 1\n"
		    "\n"
		    "group = sendsms-user\n"
		    "username = hotline\n"
		    "password = kb-pass\n"
		    "max-messages = 10\n"
		    "concatenation = true\n"
		    "\n"
		    "group = sms-service\n"
		    "keyword = default\n"
		    "catch-all = true\n"
		    "max-messages = 0\n"
		    "omit-empty = true\n"
		    "post-url = \"http://127.0.0.1:%d/kannel/%s/%s?id=%%I&from=%%p&to=%%P&coding=%%c&charset=%%C&time=%%T\"\n",
		    k->admin_port, k->smsbox_port, b->id, k->smsbox_port, b->sendsms_port, b->log, b->hotlined_port,
		    b->channel, b->secret);
		fclose(f);
	}
	return 0;
}

static pid_t spawn(const char *const argv[], const char *out, int *stdin_fd)
{
	int pfd[2] = { -1, -1 };
	pid_t pid;

	if (stdin_fd && pipe(pfd) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
			close(fd);
		}
		if (stdin_fd) {
			dup2(pfd[0], STDIN_FILENO);
			close(pfd[0]);
			close(pfd[1]);
		} else {
			int nul = open("/dev/null", O_RDONLY);
			if (nul >= 0)
				dup2(nul, STDIN_FILENO);
		}
		setpgid(0, 0); /* a signal to the test's group is not one for the boxes */
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (stdin_fd) {
		close(pfd[0]);
		*stdin_fd = pfd[1];
		fcntl(pfd[1], F_SETFD, FD_CLOEXEC);
	}
	return pid;
}

bool kb_exited(pid_t *pid)
{
	if (*pid <= 0)
		return true;
	if (waitpid(*pid, NULL, WNOHANG) == *pid) {
		*pid = 0;
		return true;
	}
	return false;
}

void kb_kill(pid_t *pid, int sig, int timeout_ms)
{
	if (*pid <= 0)
		return;
	kill(*pid, sig);
	for (int waited = 0; waited < timeout_ms; waited += 10) {
		if (kb_exited(pid))
			return;
		nap_ms(10);
	}
	kill(*pid, SIGKILL);
	waitpid(*pid, NULL, 0);
	*pid = 0;
}

static bool port_open(int port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok;

	if (fd < 0)
		return false;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

bool kb_wait_http(int port, int timeout_ms)
{
	for (int waited = 0; waited <= timeout_ms; waited += 20) {
		if (port_open(port))
			return true;
		nap_ms(20);
	}
	return false;
}

/* bytes of a file (NULL when it cannot be read); caller frees */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, r;

	*len = 0;
	if (f == NULL)
		return NULL;
	do {
		if (n + 4096 + 1 > cap) {
			cap = (n + 4096 + 1) * 2;
			buf = realloc(buf, cap);
		}
		r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
	} while (r > 0);
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

static int count_in(const char *path, const char *needle)
{
	size_t len;
	char *s = slurp(path, &len);
	int n = 0;

	for (char *p = s; p && (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	free(s);
	return n;
}

int kb_start_bearerbox(struct kb *k)
{
	const char *argv[] = { BEARERBOX, k->conf, NULL };
	char out[400];

	snprintf(out, sizeof(out), "%s/bearerbox.out", k->dir);
	k->bearerbox = spawn(argv, out, NULL);
	if (k->bearerbox <= 0)
		return -1;
	/* up when both the box port and the fake SMSC's port take connections */
	for (int waited = 0; waited <= 15000; waited += 20) {
		if (kb_exited(&k->bearerbox)) {
			fprintf(stderr, "kb: bearerbox exited at start\n");
			return -1;
		}
		if (port_open(k->smsbox_port) && port_open(k->smsc_port))
			return 0;
		nap_ms(20);
	}
	fprintf(stderr, "kb: bearerbox not up after 15 s\n");
	return -1;
}

int kb_start_smsbox(struct kb *k, int i)
{
	struct kb_box *b = &k->box[i];
	const char *argv[] = { SMSBOX, b->conf, NULL };
	char out[400];

	snprintf(out, sizeof(out), "%s/smsbox-%s.out", k->dir, b->id);
	b->pid = spawn(argv, out, NULL);
	if (b->pid <= 0)
		return -1;
	for (int waited = 0; waited <= 15000; waited += 20) {
		if (kb_exited(&b->pid)) {
			fprintf(stderr, "kb: smsbox %s exited at start\n", b->id);
			return -1;
		}
		if (port_open(b->sendsms_port))
			return 0;
		nap_ms(20);
	}
	fprintf(stderr, "kb: smsbox %s not up after 15 s\n", b->id);
	return -1;
}

int kb_start_fakesmsc(struct kb *k)
{
	char port[16];
	const char *argv[] = { FAKESMSC, "-H", "127.0.0.1", "-r", port, "-i", "0", NULL };

	snprintf(port, sizeof(port), "%d", k->smsc_port);
	if (k->fake_in >= 0)
		close(k->fake_in);
	/* a fresh log per run of fakesmsc: its counts start again at 1 */
	if (access(k->fake_log, F_OK) == 0) {
		char old[400];
		snprintf(old, sizeof(old), "%s.%d", k->fake_log, ++k->fake_runs);
		rename(k->fake_log, old);
	}
	k->fake_sent = 0;
	k->fake = spawn(argv, k->fake_log, &k->fake_in);
	if (k->fake <= 0)
		return -1;
	for (int waited = 0; waited <= 10000; waited += 20) {
		if (kb_exited(&k->fake)) {
			fprintf(stderr, "kb: fakesmsc exited at start\n");
			return -1;
		}
		if (count_in(k->fake_log, "Entering interactive mode") > 0 && count_in(k->fake_log, "Connecting to") > 0)
			return 0;
		nap_ms(20);
	}
	fprintf(stderr, "kb: fakesmsc not up after 10 s\n");
	return -1;
}

int kb_start(struct kb *k)
{
	if (write_configs(k) < 0 || kb_start_bearerbox(k) < 0)
		return -1;
	for (int i = 0; i < k->nbox; i++)
		if (kb_start_smsbox(k, i) < 0)
			return -1;
	return kb_start_fakesmsc(k);
}

void kb_stop(struct kb *k)
{
	if (k->fake_in >= 0) {
		close(k->fake_in);
		k->fake_in = -1;
	}
	kb_kill(&k->fake, SIGKILL, 1000);
	for (int i = 0; i < k->nbox; i++)
		kb_kill(&k->box[i].pid, SIGTERM, 5000);
	kb_kill(&k->bearerbox, SIGTERM, 5000);
}

static void url_encode(const unsigned char *in, size_t len, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t w = 0;

	for (size_t i = 0; i < len && w + 4 < outlen; i++) {
		unsigned char c = in[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.') {
			out[w++] = (char)c;
		} else {
			out[w++] = '%';
			out[w++] = hex[c >> 4];
			out[w++] = hex[c & 15];
		}
	}
	out[w] = '\0';
}

int kb_mo(struct kb *k, const char *from, const char *to, const char *utf8)
{
	unsigned char u16[512];
	char enc[1600], line[1800], want[64];
	size_t n = 0, len = strlen(utf8);
	int ll;

	for (size_t i = 0; i < len && n + 4 <= sizeof(u16);) {
		uint32_t cp = utf8_next(utf8, len, &i);
		if (cp >= 0x10000) {
			uint32_t v = cp - 0x10000, hi = 0xD800 + (v >> 10), lo = 0xDC00 + (v & 0x3FF);
			u16[n++] = (unsigned char)(hi >> 8);
			u16[n++] = (unsigned char)hi;
			u16[n++] = (unsigned char)(lo >> 8);
			u16[n++] = (unsigned char)lo;
		} else {
			u16[n++] = (unsigned char)(cp >> 8);
			u16[n++] = (unsigned char)cp;
		}
	}
	url_encode(u16, n, enc, sizeof(enc));
	ll = snprintf(line, sizeof(line), "%s %s ucs2 %s\n", from, to, enc);
	if (ll >= 255) {
		fprintf(stderr, "kb_mo: the line is %d bytes; fakesmsc reads at most 255\n", ll);
		return -1;
	}
	if (k->fake_in < 0 || write(k->fake_in, line, (size_t)ll) != ll) {
		fprintf(stderr, "kb_mo: fakesmsc is not running\n");
		return -1;
	}
	/* one line at a time: fakesmsc reads stdin with stdio behind select(), so a
	 * second line already in its buffer would wait for the next one */
	k->fake_sent++;
	snprintf(want, sizeof(want), "sent message %ld\n", k->fake_sent);
	for (int waited = 0; waited <= 10000; waited += 5) {
		if (count_in(k->fake_log, want) > 0)
			return 0;
		if (kb_exited(&k->fake)) {
			fprintf(stderr, "kb_mo: fakesmsc ended\n");
			return -1;
		}
		nap_ms(5);
	}
	fprintf(stderr, "kb_mo: fakesmsc did not send message %ld\n", k->fake_sent);
	return -1;
}

static int hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* URL-decode in place ('+' is a space); returns the length */
static size_t url_decode(char *s)
{
	size_t w = 0;

	for (size_t i = 0; s[i]; i++) {
		if (s[i] == '%' && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			s[w++] = (char)(hexval(s[i + 1]) << 4 | hexval(s[i + 2]));
			i += 2;
		} else {
			s[w++] = s[i] == '+' ? ' ' : s[i];
		}
	}
	s[w] = '\0';
	return w;
}

static char *utf16be_to_utf8(const unsigned char *p, size_t len)
{
	char *out = malloc(len * 2 + 8), u[4];
	size_t w = 0;

	for (size_t i = 0; i + 1 < len; i += 2) {
		uint32_t cp = (uint32_t)p[i] << 8 | p[i + 1];
		if (cp >= 0xD800 && cp <= 0xDBFF && i + 3 < len) {
			uint32_t lo = (uint32_t)p[i + 2] << 8 | p[i + 3];
			cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
			i += 2;
		}
		size_t n = utf8_put(cp, u);
		memcpy(out + w, u, n);
		w += n;
	}
	out[w] = '\0';
	return out;
}

/* Parse "from to type [udh] data" as fakesmsc prints an MT. */
static bool parse_mt(char *line, struct kb_mt *m)
{
	char *tok[8];
	int n = 0;

	memset(m, 0, sizeof(*m));
	for (char *save = NULL, *t = strtok_r(line, " ", &save); t && n < 8; t = strtok_r(NULL, " ", &save))
		tok[n++] = t;
	if (n < 4)
		return false;
	snprintf(m->from, sizeof(m->from), "%s", tok[0]);
	snprintf(m->to, sizeof(m->to), "%s", tok[1]);
	if (strcmp(tok[2], "text") == 0) {
		size_t len = strlen(tok[3]);
		char *joined = malloc(len + 1);
		memcpy(joined, tok[3], len + 1);
		m->text = joined;
		return true;
	}
	if (strcmp(tok[2], "udh") == 0 && n >= 5) {
		char *udh = tok[3];
		size_t ulen = url_decode(udh);
		const unsigned char *u = (const unsigned char *)udh;
		/* 05 00 03 ref total seq, or 06 08 04 ref ref total seq */
		if (ulen >= 6 && u[1] == 0x00) {
			m->ref = u[3];
			m->total = u[4];
			m->seq = u[5];
		} else if (ulen >= 7 && u[1] == 0x08) {
			m->ref = u[3] << 8 | u[4];
			m->total = u[5];
			m->seq = u[6];
		}
	}
	char *data = tok[n - 1];
	size_t dlen = url_decode(data);
	m->text = utf16be_to_utf8((const unsigned char *)data, dlen);
	return true;
}

int kb_received(struct kb *k)
{
	return count_in(k->log, "smsc_fake: new message received");
}

/* Append the MTs of one fakesmsc log to *out. */
static void read_mts(const char *path, struct kb_mt **out, size_t *n, size_t *cap)
{
	size_t len;
	char *s = slurp(path, &len);

	for (char *p = s; p && (p = strstr(p, "Got message ")) != NULL;) {
		char *lt = strchr(p, '<'), *nl = strchr(p, '\n');
		if (lt == NULL || nl == NULL || lt > nl)
			break;
		char *gt = nl;
		while (gt > lt && *gt != '>')
			gt--;
		*gt = '\0';
		if (*n == *cap) {
			*cap = *cap ? *cap * 2 : 16;
			*out = realloc(*out, *cap * sizeof(**out));
		}
		if (parse_mt(lt + 1, &(*out)[*n]))
			(*n)++;
		p = nl + 1;
	}
	free(s);
}

struct kb_mt *kb_mts(struct kb *k, size_t *n)
{
	size_t cap = 0;
	struct kb_mt *out = NULL;
	char path[400];

	*n = 0;
	for (int run = 1; run <= k->fake_runs; run++) {
		snprintf(path, sizeof(path), "%s.%d", k->fake_log, run);
		read_mts(path, &out, n, &cap);
	}
	read_mts(k->fake_log, &out, n, &cap);
	return out;
}

void kb_mts_free(struct kb_mt *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(m[i].text);
	free(m);
}

char **kb_texts_to(struct kb *k, const char *to, const char *from, size_t *n)
{
	size_t nm;
	struct kb_mt *m = kb_mts(k, &nm);
	char **out = calloc(nm + 1, sizeof(char *));
	bool *used = calloc(nm + 1, sizeof(bool));

	*n = 0;
	for (size_t i = 0; i < nm; i++) {
		if (used[i] || strcmp(m[i].to, to) != 0 || (from && strcmp(m[i].from, from) != 0))
			continue;
		if (m[i].total <= 1) {
			out[(*n)++] = strdup(m[i].text);
			continue;
		}
		if (m[i].seq != 1)
			continue;
		/* the parts of this message, in order */
		size_t total = (size_t)m[i].total, len = 0;
		size_t *idx = calloc(total + 1, sizeof(size_t));
		size_t found = 0;
		for (size_t s = 1; s <= total; s++)
			for (size_t j = i; j < nm; j++)
				if (!used[j] && strcmp(m[j].to, to) == 0 && m[j].ref == m[i].ref && m[j].total == m[i].total &&
				    (size_t)m[j].seq == s) {
					idx[s] = j;
					found++;
					len += strlen(m[j].text);
					break;
				}
		if (found == total) {
			char *t = malloc(len + 1);
			t[0] = '\0';
			for (size_t s = 1; s <= total; s++) {
				strcat(t, m[idx[s]].text);
				used[idx[s]] = true;
			}
			out[(*n)++] = t;
		}
		free(idx);
	}
	free(used);
	kb_mts_free(m, nm);
	return out;
}

size_t kb_wait_texts(struct kb *k, const char *to, size_t want, int timeout_ms)
{
	size_t n = 0;

	for (int waited = 0;; waited += 50) {
		char **t = kb_texts_to(k, to, NULL, &n);
		for (size_t i = 0; i < n; i++)
			free(t[i]);
		free(t);
		if (n >= want || waited > timeout_ms)
			return n;
		nap_ms(50);
	}
}

static void tail(const char *path, size_t max)
{
	size_t len;
	char *s = slurp(path, &len);

	if (s == NULL)
		return;
	fprintf(stderr, "---- %s (last %zu bytes) ----\n%s\n", path, len > max ? max : len, len > max ? s + len - max : s);
	free(s);
}

void kb_dump(struct kb *k)
{
	tail(k->log, 3000);
	for (int i = 0; i < k->nbox; i++)
		tail(k->box[i].log, 3000);
	tail(k->fake_log, 2000);
}
