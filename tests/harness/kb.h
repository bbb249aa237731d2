/*
 * kb: real Kannel on loopback for the tests. A bearerbox with Kannel's fake
 * SMSC, one smsbox per county (routed by the number called: smsbox-route
 * with shortcode), and Kannel's own test SMSC client fakesmsc (Debian
 * kannel-extras) in interactive mode: the test writes MO lines to its stdin
 * and reads the MT it prints. Ports are free loopback ports; configs and
 * logs go to the test's own folder; every process is stopped by its PID.
 * Waits poll with a deadline.
 */
#ifndef HOTLINE_TEST_KB_H
#define HOTLINE_TEST_KB_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define KB_MAX_BOXES 4

struct kb_box {
	char id[16];         /* smsbox-id, "c1" ... */
	char number[16];     /* the short code it serves */
	int sendsms_port;
	int hotlined_port;   /* where its sms-service posts */
	char channel[32];    /* the hotlined channel name in the post-url */
	char secret[64];
	char conf[320], log[320];
	pid_t pid;
};

struct kb {
	char dir[256];
	char conf[320], log[320], store[320];
	int admin_port, smsbox_port, smsc_port;
	pid_t bearerbox;
	int nbox;
	struct kb_box box[KB_MAX_BOXES];
	pid_t fake;
	int fake_in;          /* fakesmsc's stdin */
	char fake_log[320];
	int fake_runs;        /* earlier runs' logs: fake_log.1 ... (a restarted fakesmsc counts from 1) */
	long fake_sent;       /* MO lines this run of fakesmsc has confirmed */
};

/* One MT as fakesmsc printed it. */
struct kb_mt {
	char from[32], to[32];
	char *text;           /* UTF-8 (UCS-2 and udh data decoded as UTF-16BE); owned */
	int ref, total, seq;  /* concatenation (total 0: a lone SMS) */
};

/* Is Kannel installed (bearerbox, smsbox, fakesmsc)? Prints what is missing. */
bool kb_available(void);
/* A free loopback TCP port. */
int kb_free_port(void);
/* Prepare dir (created if needed) and ports for nbox smsboxes; box i serves numbers[i]. */
int kb_setup(struct kb *k, const char *dir, int nbox, const char *const *numbers);
/* Box i posts to hotlined on port, channel name and secret (call before kb_start). */
void kb_box_target(struct kb *k, int i, int port, const char *channel, const char *secret);
/* Write the configs and start bearerbox, the smsboxes and fakesmsc; wait until they are up. */
int kb_start(struct kb *k);
int kb_start_bearerbox(struct kb *k);
int kb_start_smsbox(struct kb *k, int i);
int kb_start_fakesmsc(struct kb *k);
/* Stop a process by PID with sig and reap it (waits up to timeout_ms, then SIGKILL). */
void kb_kill(pid_t *pid, int sig, int timeout_ms);
/* Has a process we started ended (reaped now if so)? */
bool kb_exited(pid_t *pid);
/* Stop everything (SIGTERM, then SIGKILL) and remove nothing (the caller owns dir). */
void kb_stop(struct kb *k);

/* Send one MO "from to ucs2 <text as UTF-16BE>" and wait until fakesmsc says it went. */
int kb_mo(struct kb *k, const char *from, const char *to, const char *utf8);
/* MOs bearerbox has taken from the fake SMSC so far (all its runs). */
int kb_received(struct kb *k);
/* Every MT fakesmsc has printed so far, in all its runs; *n how many. Free with kb_mts_free. */
struct kb_mt *kb_mts(struct kb *k, size_t *n);
void kb_mts_free(struct kb_mt *m, size_t n);
/*
 * The texts to `to` (from `from`, or any when NULL), concatenated parts
 * joined in order; *n how many whole messages (incomplete ones are left out).
 * Caller frees each and the array.
 */
char **kb_texts_to(struct kb *k, const char *to, const char *from, size_t *n);
/* Wait until `to` has at least want whole messages; returns how many it has. */
size_t kb_wait_texts(struct kb *k, const char *to, size_t want, int timeout_ms);
/* Wait until an HTTP GET of http://127.0.0.1:port/ answers at all (any status). */
bool kb_wait_http(int port, int timeout_ms);
/* Print the tails of every Kannel log (when a test fails). */
void kb_dump(struct kb *k);

#endif
