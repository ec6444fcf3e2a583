#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Reads an XAdES signature written by kyso xml sign, independently of its
code: prints JSON with its algorithms, its SignedProperties, the number of
certificates in KeyInfo and, with --timestamp TST --imprint FILE, writes the
SignatureTimeStamp's token (DER) and the exclusive C14N 1.0 form of
ds:SignatureValue (the bytes its message imprint is over: an element with
the ds prefix, its one attribute Id and base64 text; C14N renders the ds
namespace it uses on it).

usage: xades-inspect.py SIGNED.xml [--timestamp TST --imprint FILE]
"""
import argparse
import base64
import json
import xml.etree.ElementTree as ET

DS = "http://www.w3.org/2000/09/xmldsig#"
XA = "http://uri.etsi.org/01903/v1.3.2#"
N = {"ds": DS, "xades": XA}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--timestamp")
    ap.add_argument("--imprint")
    a = ap.parse_args()
    root = ET.parse(a.file).getroot()
    sig = root.find("ds:Signature", N)
    si = sig.find("ds:SignedInfo", N)
    refs = si.findall("ds:Reference", N)
    ssp = sig.find("ds:Object/xades:QualifyingProperties/xades:SignedProperties/"
                   "xades:SignedSignatureProperties", N)
    out = {
        "last_child_of_root": list(root)[-1] is sig,
        "c14n": si.find("ds:CanonicalizationMethod", N).get("Algorithm"),
        "signature_method": si.find("ds:SignatureMethod", N).get("Algorithm"),
        "references": [[r.get("URI"), r.get("Type"),
                        [t.get("Algorithm") for t in r.findall("ds:Transforms/ds:Transform", N)]]
                       for r in refs],
        "signed_properties": [c.tag.split("}")[1] for c in ssp],
        "x509_certificates": len(sig.findall("ds:KeyInfo/ds:X509Data/ds:X509Certificate", N)),
        "signature_value_bytes": len(base64.b64decode(sig.find("ds:SignatureValue", N).text)),
    }
    ts = sig.find("ds:Object/xades:QualifyingProperties/xades:UnsignedProperties/"
                  "xades:UnsignedSignatureProperties/xades:SignatureTimeStamp", N)
    out["signature_timestamp"] = ts is not None
    if a.timestamp and ts is not None:
        with open(a.timestamp, "wb") as f:
            f.write(base64.b64decode(ts.find("xades:EncapsulatedTimeStamp", N).text))
        sv = sig.find("ds:SignatureValue", N)
        c14n = '<ds:SignatureValue xmlns:ds="%s" Id="%s">%s</ds:SignatureValue>' % (
            DS, sv.get("Id"), sv.text)
        with open(a.imprint, "wb") as f:
            f.write(c14n.encode())
    print(json.dumps(out))


if __name__ == "__main__":
    main()
