// The etcd gRPC bridge through kubectl port-forward tunnels, driven by Debian's etcdctl (grpc-go) and the npm
// etcd3 client (grpc-js), against the development fixture edge of test/helpers/portforward-harness.ts.
// Why a fixture here: every id it hands out is above 2^63 (the real Durable Object draws random uint64s, so
// only about half of them exercise the top bit through etcdctl's JSON, grpc-js Long strings and the admin
// API), and the tests read the expected state synchronously. The same cases on the REAL stack (npm start,
// controller VIP, edge Durable Object, faults through the admin API) are in test/e2e/etcd-port-forward.test.ts.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { once } from "node:events";
import net from "node:net";
import tls from "node:tls";
import { Etcd3 } from "etcd3";
import {
  etcdctl,
  kubectlBinary,
  kubectlPortForward,
  parseJsonBig,
  startHarness,
  type Harness,
  type PortForward,
} from "../helpers/portforward-harness.js";

const k129 = kubectlBinary(29);
const k132 = kubectlBinary(32);
const hex = (id: bigint) => id.toString(16);

describe.skipIf(!k129 || !k132)("etcd bridge with real etcd clients", () => {
  let h: Harness;
  let a: PortForward; // etcd-cp-a1 over SPDY (kubectl 1.29)
  let b: PortForward; // etcd-cp-b2 over WebSocket (kubectl 1.32)
  let epA: string;
  let epB: string;
  const ids = () => h.state.etcd.members.map((m) => m.id);

  beforeAll(async () => {
    h = await startHarness({ unresponsiveCapMs: 20_000 });
    a = await kubectlPortForward(h, k129!, "kube-system", "etcd-cp-a1", 2379);
    b = await kubectlPortForward(h, k132!, "kube-system", "etcd-cp-b2", 2379);
    epA = `https://127.0.0.1:${a.localPort}`;
    epB = `https://127.0.0.1:${b.localPort}`;
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await h?.close();
  });
  beforeEach(() => {
    const e = h.state.etcd;
    e.faults = { alarms: [], noLeader: false, unresponsive: [] };
  });

  it("member list -w json: every member with exact uint64 ids, header of the targeted member", async () => {
    const r = await etcdctl(h, [epB], ["member", "list", "-w", "json"]);
    expect(r.code).toBe(0);
    const out = parseJsonBig(r.stdout);
    expect(out.header.cluster_id).toBe(h.state.etcd.clusterId.toString());
    expect(out.header.member_id).toBe(ids()[1].toString());
    const byName = Object.fromEntries(out.members.map((m: any) => [m.name, m]));
    for (const m of h.state.etcd.members) {
      expect(byName[m.name].ID).toBe(m.id.toString());
      expect(byName[m.name].peerURLs).toEqual([`https://${m.name}:2380`]);
      expect(byName[m.name].clientURLs).toEqual([`https://${m.name}:2379`]);
    }
  });

  it("endpoint status -w json: each endpoint reports itself, the same leader, term and revision", async () => {
    const r = await etcdctl(h, [epA, epB], ["endpoint", "status", "-w", "json"]);
    expect(r.code).toBe(0);
    const rows = parseJsonBig(r.stdout);
    expect(rows).toHaveLength(2);
    const e = h.state.etcd;
    expect(rows.map((x: any) => x.Status.header.member_id)).toEqual([ids()[0].toString(), ids()[1].toString()]);
    for (const x of rows) {
      expect(x.Status.leader).toBe(e.leaderId.toString());
      expect(x.Status.header.cluster_id).toBe(e.clusterId.toString());
      expect(String(x.Status.header.revision)).toBe(String(e.revision));
      expect(String(x.Status.raftTerm)).toBe(String(e.raftTerm));
      expect(x.Status.version).toBe("3.5.16");
    }
  });

  it("alarm list: nothing by default, injected alarms otherwise", async () => {
    const none = await etcdctl(h, [epA], ["alarm", "list"]);
    expect(none.code).toBe(0);
    expect(none.stdout.trim()).toBe("");
    h.state.etcd.faults.alarms = [{ memberId: ids()[1], alarm: "NOSPACE" }];
    const one = await etcdctl(h, [epA], ["alarm", "list"]);
    expect(one.code).toBe(0);
    expect(one.stdout.trim()).toBe(`memberID:${ids()[1]} alarm:NOSPACE`);
  });

  it("no leader: endpoint status answers with leader 0 and etcdserver: no leader in errors (as etcd); member list still answers", async () => {
    h.state.etcd.faults.noLeader = true;
    const r = await etcdctl(h, [epA], ["endpoint", "status", "-w", "json"]);
    expect(r.code).toBe(0);
    const st = parseJsonBig(r.stdout)[0].Status;
    expect(String(st.leader ?? 0)).toBe("0");
    expect(st.errors).toEqual(["etcdserver: no leader"]);
    const list = await etcdctl(h, [epA], ["member", "list"]);
    expect(list.code).toBe(0);
  });

  it("unresponsive member: the call runs into the client's deadline; the bridge recovers", async () => {
    h.state.etcd.faults.unresponsive = ["cp-a1"];
    const r = await etcdctl(h, [epA], ["--command-timeout", "2s", "endpoint", "status"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("context deadline exceeded");
    h.state.etcd.faults.unresponsive = [];
    const ok = await etcdctl(h, [epA], ["endpoint", "status"]);
    expect(ok.code).toBe(0);
  });

  it("a client certificate from another CA is refused", async () => {
    const r = await etcdctl(h, [epA], ["--dial-timeout", "2s", "member", "list"], { cert: h.strangerCert, key: h.strangerKey });
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe("");
  });

  it("npm etcd3 (grpc-js, sends SNI for IPs): member list and status through the tunnel", async () => {
    const client = new Etcd3({
      hosts: epB,
      credentials: {
        rootCertificate: readFileSync(h.etcdCaFile),
        certChain: readFileSync(h.etcdClientCert),
        privateKey: readFileSync(h.etcdClientKey),
      },
    });
    try {
      const list = await client.cluster.memberList({});
      expect(list.members.map((m) => m.ID).sort()).toEqual(ids().map(String).sort());
      expect(list.header.member_id).toBe(ids()[1].toString());
      const st = await client.maintenance.status({});
      expect(st.leader).toBe(h.state.etcd.leaderId.toString());
      // MoveLeader sent to a follower (etcdctl never does this): etcd's exact error.
      await expect(client.maintenance.moveLeader({ targetID: ids()[2].toString() })).rejects.toThrow("etcdserver: not leader");
      // Anything not bridged is UNIMPLEMENTED, never a hang.
      await expect(client.maintenance.hash({})).rejects.toThrow(/unknown method Hash/);
    } finally {
      client.close();
    }
  });

  it("SNI etcd-<node> through the apiserver pod's tunnel reaches the bridge via the VIP mux", async () => {
    const pf = await kubectlPortForward(h, k132!, "kube-system", "kube-apiserver-cp-a1", 6443);
    const client = new Etcd3({
      hosts: `https://127.0.0.1:${pf.localPort}`,
      credentials: {
        rootCertificate: readFileSync(h.etcdCaFile),
        certChain: readFileSync(h.etcdClientCert),
        privateKey: readFileSync(h.etcdClientKey),
      },
      grpcOptions: { "grpc.ssl_target_name_override": "etcd-cp-c3", "grpc.default_authority": "etcd-cp-c3" },
    });
    try {
      const st = await client.maintenance.status({});
      expect(st.header.member_id).toBe(ids()[2].toString());
    } finally {
      client.close();
      await pf.stop();
    }
  });

  it("move-leader: etcdctl finds the leader endpoint and moves leadership; unknown target is refused", async () => {
    const [idA, idB] = ids();
    const r = await etcdctl(h, [epA, epB], ["move-leader", hex(idB)]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(`Leadership transferred from ${hex(idA)} to ${hex(idB)}`);
    expect(h.state.etcd.leaderId).toBe(idB);
    const st = parseJsonBig((await etcdctl(h, [epA], ["endpoint", "status", "-w", "json"])).stdout);
    expect(st[0].Status.leader).toBe(idB.toString());

    const bad = await etcdctl(h, [epA, epB], ["move-leader", "123abc"]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("etcdserver: bad leader transferee");
    expect(h.state.etcd.leaderId).toBe(idB);
  });

  it("a client that goes away is disconnected by the member (as etcd does), so kubectl ends that connection's streams", async () => {
    // etcd (grpc-go) closes a connection whose client sent EOF. Node's http2 server keeps a half-closed TLS
    // socket open, and through a tunnel no write ever fails, so without closing it the pair's streams stayed
    // open: kubectl kept waiting for the error stream per connection, and a late write of ours (e.g. an RPC
    // deadline answer racing the client's cancel) on a stream kubectl no longer read parked one of
    // spdystream's five frame workers for good, stalling every later stream it served (etcdctl deadlines).
    const pf = await kubectlPortForward(h, k129!, "kube-system", "etcd-cp-a1", 2379);
    try {
      const raw = net.connect(pf.localPort, "127.0.0.1");
      const closed = once(raw, "close");
      const sock = tls.connect({
        socket: raw,
        servername: "etcd-cp-a1",
        ALPNProtocols: ["h2"],
        ca: readFileSync(h.etcdCaFile),
        cert: readFileSync(h.etcdClientCert),
        key: readFileSync(h.etcdClientKey),
      });
      sock.on("error", () => {});
      await once(sock, "secureConnect");
      expect(sock.alpnProtocol).toBe("h2");
      // Like a client process exiting: a TCP FIN without TLS close_notify.
      raw.end();
      // kubectl closes its local connection once we have finished both streams of the pair.
      await closed;
    } finally {
      await pf.stop();
    }
  }, 30_000);

  it("member remove: unknown id is not found; a real id is removed and its tunnel stops serving", async () => {
    const idC = ids()[2];
    const unknown = await etcdctl(h, [epA], ["member", "remove", "abc123"]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain("etcdserver: member not found");

    const r = await etcdctl(h, [epA], ["member", "remove", hex(idC)]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(`Member ${hex(idC)} removed from cluster ${hex(h.state.etcd.clusterId)}`);
    const list = parseJsonBig((await etcdctl(h, [epB], ["member", "list", "-w", "json"])).stdout);
    expect(list.members.map((m: any) => m.name).sort()).toEqual(["cp-a1", "cp-b2"]);

    const again = await etcdctl(h, [epA], ["member", "remove", hex(idC)]);
    expect(again.stderr).toContain("etcdserver: member not found");

    // The removed member has shut down: a tunnel to it connects to nothing.
    const pf = await kubectlPortForward(h, k132!, "kube-system", "etcd-cp-c3", 2379);
    try {
      const dead = await etcdctl(h, [`https://127.0.0.1:${pf.localPort}`], ["--dial-timeout", "2s", "endpoint", "status"]);
      expect(dead.code).not.toBe(0);
    } finally {
      await pf.stop();
    }
  });
});
