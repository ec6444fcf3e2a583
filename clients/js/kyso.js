// SPDX-License-Identifier: MIT
// kyso.js: sign with a teacher's smart card from a web page, through kysod's loopback
// listener (http://127.0.0.1:24960-24967), or from a Node program, through kysod's Unix
// socket. One ES module, no dependencies.
//
//   import { connect } from "./kyso.js";
//   button.onclick = async () => {
//     const kyso = await connect();                  // finds kyso; asks the user to pair once
//     const [cert] = await kyso.certificates({ usable: true });
//     const sig = await kyso.sign(cert.id, await crypto.subtle.digest("SHA-256", record));
//   };
//
// See README.md beside this file and docs/api.md ("Browsers").

export const DEFAULT_PORTS = [24960, 24961, 24962, 24963, 24964, 24965, 24966, 24967];

/** An error of kyso or of reaching it; `code` is the API's code or one of this client's. */
export class KysoError extends Error {
  constructor(code, message, details = {}) {
    super(message);
    this.name = "KysoError";
    this.code = code;
    this.status = details.status ?? 0;
    this.details = details;
  }
}

// What a school web developer can act on, for the failures a browser hides behind one
// "TypeError: Failed to fetch".
const HELP = {
  kyso_not_found:
    "kyso was not found on this computer (no answer on 127.0.0.1 ports %PORTS%). " +
    "Install kyso and check that kysod runs with `listen = yes` in kysod.conf.",
  permission_denied:
    "The browser blocked this page from reaching kyso on this computer: the user refused " +
    "the local network permission (Chrome: 'Apps on device' / loopback-network). Allow it " +
    "in the site settings (the icon left of the address), or ask the administrator to set " +
    "the LocalNetworkAccessAllowedForUrls policy for this site.",
  csp_blocked:
    "This page's Content Security Policy forbids connecting to kyso. Add " +
    "`connect-src http://127.0.0.1:*` (or the ports %PORTS%) to the site's " +
    "Content-Security-Policy header.",
  iframe_blocked:
    "This page runs in an iframe that may not reach the local network. Add " +
    'allow="loopback-network; local-network-access" to the <iframe> element.',
  insecure_context:
    "This page is not a secure context (https): browsers let only https pages reach kyso.",
};

function help(code, ports) {
  return HELP[code].replace("%PORTS%", `${ports[0]}-${ports[ports.length - 1]}`);
}

/** The state of the local network permission: "granted", "denied", "prompt" or "unknown". */
export async function permissionState() {
  if (typeof navigator === "undefined" || !navigator.permissions) return "unknown";
  for (const name of ["loopback-network", "local-network-access"]) {
    try {
      const s = await navigator.permissions.query({ name });
      return s.state;
    } catch (e) {
      // this browser does not know the name: try the older one
    }
  }
  return "unknown";
}

function inIframe() {
  try {
    return typeof window !== "undefined" && window.self !== window.top;
  } catch (e) {
    return true;
  }
}

// An iframe whose permissions policy (its allow= attribute) leaves out the local network
// features this browser knows.
function framePolicyBlocks() {
  if (!inIframe() || typeof document === "undefined") return false;
  const policy = document.permissionsPolicy ?? document.featurePolicy;
  if (!policy?.features || !policy.allowsFeature) return false;
  const known = policy.features();
  const names = ["loopback-network", "local-network-access", "local-network"].filter((f) => known.includes(f));
  return names.length > 0 && !names.some((f) => policy.allowsFeature(f));
}

function b64(bytes) {
  if (typeof bytes === "string") return bytes;
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes.buffer ?? bytes);
  let s = "";
  for (let i = 0; i < u8.length; i += 0x8000) s += String.fromCharCode(...u8.subarray(i, i + 0x8000));
  return btoa(s);
}

