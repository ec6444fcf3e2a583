/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The kysod <-> kyso-p11 protocol (src/common/ipc.c): typed messages round
 * trip over a socketpair; frames written by hand that break the framing or
 * the schema are refused, and the stream goes on after a refused frame that
 * was framed correctly. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/ipc.h"
#include "common/secure.h"

#define TOKEN "0123456789abcdef0123456789abcdef"

struct pair {
	int fd[2];
};

static int pair_setup(void **state)
{
	struct pair *p = malloc(sizeof(*p));

	if (!p || socketpair(AF_UNIX, SOCK_STREAM, 0, p->fd)) {
		free(p);
		return -1;
	}
	*state = p;
	return 0;
}

static int pair_teardown(void **state)
{
	struct pair *p = *state;

	if (p->fd[0] >= 0)
		close(p->fd[0]);
	if (p->fd[1] >= 0)
		close(p->fd[1]);
	free(p);
	return 0;
}

static void put_u32(unsigned char *b, uint32_t v)
{
	b[0] = v & 0xff;
	b[1] = (v >> 8) & 0xff;
	b[2] = (v >> 16) & 0xff;
	b[3] = (v >> 24) & 0xff;
}

/* Writes a raw frame: header fields as given, then len bytes of body. */
static void write_raw(int fd, uint32_t length, uint32_t id, uint16_t op, uint16_t flags,
		      uint32_t fields_len, const void *body, size_t len)
{
	unsigned char hdr[16];

	put_u32(hdr, length);
	put_u32(hdr + 4, id);
	hdr[8] = op & 0xff;
	hdr[9] = op >> 8;
	hdr[10] = flags & 0xff;
	hdr[11] = flags >> 8;
	put_u32(hdr + 12, fields_len);
	assert_int_equal(write(fd, hdr, sizeof(hdr)), (ssize_t)sizeof(hdr));
	if (len)
		assert_int_equal(write(fd, body, len), (ssize_t)len);
}

/* A raw field: tag, type, length, value. Returns the bytes written to out. */
static size_t raw_field(unsigned char *out, unsigned tag, unsigned type, const void *v, size_t len)
{
	out[0] = (unsigned char)tag;
	out[1] = (unsigned char)type;
	put_u32(out + 2, (uint32_t)len);
	memcpy(out + 6, v, len);
	return 6 + len;
}

/* A frame of op with these fields, framed correctly. */
static void write_fields(int fd, uint16_t op, uint16_t flags, const unsigned char *fields,
			 size_t len)
{
	write_raw(fd, (uint32_t)(12 + len), 7, op, flags, (uint32_t)len, fields, len);
}

static void expect_recv(int fd, int want)
{
	struct kyso_msg msg;

	memset(&msg, 0x5a, sizeof(msg));
	assert_int_equal(kyso_ipc_recv(fd, &msg), want);
	/* a failed receive leaves nothing to free */
	assert_null(msg.body);
	assert_null(msg.secret);
	assert_int_equal(msg.secret_len, 0);
	assert_int_equal(msg.present, 0);
	kyso_msg_clear(&msg);
}

/* Whether fd has nothing to read right now. */
static int nothing_pending(int fd)
{
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);

	return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

/* A SIGN request as kysod builds it. */
static void sign_request(struct kyso_out *o, const unsigned char *hash, size_t len)
{
	kyso_out_init(o);
	kyso_out_str(o, KYSO_F_TOKEN, TOKEN);
	kyso_out_str(o, KYSO_F_KEY_ID, "0a0b");
	kyso_out_u32(o, KYSO_F_MECH, KYSO_MECH_ECDSA);
	kyso_out_u32(o, KYSO_F_HASH_BITS, 256);
	kyso_out_bytes(o, KYSO_F_HASH, hash, len);
}

