/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/crypto.h>

#include "common/ipc.h"
#include "common/secure.h"
#include "common/utf8.h"

#define HDR_LEN 16
#define FIELD_HDR 6

enum field_type { T_U32 = 1, T_BOOL, T_BYTES, T_STR, T_JSON };

/* ------------------------------------------------------------ the schema */

static const struct {
	const char *name;
	enum field_type type;
	uint32_t max;			/* longest value, in bytes (strings: with the NUL) */
} fields[KYSO_F_COUNT] = {
	[KYSO_F_PROTOCOL] = { "protocol", T_U32, 4 },
	[KYSO_F_CODE] = { "code", T_STR, 64 },
	[KYSO_F_MESSAGE] = { "message", T_STR, 1024 },
	[KYSO_F_PIN_STATE] = { "pin_state", T_STR, 32 },
	[KYSO_F_TOKEN] = { "token", T_STR, 64 },
	[KYSO_F_KEY_ID] = { "key_id", T_STR, 2 * 256 + 1 },
	[KYSO_F_MECH] = { "mech", T_U32, 4 },
	[KYSO_F_HASH_BITS] = { "hash_bits", T_U32, 4 },
	[KYSO_F_HASH] = { "hash", T_BYTES, 64 },
	[KYSO_F_KEEP_LOGIN] = { "keep_login", T_BOOL, 1 },
	[KYSO_F_PINPAD] = { "pinpad", T_BOOL, 1 },
	[KYSO_F_SIGNATURE] = { "signature", T_BYTES, 1024 },
	[KYSO_F_PER_SIGNATURE] = { "per_signature", T_BOOL, 1 },
	[KYSO_F_LOGGED_OUT] = { "logged_out", T_U32, 4 },
	[KYSO_F_INVENTORY] = { "inventory", T_JSON, KYSO_IPC_MAX_FRAME },
	[KYSO_F_LABEL] = { "label", T_STR, 256 },
	[KYSO_F_KEY_TYPE] = { "key_type", T_U32, 4 },
	[KYSO_F_PUBLIC_KEY] = { "public_key", T_BYTES, 2048 },
	[KYSO_F_CERTIFICATE] = { "certificate", T_BYTES, 64u << 10 },
	[KYSO_F_CHAIN] = { "chain", T_BYTES, 512u << 10 },
	[KYSO_F_CERT_ID] = { "cert_id", T_STR, 65 },
	[KYSO_F_SO] = { "so", T_BOOL, 1 },
	[KYSO_F_REINIT] = { "reinit", T_BOOL, 1 },
	[KYSO_F_OBJECT_CLASS] = { "object_class", T_U32, 4 },
	[KYSO_F_DETAILS] = { "details", T_JSON, KYSO_IPC_MAX_FRAME },
	[KYSO_F_FRESH] = { "fresh", T_BOOL, 1 },
	[KYSO_F_WORKER] = { "worker", T_U32, 4 },
	[KYSO_F_HASHES] = { "hashes", T_BYTES, KYSO_IPC_MAX_MANY * 64 },
	[KYSO_F_SIGNATURES] = { "signatures", T_BYTES, KYSO_IPC_MAX_MANY * (2 + 1024) },
	[KYSO_F_INVENTORY_SEQ] = { "inventory_seq", T_U32, 4 },
};

#define B(f) (1u << (f))

struct op_schema {
	uint16_t op;
	const char *name;
	uint32_t allowed;
	uint32_t required;		/* always */
	uint32_t required_ok;		/* without KYSO_IPC_F_ERROR */
	uint32_t required_err;		/* with it */
	unsigned int pins_min, pins_max;	/* PINs in the secret part */
	int lenient;			/* fields it does not know are skipped (HELLO,
					 * so that another version's can be read) */
	int passes_fd;			/* one descriptor comes with the frame */
};

