# SPDX-License-Identifier: LGPL-2.1-or-later
"""The client of kysod's API: HTTP/1.1 and JSON over its Unix socket."""
import base64
import hashlib
import http.client
import json
import os
import secrets
import socket
import threading
import urllib.parse

from . import errors

HASH_ALGORITHMS = {"sha256": 32, "sha384": 48, "sha512": 64}


def default_socket():
    """$KYSO_SOCKET, else kysod's default: $XDG_RUNTIME_DIR/kyso/kyso.sock."""
    if os.environ.get("KYSO_SOCKET"):
        return os.environ["KYSO_SOCKET"]
    rt = os.environ.get("XDG_RUNTIME_DIR") or "/run/user/%d" % os.getuid()
    return os.path.join(rt, "kyso", "kyso.sock")


class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over a Unix stream socket (the host name is not used)."""

    def __init__(self, path, timeout=None):
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.timeout)
            sock.connect(self.socket_path)
        except BaseException:
            sock.close()
            raise
        self.sock = sock


def _b64(data):
    return base64.b64encode(data).decode("ascii")


class Signature:
    """The answer of POST /v1/sign.

    signature: the signature (bytes): raw RSA block, DER ECDSA-Sig-Value, or
               with format "cms" the DER CMS ContentInfo
    algorithm: "rsa-pkcs1-sha256", "ecdsa-sha256", …
    certificate, audit_id, format ("raw" or "cms"), timestamp (dict or None)
    answer:    the whole decoded answer
    """

    def __init__(self, answer):
        self.answer = answer
        self.signature = base64.b64decode(answer["signature"])
        self.algorithm = answer["algorithm"]
        self.certificate = answer["certificate"]
        self.audit_id = answer.get("audit_id")
        self.format = answer.get("format", "raw")
        self.timestamp = answer.get("timestamp")

    def __repr__(self):
        return "<kyso.Signature %s %d bytes, audit %s>" % (self.algorithm, len(self.signature),
                                                          self.audit_id)


class BatchItem:
    """One item of a batch's result: id, and either signature (bytes) and
    audit_id, or error (the KysoError of its code)."""

    def __init__(self, item):
        self.id = item["id"]
        self.signature = base64.b64decode(item["signature"]) if "signature" in item else None
        self.audit_id = item.get("audit_id")
        err = item.get("error")
        self.error = errors.from_answer(0, {"error": err}) if err else None

    @property
    def ok(self):
        return self.signature is not None

    def __repr__(self):
        return "<kyso.BatchItem %s %s>" % (self.id, "signed" if self.ok else self.error.code)


class BatchResult:
    """The answer of POST /v1/sign/batch: batch, certificate, algorithm,
    total, signed, failed, cancelled, items (BatchItem, in request order)."""

    def __init__(self, answer):
        self.answer = answer
        self.batch = answer["batch"]
        self.certificate = answer["certificate"]
        self.algorithm = answer["algorithm"]
        self.total = answer["total"]
        self.signed = answer["signed"]
        self.failed = answer["failed"]
        self.cancelled = answer["cancelled"]
        self.items = [BatchItem(i) for i in answer["items"]]


class Progress:
    """Where a batch is: done (items with a result), failed, total."""

    def __init__(self, done, failed, total):
        self.done, self.failed, self.total = done, failed, total

    def __eq__(self, other):
        return isinstance(other, Progress) and \
            (self.done, self.failed, self.total) == (other.done, other.failed, other.total)

    def __repr__(self):
        return "<kyso.Progress %d/%d, %d failed>" % (self.done, self.total, self.failed)


class Event:
    """An event of GET /v1/events: id (int), kind ("token-inserted", …),
    data (the decoded JSON, with "time")."""

    def __init__(self, eid, kind, data):
        self.id, self.kind, self.data = eid, kind, data

    def __repr__(self):
        return "<kyso.Event %s %s>" % (self.id, self.kind)


class EventStream:
    """GET /v1/events, read as an iterator of Event. close() ends it (from
    any thread: a read waiting in another thread then ends the iteration)."""

    def __init__(self, client, last_event_id=None, timeout=None):
        self._client = client
        self._conn = UnixHTTPConnection(client.socket_path, timeout=timeout)
        self._closed = False
        self._sock = None
        headers = {}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        try:
            self._conn.connect()
            # kept: http.client hands the socket to the response of a stream
            self._sock = self._conn.sock
            self._conn.request("GET", "/v1/events", headers=headers)
            self._resp = self._conn.getresponse()
        except OSError as e:
            self._conn.close()
            raise errors.ConnectionFailed("cannot follow kysod's events on %s: %s" %
                                          (client.socket_path, e)) from e
        if self._resp.status != 200:
            body = self._resp.read()
            self._conn.close()
            raise client._error(self._resp, "GET", "/v1/events", body)

    def __iter__(self):
        return self

    def __next__(self):
        eid, kind, data = None, None, []
        while True:
            try:
                line = self._resp.readline() if not self._closed else b""
            except (OSError, ValueError, http.client.HTTPException):
                line = b""
            except AttributeError:
                # closed from another thread in the middle of a read:
                # http.client has dropped its file object under us
                if not self._closed:
                    raise
                line = b""
            if not line:
                self.close()
                raise StopIteration
            line = line.decode("utf-8").rstrip("\r\n")
            if line == "":
                if kind is None and not data:
                    continue
                text = "\n".join(data)
                self._client._trace("EVENT", kind or "message", 0, {}, text)
                try:
                    value = json.loads(text) if text else None
                except ValueError:
                    value = text
                return Event(int(eid) if eid and eid.isdigit() else eid, kind or "message",
                             value)
            if line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            if value.startswith(" "):
                value = value[1:]
            if name == "id":
                eid = value
            elif name == "event":
                kind = value
            elif name == "data":
                data.append(value)

    def close(self):
        if self._closed:
            return
        self._closed = True
        if self._sock is not None:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Batch:
    """A batch being signed (Client.sign_batch). The request runs in a
    thread of its own; this object follows it.

    id:          the batch's id (the one given, else one made here)
    progress():  an iterator of Progress, from the batch-progress events,
                 ending when the batch has answered
    cancel():    DELETE /v1/sign/batch/{id}; True if kysod had the batch
    result(timeout=None): waits for the answer: a BatchResult, or raises
                 the KysoError of the request
    """

    def __init__(self, client, body):
        self._client = client
        self.id = body["batch"]
        self.total = len(body["items"])
        self._body = body
        self._done = threading.Event()
        self._result = None
        self._error = None
        self._streams = []
        self._lock = threading.Lock()
        # the event stream opens first, so that no event of the batch is missed
        self._stream = EventStream(client)
        self._streams.append(self._stream)
        self._thread = threading.Thread(target=self._run, name="kyso-batch-" + self.id,
                                        daemon=True)
        self._thread.start()

    def _run(self):
        try:
            self._result = BatchResult(self._client._call("POST", "/v1/sign/batch", self._body,
                                                          timeout=None))
        except BaseException as e:  # handed to result()
            self._error = e
        finally:
            self._done.set()
            with self._lock:
                streams = list(self._streams)
            for s in streams:
                s.close()

    def progress(self):
        """Yields Progress as the batch moves on; the last one is the
        batch's end (also when it was cancelled or refused)."""
        with self._lock:
            stream = self._stream
            self._stream = None
            if stream is None:
                stream = EventStream(self._client)
                self._streams.append(stream)
            if self._done.is_set():
                stream.close()
        last = None
        try:
            for ev in stream:
                if ev.kind != "batch-progress" or not isinstance(ev.data, dict) or \
                        ev.data.get("batch") != self.id:
                    continue
                last = Progress(ev.data["done"], ev.data["failed"], ev.data["total"])
                yield last
                if last.done >= last.total:
                    break
        finally:
            stream.close()
        self._done.wait()
        if self._result is not None:
            end = Progress(self._result.signed + self._result.failed, self._result.failed,
                           self._result.total)
            if end != last:
                yield end

    def cancel(self):
        try:
            self._client._call("DELETE", "/v1/sign/batch/" + urllib.parse.quote(self.id, safe=""))
            return True
        except errors.BatchNotFound:
            return False

    def result(self, timeout=None):
        if not self._done.wait(timeout):
            raise TimeoutError("the batch %s has not answered yet" % self.id)
        with self._lock:
            if self._stream is not None:
                self._stream.close()
                self._stream = None
        if self._error is not None:
            raise self._error
        return self._result

    @property
    def finished(self):
        return self._done.is_set()


