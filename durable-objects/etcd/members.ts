// Fake etcd membership of one workload cluster (as CAPI's in-memory provider keeps it): cluster id, members, leader,
// raft term, removed flags and injected faults. IDs are random non-zero uint64s kept as decimal
// strings end to end (they exceed 2^53, so JSON numbers would corrupt them).
// The gRPC bridge in the controller turns this state into Maintenance/Cluster RPC answers.
import { ApiError } from "../apiserver/types.js";
import type { EtcdAlarmType, EtcdMemberJson, EtcdStateJson } from "../../edge-contract/admin-api.js";

export type { EtcdAlarmType, EtcdMemberJson, EtcdStateJson };

export const ETCD_VERSION = "3.5.16";


export interface EtcdMemberRecord {
  id: string;
  /** Node (= machine) name. */
  name: string;
  removed: boolean;
  /** Creation order; the oldest remaining member wins an election. */
  seq: number;
}

export interface EtcdFaults {
  alarms: Array<{ memberId: string; alarm: EtcdAlarmType }>;
  /** Every member reports "no leader". */
  noLeader: boolean;
  /** Member names that do not answer (the bridge makes their RPCs time out). */
  unresponsive: string[];
  /** Added to every etcd RPC by the bridge, in ms (absent: none). */
  latencyMs?: number;
}

export interface EtcdMeta {
  clusterId: string;
  /** "0" when there is no leader. */
  leaderId: string;
  raftTerm: number;
  nextSeq: number;
  faults: EtcdFaults;
}

/** Durable etcd state. SQLite in the DO (durable-objects/etcd-sqlite.ts), memory in tests. */
export interface EtcdStore {
  getMeta(): EtcdMeta | undefined;
  putMeta(meta: EtcdMeta): void;
  /** All member records (removed ones included), ordered by seq. */
  listMembers(): EtcdMemberRecord[];
  putMember(member: EtcdMemberRecord): void;
  deleteMember(id: string): void;
  clear(): void;
}

export class MemoryEtcdStore implements EtcdStore {
  private meta: string | undefined;
  private readonly members = new Map<string, string>();
  getMeta(): EtcdMeta | undefined {
    return this.meta === undefined ? undefined : (JSON.parse(this.meta) as EtcdMeta);
  }
  putMeta(meta: EtcdMeta): void {
    this.meta = JSON.stringify(meta);
  }
  listMembers(): EtcdMemberRecord[] {
    return [...this.members.values()].map((m) => JSON.parse(m) as EtcdMemberRecord).sort((a, b) => a.seq - b.seq);
  }
  putMember(member: EtcdMemberRecord): void {
    this.members.set(member.id, JSON.stringify(member));
  }
  deleteMember(id: string): void {
    this.members.delete(id);
  }
  clear(): void {
    this.meta = undefined;
    this.members.clear();
  }
}

/** A random non-zero uint64 as a decimal string. */
export function randomUint64(): string {
  const buf = new BigUint64Array(1);
  for (;;) {
    crypto.getRandomValues(buf);
    if (buf[0] !== 0n) return buf[0].toString();
  }
}

const UINT64_MAX = (1n << 64n) - 1n;

/** Parses a member id given as a decimal string (or a safe integer). Throws 400 when malformed. */
export function parseMemberId(value: unknown, field: string): string {
  let text: string;
  if (typeof value === "string") text = value.trim();
  else if (typeof value === "number" && Number.isSafeInteger(value)) text = String(value);
  else throw new ApiError(400, "BadRequest", `${field}: must be a decimal uint64 string`);
  if (!/^\d{1,20}$/.test(text) || BigInt(text) > UINT64_MAX) throw new ApiError(400, "BadRequest", `${field}: must be a decimal uint64 string`);
  return BigInt(text).toString();
}

// Error texts are etcd's own: clientv3 maps errors to typed errors by exact message (rpctypes).
const errMemberNotFound = () => new ApiError(404, "NotFound", "etcdserver: member not found");
const errBadTransferee = () => new ApiError(412, "PreconditionFailed", "etcdserver: bad leader transferee");
const errNoLeader = () => new ApiError(503, "ServiceUnavailable", "etcdserver: no leader");

