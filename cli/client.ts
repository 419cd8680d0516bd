// The CLI's connection to the edge: edge-contract's AdminClient over node:http(s) with the tenant's
// bearer token; refusals (Kubernetes `Status`) become one-line CliErrors ("429 TooManyRequests: ...").
import http from "node:http";
import https from "node:https";
import type { ClusterDescription, MachineJson } from "../edge-contract/admin-api.js";
import { AdminClient, clusterApiPath, type EdgeError } from "../edge-contract/admin-client.js";
import { CliError, EXIT } from "./errors.js";

export type ClusterInfo = ClusterDescription;
export type MachineInfo = MachineJson;

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

  /** edge-contract's admin client over node:http(s); refusals are EdgeError, see cliError(). */
  readonly admin = new AdminClient((req) => this.send(req));

  /** node:http(s) rather than fetch: it takes a per-request CA for a local edge's own certificate. */
  private async send(r: { method: string; path: string; body?: string }): Promise<{ status: number; text: string }> {
    const target = new URL(this.url + r.path);
    const payload = r.body === undefined ? undefined : Buffer.from(r.body);
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, accept: "application/json" };
    if (payload) {
      headers["content-type"] = "application/json";
      headers["content-length"] = String(payload.length);
    }
    return new Promise<{ status: number; text: string }>((resolve, reject) => {
      const send = target.protocol === "https:" ? https.request : http.request;
      const req = send(target, { method: r.method, headers, timeout: REQUEST_TIMEOUT_MS, ...(this.caPem ? { ca: this.caPem } : {}) }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      });
      req.on("timeout", () => req.destroy(Object.assign(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000}s`), { code: "ETIMEDOUT" })));
      req.on("error", reject);
      req.end(payload);
    }).catch((e: NodeJS.ErrnoException) => {
      if (e.code && UNTRUSTED_CERT.has(e.code)) {
        throw new CliError(
          `the edge's certificate at ${this.url} is not trusted (${e.code}): pass --certificate-authority FILE with the CA that signed it ` +
            "(env CAPIM_EDGE_CA_FILE; a local edge keeps it in <state-dir>/edge-tls/ca.crt)",
          EXIT.unreachable,
        );
      }
      throw new CliError(`cannot reach the edge at ${this.url}: ${e.code ?? ""} ${e.message}`.replace(/\s+/g, " "), EXIT.unreachable);
    });
  }

  /** The Kubernetes API URL of one cluster (the kubeconfig's server). */
  serverFor(namespace: string, name: string): string {
    return this.url + clusterApiPath(namespace, name);
  }
}

/** Node's TLS verification failures that a missing or wrong --certificate-authority causes. */
const UNTRUSTED_CERT = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_SIGNATURE_FAILURE",
]);

/** An edge refusal as the CLI prints it: one line, "<code> <Reason>: <message>". */
export function cliError(e: EdgeError): CliError {
  const body = e.body;
  let message: string;
  if (body && typeof body === "object" && (body as { kind?: string }).kind === "Status") {
    const st = body as { reason?: string; message?: string };
    message = `${e.code} ${st.reason ?? ""}: ${st.message ?? ""}`.replace(/\s+/g, " ").trim();
  } else {
    const text = typeof body === "string" ? body : JSON.stringify(body ?? "");
    message = `${e.code} ${text.replace(/\s+/g, " ").slice(0, 300)}`.trim();
  }
  return new CliError(message, EXIT.failed, e.code);
}
