// SPDX-License-Identifier: LGPL-2.1-or-later
// A one-page PDF record with an empty PAdES signature field, written byte by byte (a classic
// xref table), and the embedding of a CMS signature into it. Plain JavaScript, no PDF library.
//
//   const rec = prepare({ title, lines, signer });  // rec.pdf (Buffer), rec.hash (SHA-256
//                                                   // of the /ByteRange, for POST /v1/sign)
//   const signed = embed(rec, cms);                 // the CMS (DER) in /Contents
//
// The signature dictionary has /SubFilter /ETSI.CAdES.detached, so the CMS is asked from kyso
// with "format": "cms", "profile": "pades" (no signingTime: the time is the dictionary's /M).
import { createHash } from "node:crypto";

// room for the CMS in /Contents, in bytes (written as twice as many hex digits): a
// signature with its certificate and, with a timestamp, the token's certificates
export const CONTENTS_SIZE = 12288;

// PDF's standard fonts cannot show Vietnamese: the record's text is written without its
// diacritics (đ as d), the Unicode text kept in the document information's /Title.
function ascii(text) {
  return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/g, "d")
    .replace(/Đ/g, "D").replace(/[^\x20-\x7e]/g, "?");
}

// a PDF literal string of ASCII text
function literal(text) {
  return "(" + ascii(text).replace(/[\\()]/g, (c) => "\\" + c) + ")";
}

// a PDF text string of any text: UTF-16BE with its byte order mark, in hex
function textString(text) {
  let hex = "FEFF";
  for (let i = 0; i < text.length; i++) hex += text.charCodeAt(i).toString(16).padStart(4, "0");
  return "<" + hex.toUpperCase() + ">";
}

function pdfDate(d) {
  const p = (n, w = 2) => String(n).padStart(w, "0");
  return `D:${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}` +
    `${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
}

const RANGE_PLACEHOLDER = "/ByteRange [0 0000000000 0000000000 0000000000]";

/**
 * A PDF record of `lines` (strings) under `title`, with an unsigned signature field whose
 * dictionary reserves /Contents. Returns { pdf, hash, range, contentsAt }: hash is the
 * SHA-256 of the bytes /ByteRange covers (base64), contentsAt the offset of /Contents' '<'.
 */
export function prepare({ title, lines, reason = "", when = new Date() }) {
  let y = 770;
  const text = [`BT /F1 16 Tf 72 ${y} Td ${literal(title)} Tj ET`];
  y -= 30;
  for (const line of lines) {
    text.push(`BT /F1 11 Tf 72 ${y} Td ${literal(line)} Tj ET`);
    y -= 16;
  }
  const content = text.join("\n");
  const objs = [
    null,
    "<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [6 0 R] /SigFlags 3 >> >>",
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R" +
      " /Resources << /Font << /F1 5 0 R >> >> /Annots [6 0 R] >>",
    `<< /Length ${Buffer.byteLength(content)} >>\nstream\n${content}\nendstream`,
    "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    "<< /Type /Annot /Subtype /Widget /FT /Sig /T (teacher) /F 132 /Rect [0 0 0 0]" +
      " /P 3 0 R /V 7 0 R >>",
    "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached\n" +
      `${RANGE_PLACEHOLDER}\n/Contents <${"0".repeat(2 * CONTENTS_SIZE)}>\n` +
      `/M (${pdfDate(when)}) /Reason ${textString(reason)} >>`,
    `<< /Title ${textString(title)} /Producer (kyso grade book demo) >>`,
  ];
  let out = "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n";
  const offsets = [];
  for (let n = 1; n < objs.length; n++) {
    offsets[n] = Buffer.byteLength(out, "latin1");
    out += `${n} 0 obj\n${objs[n]}\nendobj\n`;
  }
  const xref = Buffer.byteLength(out, "latin1");
  out += `xref\n0 ${objs.length}\n0000000000 65535 f\r\n`;
  for (let n = 1; n < objs.length; n++) out += `${String(offsets[n]).padStart(10, "0")} 00000 n\r\n`;
  const id = createHash("md5").update(content).update(String(when.getTime())).digest("hex");
  out += `trailer\n<< /Size ${objs.length} /Root 1 0 R /Info 8 0 R /ID [<${id}> <${id}>] >>\n` +
    `startxref\n${xref}\n%%EOF\n`;
  const pdf = Buffer.from(out, "latin1");

  // the range: everything but /Contents' hex string, '<' and '>' included
  const contentsAt = pdf.indexOf("/Contents <") + "/Contents ".length;
  const after = contentsAt + 2 * CONTENTS_SIZE + 2;
  const range = [0, contentsAt, after, pdf.length - after];
  const text10 = (n) => String(n).padStart(10, "0");
  const at = pdf.indexOf(RANGE_PLACEHOLDER);
  pdf.write(`/ByteRange [0 ${text10(range[1])} ${text10(range[2])} ${text10(range[3])}]`, at, "latin1");
  const hash = createHash("sha256").update(pdf.subarray(0, range[1]))
    .update(pdf.subarray(range[2])).digest("base64");
  return { pdf, hash, range, contentsAt };
}

/** The prepared record with the CMS (DER bytes) in /Contents; throws when it does not fit. */
export function embed(record, cms) {
  if (!cms.length || cms[0] !== 0x30) throw new Error("the signature is not a DER CMS");
  if (cms.length > CONTENTS_SIZE) throw new Error(`the signature (${cms.length} bytes) does not fit`);
  const pdf = Buffer.from(record.pdf);
  pdf.write(Buffer.from(cms).toString("hex").toUpperCase(), record.contentsAt + 1, "latin1");
  return pdf;
}
