// The fake etcd member: the RPCs KCP and etcdctl use (Status, MemberList, Alarm, MoveLeader,
// MemberRemove, and Range for `endpoint health`), answered from the edge's etcd state as the member
// the tunnel targets. Error texts are etcd's own, verbatim: clientv3 maps errors back to typed errors by text.
import { EdgeError } from "../../../edge-contract/admin-client.js";
import type { EtcdAdmin, EtcdMember, EtcdState } from "./state.js";
import { GrpcError, GrpcStatus, type UnaryCall, type UnaryHandler } from "./grpc.js";
import {
  AlarmAction,
  AlarmType,
  decodeAlarmRequest,
  decodeMemberListRequest,
  decodeMemberRemoveRequest,
  decodeMoveLeaderRequest,
  decodeRangeRequest,
  encodeAlarmResponse,
  encodeEmptyRangeResponse,
  encodeMembersResponse,
  encodeMoveLeaderResponse,
  encodeStatusResponse,
  type Member,
  type ResponseHeader,
} from "./proto.js";

export const ETCD_ERRORS = {
  noLeader: new GrpcError(GrpcStatus.UNAVAILABLE, "etcdserver: no leader"),
  notLeader: new GrpcError(GrpcStatus.FAILED_PRECONDITION, "etcdserver: not leader"),
  badLeaderTransferee: new GrpcError(GrpcStatus.FAILED_PRECONDITION, "etcdserver: bad leader transferee"),
  memberNotFound: new GrpcError(GrpcStatus.NOT_FOUND, "etcdserver: member not found"),
  stopped: new GrpcError(GrpcStatus.UNAVAILABLE, "etcdserver: server stopped"),
} as const;

/**
 * How long an RPC to an "unresponsive" member is held before we give up on the client's behalf. A hung
 * etcd never answers, so clients see their own deadline (etcdctl's 5 s command timeout, KCP's call
 * timeout); the cap only stops a deadline-less client from pinning a stream forever.
 */
export const UNRESPONSIVE_CAP_MS = 120_000;

export interface EtcdServiceOptions {
  admin: EtcdAdmin;
  /** Node name of the member this connection talks to (pod `etcd-<node>`). */
  memberName: string;
  unresponsiveCapMs?: number;
  /** Told of every RPC answered: its path (/etcdserverpb.Service/Method), gRPC code and duration. */
  observe?: EtcdRpcObserver;
}

export type EtcdRpcObserver = (path: string, code: number, seconds: number) => void;

const ALARM_CODES: Record<string, number> = { NONE: AlarmType.NONE, NOSPACE: AlarmType.NOSPACE, CORRUPT: AlarmType.CORRUPT };

