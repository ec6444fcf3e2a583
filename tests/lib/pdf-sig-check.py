#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Checks the last signature of a PDF without any PDF library: finds the last
/ByteRange, checks it is [0 a b c] with a the '<' of a hex /Contents string,
b just past its '>' and b + c the file's length, and writes PREFIX.p7s (the DER
in /Contents, its zero padding cut by the DER length) and PREFIX.signed (the
bytes the range covers). Prints JSON: the range, /Type and /SubFilter of the
dictionary. With --nth N, the Nth signature (from 1) instead of the last, and
its range must end at the end of an update (%%EOF) rather than of the file.

usage: pdf-sig-check.py FILE PREFIX [--nth N]
"""
import json
import re
import sys


def der_length(b):
    if b[0] not in (0x30,):
        raise ValueError("/Contents does not start with a DER SEQUENCE")
    n = b[1]
    if n == 0x80:
        return len(b)  # BER, indefinite length (other signers): the padding is kept
    if n < 0x80:
        return 2 + n
    k = n & 0x7F
    return 2 + k + int.from_bytes(b[2:2 + k], "big")


def main():
    data = open(sys.argv[1], "rb").read()
    prefix = sys.argv[2]
    nth = int(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[3] == "--nth" else 0
    ranges = list(re.finditer(
        rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", data))
    if not ranges or nth > len(ranges):
        sys.exit("no /ByteRange" if not ranges else "fewer than %d signatures" % nth)
    m = ranges[nth - 1] if nth else ranges[-1]
    r = [int(x) for x in m.groups()]
    end = r[2] + r[3]
    if nth and (r[0] != 0 or end > len(data) or
                not data[:end].rstrip(b"\r\n").endswith(b"%%EOF")):
        sys.exit("the range %r does not run from 0 to the end of an update" % (r,))
    if not nth and (r[0] != 0 or end != len(data)):
        sys.exit("the range %r does not run from 0 to the end (%d)" % (r, len(data)))
    if data[r[1]:r[1] + 1] != b"<" or data[r[2] - 1:r[2]] != b">":
        sys.exit("the gap %d-%d is not a hex string" % (r[1], r[2]))
    hexstr = data[r[1] + 1:r[2] - 1]
    if not re.fullmatch(rb"[0-9A-Fa-f]*", hexstr):
        sys.exit("the gap holds more than hex digits")
    before = data[:r[1]]
    if not re.search(rb"/Contents\s*$", before):
        sys.exit("the gap is not the value of /Contents")
    der = bytes.fromhex(hexstr.decode())
    der = der[:der_length(der)]
    open(prefix + ".p7s", "wb").write(der)
    open(prefix + ".signed", "wb").write(data[:r[1]] + data[r[2]:end])
    start = data.rfind(b"obj", 0, m.start())
    end = data.find(b"endobj", m.end())
    d = data[start:end]
    out = {"range": r}
    for key in ("Type", "SubFilter"):
        k = re.search(rb"/" + key.encode() + rb"\s*(/[A-Za-z0-9.]+)", d)
        out[key.lower()] = k.group(1).decode() if k else None
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
