// HTTP client for the edge's admin API: bearer token, JSON in and out, Kubernetes `Status` errors
// turned into one-line CliErrors ("429 TooManyRequests: ...").
import http from "node:http";
import https from "node:https";
import { CliError, EXIT } from "./errors.js";

export interface ClusterInfo {
  tenant: string;
  namespace: string;
  name: string;
  createdAt: string;
  expiresAt?: string;
  kubernetesVersion: string;
  labels?: Record<string, string>;
  resourceVersion?: string;
  objectCount?: number;
  /** Only in the create answer (and POST .../tokens): the per-cluster token, shown once. */
  token?: string;
}

export interface MachineInfo {
  name: string;
  controlPlane: boolean;
  version: string;
  ready: boolean;
  conditions?: Array<{ type: string; status: string; reason?: string }>;
}

const REQUEST_TIMEOUT_MS = 30_000;

export interface EdgeClientOptions {
  /** PEM CA bundle that signed the edge's serving certificate (a local edge's own CA). */
  caPem?: string;
}

export class EdgeClient {
  readonly url: string;
  readonly caPem: string | undefined;

  constructor(
    url: string,
    private readonly token: string,
    opts: EdgeClientOptions = {},
  ) {
    this.url = url.replace(/\/+$/, "");
    this.caPem = opts.caPem;
  }

  /**
   * Sends a request; returns the parsed JSON body and status, throwing on transport errors only.
   * node:http(s) rather than fetch: it takes a per-request CA for a local edge's own certificate.
   */
  async raw(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    const target = new URL(this.url + path);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, accept: "application/json" };
    if (payload) {
      headers["content-type"] = "application/json";
      headers["content-length"] = String(payload.length);
    }
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const send = target.protocol === "https:" ? https.request : http.request;
      const req = send(target, { method, headers, timeout: REQUEST_TIMEOUT_MS, ...(this.caPem ? { ca: this.caPem } : {}) }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      });
      req.on("timeout", () => req.destroy(Object.assign(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000}s`), { code: "ETIMEDOUT" })));
      req.on("error", reject);
      req.end(payload);
    }).catch((e: NodeJS.ErrnoException) => {
      throw new CliError(`cannot reach the edge at ${this.url}: ${e.code ?? ""} ${e.message}`.replace(/\s+/g, " "), EXIT.unreachable);
    });
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON: keep the text for the error message */
    }
    return { status, body: parsed };
  }

  /** Like raw(), but any status outside 2xx becomes a CliError. */
  async call<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const r = await this.raw(method, path, body);
    if (r.status < 200 || r.status > 299) throw statusError(r.status, r.body);
    return r as { status: number; body: T };
  }

  clusterPath(namespace: string, name: string): string {
    return `/admin/clusters/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;
  }

  /** The Kubernetes API URL of one cluster (the kubeconfig's server). */
  serverFor(namespace: string, name: string): string {
    return `${this.url}/clusters/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;
  }
}

export function statusError(status: number, body: unknown): CliError {
  let message: string;
  if (body && typeof body === "object" && (body as { kind?: string }).kind === "Status") {
    const s = body as { reason?: string; message?: string };
    message = `${status} ${s.reason ?? ""}: ${s.message ?? ""}`.replace(/\s+/g, " ").trim();
  } else {
    const text = typeof body === "string" ? body : JSON.stringify(body ?? "");
    message = `${status} ${text.replace(/\s+/g, " ").slice(0, 300)}`.trim();
  }
  return new CliError(message, EXIT.failed, status);
}
