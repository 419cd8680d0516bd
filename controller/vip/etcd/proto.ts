// The etcd v3 messages the bridge serves (field numbers from etcd api/etcdserverpb/rpc.proto).
//
// Why hand-written on @bufbuild/protobuf's wire layer instead of generated code: we need ten small
// messages with scalar fields only, and there is no protoc/buf step in this build. BinaryWriter/BinaryReader
// do the varints, length prefixes and unknown-field skipping; 64-bit ids stay bigint end to end (they are
// random uint64 values well above 2^53, and protobufjs-style Long/number handling is a known trap).
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";

export interface ResponseHeader {
  clusterId: bigint;
  memberId: bigint;
  revision: bigint;
  raftTerm: bigint;
}

export interface Member {
  id: bigint;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}

export const AlarmAction = { GET: 0, ACTIVATE: 1, DEACTIVATE: 2 } as const;
export const AlarmType = { NONE: 0, NOSPACE: 1, CORRUPT: 2 } as const;

export interface AlarmMember {
  memberId: bigint;
  alarm: number;
}

export interface StatusResponse {
  header: ResponseHeader;
  version: string;
  dbSize: bigint;
  leader: bigint;
  raftIndex: bigint;
  raftTerm: bigint;
  raftAppliedIndex: bigint;
  errors: string[];
  dbSizeInUse: bigint;
  isLearner: boolean;
}

// ---- requests (decoded) ----

export function decodeMemberListRequest(buf: Uint8Array): { linearizable: boolean } {
  let linearizable = false;
  readFields(buf, (r, no, wt) => {
    if (no === 1 && wt === WireType.Varint) linearizable = r.bool();
    else return false;
    return true;
  });
  return { linearizable };
}

export function decodeMemberRemoveRequest(buf: Uint8Array): { id: bigint } {
  let id = 0n;
  readFields(buf, (r, no, wt) => {
    if (no === 1 && wt === WireType.Varint) id = BigInt(r.uint64());
    else return false;
    return true;
  });
  return { id };
}

export function decodeMoveLeaderRequest(buf: Uint8Array): { targetId: bigint } {
  let targetId = 0n;
  readFields(buf, (r, no, wt) => {
    if (no === 1 && wt === WireType.Varint) targetId = BigInt(r.uint64());
    else return false;
    return true;
  });
  return { targetId };
}

export function decodeAlarmRequest(buf: Uint8Array): { action: number; memberId: bigint; alarm: number } {
  const out = { action: 0, memberId: 0n, alarm: 0 };
  readFields(buf, (r, no, wt) => {
    if (wt !== WireType.Varint) return false;
    if (no === 1) out.action = r.int32();
    else if (no === 2) out.memberId = BigInt(r.uint64());
    else if (no === 3) out.alarm = r.int32();
    else return false;
    return true;
  });
  return out;
}

/** RangeRequest: only what changes the answer of a keyless store (serializable=7: no leader needed). */
export function decodeRangeRequest(buf: Uint8Array): { serializable: boolean } {
  let serializable = false;
  readFields(buf, (r, no, wt) => {
    if (no === 7 && wt === WireType.Varint) serializable = r.bool();
    else return false;
    return true;
  });
  return { serializable };
}

// ---- responses (encoded) ----

function writeHeader(w: BinaryWriter, no: number, h: ResponseHeader): void {
  w.tag(no, WireType.LengthDelimited).fork();
  if (h.clusterId) w.tag(1, WireType.Varint).uint64(h.clusterId);
  if (h.memberId) w.tag(2, WireType.Varint).uint64(h.memberId);
  if (h.revision) w.tag(3, WireType.Varint).int64(h.revision);
  if (h.raftTerm) w.tag(4, WireType.Varint).uint64(h.raftTerm);
  w.join();
}

function writeMember(w: BinaryWriter, no: number, m: Member): void {
  w.tag(no, WireType.LengthDelimited).fork();
  if (m.id) w.tag(1, WireType.Varint).uint64(m.id);
  if (m.name) w.tag(2, WireType.LengthDelimited).string(m.name);
  for (const u of m.peerURLs) w.tag(3, WireType.LengthDelimited).string(u);
  for (const u of m.clientURLs) w.tag(4, WireType.LengthDelimited).string(u);
  if (m.isLearner) w.tag(5, WireType.Varint).bool(true);
  w.join();
}

/** MemberListResponse and MemberRemoveResponse share this shape (header=1, members=2). */
export function encodeMembersResponse(header: ResponseHeader, members: Member[]): Uint8Array {
  const w = new BinaryWriter();
  writeHeader(w, 1, header);
  for (const m of members) writeMember(w, 2, m);
  return w.finish();
}

/** RangeResponse with no kvs: count=4 is 0 and omitted, as proto3 omits zero values. */
export function encodeEmptyRangeResponse(header: ResponseHeader): Uint8Array {
  const w = new BinaryWriter();
  writeHeader(w, 1, header);
  return w.finish();
}

export function encodeMoveLeaderResponse(header: ResponseHeader): Uint8Array {
  const w = new BinaryWriter();
  writeHeader(w, 1, header);
  return w.finish();
}

