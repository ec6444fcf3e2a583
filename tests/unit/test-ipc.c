/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Frames between kysod and kyso-p11 (src/common/ipc.c): round trips over a
 * socketpair, and malformed frames written by hand. */
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
		      uint32_t json_len, const void *body, size_t len)
{
	unsigned char hdr[16];

	put_u32(hdr, length);
	put_u32(hdr + 4, id);
	hdr[8] = op & 0xff;
	hdr[9] = op >> 8;
	hdr[10] = flags & 0xff;
	hdr[11] = flags >> 8;
	put_u32(hdr + 12, json_len);
	assert_int_equal(write(fd, hdr, sizeof(hdr)), (ssize_t)sizeof(hdr));
	if (len)
		assert_int_equal(write(fd, body, len), (ssize_t)len);
}

/* A well-formed raw frame: json text then secret bytes. */
static void write_frame(int fd, const char *json, const void *secret, size_t secret_len)
{
	size_t jl = strlen(json);
	unsigned char *body = malloc(jl + secret_len + 1);

	assert_non_null(body);
	memcpy(body, json, jl);
	if (secret_len)
		memcpy(body + jl, secret, secret_len);
	write_raw(fd, (uint32_t)(12 + jl + secret_len), 7, KYSO_OP_SIGN, 0, (uint32_t)jl, body,
		  jl + secret_len);
	free(body);
}

static void expect_recv_fails(int fd)
{
	struct kyso_msg msg;

	memset(&msg, 0x5a, sizeof(msg));
	assert_int_equal(kyso_ipc_recv(fd, &msg), -1);
	/* a failed receive leaves nothing to free */
	assert_null(msg.json);
	assert_null(msg.secret);
	assert_int_equal(msg.secret_len, 0);
	kyso_msg_clear(&msg);
}

/* Whether fd has nothing to read right now. */
static int nothing_pending(int fd)
{
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);

	return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

static void test_round_trip_no_secret(void **state)
{
	struct pair *p = *state;
	json_t *sent = json_pack("{s:s, s:i, s:[i,i,s], s:{s:b}, s:n}", "hash", "AAAA", "n", 42,
				 "list", 1, 2, "x", "obj", "flag", 1, "nothing");
	struct kyso_msg msg;

	assert_non_null(sent);
	assert_int_equal(kyso_ipc_send(p->fd[0], 0xdeadbeef, KYSO_OP_SIGN, KYSO_IPC_F_ERROR, sent,
				       NULL, 0), 0);
	assert_int_equal(kyso_ipc_recv(p->fd[1], &msg), 0);
	assert_int_equal(msg.id, 0xdeadbeef);
	assert_int_equal(msg.op, KYSO_OP_SIGN);
	assert_int_equal(msg.flags, KYSO_IPC_F_ERROR);
	assert_non_null(msg.json);
	assert_true(json_equal(msg.json, sent));
	assert_null(msg.secret);
	assert_int_equal(msg.secret_len, 0);
	kyso_msg_clear(&msg);
	assert_null(msg.json);
	json_decref(sent);
	assert_true(nothing_pending(p->fd[1]));
}

static void test_round_trip_secret(void **state)
{
	struct pair *p = *state;
	json_t *sent = json_pack("{s:s}", "token", "0123456789abcdef0123456789abcdef");
	const unsigned char pin[] = "123456";
	struct kyso_msg msg;

	assert_int_equal(kyso_ipc_send(p->fd[0], 1, KYSO_OP_SIGN, 0, sent, pin, 6), 0);
	assert_int_equal(kyso_ipc_recv(p->fd[1], &msg), 0);
	assert_int_equal(msg.id, 1);
	assert_true(json_equal(msg.json, sent));
	assert_int_equal(msg.secret_len, 6);
	assert_non_null(msg.secret);
	assert_memory_equal(msg.secret, pin, 6);
	assert_int_equal(msg.secret[6], '\0');
	/* the secret is not part of the JSON */
	assert_null(json_object_get(msg.json, "pin"));
	assert_int_equal(json_object_size(msg.json), 1);
	kyso_msg_clear(&msg);
	assert_null(msg.secret);
	assert_int_equal(msg.secret_len, 0);
	json_decref(sent);
}