static void test_sign_round_trip(void **state)
{
	struct pair *p = *state;
	unsigned char hash[32];
	const unsigned char *got;
	const unsigned char pin[] = "123456";
	struct kyso_out o;
	struct kyso_msg msg;
	uint32_t v = 0;
	size_t n = 0, i;

	for (i = 0; i < sizeof(hash); i++)
		hash[i] = (unsigned char)i;	/* a NUL byte first */
	sign_request(&o, hash, sizeof(hash));
	kyso_out_bool(&o, KYSO_F_KEEP_LOGIN, 1);
	assert_int_equal(kyso_ipc_send(p->fd[0], 0xdeadbeef, KYSO_OP_SIGN, 0, &o, pin, 6), 0);
	kyso_out_free(&o);
	assert_int_equal(kyso_ipc_recv(p->fd[1], &msg), 0);
	assert_int_equal(msg.id, 0xdeadbeef);
	assert_int_equal(msg.op, KYSO_OP_SIGN);
	assert_int_equal(msg.flags, 0);
	assert_string_equal(kyso_msg_str(&msg, KYSO_F_TOKEN), TOKEN);
	assert_string_equal(kyso_msg_str(&msg, KYSO_F_KEY_ID), "0a0b");
	assert_int_equal(kyso_msg_u32(&msg, KYSO_F_MECH, &v), 0);
	assert_int_equal(v, KYSO_MECH_ECDSA);
	assert_int_equal(kyso_msg_u32(&msg, KYSO_F_HASH_BITS, &v), 0);
	assert_int_equal(v, 256);
	got = kyso_msg_bytes(&msg, KYSO_F_HASH, &n);
	assert_non_null(got);
	assert_int_equal(n, sizeof(hash));
	assert_memory_equal(got, hash, sizeof(hash));
	assert_true(kyso_msg_bool(&msg, KYSO_F_KEEP_LOGIN));
	/* absent fields read as absent */
	assert_false(kyso_msg_bool(&msg, KYSO_F_PINPAD));
	assert_null(kyso_msg_str(&msg, KYSO_F_CODE));
	assert_int_equal(kyso_msg_u32(&msg, KYSO_F_LOGGED_OUT, &v), -1);
	/* the PIN is the secret part, NUL-terminated, not a field */
	assert_int_equal(msg.secret_len, 6);
	assert_memory_equal(msg.secret, pin, 7);
	assert_true(msg.body_secure);
	kyso_msg_clear(&msg);
	assert_null(msg.body);
	assert_null(msg.secret);
	assert_true(nothing_pending(p->fd[1]));
}

static void test_replies(void **state)
{
	struct pair *p = *state;
	unsigned char sig[1024];
	struct kyso_out o;
	struct kyso_msg msg;
	size_t n = 0;

	memset(sig, 0, sizeof(sig));
	kyso_out_init(&o);
	kyso_out_bytes(&o, KYSO_F_SIGNATURE, sig, sizeof(sig));
	assert_int_equal(kyso_ipc_send(p->fd[0], 1, KYSO_OP_REPLY, 0, &o, NULL, 0), 0);
	kyso_out_free(&o);
	kyso_out_init(&o);
	kyso_out_str(&o, KYSO_F_CODE, "pin_incorrect");
	kyso_out_str(&o, KYSO_F_MESSAGE, "the PIN is incorrect — try again");
	kyso_out_str(&o, KYSO_F_PIN_STATE, "final_try");
	kyso_out_bool(&o, KYSO_F_PER_SIGNATURE, 1);
	assert_int_equal(kyso_ipc_send(p->fd[0], 2, KYSO_OP_REPLY, KYSO_IPC_F_ERROR, &o, NULL, 0), 0);
	kyso_out_free(&o);
	/* an empty reply: no fields at all */
	assert_int_equal(kyso_ipc_send(p->fd[0], 3, KYSO_OP_REPLY, 0, NULL, NULL, 0), 0);

	assert_int_equal(kyso_ipc_recv(p->fd[1], &msg), 0);
	assert_int_equal(msg.id, 1);
	assert_non_null(kyso_msg_bytes(&msg, KYSO_F_SIGNATURE, &n));
	assert_int_equal(n, sizeof(sig));
	assert_false(msg.body_secure);
	kyso_msg_clear(&msg);
	assert_int_equal(kyso_ipc_recv(p->fd[1], &msg), 0);
	assert_int_equal(msg.flags, KYSO_IPC_F_ERROR);
	assert_string_equal(kyso_msg_str(&msg, KYSO_F_CODE), "pin_incorrect");
	assert_string_equal(kyso_msg_str(&msg, KYSO_F_MESSAGE), "the PIN is incorrect — try again");
	assert_string_equal(kyso_msg_str(&msg, KYSO_F_PIN_STATE), "final_try");
	assert_true(kyso_msg_bool(&msg, KYSO_F_PER_SIGNATURE));
	kyso_msg_clear(&msg);
	assert_int_equal(kyso_ipc_recv(p->fd[1], &msg), 0);
	assert_int_equal(msg.id, 3);
	assert_int_equal(msg.present, 0);
	kyso_msg_clear(&msg);
}

struct sender {
	int fd;
	struct kyso_out *out;
	int ret;
};

static void *send_thread(void *arg)
{
	struct sender *s = arg;

	s->ret = kyso_ipc_send(s->fd, 99, KYSO_OP_HELLO, 0, s->out, NULL, 0);
	return NULL;
}

