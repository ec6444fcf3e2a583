#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Replaces the signature value of a DER CMS SignedData's first SignerInfo with one made by
another key over the same signed attributes: a signature by the wrong key, everything else
(certificates, signer identifier, attributes) unchanged. For the verification tests.

usage: cms-resign.py IN.der KEY.pem HASH OUT.der     (HASH: sha256, sha384 or sha512)
       cms-resign.py IN.der --flip HASH OUT.der      one bit of the signature value changed
"""
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa


def parse(data, pos=0):
    """One TLV at pos: (tag, value bytes or list of children, end)."""
    tag = data[pos]
    pos += 1
    n = data[pos]
    pos += 1
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(data[pos:pos + k], "big")
        pos += k
    end = pos + n
    if tag & 0x20:
        kids, p = [], pos
        while p < end:
            kid = parse(data, p)
            kids.append(kid)
            p = kid[2]
        return [tag, kids, end]
    return [tag, data[pos:end], end]


def encode(node):
    tag, val = node[0], node[1]
    body = b"".join(encode(k) for k in val) if isinstance(val, list) else val
    n = len(body)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + length + body


def main():
    src, key_path, alg, dst = sys.argv[1:5]
    h = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}[alg]()
    root = parse(open(src, "rb").read())
    signed_data = root[1][1][1][0]            # ContentInfo -> [0] -> SignedData
    signer_infos = [k for k in signed_data[1] if k[0] == 0x31][-1]
    si = signer_infos[1][0]
    attrs = next(k for k in si[1] if k[0] == 0xA0)
    octet = next(k for k in si[1] if k[0] == 0x04)
    to_sign = encode([0x31, attrs[1]])         # signed as a SET OF, not [0] IMPLICIT
    if key_path == "--flip":
        sig = bytearray(octet[1])
        sig[len(sig) // 2] ^= 0x04
        octet[1] = bytes(sig)
        open(dst, "wb").write(encode(root))
        return
    key = serialization.load_pem_private_key(open(key_path, "rb").read(), None)
    if isinstance(key, rsa.RSAPrivateKey):
        sig = key.sign(to_sign, padding.PKCS1v15(), h)
    else:
        sig = key.sign(to_sign, ec.ECDSA(h))
    octet[1] = sig
    open(dst, "wb").write(encode(root))


if __name__ == "__main__":
    main()