static const struct op_schema ops[] = {
	{ KYSO_OP_HELLO, "HELLO", B(KYSO_F_PROTOCOL) | B(KYSO_F_INVENTORY) | B(KYSO_F_CODE) |
	  B(KYSO_F_MESSAGE) | B(KYSO_F_INVENTORY_SEQ), B(KYSO_F_PROTOCOL), B(KYSO_F_INVENTORY), B(KYSO_F_CODE), 0, 0, 1, 0 },
	{ KYSO_OP_INVENTORY, "INVENTORY", B(KYSO_F_INVENTORY) | B(KYSO_F_INVENTORY_SEQ),
	  B(KYSO_F_INVENTORY), 0, 0, 0, 0, 0, 0 },
	{ KYSO_OP_RESCAN, "RESCAN", 0, 0, 0, 0, 0, 0, 0, 0 },
	{ KYSO_OP_SIGN, "SIGN", B(KYSO_F_TOKEN) | B(KYSO_F_KEY_ID) | B(KYSO_F_MECH) |
	  B(KYSO_F_HASH_BITS) | B(KYSO_F_HASH) | B(KYSO_F_KEEP_LOGIN),
	  B(KYSO_F_TOKEN) | B(KYSO_F_KEY_ID) | B(KYSO_F_MECH) | B(KYSO_F_HASH_BITS) |
	  B(KYSO_F_HASH), 0, 0, 0, 1, 0, 0 },
	{ KYSO_OP_LOGOUT, "LOGOUT", B(KYSO_F_TOKEN), 0, 0, 0, 0, 0, 0, 0 },
	{ KYSO_OP_LOGIN, "LOGIN", B(KYSO_F_TOKEN) | B(KYSO_F_PINPAD) | B(KYSO_F_FRESH),
	  B(KYSO_F_TOKEN), 0, 0, 0, 1, 0, 0 },
	{ KYSO_OP_ADMIN_INVENTORY, "ADMIN_INVENTORY", B(KYSO_F_TOKEN), 0, 0, 0, 0, 0, 0, 0 },
	{ KYSO_OP_INIT_TOKEN, "INIT_TOKEN", B(KYSO_F_TOKEN) | B(KYSO_F_LABEL) | B(KYSO_F_REINIT),
	  B(KYSO_F_TOKEN) | B(KYSO_F_LABEL), 0, 0, 1, 2, 0, 0 },
	{ KYSO_OP_SET_PIN, "SET_PIN", B(KYSO_F_TOKEN) | B(KYSO_F_SO), B(KYSO_F_TOKEN), 0, 0, 2, 2,
	  0, 0 },
	{ KYSO_OP_INIT_PIN, "INIT_PIN", B(KYSO_F_TOKEN), B(KYSO_F_TOKEN), 0, 0, 2, 2, 0, 0 },
	{ KYSO_OP_KEYGEN, "KEYGEN", B(KYSO_F_TOKEN) | B(KYSO_F_KEY_TYPE) | B(KYSO_F_KEY_ID) |
	  B(KYSO_F_LABEL) | B(KYSO_F_SO), B(KYSO_F_TOKEN) | B(KYSO_F_KEY_TYPE) | B(KYSO_F_LABEL), 0, 0, 1, 1, 0, 0 },
	{ KYSO_OP_STORE_CERT, "STORE_CERT", B(KYSO_F_TOKEN) | B(KYSO_F_CERTIFICATE) |
	  B(KYSO_F_CHAIN) | B(KYSO_F_LABEL) | B(KYSO_F_SO), B(KYSO_F_TOKEN) | B(KYSO_F_CERTIFICATE), 0, 0, 1, 1,
	  0, 0 },
	{ KYSO_OP_DELETE, "DELETE", B(KYSO_F_TOKEN) | B(KYSO_F_OBJECT_CLASS) | B(KYSO_F_KEY_ID) |
	  B(KYSO_F_CERT_ID) | B(KYSO_F_SO), B(KYSO_F_TOKEN) | B(KYSO_F_OBJECT_CLASS), 0, 0, 1, 1, 0, 0 },
	{ KYSO_OP_SIGN_MANY, "SIGN_MANY", B(KYSO_F_TOKEN) | B(KYSO_F_KEY_ID) | B(KYSO_F_MECH) |
	  B(KYSO_F_HASH_BITS) | B(KYSO_F_HASHES) | B(KYSO_F_KEEP_LOGIN),
	  B(KYSO_F_TOKEN) | B(KYSO_F_KEY_ID) | B(KYSO_F_MECH) | B(KYSO_F_HASH_BITS) |
	  B(KYSO_F_HASHES), 0, 0, 0, 0, 0, 0 },
	{ KYSO_OP_LANE, "LANE", B(KYSO_F_TOKEN) | B(KYSO_F_WORKER), B(KYSO_F_TOKEN) | B(KYSO_F_WORKER),
	  0, 0, 0, 0, 0, 1 },
	{ KYSO_OP_REPLY, "REPLY", B(KYSO_F_CODE) | B(KYSO_F_MESSAGE) | B(KYSO_F_PIN_STATE) |
	  B(KYSO_F_PER_SIGNATURE) | B(KYSO_F_SIGNATURE) | B(KYSO_F_LOGGED_OUT) |
	  B(KYSO_F_DETAILS) | B(KYSO_F_PUBLIC_KEY) | B(KYSO_F_KEY_ID) | B(KYSO_F_SIGNATURES) |
	  B(KYSO_F_INVENTORY_SEQ), 0, 0,
	  B(KYSO_F_CODE), 0, 0,
	  0, 0 },
};

