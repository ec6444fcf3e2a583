# SPDX-License-Identifier: LGPL-2.1-or-later
"""Tests of the kyso package against a real kysod.

They need a running kysod with a SoftHSM2 token and a scripted pinentry, as
kyso's integration test bed makes them (tests/integration/t-python-client.sh
runs them). Environment:

  KYSO_SOCKET           kysod's socket
  KYSO_TEST_CERTS       JSON {"NAME": {"id": ..., "pem": PATH, "type": "rsa"|"p256"|...}}
  KYSO_TEST_TOKEN       the token's id
  KYSO_PINENTRY_SCRIPT  the scripted pinentry's script file (its first line decides)
  KYSO_PINENTRY_LOG     what the pinentry received
  KYSO_SRCDIR           kyso's source tree (for the list of error codes)
  KYSO_API_RECORD_DIR   when set, every answer and event is recorded there for
                        tests/lib/openapi-check.py
  KYSO_TEST_RESULTS     when set, one line per test ("ok NAME" or "not ok NAME")
                        is written there, with details after "#"
Every signature is verified with Python's cryptography against the certificate.
"""
import hashlib
import json
import os
import re
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import kyso  # noqa: E402

from cryptography import x509  # noqa: E402
from cryptography.exceptions import InvalidSignature  # noqa: E402
from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils  # noqa: E402

CERTS = json.loads(os.environ.get("KYSO_TEST_CERTS", "{}"))
HASHES = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}
_record_lock = threading.Lock()
_record_n = [0]


def record(method, path, status, headers, body):
    """Keeps an answer or event as tests/lib/kyso-env.sh's api_record does."""
    rdir = os.environ.get("KYSO_API_RECORD_DIR")
    if not rdir:
        return
    with _record_lock:
        os.makedirs(rdir, exist_ok=True)
        _record_n[0] += 1
        n = "py%d_%d" % (os.getpid(), _record_n[0])
        with open(os.path.join(rdir, n + ".body"), "w", encoding="utf-8") as f:
            f.write(body)
        with open(os.path.join(rdir, n + ".headers"), "w", encoding="utf-8") as f:
            f.write(headers if isinstance(headers, str) else "")
        with open(os.path.join(rdir, "index"), "a", encoding="utf-8") as f:
            f.write("%s\t%s\t%s\t%s\n" % (n, method, status, path))


def client(**kwargs):
    return kyso.Client(trace=record, **kwargs)


def pinentry_says(line):
    with open(os.environ["KYSO_PINENTRY_SCRIPT"], "w") as f:
        f.write(line + "\n")


def pinentry_count(verb):
    try:
        with open(os.environ["KYSO_PINENTRY_LOG"]) as f:
            return sum(1 for line in f if line.startswith(verb))
    except OSError:
        return 0


def verify(name, digest, sig, alg, pad=None):
    """Raises unless sig is name's signature over digest."""
    with open(CERTS[name]["pem"], "rb") as f:
        key = x509.load_pem_x509_certificate(f.read()).public_key()
    prehashed = utils.Prehashed(HASHES[alg]())
    if isinstance(key, rsa.RSAPublicKey):
        if pad == "pss":
            p = padding.PSS(mgf=padding.MGF1(HASHES[alg]()),
                            salt_length=padding.PSS.DIGEST_LENGTH)
        else:
            p = padding.PKCS1v15()
        key.verify(sig, digest, p, prehashed)
    else:
        key.verify(sig, digest, ec.ECDSA(prehashed))


def digest_of(text, alg="sha256"):
    return hashlib.new(alg, text.encode("utf-8")).digest()


