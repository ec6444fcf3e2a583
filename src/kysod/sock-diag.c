/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include "kysod/sock-diag.h"

#define REQ_MAX 128

void *sock_diag_ask(const void *req, size_t req_len, void *buf, size_t buflen, size_t min,
		    size_t *payload_len)
{
	union {
		struct nlmsghdr nlh;
		char bytes[NLMSG_SPACE(REQ_MAX)];
	} q;
	struct nlmsghdr *a = buf;
	void *ret = NULL;
	ssize_t n;
	int nl;

	if (req_len > REQ_MAX || buflen < NLMSG_LENGTH(min))
		return NULL;
	memset(&q, 0, sizeof(q));
	q.nlh.nlmsg_len = (unsigned int)NLMSG_LENGTH(req_len);
	q.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	q.nlh.nlmsg_flags = NLM_F_REQUEST;
	memcpy(NLMSG_DATA(&q.nlh), req, req_len);
	nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (nl < 0)
		return NULL;
	if (send(nl, &q, q.nlh.nlmsg_len, 0) != (ssize_t)q.nlh.nlmsg_len)
		goto out;
	n = recv(nl, buf, buflen, 0);
	if (n < (ssize_t)NLMSG_LENGTH(min) || !NLMSG_OK(a, (size_t)n) ||
	    a->nlmsg_type != SOCK_DIAG_BY_FAMILY || a->nlmsg_len < NLMSG_LENGTH(min))
		goto out;
	*payload_len = a->nlmsg_len - NLMSG_LENGTH(0);
	ret = NLMSG_DATA(a);
out:
	close(nl);
	return ret;
}
