#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Virtual PIV smart card (a subset of NIST SP 800-73-4) for vsmartcard's vpcd.

The card is a TCP client of vpcd (the pcscd reader driver). Every message in both
directions is a 2-byte big-endian length followed by the payload. A 1-byte payload from
vpcd is a control command (0x00 power off, 0x01 power on, 0x02 reset, 0x04 get ATR,
answered with the ATR); a longer one is a command APDU, answered with the response APDU.

Usage:
  piv-card.py [--host H] [--port P] [--state FILE] [--ready-file FILE] [--delay-ms MS]
              [--hold-file FILE] [--mgmt-alg ALG] [--mgmt-key HEX] [--pin-retries N]
              [--puk-retries N] [--guid HEX] [-v]
              CONFIG
  piv-card.py --make-demo DIR [--blank] [--cn NAME] [--pin PIN] [--mgmt-alg ALG]
              [--mgmt-key HEX] [--pin-retries N] [--puk-retries N] [--guid HEX]

CONFIG is a directory (card.json plus 9a.key, 9a.crt, 9c.key, ... in PEM) or a JSON file
naming the same things; see tests/vcard/README.
"""

import argparse
import datetime
import hashlib
import json
import os
import secrets
import signal
import socket
import struct
import sys
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa, utils
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.x509.oid import NameOID

try:
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
except ImportError:  # cryptography < 43
    TripleDES = algorithms.TripleDES

PIV_AID = bytes.fromhex("A000000308000010000100")
PIV_PIX = PIV_AID[5:]

# Status words
SW_OK = 0x9000
SW_WRONG_LENGTH = 0x6700
SW_SEC_STATUS = 0x6982
SW_BLOCKED = 0x6983
SW_COND_USE = 0x6985
SW_WRONG_DATA = 0x6A80
SW_FUNC_NOT_SUPP = 0x6A81
SW_NOT_FOUND = 0x6A82
SW_NO_MEMORY = 0x6A84
SW_WRONG_P1P2 = 0x6A86
SW_REF_NOT_FOUND = 0x6A88
SW_INS_NOT_SUPP = 0x6D00
SW_CLA_NOT_SUPP = 0x6E00

# Algorithm identifiers (SP 800-78-4)
ALG_3DES = 0x03
ALG_RSA_3072 = 0x05
ALG_RSA_1024 = 0x06
ALG_RSA_2048 = 0x07
ALG_AES_128 = 0x08
ALG_AES_192 = 0x0A
ALG_AES_256 = 0x0C
ALG_ECC_P256 = 0x11
ALG_ECC_P384 = 0x14
ALG_RSA_4096 = 0x16

RSA_ALGS = {ALG_RSA_1024: 1024, ALG_RSA_2048: 2048, ALG_RSA_3072: 3072, ALG_RSA_4096: 4096}
EC_ALGS = {ALG_ECC_P256: ec.SECP256R1, ALG_ECC_P384: ec.SECP384R1}
SYM_ALGS = {ALG_3DES: 24, ALG_AES_128: 16, ALG_AES_192: 24, ALG_AES_256: 32}
SYM_NAMES = {"3des": ALG_3DES, "aes128": ALG_AES_128, "aes192": ALG_AES_192,
             "aes256": ALG_AES_256}

# Key references and their certificate objects
SLOT_OBJECTS = {0x9A: 0x5FC105, 0x9C: 0x5FC10A, 0x9D: 0x5FC10B, 0x9E: 0x5FC101}
for _i in range(20):  # retired key management keys 82..95 -> 5FC10D..5FC120
    SLOT_OBJECTS[0x82 + _i] = 0x5FC10D + _i
OBJ_CHUID = 0x5FC102
OBJ_CCC = 0x5FC107
OBJ_DISCOVERY = 0x7E
OBJ_HISTORY = 0x5FC10C
# Read only after the PIN (SP 800-73-4 table 3: fingerprints, facial image, printed
# information, iris images)
PIN_OBJECTS = {0x5FC103, 0x5FC108, 0x5FC109, 0x5FC121}
KEY_MGMT = 0x9B
KEY_CARD_AUTH = 0x9E
KEY_SIGN = 0x9C
PIN_REF = 0x80
PUK_REF = 0x81

DEFAULT_MGMT_KEY = "010203040506070801020304050607080102030405060708"
# the largest data object a YubiKey 5 stores (its 3072-byte buffer less 9); more is 6A84
DEFAULT_MAX_OBJECT = 3063
# FASC-N of the SP 800-73-4 test cards (agency 9999, system 9999, credential 999999)
DEFAULT_FASCN = "D4E739DA739CED39CE739D836858210842108421C84210C3EB"
# T=1, historical bytes: compact TLV with card capabilities (command chaining) and "KYSO"
DEFAULT_HIST = bytes.fromhex("8073C0218054") + b"KYSO"
# A YubiKey 5 over USB ("Yubico YubiKey 5 NFC (PKI)" in smartcard_list.txt; libykpiv's
# YKPIV_ATR_YK5, by which ykcs11 names the model "YubiKey YK5")
YUBIKEY5_ATR = "3BFD1300008131FE158073C021C057597562694B657940"
# What a YubiKey's PIV application answers besides SP 800-73-4 (yubico-piv-tool 2.2.0,
# lib/ykpiv.h): GET VERSION, GET SERIAL, GET METADATA (firmware 5.3), ATTEST, RESET
INS_GET_VERSION = 0xFD
INS_GET_SERIAL = 0xF8
INS_GET_METADATA = 0xF7
INS_ATTEST = 0xF9
INS_RESET = 0xFB
YK_FACTORY_PIN = "123456"
YK_FACTORY_PUK = "12345678"

VERBOSE = False
HOLD_FILE = None  # --hold-file


def log(msg):
    if VERBOSE:
        sys.stderr.write("piv-card[%d]: %s\n" % (os.getpid(), msg))
        sys.stderr.flush()


def hold(what):
    """Waits while --hold-file exists (logged, -v or not, for tests to wait on)."""
    if not HOLD_FILE or not os.path.exists(HOLD_FILE):
        return
    sys.stderr.write("piv-card[%d]: %s: held while %s exists\n" % (os.getpid(), what, HOLD_FILE))
    sys.stderr.flush()
    while os.path.exists(HOLD_FILE):
        time.sleep(0.02)


# ---------------------------------------------------------------- BER-TLV

def tlv(tag, value):
    """Encodes one BER-TLV element; tag is an int of 1 to 3 bytes."""
    t = tag.to_bytes(max(1, (tag.bit_length() + 7) // 8), "big")
    n = len(value)
    if n < 0x80:
        ln = bytes([n])
    elif n < 0x100:
        ln = bytes([0x81, n])
    elif n < 0x10000:
        ln = bytes([0x82]) + n.to_bytes(2, "big")
    else:
        ln = bytes([0x83]) + n.to_bytes(3, "big")
    return t + ln + value


def parse_tlv(buf):
    """Parses concatenated BER-TLV elements into a list of (tag, value). Raises ValueError."""
    out = []
    i = 0
    while i < len(buf):
        if buf[i] in (0x00, 0xFF):  # padding between elements
            i += 1
            continue
        tag = buf[i]
        i += 1
        if tag & 0x1F == 0x1F:
            while True:
                if i >= len(buf):
                    raise ValueError("truncated tag")
                tag = (tag << 8) | buf[i]
                i += 1
                if not buf[i - 1] & 0x80:
                    break
        if i >= len(buf):
            raise ValueError("truncated length")
        n = buf[i]
        i += 1
        if n & 0x80:
            k = n & 0x7F
            if k == 0 or k > 3 or i + k > len(buf):
                raise ValueError("bad length")
            n = int.from_bytes(buf[i:i + k], "big")
            i += k
        if i + n > len(buf):
            raise ValueError("truncated value")
        out.append((tag, bytes(buf[i:i + n])))
        i += n
    return out


def tlv_dict(buf):
    return dict(parse_tlv(buf))


def make_atr(hist):
    body = bytes([0x80 | len(hist), 0x80, 0x01]) + hist
    tck = 0
    for b in body:
        tck ^= b
    return bytes([0x3B]) + body + bytes([tck])


# ---------------------------------------------------------------- keys

def key_alg(key):
    if isinstance(key, rsa.RSAPrivateKey):
        for alg, bits in RSA_ALGS.items():
            if bits == key.key_size:
                return alg
        raise ValueError("unsupported RSA key size %d" % key.key_size)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        for alg, curve in EC_ALGS.items():
            if isinstance(key.curve, curve):
                return alg
        raise ValueError("unsupported curve %s" % key.curve.name)
    raise ValueError("unsupported key type")


def key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


class Slot:
    """A private key with its precomputed parts for raw RSA."""

    def __init__(self, key):
        self.key = key
        self.alg = key_alg(key)
        if isinstance(key, rsa.RSAPrivateKey):
            pn = key.private_numbers()
            self.rsa = (pn.public_numbers.n, pn.p, pn.q, pn.dmp1, pn.dmq1, pn.iqmp)
            self.size = (key.key_size + 7) // 8
        else:
            self.rsa = None
            self.size = (key.curve.key_size + 7) // 8

    def raw_rsa(self, data):
        n, p, q, dp, dq, qi = self.rsa
        m = int.from_bytes(data, "big")
        if m >= n:
            raise ValueError("input not below the modulus")
        m1 = pow(m, dp, p)
        m2 = pow(m, dq, q)
        h = (qi * (m1 - m2)) % p
        return (m2 + h * q).to_bytes(self.size, "big")

    def ecdsa(self, digest):
        # The hash is made as long as the field (truncated or left-padded), as ECDSA does.
        if len(digest) > self.size:
            digest = digest[:self.size]
        digest = digest.rjust(self.size, b"\0")
        h = hashes.SHA256() if self.size == 32 else hashes.SHA384()
        return self.key.sign(digest, ec.ECDSA(utils.Prehashed(h)))

    def ecdh(self, point):
        peer = ec.EllipticCurvePublicKey.from_encoded_point(self.key.curve, point)
        return self.key.exchange(ec.ECDH(), peer)

    def public_template(self):
        pub = self.key.public_key()
        if self.rsa:
            nums = pub.public_numbers()
            e = nums.e.to_bytes((nums.e.bit_length() + 7) // 8, "big")
            return tlv(0x7F49, tlv(0x81, nums.n.to_bytes(self.size, "big")) + tlv(0x82, e))
        point = pub.public_bytes(serialization.Encoding.X962,
                                 serialization.PublicFormat.UncompressedPoint)
        return tlv(0x7F49, tlv(0x86, point))


def generate_key(alg):
    if alg in RSA_ALGS:
        return rsa.generate_private_key(public_exponent=65537, key_size=RSA_ALGS[alg])
    return ec.generate_private_key(EC_ALGS[alg]())


def cert_object(der):
    """The PIV certificate container: 53 { 70 cert, 71 certinfo, FE LRC }."""
    return tlv(0x53, tlv(0x70, der) + tlv(0x71, b"\x00") + tlv(0xFE, b""))


# ---------------------------------------------------------------- configuration

def read_pem_cert(path):
    with open(path, "rb") as f:
        data = f.read()
    if b"-----BEGIN" in data:
        return x509.load_pem_x509_certificate(data).public_bytes(serialization.Encoding.DER)
    return x509.load_der_x509_certificate(data).public_bytes(serialization.Encoding.DER)


def read_pem_key(path):
    with open(path, "rb") as f:
        return serialization.load_pem_private_key(f.read(), password=None)


def parse_version(value):
    """A YubiKey firmware version, "5.4.3", as a tuple of three numbers."""
    try:
        v = tuple(int(x) for x in str(value).split("."))
    except ValueError:
        v = ()
    if len(v) != 3 or not all(0 <= x <= 255 for x in v):
        raise ValueError("a YubiKey version is three numbers, e.g. 5.4.3: %r" % value)
    return v


def parse_mgmt_alg(value):
    """A management key algorithm: a number (JSON: 3, 10), a name (3des, aes128, aes192,
    aes256) or hex as piv-tool writes it (03, 0A, 0x0A)."""
    if isinstance(value, int):
        alg = value
    else:
        v = str(value).strip().lower()
        if v in SYM_NAMES:
            return SYM_NAMES[v]
        try:
            alg = int(v, 16)
        except ValueError:
            raise ValueError("unknown management key algorithm %r" % value)
    if alg not in SYM_ALGS:
        raise ValueError("unknown management key algorithm %r" % value)
    return alg


def ccc_object(guid):
    """The Card Capability Container (SP 800-73-4 table 8) with a card identifier of
    GSC-RID A0 00 00 01 16, manufacturer FF, card type 02 and 14 bytes made from the GUID."""
    ident = bytes.fromhex("A000000116FF02") + hashlib.sha256(guid).digest()[:14]
    return tlv(0x53, tlv(0xF0, ident) + tlv(0xF1, b"\x21") + tlv(0xF2, b"\x21") +
               tlv(0xF3, b"") + tlv(0xF4, b"\x00") + tlv(0xF5, b"\x10") + tlv(0xF6, b"") +
               tlv(0xF7, b"") + tlv(0xFA, b"") + tlv(0xFB, b"") + tlv(0xFC, b"") +
               tlv(0xFD, b"") + tlv(0xFE, b""))


class Config:
    """Everything the card is made of, read once at start. over: settings that take the
    place of card.json's (the command line's)."""

    def __init__(self, path, over=None):
        path = os.path.abspath(path)
        if os.path.isdir(path):
            base = path
            jpath = os.path.join(path, "card.json")
            conf = {}
            if os.path.exists(jpath):
                with open(jpath, encoding="utf-8") as f:
                    conf = json.load(f)
        else:
            base = os.path.dirname(path)
            with open(path, encoding="utf-8") as f:
                conf = json.load(f)
        conf.update({k: v for k, v in (over or {}).items() if v is not None})
        self.pin = str(conf.get("pin", "123456"))
        self.puk = str(conf.get("puk", "12345678"))
        self.pin_retries = int(conf.get("pin_retries", 3))
        self.puk_retries = int(conf.get("puk_retries", 3))
        seed = hashlib.sha256(path.encode()).digest()
        self.guid = bytes.fromhex(conf["guid"]) if "guid" in conf else seed[:16]
        self.fascn = bytes.fromhex(conf.get("fascn", DEFAULT_FASCN))
        self.expiry = str(conf.get("expiry", "20991231")).encode()
        self.label = str(conf.get("label", "kyso virtual PIV")).encode()
        # "yubikey": "5.4.3" answers the YubiKey's own commands as that firmware does
        self.yubikey = parse_version(conf["yubikey"]) if conf.get("yubikey") else None
        # the YubiKey's serial number (GET SERIAL): by default from the GUID, so that two
        # cards have two
        self.serial = int(conf.get("serial", int.from_bytes(self.guid[-4:], "big") % 10**8))
        if not 0 <= self.serial < 2**32:
            raise ValueError("the serial number is 0 to 4294967295")
        default_atr = YUBIKEY5_ATR if self.yubikey else make_atr(DEFAULT_HIST).hex()
        self.atr = bytes.fromhex(conf.get("atr", default_atr))
        # a YubiKey's default management key is AES-192 from firmware 5.7, 3DES before
        default_alg = ALG_AES_192 if self.yubikey and self.yubikey >= (5, 7, 0) else ALG_3DES
        self.mgmt_alg = parse_mgmt_alg(conf.get("mgmt_alg", default_alg))
        self.mgmt_key = bytes.fromhex(conf.get("mgmt_key", DEFAULT_MGMT_KEY))
        if len(self.mgmt_key) != SYM_ALGS[self.mgmt_alg]:
            raise ValueError("a management key of algorithm %02X is %d bytes" %
                             (self.mgmt_alg, SYM_ALGS[self.mgmt_alg]))
        self.max_object = int(conf.get("max_object", DEFAULT_MAX_OBJECT))
        if len(self.guid) != 16:
            raise ValueError("the GUID is 16 bytes")
        if not 1 <= self.pin_retries <= 15 or not 1 <= self.puk_retries <= 15:
            raise ValueError("PIN and PUK retries are 1 to 15")
        for p in (self.pin, self.puk):
            if not 1 <= len(p) <= 8:
                raise ValueError("PIN and PUK are 1 to 8 characters")
        # slots: {"9a": {"key": FILE, "cert": FILE}}; in a directory, 9a.key and 9a.crt
        slots = conf.get("slots")
        if slots is None:
            slots = {}
            for ref in SLOT_OBJECTS:
                name = "%02x" % ref
                ent = {}
                for kind, ext in (("key", ".key"), ("cert", ".crt")):
                    f = os.path.join(base, name + ext)
                    if os.path.exists(f):
                        ent[kind] = f
                if ent:
                    slots[name] = ent
        self.keys = {}
        self.objects = {}
        for name, ent in slots.items():
            ref = int(name, 16)
            if ref not in SLOT_OBJECTS:
                raise ValueError("unknown key reference %s" % name)
            if ent.get("key"):
                self.keys[ref] = read_pem_key(os.path.join(base, ent["key"]))
            if ent.get("cert"):
                der = read_pem_cert(os.path.join(base, ent["cert"]))
                self.objects[SLOT_OBJECTS[ref]] = cert_object(der)


# ---------------------------------------------------------------- the card

class CardError(Exception):
    def __init__(self, sw):
        super().__init__("SW %04X" % sw)
        self.sw = sw


class PivCard:
    def __init__(self, conf, state_path=None, delay_ms=0):
        self.conf = conf
        self.state_path = state_path
        self.delay_ms = delay_ms  # added to every private key operation: a slow card
        self.pin = conf.pin
        self.puk = conf.puk
        self.pin_tries = conf.pin_retries
        self.puk_tries = conf.puk_retries
        self.mgmt_alg = conf.mgmt_alg
        self.mgmt_key = conf.mgmt_key
        self.mgmt_changed = False  # set with SET MANAGEMENT KEY: kept in the state file
        self.slots = {ref: Slot(k) for ref, k in conf.keys.items()}
        self.objects = dict(conf.objects)
        self.objects.update(self.base_objects())
        self.changed_keys = set()  # provisioned on the card: kept in the state file
        self.changed_objects = set()
        self.wiped = False  # YubiKey RESET: the keys and objects of the card directory gone
        self.load_state()
        self.update_history()
        self.power_reset()

    def base_objects(self):
        """CHUID, CCC and Discovery object: what every card has, even after a RESET."""
        conf = self.conf
        return {
            OBJ_CHUID: tlv(0x53, tlv(0x30, conf.fascn) + tlv(0x34, conf.guid) +
                           tlv(0x35, conf.expiry) + tlv(0x3E, b"") + tlv(0xFE, b"")),
            OBJ_CCC: ccc_object(conf.guid),
            # PIN usage policy: PIV PIN only, PIV PIN primary
            OBJ_DISCOVERY: tlv(0x7E, tlv(0x4F, PIV_AID) + tlv(0x5F2F, b"\x40\x00")),
        }

    # -- persistent state

    def load_state(self):
        if not self.state_path or not os.path.exists(self.state_path):
            return
        with open(self.state_path, encoding="utf-8") as f:
            st = json.load(f)
        if st.get("wiped"):
            self.wiped = True
            self.slots = {}
            self.objects = self.base_objects()
        self.pin = st.get("pin", self.pin)
        self.puk = st.get("puk", self.puk)
        self.pin_tries = int(st.get("pin_tries", self.pin_tries))
        self.puk_tries = int(st.get("puk_tries", self.puk_tries))
        if "mgmt_key" in st:
            self.mgmt_alg = parse_mgmt_alg(st["mgmt_alg"])
            self.mgmt_key = bytes.fromhex(st["mgmt_key"])
            self.mgmt_changed = True
        for name, pem in st.get("keys", {}).items():
            key = serialization.load_pem_private_key(pem.encode(), password=None)
            self.slots[int(name, 16)] = Slot(key)
        for name, hexval in st.get("objects", {}).items():
            if hexval is None:
                self.objects.pop(int(name, 16), None)
            else:
                self.objects[int(name, 16)] = bytes.fromhex(hexval)
        self.changed_keys = set(int(n, 16) for n in st.get("keys", {}))
        self.changed_objects = set(int(n, 16) for n in st.get("objects", {}))

    def save_state(self):
        if not self.state_path:
            return
        keys = self.changed_keys
        objs = self.changed_objects
        st = {
            "pin": self.pin, "puk": self.puk,
            "pin_tries": self.pin_tries, "puk_tries": self.puk_tries,
            "keys": {"%02x" % r: key_pem(self.slots[r].key) for r in keys if r in self.slots},
            "objects": {"%x" % t: (self.objects[t].hex() if t in self.objects else None)
                        for t in objs},
        }
        if self.wiped:
            st["wiped"] = True
        if self.mgmt_changed:
            st["mgmt_alg"] = self.mgmt_alg
            st["mgmt_key"] = self.mgmt_key.hex()
        # written whole and renamed: a card pulled while it writes keeps the state before
        tmp = self.state_path + ".tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(st, f, indent=1)
        os.replace(tmp, self.state_path)

    def update_history(self):
        if OBJ_HISTORY in self.changed_objects:  # written with PUT DATA: kept as it is
            return
        on_card = sum(1 for r, t in SLOT_OBJECTS.items() if 0x82 <= r <= 0x95 and t in self.objects)
        self.objects[OBJ_HISTORY] = tlv(0x53, tlv(0xC1, bytes([on_card])) +
                                        tlv(0xC2, b"\x00") + tlv(0xFE, b""))

    # -- session state

    def power_reset(self):
        self.pin_verified = False
        self.fresh_verify = False
        self.mgmt_authed = False
        self.mgmt_challenge = None
        self.mgmt_witness = None
        self.chain = None  # (ins, p1, p2, data) of a command chain in progress
        self.pending = b""  # response data left for GET RESPONSE

    # -- APDU processing

    def process(self, apdu):
        """Answers one command APDU (bytes) with a response APDU (bytes)."""
        try:
            cla, ins, p1, p2, data, le, ext = self.parse_apdu(apdu)
        except CardError as e:
            return e.sw.to_bytes(2, "big")
        if ins != 0xC0:
            self.pending = b""
        # whether the command before this one was a VERIFY that took the PIN
        fresh, self.fresh_verify = self.fresh_verify, False
        try:
            if cla & 0xEF != 0x00:
                raise CardError(SW_CLA_NOT_SUPP)
            if cla & 0x10:
                if self.chain and self.chain[:3] != (ins, p1, p2):
                    self.chain = None
                prev = self.chain[3] if self.chain else b""
                self.chain = (ins, p1, p2, prev + data)
                return SW_OK.to_bytes(2, "big")
            if self.chain:
                if self.chain[:3] == (ins, p1, p2):
                    data = self.chain[3] + data
                self.chain = None
            if ins == 0xC0:
                self.fresh_verify = fresh
                return self.get_response(le)
            self.fresh_verify = fresh
            resp = self.dispatch(ins, p1, p2, data)
            if ins != 0x20 or not data:
                self.fresh_verify = False
            sw = SW_OK
        except CardError as e:
            resp, sw = b"", e.sw
            self.fresh_verify = False
        if ext or len(resp) <= min(le, 256):
            return resp + sw.to_bytes(2, "big")
        self.pending = resp
        return self.get_response(le)

    @staticmethod
    def parse_apdu(a):
        if len(a) < 4:
            raise CardError(SW_WRONG_LENGTH)
        cla, ins, p1, p2 = a[0], a[1], a[2], a[3]
        body = a[4:]
        if not body:
            return cla, ins, p1, p2, b"", 256, False
        if len(body) == 1:
            return cla, ins, p1, p2, b"", body[0] or 256, False
        if body[0] != 0:
            lc = body[0]
            if len(body) == 1 + lc:
                return cla, ins, p1, p2, body[1:], 256, False
            if len(body) == 2 + lc:
                return cla, ins, p1, p2, body[1:1 + lc], body[-1] or 256, False
            raise CardError(SW_WRONG_LENGTH)
        if len(body) == 3:
            return cla, ins, p1, p2, b"", int.from_bytes(body[1:], "big") or 65536, True
        lc = int.from_bytes(body[1:3], "big")
        if len(body) == 3 + lc:
            return cla, ins, p1, p2, body[3:], 65536, True
        if len(body) == 5 + lc:
            return cla, ins, p1, p2, body[3:3 + lc], int.from_bytes(body[-2:], "big") or 65536, True
        raise CardError(SW_WRONG_LENGTH)

    def get_response(self, le):
        if not self.pending:
            return SW_COND_USE.to_bytes(2, "big")
        n = min(le, 256)
        chunk, self.pending = self.pending[:n], self.pending[n:]
        if self.pending:
            return chunk + bytes([0x61, min(len(self.pending), 256) & 0xFF])
        return chunk + SW_OK.to_bytes(2, "big")

    def dispatch(self, ins, p1, p2, data):
        handler = {
            0xA4: self.cmd_select,
            0xCB: self.cmd_get_data,
            0x20: self.cmd_verify,
            0x24: self.cmd_change_reference,
            0x2C: self.cmd_reset_retry,
            0x87: self.cmd_general_authenticate,
            0x47: self.cmd_generate,
            0xDB: self.cmd_put_data,
            0xFF: self.cmd_set_mgmt_key,
        }
        if self.conf.yubikey:
            handler.update({
                INS_GET_VERSION: self.cmd_get_version,
                INS_GET_SERIAL: self.cmd_get_serial,
                INS_GET_METADATA: self.cmd_get_metadata,
                INS_RESET: self.cmd_reset,
            })
        handler = handler.get(ins)
        if handler is None:
            raise CardError(SW_INS_NOT_SUPP)
        return handler(p1, p2, data)

    def cmd_select(self, p1, p2, data):
        if p1 != 0x04:
            raise CardError(SW_NOT_FOUND)
        if len(data) < 5 or not PIV_AID.startswith(data):
            # another application: not here, and a failed SELECT keeps the current one
            raise CardError(SW_NOT_FOUND)
        if p2 & 0x0C == 0x0C:
            return b""
        algs = b"".join(tlv(0x80, bytes([a]))
                        for a in sorted({self.mgmt_alg, ALG_RSA_2048, ALG_ECC_P256,
                                         ALG_ECC_P384}))
        return tlv(0x61, tlv(0x4F, PIV_PIX) +
                   tlv(0x79, tlv(0x4F, PIV_AID[:7])) +
                   tlv(0x50, self.conf.label) +
                   tlv(0xAC, algs + tlv(0x06, b"\x00")))

    def cmd_get_data(self, p1, p2, data):
        if (p1, p2) != (0x3F, 0xFF):
            raise CardError(SW_WRONG_P1P2)
        try:
            tag = int.from_bytes(tlv_dict(data)[0x5C], "big")
        except (ValueError, KeyError):
            raise CardError(SW_WRONG_DATA)
        obj = self.objects.get(tag)
        if obj is None:
            raise CardError(SW_NOT_FOUND)
        if tag in PIN_OBJECTS and not self.pin_verified:
            raise CardError(SW_SEC_STATUS)
        return obj

    def cmd_put_data(self, p1, p2, data):
        if (p1, p2) != (0x3F, 0xFF):
            raise CardError(SW_WRONG_P1P2)
        if not self.mgmt_authed:
            raise CardError(SW_SEC_STATUS)
        try:
            items = parse_tlv(data)
        except ValueError:
            raise CardError(SW_WRONG_DATA)
        if len(items) == 1 and items[0][0] == OBJ_DISCOVERY:
            tag, obj = OBJ_DISCOVERY, data
        elif len(items) == 2 and items[0][0] == 0x5C and items[1][0] == 0x53:
            tag, obj = int.from_bytes(items[0][1], "big"), tlv(0x53, items[1][1])
        else:
            raise CardError(SW_WRONG_DATA)
        # PIV objects 5FC1xx and 7E, and the vendor's 5FFFxx (YubiKey: admin data...)
        if tag >> 8 not in (0x5FC1, 0x5FFF) and tag != OBJ_DISCOVERY:
            raise CardError(SW_NOT_FOUND)
        if len(obj) > self.conf.max_object:
            raise CardError(SW_NO_MEMORY)
        if obj[1:2] == b"\x00":  # an empty object deletes it
            self.objects.pop(tag, None)
        else:
            self.objects[tag] = obj
        self.changed_objects = self.changed_objects | {tag}
        self.update_history()
        self.save_state()
        return b""

    # -- PIN

    @staticmethod
    def padded(pin):
        return pin.encode().ljust(8, b"\xFF")

    def check_ref(self, ref, value):
        """Checks a PIN (ref 80) or PUK (81) against its counter; raises on failure."""
        tries_attr = "pin_tries" if ref == PIN_REF else "puk_tries"
        secret = self.pin if ref == PIN_REF else self.puk
        limit = self.conf.pin_retries if ref == PIN_REF else self.conf.puk_retries
        tries = getattr(self, tries_attr)
        if tries <= 0:
            raise CardError(SW_BLOCKED)
        if len(value) != 8:
            raise CardError(SW_WRONG_DATA)
        if secrets.compare_digest(value, self.padded(secret)):
            if tries != limit:
                setattr(self, tries_attr, limit)
                self.save_state()
            return
        tries -= 1
        setattr(self, tries_attr, tries)
        self.save_state()
        if ref == PIN_REF:
            self.pin_verified = False
        raise CardError(0x63C0 | min(tries, 15))

    def cmd_verify(self, p1, p2, data):
        if p2 != PIN_REF:
            raise CardError(SW_REF_NOT_FOUND)
        if p1 == 0xFF:
            if data:
                raise CardError(SW_WRONG_P1P2)
            self.pin_verified = False
            return b""
        if p1 != 0x00:
            raise CardError(SW_WRONG_P1P2)
        if not data:
            if self.pin_tries <= 0:
                raise CardError(SW_BLOCKED)
            if self.pin_verified:
                return b""
            raise CardError(0x63C0 | min(self.pin_tries, 15))
        self.check_ref(PIN_REF, data)
        self.pin_verified = True
        self.fresh_verify = True
        return b""

    @staticmethod
    def new_secret(value):
        s = value.rstrip(b"\xFF")
        if len(value) != 8 or not 6 <= len(s) <= 8 or b"\xFF" in s:
            raise CardError(SW_WRONG_DATA)
        return s.decode("latin-1")

    def checked_new_secret(self, ref, data):
        """The new PIN or PUK of CHANGE REFERENCE DATA or RESET RETRY COUNTER (data: the
        current reference data, then the new, 8 bytes each), once the current one is
        checked against ref's counter. A PIV card refuses a malformed new value before
        counting; a YubiKey counts first: libykpiv blocks the PUK before a RESET with
        RESET RETRY COUNTER and empty values (ykcs11's C_InitToken)."""
        if self.conf.yubikey:
            self.check_ref(ref, data[:8])
            return self.new_secret(data[8:])
        new = self.new_secret(data[8:])
        self.check_ref(ref, data[:8])
        return new

    def cmd_change_reference(self, p1, p2, data):
        if p1 != 0x00 or p2 not in (PIN_REF, PUK_REF):
            raise CardError(SW_REF_NOT_FOUND)
        if len(data) != 16:
            raise CardError(SW_WRONG_DATA)
        new = self.checked_new_secret(p2, data)
        if p2 == PIN_REF:
            self.pin = new
            self.pin_verified = True
        else:
            self.puk = new
        self.save_state()
        return b""

    def cmd_reset_retry(self, p1, p2, data):
        if p1 != 0x00 or p2 != PIN_REF:
            raise CardError(SW_REF_NOT_FOUND)
        if len(data) != 16:
            raise CardError(SW_WRONG_DATA)
        new = self.checked_new_secret(PUK_REF, data)
        self.pin = new
        self.pin_tries = self.conf.pin_retries
        self.save_state()
        return b""

    # -- GENERAL AUTHENTICATE

    def cmd_general_authenticate(self, p1, p2, data):
        try:
            outer = parse_tlv(data)
            if len(outer) != 1 or outer[0][0] != 0x7C:
                raise ValueError("no 7C template")
            items = tlv_dict(outer[0][1])
        except ValueError:
            raise CardError(SW_WRONG_DATA)
        if p2 == KEY_MGMT:
            return self.mgmt_auth(p1, items)
        slot = self.slots.get(p2)
        if p2 not in SLOT_OBJECTS or slot is None:
            raise CardError(SW_REF_NOT_FOUND)
        if p1 != slot.alg:
            raise CardError(SW_WRONG_P1P2)
        if p2 != KEY_CARD_AUTH and not self.pin_verified:
            raise CardError(SW_SEC_STATUS)
        # a YubiKey's PIN policy "always" (9C): the PIN verified by the command right before
        if p2 == KEY_SIGN and self.conf.yubikey and not self.fresh_verify:
            raise CardError(SW_SEC_STATUS)
        if self.delay_ms:
            log("general authenticate with key %02x: waiting %d ms" % (p2, self.delay_ms))
            time.sleep(self.delay_ms / 1000.0)
        hold("general authenticate with key %02x" % p2)
        try:
            if 0x82 in items and 0x81 in items and not items[0x82]:
                challenge = items[0x81]
                if slot.rsa:
                    if len(challenge) != slot.size:
                        raise CardError(SW_WRONG_DATA)
                    out = slot.raw_rsa(challenge)
                else:
                    out = slot.ecdsa(challenge)
            elif 0x82 in items and 0x85 in items and not items[0x82] and not slot.rsa:
                out = slot.ecdh(items[0x85])
            else:
                raise CardError(SW_WRONG_DATA)
        except ValueError:
            raise CardError(SW_WRONG_DATA)
        finally:
            # The digital signature key needs the PIN right before each use; a YubiKey
            # keeps the PIN verified for the other keys.
            if p2 == KEY_SIGN and not self.conf.yubikey:
                self.pin_verified = False
        return tlv(0x7C, tlv(0x82, out))

    def mgmt_cipher(self, encrypt, block):
        if self.mgmt_alg == ALG_3DES:
            alg = TripleDES(self.mgmt_key)
        else:
            alg = algorithms.AES(self.mgmt_key)
        c = Cipher(alg, modes.ECB())
        op = c.encryptor() if encrypt else c.decryptor()
        return op.update(block) + op.finalize()

    def mgmt_auth(self, p1, items):
        # a challenge with no algorithm is a request for random bytes (GET CHALLENGE)
        if p1 == 0x00 and items == {0x81: b""}:
            return tlv(0x7C, tlv(0x81, secrets.token_bytes(8)))
        self.mgmt_authed = False  # any other attempt ends an authenticated session
        if p1 != self.mgmt_alg:
            raise CardError(SW_WRONG_P1P2)
        bs = 8 if p1 == ALG_3DES else 16
        # external authenticate, step 1: the card gives a challenge
        if items.get(0x81) == b"" and len(items) == 1:
            self.mgmt_challenge = secrets.token_bytes(bs)
            self.mgmt_witness = None
            return tlv(0x7C, tlv(0x81, self.mgmt_challenge))
        # external authenticate, step 2: the host returns it encrypted
        if 0x82 in items and len(items) == 1 and self.mgmt_challenge:
            want = self.mgmt_cipher(True, self.mgmt_challenge)
            self.mgmt_challenge = None
            if not secrets.compare_digest(items[0x82], want):
                raise CardError(SW_SEC_STATUS)
            self.mgmt_authed = True
            return b""
        # mutual authenticate, step 1: the card gives an encrypted witness
        if items.get(0x80) == b"" and len(items) == 1:
            self.mgmt_witness = secrets.token_bytes(bs)
            self.mgmt_challenge = None
            return tlv(0x7C, tlv(0x80, self.mgmt_cipher(True, self.mgmt_witness)))
        # mutual authenticate, step 2: decrypted witness and a challenge for the card
        if 0x80 in items and 0x81 in items and self.mgmt_witness:
            ok = secrets.compare_digest(items[0x80], self.mgmt_witness)
            self.mgmt_witness = None
            if not ok or len(items[0x81]) != bs:
                raise CardError(SW_SEC_STATUS)
            self.mgmt_authed = True
            return tlv(0x7C, tlv(0x82, self.mgmt_cipher(True, items[0x81])))
        self.mgmt_challenge = self.mgmt_witness = None
        raise CardError(SW_WRONG_DATA)

    # -- SET MANAGEMENT KEY (YubiKey: INS FF, P1 FF, P2 FF or FE for touch)

    def cmd_set_mgmt_key(self, p1, p2, data):
        """Data: algorithm, 9B, length, key. Needs the management key authenticated."""
        if p1 != 0xFF or p2 not in (0xFF, 0xFE):
            raise CardError(SW_WRONG_P1P2)
        if not self.mgmt_authed:
            raise CardError(SW_SEC_STATUS)
        if len(data) < 3 or data[1] != KEY_MGMT or data[0] not in SYM_ALGS or \
                data[2] != SYM_ALGS[data[0]] or len(data) != 3 + data[2]:
            raise CardError(SW_WRONG_DATA)
        self.mgmt_alg = data[0]
        self.mgmt_key = bytes(data[3:])
        self.mgmt_changed = True  # the session stays authenticated, as on a YubiKey
        self.save_state()
        log("management key changed (algorithm %02x)" % self.mgmt_alg)
        return b""

    # -- the YubiKey's own commands (yubico-piv-tool 2.2.0 lib/ykpiv.c)

    def cmd_get_version(self, p1, p2, data):
        """GET VERSION (FD): the firmware version, three bytes."""
        return bytes(self.conf.yubikey)

    def cmd_get_serial(self, p1, p2, data):
        """GET SERIAL (F8, firmware 5): the serial number, four bytes big-endian."""
        if self.conf.yubikey < (5, 0, 0):
            raise CardError(SW_INS_NOT_SUPP)
        return self.conf.serial.to_bytes(4, "big")

    def cmd_get_metadata(self, p1, p2, data):
        """GET METADATA (F7, firmware 5.3), P2 the key: 01 algorithm, 02 PIN and touch
        policy, 03 origin (01 generated, 02 imported), 04 the public key (as in the 7F49
        template) for a private key; 05 whether the factory value is still set and 06 the
        tries (total, left) for the PIN and the PUK."""
        if self.conf.yubikey < (5, 3, 0):
            raise CardError(SW_INS_NOT_SUPP)
        if p1 != 0x00:
            raise CardError(SW_WRONG_P1P2)
        if p2 in (PIN_REF, PUK_REF):
            pin = p2 == PIN_REF
            default = self.pin == YK_FACTORY_PIN if pin else self.puk == YK_FACTORY_PUK
            total = self.conf.pin_retries if pin else self.conf.puk_retries
            left = self.pin_tries if pin else self.puk_tries
            return (tlv(0x01, b"\xFF") + tlv(0x02, b"\x00\x00") +
                    tlv(0x05, bytes([default])) + tlv(0x06, bytes([total, left])))
        if p2 == KEY_MGMT:
            default = self.mgmt_key == bytes.fromhex(DEFAULT_MGMT_KEY)
            return (tlv(0x01, bytes([self.mgmt_alg])) + tlv(0x02, b"\x00\x01") +
                    tlv(0x05, bytes([default])))
        if p2 not in SLOT_OBJECTS:
            raise CardError(SW_WRONG_P1P2)
        slot = self.slots.get(p2)
        if slot is None:
            raise CardError(SW_REF_NOT_FOUND)
        # the PIN policy a YubiKey gives each slot by default: 9C always, 9E never,
        # the others once; touch never
        policy = {KEY_SIGN: 3, KEY_CARD_AUTH: 1}.get(p2, 2)
        origin = 1 if p2 in self.changed_keys else 2
        template = parse_tlv(slot.public_template())[0][1]
        return (tlv(0x01, bytes([slot.alg])) + tlv(0x02, bytes([policy, 1])) +
                tlv(0x03, bytes([origin])) + tlv(0x04, template))

    def cmd_reset(self, p1, p2, data):
        """RESET (FB): once the PIN and the PUK are both blocked, the PIV application as
        it left the factory: PIN 123456, PUK 12345678, the default management key, no
        keys, no objects but CHUID, CCC and Discovery. Otherwise 69 85."""
        if self.pin_tries > 0 or self.puk_tries > 0:
            raise CardError(SW_COND_USE)
        self.pin, self.puk = YK_FACTORY_PIN, YK_FACTORY_PUK
        self.pin_tries, self.puk_tries = self.conf.pin_retries, self.conf.puk_retries
        self.mgmt_alg = ALG_AES_192 if self.conf.yubikey >= (5, 7, 0) else ALG_3DES
        self.mgmt_key = bytes.fromhex(DEFAULT_MGMT_KEY)
        self.mgmt_changed = True
        self.slots = {}
        self.objects = self.base_objects()
        self.changed_keys = set()
        self.changed_objects = set()
        self.wiped = True
        self.update_history()
        self.save_state()
        self.power_reset()
        log("PIV application reset")
        return b""

    # -- GENERATE ASYMMETRIC KEY PAIR

    def cmd_generate(self, p1, p2, data):
        """Data: AC { 80 algorithm [, AA PIN policy, AB touch policy (YubiKey, ignored)] }.
        Answers 7F49 { 81 modulus, 82 exponent } (RSA) or 7F49 { 86 point } (ECC)."""
        if p1 != 0x00 or p2 not in SLOT_OBJECTS:
            raise CardError(SW_WRONG_P1P2)
        if not self.mgmt_authed:
            raise CardError(SW_SEC_STATUS)
        try:
            outer = parse_tlv(data)
            if len(outer) != 1 or outer[0][0] != 0xAC:
                raise ValueError("no AC template")
            alg = tlv_dict(outer[0][1])[0x80]
        except (ValueError, KeyError):
            raise CardError(SW_WRONG_DATA)
        if len(alg) != 1 or (alg[0] not in RSA_ALGS and alg[0] not in EC_ALGS):
            raise CardError(SW_WRONG_DATA)
        alg = alg[0]
        log("generating a key of algorithm %02x in %02x" % (alg, p2))
        slot = Slot(generate_key(alg))
        self.slots[p2] = slot
        self.changed_keys = self.changed_keys | {p2}
        self.save_state()
        # the key is made and kept: a card pulled now leaves it without its certificate
        hold("key generation in %02x" % p2)
        return slot.public_template()


# ---------------------------------------------------------------- vpcd link

def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        # vpcd writes the length and the payload separately with Nagle on: without an
        # immediate ACK of the length, the payload waits for the delayed ACK (~40 ms).
        quickack(sock)
        part = sock.recv(n - len(buf))
        if not part:
            return None
        buf += part
    return buf


def quickack(sock):
    if hasattr(socket, "TCP_QUICKACK"):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        except OSError:
            pass


def describe(apdu):
    if len(apdu) >= 2 and apdu[1] in (0x20, 0x24, 0x2C, 0xFF) and len(apdu) > 5:
        return apdu[:5].hex() + " <secret>"
    return apdu.hex()


def serve(card, host, port, ready_file):
    """Connects to vpcd and answers it; reconnects when vpcd goes away."""
    announced = False
    while True:
        try:
            sock = socket.create_connection((host, port), timeout=1.0)
        except OSError:
            time.sleep(0.05)
            continue
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        quickack(sock)
        log("connected to vpcd at %s:%d" % (host, port))
        card.power_reset()
        try:
            while True:
                hdr = recv_exact(sock, 2)
                if hdr is None:
                    break
                msg = recv_exact(sock, struct.unpack(">H", hdr)[0])
                if msg is None:
                    break
                if len(msg) == 1:
                    ctl = msg[0]
                    log("control %02x" % ctl)
                    if ctl in (0x00, 0x01, 0x02):
                        card.power_reset()
                    elif ctl == 0x04:
                        sock.sendall(struct.pack(">H", len(card.conf.atr)) + card.conf.atr)
                        if ready_file and not announced:
                            with open(ready_file, "w") as f:
                                f.write("%d\n" % os.getpid())
                            announced = True
                    continue
                try:
                    resp = card.process(msg)
                except Exception as e:  # a bug in the card: say so, stay in the reader
                    sys.stderr.write("piv-card: %s on APDU %s\n" % (repr(e), describe(msg)))
                    resp = b"\x6F\x00"
                log("> %s\n< %s" % (describe(msg), resp.hex()))
                sock.sendall(struct.pack(">H", len(resp)) + resp)
        except OSError as e:
            log("link error: %s" % e)
        finally:
            sock.close()
        log("vpcd closed the link")
        time.sleep(0.05)


# ---------------------------------------------------------------- demo card

def make_demo(directory, cn, pin, blank=False, over=None):
    """Writes a demo card: a CA, keys and certificates for 9A, 9C, 9D, 9E, card.json; a
    blank card (a token as it comes from the factory) has card.json alone. over: card.json
    settings given on the command line."""
    os.makedirs(directory, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    start = now - datetime.timedelta(days=1)
    end = now + datetime.timedelta(days=3650)

    def name(common):
        return x509.Name([
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "kyso test"),
            x509.NameAttribute(NameOID.COMMON_NAME, common),
        ])

    def write(fname, data, mode=0o644):
        p = os.path.join(directory, fname)
        with open(p, "wb") as f:
            f.write(data)
        os.chmod(p, mode)

    conf = {
        "pin": pin,
        "puk": "12345678",
        "pin_retries": 3,
        "puk_retries": 3,
        "guid": secrets.token_bytes(16).hex(),
        "label": "kyso virtual PIV",
    }
    conf.update({k: v for k, v in (over or {}).items() if v is not None})
    if blank:
        write("card.json", (json.dumps(conf, indent=1) + "\n").encode())
        Config(directory)  # raises on a bad setting
        return

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = name("kyso test CA")
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(start).not_valid_after(end)
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                       False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    write("ca.crt", ca.public_bytes(serialization.Encoding.PEM))
    write("ca.key", key_pem(ca_key).encode(), 0o600)

    # slot, key, common name, key usage (digital_signature, content_commitment,
    # key_encipherment, data_encipherment, key_agreement)
    plan = [
        ("9a", rsa.generate_private_key(65537, 2048), cn, (True, False, False, False, False)),
        ("9c", ec.generate_private_key(ec.SECP256R1()), cn, (True, True, False, False, False)),
        ("9d", ec.generate_private_key(ec.SECP256R1()), cn, (False, False, False, False, True)),
        ("9e", ec.generate_private_key(ec.SECP256R1()), "Card Authentication",
         (True, False, False, False, False)),
    ]
    for slot, key, common, ku in plan:
        cert = (x509.CertificateBuilder().subject_name(name(common)).issuer_name(ca_name)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(start).not_valid_after(end)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(*ku, False, False, False, False), critical=True)
                .sign(ca_key, hashes.SHA256()))
        write(slot + ".key", key_pem(key).encode(), 0o600)
        write(slot + ".crt", cert.public_bytes(serialization.Encoding.PEM))
    write("card.json", (json.dumps(conf, indent=1) + "\n").encode())
    Config(directory)


