// Typed client for the edge's admin API: clusters and the machines (bootstrap timeline) of each.
// undici.request with a bearer token (not fetch: its WHATWG streams cost ~3x the CPU per call, and the
// controller makes a few calls per machine); errors from the edge are Kubernetes `Status` objects,
// surfaced as EdgeError so callers can branch on the HTTP code (404 on delete = already gone).
import { request } from "undici";
import type { MachineCondition, MachineJson, MachineList, MachineSpec } from "../edge-contract/admin-api.js";

// The wire shapes are the edge's own (edge-contract/admin-api.ts); the Edge* names are what the
// reconcilers call them.
export type { MachineProvisioning, ProvisioningSettings } from "../edge-contract/admin-api.js";
export type EdgeMachineSpec = MachineSpec;
export type EdgeMachine = MachineJson;
export type EdgeMachineList = MachineList;
export type EdgeCondition = MachineCondition;

export interface EdgeCluster {
  namespace?: string;
  name?: string;
  [field: string]: unknown;
}

export class EdgeError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly reason?: string,
  ) {
    super(message);
    this.name = "EdgeError";
  }
}

export interface EdgeClientOptions {
  url: string;
  token: string;
  /** Per-request timeout in ms (default 15000). */
  timeoutMs?: number;
}

export class EdgeClient {
  private readonly base: string;
  private readonly token: string;
  private readonly timeoutMs: number;

  constructor(opts: EdgeClientOptions) {
    this.base = opts.url.replace(/\/+$/, "");
    this.token = opts.token;
    this.timeoutMs = opts.timeoutMs ?? 15_000;
  }

  /** Create (idempotent) the fake cluster `<ns>/<name>`. */
  putCluster(ns: string, name: string, body: Record<string, unknown> = {}): Promise<EdgeCluster> {
    return this.call("PUT", clusterPath(ns, name), body);
  }

  getCluster(ns: string, name: string): Promise<EdgeCluster> {
    return this.call("GET", clusterPath(ns, name));
  }

  /** Drop the whole fake cluster; resolves to false if it was already gone. */
  async deleteCluster(ns: string, name: string): Promise<boolean> {
    try {
      await this.call("DELETE", clusterPath(ns, name));
      return true;
    } catch (e) {
      if (e instanceof EdgeError && e.code === 404) return false;
      throw e;
    }
  }

  async listClusters(): Promise<EdgeCluster[]> {
    const r = await this.call<{ items?: EdgeCluster[] } | EdgeCluster[]>("GET", "/admin/clusters");
    return Array.isArray(r) ? r : (r.items ?? []);
  }

  /** Create or update a machine; the edge starts its timeline on first PUT and keeps it on later ones. */
  putMachine(ns: string, cluster: string, machine: string, spec: EdgeMachineSpec): Promise<EdgeMachine> {
    return this.call("PUT", machinePath(ns, cluster, machine), spec);
  }

  getMachine(ns: string, cluster: string, machine: string): Promise<EdgeMachine> {
    return this.call("GET", machinePath(ns, cluster, machine));
  }

  listMachines(ns: string, cluster: string): Promise<EdgeMachineList> {
    return this.call("GET", `${clusterPath(ns, cluster)}/machines`);
  }

  /** Delete a machine (Node, static pods, etcd member); returns the remaining apiserver count. */
  deleteMachine(ns: string, cluster: string, machine: string): Promise<{ apiServers: number }> {
    return this.call("DELETE", machinePath(ns, cluster, machine));
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await request(this.base + path, {
      method: method as "GET",
      headers: {
        authorization: `Bearer ${this.token}`,
        accept: "application/json",
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
    });
    const text = await res.body.text();
    const ok = res.statusCode >= 200 && res.statusCode < 300;
    let json: unknown = undefined;
    if (text) {
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
    }
    if (!ok) {
      const st = (json ?? {}) as { message?: string; reason?: string };
      throw new EdgeError(res.statusCode, `edge ${method} ${path}: ${res.statusCode} ${st.message ?? text.slice(0, 200)}`, st.reason);
    }
    return json as T;
  }
}

function seg(s: string): string {
  return encodeURIComponent(s);
}

function clusterPath(ns: string, name: string): string {
  return `/admin/clusters/${seg(ns)}/${seg(name)}`;
}

function machinePath(ns: string, cluster: string, machine: string): string {
  return `${clusterPath(ns, cluster)}/machines/${seg(machine)}`;
}
