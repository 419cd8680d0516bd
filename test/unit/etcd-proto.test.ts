// etcd message encoding (hand-computed wire bytes) and gRPC status-message encoding.
import { describe, expect, it } from "vitest";
import {
  decodeAlarmRequest,
  decodeMembersResponse,
  decodeMemberRemoveRequest,
  decodeMoveLeaderRequest,
  decodeStatusResponse,
  encodeMembersResponse,
  encodeMoveLeaderResponse,
  encodeStatusResponse,
} from "../../controller/vip/etcd/proto.js";
import { decodeGrpcMessage, encodeGrpcMessage, parseGrpcTimeout } from "../../controller/vip/etcd/grpc.js";

const MAX_U64 = (1n << 64n) - 1n;

describe("etcd protobuf messages", () => {
  it("decodes uint64 ids above 2^53 exactly", () => {
    const maxVarint = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
    expect(decodeMemberRemoveRequest(new Uint8Array([0x08, ...maxVarint])).id).toBe(MAX_U64);
    expect(decodeMoveLeaderRequest(new Uint8Array([0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01])).targetId).toBe(1n << 63n);
    // AlarmRequest{action: GET(0) omitted, memberID: 5, alarm: NOSPACE} plus an unknown field 9 (skipped).
    expect(decodeAlarmRequest(new Uint8Array([0x10, 0x05, 0x18, 0x01, 0x4a, 0x01, 0x00]))).toEqual({ action: 0, memberId: 5n, alarm: 1 });
  });

  it("encodes a response header with etcd's field numbers", () => {
    const bytes = encodeMoveLeaderResponse({ clusterId: 1n, memberId: 2n, revision: 3n, raftTerm: 4n });
    expect([...bytes]).toEqual([0x0a, 0x08, 0x08, 0x01, 0x10, 0x02, 0x18, 0x03, 0x20, 0x04]);
  });

  it("encodes members (ID=1, name=2, peerURLs=3, clientURLs=4)", () => {
    const bytes = encodeMembersResponse({ clusterId: 0n, memberId: 0n, revision: 0n, raftTerm: 0n }, [
      { id: 7n, name: "n", peerURLs: ["p"], clientURLs: ["c"], isLearner: false },
    ]);
    expect([...bytes]).toEqual([0x0a, 0x00, 0x12, 0x0b, 0x08, 0x07, 0x12, 0x01, 0x6e, 0x1a, 0x01, 0x70, 0x22, 0x01, 0x63]);
    const big = encodeMembersResponse({ clusterId: MAX_U64, memberId: 1n << 63n, revision: 9n, raftTerm: 2n }, [
      { id: MAX_U64 - 1n, name: "cp-1", peerURLs: ["https://cp-1:2380"], clientURLs: ["https://cp-1:2379"], isLearner: false },
    ]);
    const back = decodeMembersResponse(big);
    expect(back.header).toEqual({ clusterId: MAX_U64, memberId: 1n << 63n, revision: 9n, raftTerm: 2n });
    expect(back.members).toEqual([{ id: MAX_U64 - 1n, name: "cp-1", peerURLs: ["https://cp-1:2380"], clientURLs: ["https://cp-1:2379"], isLearner: false }]);
  });

  it("round-trips a status response", () => {
    const s = {
      header: { clusterId: 17300438976491492131n, memberId: 12841098328298444416n, revision: 17n, raftTerm: 2n },
      version: "3.5.16",
      dbSize: 1052928n,
      leader: 12841098328298444416n,
      raftIndex: 19n,
      raftTerm: 2n,
      raftAppliedIndex: 19n,
      errors: ["memberID:1 alarm:NOSPACE "],
      dbSizeInUse: 526464n,
      isLearner: false,
    };
    expect(decodeStatusResponse(encodeStatusResponse(s))).toEqual(s);
  });
});

describe("gRPC framing details", () => {
  it("percent-encodes grpc-message like gRPC (only %, controls and non-ASCII)", () => {
    expect(encodeGrpcMessage("etcdserver: member not found")).toBe("etcdserver: member not found");
    expect(encodeGrpcMessage("100%\n")).toBe("100%25%0A");
    expect(encodeGrpcMessage("é")).toBe("%C3%A9");
    expect(decodeGrpcMessage("100%25%0A %C3%A9")).toBe("100%\n é");
  });

  it("parses grpc-timeout", () => {
    expect(parseGrpcTimeout("4999m")).toBe(4999);
    expect(parseGrpcTimeout("5S")).toBe(5000);
    expect(parseGrpcTimeout("1H")).toBe(3_600_000);
    expect(parseGrpcTimeout("5x")).toBeUndefined();
    expect(parseGrpcTimeout(undefined)).toBeUndefined();
  });
});
