#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Writes the seed corpora of tests/fuzz/corpus/<target>/: small valid inputs
made by hand (requests, frames, configurations, catalogue files, pinentry
answers). The CMS seeds of verify-cms were made once with openssl cms -sign
and are kept as files; this script does not touch them.
    python3 tests/fuzz/make-corpus.py"""
import base64
import json
import os
import struct

here = os.path.dirname(os.path.abspath(__file__))
corpus = os.path.join(here, "corpus")
CERT = "8ad5d931eceb5329267a481263ba1c88215033ad66238972a29a7cf6a5f29925"
TOKEN = "0123456789abcdef0123456789abcdef"
H256 = base64.b64encode(bytes(range(32))).decode()
H384 = base64.b64encode(bytes(range(48))).decode()
H512 = base64.b64encode(bytes(range(64))).decode()
EC_DER = "MIIBfzCCASWgAwIBAgIBAjAKBggqhkjOPQQDAjAXMRUwEwYDVQQDDAxreXNvIGZ1enogQ0EwIBcNMjYxMjA2MjMyMzAyWhgPMjEyNjExMTIyMzIzMDJaMBoxGDAWBgNVBAMMD0Z1enogVGVhY2hlciBFQzBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABB8Am0sDKOL0cZYo1L13DYyZXLSHNW83t0Gyxpflo2R4aN9gIoCW5pQwzZAOdduYojA4EhrCAVUDKnjr/znijmmjXTBbMAkGA1UdEwQCMAAwDgYDVR0PAQH/BAQDAgbAMB0GA1UdDgQWBBTos64d4Gp/P+hngc+dpH+67OwwlDAfBgNVHSMEGDAWgBQLqZ4DnWrchuGUZks60TlApskS1jAKBggqhkjOPQQDAgNIADBFAiEAsPVuDtKtjUp6w7sp0G36KvplyqYEzfCUbHOBWYj7DLUCICfOnQa0HevRbJGJQ+fZmUT8wpqBRC7uk3zl5yPKLfoP"
RECORD = "/Q3Zq42DfV+ATVHdrQt5lMtl4e60RRPpVEZTtpSXm7Q="


def put(target, name, data):
    d = os.path.join(corpus, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def js(o):
    return json.dumps(o, separators=(",", ":"))


# The kysod <-> kyso-p11 protocol (src/common/ipc.h): typed fields.
F = {"protocol": (1, "u32"), "code": (2, "str"), "message": (3, "str"), "pin_state": (4, "str"),
     "token": (5, "str"), "key_id": (6, "str"), "mech": (7, "u32"), "hash_bits": (8, "u32"),
     "hash": (9, "bytes"), "keep_login": (10, "bool"), "pinpad": (11, "bool"),
     "signature": (12, "bytes"), "per_signature": (13, "bool"), "logged_out": (14, "u32"),
     "inventory": (15, "json"), "label": (16, "str"), "key_type": (17, "u32"),
     "public_key": (18, "bytes"), "certificate": (19, "bytes"), "chain": (20, "bytes"),
     "cert_id": (21, "str"), "so": (22, "bool"), "reinit": (23, "bool"),
     "object_class": (24, "u32"), "details": (25, "json"), "fresh": (26, "bool"),
     "worker": (27, "u32"), "hashes": (28, "bytes"), "signatures": (29, "bytes"),
     "inventory_seq": (30, "u32")}
TYPES = {"u32": 1, "bool": 2, "bytes": 3, "str": 4, "json": 5}
PROTOCOL = 3
MECH = {"pkcs1": 1, "pss": 2, "ecdsa": 3}


def field(name, value):
    tag, kind = F[name]
    if kind == "u32":
        v = struct.pack("<I", value)
    elif kind == "bool":
        v = bytes([1 if value else 0])
    elif kind == "bytes":
        v = value
    elif kind == "json":
        v = js(value).encode() + b"\0"
    else:
        v = value.encode() + b"\0"
    return struct.pack("<BBI", tag, TYPES[kind], len(v)) + v


def frame(rid, op, fields, secret=b"", flags=0):
    text = b"".join(field(k, v) for k, v in fields.items())
    body = text + secret
    return struct.pack("<IIHHI", 12 + len(body), rid, op, flags, len(text)) + body


# sign
put("sign-request", "raw", js({"certificate": CERT, "hash": H256, "hash_algorithm": "sha256"}))
put("sign-request", "pss", js({"certificate": CERT, "hash": H384, "hash_algorithm": "sha384",
                               "padding": "pss", "format": "raw"}))
put("sign-request", "cms-ts", js({"certificate": CERT.upper(), "hash": H512,
                                  "hash_algorithm": "sha512", "format": "cms",
                                  "timestamp": True}))
put("sign-request", "unknown-field", '{"certificate":"%s","hash":"%s","hash_algorithm":"sha256","x":1}' % (CERT, H256))
put("sign-request", "not-object", '["a", 1, null, true, 1.5e3, "\\u00e9"]')

# batch
put("batch-request", "two", js({"certificate": CERT, "hash_algorithm": "sha256",
                                 "items": [{"id": "a", "hash": H256}, {"id": "b", "hash": H256}]}))
put("batch-request", "full", js({"certificate": CERT, "hash_algorithm": "sha512", "padding": "pkcs1",
                                  "format": "raw", "description": "Marks of 3B",
                                  "batch": "term-1_3b",
                                  "items": [{"id": "pupil-%d" % i, "hash": H512} for i in range(3)]}))
put("batch-request", "bad-item", js({"certificate": CERT, "hash_algorithm": "sha256",
                                     "items": [{"id": "a", "hash": H256}, {"id": "", "hash": "!!"}, 3]}))

# verify
put("verify-request", "cms", js({"format": "cms", "signature": base64.b64encode(b"\x30\x03\x02\x01\x01").decode(),
                                 "hash": RECORD, "hash_algorithm": "sha256"}))
put("verify-request", "raw-id", js({"signature": base64.b64encode(bytes(64)).decode(), "hash": H256,
                                    "hash_algorithm": "sha256", "certificate": CERT, "padding": "pss"}))
put("verify-request", "raw-pem", js({"format": "raw", "signature": "AAAA", "hash": H256,
                                     "hash_algorithm": "sha256",
                                     "certificate": "-----BEGIN CERTIFICATE-----\nMIIBfzCCASWgAwIBAgIBAjAKBggqhkjOPQQDAjAXMRUwEwYDVQQDDAxreXNvIGZ1\n-----END CERTIFICATE-----\n"}))
put("verify-request", "raw-der", js({"signature": "AAAA", "hash": H256, "hash_algorithm": "sha256",
                                     "certificate": EC_DER}))

# logout
put("logout", "all", "{}")
put("logout", "token", js({"token": TOKEN}))
put("logout", "unknown", js({"token": "ffffffffffffffffffffffffffffffff"}))
put("logout", "bad", '{"token":1,"other":[]}')

# route: method, path, token, Last-Event-ID, Content-Type, body
def route(name, method, path, token="", last="", ctype="", body=""):
    put("route", name, "\n".join([method, path, token, last, ctype, body]))

route("status", "GET", "/v1/status")
route("tokens", "GET", "/v1/tokens")
route("token", "GET", "/v1/tokens/" + TOKEN)
route("certs-token", "GET", "/v1/certificates", token=TOKEN)
route("cert", "GET", "/v1/certificates/" + CERT)
route("events", "GET", "/v1/events", last="3")
route("readers", "GET", "/v1/readers")
route("cancel", "DELETE", "/v1/sign/batch/term-1")
route("logout", "POST", "/v1/logout", ctype="application/json; charset=utf-8", body=js({"token": TOKEN}))
route("verify", "POST", "/v1/verify", ctype="application/json",
      body=js({"signature": "AAAA", "hash": H256, "hash_algorithm": "sha256", "certificate": CERT}))
route("wrong-method", "PUT", "/v1/sign")
route("wrong-type", "POST", "/v1/verify", ctype="text/plain", body="{}")
route("admin-tokens", "GET", "/v1/admin/tokens")
route("admin-keygen", "POST", "/v1/admin/keygen", ctype="application/json",
      body=js({"token": TOKEN, "key_type": "p256", "label": "Chữ ký", "key_id": "0b"}))
route("admin-csr", "POST", "/v1/admin/csr", ctype="application/json",
      body=js({"token": TOKEN, "key_id": "0b", "subject": {"CN": "Nguyễn Văn An", "C": "VN",
                                                        "OU": ["Tổ Toán", "10A1"]}}))

# kysod's side: what a helper writes (HELLO, INVENTORY, REPLY)
inv = {"tokens": [{"id": TOKEN, "label": "token", "manufacturer": "kyso", "model": "fuzz",
                   "serial": "1", "pin_state": "ok", "logged_in": False,
                   "certs": [{"der": EC_DER, "key_id": "01",
                              "label": "ec"}]}]}
put("ipc-kysod", "hello", frame(0, 1, {"protocol": PROTOCOL, "inventory": inv}))
put("ipc-kysod", "inventory-reply", frame(0, 2, {"inventory": {"tokens": []}, "inventory_seq": 2}) +
    frame(7, 0x80, {"signature": bytes(64)}) +
    frame(8, 0x80, {"code": "pin_incorrect", "message": "wrong PIN", "pin_state": "count_low"},
          flags=1) +
    frame(9, 0x80, {"logged_out": 1}) + frame(10, 0x80, {}) +
    frame(11, 0x80, {"details": {"token": TOKEN, "flags": 1036}, "key_id": "0b",
                     "public_key": bytes(91)}) +
    frame(12, 0x80, {"code": "token_removed", "message": "gone",
                     "signatures": b"\x03\x00abc\x02\x00de"}, flags=1))
# a LANE frame as bytes alone: its descriptor cannot come with a fuzzed input, so kysod
# refuses it (a lane's descriptor is tested in tests/unit/test-ipc.c)
put("ipc-kysod", "lane", frame(0, 1, {"protocol": PROTOCOL, "inventory": inv}) +
    frame(0, 14, {"token": TOKEN, "worker": 0}))
put("ipc-kysod", "hello-error", frame(0, 1, {"protocol": PROTOCOL, "code": "module_unavailable",
                                             "message": "no"}, flags=1))

# the helper's side: what kysod writes (SIGN and LOGIN with a PIN, LOGOUT, RESCAN)
put("ipc-helper", "sign", frame(1, 4, {"token": TOKEN, "key_id": "01", "mech": MECH["ecdsa"],
                                       "hash_bits": 256, "hash": bytes(range(32)),
                                       "keep_login": True},
                                secret=b"123456"))
put("ipc-helper", "login-logout", frame(2, 6, {"token": TOKEN, "pinpad": False}, secret=b"0000") +
    frame(3, 5, {"token": TOKEN}) + frame(4, 5, {}))
put("ipc-helper", "rescan", frame(5, 3, {}))
put("ipc-helper", "sign-many", frame(9, 15, {"token": TOKEN, "key_id": "01", "mech": MECH["ecdsa"],
                                           "hash_bits": 256, "hashes": bytes(range(96)),
                                           "keep_login": True}))
# provisioning: several PINs in the secret part, NUL-separated
put("ipc-helper", "admin", frame(6, 7, {"token": TOKEN}) +
    frame(7, 8, {"token": TOKEN, "label": "Trường Kyso"}, secret=b"so-pin\0user-pin") +
    frame(8, 9, {"token": TOKEN, "so": True}, secret=b"old\0new") +
    frame(9, 10, {"token": TOKEN}, secret=b"so-pin\0new") +
    frame(10, 11, {"token": TOKEN, "key_type": 3, "label": "ec", "key_id": "0b"}, secret=b"1234") +
    frame(11, 12, {"token": TOKEN, "certificate": base64.b64decode(EC_DER), "label": "x"},
          secret=b"1234") +
    frame(12, 13, {"token": TOKEN, "object_class": 2, "key_id": "0b"}, secret=b"1234") +
    frame(13, 6, {"token": TOKEN, "fresh": True}, secret=b"1234"))

# kysod.conf
put("config", "full", """# kysod.conf
[kysod]
socket = /run/user/1000/kyso/kysod.sock
pinentry = /usr/bin/pinentry-gnome3
log_level = debug
login_ttl = 300
pin_timeout = 60
request_timeout = 120
max_body = 65536
max_batch_body = 8388608
max_batch_items = 10000
audit_log = /tmp/kyso-audit.log
audit_max_size = 1048576
allow_modules = /usr/lib/*/pkcs11/*.so /usr/lib/softhsm/*.so
auto_modules = yes
admin = yes
check_certificates = strict
ca_bundle = /etc/ssl/certs/ca-certificates.crt
crl = /etc/kyso/crl
ocsp = no
ocsp_timeout = 5
revocation_soft_fail = yes
tsa_timeout = 10

[module softhsm]
path = /usr/lib/softhsm/libsofthsm2.so
workers = 4

[module opensc]
path = /usr/lib/x86_64-linux-gnu/opensc-pkcs11.so
""")
put("config", "minimal", "[module m]\npath = /usr/lib/softhsm/libsofthsm2.so\n")
put("config", "continuation", b"\xef\xbb\xbf" + b"[kysod]\nallow_modules = /usr/lib/*.so\n  /opt/*.so\n; comment\nlogin_ttl=0\n")
put("config", "bad-key", "[kysod]\nlogin_ttl = -1\n[module x]\nworkers = 99\n")

# catalogue: one file, or two split at a NUL
yk = open(os.path.join(here, "..", "..", "drivers", "tokens", "yubico-yubikey.conf"), "rb").read()
soft = open(os.path.join(here, "..", "..", "drivers", "tokens", "softhsm2.conf"), "rb").read()
piv = open(os.path.join(here, "..", "..", "drivers", "tokens", "piv.conf"), "rb").read()
put("catalogue", "yubikey", yk)
put("catalogue", "softhsm-piv", soft + b"\0" + piv)
put("catalogue", "atr-text", b"3b:f8:13:..:00:81\n")
put("catalogue", "atr-masked", b"[token]\nname = Card\nmatch = device\n"
    b"module = opensc\n[atr a]\natr = 3b:f8:13:00:00:81:31:fe:15:59\natr_mask = ff:ff:ff:00:ff:ff:ff:ff:ff:ff\n")

# pinentry: the first byte picks GETPIN (0) or CONFIRM (1), a timeout (2), an error text (4)
SETS = b"OK\n" * 5
put("pinentry", "getpin", b"\x00" + b"OK Pleased to meet you\n" + SETS + b"D 1234\nOK\nOK closing connection\n")
put("pinentry", "getpin-escaped", b"\x06" + b"OK Pleased to meet you\n" + SETS + b"OK\nOK\n" +
    b"S PASSWORD_FROM_CACHE\n# comment\nD 12%2534%0A\nD 56\nOK\nOK\n")
put("pinentry", "getpin-cancel", b"\x00" + b"OK\n" + SETS + b"ERR 83886179 Operation cancelled <Pinentry>\n")
put("pinentry", "confirm", b"\x01" + b"OK\n" + SETS + b"OK\nOK\n")
put("pinentry", "confirm-refused", b"\x03" + b"OK\n" + SETS + b"OK\nERR 83886194 Not confirmed\n")
put("pinentry", "inquire", b"\x00" + b"OK\n" + SETS + b"INQUIRE PINENTRY_LAUNCHED 1 gtk\nD 1\nEND\nOK\n")
