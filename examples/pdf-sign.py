#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Signs a PDF with kyso: a CAdES signature (optionally time-stamped) in a
PDF signature field, the way a record application does it.

The PDF is written with a signature dictionary whose /Contents is a
placeholder; the bytes outside it (the /ByteRange) are hashed; kysod signs
that hash ("format": "cms") and its CMS SignedData goes into the placeholder.
A PDF reader hashes the same byte ranges and checks the CMS against them.

Python standard library only; kysod is reached over its Unix socket.

usage: pdf-sign.py --certificate ID [--socket PATH] [--timestamp]
                   [--hash sha256|sha384|sha512] [--padding pkcs1|pss]
                   [--title TEXT] [--line TEXT]... OUT.pdf
       pdf-sign.py --certificate ID --input IN.pdf [--level B-B|B-T|B-LT|B-LTA]
                   [--reason TEXT] [--location TEXT] [--visible PAGE,X,Y,W,H]
                   [--kyso PATH] [--socket PATH] OUT.pdf

Without --input this example writes a new one-page PDF (the "record"); an
application signing its own PDFs does the same with its PDF library's
"external signature" or "deferred signing" interface: reserve /Contents,
hash the /ByteRange, put kyso's CMS in.

With --input it signs an existing PDF the way an application that has no
PDF library does: it runs `kyso pdf sign`, which appends a PAdES signature
as an incremental update (earlier signatures stay valid), with a visible
appearance that shows the signer's Vietnamese name, the time, the reason
and the place in an embedded font.
"""
import argparse
import base64
import hashlib
import json
import os
import subprocess
import time

from kyso_api import KysoApiError, api, default_socket

# Room for the CMS (DER) in /Contents: a chain of 3 certificates and a
# timestamp token fit easily.
CONTENTS_BYTES = 24 * 1024


def pdf_string(text):
    """A PDF text string: literal for ASCII, else hex UTF-16BE with a BOM."""
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError:
        return b"<feff" + text.encode("utf-16-be").hex().encode() + b">"
    out = raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    return b"(" + out + b")"


def page_text(s):
    """Text for the page's content stream (Helvetica shows ASCII only)."""
    ascii_text = s.encode("ascii", "replace").decode()
    return ascii_text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def build_pdf(title, lines, signer, digest):
    """The PDF with an empty signature: (bytes, offset of '<' of /Contents, its length)."""
    now = time.strftime("D:%Y%m%d%H%M%SZ", time.gmtime())
    content = ["BT /F1 16 Tf 56 780 Td (%s) Tj ET" % page_text(title)]
    y = 750
    for line in lines:
        content.append("BT /F1 11 Tf 56 %d Td (%s) Tj ET" % (y, page_text(line)))
        y -= 16
    stream = ("\n".join(content) + "\n").encode()
    placeholder = b"<" + b"0" * (2 * CONTENTS_BYTES) + b">"
    byte_range = b"/ByteRange [0 ********** ********** **********]"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [4 0 R] /SigFlags 3 >> >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 6 0 R"
        b" /Resources << /Font << /F1 7 0 R >> >> /Annots [4 0 R] >>",
        b"<< /Type /Annot /Subtype /Widget /FT /Sig /T (Signature1) /V 5 0 R"
        b" /Rect [0 0 0 0] /F 132 /P 3 0 R >>",
        b"<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /adbe.pkcs7.detached "
        + byte_range + b" /Contents " + placeholder
        + b" /M " + pdf_string(now) + b" /Name " + pdf_string(signer)
        + b" /Reason " + pdf_string("Record " + digest[:16]) + b" >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"endstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    start = out.index(placeholder)
    # the byte ranges: before the '<' of /Contents, and after its '>'
    a, b = start, start + len(placeholder)
    c = len(out) - b
    filled = b"/ByteRange [0 %10d %10d %10d]" % (a, b, c)
    assert len(filled) == len(byte_range)
    pos = out.index(byte_range)
    out[pos:pos + len(byte_range)] = filled
    return out, a, len(placeholder)


def main():
    p = argparse.ArgumentParser(description="Sign a PDF with kyso (CAdES in a PDF signature)")
    p.add_argument("--certificate", required=True, help="certificate id (GET /v1/certificates)")
    p.add_argument("--socket", default=default_socket())
    p.add_argument("--timestamp", action="store_true", help="CAdES-T: add an RFC 3161 timestamp")
    p.add_argument("--hash", default="sha256", choices=["sha256", "sha384", "sha512"])
    p.add_argument("--padding", choices=["pkcs1", "pss"])
    p.add_argument("--title", default="Student record")
    p.add_argument("--line", action="append", default=[])
    p.add_argument("--input", help="an existing PDF to sign (with kyso pdf sign)")
    p.add_argument("--level", default="B-B", choices=["B-B", "B-T", "B-LT", "B-LTA"])
    p.add_argument("--reason")
    p.add_argument("--location")
    p.add_argument("--visible", help="PAGE,X,Y,W,H: show the signature there")
    p.add_argument("--kyso", default=os.environ.get("KYSO", "kyso"), help="the kyso command")
    p.add_argument("out")
    args = p.parse_args()
    if args.input:
        return sign_existing(args)

    cert = api(args.socket, "GET", "/v1/certificates/" + args.certificate)
    record = "\n".join([args.title] + args.line)
    pdf, start, length = build_pdf(args.title, args.line, cert["subject_cn"],
                                   hashlib.sha256(record.encode()).hexdigest())
    signed_bytes = bytes(pdf[:start]) + bytes(pdf[start + length:])
    digest = hashlib.new(args.hash, signed_bytes).digest()
    body = {"certificate": args.certificate, "hash": base64.b64encode(digest).decode(),
            "hash_algorithm": args.hash, "format": "cms"}
    if args.padding:
        body["padding"] = args.padding
    if args.timestamp:
        body["timestamp"] = True
    answer = api(args.socket, "POST", "/v1/sign", body)
    cms = base64.b64decode(answer["signature"])
    if 2 * len(cms) > length - 2:
        raise SystemExit("the signature (%d bytes) does not fit the /Contents placeholder" % len(cms))
    hexsig = cms.hex().encode()
    pdf[start + 1:start + 1 + len(hexsig)] = hexsig
    with open(args.out, "wb") as f:
        f.write(pdf)
    print("signed %s: %s, %d bytes of CMS%s" % (
        args.out, answer["algorithm"], len(cms),
        ", time-stamped at " + answer["timestamp"]["time"] if "timestamp" in answer else ""))


def sign_existing(args):
    """Signs args.input into args.out with kyso pdf sign (PAdES, an incremental update)."""
    cmd = [args.kyso, "--socket", args.socket, "--json", "pdf", "sign", args.input,
           "-o", args.out, "--cert", args.certificate, "--level", args.level,
           "--hash-alg", args.hash]
    if args.padding:
        cmd += ["--padding", args.padding]
    for opt in ("reason", "location", "visible"):
        if getattr(args, opt):
            cmd += ["--" + opt, getattr(args, opt)]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode:
        raise SystemExit(run.stderr.strip() or "kyso pdf sign failed")
    print("signed %s: PAdES %s, field %s" % (args.out, args.level,
                                              json.loads(run.stdout)["field"]))


if __name__ == "__main__":
    try:
        main()
    except KysoApiError as e:
        raise SystemExit(str(e))