export function encodeAlarmResponse(header: ResponseHeader, alarms: AlarmMember[]): Uint8Array {
  const w = new BinaryWriter();
  writeHeader(w, 1, header);
  for (const a of alarms) {
    w.tag(2, WireType.LengthDelimited).fork();
    if (a.memberId) w.tag(1, WireType.Varint).uint64(a.memberId);
    if (a.alarm) w.tag(2, WireType.Varint).int32(a.alarm);
    w.join();
  }
  return w.finish();
}

export function encodeStatusResponse(s: StatusResponse): Uint8Array {
  const w = new BinaryWriter();
  writeHeader(w, 1, s.header);
  if (s.version) w.tag(2, WireType.LengthDelimited).string(s.version);
  if (s.dbSize) w.tag(3, WireType.Varint).int64(s.dbSize);
  if (s.leader) w.tag(4, WireType.Varint).uint64(s.leader);
  if (s.raftIndex) w.tag(5, WireType.Varint).uint64(s.raftIndex);
  if (s.raftTerm) w.tag(6, WireType.Varint).uint64(s.raftTerm);
  if (s.raftAppliedIndex) w.tag(7, WireType.Varint).uint64(s.raftAppliedIndex);
  for (const e of s.errors) w.tag(8, WireType.LengthDelimited).string(e);
  if (s.dbSizeInUse) w.tag(9, WireType.Varint).int64(s.dbSizeInUse);
  if (s.isLearner) w.tag(10, WireType.Varint).bool(true);
  return w.finish();
}

// ---- response decoders (for tests and any Node-side client) ----

export function decodeResponseHeader(buf: Uint8Array): ResponseHeader {
  const h: ResponseHeader = { clusterId: 0n, memberId: 0n, revision: 0n, raftTerm: 0n };
  readFields(buf, (r, no, wt) => {
    if (wt !== WireType.Varint) return false;
    if (no === 1) h.clusterId = BigInt(r.uint64());
    else if (no === 2) h.memberId = BigInt(r.uint64());
    else if (no === 3) h.revision = BigInt(r.int64());
    else if (no === 4) h.raftTerm = BigInt(r.uint64());
    else return false;
    return true;
  });
  return h;
}

export function decodeMembersResponse(buf: Uint8Array): { header: ResponseHeader; members: Member[] } {
  let header = decodeResponseHeader(new Uint8Array());
  const members: Member[] = [];
  readFields(buf, (r, no, wt) => {
    if (wt !== WireType.LengthDelimited) return false;
    if (no === 1) header = decodeResponseHeader(r.bytes());
    else if (no === 2) {
      const m: Member = { id: 0n, name: "", peerURLs: [], clientURLs: [], isLearner: false };
      readFields(r.bytes(), (mr, mno, mwt) => {
        if (mno === 1 && mwt === WireType.Varint) m.id = BigInt(mr.uint64());
        else if (mno === 2 && mwt === WireType.LengthDelimited) m.name = mr.string();
        else if (mno === 3 && mwt === WireType.LengthDelimited) m.peerURLs.push(mr.string());
        else if (mno === 4 && mwt === WireType.LengthDelimited) m.clientURLs.push(mr.string());
        else if (mno === 5 && mwt === WireType.Varint) m.isLearner = mr.bool();
        else return false;
        return true;
      });
      members.push(m);
    } else return false;
    return true;
  });
  return { header, members };
}

export function decodeStatusResponse(buf: Uint8Array): StatusResponse {
  const s: StatusResponse = {
    header: decodeResponseHeader(new Uint8Array()),
    version: "",
    dbSize: 0n,
    leader: 0n,
    raftIndex: 0n,
    raftTerm: 0n,
    raftAppliedIndex: 0n,
    errors: [],
    dbSizeInUse: 0n,
    isLearner: false,
  };
  readFields(buf, (r, no, wt) => {
    if (no === 1 && wt === WireType.LengthDelimited) s.header = decodeResponseHeader(r.bytes());
    else if (no === 2 && wt === WireType.LengthDelimited) s.version = r.string();
    else if (no === 8 && wt === WireType.LengthDelimited) s.errors.push(r.string());
    else if (wt !== WireType.Varint) return false;
    else if (no === 3) s.dbSize = BigInt(r.int64());
    else if (no === 4) s.leader = BigInt(r.uint64());
    else if (no === 5) s.raftIndex = BigInt(r.uint64());
    else if (no === 6) s.raftTerm = BigInt(r.uint64());
    else if (no === 7) s.raftAppliedIndex = BigInt(r.uint64());
    else if (no === 9) s.dbSizeInUse = BigInt(r.int64());
    else if (no === 10) s.isLearner = r.bool();
    else return false;
    return true;
  });
  return s;
}

/** Walk the fields of `buf`; `field` returns false for fields it did not consume, which are skipped. */
function readFields(buf: Uint8Array, field: (r: BinaryReader, no: number, wt: WireType) => boolean): void {
  const r = new BinaryReader(buf);
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    if (!field(r, no, wt)) r.skip(wt, no);
  }
}
