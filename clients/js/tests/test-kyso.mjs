// SPDX-License-Identifier: MIT
// kyso.js in Node, over kysod's Unix socket, against a real kysod: run by
// tests/integration/t-js-client.sh. One line per check in $KYSO_TEST_RESULTS ("ok NAME" or
// "not ok NAME", details on "#" lines). Signatures are written to $KYSO_TEST_OUT for the
// shell to verify with openssl: a line "sig KEY ALG PADDING HASHFILE SIGFILE" (or
// "cms DATAFILE CMSFILE") in $KYSO_TEST_OUT/signatures for each.
// Environment: KYSO_TEST_CERTS (JSON: {rsa, p256, p384: {id, type}}), KYSO_TEST_TOKEN,
// KYSO_PINENTRY_SCRIPT, KYSO_PINENTRY_LOG, XDG_RUNTIME_DIR (where kysod's socket is).
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { createHash, randomBytes } from "node:crypto";
import { connect, defaultSocketPath, KysoError } from "../kyso.js";

const env = process.env;
const CERTS = JSON.parse(env.KYSO_TEST_CERTS);
const OUT = env.KYSO_TEST_OUT;
let nfiles = 0;

function result(ok, name, detail) {
  let line = `${ok ? "ok" : "not ok"} ${name}\n`;
  if (detail) line += String(detail).split("\n").map((l) => `# ${l}\n`).join("");
  appendFileSync(env.KYSO_TEST_RESULTS, line);
}

async function check(name, fn) {
  try {
    const r = await fn();
    result(r !== false, name, r === false ? "the check was false" : "");
  } catch (e) {
    result(false, name, e instanceof KysoError ? `KysoError ${e.code}: ${e.message}` : e?.stack ?? e);
  }
}

