// SPDX-License-Identifier: LGPL-2.1-or-later
// The grade book's web server: static files over https (or http with --http), and
// kyso.js from clients/js. Node only, no dependencies.
//   node server.mjs --cert CERT.pem --key KEY.pem --port 8443
import { createServer as https } from "node:https";
import { createServer as http } from "node:http";
import { readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

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

function handle(req, res) {
  const path = new URL(req.url, "https://x").pathname;
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
