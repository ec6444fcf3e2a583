#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Signs an XML record with kyso: an enveloped XML-DSig signature
(RSA-SHA256, inclusive C14N 1.0) that `xmlsec1 --verify` accepts.

The record is written in canonical form (C14N 1.0: no XML declaration in the
signed bytes, attributes sorted, every element with an end tag, the escapes
C14N uses), so its digest is the SHA-256 of exactly those bytes. The
SignedInfo element is canonicalised the same way and its SHA-256 is sent to
kysod ("format": "raw", PKCS#1 v1.5); the answer is the SignatureValue.

Python standard library only; kysod is reached over its Unix socket.
This shows the bare XML-DSig flow over the API; `kyso xml sign` (kyso(1))
makes XAdES (B-B, B-T): SignedProperties with SigningCertificateV2, the
chain in KeyInfo, a SignatureTimeStamp, RSA and ECDSA, over any record:

    kyso xml sign record.xml -o signed.xml --cert ID --level B-T
    xmlsec1 --verify --trusted-pem root.pem --enabled-key-data x509 \\
        --id-attr:Id "http://uri.etsi.org/01903/v1.3.2#:SignedProperties" signed.xml

usage: xml-sign.py --certificate ID [--socket PATH] [--field NAME=VALUE]... OUT.xml
"""
import argparse
import base64
import hashlib

from kyso_api import KysoApiError, api, default_socket

DSIG = "http://www.w3.org/2000/09/xmldsig#"
C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"


# C14N 1.0 escaping (section 2.3 of the recommendation)
def c14n_text(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#xD;")


def c14n_attr(s):
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
            .replace("\t", "&#x9;").replace("\n", "&#xA;").replace("\r", "&#xD;"))


def element(name, attrs=None, content=""):
    """An element in canonical form: attributes sorted, an explicit end tag.
    content is canonical text already (use c14n_text for character data)."""
    a = "".join(' %s="%s"' % (k, c14n_attr(v)) for k, v in sorted((attrs or {}).items()))
    return "<%s%s>%s</%s>" % (name, a, content, name)


def signed_info(digest_b64, xmlns):
    """SignedInfo; with xmlns set, as C14N renders it (the namespace it inherits from
    Signature shown on it), else as it is written inside Signature."""
    attrs = {"xmlns": DSIG} if xmlns else {}
    return element("SignedInfo", attrs,
                   element("CanonicalizationMethod", {"Algorithm": C14N}) +
                   element("SignatureMethod", {"Algorithm": RSA_SHA256}) +
                   element("Reference", {"URI": ""},
                           element("Transforms", None, element("Transform", {"Algorithm": ENVELOPED})) +
                           element("DigestMethod", {"Algorithm": SHA256}) +
                           element("DigestValue", None, digest_b64)))


def main():
    p = argparse.ArgumentParser(description="Sign an XML record with kyso (enveloped XML-DSig)")
    p.add_argument("--certificate", required=True, help="certificate id of an RSA key")
    p.add_argument("--socket", default=default_socket())
    p.add_argument("--field", action="append", default=[], metavar="NAME=VALUE",
                   help="a field of the record (element NAME with text VALUE)")
    p.add_argument("--id", default="record-1", help="the record's id attribute")
    p.add_argument("out")
    args = p.parse_args()

    cert = api(args.socket, "GET", "/v1/certificates/" + args.certificate)
    if cert["key_type"] != "rsa":
        raise SystemExit("this example signs with RSA-SHA256: choose an RSA certificate")
    fields = "".join("\n  " + element(f.split("=", 1)[0], None, c14n_text(f.split("=", 1)[1]))
                     for f in args.field)
    # the record, canonical; the signature goes in before its end tag
    body = fields + "\n"
    record = element("record", {"id": args.id, "version": "1"}, body)
    digest = base64.b64encode(hashlib.sha256(record.encode("utf-8")).digest()).decode()

    si_c14n = signed_info(digest, True).encode("utf-8")
    si_hash = hashlib.sha256(si_c14n).digest()
    answer = api(args.socket, "POST", "/v1/sign", {
        "certificate": args.certificate, "hash": base64.b64encode(si_hash).decode(),
        "hash_algorithm": "sha256", "padding": "pkcs1", "format": "raw"})
    der_b64 = "".join(l for l in cert["pem"].splitlines() if not l.startswith("-----"))
    signature = element("Signature", {"xmlns": DSIG},
                        signed_info(digest, False) +
                        element("SignatureValue", None, answer["signature"]) +
                        element("KeyInfo", None,
                                element("X509Data", None,
                                        element("X509Certificate", None, der_b64))))
    # the enveloped-signature transform removes exactly this element again
    signed = element("record", {"id": args.id, "version": "1"}, body + signature)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n' + signed + "\n")
    print("signed %s: %s" % (args.out, answer["algorithm"]))


if __name__ == "__main__":
    try:
        main()
    except KysoApiError as e:
        raise SystemExit(str(e))