/* A HELLO whose inventory is a JSON text of (about) n bytes. */
static json_t *inventory_of_size(size_t n)
{
	char *x = malloc(n + 1);
	json_t *j;

	assert_non_null(x);
	memset(x, 'x', n);
	x[n] = '\0';
	j = json_pack("{s:[{s:s}]}", "tokens", "label", x);
	free(x);
	assert_non_null(j);
	return j;
}

static void test_big_hello(void **state)
{
	struct pair *p = *state;
	json_t *inv = inventory_of_size(1 << 20), *back;
	struct kyso_out o;
	struct kyso_msg msg;
	struct sender s;
	uint32_t v = 0;
	pthread_t t;

	kyso_out_init(&o);
	kyso_out_u32(&o, KYSO_F_PROTOCOL, KYSO_IPC_PROTOCOL);
	kyso_out_json(&o, KYSO_F_INVENTORY, inv);
	s.fd = p->fd[0];
	s.out = &o;
	s.ret = -2;
	/* more than a socket buffer: the writer blocks until the reader drains it */
	assert_int_equal(pthread_create(&t, NULL, send_thread, &s), 0);
	assert_int_equal(kyso_ipc_recv(p->fd[1], &msg), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(s.ret, 0);
	assert_int_equal(msg.op, KYSO_OP_HELLO);
	assert_int_equal(kyso_msg_u32(&msg, KYSO_F_PROTOCOL, &v), 0);
	assert_int_equal(v, KYSO_IPC_PROTOCOL);
	back = kyso_msg_json(&msg, KYSO_F_INVENTORY);
	assert_non_null(back);
	assert_true(json_equal(back, inv));
	json_decref(back);
	kyso_msg_clear(&msg);
	kyso_out_free(&o);
	json_decref(inv);
}

static void test_send_refusals(void **state)
{
	struct pair *p = *state;
	unsigned char secret[KYSO_IPC_MAX_SECRET + 1], hash[32] = { 0 };
	json_t *inv = inventory_of_size(KYSO_IPC_MAX_FRAME);
	struct kyso_out o;

	memset(secret, '7', sizeof(secret));
	sign_request(&o, hash, sizeof(hash));
	/* a secret over the limit */
	assert_int_equal(kyso_ipc_send(p->fd[0], 3, KYSO_OP_SIGN, 0, &o, secret,
				       sizeof(secret)), -1);
	/* a secret where the schema has none */
	assert_int_equal(kyso_ipc_send(p->fd[0], 3, KYSO_OP_REPLY, 0, NULL, secret, 4), -1);
	/* a field the message does not take */
	kyso_out_u32(&o, KYSO_F_LOGGED_OUT, 1);
	assert_int_equal(kyso_ipc_send(p->fd[0], 3, KYSO_OP_SIGN, 0, &o, NULL, 0), -1);
	kyso_out_free(&o);
	/* a required field missing */
	kyso_out_init(&o);
	kyso_out_str(&o, KYSO_F_TOKEN, TOKEN);
	assert_int_equal(kyso_ipc_send(p->fd[0], 3, KYSO_OP_SIGN, 0, &o, NULL, 0), -1);
	/* an error reply without its code */
	assert_int_equal(kyso_ipc_send(p->fd[0], 3, KYSO_OP_REPLY, KYSO_IPC_F_ERROR, NULL, NULL, 0),
			 -1);
	/* a HELLO without its protocol */
	assert_int_equal(kyso_ipc_send(p->fd[0], 3, KYSO_OP_HELLO, KYSO_IPC_F_ERROR, NULL, NULL, 0),
			 -1);
	/* an opcode the protocol does not have */
	assert_int_equal(kyso_ipc_send(p->fd[0], 3, 0x7f, 0, NULL, NULL, 0), -1);
	kyso_out_free(&o);
	/* a string longer than its field takes, and a frame over the limit */
	kyso_out_init(&o);
	kyso_out_str(&o, KYSO_F_TOKEN, "0123456789abcdef0123456789abcdef0123456789abcdef"
		     "0123456789abcdef");
	assert_int_equal(kyso_ipc_send(p->fd[0], 3, KYSO_OP_LOGIN, 0, &o, NULL, 0), -1);
	kyso_out_free(&o);
	kyso_out_init(&o);
	kyso_out_json(&o, KYSO_F_INVENTORY, inv);
	assert_int_equal(kyso_ipc_send(p->fd[0], 3, KYSO_OP_INVENTORY, 0, &o, NULL, 0), -1);
	kyso_out_free(&o);
	json_decref(inv);
	/* nothing at all was written */
	assert_true(nothing_pending(p->fd[1]));
}

static void test_send_to_closed_peer(void **state)
{
	struct pair *p = *state;

	signal(SIGPIPE, SIG_IGN);
	close(p->fd[1]);
	p->fd[1] = -1;
	assert_int_equal(kyso_ipc_send(p->fd[0], 1, KYSO_OP_RESCAN, 0, NULL, NULL, 0), -1);
}

static void test_framing_errors(void **state)
{
	struct pair *p = *state;
	unsigned char body[64] = { 0 };

	/* a frame length below the header's rest */
	write_raw(p->fd[0], 11, 1, KYSO_OP_RESCAN, 0, 0, NULL, 0);
	expect_recv(p->fd[1], -2);
	close(p->fd[0]);
	close(p->fd[1]);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, p->fd), 0);
	/* over the frame limit */
	write_raw(p->fd[0], KYSO_IPC_MAX_FRAME + 1, 1, KYSO_OP_RESCAN, 0, 0, NULL, 0);
	expect_recv(p->fd[1], -2);
	close(p->fd[0]);
	close(p->fd[1]);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, p->fd), 0);
	/* the fields part longer than the body */
	write_raw(p->fd[0], 12 + 4, 1, KYSO_OP_RESCAN, 0, 5, body, 4);
	expect_recv(p->fd[1], -2);
	close(p->fd[0]);
	close(p->fd[1]);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, p->fd), 0);
	/* a secret part over the limit */
	write_raw(p->fd[0], 12 + KYSO_IPC_MAX_SECRET + 1, 1, KYSO_OP_SIGN, 0, 0, NULL, 0);
	expect_recv(p->fd[1], -2);
	close(p->fd[0]);
	close(p->fd[1]);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, p->fd), 0);
	/* a body cut short, then the end */
	write_raw(p->fd[0], 12 + 20, 1, KYSO_OP_RESCAN, 0, 20, body, 10);
	close(p->fd[0]);
	p->fd[0] = -1;
	expect_recv(p->fd[1], -1);
}