const ALARMS: readonly string[] = ["NOSPACE", "CORRUPT"];

export class EtcdMembers {
  constructor(
    private readonly store: EtcdStore,
    private readonly newId: () => string = randomUint64,
  ) {}

  /** The cluster's meta, created on first use: the cluster id is chosen once and kept. */
  private meta(): EtcdMeta {
    let meta = this.store.getMeta();
    if (!meta) {
      // Real etcd bootstraps at term 1 and its first election moves it to 2.
      meta = { clusterId: this.newId(), leaderId: "0", raftTerm: 1, nextSeq: 1, faults: { alarms: [], noLeader: false, unresponsive: [] } };
      this.store.putMeta(meta);
    }
    return meta;
  }

  private live(): EtcdMemberRecord[] {
    return this.store.listMembers().filter((m) => !m.removed);
  }

  state(revision: number): EtcdStateJson {
    const meta = this.meta();
    const all = this.store.listMembers();
    const names = new Map(all.map((m) => [m.id, m.name]));
    const json = (m: EtcdMemberRecord): EtcdMemberJson => ({
      id: m.id,
      name: m.name,
      peerURLs: [`https://${m.name}:2380`],
      clientURLs: [`https://${m.name}:2379`],
      isLearner: false,
      removed: m.removed,
    });
    return {
      clusterId: meta.clusterId,
      leaderId: meta.faults.noLeader ? "0" : meta.leaderId,
      raftTerm: meta.raftTerm,
      revision,
      version: ETCD_VERSION,
      members: all.filter((m) => !m.removed).map(json),
      removedMembers: all.filter((m) => m.removed).map(json),
      faults: {
        alarms: meta.faults.alarms.map((a) => ({ ...a, memberName: names.get(a.memberId) ?? "" })),
        noLeader: meta.faults.noLeader,
        unresponsive: [...meta.faults.unresponsive],
        ...(meta.faults.latencyMs ? { latencyMs: meta.faults.latencyMs } : {}),
      },
    };
  }

  /** The live member for a node, if any. */
  memberByName(name: string): EtcdMemberRecord | undefined {
    return this.live().find((m) => m.name === name);
  }

  /**
   * Adds the member of a node whose etcd pod just started. Idempotent: a live member with that name
   * is returned as is. The first member becomes leader.
   */
  addMember(name: string): EtcdMemberRecord {
    const existing = this.memberByName(name);
    if (existing) return existing;
    const meta = this.meta();
    const taken = new Set(this.store.listMembers().map((m) => m.id));
    let id = this.newId();
    while (taken.has(id) || id === meta.clusterId) id = this.newId();
    const member: EtcdMemberRecord = { id, name, removed: false, seq: meta.nextSeq };
    meta.nextSeq += 1;
    this.store.putMember(member);
    if (meta.leaderId === "0") {
      meta.leaderId = id;
      meta.raftTerm += 1;
    }
    this.store.putMeta(meta);
    return member;
  }

  /** Maintenance.MoveLeader. Moving to the current leader is a no-op (raft ignores it). */
  moveLeader(targetId: string): void {
    const meta = this.meta();
    const target = this.live().find((m) => m.id === targetId);
    if (!target) throw errBadTransferee();
    if (meta.faults.noLeader || meta.leaderId === "0") throw errNoLeader();
    if (meta.leaderId === targetId) return;
    meta.leaderId = targetId;
    // The transferee campaigns immediately with term + 1 (raft's TimeoutNow).
    meta.raftTerm += 1;
    this.store.putMeta(meta);
  }

  /**
   * Cluster.MemberRemove: marks the member removed (its own endpoint then fails, like a member that
   * shut itself down). Removing the leader: real etcd's leader steps down once the conf change is
   * applied and the remaining members elect a new one after an election timeout (~1 s), with term + 1.
   * We elect at once (oldest remaining member, preferring responsive ones) because a leaderless
   * window would only make KCP's next call fail at random, which the noLeader fault does on purpose.
   */
  removeMember(id: string): void {
    const member = this.live().find((m) => m.id === id);
    if (!member) throw errMemberNotFound();
    member.removed = true;
    this.store.putMember(member);
    this.afterLeave(member);
  }

