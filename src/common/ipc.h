/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The kysod <-> kyso-p11 protocol: framed, typed messages over a socketpair,
 * one schema for both sides.
 *
 * A frame is: u32 length of what follows, u32 request id, u16 opcode, u16
 * flags, u32 length of the fields part, the fields, then the secret part
 * (the rest). All integers little-endian. Each field is u8 tag, u8 type, u32
 * length, then its value: a u32, a bool (one byte, 0 or 1), bytes, a string
 * (UTF-8 with its NUL, no NUL inside), or a JSON document (as a string). Which
 * fields a message may and must carry is fixed per opcode (ipc.c's schema);
 * a frame that breaks it is refused. The secret part carries PINs and
 * nothing else; it is never encoded and every buffer that held it is wiped.
 * It holds one PIN, or for the provisioning operations that need more (an
 * old and a new PIN, the SO PIN and a new user PIN) up to KYSO_IPC_MAX_PINS
 * PINs, each ended by one NUL but the last (whose NUL the receiver adds):
 * "OLD\0NEW". A PIN is never empty and holds no NUL; how many an opcode
 * takes is in the schema, and the whole part is at most KYSO_IPC_MAX_SECRET
 * bytes.
 *
 * One opcode, LANE, passes a descriptor with its frame (SCM_RIGHTS): a
 * socket of the helper's token worker, on which kysod then sends that
 * token's SIGN and LOGIN frames and reads their replies, the same frames as
 * on the channel (see docs/architecture.md, "Lanes"). A descriptor on any
 * other frame is closed and the frame refused.
 *
 * The helper's first message, HELLO, names its protocol version, and kysod
 * passes its own on the helper's command line (--protocol): a kysod and a
 * helper of different versions refuse each other with a message saying so. */
#ifndef KYSO_IPC_H
#define KYSO_IPC_H
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define KYSO_IPC_PROTOCOL 3
#define KYSO_IPC_MAX_FRAME (4u << 20)
#define KYSO_IPC_MAX_SECRET 256u
#define KYSO_IPC_MAX_PINS 2
/* Hashes in one SIGN_MANY. */
#define KYSO_IPC_MAX_MANY 64

enum kyso_ipc_op {
	KYSO_OP_HELLO = 1,	/* helper -> kysod: protocol, module info and first inventory */
	KYSO_OP_INVENTORY = 2,	/* helper -> kysod: tokens and certificates changed */
	KYSO_OP_RESCAN = 3,	/* kysod -> helper: look at the slots again now */
	KYSO_OP_SIGN = 4,	/* kysod -> helper: sign a hash; secret = PIN, if any */
	KYSO_OP_LOGOUT = 5,	/* kysod -> helper: end kept logins */
	KYSO_OP_LOGIN = 6,	/* kysod -> helper: log a token in; secret = PIN, if any */
	/* Provisioning (kysod's /v1/admin routes). Each one but ADMIN_INVENTORY
	 * runs with the module's other sessions closed (its tokens are logged
	 * out) and is followed by a new INVENTORY. */
	KYSO_OP_ADMIN_INVENTORY = 7,	/* every token with its objects; token? filters */
	KYSO_OP_INIT_TOKEN = 8,	/* C_InitToken; secret = SO PIN [, new user PIN] */
	KYSO_OP_SET_PIN = 9,	/* C_SetPIN of the user (or so); secret = old, new */
	KYSO_OP_INIT_PIN = 10,	/* C_InitPIN as the SO; secret = SO PIN, new user PIN */
	KYSO_OP_KEYGEN = 11,	/* C_GenerateKeyPair; secret = user PIN (with so: SO PIN) */
	KYSO_OP_STORE_CERT = 12,	/* a certificate (and chain) by its key; secret = user PIN
				 * (with so: SO PIN) */
	KYSO_OP_DELETE = 13,	/* one key pair or certificate; secret = user PIN (with so:
				 * SO PIN) */
	KYSO_OP_LANE = 14,	/* helper -> kysod: a lane to token's worker (the descriptor
				 * passed with the frame) */
	KYSO_OP_SIGN_MANY = 15,	/* kysod -> helper: sign several hashes in turn (a batch's
				 * items; never with a PIN) */
	KYSO_OP_REPLY = 0x80,	/* helper -> kysod: answer to request id */
};

/* flags */
#define KYSO_IPC_F_ERROR 0x1	/* the message is an error: code, message, ... */

enum kyso_field {
	KYSO_F_PROTOCOL = 1,	/* u32: the helper's protocol version (HELLO) */
	KYSO_F_CODE,		/* str: an error's code (API error codes) */
	KYSO_F_MESSAGE,		/* str: an error's text */
	KYSO_F_PIN_STATE,	/* str: ok, count_low, final_try, locked */
	KYSO_F_TOKEN,		/* str: token id (32 hex) */
	KYSO_F_KEY_ID,		/* str: the key's CKA_ID, lowercase hex */
	KYSO_F_MECH,		/* u32: enum kyso_ipc_mech */
	KYSO_F_HASH_BITS,	/* u32: the SHA-2 hash: 256, 384 or 512 */
	KYSO_F_HASH,		/* bytes: the hash to sign */
	KYSO_F_KEEP_LOGIN,	/* bool: more signatures follow (a batch) */
	KYSO_F_PINPAD,		/* bool: log in on the reader's PIN pad */
	KYSO_F_SIGNATURE,	/* bytes: the signature made */
	KYSO_F_PER_SIGNATURE,	/* bool: the key needs the PIN for each signature */
	KYSO_F_LOGGED_OUT,	/* u32: how many tokens were logged out */
	KYSO_F_INVENTORY,	/* json: the tokens and their certificates */
	KYSO_F_LABEL,		/* str: a token's or an object's label */
	KYSO_F_KEY_TYPE,	/* u32: enum kyso_ipc_key_type */
	KYSO_F_PUBLIC_KEY,	/* bytes: a SubjectPublicKeyInfo, DER */
	KYSO_F_CERTIFICATE,	/* bytes: a certificate, DER */
	KYSO_F_CHAIN,		/* bytes: CA certificates, DER one after the other */
	KYSO_F_CERT_ID,		/* str: a certificate id (lowercase hex SHA-256 of the DER) */
	KYSO_F_SO,		/* bool: the SO PIN (PUK; a PIV management key for
				 * KEYGEN, STORE_CERT, DELETE) rather than the user PIN */
	KYSO_F_REINIT,		/* bool: INIT_TOKEN of an initialised token (a wipe) */
	KYSO_F_OBJECT_CLASS,	/* u32: enum kyso_ipc_object */
	KYSO_F_DETAILS,		/* json: what a provisioning operation found or did */
	KYSO_F_FRESH,		/* bool: LOGIN even when logged in, so that the PIN is checked */
	KYSO_F_WORKER,		/* u32: a lane's worker thread (LANE): the lanes of one thread
				 * are served one at a time */
	KYSO_F_HASHES,		/* bytes: SIGN_MANY's hashes, one after the other */
	KYSO_F_SIGNATURES,	/* bytes: SIGN_MANY's signatures in order, each a u16 length
				 * and the signature; on error those made before it */
	KYSO_F_INVENTORY_SEQ,	/* u32: an INVENTORY's number (1, 2, …); on a lane's REPLY,
				 * the last one sent before it, to be applied first */
	KYSO_F_COUNT		/* at most 32: fields are a bit set */
};

enum kyso_ipc_key_type {
	KYSO_KEY_RSA2048 = 1,
	KYSO_KEY_RSA3072 = 2,
	KYSO_KEY_P256 = 3,
	KYSO_KEY_P384 = 4,
};

enum kyso_ipc_object {
	KYSO_OBJ_CERTIFICATE = 1,	/* by KYSO_F_CERT_ID */
	KYSO_OBJ_KEY = 2,		/* the key pair of KYSO_F_KEY_ID */
};

enum kyso_ipc_mech {
	KYSO_MECH_PKCS1 = 1,	/* RSA PKCS#1 v1.5 over a DigestInfo */
	KYSO_MECH_PSS = 2,	/* RSA-PSS */
	KYSO_MECH_ECDSA = 3,
};

/* A received message. The fields point into body, which it owns. */
struct kyso_msg {
	uint32_t id;
	uint16_t op;
	uint16_t flags;
	uint32_t present;		/* bit f set: field f is in the message */
	struct {
		const unsigned char *p;	/* strings and JSON are NUL-terminated */
		uint32_t len;		/* without the NUL */
	} f[KYSO_F_COUNT];
	unsigned char *body;		/* owned; locked memory when it holds a secret */
	size_t body_size;
	int body_secure;
	unsigned char *secret;		/* in body, NUL-terminated; NULL when empty */
	size_t secret_len;
	int has_fd;			/* fd came with the frame (LANE) and is owned */
	int fd;
};

/* A message being built: fields appended, the frame header reserved before
 * them, so that it is sent with one write. */
struct kyso_out {
	unsigned char *buf;
	size_t len, cap;
	int failed;			/* out of memory, or a value too long */
	unsigned char small[512];
};

void kyso_out_init(struct kyso_out *o);
void kyso_out_free(struct kyso_out *o);
void kyso_out_u32(struct kyso_out *o, enum kyso_field f, uint32_t v);
void kyso_out_bool(struct kyso_out *o, enum kyso_field f, int v);
void kyso_out_bytes(struct kyso_out *o, enum kyso_field f, const void *p, size_t len);
void kyso_out_str(struct kyso_out *o, enum kyso_field f, const char *s);
/* The JSON document as compact text. */
void kyso_out_json(struct kyso_out *o, enum kyso_field f, const json_t *j);

/* Appends every field of a received message, as it came (a relay; the fuzz
 * harnesses' round trips). */
void kyso_out_copy(struct kyso_out *o, const struct kyso_msg *m);

/* Sends one frame in one write: the fields of out (NULL: none) and the
 * secret. Refuses (-1) a message the receiving side would refuse (against
 * the schema, over the limits). Not thread-safe per fd: callers serialise
 * writers. Returns 0 or -1. */
int kyso_ipc_send(int fd, uint32_t id, uint16_t op, uint16_t flags, struct kyso_out *out,
		  const unsigned char *secret, size_t secret_len);

/* The same for an opcode that passes a descriptor (LANE): pass_fd goes
 * with the frame; the caller keeps its own copy. */
int kyso_ipc_send_fd(int fd, uint32_t id, uint16_t op, uint16_t flags, struct kyso_out *out,
		     int pass_fd);

/* Receives one frame, blocking. Returns 0; -1 on EOF or a read error; -2 for
 * a frame that is malformed or breaks the schema (the stream is then out of
 * step: the caller ends the channel). */
int kyso_ipc_recv(int fd, struct kyso_msg *msg);

/* The descriptor that came with the frame, now the caller's; -1 if none. */
int kyso_msg_take_fd(struct kyso_msg *msg);

/* Frees the body, wiping it (and the secret), and closes a descriptor that
 * came with the frame and was not taken. */
void kyso_msg_clear(struct kyso_msg *msg);

/* The PINs of the secret part: points each of pins[0..max) at one (in the
 * message's body, NUL-terminated). Returns how many (0 for no secret). */
size_t kyso_msg_pins(const struct kyso_msg *m, const char **pins, size_t max);

/* The secret part for n PINs (1..KYSO_IPC_MAX_PINS), each non-empty: into
 * *out (locked memory; release with kyso_secret_free(*out, *len)). Returns
 * 0, or -1 (an empty PIN, too long together, out of memory). */
int kyso_ipc_pins_join(const char *const *pins, size_t n, unsigned char **out, size_t *len);

/* Field accessors: NULL / 0 / -1 when the field is absent. */
const char *kyso_msg_str(const struct kyso_msg *m, enum kyso_field f);
const unsigned char *kyso_msg_bytes(const struct kyso_msg *m, enum kyso_field f, size_t *len);
int kyso_msg_bool(const struct kyso_msg *m, enum kyso_field f);
int kyso_msg_u32(const struct kyso_msg *m, enum kyso_field f, uint32_t *v);
/* The JSON field parsed (new reference), or NULL. */
json_t *kyso_msg_json(const struct kyso_msg *m, enum kyso_field f);

/* The opcode's and the field's names, for logs ("?" when unknown). */
const char *kyso_ipc_op_name(uint16_t op);
const char *kyso_ipc_field_name(enum kyso_field f);

#endif
