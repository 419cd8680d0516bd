// Fake etcd membership: state, MoveLeader, MemberRemove, faults — through the admin HTTP API of
// ClusterMachines (over the real ApiServer) and directly through EtcdMembers.
import { describe, expect, it } from "vitest";
import { MemoryPersistence } from "../../durable-objects/apiserver/memory-persistence.js";
import { ApiServer } from "../../durable-objects/apiserver/server.js";
import {
  EtcdMembers,
  MemoryEtcdStore,
  parseMemberId,
  randomUint64,
  type EtcdStateJson,
} from "../../durable-objects/etcd/members.js";
import { ClusterMachines } from "../../durable-objects/machines/controller.js";
import { MemoryMachineStore } from "../../durable-objects/machines/store.js";
import { adminCall } from "../helpers/machines-admin.js";

async function cluster(controlPlanes: string[]) {
  const api = new ApiServer({ persistence: new MemoryPersistence() });
  const machines = new MemoryMachineStore();
  const etcd = new MemoryEtcdStore();
  const clock = { t: Date.parse("2026-03-01T12:00:00Z") };
  const make = () => new ClusterMachines({ api, machines, etcd, now: () => clock.t, setAlarm: () => undefined });
  const h = {
    api,
    etcd,
    cm: make(),
    restart() {
      h.cm = make();
    },
    async call(method: string, path: string, body?: unknown) {
      return adminCall(h.cm, method, path, body);
    },
    async state(): Promise<EtcdStateJson> {
      const r = await h.call("GET", "/etcd");
      expect(r.status).toBe(200);
      return r.body;
    },
  };
  for (const name of controlPlanes) {
    const r = await h.call("PUT", `/machines/${name}`, { controlPlane: true, version: "v1.31.0" });
    expect(r.status).toBe(201);
  }
  return h;
}

const idOf = (s: EtcdStateJson, name: string) => s.members.find((m) => m.name === name)!.id;

describe("etcd state", () => {
  it("has one cluster id, unique non-zero decimal member ids, and the first member leads", async () => {
    const h = await cluster(["cp-0", "cp-1", "cp-2"]);
    const s = await h.state();
    expect(s.clusterId).toMatch(/^[1-9]\d*$/);
    expect(BigInt(s.clusterId) < 1n << 64n).toBe(true);
    expect(s.members.map((m) => m.name)).toEqual(["cp-0", "cp-1", "cp-2"]);
    for (const m of s.members) {
      expect(m.id).toMatch(/^[1-9]\d*$/);
      expect(m).toMatchObject({ peerURLs: [`https://${m.name}:2380`], clientURLs: [`https://${m.name}:2379`], removed: false, isLearner: false });
    }
    expect(new Set(s.members.map((m) => m.id)).size).toBe(3);
    expect(s.leaderId).toBe(idOf(s, "cp-0"));
    expect(s.raftTerm).toBe(2);
    expect(s.version).toBe("3.5.16");
    expect(s.revision).toBe(h.api.resourceVersion);
    expect(s.faults).toEqual({ alarms: [], noLeader: false, unresponsive: [] });
    // etcdState() is the same state for in-DO callers (the gRPC bridge's backend).
    expect(h.cm.etcdState()).toEqual(s);
  });

  it("revision follows the cluster's resourceVersion", async () => {
    const h = await cluster(["cp-0"]);
    const before = (await h.state()).revision;
    h.api.upsertObject({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x", namespace: "default" }, data: {} });
    expect((await h.state()).revision).toBe(before + 1);
  });

  it("survives a restart: same cluster id, members and leader", async () => {
    const h = await cluster(["cp-0", "cp-1"]);
    const s = await h.state();
    h.restart();
    expect(await h.state()).toEqual(s);
  });

  it("randomUint64 gives non-zero decimal uint64s; parseMemberId is strict", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const id = randomUint64();
      expect(id).toMatch(/^[1-9]\d{0,19}$/);
      expect(BigInt(id) <= (1n << 64n) - 1n).toBe(true);
      seen.add(id);
    }
    expect(seen.size).toBe(100);
    expect(parseMemberId("18446744073709551615", "id")).toBe("18446744073709551615");
    expect(parseMemberId("007", "id")).toBe("7");
    expect(parseMemberId(42, "id")).toBe("42");
    for (const bad of ["18446744073709551616", "-1", "0x10", "", "1.5", 1.5, null, 2 ** 60, {}]) {
      expect(() => parseMemberId(bad, "id")).toThrow(/decimal uint64/);
    }
  });
});

