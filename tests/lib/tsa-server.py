#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A time-stamp authority for the tests: RFC 3161 over HTTP on loopback, the
answers made by `openssl ts -reply`.

usage: tsa-server.py CONFIG PORTFILE [MODE [PORT]]
  CONFIG    openssl configuration with the [tsa] section (key, certificate, policy);
            MODE reject uses its section tsa_reject
  PORTFILE  the port chosen is written here once the server listens
  MODE      ok (default) | http500 | garbage | reject (status "rejection")
  PORT      the port to listen on (default 0: any free one)
Every request is logged on stderr.
"""
import http.server
import os
import subprocess
import sys
import tempfile

CONFIG, PORTFILE = sys.argv[1], sys.argv[2]
MODE = sys.argv[3] if len(sys.argv) > 3 else "ok"
PORT = int(sys.argv[4]) if len(sys.argv) > 4 else 0


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        query = self.rfile.read(n)
        if MODE == "http500":
            self.send_error(500, "the test TSA is told to fail")
            return
        if MODE == "garbage":
            body = b"this is not a time-stamp response"
        else:
            with tempfile.TemporaryDirectory() as d:
                q, r = os.path.join(d, "q.tsq"), os.path.join(d, "r.tsr")
                with open(q, "wb") as f:
                    f.write(query)
                args = ["openssl", "ts", "-reply", "-config", CONFIG, "-queryfile", q,
                        "-out", r]
                if MODE == "reject":
                    # a section accepting no hash kysod sends: a badAlg rejection
                    args += ["-section", "tsa_reject"]
                subprocess.run(args, check=False, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
                with open(r, "rb") as f:
                    body = f.read()
        self.send_response(200)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    server = http.server.HTTPServer(("127.0.0.1", PORT), Handler)
    tmp = PORTFILE + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(tmp, PORTFILE)
    server.serve_forever()


if __name__ == "__main__":
    main()