class Listing(unittest.TestCase):
    def test_status(self):
        st = client().status()
        self.assertEqual(st["api"], 1)
        self.assertTrue(st["modules"])

    def test_tokens(self):
        ids = [t["id"] for t in client().tokens()]
        self.assertIn(os.environ["KYSO_TEST_TOKEN"], ids)
        self.assertEqual(client().token(os.environ["KYSO_TEST_TOKEN"])["label"], "kyso-test")

    def test_certificates(self):
        c = client()
        certs = {x["id"]: x for x in c.certificates()}
        for name in ("rsa", "p256"):
            self.assertIn(CERTS[name]["id"], certs)
            self.assertTrue(certs[CERTS[name]["id"]]["usable"])
        usable = {x["id"] for x in c.certificates(usable=True)}
        unusable = {x["id"]: x for x in c.certificates(usable=False)}
        self.assertIn(CERTS["nokey"]["id"], unusable, "a certificate without its key")
        self.assertEqual(unusable[CERTS["nokey"]["id"]]["problems"], ["key_not_found"])
        self.assertNotIn(CERTS["nokey"]["id"], usable)
        one = c.certificate(CERTS["p256"]["id"].upper())
        self.assertEqual(one["id"], CERTS["p256"]["id"])
        self.assertEqual(one["subject_cn"], "Trần Thị Bích Ngọc")
        mine = c.certificates(token=os.environ["KYSO_TEST_TOKEN"])
        self.assertEqual(len(mine), len(certs))


class Signing(unittest.TestCase):
    def setUp(self):
        pinentry_says("pin 123456")

    def test_sign_rsa_pkcs1(self):
        d = digest_of("Học bạ của Nguyễn Văn An")
        s = client().sign(CERTS["rsa"]["id"], d)
        self.assertEqual(s.algorithm, "rsa-pkcs1-sha256")
        self.assertRegex(s.audit_id, r"^[0-9a-f]{32}:[0-9]+$")
        verify("rsa", d, s.signature, "sha256")

    def test_sign_rsa_pss_sha384(self):
        d = digest_of("Bảng điểm", "sha384")
        s = client().sign(CERTS["rsa"]["id"], d, "sha384", padding="pss")
        self.assertEqual(s.algorithm, "rsa-pss-sha384")
        verify("rsa", d, s.signature, "sha384", "pss")

    def test_sign_ec(self):
        d = digest_of("Sổ điểm lớp 12A1", "sha512")
        s = client().sign(CERTS["p256"]["id"], d, "sha512")
        self.assertEqual(s.algorithm, "ecdsa-sha512")
        verify("p256", d, s.signature, "sha512")

    def test_sign_data(self):
        data = "Nhận xét của giáo viên chủ nhiệm".encode("utf-8")
        s = client().sign_data(CERTS["p256"]["id"], data)
        verify("p256", hashlib.sha256(data).digest(), s.signature, "sha256")

    def test_verify(self):
        c = client()
        d = digest_of("Điểm thi học kỳ")
        s = c.sign(CERTS["p256"]["id"], d)
        v = c.verify(s.signature, d, certificate=CERTS["p256"]["id"])
        checks = {x["check"]: x["result"] for x in v["checks"]}
        self.assertEqual(checks.get("signature"), "ok", v)
        self.assertIn(v["status"], ("valid", "indeterminate"))
        with open(CERTS["p256"]["pem"]) as f:
            bad = c.verify(s.signature, digest_of("another record"), certificate=f.read())
        self.assertEqual(bad["status"], "invalid")
        self.assertFalse(bad["valid"])


