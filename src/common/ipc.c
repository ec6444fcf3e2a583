/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/crypto.h>

#include "common/ipc.h"
#include "common/secure.h"

#define HDR_LEN 16

static void put_u32(unsigned char *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = (v >> 24) & 0xff;
}

static void put_u16(unsigned char *p, uint16_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
}

static uint32_t get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t get_u16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static int write_all(int fd, const unsigned char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int read_all(int fd, unsigned char *buf, size_t len)
{
	while (len) {
		ssize_t n = read(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int kyso_ipc_send(int fd, uint32_t id, uint16_t op, uint16_t flags, const json_t *json,
		  const unsigned char *secret, size_t secret_len)
{
	char *text = NULL;
	unsigned char *frame = NULL;
	size_t text_len, total = 0;
	int ret = -1;

	text = json ? json_dumps(json, JSON_COMPACT) : strdup("{}");
	if (!text)
		goto out;
	text_len = strlen(text);
	/* never send a frame the receiving side would refuse */
	if (secret_len > KYSO_IPC_MAX_SECRET ||
	    text_len > KYSO_IPC_MAX_FRAME - (HDR_LEN - 4) - secret_len)
		goto out;
	total = HDR_LEN + text_len + secret_len;
	/* a frame that carries a PIN lives in locked memory */
	frame = secret_len ? kyso_secret_alloc(total) : malloc(total);
	if (!frame)
		goto out;
	put_u32(frame, (uint32_t)(total - 4));
	put_u32(frame + 4, id);
	put_u16(frame + 8, op);
	put_u16(frame + 10, flags);
	put_u32(frame + 12, (uint32_t)text_len);
	memcpy(frame + HDR_LEN, text, text_len);
	if (secret_len)
		memcpy(frame + HDR_LEN + text_len, secret, secret_len);
	ret = write_all(fd, frame, total);
out:
	if (frame && secret_len) {
		kyso_secret_free(frame, total);
	} else if (frame) {
		OPENSSL_cleanse(frame, total);
		free(frame);
	}
	free(text);
	return ret;
}

int kyso_ipc_recv(int fd, struct kyso_msg *msg)
{
	unsigned char hdr[HDR_LEN];
	unsigned char *body = NULL;
	size_t body_len = 0, json_len;
	json_error_t jerr;
	int has_secret = 0, ret = -1;

	memset(msg, 0, sizeof(*msg));
	if (read_all(fd, hdr, HDR_LEN))
		goto out;
	body_len = get_u32(hdr);
	json_len = get_u32(hdr + 12);
	if (body_len < HDR_LEN - 4 || body_len > KYSO_IPC_MAX_FRAME)
		goto out;
	body_len -= HDR_LEN - 4;
	if (json_len > body_len || body_len - json_len > KYSO_IPC_MAX_SECRET)
		goto out;
	msg->id = get_u32(hdr + 4);
	msg->op = get_u16(hdr + 8);
	msg->flags = get_u16(hdr + 10);
	has_secret = body_len > json_len;
	body = has_secret ? kyso_secret_alloc(body_len) : malloc(body_len ? body_len : 1);
	if (!body || read_all(fd, body, body_len))
		goto out;
	msg->json = json_loadb((const char *)body, json_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!msg->json || !json_is_object(msg->json))
		goto out;
	msg->secret_len = body_len - json_len;
	if (msg->secret_len) {
		msg->secret = kyso_secret_alloc(msg->secret_len + 1);
		if (!msg->secret)
			goto out;
		memcpy(msg->secret, body + json_len, msg->secret_len);
		msg->secret[msg->secret_len] = '\0';
	}
	ret = 0;
out:
	if (body && has_secret) {
		kyso_secret_free(body, body_len);
	} else if (body) {
		OPENSSL_cleanse(body, body_len);
		free(body);
	}
	if (ret)
		kyso_msg_clear(msg);
	return ret;
}

void kyso_msg_clear(struct kyso_msg *msg)
{
	json_decref(msg->json);
	msg->json = NULL;
	kyso_secret_free(msg->secret, msg->secret_len + 1);
	msg->secret = NULL;
	msg->secret_len = 0;
}
