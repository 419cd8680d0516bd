// The controller's admin API client: edge-contract's AdminClient over undici.request with the
// controller's bearer token (not fetch: its WHATWG streams cost ~3x the CPU per call, and the
// controller makes a few calls per machine). Errors are EdgeError, so callers branch on the HTTP code.
import { request } from "undici";
import { AdminClient, type AdminTransport } from "../edge-contract/admin-client.js";
import { routedTransport } from "../edge-contract/admin-routing.js";
import type { MachineCondition, MachineJson, MachineList, MachineSpec } from "../edge-contract/admin-api.js";

// The wire shapes are the edge's own (edge-contract/admin-api.ts); the Edge* names are what the
// reconcilers call them.
export type { MachineProvisioning, ProvisioningSettings } from "../edge-contract/admin-api.js";
export { EdgeError } from "../edge-contract/admin-client.js";
export type EdgeMachineSpec = MachineSpec;
export type EdgeMachine = MachineJson;
export type EdgeMachineList = MachineList;
export type EdgeCondition = MachineCondition;

export interface EdgeClientOptions {
  /** The edge, or the K edges a cluster is routed among by its namespace/name (edge-contract/admin-routing.ts). */
  url: string | readonly string[];
  token: string;
  /** Per-request timeout in ms (default 15000). */
  timeoutMs?: number;
}

function undiciTransport(opts: EdgeClientOptions & { url: string }): AdminTransport {
  const base = opts.url.replace(/\/+$/, "");
  const timeoutMs = opts.timeoutMs ?? 15_000;
  return async ({ method, path, body, signal }) => {
    const res = await request(base + path, {
      method: method as "GET",
      headers: {
        authorization: `Bearer ${opts.token}`,
        accept: "application/json",
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      body,
      signal,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    return { status: res.statusCode, text: await res.body.text() };
  };
}

export class EdgeClient extends AdminClient {
  constructor(opts: EdgeClientOptions) {
    const urls = typeof opts.url === "string" ? [opts.url] : opts.url;
    super(routedTransport(urls.map((url) => undiciTransport({ ...opts, url }))));
  }
}