function fromB64(text) {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

// Node, not a browser: connect() then talks to kysod's Unix socket. (Deno and Bun also
// set process.versions.node and have node:http.)
function inNode() {
  return typeof window === "undefined" && typeof process !== "undefined" && !!process.versions?.node;
}

/** kysod's Unix socket in Node: $KYSO_SOCKET, else $XDG_RUNTIME_DIR/kyso/kyso.sock. */
export function defaultSocketPath() {
  const env = process.env;
  if (env.KYSO_SOCKET) return env.KYSO_SOCKET;
  const rt = env.XDG_RUNTIME_DIR || `/run/user/${process.getuid?.() ?? 0}`;
  return rt + "/kyso/kyso.sock";
}

// A fetch over a Unix socket with node:http, answering a WHATWG Response (the body streamed,
// for the event stream). node:http is imported only here, when the program runs in Node, so
// that a page's bundle loads without it.
function unixFetch(socketPath) {
  let http = null;
  return async function fetchUnix(url, init = {}) {
    if (!http) {
      const name = "node:http";
      http = await import(/* webpackIgnore: true */ /* @vite-ignore */ name);
    }
    const u = new URL(url);
    const headers = { ...(init.headers ?? {}) };
    if (init.body !== undefined) headers["Content-Length"] = Buffer.byteLength(init.body);
    return new Promise((resolve, reject) => {
      const req = http.request({
        socketPath,
        method: init.method ?? "GET",
        path: u.pathname + u.search,
        headers: { Host: "localhost", ...headers },
        signal: init.signal,
      });
      req.on("error", reject);
      req.on("response", (res) => {
        const status = res.statusCode;
        const hdrs = new Headers();
        for (const [k, v] of Object.entries(res.headers))
          for (const one of [].concat(v)) hdrs.append(k, one);
        let body = null;
        if (status !== 204 && status !== 304 && init.method !== "HEAD") {
          let ended = false;
          body = new ReadableStream({
            start(ctl) {
              const end = (e) => {
                if (ended) return;
                ended = true;
                if (e) ctl.error(e);
                else ctl.close();
              };
              res.on("data", (chunk) => ended || ctl.enqueue(new Uint8Array(chunk)));
              res.on("end", () => end(null));
              res.on("error", (e) => end(e));
              res.on("aborted", () => end(new DOMException("aborted", "AbortError")));
            },
            cancel() {
              res.destroy();
            },
          });
        } else {
          res.resume();
        }
        resolve(new Response(body, { status, statusText: res.statusMessage, headers: hdrs }));
      });
      if (init.body !== undefined) req.write(init.body);
      req.end();
    });
  };
}

// Connects to kysod's Unix socket: no origin, no pairing (the socket is the user's own).
async function connectUnix(options) {
  const socketPath = options.socketPath || defaultSocketPath();
  const fetchFn = unixFetch(socketPath);
  const kyso = new Kyso("http://localhost", { origin: null, paired: true }, { fetch: fetchFn, init: {} });
  kyso.socketPath = socketPath;
  try {
    kyso.info = { ...(await kyso.request("GET", "/v1/status")), origin: null, paired: true };
  } catch (e) {
    const cause = e.details?.cause;
    if (e.code === "kyso_unreachable" && ["ENOENT", "ECONNREFUSED", "EACCES"].includes(cause?.code))
      throw new KysoError("kyso_not_running",
        `kysod is not running: nothing answers on its socket ${socketPath} (${cause.code}). ` +
        "Start it (systemctl --user start kysod.socket, or kysod -f), or give connect() " +
        "the socketPath it listens on.", { cause });
    throw e;
  }
  return kyso;
}

function randomId() {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

// Why a fetch to kyso failed without an answer. A CSP violation is reported as an event,
// in a task of its own after the fetch rejected: cspSeen() is asked after the event loop
// had a turn.
async function diagnose(ports, cspSeen) {
  await new Promise((r) => setTimeout(r, 50));
  if (cspSeen()) return "csp_blocked";
  if (typeof window !== "undefined" && window.isSecureContext === false) return "insecure_context";
  if (framePolicyBlocks()) return "iframe_blocked";
  const state = await permissionState();
  if (state === "denied") return inIframe() ? "iframe_blocked" : "permission_denied";
  return "kyso_not_found";
}

/** A connection to one kysod: the port it answered on and the page's origin. */
export class Kyso {
  constructor(base, info, options = {}) {
    this.base = base;
    this.info = info;
    this.origin = info.origin;
    this._fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this._init = options.init ?? { targetAddressSpace: "loopback" };
  }

  async request(method, path, body, signal) {
    const init = { ...this._init, method, signal, cache: "no-store" };
    if (body !== undefined) {
      init.headers = { "Content-Type": "application/json" };
      init.body = JSON.stringify(body);
    }
    let resp;
    try {
      resp = await this._fetch(this.base + path, init);
    } catch (e) {
      if (e && e.name === "AbortError") throw new KysoError("aborted", "cancelled", { cause: e });
      throw new KysoError("kyso_unreachable", "kyso stopped answering: " + e, { cause: e });
    }
    const text = await resp.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch (e) {
      throw new KysoError("bad_answer", `kyso answered ${resp.status} without JSON`, { status: resp.status });
    }
    if (!resp.ok) {
      const err = (json && json.error) || {};
      throw new KysoError(err.code || "http_" + resp.status, err.message || resp.statusText, {
        status: resp.status,
        retryAfter: Number(resp.headers.get("Retry-After")) || 0,
        ...err,
      });
    }
    return json;
  }

  /** The certificates on the inserted tokens; {usable: true} keeps those kyso would sign with. */
  async certificates(options = {}) {
    const q = options.token ? "?token=" + encodeURIComponent(options.token) : "";
    const r = await this.request("GET", "/v1/certificates" + q);
    return options.usable ? r.certificates.filter((c) => c.usable) : r.certificates;
  }

  async tokens() {
    return (await this.request("GET", "/v1/tokens")).tokens;
  }

  /**
   * Signs a hash (ArrayBuffer, Uint8Array or base64) with a certificate's key. options:
   * hashAlgorithm ("sha256"), padding ("pkcs1" | "pss"), format ("raw" | "cms"),
   * timestamp, profile ("cades" | "pades", for cms), signal. Resolves to kyso's answer plus
   * `bytes` (the signature).
   */
  async sign(certificate, hash, options = {}) {
    const body = {
      certificate,
      hash: b64(hash),
      hash_algorithm: options.hashAlgorithm ?? "sha256",
    };
    if (options.padding) body.padding = options.padding;
    if (options.format) body.format = options.format;
    if (options.timestamp) body.timestamp = true;
    if (options.profile) body.profile = options.profile;
    const r = await this.request("POST", "/v1/sign", body, options.signal);
    r.bytes = fromB64(r.signature);
    return r;
  }

  /**
   * Signs many hashes with one consent. items: [{id, hash}]. options: hashAlgorithm,
   * padding, description (shown in the dialog), onProgress({done, failed, total}), signal
   * (aborting it cancels the batch in kyso: the items left are answered batch_cancelled).
   */
  async signBatch(certificate, items, options = {}) {
    const batch = randomId();
    const body = {
      certificate,
      hash_algorithm: options.hashAlgorithm ?? "sha256",
      batch,
      items: items.map((it) => ({ id: String(it.id), hash: b64(it.hash) })),
    };
    if (options.padding) body.padding = options.padding;
    if (options.description) body.description = options.description;
    const events = new AbortController();
    let stream = null;
    // kysod sends the batch's last progress event just before its answer, on
    // another connection: the stream is kept open until that event is in
    // (for at most a second), so that onProgress always sees the end
    let lastSeen;
    const last = new Promise((r) => (lastSeen = r));
    if (options.onProgress) {
      stream = this.events((type, data) => {
        if (type !== "batch-progress" || data.batch !== batch) return;
        options.onProgress(data);
        if (data.done >= data.total) lastSeen();
      }, { signal: events.signal }).catch(() => {});
      await this._streamOpen;
    }
    const onAbort = () => this.cancelBatch(batch).catch(() => {});
    options.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const r = await this.request("POST", "/v1/sign/batch", body);
      for (const it of r.items) if (it.signature) it.bytes = fromB64(it.signature);
      if (stream) {
        let timer;
        await Promise.race([last, new Promise((r) => (timer = setTimeout(r, 1000)))]);
        clearTimeout(timer);
      }
      return r;
    } finally {
      options.signal?.removeEventListener("abort", onAbort);
      events.abort();
      await stream;
    }
  }

  /** Cancels a running batch of this page. */
  async cancelBatch(batch) {
    return this.request("DELETE", "/v1/sign/batch/" + encodeURIComponent(batch));
  }

  /**
   * Checks a signature: {signature, hash, hashAlgorithm, format, certificate, padding}.
   * Resolves to kyso's verdict ({status: "valid" | "invalid" | "indeterminate", ...}).
   */
  async verify(v) {
    const body = {
      signature: b64(v.signature),
      hash: b64(v.hash),
      hash_algorithm: v.hashAlgorithm ?? "sha256",
      format: v.format ?? "raw",
    };
    if (v.certificate) body.certificate = v.certificate;
    if (v.padding) body.padding = v.padding;
    return this.request("POST", "/v1/verify", body, v.signal);
  }

  /** Ends the kept login of one token. */
  async logout(token) {
    return this.request("POST", "/v1/logout", { token });
  }

  /**
   * Follows kyso's event stream (the page's own batches, tokens, readers) until signal
   * aborts: onEvent(type, data, id) for each event. Resolves when the stream ends.
   */
  async events(onEvent, options = {}) {
    let opened;
    this._streamOpen = new Promise((r) => (opened = r));
    let resp;
    try {
      resp = await this._fetch(this.base + "/v1/events", {
        ...this._init,
        signal: options.signal,
        cache: "no-store",
      });
    } finally {
      opened();
    }
    if (!resp.ok) {
      const j = await resp.json().catch(() => ({}));
      throw new KysoError(j.error?.code ?? "http_" + resp.status, j.error?.message ?? "", { status: resp.status });
    }
    const reader = resp.body.getReader();
    const dec = new TextDecoder();
    let buf = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += dec.decode(value, { stream: true });
        let end;
        while ((end = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          let type = "message", data = "", id = null;
          for (const line of block.split("\n")) {
            if (line.startsWith("event: ")) type = line.slice(7);
            else if (line.startsWith("data: ")) data += line.slice(6);
            else if (line.startsWith("id: ")) id = line.slice(4);
          }
          if (data) onEvent(type, JSON.parse(data), id);
        }
      }
    } catch (e) {
      if ((e && e.name === "AbortError") || options.signal?.aborted) return;
      throw e;
    }
  }
}