static const struct op_schema *schema_of(uint16_t op)
{
	size_t i;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (ops[i].op == op)
			return &ops[i];
	return NULL;
}

const char *kyso_ipc_op_name(uint16_t op)
{
	const struct op_schema *s = schema_of(op);

	return s ? s->name : "?";
}

const char *kyso_ipc_field_name(enum kyso_field f)
{
	return f > 0 && f < KYSO_F_COUNT ? fields[f].name : "?";
}

/* ------------------------------------------------------------ integers */

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

/* ------------------------------------------------------------ decoding */

/* A string value: its NUL last and nowhere before, well-formed UTF-8. */
static int good_text(const unsigned char *p, uint32_t len)
{
	uint32_t i = 0, n;

	if (len == 0 || p[len - 1] != '\0')
		return 0;
	while (i < len - 1) {
		if (p[i] < 0x80) {
			if (!p[i])
				return 0;
			i++;
			continue;
		}
		n = (uint32_t)kyso_utf8_seq((const char *)p + i);
		if (!n)
			return 0;
		i += n;
	}
	return i == len - 1;
}

/* How many PINs a secret part of len bytes at p holds: NUL-separated,
 * none empty; -1 when one is. */
static int count_pins(const unsigned char *p, size_t len)
{
	size_t i, start = 0;
	int n = 0;

	if (!len)
		return 0;
	for (i = 0; i <= len; i++) {
		if (i < len && p[i])
			continue;
		if (i == start)
			return -1;
		n++;
		start = i + 1;
	}
	return n;
}

/* Checks the fields part (len bytes at p) of a message of this opcode and
 * flags against the schema, and that the secret part (secret_len bytes at
 * secret) holds as many PINs as the opcode takes; fills msg's fields when it
 * is not NULL. Returns 0 or -1. */
static int decode_fields(uint16_t op, uint16_t flags, const unsigned char *p, size_t len,
			 const unsigned char *secret, size_t secret_len, struct kyso_msg *msg)
{
	const struct op_schema *s = schema_of(op);
	uint32_t present = 0, need, vlen;
	size_t off = 0;
	unsigned int tag, type;
	int pins;

	if (!s)
		return -1;
	pins = count_pins(secret, secret_len);
	if (pins < 0 || (unsigned int)pins > s->pins_max ||
	    (!(flags & KYSO_IPC_F_ERROR) && (unsigned int)pins < s->pins_min))
		return -1;
	while (off < len) {
		if (len - off < FIELD_HDR)
			return -1;
		tag = p[off];
		type = p[off + 1];
		vlen = get_u32(p + off + 2);
		off += FIELD_HDR;
		if (vlen > len - off)
			return -1;
		if (tag == 0 || tag >= KYSO_F_COUNT || !(s->allowed & B(tag))) {
			if (!s->lenient)
				return -1;
			off += vlen;
			continue;
		}
		if ((present & B(tag)) || type != fields[tag].type || vlen > fields[tag].max)
			return -1;
		switch (type) {
		case T_U32:
			if (vlen != 4)
				return -1;
			break;
		case T_BOOL:
			if (vlen != 1 || p[off] > 1)
				return -1;
			break;
		case T_STR:
		case T_JSON:
			if (!good_text(p + off, vlen))
				return -1;
			break;
		}
		present |= B(tag);
		if (msg) {
			msg->f[tag].p = p + off;
			msg->f[tag].len = type == T_STR || type == T_JSON ? vlen - 1 : vlen;
		}
		off += vlen;
	}
	need = s->required | (flags & KYSO_IPC_F_ERROR ? s->required_err : s->required_ok);
	if ((present & need) != need)
		return -1;
	if (msg)
		msg->present = present;
	return 0;
}