class Errors(unittest.TestCase):
    def setUp(self):
        pinentry_says("pin 123456")

    def test_one_class_per_code(self):
        src = os.path.join(os.environ["KYSO_SRCDIR"], "src", "common", "errors.h")
        with open(src) as f:
            codes = re.findall(r'^\tX\([A-Z_]+, "([a-z_]+)", ([0-9]+), ', f.read(), re.M)
        self.assertGreater(len(codes), 20)
        missing = [c for c, _ in codes if c not in kyso.BY_CODE]
        self.assertEqual(missing, [], "error codes without a class")
        for code, cls in kyso.BY_CODE.items():
            self.assertTrue(issubclass(cls, kyso.KysoError))
            self.assertEqual(cls.code, code)

    def test_certificate_not_found(self):
        with self.assertRaises(kyso.CertificateNotFound) as cm:
            client().sign("ab" * 32, digest_of("x"))
        e = cm.exception
        self.assertIsInstance(e, kyso.TokenError)
        self.assertEqual((e.status, e.code), (404, "certificate_not_found"))

    def test_invalid_value_names_field(self):
        with self.assertRaises(kyso.InvalidValue) as cm:
            client().sign("not-an-id", digest_of("x"))
        self.assertEqual(cm.exception.field, "certificate")
        self.assertIsInstance(cm.exception, kyso.RequestError)

    def test_hash_length_checked_before_sending(self):
        with self.assertRaises(ValueError):
            client().sign(CERTS["rsa"]["id"], b"\0" * 31)

    def test_key_not_found(self):
        with self.assertRaises(kyso.KeyNotFound):
            client().sign(CERTS["nokey"]["id"], digest_of("x"))

    def test_pin_cancelled(self):
        c = client()
        c.logout()
        pinentry_says("cancel")
        with self.assertRaises(kyso.PinCancelled) as cm:
            c.sign(CERTS["p256"]["id"], digest_of("x"))
        self.assertEqual(cm.exception.status, 403)
        self.assertIsInstance(cm.exception, kyso.PinError)

    def test_pin_incorrect(self):
        c = client()
        c.logout()
        pinentry_says("pin 000000")
        with self.assertRaises(kyso.PinIncorrect) as cm:
            c.sign(CERTS["p256"]["id"], digest_of("x"))
        self.assertIsNotNone(cm.exception.pin_state)
        # the right PIN resets the retry counter
        pinentry_says("pin 123456")
        c.sign(CERTS["p256"]["id"], digest_of("x"))

    def test_logout_unknown_token(self):
        with self.assertRaises(kyso.TokenNotFound):
            client().logout("0" * 32)

    def test_no_daemon(self):
        with self.assertRaises(kyso.ConnectionFailed):
            kyso.Client("/nonexistent/kyso.sock").status()

    def test_error_keeps_going(self):
        """One error answer does not end the client: the next call works."""
        c = client()
        with self.assertRaises(kyso.KysoError):
            c.certificate("0" * 64)
        self.assertTrue(c.certificates())


class Batches(unittest.TestCase):
    def setUp(self):
        pinentry_says("pin 123456")

    def test_batch_with_progress(self):
        c = client()
        c.logout()
        items = [("học-sinh-%03d-Đức" % i, digest_of("bản ghi %d" % i)) for i in range(400)]
        b = c.sign_batch(CERTS["p256"]["id"], items, description="Điểm " * 60)
        seen = list(b.progress())
        r = b.result()
        self.assertEqual((r.total, r.signed, r.failed, r.cancelled), (400, 400, 0, False))
        self.assertEqual(r.batch, b.id)
        self.assertTrue(seen, "progress events")
        self.assertEqual(seen[-1], kyso.Progress(400, 0, 400))
        dones = [p.done for p in seen]
        self.assertEqual(dones, sorted(dones), "progress never goes back")
        for (iid, d), item in zip(items, r.items):
            self.assertEqual(item.id, iid)
            self.assertTrue(item.ok)
            verify("p256", d, item.signature, "sha256")

    def test_batch_app_id_and_rsa(self):
        c = client()
        items = [("r%d" % i, digest_of("r%d" % i, "sha384")) for i in range(20)]
        b = c.sign_batch(CERTS["rsa"]["id"], items, "sha384", padding="pss", batch="lop_10A1-hk1")
        self.assertEqual(b.id, "lop_10A1-hk1")
        r = b.result(timeout=120)
        self.assertEqual((r.batch, r.signed), ("lop_10A1-hk1", 20))
        for (_, d), item in zip(items, r.items):
            verify("rsa", d, item.signature, "sha384", "pss")

    def test_cancel_in_the_dialog(self):
        c = client()
        c.logout()
        pinentry_says("hang")
        n = pinentry_count("GETPIN")
        b = c.sign_batch(CERTS["p256"]["id"], [("a", digest_of("a")), ("b", digest_of("b"))])
        for _ in range(100):
            if pinentry_count("GETPIN") > n:
                break
            time.sleep(0.1)
        self.assertTrue(b.cancel())
        r = b.result(timeout=30)
        self.assertTrue(r.cancelled)
        self.assertEqual(r.signed, 0)
        self.assertTrue(all(isinstance(i.error, kyso.BatchCancelled) for i in r.items))
        self.assertEqual(list(b.progress())[-1], kyso.Progress(2, 2, 2))
        self.assertFalse(c.cancel_batch(b.id), "a batch that answered is not found")

    def test_refused_batch(self):
        b = client().sign_batch(CERTS["kuenc"]["id"], [("a", digest_of("a"))])
        self.assertEqual(list(b.progress()), [])
        with self.assertRaises(kyso.CertificateUsage) as cm:
            b.result(timeout=30)
        self.assertEqual(cm.exception.problems, ["certificate_usage"])

    def test_long_batch_outlives_the_timeout(self):
        """A batch takes as long as it takes: the client's timeout is for
        answers that need nobody."""
        c = client(timeout=0.5)
        items = [("i%d" % i, digest_of("i%d" % i)) for i in range(1500)]
        t0 = time.monotonic()
        r = c.sign_batch(CERTS["p256"]["id"], items).result()
        self.assertEqual(r.signed, 1500)
        sys.stderr.write("# 1500 items in %.1f s\n" % (time.monotonic() - t0))


