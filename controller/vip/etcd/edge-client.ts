// Client for the edge's per-cluster etcd admin API (state lives in the cluster's Durable Object).
// Ids travel as decimal strings in JSON (they exceed 2^53) and are bigint here.

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
  };
}

/** A non-2xx answer from the edge, with its Kubernetes Status body when there is one. */
export class EdgeError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body?: unknown,
  ) {
    super(message);
  }
}

export class EtcdAdminClient {
  private readonly base: string;
  constructor(
    private readonly edgeFetch: EdgeFetch,
    namespace: string,
    name: string,
  ) {
    this.base = `/admin/clusters/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/etcd`;
  }

  getState(signal?: AbortSignal): Promise<EtcdState> {
    return this.call("GET", "", undefined, signal);
  }

  moveLeader(targetId: bigint): Promise<EtcdState> {
    return this.call("POST", "/move-leader", { targetId: targetId.toString() });
  }

  removeMember(id: bigint): Promise<EtcdState> {
    return this.call("POST", "/remove-member", { id: id.toString() });
  }

  private async call(method: string, suffix: string, body: unknown, signal?: AbortSignal): Promise<EtcdState> {
    const res = await this.edgeFetch(this.base + suffix, {
      method,
      headers: body === undefined ? { accept: "application/json" } : { accept: "application/json", "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const msg = (json as { message?: string } | undefined)?.message ?? (text.slice(0, 200) || res.statusText);
      throw new EdgeError(res.status, `edge ${method} ${this.base + suffix}: ${res.status} ${msg}`, json);
    }
    return parseEtcdState(json);
  }
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
    },
  };
}
