/* One signature from a validated request: the certificate looked up, the
 * helper asked, and the PIN dialog run when the token needs a login. */
#ifndef KYSOD_SIGN_FLOW_H
#define KYSOD_SIGN_FLOW_H

#include "kysod/daemon.h"
#include "kysod/peer.h"
#include "kysod/reply.h"
#include "kysod/sign-request.h"

void sign_flow_run(struct kysod *d, const struct kyso_sign_request *req,
		   const struct kyso_peer *peer, struct kyso_reply *rep);

#endif
