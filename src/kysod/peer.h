/* Who is on the other end of a Unix socket connection (SO_PEERCRED). */
#ifndef KYSOD_PEER_H
#define KYSOD_PEER_H
#include <limits.h>
#include <sys/types.h>

struct kyso_peer {
	int known;		/* credentials were read */
	uid_t uid;
	gid_t gid;
	pid_t pid;
	char exe[PATH_MAX];	/* /proc/PID/exe, or "unknown" */
};

/* Reads the peer's credentials and executable. Returns 0 or -1. */
int kyso_peer_from_fd(int fd, struct kyso_peer *peer);

#endif