static void test_truncated_header_and_eof(void **state)
{
	struct pair *p = *state;

	assert_int_equal(write(p->fd[0], "\x10\x00\x00", 3), 3);
	close(p->fd[0]);
	p->fd[0] = -1;
	expect_recv(p->fd[1], -1);
	expect_recv(p->fd[1], -1);
	expect_recv(-1, -1);
}

/* Each frame below is framed correctly but breaks the schema: refused (-2),
 * and the frame after it is read. */
static void test_schema_refusals(void **state)
{
	struct pair *p = *state;
	unsigned char f[512] = { 0 }, one = 1, two = 2, u[4] = { 2, 0, 0, 0 };
	struct kyso_msg msg;
	size_t n;

#define REFUSED(op, flags)					\
	do {							\
		write_fields(p->fd[0], op, flags, f, n);	\
		kyso_ipc_send(p->fd[0], 5, KYSO_OP_RESCAN, 0, NULL, NULL, 0); \
		expect_recv(p->fd[1], -2);			\
		assert_int_equal(kyso_ipc_recv(p->fd[1], &msg), 0); \
		assert_int_equal(msg.id, 5);			\
		kyso_msg_clear(&msg);				\
	} while (0)

	/* an unknown opcode */
	n = 0;
	REFUSED(0x33, 0);
	/* a field the message does not take (a signature in a LOGIN) */
	n = raw_field(f, KYSO_F_TOKEN, 4, TOKEN, sizeof(TOKEN));
	n += raw_field(f + n, KYSO_F_SIGNATURE, 3, "ab", 2);
	REFUSED(KYSO_OP_LOGIN, 0);
	/* a tag past the schema */
	n = raw_field(f, KYSO_F_TOKEN, 4, TOKEN, sizeof(TOKEN));
	n += raw_field(f + n, KYSO_F_COUNT, 3, "ab", 2);
	REFUSED(KYSO_OP_LOGIN, 0);
	/* the same field twice */
	n = raw_field(f, KYSO_F_TOKEN, 4, TOKEN, sizeof(TOKEN));
	n += raw_field(f + n, KYSO_F_TOKEN, 4, TOKEN, sizeof(TOKEN));
	REFUSED(KYSO_OP_LOGIN, 0);
	/* the wrong type (the token as bytes) */
	n = raw_field(f, KYSO_F_TOKEN, 3, TOKEN, sizeof(TOKEN));
	REFUSED(KYSO_OP_LOGIN, 0);
	/* a string without its NUL, with a NUL inside, not UTF-8 */
	n = raw_field(f, KYSO_F_TOKEN, 4, TOKEN, sizeof(TOKEN) - 1);
	REFUSED(KYSO_OP_LOGIN, 0);
	n = raw_field(f, KYSO_F_TOKEN, 4, "ab\0cd", 6);
	REFUSED(KYSO_OP_LOGIN, 0);
	n = raw_field(f, KYSO_F_TOKEN, 4, "ab\xc0\xaf", 5);
	REFUSED(KYSO_OP_LOGIN, 0);
	/* a bool that is neither 0 nor 1; a u32 of 3 bytes */
	n = raw_field(f, KYSO_F_TOKEN, 4, TOKEN, sizeof(TOKEN));
	n += raw_field(f + n, KYSO_F_PINPAD, 2, &two, 1);
	REFUSED(KYSO_OP_LOGIN, 0);
	n = raw_field(f, KYSO_F_LOGGED_OUT, 1, u, 3);
	REFUSED(KYSO_OP_REPLY, 0);
	/* a field's length past the fields part */
	n = raw_field(f, KYSO_F_TOKEN, 4, TOKEN, sizeof(TOKEN));
	put_u32(f + 2, 200);
	REFUSED(KYSO_OP_LOGIN, 0);
	/* half a field header */
	n = 3;
	REFUSED(KYSO_OP_REPLY, 0);
	/* a required field missing; an error without its code */
	n = raw_field(f, KYSO_F_PINPAD, 2, &one, 1);
	REFUSED(KYSO_OP_LOGIN, 0);
	n = raw_field(f, KYSO_F_MESSAGE, 4, "no", 3);
	REFUSED(KYSO_OP_REPLY, KYSO_IPC_F_ERROR);
	/* a value longer than its field takes (a 65-byte hash) */
	n = raw_field(f, KYSO_F_HASH, 3, f + 300, 65);
	REFUSED(KYSO_OP_REPLY, 0);
	/* a secret on a message that takes none */
	write_raw(p->fd[0], 12 + 4, 1, KYSO_OP_RESCAN, 0, 0, "1234", 4);
	expect_recv(p->fd[1], -2);
#undef REFUSED
}