/**
 * Finds the user's kysod and returns a Kyso. Call it from a click handler: the browser may ask
 * the user for the local network permission at the first request. options: ports,
 * host ("127.0.0.1"), pair (true: ask the user to allow this site when it is not yet),
 * fetch (a fetch function, for tests), init (extra fetch options). In Node (or with
 * socketPath), it talks to kysod's Unix socket instead: socketPath (default $KYSO_SOCKET,
 * else $XDG_RUNTIME_DIR/kyso/kyso.sock).
 */
export async function connect(options = {}) {
  if (options.socketPath || (inNode() && !options.ports && !options.host && !options.fetch))
    return connectUnix(options);
  const ports = options.ports ?? DEFAULT_PORTS;
  const host = options.host ?? "127.0.0.1";
  const fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
  const init = options.init ?? { targetAddressSpace: "loopback" };
  let cspSeen = false;
  const onCsp = (e) => {
    if (String(e.blockedURI || "").includes(host)) cspSeen = true;
  };
  if (typeof document !== "undefined") document.addEventListener("securitypolicyviolation", onCsp);
  let otherUser = false;
  try {
    for (const port of ports) {
      const base = `http://${host}:${port}`;
      let resp;
      try {
        resp = await fetchFn(base + "/v1/pair", { ...init, cache: "no-store" });
      } catch (e) {
        continue; // nothing there (or blocked): the next port
      }
      const j = await resp.json().catch(() => null);
      if (resp.status === 403 && j?.error?.code === "wrong_user") {
        otherUser = true; // another user's kysod: ours is on a later port
        continue;
      }
      if (!resp.ok || !j) continue;
      const kyso = new Kyso(base, j, { fetch: fetchFn, init });
      if (!j.paired && options.pair !== false) await kyso.pair();
      else if (!j.paired) throw new KysoError("origin_not_allowed", "this web site is not allowed to use kyso yet", {});
      return kyso;
    }
    if (otherUser)
      throw new KysoError("kyso_not_running", "kyso runs for another user of this computer, not for you: log in again, or start kysod");
    const code = await diagnose(ports, () => cspSeen);
    throw new KysoError(code, help(code, ports));
  } finally {
    if (typeof document !== "undefined") document.removeEventListener("securitypolicyviolation", onCsp);
  }
}

/** Asks the user to let this site use kyso (one dialog); called by connect() when needed. */
Kyso.prototype.pair = async function pair() {
  const r = await this.request("POST", "/v1/pair", {});
  this.info = r;
  return r;
};

export default { connect, permissionState, defaultSocketPath, Kyso, KysoError, DEFAULT_PORTS };
