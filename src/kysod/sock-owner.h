/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Who is on the other end of a TCP connection over loopback: the kernel's
 * sock_diag tells the uid that owns the client's socket and its inode; the
 * process holding that inode is looked for among the user's own. */
#ifndef KYSOD_SOCK_OWNER_H
#define KYSOD_SOCK_OWNER_H
#include "kysod/peer.h"

/* Fills peer for the accepted connection fd: tcp, local_port, and, when the
 * kernel tells, known, uid and peer_ino; for a socket of kysod's own uid also
 * the process (pid, start time, executable, pidfd) when one of the user's
 * processes is found holding it, else pid 0. Returns 0, or -1 when the owner
 * is unknown (peer->known 0). */
int sock_owner_tcp(int fd, struct kyso_peer *peer);

/* Only the owner's uid and the socket's inode, without the process. */
int sock_owner_uid(int fd, struct kyso_peer *peer);

#endif
