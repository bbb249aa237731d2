/*
 * trickle: a slowloris client for the tests. Opens PER_IP connections from
 * each of the loopback addresses 127.0.0.FIRST .. 127.0.0.LAST to
 * 127.0.0.1:PORT, starts a POST on each and then sends one more header byte
 * per connection every second, for SECONDS seconds.
 *
 *   trickle PORT FIRST LAST PER_IP SECONDS STATUS_FILE
 *
 * STATUS_FILE is rewritten (atomically) once all connections are open and
 * every second after: "opened N early E late L alive A" (N attempted), where early counts
 * the connections the server closed within 3 s of their opening (refused at
 * accept), late those it closed after (a deadline), alive those still open.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct c {
	int fd;
	double opened;
	size_t pos;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void status(const char *path, int opened, int early, int late, int alive)
{
	char tmp[4200];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (f == NULL)
		return;
	fprintf(f, "opened %d early %d late %d alive %d\n", opened, early, late, alive);
	fclose(f);
	rename(tmp, path);
}

int main(int argc, char **argv)
{
	static const char head[] = "POST /ussd HTTP/1.1\r\nHost: hotline\r\nContent-Type: application/x-www-form-urlencoded\r\n";
	static const char drip[] = "X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
	struct rlimit rl;
	struct c *cs;
	int port, first, last, per_ip, seconds, n = 0, attempted = 0, early = 0, late = 0;
	double start, end;

	if (argc != 7) {
		fprintf(stderr, "usage: trickle PORT FIRST LAST PER_IP SECONDS STATUS_FILE\n");
		return 2;
	}
	port = atoi(argv[1]);
	first = atoi(argv[2]);
	last = atoi(argv[3]);
	per_ip = atoi(argv[4]);
	seconds = atoi(argv[5]);
	signal(SIGPIPE, SIG_IGN);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	cs = calloc((size_t)(last - first + 1) * (size_t)per_ip, sizeof(*cs));
	if (cs == NULL)
		return 1;
	for (int ip = first; ip <= last; ip++) {
		for (int k = 0; k < per_ip; k++) {
			struct sockaddr_in src, dst;
			attempted++;
			int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
			if (fd < 0) {
				perror("trickle: socket");
				break;
			}
			memset(&src, 0, sizeof(src));
			src.sin_family = AF_INET;
			src.sin_addr.s_addr = htonl(0x7F000000u | (unsigned)ip);
			memset(&dst, 0, sizeof(dst));
			dst.sin_family = AF_INET;
			dst.sin_port = htons((uint16_t)port);
			dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			if (bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0 ||
			    connect(fd, (struct sockaddr *)&dst, sizeof(dst)) < 0) {
				close(fd);
				early++; /* refused outright counts as refused early */
				continue;
			}
			fcntl(fd, F_SETFL, O_NONBLOCK);
			if (send(fd, head, sizeof(head) - 1, MSG_NOSIGNAL) < 0) {
				close(fd);
				early++;
				continue;
			}
			cs[n].fd = fd;
			cs[n].opened = now_s();
			n++;
		}
	}
	status(argv[6], attempted, early, late, n);
	start = now_s();
	end = start + seconds;
	while (now_s() < end) {
		int alive = 0;
		for (int i = 0; i < n; i++) {
			struct pollfd p = { cs[i].fd, POLLIN, 0 };
			char buf[512];
			bool gone = false;
			if (cs[i].fd < 0)
				continue;
			if (poll(&p, 1, 0) > 0) {
				ssize_t r = recv(cs[i].fd, buf, sizeof(buf), 0);
				gone = r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
			}
			if (!gone && send(cs[i].fd, drip + cs[i].pos, 1, MSG_NOSIGNAL) < 0 && errno != EAGAIN &&
			    errno != EWOULDBLOCK)
				gone = true;
			if (gone) {
				if (now_s() - cs[i].opened < 3.0)
					early++;
				else
					late++;
				close(cs[i].fd);
				cs[i].fd = -1;
				continue;
			}
			cs[i].pos = (cs[i].pos + 1) % (sizeof(drip) - 1);
			alive++;
		}
		status(argv[6], attempted, early, late, alive);
		usleep(1000 * 1000);
	}
	for (int i = 0; i < n; i++)
		if (cs[i].fd >= 0)
			close(cs[i].fd);
	free(cs);
	return 0;
}
