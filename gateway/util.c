#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static void oom(size_t n)
{
	log_errorx("util", "out of memory (%zu bytes)", n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL)
		oom(n);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (p == NULL)
		oom(n * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (q == NULL)
		oom(n);
	return q;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	struct buf b = { 0 };
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	return buf_take(&b);
}

void buf_init(struct buf *b)
{
	b->s = NULL;
	b->len = b->cap = 0;
}

static void buf_grow(struct buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;

	if (need <= b->cap)
		return;
	if (b->cap == 0)
		b->cap = 64;
	while (b->cap < need)
		b->cap *= 2;
	b->s = xrealloc(b->s, b->cap);
}

void buf_add(struct buf *b, const char *s, size_t n)
{
	buf_grow(b, n);
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void buf_addc(struct buf *b, char c)
{
	buf_add(b, &c, 1);
}

void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return;
	buf_grow(b, (size_t)n);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->s)
		b->s[0] = '\0';
}

const char *buf_str(const struct buf *b)
{
	return b->s ? b->s : "";
}

char *buf_take(struct buf *b)
{
	char *s = b->s ? b->s : xstrdup("");

	buf_init(b);
	return s;
}

void buf_free(struct buf *b)
{
	free(b->s);
	buf_init(b);
}

static _Atomic int64_t time_override;
static char clock_file[256];

void util_set_clock_file(const char *path)
{
	snprintf(clock_file, sizeof(clock_file), "%s", path ? path : "");
}

static int64_t clock_offset(void)
{
	char b[32];
	long long v = 0;
	ssize_t n;
	int fd = open(clock_file, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	n = read(fd, b, sizeof(b) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	b[n] = '\0';
	if (sscanf(b, "%lld", &v) != 1)
		return 0;
	return (int64_t)v;
}

int64_t now_unix(void)
{
	int64_t t = atomic_load(&time_override);

	if (t)
		return t;
	t = (int64_t)time(NULL);
	return *clock_file ? t + clock_offset() : t;
}

void util_set_time_override(int64_t t)
{
	atomic_store(&time_override, t);
}

int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *path_resolve(const char *dir, const char *p)
{
	char *joined, *abs, *parent, *base, *slash;

	if (p[0] == '/' || dir == NULL || dir[0] == '\0')
		return xstrdup(p);
	joined = xasprintf("%s/%s", dir, p);
	/* "config/../var/hotline.db" reads better as "/srv/hotline/var/hotline.db" */
	if ((abs = realpath(joined, NULL)) != NULL) {
		free(joined);
		return abs;
	}
	/* the file may not exist yet (a new database): resolve its folder */
	slash = strrchr(joined, '/');
	parent = xstrndup(joined, (size_t)(slash - joined));
	base = slash + 1;
	abs = realpath(parent, NULL);
	free(parent);
	if (abs != NULL) {
		char *r = xasprintf("%s/%s", abs, base);
		free(abs);
		free(joined);
		return r;
	}
	return joined;
}

char *path_dirname(const char *p)
{
	const char *slash = strrchr(p, '/');
	char *dir, *abs;

	if (slash == NULL)
		dir = xstrdup(".");
	else if (slash == p)
		dir = xstrdup("/");
	else
		dir = xstrndup(p, (size_t)(slash - p));
	/* absolute when it exists, so that paths in logs and errors read plainly */
	abs = realpath(dir, NULL);
	if (abs == NULL)
		return dir;
	free(dir);
	return abs;
}

uint64_t hash64(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 1469598103934665603ULL;

	while (n--) {
		h ^= *s++;
		h *= 1099511628211ULL;
	}
	return h;
}

bool parse_int(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0')
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

bool str_ieq(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

bool str_startswith(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

char *file_read_regular(const char *path, size_t *len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	struct stat sb;
	char *text = NULL;
	size_t n = 0, cap;

	if (fd < 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &sb) < 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		close(fd);
		return NULL;
	}
	if (!S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "not a regular file");
		close(fd);
		return NULL;
	}
	cap = (size_t)sb.st_size + 1;
	text = xmalloc(cap);
	for (;;) {
		ssize_t r;
		if (n + 1 >= cap) { /* the file grew while read */
			cap *= 2;
			text = xrealloc(text, cap);
		}
		r = read(fd, text + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "%s", strerror(errno));
			free(text);
			close(fd);
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	text[n] = '\0';
	*len = n;
	return text;
}

bool file_is_regular(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

static bool ident_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
	    c == '*';
}

bool cfg_int_written_wider(const char *line, const char *name, long long kept, long long *wide, bool *overflow)
{
	size_t nl = strlen(name);
	const char *end = strchr(line, '\n');

	*overflow = false;
	if (end == NULL)
		end = line + strlen(line);
	for (const char *p = line; p + nl <= end; p++) {
		const char *q = p + nl;
		char num[80], *stop;
		size_t n = 0;
		if (strncmp(p, name, nl) != 0 || (p > line && ident_char(p[-1])) || ident_char(*q))
			continue;
		while (q < end && (*q == ' ' || *q == '\t'))
			q++;
		if (q >= end || (*q != '=' && *q != ':'))
			continue;
		for (q++; q < end && (*q == ' ' || *q == '\t');)
			q++;
		while (q < end && n + 1 < sizeof(num) && (ident_char(*q) || *q == '+'))
			num[n++] = *q++;
		num[n] = '\0';
		errno = 0;
		bool hex = (num[0] == '0' && (num[1] == 'x' || num[1] == 'X')) ||
		    ((num[0] == '-' || num[0] == '+') && num[1] == '0' && (num[2] == 'x' || num[2] == 'X'));
		long long v = hex ? (long long)strtoull(num, &stop, 16) : strtoll(num, &stop, 10);
		if (stop == num || (*stop != '\0' && *stop != 'L'))
			continue; /* not this setting's number (a string, a float) */
		if (errno == ERANGE) {
			*overflow = true;
			return true;
		}
		if (v != kept && (int32_t)v == (int32_t)kept) {
			*wide = v;
			return true;
		}
	}
	return false;
}
