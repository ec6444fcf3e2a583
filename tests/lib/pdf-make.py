#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Writes small PDFs for the tests, byte by byte, with a classic xref table:
pdf-make.py OUT [--pages N] [--form] [--gen2] [--image-kib K]

--form   an AcroForm with one text field (a filled-in school record)
--gen2   the page object has generation 2 (an edited file's leftovers)
--image-kib K  each page shows an uncompressed grey image of K KiB of random
         bytes (a scanned record's size: 100 pages of 200 KiB are 20 MB)
The text is Vietnamese, in a standard font (WinAnsi cannot show it all:
only the structure matters here).
"""
import os
import sys


def main():
    out = sys.argv[1]
    pages = int(sys.argv[sys.argv.index("--pages") + 1]) if "--pages" in sys.argv else 1
    form = "--form" in sys.argv
    gen = 2 if "--gen2" in sys.argv else 0
    image_kib = int(sys.argv[sys.argv.index("--image-kib") + 1]) if "--image-kib" in sys.argv else 0
    img_base = 4 + 2 * pages + (1 if form else 0)  # after the pages and the field
    objs = {}
    # 1 catalog, 2 pages, 3 font, 4.. page/content pairs, then the field
    kids = []
    n = 4
    for i in range(pages):
        kids.append(n)
        content = ("BT /F1 14 Tf 72 720 Td (So diem lop 10A1 - trang %d) Tj ET" % (i + 1)).encode()
        annots = ""
        xobj = b""
        if image_kib:
            side = 32
            height = image_kib * 1024 // side
            objs[img_base + i] = (b"<< /Type /XObject /Subtype /Image /Width %d /Height %d "
                                  b"/ColorSpace /DeviceGray /BitsPerComponent 8 /Length %d >>\n"
                                  b"stream\n%s\nendstream" % (side, height, side * height,
                                                             os.urandom(side * height)))
            content += b" q 450 0 0 600 72 80 cm /Im0 Do Q"
            xobj = b" /XObject << /Im0 %d 0 R >>" % (img_base + i)
        if form and i == 0:
            annots = " /Annots [%d 0 R]" % (4 + 2 * pages)
        objs[n] = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R"
                   b" /Resources << /Font << /F1 3 0 R >>%s >>%s >>" % (n + 1, xobj, annots.encode()))
        objs[n + 1] = b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content)
        n += 2
    cat = b"<< /Type /Catalog /Pages 2 0 R"
    if form:
        field = n
        objs[field] = (b"<< /Type /Annot /Subtype /Widget /FT /Tx /T (hoc_sinh) "
                       b"/V (Nguyen Van An) /Rect [72 600 300 620] /P 4 0 R >>")
        cat += b" /AcroForm << /Fields [%d 0 R] /DA (/Helv 0 Tf 0 g) >>" % field
    objs[1] = cat + b" >>"
    objs[2] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d %d R" % (k, gen if k == 4 else 0) for k in kids), pages)
    objs[3] = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
    size = max(objs) + 1
    data = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for k in sorted(objs):
        offsets[k] = len(data)
        g = gen if k == 4 else 0
        data += b"%d %d obj\n" % (k, g) + objs[k] + b"\nendobj\n"
    xref = len(data)
    data += b"xref\n0 %d\n0000000000 65535 f\r\n" % size
    for k in range(1, size):
        g = gen if k == 4 else 0
        data += b"%010d %05d n\r\n" % (offsets[k], g)
    data += (b"trailer\n<< /Size %d /Root 1 0 R /ID [<0102030405060708090a0b0c0d0e0f10>"
             b" <0102030405060708090a0b0c0d0e0f10>] >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref))
    open(out, "wb").write(data)


if __name__ == "__main__":
    main()
