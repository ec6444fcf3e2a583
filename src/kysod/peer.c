#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kysod/peer.h"

int kyso_peer_from_fd(int fd, struct kyso_peer *peer)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	char link[64];
	ssize_t n;

	memset(peer, 0, sizeof(*peer));
	strcpy(peer->exe, "unknown");
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) || len != sizeof(cred))
		return -1;
	peer->known = 1;
	peer->uid = cred.uid;
	peer->gid = cred.gid;
	peer->pid = cred.pid;
	snprintf(link, sizeof(link), "/proc/%d/exe", (int)cred.pid);
	n = readlink(link, peer->exe, sizeof(peer->exe) - 1);
	if (n > 0)
		peer->exe[n] = '\0';
	else
		strcpy(peer->exe, "unknown");
	return 0;
}
