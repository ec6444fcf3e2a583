#include <openssl/crypto.h>

#include "kysod/api.h"
#include "kysod/sign-flow.h"
#include "kysod/sign-request.h"

void api_sign(const struct kyso_request *req, const char *arg, struct kyso_reply *rep)
{
	struct kyso_sign_request sreq;

	if (kyso_sign_request_parse(req->body, req->body_len, &sreq, rep) == 0)
		sign_flow_run(req->d, &sreq, req->peer, rep);
	OPENSSL_cleanse(&sreq, sizeof(sreq));
}