class Events(unittest.TestCase):
    def test_pin_state_events(self):
        c = client()
        pinentry_says("pin 123456")
        c.logout()
        got = []
        with c.events() as stream:
            timer = threading.Timer(20, stream.close)
            timer.start()

            def sign():
                time.sleep(0.3)
                c.sign(CERTS["p256"]["id"], digest_of("x"))
            threading.Thread(target=sign, daemon=True).start()
            for ev in stream:
                got.append(ev)
                if ev.kind == "pin-state" and ev.data["pin"]["logged_in"]:
                    break
            timer.cancel()
        self.assertTrue(got, "events came")
        ev = got[-1]
        self.assertEqual(ev.kind, "pin-state")
        self.assertEqual(ev.data["token"], os.environ["KYSO_TEST_TOKEN"])
        self.assertIsInstance(ev.id, int)
        self.assertIn("time", ev.data)

    def test_resume_with_last_event_id(self):
        c = client()
        pinentry_says("pin 123456")
        c.logout()
        with c.events() as stream:
            # a login, then a logout: two pin-state events
            threading.Timer(0.3, lambda: c.sign(CERTS["p256"]["id"], digest_of("y"))).start()
            threading.Timer(1.5, c.logout).start()
            timer = threading.Timer(20, stream.close)
            timer.start()
            first = next(iter(stream))
            second = next(iter(stream))
            timer.cancel()
        with c.events(last_event_id=first.id) as again:
            timer = threading.Timer(20, again.close)
            timer.start()
            replayed = next(iter(again))
            timer.cancel()
        self.assertEqual((replayed.id, replayed.kind), (second.id, second.kind))


class TapResult(unittest.TextTestResult):
    """Writes one line per test to $KYSO_TEST_RESULTS."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.out = open(os.environ["KYSO_TEST_RESULTS"], "a", encoding="utf-8")

    def _line(self, ok, test, detail=""):
        name = "%s.%s" % (type(test).__name__, test._testMethodName)
        doc = test.shortDescription()
        if doc:
            name += ": " + doc
        self.out.write("%s %s\n" % ("ok" if ok else "not ok", name))
        for line in detail.splitlines()[-25:]:
            self.out.write("#   %s\n" % line)
        self.out.flush()

    def addSuccess(self, test):
        super().addSuccess(test)
        self._line(True, test)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._line(False, test, self._exc_info_to_string(err, test))

    def addError(self, test, err):
        super().addError(test, err)
        self._line(False, test, self._exc_info_to_string(err, test))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.out.write("skip %s.%s %s\n" % (type(test).__name__, test._testMethodName, reason))


if __name__ == "__main__":
    runner = None
    if os.environ.get("KYSO_TEST_RESULTS"):
        runner = unittest.TextTestRunner(resultclass=TapResult, verbosity=2)
    unittest.main(testRunner=runner)
