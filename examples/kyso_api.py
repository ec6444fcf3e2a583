# SPDX-License-Identifier: LGPL-2.1-or-later
"""A minimal client of kysod's API for the examples: HTTP over its Unix socket,
Python standard library only. A record application can copy it as it is; the
package in clients/python (import kyso) does more (an exception class per
error code, batches with progress and cancel, events)."""
import http.client
import json
import os
import socket

# Answers that need nobody come within seconds; a signature may wait for the
# user at a PIN dialog, and a batch of thousands of items for the token.
TIMEOUT = 30
UNBOUNDED = ("/v1/sign", "/v1/sign/batch")


class UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP over kysod's Unix socket (timeout None: wait as long as it takes)."""

    def __init__(self, path, timeout=TIMEOUT):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


class KysoApiError(Exception):
    """An error answer of kysod: status (HTTP), code (the stable error code),
    message, and the whole error object in error."""

    def __init__(self, status, error):
        self.status = status
        self.error = error
        self.code = error.get("code")
        self.message = error.get("message", "")
        super().__init__("kysod: %s (%s)" % (self.message, self.code))


def default_socket():
    """$KYSO_SOCKET, else kysod's default socket."""
    if os.environ.get("KYSO_SOCKET"):
        return os.environ["KYSO_SOCKET"]
    rt = os.environ.get("XDG_RUNTIME_DIR") or "/run/user/%d" % os.getuid()
    return os.path.join(rt, "kyso", "kyso.sock")


def api(sock, method, path, body=None, timeout=None):
    """One request; the answer's JSON. An error answer raises KysoApiError
    (catch it to handle pin_cancelled and the like, or let it end the
    program). timeout: seconds, by default none for signing and batches and
    TIMEOUT for the rest."""
    if timeout is None and path not in UNBOUNDED:
        timeout = TIMEOUT
    conn = UnixHTTPConnection(sock, timeout=timeout)
    headers = {}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    try:
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        answer = json.loads(resp.read().decode("utf-8"))
    finally:
        conn.close()
    if resp.status != 200:
        raise KysoApiError(resp.status, answer.get("error", {}))
    return answer
