#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""One HTTP/1.1 request on a connected socket, for tests that hold a connection to kysod
themselves (to fork with it, exec over it, hand it on)."""


def ask(s, req):
    """Sends req (bytes, a whole request) on socket s and reads the answer (its head and a body
    of its Content-Length). Returns the status code as text."""
    return ask_body(s, req)[0]


def ask_body(s, req):
    """As ask, returning the status code and the body (bytes)."""
    s.sendall(req)
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(65536)
    head, _, rest = data.partition(b"\r\n\r\n")
    n = [int(l.split(b":")[1]) for l in head.split(b"\r\n")
         if l.lower().startswith(b"content-length:")][0]
    while len(rest) < n:
        rest += s.recv(65536)
    return head.split(b" ")[1].decode(), rest


def post_json(body):
    """A POST /v1/sign request carrying body (bytes)."""
    return (b"POST /v1/sign HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body) + body)
