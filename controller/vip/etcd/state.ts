// The etcd state as the VIP's etcd bridge uses it: the admin API's JSON (edge-contract) checked and
// converted once; ids travel as decimal strings (they exceed 2^53) and are bigint here.
import { AdminClient, EdgeError, type AdminTransport } from "../../../edge-contract/admin-client.js";

export type EdgeFetch = (path: string, init?: RequestInit) => Promise<Response>;

export interface EtcdMember {
  id: bigint;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  removed: boolean;
}

export interface EtcdState {
  clusterId: bigint;
  /** 0n when there is no leader. */
  leaderId: bigint;
  raftTerm: bigint;
  revision: bigint;
  version: string;
  members: EtcdMember[];
  faults: {
    alarms: { memberId: bigint; alarm: string }[];
    noLeader: boolean;
    /** Member names whose RPCs never get an answer. */
    unresponsive: string[];
    /** Added to every RPC, in ms (0: none). */
    latencyMs: number;
  };
}

/** The calls the etcd bridge makes, bound to one cluster (the VIP's edge fetch as transport). */
export interface EtcdAdmin {
  getState(signal?: AbortSignal): Promise<EtcdState>;
  moveLeader(targetId: bigint): Promise<EtcdState>;
  removeMember(id: bigint): Promise<EtcdState>;
}

/** An AdminTransport over a fetch-like function (the VIP's edgeFetch, which adds the bearer token). */
export function fetchTransport(edgeFetch: EdgeFetch): AdminTransport {
  return async ({ method, path, body, signal }) => {
    const headers: Record<string, string> = body === undefined ? { accept: "application/json" } : { accept: "application/json", "content-type": "application/json" };
    const res = await edgeFetch(path, { method, headers, body, signal });
    return { status: res.status, text: await res.text() };
  };
}

export function etcdAdmin(edgeFetch: EdgeFetch, namespace: string, name: string): EtcdAdmin {
  const client = new AdminClient(fetchTransport(edgeFetch));
  return {
    getState: async (signal) => parseEtcdState(await client.etcdState(namespace, name, signal)),
    moveLeader: async (id) => parseEtcdState(await client.moveEtcdLeader(namespace, name, id)),
    removeMember: async (id) => parseEtcdState(await client.removeEtcdMember(namespace, name, id)),
  };
}

function big(v: unknown, field: string): bigint {
  if (typeof v === "string" && /^\d+$/.test(v)) return BigInt(v);
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  throw new EdgeError(502, `edge etcd state: bad ${field} ${JSON.stringify(v)}`);
}

/** Validate and convert the admin API's JSON; a malformed answer is an error, not a guess. */
export function parseEtcdState(json: unknown): EtcdState {
  const o = json as Record<string, any> | undefined;
  if (!o || typeof o !== "object" || !Array.isArray(o.members)) {
    throw new EdgeError(502, "edge etcd state: not an etcd state object");
  }
  const faults = (o.faults ?? {}) as Record<string, any>;
  return {
    clusterId: big(o.clusterId, "clusterId"),
    leaderId: o.leaderId === undefined || o.leaderId === null ? 0n : big(o.leaderId, "leaderId"),
    raftTerm: big(o.raftTerm ?? 0, "raftTerm"),
    revision: big(o.revision ?? 0, "revision"),
    version: typeof o.version === "string" ? o.version : "3.5.16",
    members: o.members.map((m: Record<string, any>) => ({
      id: big(m.id, "member id"),
      name: String(m.name ?? ""),
      peerURLs: Array.isArray(m.peerURLs) ? m.peerURLs.map(String) : [],
      clientURLs: Array.isArray(m.clientURLs) ? m.clientURLs.map(String) : [],
      removed: m.removed === true,
    })),
    faults: {
      alarms: Array.isArray(faults.alarms)
        ? faults.alarms.map((a: Record<string, any>) => ({ memberId: big(a.memberId, "alarm memberId"), alarm: String(a.alarm) }))
        : [],
      noLeader: faults.noLeader === true,
      unresponsive: Array.isArray(faults.unresponsive) ? faults.unresponsive.map(String) : [],
      latencyMs: typeof faults.latencyMs === "number" && faults.latencyMs > 0 ? Math.min(faults.latencyMs, 60_000) : 0,
    },
  };
}