  /** The machine of a node was deleted: forget its member(s) entirely, removed or not. */
  dropMembersOf(name: string): void {
    for (const m of this.store.listMembers().filter((x) => x.name === name)) {
      this.store.deleteMember(m.id);
      this.afterLeave(m);
    }
  }

  private afterLeave(member: EtcdMemberRecord): void {
    const meta = this.meta();
    meta.faults.alarms = meta.faults.alarms.filter((a) => a.memberId !== member.id);
    if (meta.leaderId === member.id) {
      const rest = this.live();
      const next = rest.find((m) => !meta.faults.unresponsive.includes(m.name)) ?? rest[0];
      meta.leaderId = next ? next.id : "0";
      meta.raftTerm += 1;
    }
    this.store.putMeta(meta);
  }

  /** Replaces the injected faults. Throws 400 for malformed input, 422 for unknown members. */
  setFaults(body: unknown): void {
    if (typeof body !== "object" || body === null || Array.isArray(body)) throw new ApiError(400, "BadRequest", "body: must be a JSON object");
    const b = body as Record<string, unknown>;
    const live = this.live();
    const invalid = (msg: string) => new ApiError(422, "Invalid", `etcd faults are invalid: ${msg}`);
    const faults: EtcdFaults = { alarms: [], noLeader: false, unresponsive: [] };
    if (b.alarms !== undefined && b.alarms !== null) {
      if (!Array.isArray(b.alarms)) throw new ApiError(400, "BadRequest", "alarms: must be an array");
      b.alarms.forEach((a, i) => {
        const f = `alarms[${i}]`;
        if (typeof a !== "object" || a === null || Array.isArray(a)) throw new ApiError(400, "BadRequest", `${f}: must be an object`);
        const { memberName, memberId, alarm } = a as Record<string, unknown>;
        if (typeof alarm !== "string" || !ALARMS.includes(alarm)) throw new ApiError(400, "BadRequest", `${f}.alarm: must be one of NOSPACE, CORRUPT`);
        let member: EtcdMemberRecord | undefined;
        if (memberId !== undefined) {
          const id = parseMemberId(memberId, `${f}.memberId`);
          member = live.find((m) => m.id === id);
          if (!member) throw invalid(`${f}.memberId: member ${id} not found`);
        } else if (typeof memberName === "string") {
          member = live.find((m) => m.name === memberName);
          if (!member) throw invalid(`${f}.memberName: member "${memberName}" not found`);
        } else {
          throw new ApiError(400, "BadRequest", `${f}: memberName or memberId is required`);
        }
        if (!faults.alarms.some((x) => x.memberId === member!.id && x.alarm === alarm)) {
          faults.alarms.push({ memberId: member.id, alarm: alarm as EtcdAlarmType });
        }
      });
    }
    if (b.noLeader !== undefined && b.noLeader !== null) {
      if (typeof b.noLeader !== "boolean") throw new ApiError(400, "BadRequest", "noLeader: must be a boolean");
      faults.noLeader = b.noLeader;
    }
    if (b.unresponsive !== undefined && b.unresponsive !== null) {
      if (!Array.isArray(b.unresponsive) || b.unresponsive.some((n) => typeof n !== "string")) {
        throw new ApiError(400, "BadRequest", "unresponsive: must be an array of member names");
      }
      for (const name of b.unresponsive as string[]) {
        if (!live.some((m) => m.name === name)) throw invalid(`unresponsive: member "${name}" not found`);
        if (!faults.unresponsive.includes(name)) faults.unresponsive.push(name);
      }
    }
    if (b.latencyMs !== undefined && b.latencyMs !== null) {
      if (typeof b.latencyMs !== "number" || !Number.isFinite(b.latencyMs) || b.latencyMs < 0 || b.latencyMs > 60_000) {
        throw new ApiError(400, "BadRequest", "latencyMs: must be a number of milliseconds from 0 to 60000");
      }
      if (b.latencyMs > 0) faults.latencyMs = b.latencyMs;
    }
    const meta = this.meta();
    meta.faults = faults;
    this.store.putMeta(meta);
  }

  clear(): void {
    this.store.clear();
  }
}
