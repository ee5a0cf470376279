/*
 * LD_PRELOAD shim for benchmarking keepalived's checker process on a kernel without IPVS.
 * keepalived -C refuses to start when IPVS cannot be initialised ("IPVS: Can't initialize ipvs").
 * This shim answers keepalived's IPVS socket options (IP_VS_SO_SET_* / IP_VS_SO_GET_*, levels
 * IPPROTO_IP, option numbers 1152..1167 from linux/ip_vs.h) with success and an empty table, so the
 * checker threads run for real against real sockets while the director calls go nowhere.
 * Everything else is passed to libc untouched. Written for keepvs's bench/check; not keepalived code.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

#define IPVS_BASE_CTL 1152

static int is_ipvs(int level, int opt)
{
	return level == IPPROTO_IP && opt >= IPVS_BASE_CTL && opt <= IPVS_BASE_CTL + 15;
}

int getsockopt(int fd, int level, int opt, void *val, socklen_t *len)
{
	static int (*real)(int, int, int, void *, socklen_t *);

	if (!real)
		real = dlsym(RTLD_NEXT, "getsockopt");
	if (!is_ipvs(level, opt))
		return real(fd, level, opt, val, len);
	if (val && len)
		memset(val, 0, *len);
	if (opt == IPVS_BASE_CTL + 1 && val && len && *len >= 12) {
		unsigned *info = val;	/* struct ip_vs_getinfo: version 1.2.1, table size 4096, no services */
		info[0] = 0x010201;
		info[1] = 4096;
	}
	return 0;
}

int setsockopt(int fd, int level, int opt, const void *val, socklen_t len)
{
	static int (*real)(int, int, int, const void *, socklen_t);

	if (!real)
		real = dlsym(RTLD_NEXT, "setsockopt");
	if (!is_ipvs(level, opt))
		return real(fd, level, opt, val, len);
	return 0;
}
