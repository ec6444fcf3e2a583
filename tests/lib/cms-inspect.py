#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Prints what a DER CMS SignedData holds, as JSON, for the tests: a small DER
reader of its own, so that the checks do not rest on the library that made it.

usage: cms-inspect.py FILE [--timestamp-token OUT] [--signature-value OUT]
                      [--signed-attrs OUT]
--signed-attrs writes what the signer signed: the DER SET OF its signed attributes.
"""
import base64
import hashlib
import json
import sys

OIDS = {
    "1.2.840.113549.1.7.1": "data",
    "1.2.840.113549.1.7.2": "signedData",
    "1.2.840.113549.1.9.3": "contentType",
    "1.2.840.113549.1.9.4": "messageDigest",
    "1.2.840.113549.1.9.5": "signingTime",
    "1.2.840.113549.1.9.15": "smimeCapabilities",
    "1.2.840.113549.1.9.16.2.12": "signingCertificate",
    "1.2.840.113549.1.9.16.2.47": "signingCertificateV2",
    "1.2.840.113549.1.9.16.2.14": "signatureTimeStampToken",
    "1.2.840.113549.1.9.16.1.4": "tstInfo",
    "2.16.840.1.101.3.4.2.1": "sha256",
    "2.16.840.1.101.3.4.2.2": "sha384",
    "2.16.840.1.101.3.4.2.3": "sha512",
    "1.2.840.113549.1.1.1": "rsaEncryption",
    "1.2.840.113549.1.1.10": "rsassaPss",
    "1.2.840.113549.1.1.8": "mgf1",
    "1.2.840.113549.1.1.11": "sha256WithRSAEncryption",
    "1.2.840.10045.4.3.2": "ecdsa-with-SHA256",
    "1.2.840.10045.4.3.3": "ecdsa-with-SHA384",
    "1.2.840.10045.4.3.4": "ecdsa-with-SHA512",
}


class Node:
    def __init__(self, data, start):
        self.data = data
        self.start = start
        tag = data[start]
        i = start + 1
        if tag & 0x1F == 0x1F:
            raise ValueError("high tag numbers are not expected here")
        n = data[i]
        i += 1
        if n & 0x80:
            k = n & 0x7F
            if k == 0 or k > 4:
                raise ValueError("bad length at %d" % start)
            n = int.from_bytes(data[i:i + k], "big")
            i += k
        self.tag = tag
        self.cstart = i
        self.end = i + n
        if self.end > len(data):
            raise ValueError("truncated at %d" % start)

    @property
    def content(self):
        return self.data[self.cstart:self.end]

    @property
    def der(self):
        return self.data[self.start:self.end]

    def children(self):
        out, i = [], self.cstart
        while i < self.end:
            c = Node(self.data, i)
            out.append(c)
            i = c.end
        return out


def oid(node):
    b = node.content
    first = b[0]
    parts = [str(min(first // 40, 2)), str(first - 40 * min(first // 40, 2))]
    v = 0
    for x in b[1:]:
        v = (v << 7) | (x & 0x7F)
        if not x & 0x80:
            parts.append(str(v))
            v = 0
    s = ".".join(parts)
    return OIDS.get(s, s)


def algorithm(node):
    ch = node.children()
    out = {"algorithm": oid(ch[0])}
    if len(ch) > 1:
        out["parameters"] = ch[1].der.hex()
    return out


def attributes(node):
    attrs, order = {}, []
    for a in node.children():
        ch = a.children()
        name = oid(ch[0])
        attrs[name] = [v for v in ch[1].children()]
        order.append(a.der)
    return attrs, order


def main():
    path = sys.argv[1]
    data = open(path, "rb").read()
    root = Node(data, 0)
    out = {"trailing_bytes": len(data) - root.end}
    ci = root.children()
    out["content_type"] = oid(ci[0])
    sd = ci[1].children()[0]
    parts = sd.children()
    out["version"] = int.from_bytes(parts[0].content, "big")
    out["digest_algorithms"] = [algorithm(a)["algorithm"] for a in parts[1].children()]
    encap = parts[2].children()
    out["econtent_type"] = oid(encap[0])
    out["detached"] = len(encap) == 1
    certs, signer_infos = [], None
    for p in parts[3:]:
        if p.tag == 0xA0:
            certs = [c.der for c in p.children()]
        elif p.tag == 0x31:
            signer_infos = p
    out["certificates"] = [hashlib.sha256(c).hexdigest() for c in certs]
    signers = []
    for si in signer_infos.children():
        ch = si.children()
        s = {"version": int.from_bytes(ch[0].content, "big")}
        s["digest_algorithm"] = algorithm(ch[2])["algorithm"]
        i = 3
        signed = {}
        if ch[i].tag == 0xA0:
            signed, order = attributes(ch[i])
            s["signed_attrs_sorted"] = order == sorted(order)
            s["signed_attrs"] = sorted(signed)
            if "--signed-attrs" in sys.argv:
                open(sys.argv[sys.argv.index("--signed-attrs") + 1], "wb").write(
                    b"\x31" + ch[i].der[1:])
            i += 1
        s["signature_algorithm"] = algorithm(ch[i])
        s["signature"] = ch[i + 1].content.hex()
        unsigned = {}
        if len(ch) > i + 2 and ch[i + 2].tag == 0xA1:
            unsigned, _ = attributes(ch[i + 2])
            s["unsigned_attrs"] = sorted(unsigned)
        if "contentType" in signed:
            s["content_type_attr"] = oid(signed["contentType"][0])
        if "messageDigest" in signed:
            s["message_digest"] = signed["messageDigest"][0].content.hex()
        if "signingTime" in signed:
            s["signing_time"] = signed["signingTime"][0].content.decode()
        if "signingCertificateV2" in signed:
            ids = signed["signingCertificateV2"][0].children()[0].children()
            first = ids[0].children()
            if first[0].tag == 0x30:
                alg, h = algorithm(first[0])["algorithm"], first[1]
            else:
                alg, h = "sha256", first[0]
            s["signing_certificate_v2"] = {"hash_algorithm": alg, "cert_hash": h.content.hex(),
                                           "issuer_serial": len(first) > 2}
            # which of the certificates it names
            for c in certs:
                if hashlib.new(alg, c).hexdigest() == h.content.hex():
                    s["signing_certificate_v2"]["names"] = hashlib.sha256(c).hexdigest()
        if "signatureTimeStampToken" in unsigned:
            tok = unsigned["signatureTimeStampToken"][0].der
            s["timestamp_token"] = base64.b64encode(tok).decode()
            if "--timestamp-token" in sys.argv:
                open(sys.argv[sys.argv.index("--timestamp-token") + 1], "wb").write(tok)
        if "--signature-value" in sys.argv:
            open(sys.argv[sys.argv.index("--signature-value") + 1], "wb").write(
                bytes.fromhex(s["signature"]))
        signers.append(s)
    out["signers"] = signers
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
