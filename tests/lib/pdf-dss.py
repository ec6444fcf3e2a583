#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Writes out the document security store of a PDF, read by qpdf (--json=2 with
the streams' data in files): DIR/cert-N.der, DIR/ocsp-N.der and DIR/crl-N.der
for the streams of /DSS's /Certs, /OCSPs and /CRLs (N from 1). Prints JSON:
how many of each, and whether the catalog's /DSS is an indirect object of type
/DSS. Exits non-zero when the PDF has no /DSS.

usage: pdf-dss.py FILE DIR
"""
import json
import os
import subprocess
import sys


def main():
    pdf, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    prefix = os.path.join(out, "stream")
    j = json.loads(subprocess.run(
        ["qpdf", "--json=2", "--json-stream-data=file", "--json-stream-prefix=" + prefix,
         pdf, "-"], check=True, capture_output=True).stdout)
    objs = j["qpdf"][1]
    root = objs["obj:" + objs["trailer"]["value"]["/Root"]]["value"]
    ref = root.get("/DSS")
    if not ref:
        sys.exit("the catalog has no /DSS")
    dss = objs["obj:" + ref]["value"] if isinstance(ref, str) else ref
    counts = {"indirect": isinstance(ref, str), "type": dss.get("/Type")}
    for key, name in (("/Certs", "cert"), ("/OCSPs", "ocsp"), ("/CRLs", "crl")):
        refs = dss.get(key, [])
        for i, r in enumerate(refs, 1):
            stream = objs["obj:" + r]["stream"]
            data = open(stream["datafile"], "rb").read()
            open(os.path.join(out, "%s-%d.der" % (name, i)), "wb").write(data)
        counts[name + "s"] = len(refs)
    json.dump(counts, sys.stdout)


if __name__ == "__main__":
    main()