/* A HELLO names its protocol even with fields this version does not know:
 * they are skipped, so that kysod can say which version the helper speaks. */
static void test_hello_of_another_version(void **state)
{
	struct pair *p = *state;
	unsigned char f[128], v[4];
	struct kyso_msg msg;
	uint32_t version = 0;
	size_t n;

	put_u32(v, 3);
	n = raw_field(f, KYSO_F_PROTOCOL, 1, v, 4);
	n += raw_field(f + n, 200, 9, "future", 6);
	n += raw_field(f + n, KYSO_F_CODE, 4, "x", 2);
	write_fields(p->fd[0], KYSO_OP_HELLO, KYSO_IPC_F_ERROR, f, n);
	assert_int_equal(kyso_ipc_recv(p->fd[1], &msg), 0);
	assert_int_equal(kyso_msg_u32(&msg, KYSO_F_PROTOCOL, &version), 0);
	assert_int_equal(version, 3);
	kyso_msg_clear(&msg);
	/* but the protocol itself must be there */
	n = raw_field(f, KYSO_F_CODE, 4, "x", 2);
	write_fields(p->fd[0], KYSO_OP_HELLO, KYSO_IPC_F_ERROR, f, n);
	expect_recv(p->fd[1], -2);
	/* a JSON HELLO of protocol 1 is no HELLO of protocol 2 */
	write_fields(p->fd[0], KYSO_OP_HELLO, 0, (const unsigned char *)"{\"tokens\":[]}", 13);
	expect_recv(p->fd[1], -2);
}

/* Descriptors open in this process now. */
static int open_fds(void)
{
	int fd, n = 0;

	for (fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			n++;
	return n;
}

/* Writes buf with nfd descriptors attached (SCM_RIGHTS), as a peer that
 * does not go through kyso_ipc_send would. */
static void send_with_fds(int sock, const void *buf, size_t len, const int *fds, int nfd)
{
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(4 * sizeof(int))];
	} ctl;
	struct iovec iov = { (void *)buf, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.space,
			     .msg_controllen = CMSG_SPACE((size_t)nfd * sizeof(int)) };
	struct cmsghdr *c;

	memset(&ctl, 0, sizeof(ctl));
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN((size_t)nfd * sizeof(int));
	memcpy(CMSG_DATA(c), fds, (size_t)nfd * sizeof(int));
	assert_int_equal(sendmsg(sock, &mh, 0), (ssize_t)len);
}

/* A LANE frame: its token field, framed; returns its length. */
static size_t lane_frame(unsigned char *out)
{
	unsigned char f[64], zero[4] = { 0 };
	size_t n = raw_field(f, KYSO_F_TOKEN, 4, TOKEN, sizeof(TOKEN));

	n += raw_field(f + n, KYSO_F_WORKER, 1, zero, sizeof(zero));

	put_u32(out, (uint32_t)(12 + n));
	put_u32(out + 4, 0);
	out[8] = KYSO_OP_LANE;
	out[9] = 0;
	out[10] = out[11] = 0;
	put_u32(out + 12, (uint32_t)n);
	memcpy(out + 16, f, n);
	return 16 + n;
}