/* ------------------------------------------------------------ building */

void kyso_out_init(struct kyso_out *o)
{
	o->buf = o->small;
	o->cap = sizeof(o->small);
	o->len = HDR_LEN;		/* the frame header goes first */
	o->failed = 0;
}

void kyso_out_free(struct kyso_out *o)
{
	/* a SIGN carries the hash, a reply the signature: wiped like the rest */
	OPENSSL_cleanse(o->buf, o->len);
	if (o->buf != o->small)
		free(o->buf);
	o->buf = o->small;
	o->len = HDR_LEN;
}

static unsigned char *out_room(struct kyso_out *o, size_t more)
{
	unsigned char *grown;
	size_t cap;

	if (o->failed)
		return NULL;
	if (more > KYSO_IPC_MAX_FRAME || o->len + more > KYSO_IPC_MAX_FRAME + HDR_LEN) {
		o->failed = 1;
		return NULL;
	}
	if (o->len + more > o->cap) {
		for (cap = o->cap * 2; cap < o->len + more; cap *= 2)
			;
		grown = malloc(cap);
		if (!grown) {
			o->failed = 1;
			return NULL;
		}
		memcpy(grown, o->buf, o->len);
		if (o->buf != o->small)
			free(o->buf);
		else
			OPENSSL_cleanse(o->small, sizeof(o->small));
		o->buf = grown;
		o->cap = cap;
	}
	return o->buf + o->len;
}

static void out_field(struct kyso_out *o, enum kyso_field f, enum field_type type,
		      const void *v, size_t len, int nul)
{
	unsigned char *p = out_room(o, FIELD_HDR + len + (nul ? 1 : 0));

	if (!p)
		return;
	p[0] = (unsigned char)f;
	p[1] = (unsigned char)type;
	put_u32(p + 2, (uint32_t)(len + (nul ? 1 : 0)));
	if (len)
		memcpy(p + FIELD_HDR, v, len);
	if (nul)
		p[FIELD_HDR + len] = '\0';
	o->len += FIELD_HDR + len + (nul ? 1 : 0);
}

void kyso_out_u32(struct kyso_out *o, enum kyso_field f, uint32_t v)
{
	unsigned char b[4];

	put_u32(b, v);
	out_field(o, f, T_U32, b, 4, 0);
}

void kyso_out_bool(struct kyso_out *o, enum kyso_field f, int v)
{
	unsigned char b = v ? 1 : 0;

	out_field(o, f, T_BOOL, &b, 1, 0);
}

void kyso_out_bytes(struct kyso_out *o, enum kyso_field f, const void *p, size_t len)
{
	out_field(o, f, T_BYTES, p, len, 0);
}

void kyso_out_str(struct kyso_out *o, enum kyso_field f, const char *s)
{
	out_field(o, f, T_STR, s, strlen(s), 1);
}

void kyso_out_json(struct kyso_out *o, enum kyso_field f, const json_t *j)
{
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;

	if (!text) {
		o->failed = 1;
		return;
	}
	out_field(o, f, T_JSON, text, strlen(text), 1);
	free(text);
}

void kyso_out_copy(struct kyso_out *o, const struct kyso_msg *m)
{
	unsigned int f;

	for (f = 1; f < KYSO_F_COUNT; f++)
		if (m->present & B(f))
			out_field(o, (enum kyso_field)f, fields[f].type, m->f[f].p, m->f[f].len,
				  fields[f].type == T_STR || fields[f].type == T_JSON);
}

/* ------------------------------------------------------------ the wire */

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