class Client:
    """A client of kysod.

    socket_path: kysod's socket (default: default_socket())
    timeout:     seconds to wait for answers that need no user (listing,
                 verify, logout); signing waits as long as the user and the
                 token take (a PIN dialog, thousands of batch items)
    trace:       None, or a function (method, path, status, headers, body)
                 called with every answer and event (method "EVENT", path
                 the event kind): for logging, or checking the answers
                 against docs/openapi.yaml
    """

    def __init__(self, socket_path=None, timeout=30, trace=None):
        self.socket_path = socket_path or default_socket()
        self.timeout = timeout
        self.trace = trace

    # ------------------------------------------------------------ transport

    def _trace(self, method, path, status, headers, body):
        if self.trace is not None:
            self.trace(method, path, status, headers, body)

    def _error(self, resp, method, path, raw):
        try:
            answer = json.loads(raw.decode("utf-8"))
        except ValueError:
            return errors.ProtocolError("%s %s: HTTP %d with a body that is not JSON" %
                                        (method, path, resp.status), resp.status)
        return errors.from_answer(resp.status, answer)

    def _call(self, method, path, body=None, timeout=0):
        """One request on a connection of its own. timeout 0: self.timeout;
        None: no limit."""
        conn = UnixHTTPConnection(self.socket_path,
                                  timeout=self.timeout if timeout == 0 else timeout)
        headers = {}
        data = None
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = "application/json"
        try:
            try:
                conn.request(method, path, body=data, headers=headers)
                resp = conn.getresponse()
                raw = resp.read()
            except socket.timeout as e:
                raise errors.ConnectionFailed("%s %s: no answer within %s s" %
                                              (method, path, conn.timeout)) from e
            except (OSError, http.client.HTTPException) as e:
                raise errors.ConnectionFailed("%s %s: cannot talk to kysod on %s: %s" %
                                              (method, path, self.socket_path, e)) from e
        finally:
            conn.close()
        if self.trace is not None:
            hdrs = "\n".join("%s: %s" % kv for kv in resp.getheaders())
            self.trace(method, path, resp.status, hdrs, raw.decode("utf-8", "replace"))
        if resp.status != 200:
            raise self._error(resp, method, path, raw)
        try:
            return json.loads(raw.decode("utf-8"))
        except ValueError as e:
            raise errors.ProtocolError("%s %s: the answer is not JSON" % (method, path),
                                       resp.status) from e

    # ------------------------------------------------------------ reading

    def status(self):
        """GET /v1/status: version, settings and module states (a dict)."""
        return self._call("GET", "/v1/status")

    def tokens(self):
        """GET /v1/tokens: the tokens, present and removed ones (dicts)."""
        return self._call("GET", "/v1/tokens")["tokens"]

    def token(self, token_id):
        return self._call("GET", "/v1/tokens/" + urllib.parse.quote(token_id, safe=""))

    def certificates(self, token=None, usable=None):
        """GET /v1/certificates: the certificates on present tokens (dicts,
        as docs/api.md describes them). usable=True keeps those kysod would
        sign with now (see each one's "problems" for why not)."""
        path = "/v1/certificates"
        if token:
            path += "?token=" + urllib.parse.quote(token, safe="")
        certs = self._call("GET", path)["certificates"]
        if usable is not None:
            certs = [c for c in certs if bool(c.get("usable", True)) == usable]
        return certs

    def certificate(self, cert_id):
        return self._call("GET", "/v1/certificates/" + urllib.parse.quote(cert_id, safe=""))

    def readers(self):
        return self._call("GET", "/v1/readers")

    # ------------------------------------------------------------ signing

    @staticmethod
    def _hash(digest, hash_algorithm):
        if hash_algorithm not in HASH_ALGORITHMS:
            raise ValueError("hash_algorithm must be one of %s" % ", ".join(HASH_ALGORITHMS))
        if isinstance(digest, str):
            return digest  # already base64
        if len(digest) != HASH_ALGORITHMS[hash_algorithm]:
            raise ValueError("a %s hash is %d bytes, not %d" %
                             (hash_algorithm, HASH_ALGORITHMS[hash_algorithm], len(digest)))
        return _b64(digest)

    def sign(self, certificate, digest, hash_algorithm="sha256", padding=None, format=None,
             timestamp=None):
        """POST /v1/sign: signs digest (the hash of a record, bytes) with the
        key of certificate (its id). The user may be asked for the PIN: the
        call waits for them. Returns a Signature; raises the KysoError of
        the answer (PinCancelled, CertificateExpired, …)."""
        body = {"certificate": certificate, "hash": self._hash(digest, hash_algorithm),
                "hash_algorithm": hash_algorithm}
        if padding is not None:
            body["padding"] = padding
        if format is not None:
            body["format"] = format
        if timestamp is not None:
            body["timestamp"] = timestamp
        return Signature(self._call("POST", "/v1/sign", body, timeout=None))

    def sign_data(self, certificate, data, hash_algorithm="sha256", **kwargs):
        """sign() over the hash of data (bytes)."""
        return self.sign(certificate, hashlib.new(hash_algorithm, data).digest(),
                         hash_algorithm, **kwargs)

    def sign_batch(self, certificate, items, hash_algorithm="sha256", description=None,
                   padding=None, batch=None):
        """POST /v1/sign/batch, started in the background: items are
        (id, digest) pairs (digest bytes, of hash_algorithm). The user
        consents once. Returns a Batch to follow (progress()), cancel
        (cancel()) and wait for (result()). batch is the batch's id (1 to
        32 letters, digits, '-' or '_'); one is made when not given."""
        body = {"certificate": certificate, "hash_algorithm": hash_algorithm,
                "batch": batch or secrets.token_hex(16),
                "items": [{"id": i, "hash": self._hash(d, hash_algorithm)} for i, d in items]}
        if description is not None:
            body["description"] = description
        if padding is not None:
            body["padding"] = padding
        return Batch(self, body)

    def cancel_batch(self, batch_id):
        """DELETE /v1/sign/batch/{id}: True if the batch was being signed."""
        try:
            self._call("DELETE", "/v1/sign/batch/" + urllib.parse.quote(batch_id, safe=""))
            return True
        except errors.BatchNotFound:
            return False

    def verify(self, signature, digest, hash_algorithm="sha256", certificate=None,
               format=None, padding=None):
        """POST /v1/verify: kysod's verdict on a signature (bytes) over
        digest. certificate: an id, PEM, or DER bytes (needed for raw
        signatures). Returns the answer (a dict: valid, status, reason,
        checks, signer …); an invalid signature is an answer, not an
        exception."""
        body = {"signature": _b64(signature), "hash": self._hash(digest, hash_algorithm),
                "hash_algorithm": hash_algorithm}
        if certificate is not None:
            body["certificate"] = _b64(certificate) if isinstance(certificate, bytes) \
                else certificate
        if format is not None:
            body["format"] = format
        if padding is not None:
            body["padding"] = padding
        return self._call("POST", "/v1/verify", body)

    def logout(self, token=None):
        """POST /v1/logout: ends kept logins (of one token, or all).
        Returns how many were ended."""
        return self._call("POST", "/v1/logout", {"token": token} if token else {})["logged_out"]

    # ------------------------------------------------------------ events

    def events(self, last_event_id=None, timeout=None):
        """GET /v1/events: an EventStream (iterate it for Event objects;
        close() it, or use it in a with statement). timeout: seconds of
        silence after which reading fails (kysod sends a keep-alive every
        15 s, so 60 tells a dead daemon)."""
        return EventStream(self, last_event_id, timeout)