static void test_binary_secret_max(void **state)
{
	struct pair *p = *state;
	unsigned char secret[KYSO_IPC_MAX_SECRET];
	struct kyso_msg msg;
	size_t i;

	for (i = 0; i < sizeof(secret); i++)
		secret[i] = (unsigned char)(255 - i);	/* NUL bytes included */
	assert_int_equal(kyso_ipc_send(p->fd[0], 2, KYSO_OP_LOGOUT, 0, NULL, secret,
				       sizeof(secret)), 0);
	assert_int_equal(kyso_ipc_recv(p->fd[1], &msg), 0);
	assert_int_equal(msg.op, KYSO_OP_LOGOUT);
	assert_true(json_is_object(msg.json));
	assert_int_equal(json_object_size(msg.json), 0);	/* NULL json is sent as {} */
	assert_int_equal(msg.secret_len, sizeof(secret));
	assert_memory_equal(msg.secret, secret, sizeof(secret));
	kyso_msg_clear(&msg);
}

static void test_send_secret_too_long(void **state)
{
	struct pair *p = *state;
	unsigned char secret[KYSO_IPC_MAX_SECRET + 1];

	memset(secret, '7', sizeof(secret));
	assert_int_equal(kyso_ipc_send(p->fd[0], 3, KYSO_OP_SIGN, 0, NULL, secret,
				       sizeof(secret)), -1);
	/* nothing at all was written */
	assert_true(nothing_pending(p->fd[1]));
}

static void test_several_frames_in_order(void **state)
{
	struct pair *p = *state;
	struct kyso_msg msg;
	uint32_t i;

	for (i = 0; i < 5; i++) {
		json_t *j = json_pack("{s:i}", "seq", (int)i);

		assert_int_equal(kyso_ipc_send(p->fd[0], i, KYSO_OP_REPLY, 0, j,
					       (const unsigned char *)"ab", i % 2 ? 2 : 0), 0);
		json_decref(j);
	}
	for (i = 0; i < 5; i++) {
		assert_int_equal(kyso_ipc_recv(p->fd[1], &msg), 0);
		assert_int_equal(msg.id, i);
		assert_int_equal(msg.op, KYSO_OP_REPLY);
		assert_int_equal(json_integer_value(json_object_get(msg.json, "seq")), i);
		assert_int_equal(msg.secret_len, i % 2 ? 2 : 0);
		kyso_msg_clear(&msg);
	}
}

struct sender {
	int fd;
	const json_t *json;
	int ret;
};

static void *send_thread(void *arg)
{
	struct sender *s = arg;

	s->ret = kyso_ipc_send(s->fd, 99, KYSO_OP_HELLO, 0, s->json, (const unsigned char *)"s", 1);
	return NULL;
}

