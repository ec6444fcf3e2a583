/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A request to kysod with a JSON body, for the commands with no libkyso call of their own. */
#include <stdlib.h>
#include <string.h>

#include "common/b64.h"
#include "cmd.h"
#include "output.h"

int cmd_request_json(struct kyso_ctx *ctx, const char *method, const char *path, json_t *body,
		     json_t **answer)
{
	char *text = NULL, *req = NULL;
	int rc;

	*answer = NULL;
	if (body) {
		req = json_dumps(body, JSON_COMPACT);
		json_decref(body);
		if (!req)
			return out_fail(ctx->json, "out_of_memory", "out of memory");
	}
	rc = kyso_request(ctx->client, method, path, req, NULL, &text);
	free(req);
	if (rc) {
		kyso_free(text);
		return out_error(ctx->json, kyso_client_last_error(ctx->client));
	}
	*answer = text ? json_loads(text, 0, NULL) : NULL;
	kyso_free(text);
	if (!*answer)
		return out_fail(ctx->json, "protocol_error", "kysod's answer to %s is not JSON",
				path);
	return 0;
}

int cmd_post_json(struct kyso_ctx *ctx, const char *path, json_t *body, json_t **answer)
{
	if (!body) {
		*answer = NULL;
		return out_fail(ctx->json, "out_of_memory", "out of memory");
	}
	return cmd_request_json(ctx, "POST", path, body, answer);
}

int cmd_timestamp(struct kyso_ctx *ctx, const unsigned char *md, size_t md_len,
		  unsigned char **token, size_t *len)
{
	char *b64 = kyso_b64_encode(md, md_len);
	json_t *answer = NULL;
	const char *tok;
	int ret;

	*token = NULL;
	/* no b64: a NULL body, reported as out of memory */
	ret = cmd_post_json(ctx, "/v1/timestamp", b64 ? json_pack("{s:s, s:s}", "hash", b64,
								 "hash_algorithm", "sha256") : NULL,
			    &answer);
	free(b64);
	if (ret)
		return ret;
	tok = json_string_value(json_object_get(answer, "token"));
	*token = tok ? kyso_b64_decode_alloc(tok, strlen(tok), len) : NULL;
	json_decref(answer);
	if (!*token)
		return out_fail(ctx->json, "protocol_error", "kysod's timestamp token is not base64");
	return 0;
}
