// SPDX-License-Identifier: LGPL-2.1-or-later
// Drives the grade book demo in Debian's Chromium with playwright-core, for
// tests/integration/t-web-chromium.sh. Prints one JSON line of what the page showed.
//   node drive.mjs MODE URL SCREENSHOT   (env: PW_DIR, SPKI, PAGE_PORT, PAGE_PORT2, PAGE_PORT3,
//                                         WEB_PORT, FRAME_URL, PDF_SIGNER)
// MODE: sign (the permission granted: connect, sign one record, the class and a PDF record),
//       denied (the permission refused: connect only), pair (connect only),
//       refuse (connect, then connect again at once: the pairing refused, then the cool-down),
//       foreign (a page of an unknown origin, the permission granted, reaches for kyso's
//       answers and tries to raise dialogs, without the client),
//       iframe (the demo from FRAME_URL in an iframe without allow="loopback-network": connect).
import { createRequire } from "node:module";

const [mode, url, shot] = process.argv.slice(2);
const require = createRequire(process.env.PW_DIR + "/");
const { chromium } = require("playwright-core");
const out = { mode };

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox",
    `--ignore-certificate-errors-spki-list=${process.env.SPKI}`,
    "--host-resolver-rules=MAP *.test 127.0.0.1",
    // the page's server counts as a public web site, so that reaching 127.0.0.1 is a
    // request from public to loopback, as from a real record system
    `--ip-address-space-overrides=127.0.0.1:${process.env.PAGE_PORT}=public,` +
      `127.0.0.1:${process.env.PAGE_PORT2}=public,127.0.0.1:${process.env.PAGE_PORT3}=public`,
  ],
});
try {
  const context = await browser.newContext();
  const origin = new URL(url).origin;
  out.granted = [];
  // (in the iframe case no permission is granted: a permission granted through the
  // DevTools protocol holds in any frame, whatever its allow= says)
  if (mode !== "denied" && mode !== "iframe") {
    // Playwright's name for Chromium's local-network and loopback-network permissions
    for (const o of [origin]) {
      for (const p of ["local-network-access"]) {
        try {
          await context.grantPermissions([p], { origin: o });
          out.granted.push(p);
        } catch (e) {
          // not a permission this Playwright or Chromium knows
          out.grant_errors = (out.grant_errors ?? []).concat(`${p}: ${String(e).split("\n")[0]}`);
        }
      }
    }
  }
  const page = await context.newPage();
  page.on("console", (m) => process.stderr.write(`console: ${m.text()}\n`));
  await page.goto(url);
  if (mode === "foreign") {
    // what a hostile page can do with fetch: a CORS read of the answers, "simple"
    // requests (no preflight) that the browser sends but does not let it read
    out.foreign = await page.evaluate(async (port) => {
      const base = `http://127.0.0.1:${port}`;
      const r = {};
      const lna = { targetAddressSpace: "loopback" };
      const attempt = async (name, path, init) => {
        try {
          const resp = await fetch(base + path, { ...lna, ...init });
          let text = "";
          try {
            text = await resp.text();
          } catch (e) {
            text = "unreadable";
          }
          r[name] = `${resp.type} ${resp.status} ${text.slice(0, 80)}`;
        } catch (e) {
          r[name] = `rejected ${e.name}`;
        }
      };
      await attempt("certificates", "/v1/certificates", {});
      await attempt("status", "/v1/status", {});
      await attempt("sign_json", "/v1/sign", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
      await attempt("pair_nocors", "/v1/pair", { method: "POST", mode: "no-cors",
        headers: { "Content-Type": "text/plain" }, body: "{}" });
      await attempt("sign_nocors", "/v1/sign", { method: "POST", mode: "no-cors",
        headers: { "Content-Type": "text/plain" },
        body: JSON.stringify({ certificate: "0".repeat(64), hash: btoa("x".repeat(32)),
          hash_algorithm: "sha256" }) });
      await attempt("certificates_nocors", "/v1/certificates", { mode: "no-cors" });
      return r;
    }, process.env.WEB_PORT);
    throw new Error("done");
  }
  if (mode === "iframe") {
    // the school portal frames the grade book without allow="loopback-network"
    await page.evaluate((src) => new Promise((resolve) => {
      const f = document.createElement("iframe");
      f.src = src;
      f.width = 800;
      f.height = 600;
      f.onload = resolve;
      document.body.appendChild(f);
    }), process.env.FRAME_URL);
    const frame = page.frames().find((f) => f.url().startsWith(process.env.FRAME_URL));
    out.frame_permission = await frame.evaluate(async () => (await import("./kyso.js")).permissionState());
    out.frame_policy = await frame.evaluate(() => document.featurePolicy?.allowedFeatures()
      .filter((f) => /network/.test(f)).join(" "));
    await frame.click("#connect");
    await frame.waitForFunction(() => !/^(Looking|Not connected)/.test(document.getElementById("status").textContent),
      null, { timeout: 60000 });
    out.status = await frame.textContent("#status");
    out.connected = (await frame.getAttribute("#status", "class")) === "ok";
    throw new Error("done");
  }
  out.permission = await page.evaluate(async () => {
    const m = await import("./kyso.js");
    return m.permissionState();
  });
  await page.click("#connect");
  await page.waitForFunction(() => !/^Looking/.test(document.getElementById("status").textContent),
    null, { timeout: 60000 });
  out.status = await page.textContent("#status");
  if (mode === "refuse") {
    // at once again: the origin is in its cool-down
    await page.evaluate(() => { document.getElementById("status").textContent = "Not connected."; });
    await page.click("#connect");
    await page.waitForFunction(() => !/^(Looking|Not connected)/.test(document.getElementById("status").textContent),
      null, { timeout: 60000 });
    out.status_again = await page.textContent("#status");
  }
  out.connected = (await page.getAttribute("#status", "class")) === "ok";
  out.certs = await page.$$eval("#cert-list li", (l) => l.map((x) => x.textContent));
  if (mode === "sign" && out.connected) {
    await page.click("#sign-one");
    await page.waitForFunction(() => document.getElementById("verdict").dataset.status ||
      document.getElementById("status").className === "error", null, { timeout: 60000 });
    out.verdict = await page.textContent("#verdict");
    out.signature = await page.getAttribute("#verdict", "data-signature");
    out.cert = await page.getAttribute("#verdict", "data-cert");
    out.hash = await page.getAttribute("#verdict", "data-hash");
    out.verify_status = await page.getAttribute("#verdict", "data-status");
    await page.click("#sign-class");
    await page.waitForFunction(() => /of 40 records/.test(document.getElementById("verdict").textContent) ||
      document.getElementById("status").className === "error", null, { timeout: 120000 });
    out.class_verdict = await page.textContent("#verdict");
    out.progress = await page.getAttribute("#progress", "value");
    out.progress_text = await page.textContent("#progress-text");
    // a PDF record the server prepared, signed (PAdES) and offered, with the certificate
    // whose name has PDF_SIGNER
    if (process.env.PDF_SIGNER)
      await page.$eval("#cert-choice", (sel, name) => {
        const o = Array.from(sel.options).find((x) => x.textContent.includes(name));
        if (o) sel.value = o.value;
        sel.dispatchEvent(new Event("change"));
      }, process.env.PDF_SIGNER);
    await page.click("#sign-pdf");
    await page.waitForFunction(() => document.getElementById("pdf").dataset.url ||
      document.getElementById("status").className === "error", null, { timeout: 60000 });
    out.pdf_url = await page.getAttribute("#pdf", "data-url");
    out.pdf_text = await page.textContent("#pdf");
    out.pdf_href = await page.getAttribute("#pdf-link", "href");
  }
  out.final_status = await page.textContent("#status");
  if (shot) await page.screenshot({ path: shot, fullPage: true });
} catch (e) {
  if (String(e) !== "Error: done") out.exception = String(e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