static void test_big_frame(void **state)
{
	struct pair *p = *state;
	size_t len = 1 << 20, i;
	char *big = malloc(len + 1);
	struct sender s;
	struct kyso_msg msg;
	pthread_t t;

	assert_non_null(big);
	for (i = 0; i < len; i++)
		big[i] = (char)('a' + i % 26);
	big[len] = '\0';
	s.fd = p->fd[0];
	s.json = json_pack("{s:s, s:[s,s]}", "big", big, "more", "x", "y");
	s.ret = -2;
	assert_non_null(s.json);
	/* more than a socket buffer: the writer blocks until the reader drains it */
	assert_int_equal(pthread_create(&t, NULL, send_thread, &s), 0);
	assert_int_equal(kyso_ipc_recv(p->fd[1], &msg), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(s.ret, 0);
	assert_int_equal(msg.id, 99);
	assert_int_equal(msg.op, KYSO_OP_HELLO);
	assert_true(json_equal(msg.json, s.json));
	assert_int_equal(strlen(json_string_value(json_object_get(msg.json, "big"))), len);
	assert_int_equal(msg.secret_len, 1);
	assert_int_equal(msg.secret[0], 's');
	kyso_msg_clear(&msg);
	json_decref((json_t *)s.json);
	free(big);
}

/* {"b":"xxx..."} with n x's: n + 8 bytes of JSON. */
static json_t *json_of_size(size_t text_len)
{
	size_t n = text_len - 8;
	char *x = malloc(n + 1);
	json_t *j;

	assert_non_null(x);
	memset(x, 'x', n);
	x[n] = '\0';
	j = json_pack("{s:s}", "b", x);
	free(x);
	assert_non_null(j);
	return j;
}

static void test_frame_at_limit(void **state)
{
	struct pair *p = *state;
	struct sender s;
	struct kyso_msg msg;
	pthread_t t;

	/* length field = 12 + JSON + 1-byte secret = KYSO_IPC_MAX_FRAME exactly */
	s.fd = p->fd[0];
	s.json = json_of_size(KYSO_IPC_MAX_FRAME - 12 - 1);
	s.ret = -2;
	assert_int_equal(pthread_create(&t, NULL, send_thread, &s), 0);
	assert_int_equal(kyso_ipc_recv(p->fd[1], &msg), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(s.ret, 0);
	assert_true(json_equal(msg.json, s.json));
	assert_int_equal(msg.secret_len, 1);
	kyso_msg_clear(&msg);
	json_decref((json_t *)s.json);
}

static void test_send_frame_over_limit(void **state)
{
	struct pair *p = *state;
	json_t *j = json_of_size(KYSO_IPC_MAX_FRAME - 12);

	/* without a reader, a sender that writes would block: make it fail instead */
	assert_int_equal(fcntl(p->fd[0], F_SETFL, O_NONBLOCK), 0);
	/* one byte over with the secret: refused by the sender, nothing written */
	assert_int_equal(kyso_ipc_send(p->fd[0], 1, KYSO_OP_HELLO, 0, j,
				       (const unsigned char *)"s", 1), -1);
	assert_true(nothing_pending(p->fd[1]));
	json_decref(j);
	j = json_of_size(KYSO_IPC_MAX_FRAME + 100);
	assert_int_equal(kyso_ipc_send(p->fd[0], 1, KYSO_OP_HELLO, 0, j, NULL, 0), -1);
	assert_true(nothing_pending(p->fd[1]));
	json_decref(j);
}

static void test_send_to_closed_peer(void **state)
{
	struct pair *p = *state;
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);

	close(p->fd[1]);
	p->fd[1] = -1;
	assert_int_equal(kyso_ipc_send(p->fd[0], 1, KYSO_OP_RESCAN, 0, NULL, NULL, 0), -1);
	signal(SIGPIPE, old);
}

static void test_recv_eof(void **state)
{
	struct pair *p = *state;

	close(p->fd[0]);
	p->fd[0] = -1;
	expect_recv_fails(p->fd[1]);
}

static void test_recv_bad_fd(void **state)
{
	expect_recv_fails(-1);
}

static void test_truncated_header(void **state)
{
	struct pair *p = *state;
	const unsigned char part[7] = { 30, 0, 0, 0, 1, 0, 0 };

	assert_int_equal(write(p->fd[0], part, sizeof(part)), (ssize_t)sizeof(part));
	close(p->fd[0]);
	p->fd[0] = -1;
	expect_recv_fails(p->fd[1]);
}

static void test_truncated_body(void **state)
{
	struct pair *p = *state;
	const char *json = "{\"a\":\"0123456789012345678901234567890123456789\"}";

	/* announces the whole JSON, sends half of it, then EOF */
	write_raw(p->fd[0], (uint32_t)(12 + strlen(json)), 1, KYSO_OP_SIGN, 0,
		  (uint32_t)strlen(json), json, strlen(json) / 2);
	close(p->fd[0]);
	p->fd[0] = -1;
	expect_recv_fails(p->fd[1]);
}

static void test_length_too_big(void **state)
{
	struct pair *p = *state;

	write_raw(p->fd[0], KYSO_IPC_MAX_FRAME + 1, 1, KYSO_OP_SIGN, 0, 2, "{}", 2);
	expect_recv_fails(p->fd[1]);
}

static void test_length_huge(void **state)
{
	struct pair *p = *state;

	write_raw(p->fd[0], 0xffffffffu, 1, KYSO_OP_SIGN, 0, 0xfffffff0u, "{}", 2);
	expect_recv_fails(p->fd[1]);
}

static void test_length_below_header(void **state)
{
	struct pair *p = *state;
	uint32_t len;

	for (len = 0; len < 12; len++) {
		write_raw(p->fd[0], len, 1, KYSO_OP_SIGN, 0, 0, NULL, 0);
		expect_recv_fails(p->fd[1]);
	}
}

static void test_json_len_past_body(void **state)
{
	struct pair *p = *state;

	write_raw(p->fd[0], 12 + 2, 1, KYSO_OP_SIGN, 0, 3, "{}", 2);
	expect_recv_fails(p->fd[1]);
}

static void test_json_len_huge(void **state)
{
	struct pair *p = *state;

	write_raw(p->fd[0], 12 + 2, 1, KYSO_OP_SIGN, 0, 0xffffffffu, "{}", 2);
	expect_recv_fails(p->fd[1]);
}

static void test_secret_too_long(void **state)
{
	struct pair *p = *state;
	unsigned char secret[KYSO_IPC_MAX_SECRET + 1];

	memset(secret, 'p', sizeof(secret));
	write_frame(p->fd[0], "{}", secret, sizeof(secret));
	expect_recv_fails(p->fd[1]);
}

static void test_secret_at_limit_raw(void **state)
{
	struct pair *p = *state;
	unsigned char secret[KYSO_IPC_MAX_SECRET];
	struct kyso_msg msg;

	memset(secret, 'p', sizeof(secret));
	write_frame(p->fd[0], "{\"k\":1}", secret, sizeof(secret));
	assert_int_equal(kyso_ipc_recv(p->fd[1], &msg), 0);
	assert_int_equal(msg.secret_len, sizeof(secret));
	assert_memory_equal(msg.secret, secret, sizeof(secret));
	assert_int_equal(json_integer_value(json_object_get(msg.json, "k")), 1);
	kyso_msg_clear(&msg);
}

static void test_json_not_object(void **state)
{
	static const char *const texts[] = {
		"[]", "[1,2,3]", "\"text\"", "42", "null", "true",
	};
	struct pair *p = *state;
	size_t i;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		write_frame(p->fd[0], texts[i], "1234", 4);
		expect_recv_fails(p->fd[1]);
	}
}

