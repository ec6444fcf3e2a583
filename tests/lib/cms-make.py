#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Makes a detached CMS SignedData over a file with a signingTime of the caller's choice
(which no signing tool lets one choose): for the tests of a backdated or future claimed
signing time. The key signs with Python's cryptography; the DER is written here.

usage: cms-make.py KEY CERT DATA SIGNING_TIME OUT [CHAIN_PEM...]
       SIGNING_TIME as YYYYMMDDHHMMSSZ; the digest is SHA-256; the CHAIN_PEM certificates
       are carried in the signature too.
"""
import hashlib
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa


def tlv(tag, content):
    n = len(content)
    if n < 0x80:
        length = bytes([n])
    else:
        b = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(b)]) + b
    return bytes([tag]) + length + content


def seq(*parts):
    return tlv(0x30, b"".join(parts))


def set_of(*parts):
    return tlv(0x31, b"".join(sorted(parts)))


def oid(dotted):
    nums = [int(x) for x in dotted.split(".")]
    out = bytearray([40 * nums[0] + nums[1]])
    for n in nums[2:]:
        chunk = [n & 0x7F]
        n >>= 7
        while n:
            chunk.append(0x80 | (n & 0x7F))
            n >>= 7
        out += bytes(reversed(chunk))
    return tlv(0x06, bytes(out))


def integer(v):
    b = v.to_bytes(v.bit_length() // 8 + 1, "big", signed=True)
    return tlv(0x02, b)


def main():
    key_path, cert_path, data_path, when, out_path = sys.argv[1:6]
    chain = [x509.load_pem_x509_certificate(open(p, "rb").read()) for p in sys.argv[6:]]
    key = serialization.load_pem_private_key(open(key_path, "rb").read(), None)
    cert = x509.load_pem_x509_certificate(open(cert_path, "rb").read())
    digest = hashlib.sha256(open(data_path, "rb").read()).digest()
    year = int(when[:4])
    t = tlv(0x17, when[2:].encode()) if 1950 <= year < 2050 else tlv(0x18, when.encode())
    attrs = [
        seq(oid("1.2.840.113549.1.9.3"), set_of(oid("1.2.840.113549.1.7.1"))),
        seq(oid("1.2.840.113549.1.9.5"), set_of(t)),
        seq(oid("1.2.840.113549.1.9.4"), set_of(tlv(0x04, digest))),
    ]
    signed = set_of(*attrs)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        sig = key.sign(signed, ec.ECDSA(hashes.SHA256()))
        sig_alg = seq(oid("1.2.840.10045.4.3.2"))
    elif isinstance(key, rsa.RSAPrivateKey):
        sig = key.sign(signed, padding.PKCS1v15(), hashes.SHA256())
        sig_alg = seq(oid("1.2.840.113549.1.1.11"), tlv(0x05, b""))
    else:
        sys.exit("cms-make.py: unsupported key type")
    sha256 = seq(oid("2.16.840.1.101.3.4.2.1"))
    sid = seq(cert.issuer.public_bytes(), integer(cert.serial_number))
    signer_info = seq(integer(1), sid, sha256, tlv(0xA0, signed[2:] if signed[1] < 0x80 else
                                                    signed[2 + (signed[1] & 0x7F):]),
                      sig_alg, tlv(0x04, sig))
    signed_data = seq(integer(1), set_of(sha256), seq(oid("1.2.840.113549.1.7.1")),
                      tlv(0xA0, b"".join(c.public_bytes(serialization.Encoding.DER)
                                         for c in [cert] + chain)),
                      set_of(signer_info))
    ci = seq(oid("1.2.840.113549.1.7.2"), tlv(0xA0, signed_data))
    open(out_path, "wb").write(ci)


if __name__ == "__main__":
    main()