describe("MoveLeader", () => {
  it("moves the leader and bumps the term; moving to the leader changes nothing", async () => {
    const h = await cluster(["cp-0", "cp-1", "cp-2"]);
    const s0 = await h.state();
    const r = await h.call("POST", "/etcd/move-leader", { targetId: idOf(s0, "cp-2") });
    expect(r.status).toBe(200);
    expect(r.body.leaderId).toBe(idOf(s0, "cp-2"));
    expect(r.body.raftTerm).toBe(s0.raftTerm + 1);
    const again = await h.call("POST", "/etcd/move-leader", { targetId: idOf(s0, "cp-2") });
    expect(again.body).toMatchObject({ leaderId: idOf(s0, "cp-2"), raftTerm: s0.raftTerm + 1 });
  });

  it("rejects unknown and removed targets with etcd's message", async () => {
    const h = await cluster(["cp-0", "cp-1"]);
    const s0 = await h.state();
    const unknown = await h.call("POST", "/etcd/move-leader", { targetId: "12345" });
    expect(unknown.status).toBe(412);
    expect(unknown.body).toMatchObject({ kind: "Status", code: 412, message: "etcdserver: bad leader transferee" });
    await h.call("POST", "/etcd/remove-member", { id: idOf(s0, "cp-1") });
    const removed = await h.call("POST", "/etcd/move-leader", { targetId: idOf(s0, "cp-1") });
    expect(removed.status).toBe(412);
    expect((await h.state()).leaderId).toBe(idOf(s0, "cp-0"));
  });

  it("rejects malformed bodies with 400", async () => {
    const h = await cluster(["cp-0"]);
    for (const body of [{}, { targetId: "abc" }, { targetId: 2 ** 60 }, "nope", "[1]"]) {
      const r = await h.call("POST", "/etcd/move-leader", body);
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ kind: "Status", reason: "BadRequest" });
    }
  });
});

describe("MemberRemove", () => {
  it("marks a follower removed and hides it from the member list", async () => {
    const h = await cluster(["cp-0", "cp-1", "cp-2"]);
    const s0 = await h.state();
    const r = await h.call("POST", "/etcd/remove-member", { id: idOf(s0, "cp-1") });
    expect(r.status).toBe(200);
    expect(r.body.members.map((m: any) => m.name)).toEqual(["cp-0", "cp-2"]);
    expect(r.body.removedMembers).toMatchObject([{ name: "cp-1", id: idOf(s0, "cp-1"), removed: true }]);
    expect(r.body.leaderId).toBe(s0.leaderId);
    expect(r.body.raftTerm).toBe(s0.raftTerm);
    const twice = await h.call("POST", "/etcd/remove-member", { id: idOf(s0, "cp-1") });
    expect(twice.status).toBe(404);
    expect(twice.body).toMatchObject({ kind: "Status", reason: "NotFound", message: "etcdserver: member not found" });
    expect((await h.call("POST", "/etcd/remove-member", { id: "99" })).status).toBe(404);
    // Deleting the machine afterwards drops the record entirely.
    await h.call("DELETE", "/machines/cp-1");
    expect((await h.state()).removedMembers).toEqual([]);
  });

  it("removing the leader elects the oldest remaining member with term + 1", async () => {
    const h = await cluster(["cp-0", "cp-1", "cp-2"]);
    const s0 = await h.state();
    const r = await h.call("POST", "/etcd/remove-member", { id: idOf(s0, "cp-0") });
    expect(r.body.leaderId).toBe(idOf(s0, "cp-1"));
    expect(r.body.raftTerm).toBe(s0.raftTerm + 1);
    // An unresponsive member is passed over.
    const h2 = await cluster(["a", "b", "c"]);
    const t0 = await h2.state();
    await h2.call("PUT", "/etcd/faults", { unresponsive: ["b"] });
    const r2 = await h2.call("POST", "/etcd/remove-member", { id: idOf(t0, "a") });
    expect(r2.body.leaderId).toBe(idOf(t0, "c"));
  });

  it("deleting a machine drops its member and re-elects when it led; the last one leaves no leader", async () => {
    const h = await cluster(["cp-0", "cp-1"]);
    const s0 = await h.state();
    await h.call("DELETE", "/machines/cp-0");
    const s1 = await h.state();
    expect(s1.members.map((m) => m.name)).toEqual(["cp-1"]);
    expect(s1.leaderId).toBe(idOf(s0, "cp-1"));
    expect(s1.raftTerm).toBe(s0.raftTerm + 1);
    await h.call("DELETE", "/machines/cp-1");
    const s2 = await h.state();
    expect(s2.members).toEqual([]);
    expect(s2.leaderId).toBe("0");
    expect(s2.clusterId).toBe(s0.clusterId);
    // A new control plane becomes leader again, with a fresh member id.
    await h.call("PUT", "/machines/cp-0", { controlPlane: true, version: "v1.31.0" });
    const s3 = await h.state();
    expect(s3.leaderId).toBe(idOf(s3, "cp-0"));
    expect(idOf(s3, "cp-0")).not.toBe(idOf(s0, "cp-0"));
  });
});