# ---------------------------------------------------------------- main

def main():
    global VERBOSE, HOLD_FILE
    ap = argparse.ArgumentParser(description="Virtual PIV card for vsmartcard's vpcd.")
    ap.add_argument("config", nargs="?", help="card directory or JSON file")
    ap.add_argument("--host", default="127.0.0.1", help="vpcd address (127.0.0.1)")
    ap.add_argument("--port", type=int, default=35963, help="vpcd port (35963)")
    ap.add_argument("--state", help="JSON file keeping PIN counters and provisioned data")
    ap.add_argument("--ready-file", help="written once vpcd has asked for the ATR")
    ap.add_argument("--make-demo", metavar="DIR", help="write a demo card into DIR and exit")
    ap.add_argument("--cn", default="Phạm Thị Hoa", help="cardholder name for --make-demo")
    ap.add_argument("--pin", default="123456", help="PIN for --make-demo")
    ap.add_argument("--delay-ms", type=int, default=0, metavar="MS",
                    help="answer private key operations (GENERAL AUTHENTICATE) MS later")
    ap.add_argument("--hold-file", metavar="FILE",
                    help="while FILE exists, private key operations wait (after --delay-ms)")
    ap.add_argument("--blank", action="store_true",
                    help="--make-demo: no keys, no certificates (a card to provision)")
    ap.add_argument("--mgmt-alg", metavar="ALG",
                    help="management key algorithm: 3des (03), aes128 (08), aes192 (0A), "
                    "aes256 (0C); instead of card.json's mgmt_alg")
    ap.add_argument("--mgmt-key", metavar="HEX", help="management key, instead of card.json's")
    ap.add_argument("--pin-retries", type=int, metavar="N", help="PIN tries (card.json: 3)")
    ap.add_argument("--puk-retries", type=int, metavar="N", help="PUK tries (card.json: 3)")
    ap.add_argument("--guid", metavar="HEX", help="the CHUID's GUID (16 bytes): the serial")
    ap.add_argument("--yubikey", metavar="VERSION",
                    help="answer a YubiKey's own commands as firmware VERSION (5.4.3) does, "
                    "with a YubiKey 5's ATR; instead of card.json's yubikey")
    ap.add_argument("--serial", type=int, metavar="N",
                    help="the YubiKey's serial number (default from the GUID)")
    ap.add_argument("-v", "--verbose", action="store_true", help="log APDUs to stderr")
    args = ap.parse_args()
    VERBOSE = args.verbose
    HOLD_FILE = args.hold_file
    over = {"mgmt_alg": args.mgmt_alg, "mgmt_key": args.mgmt_key,
            "pin_retries": args.pin_retries, "puk_retries": args.puk_retries,
            "guid": args.guid, "yubikey": args.yubikey, "serial": args.serial}

    if args.make_demo:
        try:
            make_demo(args.make_demo, args.cn, args.pin, args.blank, over)
        except ValueError as e:
            sys.stderr.write("piv-card: %s: %s\n" % (args.make_demo, e))
            return 1
        return 0
    if not args.config:
        ap.error("a card directory or JSON file is needed")
    try:
        card = PivCard(Config(args.config, over), args.state, max(0, args.delay_ms))
    except (OSError, ValueError, KeyError) as e:
        sys.stderr.write("piv-card: %s: %s\n" % (args.config, e))
        return 1
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    try:
        serve(card, args.host, args.port, args.ready_file)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
