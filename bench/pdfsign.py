#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Times `kyso pdf sign` on a 100-page, 20 MB PDF (tests/lib/pdf-make.py, an
uncompressed 200 KiB image on each page) beside `kyso sign` of one hash with the
same certificate: the difference is what signing a PDF costs beyond the token's
signature (reading the file through qpdf, writing the update, hashing the
ByteRange). Also the kyso process's peak resident memory, which stays far below
the file's size (the file is hashed in pieces, never held whole).

    bench/pdfsign.py --kyso PATH --socket PATH --cert ID --rounds N --work DIR

Prints one line per round for bench/run.sh's raw file:
    pdf round=N pages=100 bytes=B total=S token=S beyond=S rss_kib=K
or "pdf skipped: REASON".
"""
import argparse
import os
import subprocess
import sys
import time


def timed(cmd):
    """Runs cmd; its wall time in seconds."""
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    t = time.perf_counter() - t0
    if p.returncode:
        raise RuntimeError("%s: %s" % (" ".join(cmd[3:6]), p.stderr.strip()))
    return t


def peak_rss_kib(cmd):
    """The peak resident memory of cmd run alone (a child of a fresh process), KiB."""
    probe = ("import resource, subprocess, sys\n"
             "subprocess.run(sys.argv[1:], check=True, capture_output=True)\n"
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
    return int(subprocess.run([sys.executable, "-c", probe] + cmd, capture_output=True,
                              text=True, check=True).stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kyso", required=True)
    ap.add_argument("--socket", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    src = os.path.join(a.work, "pdfbench-in.pdf")
    out = os.path.join(a.work, "pdfbench-out.pdf")
    try:
        subprocess.run([sys.executable, os.path.join(top, "tests/lib/pdf-make.py"), src,
                        "--pages", "100", "--image-kib", "200"], check=True)
        size = os.path.getsize(src)
        base = [a.kyso, "--socket", a.socket]
        sign = base + ["sign", "--cert", a.cert, "--hash", "ab" * 32]
        pdf = base + ["pdf", "sign", src, "-o", out, "--cert", a.cert]
        timed(sign)  # the login, kept for what follows
        for r in range(a.rounds):
            token = timed(sign)
            total = timed(pdf)
            print("pdf round=%d pages=100 bytes=%d total=%.4f token=%.4f beyond=%.4f rss_kib=%d"
                  % (r, size, total, token, total - token, peak_rss_kib(pdf)), flush=True)
    except (OSError, RuntimeError, subprocess.CalledProcessError) as e:
        print("pdf skipped: %s" % str(e).replace("\n", " ")[:200])
    finally:
        for f in (src, out):
            if os.path.exists(f):
                os.unlink(f)


if __name__ == "__main__":
    main()
