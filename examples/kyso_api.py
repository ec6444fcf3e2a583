"""A minimal client of kysod's API for the examples: HTTP over its Unix socket,
Python standard library only. A record application can copy it as it is."""
import http.client
import json
import os
import socket


class UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP over kysod's Unix socket."""

    def __init__(self, path, timeout=300):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


def default_socket():
    """$KYSO_SOCKET, else kysod's default socket."""
    if os.environ.get("KYSO_SOCKET"):
        return os.environ["KYSO_SOCKET"]
    rt = os.environ.get("XDG_RUNTIME_DIR") or "/run/user/%d" % os.getuid()
    return os.path.join(rt, "kyso", "kyso.sock")


def api(sock, method, path, body=None):
    """One request; the answer's JSON, or exit with kysod's error."""
    conn = UnixHTTPConnection(sock)
    headers = {}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=headers)
    resp = conn.getresponse()
    answer = json.loads(resp.read().decode("utf-8"))
    conn.close()
    if resp.status != 200:
        err = answer.get("error", {})
        raise SystemExit("kysod: %s (%s)" % (err.get("message"), err.get("code")))
    return answer
