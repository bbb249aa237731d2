/*
 * util: allocation that cannot fail (it aborts with a log line: a daemon that
 * is out of memory cannot keep its promises anyway), a growable string buffer
 * with a size limit, and small helpers for time and paths.
 */
#ifndef HOTLINE_UTIL_H
#define HOTLINE_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WARN_UNUSED __attribute__((warn_unused_result))
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A growable NUL-terminated byte string. Zero-initialise, or buf_init(). */
struct buf {
	char *s;
	size_t len, cap;
};
void buf_init(struct buf *b);
void buf_add(struct buf *b, const char *s, size_t n);
void buf_adds(struct buf *b, const char *s);
void buf_addc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap);
void buf_reset(struct buf *b);
/* The string; never NULL (an empty buffer gives ""). Valid until the next change. */
const char *buf_str(const struct buf *b);
/* Hand the string to the caller (who frees it); the buffer is left empty. */
char *buf_take(struct buf *b);
void buf_free(struct buf *b);

/* Wall clock, unix seconds. Tests may pin it with util_set_time_override(). */
int64_t now_unix(void);
void util_set_time_override(int64_t t); /* 0: real time again */
/*
 * Tests only: take the clock's offset (whole seconds added to the real time)
 * from a file that holds one integer, read at every now_unix(), so a test can
 * play a conversation at a person's pace without waiting for it. hotlined
 * calls this with $HOTLINE_TEST_CLOCK when set; NULL: real time.
 */
void util_set_clock_file(const char *path);
/* Monotonic milliseconds, for timeouts and durations. */
int64_t mono_ms(void);

/* Path p resolved against dir unless p is absolute. Caller frees. */
char *path_resolve(const char *dir, const char *p);
/* The folder part of a path ("." for a bare name), absolute when it exists. Caller frees. */
char *path_dirname(const char *p);

/*
 * The whole of the regular file path, NUL-terminated (its length in *len).
 * Anything else (a FIFO, a device, a folder) is refused without blocking:
 * opening a FIFO for reading would wait for a writer forever. NULL with the
 * reason in err (errno's words, or "not a regular file"). Caller frees.
 */
char *file_read_regular(const char *path, size_t *len, char *err, size_t errlen);
/* Is path a regular file (following a symbolic link)? */
bool file_is_regular(const char *path);

/*
 * libconfig 1.5 keeps an integer written without L in 32 bits and silently
 * drops the rest. Read `name = NUMBER` (or `:`) as written on line (up to its
 * newline): true with *wide set to the number when it differs from kept,
 * what libconfig kept, in more than the low 32 bits; true with *overflow when
 * it does not fit 64 bits. False when it is no such integer or fits.
 */
bool cfg_int_written_wider(const char *line, const char *name, long long kept, long long *wide, bool *overflow);

/* FNV-1a 64-bit of bytes. */
uint64_t hash64(const void *p, size_t n);

/* Parse a whole decimal integer in [min,max]; false on any junk. */
bool parse_int(const char *s, long long min, long long max, long long *out) WARN_UNUSED;

/* Case-insensitive ASCII compare of whole strings. */
bool str_ieq(const char *a, const char *b);
bool str_startswith(const char *s, const char *prefix);

#endif