describe("faults", () => {
  it("replaces alarms, noLeader and unresponsive", async () => {
    const h = await cluster(["cp-0", "cp-1"]);
    const s0 = await h.state();
    const r = await h.call("PUT", "/etcd/faults", {
      alarms: [
        { memberName: "cp-0", alarm: "NOSPACE" },
        { memberId: idOf(s0, "cp-1"), alarm: "CORRUPT" },
      ],
      noLeader: true,
      unresponsive: ["cp-1"],
    });
    expect(r.status).toBe(200);
    expect(r.body.faults).toEqual({
      alarms: [
        { memberId: idOf(s0, "cp-0"), memberName: "cp-0", alarm: "NOSPACE" },
        { memberId: idOf(s0, "cp-1"), memberName: "cp-1", alarm: "CORRUPT" },
      ],
      noLeader: true,
      unresponsive: ["cp-1"],
    });
    expect(r.body.leaderId).toBe("0");
    const move = await h.call("POST", "/etcd/move-leader", { targetId: idOf(s0, "cp-1") });
    expect(move.status).toBe(503);
    expect(move.body.message).toBe("etcdserver: no leader");
    expect((await h.call("GET", "/etcd/faults")).body.noLeader).toBe(true);
    // PUT replaces: an empty body object clears everything and the stored leader is back.
    const cleared = await h.call("PUT", "/etcd/faults", {});
    expect(cleared.body.faults).toEqual({ alarms: [], noLeader: false, unresponsive: [] });
    expect(cleared.body.leaderId).toBe(s0.leaderId);
  });

  it("drops a member's alarms when it is removed", async () => {
    const h = await cluster(["cp-0", "cp-1"]);
    const s0 = await h.state();
    await h.call("PUT", "/etcd/faults", { alarms: [{ memberName: "cp-1", alarm: "NOSPACE" }] });
    await h.call("POST", "/etcd/remove-member", { id: idOf(s0, "cp-1") });
    expect((await h.state()).faults.alarms).toEqual([]);
  });

  it.each([
    [{ alarms: "x" }, 400],
    [{ alarms: [{ memberName: "cp-0", alarm: "FIRE" }] }, 400],
    [{ alarms: [{ alarm: "NOSPACE" }] }, 400],
    [{ alarms: [{ memberName: "ghost", alarm: "NOSPACE" }] }, 422],
    [{ alarms: [{ memberId: "123", alarm: "NOSPACE" }] }, 422],
    [{ noLeader: "yes" }, 400],
    [{ unresponsive: "cp-0" }, 400],
    [{ unresponsive: ["ghost"] }, 422],
  ])("rejects %j with %i and keeps the old faults", async (body, code) => {
    const h = await cluster(["cp-0"]);
    await h.call("PUT", "/etcd/faults", { noLeader: true });
    const r = await h.call("PUT", "/etcd/faults", body);
    expect(r.status).toBe(code);
    expect(r.body.kind).toBe("Status");
    expect((await h.state()).faults.noLeader).toBe(true);
  });
});

describe("EtcdMembers directly", () => {
  it("addMember is idempotent per live name and never reuses the cluster id", () => {
    const ids = ["5", "5", "7", "5", "9"];
    const members = new EtcdMembers(new MemoryEtcdStore(), () => ids.shift()!);
    const a = members.addMember("n1"); // cluster id takes "5", so the member gets "7"
    expect(a.id).toBe("7");
    expect(members.addMember("n1")).toEqual(a);
    const b = members.addMember("n2"); // "5" is taken (cluster id), then "9"
    expect(b.id).toBe("9");
    expect(members.state(1)).toMatchObject({ clusterId: "5", leaderId: "7", raftTerm: 2 });
  });
});
