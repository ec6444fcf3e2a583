#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Flips single bits in a DER CMS signature and asks kysod's POST /v1/verify about each:
one bit in every byte of the signed attributes and of the signature value (anything the
signature covers), and one named bit in each unsigned field the docs speak of. Prints a
JSON summary of the verdicts.

usage: cms-flip.py SOCKET CMS_FILE HASH_B64 HASH_ALG
"""
import base64
import http.client
import importlib.util
import json
import os
import socket
import sys

spec = importlib.util.spec_from_file_location(
    "cms_inspect", os.path.join(os.path.dirname(os.path.abspath(__file__)), "cms-inspect.py"))
cms_inspect = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cms_inspect)
Node = cms_inspect.Node


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=60)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.unix_path)
        self.sock = s


def verdict(sock, der, hash_b64, alg):
    body = json.dumps({"format": "cms", "signature": base64.b64encode(der).decode(),
                       "hash": hash_b64, "hash_algorithm": alg})
    c = UnixConnection(sock)
    c.request("POST", "/v1/verify", body, {"Content-Type": "application/json"})
    r = c.getresponse()
    answer = json.loads(r.read() or b"{}")
    c.close()
    if r.status == 400:
        return "malformed", None
    if r.status != 200:
        return "http_%d" % r.status, None
    if answer.get("valid") is not (answer.get("status") == "valid"):
        return "inconsistent", answer.get("reason")
    return answer.get("status"), answer.get("reason")


def flipped(data, i, bit):
    d = bytearray(data)
    d[i] ^= 1 << bit
    return bytes(d)


def main():
    sock, path, hash_b64, alg = sys.argv[1:5]
    data = open(path, "rb").read()
    root = Node(data, 0)
    sd = root.children()[1].children()[0]
    parts = sd.children()
    signer_infos = [p for p in parts[3:] if p.tag == 0x31][0]
    si = signer_infos.children()[0].children()
    signed_attrs = si[3]
    assert signed_attrs.tag == 0xA0, "no signed attributes"
    sig_value = si[5]
    out = {"original": verdict(sock, data, hash_b64, alg)[0]}
    counts = {}
    for node in (signed_attrs, sig_value):
        for i in range(node.start, node.end):
            status, reason = verdict(sock, flipped(data, i, i % 8), hash_b64, alg)
            counts[status] = counts.get(status, 0) + 1
            if status == "valid":
                out.setdefault("valid_at", []).append(i)
    out["signed"] = counts
    out["signed_bytes"] = sum(n.end - n.start for n in (signed_attrs, sig_value))
    # unsigned fields: (name, byte offset, bit)
    encap = parts[2].children()
    first_digest_alg = parts[1].children()[0].children()[0]
    fields = [
        ("signed_data_version", parts[0].end - 1, 1),
        ("digest_algorithms", first_digest_alg.end - 1, 1),
        ("econtent_type", encap[0].end - 1, 0),
        ("signer_info_version", si[0].end - 1, 1),
        # signed, and OpenSSL alone would take it: the constructed bit of the first signed
        # attribute's value SET (a BER variant that parses to the same attribute)
        ("signed_attr_set_tag", signed_attrs.children()[0].children()[1].start, 5),
    ]
    if len(si) > 6 and si[6].tag == 0xA1:
        # the TSTInfo inside the token (what the authority signed): the middle byte
        for attr in si[6].children():
            a = attr.children()
            if cms_inspect.oid(a[0]) == "signatureTimeStampToken":
                tok_sd = a[1].children()[0].children()[1].children()[0]
                tst = tok_sd.children()[2].children()[1].children()[0]
                fields.append(("timestamp_token", (tst.cstart + tst.end) // 2, 0))
    out["fields"] = {}
    for name, i, bit in fields:
        status, reason = verdict(sock, flipped(data, i, bit), hash_b64, alg)
        out["fields"][name] = "%s/%s" % (status, reason)
    json.dump(out, sys.stdout, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