/* LANE passes a descriptor with its frame; the receiver owns it until taken. */
static void test_lane_passes_fd(void **state)
{
	struct pair *p = *state;
	struct kyso_msg msg;
	struct kyso_out o;
	int pipefd[2], got, before;
	uint32_t worker = 0;
	char c = 0;

	assert_int_equal(pipe(pipefd), 0);
	kyso_out_init(&o);
	kyso_out_str(&o, KYSO_F_TOKEN, TOKEN);
	kyso_out_u32(&o, KYSO_F_WORKER, 3);
	assert_int_equal(kyso_ipc_send_fd(p->fd[0], 0, KYSO_OP_LANE, 0, &o, pipefd[1]), 0);
	assert_int_equal(kyso_ipc_recv(p->fd[1], &msg), 0);
	assert_int_equal(msg.op, KYSO_OP_LANE);
	assert_string_equal(kyso_msg_str(&msg, KYSO_F_TOKEN), TOKEN);
	assert_int_equal(kyso_msg_u32(&msg, KYSO_F_WORKER, &worker), 0);
	assert_int_equal(worker, 3);
	got = kyso_msg_take_fd(&msg);
	assert_true(got >= 0 && got != pipefd[1]);
	/* the same pipe: what is written on the copy comes out of the other end */
	assert_int_equal(write(got, "L", 1), 1);
	assert_int_equal(read(pipefd[0], &c, 1), 1);
	assert_int_equal(c, 'L');
	/* taken: clearing the message leaves it open, and it is close-on-exec */
	kyso_msg_clear(&msg);
	assert_true(fcntl(got, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(kyso_msg_take_fd(&msg), -1);
	close(got);

	/* not taken: clearing the message closes it */
	before = open_fds();
	assert_int_equal(kyso_ipc_send_fd(p->fd[0], 0, KYSO_OP_LANE, 0, &o, pipefd[1]), 0);
	assert_int_equal(kyso_ipc_recv(p->fd[1], &msg), 0);
	assert_int_equal(open_fds(), before + 1);
	kyso_msg_clear(&msg);
	assert_int_equal(open_fds(), before);
	kyso_out_free(&o);
	close(pipefd[0]);
	close(pipefd[1]);
}

/* A new socketpair: after a refused frame the stream is out of step. */
static void renew(struct pair *p)
{
	close(p->fd[0]);
	close(p->fd[1]);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, p->fd), 0);
}

/* A descriptor comes with LANE and only with it: the sender refuses the
 * other cases; a receiver refuses them too and closes what came. */
static void test_lane_fd_refusals(void **state)
{
	struct pair *p = *state;
	unsigned char frame[128], rescan[16];
	struct kyso_out o;
	int pipefd[2], before;
	size_t n;

	assert_int_equal(pipe(pipefd), 0);
	kyso_out_init(&o);
	kyso_out_str(&o, KYSO_F_TOKEN, TOKEN);
	kyso_out_u32(&o, KYSO_F_WORKER, 0);
	/* sending: LANE without a descriptor, one with another opcode */
	assert_int_equal(kyso_ipc_send(p->fd[0], 0, KYSO_OP_LANE, 0, &o, NULL, 0), -1);
	assert_int_equal(kyso_ipc_send_fd(p->fd[0], 0, KYSO_OP_LANE, 0, &o, -1), -1);
	assert_int_equal(kyso_ipc_send_fd(p->fd[0], 1, KYSO_OP_RESCAN, 0, NULL, pipefd[1]), -1);
	kyso_out_free(&o);
	assert_true(nothing_pending(p->fd[1]));

	before = open_fds();
	/* a LANE frame without a descriptor */
	n = lane_frame(frame);
	assert_int_equal(write(p->fd[0], frame, n), (ssize_t)n);
	expect_recv(p->fd[1], -2);
	renew(p);
	/* a RESCAN with one */
	memcpy(rescan, frame, 16);
	put_u32(rescan, 12);
	rescan[8] = KYSO_OP_RESCAN;
	put_u32(rescan + 12, 0);
	send_with_fds(p->fd[0], rescan, sizeof(rescan), &pipefd[1], 1);
	expect_recv(p->fd[1], -2);
	assert_int_equal(open_fds(), before);
	renew(p);
	/* a LANE with two */
	send_with_fds(p->fd[0], frame, n, pipefd, 2);
	expect_recv(p->fd[1], -2);
	assert_int_equal(open_fds(), before);
	renew(p);
	/* one sent with the body, not the header: not the frame's (the kernel
	 * drops it), so the LANE has none */
	assert_int_equal(write(p->fd[0], frame, 16), 16);
	send_with_fds(p->fd[0], frame + 16, n - 16, &pipefd[1], 1);
	expect_recv(p->fd[1], -2);
	assert_int_equal(open_fds(), before);
	close(pipefd[0]);
	close(pipefd[1]);
}

