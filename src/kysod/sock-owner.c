/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include "kysod/sock-diag.h"
#include "kysod/sock-owner.h"

/* Processes looked through at most for the one holding a socket. */
#define SCAN_PROCS_MAX 4096

/* The process that held the last socket found: a browser opens its
 * connections from one process, so it is asked first. */
static pid_t last_holder;

/* Asks sock_diag for the socket whose local end is (src, sport) and remote end
 * (dst, dport): the client's side of our connection. Returns 0 with *uid and
 * *ino, or -1. */
static int diag_lookup(int family, const void *src, unsigned short sport, const void *dst,
		       unsigned short dport, uid_t *uid, unsigned long *ino)
{
	struct inet_diag_req_v2 req;
	union {
		struct nlmsghdr nlh;
		char buf[4096];
	} a;
	struct inet_diag_msg *msg;
	size_t alen = family == AF_INET ? 4 : 16, plen = 0;

	memset(&req, 0, sizeof(req));
	req.sdiag_family = (unsigned char)family;
	req.sdiag_protocol = IPPROTO_TCP;
	req.idiag_states = ~0u;
	req.id.idiag_sport = htons(sport);
	req.id.idiag_dport = htons(dport);
	memcpy(req.id.idiag_src, src, alen);
	memcpy(req.id.idiag_dst, dst, alen);
	req.id.idiag_cookie[0] = req.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	msg = sock_diag_ask(&req, sizeof(req), &a, sizeof(a), sizeof(*msg), &plen);
	/* the answer must be the socket asked for, not another one */
	if (!msg || msg->idiag_family != family || msg->id.idiag_sport != htons(sport) ||
	    msg->id.idiag_dport != htons(dport) || memcmp(msg->id.idiag_src, src, alen) ||
	    memcmp(msg->id.idiag_dst, dst, alen))
		return -1;
	*uid = msg->idiag_uid;
	*ino = msg->idiag_inode;
	return 0;
}

/* The user's process holding socket inode ino, or 0. Only processes of our
 * own uid are looked at: another user's descriptors cannot be read anyway. */
static pid_t find_holder(unsigned long ino)
{
	pid_t cached = __atomic_load_n(&last_holder, __ATOMIC_RELAXED), pid, found = 0;
	struct dirent *de;
	char path[64];
	struct stat sb;
	int scanned = 0;
	DIR *d;

	if (cached > 0 && kyso_peer_holds(cached, ino, NULL) == 1)
		return cached;
	d = opendir("/proc");
	if (!d)
		return 0;
	while (!found && (de = readdir(d)) && scanned < SCAN_PROCS_MAX) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = (pid_t)atoi(de->d_name);
		if (pid <= 0 || pid == getpid() || pid == cached)
			continue;
		snprintf(path, sizeof(path), "/proc/%d", (int)pid);
		if (stat(path, &sb) || sb.st_uid != getuid())
			continue;
		scanned++;
		if (kyso_peer_holds(pid, ino, NULL) == 1)
			found = pid;
	}
	closedir(d);
	if (found)
		__atomic_store_n(&last_holder, found, __ATOMIC_RELAXED);
	return found;
}

int sock_owner_uid(int fd, struct kyso_peer *peer)
{
	struct sockaddr_storage local, remote;
	socklen_t llen = sizeof(local), rlen = sizeof(remote);
	unsigned long ino = 0;
	uid_t uid;
	int rc;

	memset(peer, 0, sizeof(*peer));
	peer->pidfd = -1;
	peer->held_fd = -1;
	peer->tcp = 1;
	strcpy(peer->exe, "unknown");
	if (getsockname(fd, (struct sockaddr *)&local, &llen) ||
	    getpeername(fd, (struct sockaddr *)&remote, &rlen) ||
	    local.ss_family != remote.ss_family)
		return -1;
	if (local.ss_family == AF_INET) {
		struct sockaddr_in *l = (struct sockaddr_in *)&local, *r = (struct sockaddr_in *)&remote;

		peer->local_port = ntohs(l->sin_port);
		rc = diag_lookup(AF_INET, &r->sin_addr, ntohs(r->sin_port), &l->sin_addr,
				 ntohs(l->sin_port), &uid, &ino);
	} else if (local.ss_family == AF_INET6) {
		struct sockaddr_in6 *l = (struct sockaddr_in6 *)&local, *r = (struct sockaddr_in6 *)&remote;

		peer->local_port = ntohs(l->sin6_port);
		rc = diag_lookup(AF_INET6, &r->sin6_addr, ntohs(r->sin6_port), &l->sin6_addr,
				 ntohs(l->sin6_port), &uid, &ino);
	} else {
		return -1;
	}
	if (rc)
		return -1;
	peer->known = 1;
	peer->uid = uid;
	peer->peer_ino = ino;
	return 0;
}

static void sock_owner_process(int fd, struct kyso_peer *peer)
{
	if (!peer->known || peer->uid != getuid() || !peer->peer_ino)
		return;
	peer->pid = find_holder(peer->peer_ino);
	if (peer->pid > 0) {
		peer->start = kyso_peer_start_time(peer->pid);
		kyso_peer_identify(fd, peer);
	}
}

int sock_owner_tcp(int fd, struct kyso_peer *peer)
{
	if (sock_owner_uid(fd, peer))
		return -1;
	sock_owner_process(fd, peer);
	return 0;
}