export function createEtcdService(opts: EtcdServiceOptions): Map<string, UnaryHandler> {
  const cap = opts.unresponsiveCapMs ?? UNRESPONSIVE_CAP_MS;

  /** Fresh state plus this member, after the checks every RPC shares (stopped member, hung member). */
  async function self(call: UnaryCall): Promise<{ state: EtcdState; me: EtcdMember }> {
    const state = await edge(() => opts.admin.getState(call.signal));
    const me = state.members.find((m) => m.name === opts.memberName);
    // A removed member shuts itself down; one that never joined is not serving either.
    if (!me || me.removed) throw ETCD_ERRORS.stopped;
    if (state.faults.unresponsive.includes(opts.memberName)) await hang(call.signal, cap);
    if (state.faults.latencyMs) await delay(call.signal, state.faults.latencyMs);
    return { state, me };
  }

  const header = (state: EtcdState, me: EtcdMember): ResponseHeader => ({
    clusterId: state.clusterId,
    memberId: me.id,
    revision: state.revision,
    raftTerm: state.raftTerm,
  });

  const liveMembers = (state: EtcdState): Member[] =>
    state.members
      .filter((m) => !m.removed)
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)) // etcd lists members sorted by id
      .map((m) => ({ id: m.id, name: m.name, peerURLs: m.peerURLs, clientURLs: m.clientURLs, isLearner: false }));

  const leaderOf = (state: EtcdState): bigint => (state.faults.noLeader ? 0n : state.leaderId);

  const handlers = new Map<string, UnaryHandler>();

  handlers.set("/etcdserverpb.Maintenance/Status", async (_req, call) => {
    const { state, me } = await self(call);
    // Like etcd's maintenanceServer.Status: a leaderless member still answers, with leader 0 and
    // "etcdserver: no leader" first in `errors` (etcdctl shows it in the ERRORS column; KCP's client
    // keeps Status.Errors and reports the member unhealthy). Only removed/hung members fail the call.
    const leader = leaderOf(state);
    const dbSize = 1024n * 1024n + state.revision * 256n; // plausible, grows with writes
    return encodeStatusResponse({
      header: header(state, me),
      version: state.version,
      dbSize,
      leader,
      raftIndex: state.revision + state.raftTerm,
      raftTerm: state.raftTerm,
      raftAppliedIndex: state.revision + state.raftTerm,
      // etcd reports active alarms here as AlarmMember text ("memberID:<id> alarm:NOSPACE ").
      errors: [...(leader === 0n ? [ETCD_ERRORS.noLeader.message] : []), ...state.faults.alarms.map((a) => `memberID:${a.memberId} alarm:${a.alarm} `)],
      dbSizeInUse: dbSize / 2n,
      isLearner: false,
    });
  });

  handlers.set("/etcdserverpb.Cluster/MemberList", async (req, call) => {
    const { linearizable } = decodeMemberListRequest(req);
    const { state, me } = await self(call);
    // A serializable member list is answered locally (works without a leader); a linearizable one needs one.
    if (linearizable && leaderOf(state) === 0n) throw ETCD_ERRORS.noLeader;
    return encodeMembersResponse(header(state, me), liveMembers(state));
  });

  handlers.set("/etcdserverpb.Maintenance/Alarm", async (req, call) => {
    const ar = decodeAlarmRequest(req);
    const { state, me } = await self(call);
    if (ar.action !== AlarmAction.GET) {
      throw new GrpcError(GrpcStatus.UNIMPLEMENTED, "capim-edge: alarms are injected through the edge admin API; only GET is served");
    }
    if (leaderOf(state) === 0n) throw ETCD_ERRORS.noLeader; // alarm requests go through raft
    const alarms = state.faults.alarms
      .map((a) => ({ memberId: a.memberId, alarm: ALARM_CODES[a.alarm.toUpperCase()] ?? -1 }))
      .filter((a) => a.alarm > 0 && (ar.alarm === AlarmType.NONE || a.alarm === ar.alarm));
    return encodeAlarmResponse(header(state, me), alarms);
  });

  // `etcdctl endpoint health` reads key "health" (and then lists alarms): a member is healthy when a
  // Range succeeds. The fake keyspace is empty (the cluster's objects live in the edge, not under
  // /registry here); a linearizable read needs a leader, a serializable one is answered locally.
  handlers.set("/etcdserverpb.KV/Range", async (req, call) => {
    const { serializable } = decodeRangeRequest(req);
    const { state, me } = await self(call);
    if (!serializable && leaderOf(state) === 0n) throw ETCD_ERRORS.noLeader;
    return encodeEmptyRangeResponse(header(state, me));
  });

  handlers.set("/etcdserverpb.Maintenance/MoveLeader", async (req, call) => {
    const { targetId } = decodeMoveLeaderRequest(req);
    const { state, me } = await self(call);
    if (leaderOf(state) !== me.id) throw ETCD_ERRORS.notLeader;
    const target = state.members.find((m) => m.id === targetId && !m.removed);
    if (!target) throw ETCD_ERRORS.badLeaderTransferee;
    const next = await edge(() => opts.admin.moveLeader(targetId), (e) => (e.code === 404 || e.code === 412 ? ETCD_ERRORS.badLeaderTransferee : undefined));
    return encodeMoveLeaderResponse(header(next, me));
  });

  handlers.set("/etcdserverpb.Cluster/MemberRemove", async (req, call) => {
    const { id } = decodeMemberRemoveRequest(req);
    const { state, me } = await self(call);
    if (leaderOf(state) === 0n) throw ETCD_ERRORS.noLeader; // membership changes go through raft
    // etcd maps both "unknown id" and "already removed" to member not found.
    if (!state.members.some((m) => m.id === id && !m.removed)) throw ETCD_ERRORS.memberNotFound;
    const next = await edge(() => opts.admin.removeMember(id), (e) => (e.code === 404 ? ETCD_ERRORS.memberNotFound : undefined));
    return encodeMembersResponse(header(next, me), liveMembers(next));
  });

  return opts.observe ? observed(handlers, opts.observe) : handlers;
}

/** The same handlers, each reporting its outcome (gRPC code) and duration to `observe`. */
function observed(handlers: Map<string, UnaryHandler>, observe: EtcdRpcObserver): Map<string, UnaryHandler> {
  const out = new Map<string, UnaryHandler>();
  for (const [path, handler] of handlers) {
    out.set(path, async (req, call) => {
      const started = performance.now();
      const done = (code: number) => observe(path, code, (performance.now() - started) / 1000);
      try {
        const reply = await handler(req, call);
        done(GrpcStatus.OK);
        return reply;
      } catch (err) {
        done(err instanceof GrpcError ? err.code : GrpcStatus.UNKNOWN);
        throw err;
      }
    });
  }
  return out;
}

/** Run an edge call; edge failures become gRPC errors (mapped ones first, else UNAVAILABLE). */
async function edge<T>(fn: () => Promise<T>, map?: (e: EdgeError) => GrpcError | undefined): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof GrpcError) throw err;
    if (err instanceof EdgeError) throw map?.(err) ?? new GrpcError(GrpcStatus.UNAVAILABLE, `capim-edge: etcd state unavailable: ${err.message}`);
    if ((err as Error)?.name === "AbortError") throw new GrpcError(GrpcStatus.CANCELLED, "context canceled");
    throw new GrpcError(GrpcStatus.UNAVAILABLE, `capim-edge: etcd state unavailable: ${(err as Error)?.message ?? err}`);
  }
}

/** Waits `ms` (the injected latency), or fails as the client's deadline when it gives up first. */
function delay(signal: AbortSignal, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const abort = () => {
      clearTimeout(timer);
      reject(signal.reason instanceof GrpcError ? signal.reason : new GrpcError(GrpcStatus.DEADLINE_EXCEEDED, "context deadline exceeded"));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", abort);
      resolve();
    }, ms);
    timer.unref();
    if (signal.aborted) return abort();
    signal.addEventListener("abort", abort, { once: true });
  });
}

/** Never answer: wait for the client to go away (or the cap), like a hung etcd process. */
async function hang(signal: AbortSignal, capMs: number): Promise<never> {
  await delay(signal, capMs);
  throw new GrpcError(GrpcStatus.UNAVAILABLE, "etcdserver: request timed out");
}