/* SIGN_MANY carries several hashes and never a PIN; its answer carries the
 * signatures made, also with an error. */
/* A SIGN_MANY's fields: an ECDSA key, SHA-256 hashes (len bytes of them). */
static void sign_many_out(struct kyso_out *o, const unsigned char *hashes, size_t len)
{
	kyso_out_init(o);
	kyso_out_str(o, KYSO_F_TOKEN, TOKEN);
	kyso_out_str(o, KYSO_F_KEY_ID, "01");
	kyso_out_u32(o, KYSO_F_MECH, KYSO_MECH_ECDSA);
	kyso_out_u32(o, KYSO_F_HASH_BITS, 256);
	kyso_out_bytes(o, KYSO_F_HASHES, hashes, len);
}

static void test_sign_many(void **state)
{
	struct pair *p = *state;
	unsigned char hashes[3 * 32], sigs[2 * (2 + 70)];
	const unsigned char *got;
	struct kyso_out o;
	struct kyso_msg msg;
	size_t n = 0;

	memset(hashes, 0x5c, sizeof(hashes));
	memset(sigs, 0, sizeof(sigs));
	sign_many_out(&o, hashes, sizeof(hashes));
	/* no PIN goes with it */
	assert_int_equal(kyso_ipc_send(p->fd[0], 5, KYSO_OP_SIGN_MANY, 0, &o,
				       (const unsigned char *)"1234", 4), -1);
	assert_int_equal(kyso_ipc_send(p->fd[0], 5, KYSO_OP_SIGN_MANY, 0, &o, NULL, 0), 0);
	kyso_out_free(&o);
	assert_int_equal(kyso_ipc_recv(p->fd[1], &msg), 0);
	assert_int_equal(msg.op, KYSO_OP_SIGN_MANY);
	got = kyso_msg_bytes(&msg, KYSO_F_HASHES, &n);
	assert_int_equal(n, sizeof(hashes));
	assert_memory_equal(got, hashes, n);
	kyso_msg_clear(&msg);
	/* more hashes than KYSO_IPC_MAX_MANY of the largest size are refused */
	{
		unsigned char big[KYSO_IPC_MAX_MANY * 64 + 1] = { 0 };

		sign_many_out(&o, big, sizeof(big));
		assert_int_equal(kyso_ipc_send(p->fd[0], 6, KYSO_OP_SIGN_MANY, 0, &o, NULL, 0), -1);
		kyso_out_free(&o);
	}
	/* an error answer with the signatures made before it */
	kyso_out_init(&o);
	kyso_out_str(&o, KYSO_F_CODE, "token_removed");
	kyso_out_str(&o, KYSO_F_MESSAGE, "the token was removed");
	kyso_out_bytes(&o, KYSO_F_SIGNATURES, sigs, sizeof(sigs));
	assert_int_equal(kyso_ipc_send(p->fd[1], 5, KYSO_OP_REPLY, KYSO_IPC_F_ERROR, &o, NULL, 0), 0);
	kyso_out_free(&o);
	assert_int_equal(kyso_ipc_recv(p->fd[0], &msg), 0);
	assert_string_equal(kyso_msg_str(&msg, KYSO_F_CODE), "token_removed");
	got = kyso_msg_bytes(&msg, KYSO_F_SIGNATURES, &n);
	assert_non_null(got);
	assert_int_equal(n, sizeof(sigs));
	kyso_msg_clear(&msg);
	assert_true(nothing_pending(p->fd[0]));
	assert_true(nothing_pending(p->fd[1]));
}

static void test_names(void **state)
{
	assert_string_equal(kyso_ipc_op_name(KYSO_OP_SIGN), "SIGN");
	assert_string_equal(kyso_ipc_op_name(0x33), "?");
	assert_string_equal(kyso_ipc_field_name(KYSO_F_HASH), "hash");
	assert_string_equal(kyso_ipc_field_name(KYSO_F_COUNT), "?");
}

/* The provisioning opcodes' secret part: two PINs separated by a NUL, read
 * back as two strings; how many each opcode takes is the schema's. */
