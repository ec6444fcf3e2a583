// SPDX-License-Identifier: LGPL-2.1-or-later
// The grade book's web server: static files over https (or http with --http), kyso.js
// from clients/js, and PDF records to sign: the page posts a record, the server prepares
// its PDF with an empty signature field and answers the hash kyso signs; the page posts
// kyso's CMS back, the server puts it into the PDF and offers the signed file. Node only,
// no dependencies.
//   node server.mjs --cert CERT.pem --key KEY.pem --port 8443
import { createServer as https } from "node:https";
import { createServer as http } from "node:http";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { prepare, embed } from "./pdf-record.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const args = Object.fromEntries(process.argv.slice(2).join(" ").split("--").filter(Boolean)
  .map((a) => a.trim().split(/\s+/)).map(([k, v]) => [k, v ?? true]));
const files = {
  "/": join(here, "index.html"),
  "/app.js": join(here, "app.js"),
  "/style.css": join(here, "style.css"),
  "/kyso.js": normalize(join(here, "../../clients/js/kyso.js")),
};
const types = { html: "text/html; charset=utf-8", js: "text/javascript", css: "text/css" };

// PDF records being signed, by id (the newest 100)
const pdfs = new Map();

function json(res, status, body) {
  res.writeHead(status, { "Content-Type": "application/json", "Cache-Control": "no-store" })
    .end(JSON.stringify(body));
}

function readJson(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on("data", (c) => {
      size += c.length;
      if (size > 65536) req.destroy(new Error("too large"));
      else chunks.push(c);
    });
    req.on("end", () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      } catch (e) {
        reject(e);
      }
    });
    req.on("error", reject);
  });
}

// POST /pdf {record: {id, student, math, literature}, teacher} -> {id, hash, hash_algorithm}
// PUT /pdf/ID/signature {cms: BASE64} -> {url, size}
// GET /pdf/ID/signed.pdf -> the signed PDF
async function handlePdf(req, res, path) {
  const m = path.match(/^\/pdf\/([0-9a-f]{32})\/(signature|signed\.pdf)$/);
  try {
    if (req.method === "POST" && path === "/pdf") {
      const { record: r, teacher } = await readJson(req);
      const id = randomBytes(16).toString("hex");
      const rec = prepare({
        title: `Học bạ lớp 12A1 — ${r.student}`,
        lines: [`Mã hồ sơ: ${r.id}`, `Học sinh: ${r.student}`, `Toán: ${r.math}`,
          `Ngữ văn: ${r.literature}`, `Giáo viên chủ nhiệm: ${teacher}`],
        reason: `Xác nhận điểm học kỳ I của ${r.student}`,
      });
      pdfs.set(id, rec);
      if (pdfs.size > 100) pdfs.delete(pdfs.keys().next().value);
      json(res, 200, { id, hash: rec.hash, hash_algorithm: "sha256" });
    } else if (req.method === "PUT" && m && m[2] === "signature" && pdfs.has(m[1])) {
      const { cms } = await readJson(req);
      const rec = pdfs.get(m[1]);
      rec.signed = embed(rec, Buffer.from(String(cms), "base64"));
      json(res, 200, { url: `/pdf/${m[1]}/signed.pdf`, size: rec.signed.length });
    } else if (req.method === "GET" && m && m[2] === "signed.pdf" && pdfs.get(m[1])?.signed) {
      res.writeHead(200, {
        "Content-Type": "application/pdf",
        "Content-Disposition": `attachment; filename="hoc-ba-${m[1].slice(0, 8)}.pdf"`,
        "Cache-Control": "no-store",
      }).end(pdfs.get(m[1]).signed);
    } else {
      json(res, 404, { error: "no such record" });
    }
  } catch (e) {
    json(res, 400, { error: String(e.message ?? e) });
  }
}

function handle(req, res) {
  const path = new URL(req.url, "https://x").pathname;
  if (path === "/pdf" || path.startsWith("/pdf/")) {
    handlePdf(req, res, path);
    return;
  }
  const file = files[path === "/index.html" ? "/" : path];
  if (!file) {
    res.writeHead(404).end("not found");
    return;
  }
  const headers = { "Content-Type": types[file.split(".").pop()], "Cache-Control": "no-store" };
  // the page may reach kyso's loopback ports, and nothing else
  if (args.csp !== "none")
    headers["Content-Security-Policy"] = args.csp === "strict" ? "default-src 'self'" :
      "default-src 'self'; connect-src 'self' http://127.0.0.1:*";
  res.writeHead(200, headers).end(readFileSync(file));
}

const port = Number(args.port ?? 8443);
const server = args.http ? http(handle) :
  https({ cert: readFileSync(args.cert), key: readFileSync(args.key) }, handle);
server.listen(port, "127.0.0.1", () => console.log(`grade book on port ${port}`));
