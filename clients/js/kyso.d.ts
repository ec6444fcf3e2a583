// SPDX-License-Identifier: MIT
// Type declarations of kyso.js.

export declare const DEFAULT_PORTS: number[];

export type BinaryLike = ArrayBuffer | Uint8Array | string;

export declare class KysoError extends Error {
  /** The API's error code (docs/api.md), or one of this client's: kyso_not_found,
   * permission_denied, csp_blocked, iframe_blocked, insecure_context, kyso_not_running,
   * kyso_unreachable, bad_answer, aborted. */
  code: string;
  /** The HTTP status, 0 when kyso gave none. */
  status: number;
  details: { retryAfter?: number; field?: string; [k: string]: unknown };
}

export interface PairState {
  /** The page's origin; null on the Unix socket (where info is GET /v1/status's answer). */
  origin: string | null;
  paired: boolean;
  source: "admin" | "user" | null;
  pairable: boolean;
  version: string;
  api: number;
}

export interface Certificate {
  id: string;
  token: string;
  subject: string;
  subject_cn?: string;
  issuer: string;
  not_before: string;
  not_after: string;
  key_type: "rsa" | "ec";
  usable: boolean;
  problems: { code: string; message: string }[];
  [k: string]: unknown;
}

export interface SignOptions {
  hashAlgorithm?: "sha256" | "sha384" | "sha512";
  padding?: "pkcs1" | "pss";
  format?: "raw" | "cms";
  timestamp?: boolean;
  /** format "cms" only: "cades" (the default) or "pades" (the signed attributes of a PDF signature). */
  profile?: "cades" | "pades";
  signal?: AbortSignal;
}

export interface Signature {
  signature: string;
  bytes: Uint8Array;
  algorithm: string;
  certificate: string;
  audit_id: string;
  [k: string]: unknown;
}

export interface BatchProgress {
  batch: string;
  done: number;
  failed: number;
  total: number;
  time: number;
}

export interface BatchItemResult {
  id: string;
  signature?: string;
  bytes?: Uint8Array;
  audit_id?: string;
  error?: { code: string; message: string };
}

export interface BatchResult {
  batch: string;
  certificate: string;
  algorithm: string;
  total: number;
  signed: number;
  failed: number;
  cancelled: boolean;
  items: BatchItemResult[];
}

export interface BatchOptions {
  hashAlgorithm?: "sha256" | "sha384" | "sha512";
  padding?: "pkcs1" | "pss";
  description?: string;
  onProgress?: (p: BatchProgress) => void;
  signal?: AbortSignal;
}

export interface VerifyInput {
  signature: BinaryLike;
  hash: BinaryLike;
  hashAlgorithm?: "sha256" | "sha384" | "sha512";
  format?: "raw" | "cms";
  certificate?: string;
  padding?: "pkcs1" | "pss";
  signal?: AbortSignal;
}

export interface Verdict {
  status: "valid" | "invalid" | "indeterminate";
  reason?: string;
  checks: unknown[];
  [k: string]: unknown;
}

export interface ConnectOptions {
  ports?: number[];
  host?: string;
  /** Ask the user to allow this site when it is not yet (default true). */
  pair?: boolean;
  fetch?: typeof fetch;
  init?: RequestInit & { targetAddressSpace?: string };
  /** Node: kysod's Unix socket (default $KYSO_SOCKET, else $XDG_RUNTIME_DIR/kyso/kyso.sock).
   * In Node, connect() uses the Unix socket unless ports, host or fetch is given. */
  socketPath?: string;
}

export declare class Kyso {
  base: string;
  /** The page's origin; null on the Unix socket. */
  origin: string | null;
  /** The Unix socket's path, in Node. */
  socketPath?: string;
  info: PairState;
  pair(): Promise<PairState>;
  request(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<any>;
  certificates(options?: { usable?: boolean; token?: string }): Promise<Certificate[]>;
  tokens(): Promise<unknown[]>;
  sign(certificate: string, hash: BinaryLike, options?: SignOptions): Promise<Signature>;
  signBatch(certificate: string, items: { id: string | number; hash: BinaryLike }[],
            options?: BatchOptions): Promise<BatchResult>;
  cancelBatch(batch: string): Promise<{ batch: string; cancelled: boolean }>;
  verify(input: VerifyInput): Promise<Verdict>;
  logout(token: string): Promise<{ logged_out: number }>;
  events(onEvent: (type: string, data: any, id: string | null) => void,
         options?: { signal?: AbortSignal }): Promise<void>;
}

export declare function connect(options?: ConnectOptions): Promise<Kyso>;
/** kysod's Unix socket in Node: $KYSO_SOCKET, else $XDG_RUNTIME_DIR/kyso/kyso.sock. */
export declare function defaultSocketPath(): string;
export declare function permissionState(): Promise<"granted" | "denied" | "prompt" | "unknown">;

declare const _default: {
  connect: typeof connect;
  permissionState: typeof permissionState;
  defaultSocketPath: typeof defaultSocketPath;
  Kyso: typeof Kyso;
  KysoError: typeof KysoError;
  DEFAULT_PORTS: number[];
};
export default _default;
