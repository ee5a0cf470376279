/*
 * bench/check floor: the least a checker process can spend per check on this machine. A bare C loop
 * with no checker logic at all makes N checks a second (the same pool of real servers as the bench:
 * 127.10.x.y, ports base..base+3) and reports its own CPU per check from getrusage.
 *
 *   floor tcp|http reset|graceful N SECONDS BASE_PORT
 *
 *   tcp:  non-blocking connect; the verdict from a second connect() (0: connected).
 *   http: the same, then GET / HTTP/1.0, read until the server closes.
 *   reset:    one socket kept and reused (connect(AF_UNSPEC) ends the connection with an RST), as
 *             keepvs's default connector does.
 *   graceful: a fresh socket per check and close() (a FIN), as keepalived does.
 * Readiness of slow sockets comes from one epoll set; at most N checks are in flight. Output: one line of JSON. Written for keepvs's
 * bench/check; not keepalived code.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXFD 65536
static unsigned char phase[MAXFD]; /* 0 idle, 1 connecting, 2 reading */
static struct sockaddr_in peer[MAXFD];
static int idle[MAXFD], nidle;
static int ep, http, keep;
static long done, ok, inflight;
static const char req[] = "GET / HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: bench\r\n\r\n";

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void release(int fd)
{
	static const struct sockaddr unspec = { .sa_family = AF_UNSPEC };

	phase[fd] = 0;
	done++;
	inflight--;
	if (keep && connect(fd, &unspec, sizeof unspec) == 0) {
		idle[nidle++] = fd;
		return;
	}
	close(fd);
}

static void sent(int fd)
{
	if (!http) {
		ok++;
		release(fd);
		return;
	}
	send(fd, req, sizeof req - 1, MSG_NOSIGNAL);
	phase[fd] = 2;
}

static void readable(int fd)
{
	char buf[4096];

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof buf, 0);

		if (n > 0)
			continue;
		if (n == 0)
			ok++;
		if (n == 0 || errno != EAGAIN)
			release(fd);
		return;
	}
}

static void start(long i, int base)
{
	struct epoll_event e = { .events = EPOLLIN | EPOLLOUT | EPOLLET };
	int fd, v = (int)i + 1;

	inflight++;
	if (keep && nidle > 0) {
		fd = idle[--nidle];
	} else {
		fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0 || fd >= MAXFD)
			exit(2);
		e.data.fd = fd;
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
	}
	memset(&peer[fd], 0, sizeof peer[fd]);
	peer[fd].sin_family = AF_INET;
	peer[fd].sin_port = htons(base + (int)(i % 4));
	peer[fd].sin_addr.s_addr = htonl((127u << 24) | ((10u + (v >> 16)) << 16) | (((v >> 8) & 255) << 8) | (v & 255));
	if (connect(fd, (void *)&peer[fd], sizeof peer[fd]) == 0 || connect(fd, (void *)&peer[fd], sizeof peer[fd]) == 0 || errno == EISCONN) {
		sent(fd);
		return;
	}
	if (errno == EALREADY || errno == EINPROGRESS) {
		phase[fd] = 1;
		return;
	}
	release(fd);
}

int main(int argc, char **argv)
{
	struct epoll_event evs[1024];
	struct rusage r0, r1;
	long n, started = 0, done0 = 0;
	double t0, warm, end, secs, user, sys;
	int base, measuring = 0;

	if (argc != 6)
		return 1;
	http = !strcmp(argv[1], "http");
	keep = !strcmp(argv[2], "reset");
	n = atol(argv[3]);
	secs = atof(argv[4]);
	base = atoi(argv[5]);
	ep = epoll_create1(EPOLL_CLOEXEC);
	t0 = now();
	warm = t0 + 2;
	end = warm + secs;
	for (;;) {
		double t = now();
		long due = (long)((t - t0) * n);

		if (!measuring && t >= warm) {
			getrusage(RUSAGE_SELF, &r0);
			done0 = done;
			measuring = 1;
		}
		if (t >= end)
			break;
		/* Like a checker (each real server waits delay_loop after its check ends), never more
		 * in flight than there are real servers: when the server falls behind, the rate drops. */
		while (started < due && inflight < n) {
			start(started % n, base);
			started++;
		}
		if (started < due)
			started = due;
		int k = epoll_wait(ep, evs, 1024, 1);
		for (int j = 0; j < k; j++) {
			int fd = evs[j].data.fd;

			if (phase[fd] == 1) {
				if (connect(fd, (void *)&peer[fd], sizeof peer[fd]) == 0 || errno == EISCONN)
					sent(fd);
				else if (errno != EALREADY)
					release(fd);
			}
			if (phase[fd] == 2)
				readable(fd);
		}
	}
	getrusage(RUSAGE_SELF, &r1);
	user = (r1.ru_utime.tv_sec - r0.ru_utime.tv_sec) * 1e6 + (r1.ru_utime.tv_usec - r0.ru_utime.tv_usec);
	sys = (r1.ru_stime.tv_sec - r0.ru_stime.tv_sec) * 1e6 + (r1.ru_stime.tv_usec - r0.ru_stime.tv_usec);
	printf("{\"checks\":%ld,\"ok\":%ld,\"userUs\":%.0f,\"sysUs\":%.0f,\"secs\":%.3f}\n", done - done0, ok, user, sys, secs);
	return 0;
}