/* Writes a frame; pass_fd (>= 0) goes with its first bytes. */
static int write_frame(int fd, const unsigned char *buf, size_t len, int pass_fd)
{
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = { (void *)buf, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;
	ssize_t n;

	if (pass_fd < 0)
		return write_all(fd, buf, len);
	memset(&ctl, 0, sizeof(ctl));
	mh.msg_control = ctl.space;
	mh.msg_controllen = sizeof(ctl.space);
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
	do
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	return write_all(fd, buf + n, len - (size_t)n);
}

static int send_frame(int fd, uint32_t id, uint16_t op, uint16_t flags, struct kyso_out *out,
		      const unsigned char *secret, size_t secret_len, int pass_fd)
{
	const struct op_schema *s = schema_of(op);
	unsigned char hdr[HDR_LEN], *frame = NULL, *head;
	size_t fields_len = out ? out->len - HDR_LEN : 0, total;
	int ret = -1;

	if (!s || (pass_fd >= 0) != s->passes_fd || (out && out->failed) ||
	    secret_len > KYSO_IPC_MAX_SECRET ||
	    fields_len > KYSO_IPC_MAX_FRAME - (HDR_LEN - 4) - secret_len ||
	    decode_fields(op, flags, out ? out->buf + HDR_LEN : NULL, fields_len, secret, secret_len,
			  NULL))
		return -1;
	total = HDR_LEN + fields_len + secret_len;
	head = out ? out->buf : hdr;
	put_u32(head, (uint32_t)(total - 4));
	put_u32(head + 4, id);
	put_u16(head + 8, op);
	put_u16(head + 10, flags);
	put_u32(head + 12, (uint32_t)fields_len);
	if (!secret_len)
		return write_frame(fd, head, HDR_LEN + fields_len, pass_fd);
	/* a frame that carries a PIN lives in locked memory, written in one go */
	frame = kyso_secret_alloc(total);
	if (!frame)
		return -1;
	memcpy(frame, head, HDR_LEN + fields_len);
	memcpy(frame + HDR_LEN + fields_len, secret, secret_len);
	ret = write_frame(fd, frame, total, pass_fd);
	kyso_secret_free(frame, total);
	return ret;
}

int kyso_ipc_send(int fd, uint32_t id, uint16_t op, uint16_t flags, struct kyso_out *out,
		  const unsigned char *secret, size_t secret_len)
{
	return send_frame(fd, id, op, flags, out, secret, secret_len, -1);
}

int kyso_ipc_send_fd(int fd, uint32_t id, uint16_t op, uint16_t flags, struct kyso_out *out,
		     int pass_fd)
{
	return pass_fd < 0 ? -1 : send_frame(fd, id, op, flags, out, NULL, 0, pass_fd);
}

/* Reads a frame's header with recvmsg, so that a descriptor passed with it
 * is received (not dropped by the kernel): *got is set to it, or -1. More
 * than one descriptor, or a truncated control part, is -2 (those received
 * are closed). Returns 0, -1 (end, error) or -2. */
static int read_head(int fd, unsigned char *hdr, int *got)
{
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(2 * sizeof(int))];
	} ctl;
	size_t off = 0, i, nfd;
	struct cmsghdr *c;
	int bad = 0, fds[2];
	ssize_t n;

	*got = -1;
	while (off < HDR_LEN) {
		struct iovec iov = { hdr + off, HDR_LEN - off };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.space,
				     .msg_controllen = sizeof(ctl.space) };

		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
		if (mh.msg_flags & MSG_CTRUNC)
			bad = 1;
		for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
				continue;
			nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			memcpy(fds, CMSG_DATA(c), nfd * sizeof(int));
			for (i = 0; i < nfd; i++) {
				if (*got < 0 && !bad) {
					*got = fds[i];
					continue;
				}
				close(fds[i]);
				bad = 1;
			}
		}
	}
	if (off == HDR_LEN && !bad)
		return 0;
	if (*got >= 0)
		close(*got);
	*got = -1;
	return off == HDR_LEN ? -2 : -1;
}

int kyso_ipc_recv(int fd, struct kyso_msg *msg)
{
	const struct op_schema *s;
	unsigned char hdr[HDR_LEN];
	size_t body_len, fields_len;
	int ret = -1, passed;

	memset(msg, 0, sizeof(*msg));
	ret = read_head(fd, hdr, &passed);
	if (ret)
		return ret;
	msg->fd = passed;
	msg->has_fd = passed >= 0;
	ret = -2;
	body_len = get_u32(hdr);
	fields_len = get_u32(hdr + 12);
	if (body_len < HDR_LEN - 4 || body_len > KYSO_IPC_MAX_FRAME)
		goto out;
	body_len -= HDR_LEN - 4;
	if (fields_len > body_len || body_len - fields_len > KYSO_IPC_MAX_SECRET)
		goto out;
	msg->id = get_u32(hdr + 4);
	msg->op = get_u16(hdr + 8);
	msg->flags = get_u16(hdr + 10);
	/* a descriptor comes with the opcode that passes one, and only then */
	s = schema_of(msg->op);
	if (s && s->passes_fd != msg->has_fd)
		goto out;
	msg->secret_len = body_len - fields_len;
	msg->body_secure = msg->secret_len > 0;
	msg->body_size = body_len + 1;	/* a NUL after the secret */
	msg->body = msg->body_secure ? kyso_secret_alloc(msg->body_size) : malloc(msg->body_size);
	if (!msg->body) {
		ret = -1;
		goto out;
	}
	if (read_all(fd, msg->body, body_len)) {
		ret = -1;
		goto out;
	}
	msg->body[body_len] = '\0';
	if (decode_fields(msg->op, msg->flags, msg->body, fields_len, msg->body + fields_len,
			  msg->secret_len, msg))
		goto out;
	if (msg->secret_len)
		msg->secret = msg->body + fields_len;
	ret = 0;
out:
	if (ret)
		kyso_msg_clear(msg);
	return ret;
}

