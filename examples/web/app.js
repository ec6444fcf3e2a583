// SPDX-License-Identifier: LGPL-2.1-or-later
// The grade book demo: lists the teacher's certificates (with why one is unusable), signs
// one record or the whole class with a progress bar, shows kyso's verification, and signs
// a PDF record the server prepared (PAdES: kyso makes the CMS over the hash the server gave).
import { connect, KysoError } from "./kyso.js";

const $ = (id) => document.getElementById(id);
let kyso = null;
let cert = null;

const NAMES = ["Nguyễn Văn An", "Trần Thị Bích", "Lê Hoàng Cường", "Phạm Minh Dũng",
  "Hoàng Thị Em", "Vũ Đức Giang", "Đặng Thu Hà", "Bùi Quang Huy"];
const records = Array.from({ length: 40 }, (_, i) => ({
  id: `12A1-${String(i + 1).padStart(2, "0")}`,
  student: `${NAMES[i % NAMES.length]} ${i + 1}`,
  math: (5 + ((i * 7) % 50) / 10).toFixed(1),
  literature: (6 + ((i * 3) % 40) / 10).toFixed(1),
}));

function show(text, cls = "") {
  $("status").textContent = text;
  $("status").className = cls;
}

async function sha256(record) {
  const bytes = new TextEncoder().encode(JSON.stringify(record));
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

function fail(e) {
  show(e instanceof KysoError ? `${e.code}: ${e.message}` : String(e), "error");
}

$("connect").onclick = async () => {
  try {
    show("Looking for kyso…");
    kyso = await connect();
    const certs = await kyso.certificates();
    const list = $("cert-list");
    list.textContent = "";
    for (const c of certs) {
      const li = document.createElement("li");
      li.textContent = `${c.subject_cn ?? c.subject} (${c.key_type}, until ${c.not_after.slice(0, 10)})`;
      if (!c.usable) {
        li.className = "unusable";
        li.textContent += ` — unusable: ${c.problems.map((p) => p.message).join("; ")}`;
      }
      list.appendChild(li);
    }
    // the teacher signs with the first usable certificate, or the one she picks
    const usable = certs.filter((c) => c.usable);
    const choice = $("cert-choice");
    choice.textContent = "";
    for (const c of usable) {
      const o = document.createElement("option");
      o.value = c.id;
      o.textContent = `${c.subject_cn ?? c.subject} (${c.key_type})`;
      choice.appendChild(o);
    }
    choice.onchange = () => {
      cert = usable.find((c) => c.id === choice.value) ?? null;
    };
    cert = usable[0] ?? null;
    $("certs").hidden = false;
    $("records").hidden = !cert;
    const rows = $("record-rows");
    rows.textContent = "";
    for (const r of records) {
      const tr = document.createElement("tr");
      for (const v of [r.student, r.math, r.literature, ""]) {
        const td = document.createElement("td");
        td.textContent = v;
        tr.appendChild(td);
      }
      tr.id = "row-" + r.id;
      rows.appendChild(tr);
    }
    show(`Connected to kyso ${kyso.info.version} on ${kyso.base} as ${kyso.origin}.`, "ok");
  } catch (e) {
    fail(e);
  }
};

function mark(id, text) {
  const row = $("row-" + id);
  if (row) row.lastChild.textContent = text;
}

$("sign-one").onclick = async () => {
  try {
    const r = records[0];
    const hash = await sha256(r);
    const sig = await kyso.sign(cert.id, hash, { hashAlgorithm: "sha256" });
    mark(r.id, sig.algorithm);
    const v = await kyso.verify({ signature: sig.signature, hash, certificate: cert.id });
    $("verdict").textContent = `Record ${r.id} signed (${sig.algorithm}); verification: ${v.status}`;
    $("verdict").className = v.status === "invalid" ? "error" : "ok";
    $("verdict").dataset.signature = sig.signature;
    $("verdict").dataset.cert = cert.id;
    $("verdict").dataset.hash = btoa(String.fromCharCode(...hash));
    $("verdict").dataset.status = v.status;
  } catch (e) {
    fail(e);
  }
};

$("sign-class").onclick = async () => {
  const ctl = new AbortController();
  $("cancel").disabled = false;
  $("cancel").onclick = () => ctl.abort();
  try {
    const items = [];
    for (const r of records) items.push({ id: r.id, hash: await sha256(r) });
    const res = await kyso.signBatch(cert.id, items, {
      description: "Sổ điểm lớp 12A1, học kỳ I",
      signal: ctl.signal,
      onProgress: (p) => {
        $("progress").value = p.done;
        $("progress-text").textContent = `${p.done} / ${p.total}`;
      },
    });
    for (const it of res.items) mark(it.id, it.signature ? "signed" : it.error.code);
    $("progress").value = res.signed + res.failed;
    $("progress-text").textContent = `${res.signed} signed, ${res.failed} failed`;
    $("verdict").textContent = `The class: ${res.signed} of ${res.total} records signed` +
      (res.cancelled ? " (cancelled)" : "");
    $("verdict").className = res.failed ? "error" : "ok";
  } catch (e) {
    fail(e);
  } finally {
    $("cancel").disabled = true;
  }
};

// The server prepares the record's PDF with an empty signature field and answers the SHA-256
// of the bytes the signature covers; kyso signs that hash as a CMS with the pades profile;
// the server puts the CMS into the PDF.
async function post(method, url, body) {
  const resp = await fetch(url, {
    method,
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const j = await resp.json();
  if (!resp.ok) throw new Error(`the server: ${j.error}`);
  return j;
}

$("sign-pdf").onclick = async () => {
  try {
    const r = records[0];
    const teacher = cert.subject_cn ?? cert.subject;
    const prepared = await post("POST", "/pdf", { record: r, teacher });
    const sig = await kyso.sign(cert.id, prepared.hash, {
      hashAlgorithm: prepared.hash_algorithm,
      format: "cms",
      profile: "pades",
    });
    const done = await post("PUT", `/pdf/${prepared.id}/signature`, { cms: sig.signature });
    $("pdf-link").href = done.url;
    $("pdf-text").textContent = `(${r.id}, ${done.size} bytes, signed by ${teacher})`;
    $("pdf").hidden = false;
    $("pdf").dataset.url = done.url;
  } catch (e) {
    fail(e);
  }
};