static void test_json_invalid(void **state)
{
	static const char *const texts[] = {
		"",			/* no JSON part at all */
		"{",
		"{\"a\":}",
		"{\"a\":1,}",
		"{'a':1}",
		"{\"a\":1} trailing",
		"{\"a\":1,\"a\":2}",	/* duplicate keys */
		"{\"a\":\"\xff\"}",	/* not UTF-8 */
		"{\"a\":\"x\\u0000y\"}",	/* NUL in a string */
	};
	struct pair *p = *state;
	size_t i;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		write_frame(p->fd[0], texts[i], "9876", 4);
		expect_recv_fails(p->fd[1]);
	}
}

static void test_json_with_nul_byte(void **state)
{
	struct pair *p = *state;

	/* the JSON part ends with a NUL byte inside json_len */
	write_raw(p->fd[0], 12 + 3, 1, KYSO_OP_SIGN, 0, 3, "{}\0", 3);
	expect_recv_fails(p->fd[1]);
}

static void test_recovers_after_bad_json(void **state)
{
	struct pair *p = *state;
	struct kyso_msg msg;

	/* a frame with bad JSON is consumed whole: the next one reads fine */
	write_frame(p->fd[0], "[1]", "xy", 2);
	write_frame(p->fd[0], "{\"ok\":true}", NULL, 0);
	expect_recv_fails(p->fd[1]);
	assert_int_equal(kyso_ipc_recv(p->fd[1], &msg), 0);
	assert_true(json_is_true(json_object_get(msg.json, "ok")));
	assert_null(msg.secret);
	kyso_msg_clear(&msg);
}

#define PAIR_TEST(f) cmocka_unit_test_setup_teardown(f, pair_setup, pair_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		PAIR_TEST(test_round_trip_no_secret),
		PAIR_TEST(test_round_trip_secret),
		PAIR_TEST(test_binary_secret_max),
		PAIR_TEST(test_send_secret_too_long),
		PAIR_TEST(test_several_frames_in_order),
		PAIR_TEST(test_big_frame),
		PAIR_TEST(test_frame_at_limit),
		PAIR_TEST(test_send_frame_over_limit),
		PAIR_TEST(test_send_to_closed_peer),
		PAIR_TEST(test_recv_eof),
		PAIR_TEST(test_recv_bad_fd),
		PAIR_TEST(test_truncated_header),
		PAIR_TEST(test_truncated_body),
		PAIR_TEST(test_length_too_big),
		PAIR_TEST(test_length_huge),
		PAIR_TEST(test_length_below_header),
		PAIR_TEST(test_json_len_past_body),
		PAIR_TEST(test_json_len_huge),
		PAIR_TEST(test_secret_too_long),
		PAIR_TEST(test_secret_at_limit_raw),
		PAIR_TEST(test_json_not_object),
		PAIR_TEST(test_json_invalid),
		PAIR_TEST(test_json_with_nul_byte),
		PAIR_TEST(test_recovers_after_bad_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
