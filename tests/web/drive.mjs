// SPDX-License-Identifier: LGPL-2.1-or-later
// Drives the grade book demo in Debian's Chromium with playwright-core, for
// tests/integration/t-web-chromium.sh. Prints one JSON line of what the page showed.
//   node drive.mjs MODE URL SCREENSHOT   (env: PW_DIR, SPKI, PAGE_PORT)
// MODE: sign (the permission granted: connect, sign one record and the class),
//       denied (the permission refused: connect only), pair (connect only).
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
    `--ip-address-space-overrides=127.0.0.1:${process.env.PAGE_PORT}=public`,
  ],
});
try {
  const context = await browser.newContext();
  const origin = new URL(url).origin;
  out.granted = [];
  if (mode !== "denied") {
    // Playwright's name for Chromium's local-network and loopback-network permissions
    for (const p of ["local-network-access"]) {
      try {
        await context.grantPermissions([p], { origin });
        out.granted.push(p);
      } catch (e) {
        // not a permission this Playwright or Chromium knows
        out.grant_errors = (out.grant_errors ?? []).concat(`${p}: ${String(e).split("\n")[0]}`);
      }
    }
  }
  const page = await context.newPage();
  page.on("console", (m) => process.stderr.write(`console: ${m.text()}\n`));
  await page.goto(url);
  out.permission = await page.evaluate(async () => {
    const m = await import("./kyso.js");
    return m.permissionState();
  });
  await page.click("#connect");
  await page.waitForFunction(() => !/^Looking/.test(document.getElementById("status").textContent),
    null, { timeout: 60000 });
  out.status = await page.textContent("#status");
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
  }
  out.final_status = await page.textContent("#status");
  if (shot) await page.screenshot({ path: shot, fullPage: true });
} catch (e) {
  out.exception = String(e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