int kyso_msg_take_fd(struct kyso_msg *msg)
{
	int fd = msg->has_fd ? msg->fd : -1;

	msg->has_fd = 0;
	msg->fd = -1;
	return fd;
}

void kyso_msg_clear(struct kyso_msg *msg)
{
	if (msg->has_fd)
		close(msg->fd);
	if (msg->body && msg->body_secure) {
		kyso_secret_free(msg->body, msg->body_size);
	} else if (msg->body) {
		OPENSSL_cleanse(msg->body, msg->body_size);
		free(msg->body);
	}
	memset(msg, 0, sizeof(*msg));
}

size_t kyso_msg_pins(const struct kyso_msg *m, const char **pins, size_t max)
{
	const char *p = (const char *)m->secret;
	size_t n = 0;

	if (!p)
		return 0;
	/* the schema checked the shape: NUL-separated, none empty */
	while (n < max && p < (const char *)m->secret + m->secret_len) {
		pins[n++] = p;
		p += strlen(p) + 1;
	}
	return n;
}

int kyso_ipc_pins_join(const char *const *pins, size_t n, unsigned char **out, size_t *len)
{
	size_t i, total = 0, l;
	unsigned char *buf;

	*out = NULL;
	*len = 0;
	if (n == 0 || n > KYSO_IPC_MAX_PINS)
		return -1;
	for (i = 0; i < n; i++) {
		l = pins[i] ? strlen(pins[i]) : 0;
		if (!l || l > KYSO_IPC_MAX_SECRET)
			return -1;
		total += l + (i ? 1 : 0);
	}
	if (total > KYSO_IPC_MAX_SECRET)
		return -1;
	buf = kyso_secret_alloc(total + 1);
	if (!buf)
		return -1;
	for (i = 0, l = 0; i < n; i++) {
		if (i)
			buf[l++] = '\0';
		memcpy(buf + l, pins[i], strlen(pins[i]));
		l += strlen(pins[i]);
	}
	buf[l] = '\0';
	*out = buf;
	*len = total;
	return 0;
}

/* ------------------------------------------------------------ reading fields */

static int has(const struct kyso_msg *m, enum kyso_field f)
{
	return f > 0 && f < KYSO_F_COUNT && (m->present & B(f));
}

const char *kyso_msg_str(const struct kyso_msg *m, enum kyso_field f)
{
	return has(m, f) && (fields[f].type == T_STR || fields[f].type == T_JSON) ?
	       (const char *)m->f[f].p : NULL;
}

const unsigned char *kyso_msg_bytes(const struct kyso_msg *m, enum kyso_field f, size_t *len)
{
	if (!has(m, f))
		return NULL;
	*len = m->f[f].len;
	return m->f[f].p;
}

int kyso_msg_bool(const struct kyso_msg *m, enum kyso_field f)
{
	return has(m, f) && fields[f].type == T_BOOL && m->f[f].p[0] == 1;
}

int kyso_msg_u32(const struct kyso_msg *m, enum kyso_field f, uint32_t *v)
{
	if (!has(m, f) || fields[f].type != T_U32)
		return -1;
	*v = get_u32(m->f[f].p);
	return 0;
}

json_t *kyso_msg_json(const struct kyso_msg *m, enum kyso_field f)
{
	if (!has(m, f) || fields[f].type != T_JSON)
		return NULL;
	return json_loadb((const char *)m->f[f].p, m->f[f].len, JSON_REJECT_DUPLICATES, NULL);
}