static void test_admin_pins(void **state)
{
	struct pair *p = *state;
	const char *const two[] = { "so-12345678", "u-123456" };
	const char *got[KYSO_IPC_MAX_PINS + 1];
	unsigned char *secret = NULL;
	size_t len = 0;
	struct kyso_out o;
	struct kyso_msg msg;

	assert_int_equal(kyso_ipc_pins_join(two, 2, &secret, &len), 0);
	assert_int_equal(len, strlen(two[0]) + 1 + strlen(two[1]));
	kyso_out_init(&o);
	kyso_out_str(&o, KYSO_F_TOKEN, TOKEN);
	assert_int_equal(kyso_ipc_send(p->fd[1], 3, KYSO_OP_INIT_PIN, 0, &o, secret, len), 0);
	assert_int_equal(kyso_ipc_recv(p->fd[0], &msg), 0);
	assert_int_equal(msg.op, KYSO_OP_INIT_PIN);
	assert_true(msg.body_secure);
	assert_int_equal(kyso_msg_pins(&msg, got, KYSO_IPC_MAX_PINS + 1), 2);
	assert_string_equal(got[0], two[0]);
	assert_string_equal(got[1], two[1]);
	kyso_msg_clear(&msg);

	/* one PIN where the opcode takes two, two where it takes one: refused
	 * by the sender, as the receiver would */
	assert_int_equal(kyso_ipc_send(p->fd[1], 4, KYSO_OP_INIT_PIN, 0, &o,
				       (const unsigned char *)"123456", 6), -1);
	assert_int_equal(kyso_ipc_send(p->fd[1], 5, KYSO_OP_LOGIN, 0, &o, secret, len), -1);
	/* an empty PIN: at the start, at the end, or two NULs in a row */
	assert_int_equal(kyso_ipc_send(p->fd[1], 6, KYSO_OP_INIT_PIN, 0, &o,
				       (const unsigned char *)"\0ab", 3), -1);
	assert_int_equal(kyso_ipc_send(p->fd[1], 7, KYSO_OP_INIT_PIN, 0, &o,
				       (const unsigned char *)"ab\0", 3), -1);
	assert_int_equal(kyso_ipc_send(p->fd[1], 8, KYSO_OP_SET_PIN, 0, &o,
				       (const unsigned char *)"a\0\0b", 4), -1);
	/* no secret at all where one is required */
	assert_int_equal(kyso_ipc_send(p->fd[1], 9, KYSO_OP_KEYGEN, 0, &o, NULL, 0), -1);
	kyso_out_free(&o);
	kyso_secret_free(secret, len + 1);

	/* the receiver refuses such a frame written by hand, too */
	{
		unsigned char body[128];
		size_t n = raw_field(body, KYSO_F_TOKEN, 4, TOKEN, sizeof(TOKEN));

		memcpy(body + n, "1234\0\0" "5678", 10);
		write_raw(p->fd[1], (uint32_t)(12 + n + 10), 1, KYSO_OP_SET_PIN, 0, (uint32_t)n,
			  body, n + 10);
		expect_recv(p->fd[0], -2);
	}

	/* joining refuses an empty PIN, too many, and too long together */
	{
		const char *const empty[] = { "1234", "" };
		const char *const three[] = { "1", "2", "3" };
		char big[200];
		const char *const long2[] = { big, big };

		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		assert_int_equal(kyso_ipc_pins_join(empty, 2, &secret, &len), -1);
		assert_int_equal(kyso_ipc_pins_join(three, 3, &secret, &len), -1);
		assert_int_equal(kyso_ipc_pins_join(long2, 2, &secret, &len), -1);
		assert_null(secret);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sign_round_trip, pair_setup, pair_teardown),
		cmocka_unit_test_setup_teardown(test_replies, pair_setup, pair_teardown),
		cmocka_unit_test_setup_teardown(test_big_hello, pair_setup, pair_teardown),
		cmocka_unit_test_setup_teardown(test_send_refusals, pair_setup, pair_teardown),
		cmocka_unit_test_setup_teardown(test_send_to_closed_peer, pair_setup, pair_teardown),
		cmocka_unit_test_setup_teardown(test_framing_errors, pair_setup, pair_teardown),
		cmocka_unit_test_setup_teardown(test_truncated_header_and_eof, pair_setup,
						pair_teardown),
		cmocka_unit_test_setup_teardown(test_schema_refusals, pair_setup, pair_teardown),
		cmocka_unit_test_setup_teardown(test_hello_of_another_version, pair_setup,
						pair_teardown),
		cmocka_unit_test_setup_teardown(test_admin_pins, pair_setup, pair_teardown),
		cmocka_unit_test_setup_teardown(test_lane_passes_fd, pair_setup, pair_teardown),
		cmocka_unit_test_setup_teardown(test_lane_fd_refusals, pair_setup, pair_teardown),
		cmocka_unit_test_setup_teardown(test_sign_many, pair_setup, pair_teardown),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
