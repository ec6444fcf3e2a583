#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Appends a page to a PDF as an incremental update, as an editor would after
a certification signature: a content stream, a page, and the page tree node
written again with the page in /Kids and /Count one more. The PDF's last
cross-reference section must be a classic table; qpdf (--show-object) reads
the objects named.

usage: pdf-add-page.py IN.pdf OUT.pdf
"""
import re
import subprocess
import sys


def show(path, what):
    return subprocess.run(["qpdf", "--show-object=" + what, path], check=True,
                          capture_output=True, text=True).stdout.strip()


def main():
    src, dst = sys.argv[1], sys.argv[2]
    data = open(src, "rb").read()
    prev = int(re.findall(rb"startxref\s+(\d+)", data)[-1])
    trailer = show(src, "trailer")
    size = int(re.search(r"/Size (\d+)", trailer).group(1))
    root = re.search(r"/Root (\d+) (\d+) R", trailer).group(0)[6:]
    ident = re.search(r"/ID \[[^\]]*\]", trailer)
    catalog = show(src, root.split()[0])
    pages_num = int(re.search(r"/Pages (\d+) 0 R", catalog).group(1))
    pages = show(src, str(pages_num))
    count = int(re.search(r"/Count (\d+)", pages).group(1))
    content, page = size, size + 1
    pages = re.sub(r"/Count \d+", "/Count %d" % (count + 1), pages)
    pages = re.sub(r"/Kids \[", "/Kids [%d 0 R " % page, pages, count=1)
    text = b"BT /F1 14 Tf 72 720 Td (Trang them sau khi ky) Tj ET"
    out = bytearray(data)
    if not out.endswith(b"\n"):
        out += b"\n"
    offsets = {}
    offsets[content] = len(out)
    out += b"%d 0 obj\n<< /Length %d >>\nstream\n%s\nendstream\nendobj\n" % (
        content, len(text) + 1, text)
    offsets[page] = len(out)
    out += (b"%d 0 obj\n<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Contents %d 0 R"
            b" >>\nendobj\n" % (page, pages_num, content))
    offsets[pages_num] = len(out)
    out += b"%d 0 obj\n%s\nendobj\n" % (pages_num, pages.encode())
    xref = len(out)
    out += b"xref\n"
    for num in sorted(offsets):
        out += b"%d 1\n%010d 00000 n \n" % (num, offsets[num])
    out += b"trailer\n<< /Size %d /Root %s /Prev %d%s >>\nstartxref\n%d\n%%%%EOF\n" % (
        size + 2, root.encode(), prev, (b" " + ident.group(0).encode()) if ident else b"", xref)
    open(dst, "wb").write(out)


if __name__ == "__main__":
    main()
