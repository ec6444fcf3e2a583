/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Who is on the other end of a Unix socket connection: taken once when the
 * connection is accepted (SO_PEERCRED, a pidfd, the process's start time and
 * executable), and checked again at each request. */
#ifndef KYSOD_PEER_H
#define KYSOD_PEER_H
#include <limits.h>
#include <sys/types.h>

/* What the dialog shows for a caller whose identity did not hold. */
#define PEER_CHANGED_TEXT "unknown program (its identity changed)"

/* The longest web origin kept (scheme://host:port), with its NUL. */
#define KYSO_ORIGIN_MAX 256

struct kyso_peer {
	int known;		/* credentials were read */
	uid_t uid;
	gid_t gid;
	pid_t pid;
	char exe[PATH_MAX];	/* /proc/PID/exe when accepted, or "unknown" (also
				 * when the checks failed already then) */
	int pidfd;		/* the process, -1 when the kernel offers no pidfd */
	unsigned long long start;	/* start time in clock ticks since boot, 0 if unread */
	unsigned long peer_ino;	/* the inode of the caller's end of the socket, 0 if unknown */
	int held_fd;		/* the caller's descriptor found holding it last, or -1 */
	int held_unread;	/* the caller's descriptors could not be read (not dumpable) */
	/* set by kyso_peer_recheck: */
	int changed;		/* the process is gone, or runs another executable */
	/* "exited", "start time", "executable" or "connection" (the process no
	 * longer holds its end of the connection), else NULL */
	const char *what_changed;

	/* A connection on the loopback listener (listen-tcp.c): the owner
	 * comes from sock_diag, not SO_PEERCRED (sock-owner.c), and each
	 * request is checked by browser.c, which sets what follows. */
	int tcp;
	unsigned short local_port;	/* the listener's port it came on */
	char origin[KYSO_ORIGIN_MAX];	/* the request's Origin; "" on the Unix socket */
	int cors;		/* the answer carries CORS headers for origin */
	int preflight;		/* the request is a CORS preflight */
	int private_network;	/* the preflight asked for Private Network Access */
};

/* Reads the peer's credentials and process start time: what tells callers
 * apart, cheaply. Returns 0 or -1 (peer->known 0). */
int kyso_peer_creds(int fd, struct kyso_peer *peer);

/* Then the rest of its identity: a pidfd, the executable, its end of the
 * connection; and checks it as kyso_peer_recheck does. */
void kyso_peer_identify(int fd, struct kyso_peer *peer);

/* Checks that the process is still the one accepted: alive (pidfd), same start
 * time, same executable, still holding its end of the connection. Sets changed
 * and what_changed, for good: a connection whose caller changed once is never
 * trusted again. */
void kyso_peer_recheck(struct kyso_peer *peer);

/* The name to show in a dialog or a log: the executable, or
 * PEER_CHANGED_TEXT once a check failed. */
const char *kyso_peer_shown(const struct kyso_peer *peer);

/* What the checks cover, for the audit log ("pidfd, start time, executable"). */
const char *kyso_peer_checks(const struct kyso_peer *peer);

/* Whether process pid holds a descriptor of socket inode ino: 1, 0, or -1
 * when its descriptors cannot be read or are too many to look through.
 * fd_hint (may be NULL): in, a descriptor number to look at first (-1: none);
 * out, the one found holding it. */
int kyso_peer_holds(pid_t pid, unsigned long ino, int *fd_hint);

/* Field 22 of /proc/PID/stat, the process's start time; 0 when unread. */
unsigned long long kyso_peer_start_time(pid_t pid);

/* Closes the pidfd. */
void kyso_peer_release(struct kyso_peer *peer);

#endif