function eq(got, want, what) {
  if (JSON.stringify(got) !== JSON.stringify(want))
    throw new Error(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}

async function rejects(promise, code) {
  try {
    await promise;
  } catch (e) {
    if (!(e instanceof KysoError)) throw new Error(`not a KysoError: ${e}`);
    if (e.code !== code) throw new Error(`KysoError ${e.code} (${e.message}), want ${code}`);
    return e;
  }
  throw new Error(`no error, want ${code}`);
}

function pinentrySays(line) {
  writeFileSync(env.KYSO_PINENTRY_SCRIPT, line + "\n");
}

function pinentryCount(verb) {
  try {
    return readFileSync(env.KYSO_PINENTRY_LOG, "utf8").split("\n").filter((l) => l.startsWith(verb)).length;
  } catch (e) {
    return 0;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function digest(text, alg = "sha256") {
  return new Uint8Array(createHash(alg).update(text).digest());
}

// keeps a signature for openssl
function keepSig(key, alg, padding, hash, sig) {
  const n = ++nfiles;
  writeFileSync(`${OUT}/${n}.hash`, hash);
  writeFileSync(`${OUT}/${n}.sig`, sig);
  appendFileSync(`${OUT}/signatures`, `sig ${key} ${alg} ${padding || "-"} ${OUT}/${n}.hash ${OUT}/${n}.sig\n`);
}

pinentrySays("pin 123456");
let kyso = null;

await check("connect() in Node finds kysod on $XDG_RUNTIME_DIR/kyso/kyso.sock", async () => {
  delete env.KYSO_SOCKET;
  eq(defaultSocketPath(), `${env.XDG_RUNTIME_DIR}/kyso/kyso.sock`, "defaultSocketPath()");
  kyso = await connect();
  eq(kyso.socketPath, defaultSocketPath(), "the socket");
  eq(typeof kyso.info.version, "string", "kysod's version");
  eq(kyso.origin, null, "no origin on the Unix socket");
});
if (!kyso) process.exit(1);

await check("connect({socketPath}) to no kysod: KysoError kyso_not_running, naming the socket", async () => {
  const e = await rejects(connect({ socketPath: `${OUT}/none.sock` }), "kyso_not_running");
  if (!e.message.includes(`${OUT}/none.sock`)) throw new Error(e.message);
});

await check("certificates(): the token's three, all usable", async () => {
  const certs = await kyso.certificates();
  eq(certs.map((c) => c.id).sort(), [CERTS.rsa.id, CERTS.p256.id, CERTS.p384.id].sort(), "ids");
  eq((await kyso.certificates({ usable: true })).length, 3, "usable");
});

await check("sign(): RSA PKCS#1 v1.5, SHA-256", async () => {
  const h = digest("Học bạ 12A1 — Nguyễn Văn An");
  const r = await kyso.sign(CERTS.rsa.id, h, { padding: "pkcs1" });
  eq(r.certificate, CERTS.rsa.id, "certificate");
  keepSig("rsa", "sha256", "pkcs1", h, r.bytes);
});

await check("sign(): RSA-PSS, SHA-384", async () => {
  const h = digest("Sổ điểm", "sha384");
  const r = await kyso.sign(CERTS.rsa.id, h, { hashAlgorithm: "sha384", padding: "pss" });
  keepSig("rsa", "sha384", "pss", h, r.bytes);
});

let ecSig = null, ecHash = null;
await check("sign(): EC P-256, the hash given as base64", async () => {
  ecHash = digest("điểm toán 9.5");
  const r = await kyso.sign(CERTS.p256.id, Buffer.from(ecHash).toString("base64"));
  ecSig = r.bytes;
  keepSig("p256", "sha256", "", ecHash, r.bytes);
});

await check("sign(): a CMS (pades profile) over a record", async () => {
  const data = Buffer.from("Biên bản họp hội đồng lớp 12A1\n");
  const r = await kyso.sign(CERTS.p384.id, digest(data), { format: "cms", profile: "pades" });
  writeFileSync(`${OUT}/cms.data`, data);
  writeFileSync(`${OUT}/cms.der`, r.bytes);
  appendFileSync(`${OUT}/signatures`, `cms ${OUT}/cms.data ${OUT}/cms.der\n`);
});

await check("verify(): kyso's verdict on the EC signature is not invalid; a changed hash is invalid", async () => {
  const v = await kyso.verify({ signature: ecSig, hash: ecHash, certificate: CERTS.p256.id });
  if (v.status === "invalid") throw new Error(JSON.stringify(v));
  const bad = ecHash.slice();
  bad[0] ^= 1;
  const w = await kyso.verify({ signature: ecSig, hash: bad, certificate: CERTS.p256.id });
  eq(w.status, "invalid", "the changed hash");
});

await check("KysoError certificate_not_found (404) for an unknown certificate", async () => {
  const e = await rejects(kyso.sign("0".repeat(64), digest("x")), "certificate_not_found");
  eq(e.status, 404, "status");
});

await check("KysoError for a hash of the wrong length, naming the field", async () => {
  const e = await rejects(kyso.sign(CERTS.p256.id, new Uint8Array(31)), "hash_length");
  eq([e.status, e.details.field], [400, "hash"], "status and field");
});

await check("KysoError token_not_found for logout of an unknown token", async () => {
  await rejects(kyso.logout("0".repeat(32)), "token_not_found");
});

await check("KysoError pin_cancelled (403) when the user cancels the PIN dialog", async () => {
  await kyso.logout(env.KYSO_TEST_TOKEN);
  pinentrySays("cancel");
  const e = await rejects(kyso.sign(CERTS.p256.id, digest("x")), "pin_cancelled");
  eq(e.status, 403, "status");
});
pinentrySays("pin 123456");

await check("events(): a login is a pin-state event of the token on the stream", async () => {
  await kyso.logout(env.KYSO_TEST_TOKEN);
  const ctl = new AbortController();
  const seen = [];
  const stream = kyso.events((type, data) => {
    seen.push(type);
    if (type === "pin-state" && data.token === env.KYSO_TEST_TOKEN && data.pin.logged_in) ctl.abort();
  }, { signal: ctl.signal });
  await kyso._streamOpen;
  await kyso.sign(CERTS.p256.id, digest("đăng nhập"));
  const t = setTimeout(() => ctl.abort(), 10000);
  await stream;
  clearTimeout(t);
  if (!seen.includes("pin-state")) throw new Error(`events seen: ${seen.join(", ") || "none"}`);
});

await check("signBatch(): 60 records with progress from the event stream", async () => {
  const items = Array.from({ length: 60 }, (_, i) => ({ id: `12A1-${i}`, hash: digest(`bản ghi ${i}`) }));
  const progress = [];
  const r = await kyso.signBatch(CERTS.p256.id, items, {
    description: "Sổ điểm lớp 12A1, học kỳ I",
    onProgress: (p) => progress.push(p.done),
  });
  eq([r.total, r.signed, r.failed, r.cancelled], [60, 60, 0, false], "total signed failed cancelled");
  if (!progress.length) throw new Error("no progress");
  eq(progress[progress.length - 1], 60, "the last progress");
  eq(progress, [...progress].sort((a, b) => a - b), "progress never goes back");
  r.items.forEach((it, i) => {
    eq(it.id, items[i].id, "item id");
    keepSig("p256", "sha256", "", items[i].hash, it.bytes);
  });
});

await check("signBatch(): aborting its signal during the consent cancels the batch in kyso", async () => {
  await kyso.logout(env.KYSO_TEST_TOKEN);
  pinentrySays("hang");
  const n = pinentryCount("GETPIN");
  const ctl = new AbortController();
  const items = [{ id: "a", hash: digest("a") }, { id: "b", hash: digest("b") }];
  const p = kyso.signBatch(CERTS.p256.id, items, { signal: ctl.signal, onProgress: () => {} });
  for (let i = 0; i < 100 && pinentryCount("GETPIN") === n; i++) await sleep(100);
  if (pinentryCount("GETPIN") === n) throw new Error("no dialog");
  ctl.abort();
  const r = await p;
  eq([r.cancelled, r.signed], [true, 0], "cancelled, signed");
  eq(r.items.map((it) => it.error?.code), ["batch_cancelled", "batch_cancelled"], "the items");
});
pinentrySays("pin 123456");

await check("the connection keeps working after errors and a cancelled batch", async () => {
  const r = await kyso.sign(CERTS.p256.id, digest("sau cùng"));
  keepSig("p256", "sha256", "", digest("sau cùng"), r.bytes);
});
