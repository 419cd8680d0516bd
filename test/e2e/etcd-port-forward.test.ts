// KCP's etcd path on the REAL stack: `npm start` (edge in workerd, management API, controller with its VIP,
// driver) for one cluster with 3 control planes, then real clients only: kubectl 1.29 (SPDY) and 1.32
// (WebSocket first, and its SPDY fallback) port-forward to pod/etcd-<node>:2379 through the controller's
// VIP, Debian etcdctl and npm etcd3 (grpc-js) over the tunnel with a client cert issued from the cluster's
// `<cluster>-etcd` Secret, node:tls to kube-apiserver-<node>:6443, and faults injected through the edge's
// admin API (PUT /admin/clusters/{ns}/{name}/etcd/faults). Expected values come from the Durable Object's
// etcd state (GET .../etcd), never from constants.
import { X509Certificate } from "node:crypto";
import { rmSync } from "node:fs";
import tls from "node:tls";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../helpers/edge.js";
import {
  edgeAdmin,
  etcd3Client,
  etcdctl,
  etcdState,
  kubectlBinary,
  parseJsonBig,
  portForward,
  realCluster,
  run,
  setFaults,
  type EdgeAdmin,
  type PortForward,
  type RealCluster,
} from "../helpers/etcd-clients.js";
import { startEmbedded, type Embedded } from "./embedded-process.js";
import { parseMetrics, total } from "../helpers/prometheus.js";

const k129 = kubectlBinary(29);
const k132 = kubectlBinary(32);
const hex = (id: string) => BigInt(id).toString(16);
/** Go's `%16x`, as etcdctl prints member and cluster IDs in `member remove`: padded with spaces to 16. */
const hex16 = (id: string) => hex(id).padStart(16, " ");
const CLUSTER = { namespace: "default", name: "capim-1" };

describe.skipIf(!k129 || !k132)("etcd through kubectl port-forward on the real stack", () => {
  const dir = tempDir("capim-e2e-etcd-");
  let e: Embedded;
  let c: RealCluster;
  let edge: EdgeAdmin;
  let nodes: string[]; // control-plane node names, from the cluster's etcd pods
  const pf = new Map<string, PortForward>(); // node -> tunnel to etcd-<node>
  const ep = (node: string) => `https://127.0.0.1:${pf.get(node)!.localPort}`;
  const memberId = async (node: string) => (await etcdState(edge, CLUSTER)).members.find((m) => m.name === node)!.id;

  // One tunnel per client flavour, each to a different member.
  const variants: { label: string; bin: () => string; env: Record<string, string>; websocket: boolean }[] = [
    { label: "kubectl 1.29 (SPDY)", bin: () => k129!, env: {}, websocket: false },
    { label: "kubectl 1.32 (WebSocket)", bin: () => k132!, env: {}, websocket: true },
    { label: "kubectl 1.32 KUBECTL_PORT_FORWARD_WEBSOCKETS=false (SPDY)", bin: () => k132!, env: { KUBECTL_PORT_FORWARD_WEBSOCKETS: "false" }, websocket: false },
  ];

  beforeAll(async () => {
    e = startEmbedded(["--clusters", "1", "--control-planes", "3", "--workers", "1", "--startup-duration", "0s"], {
      kubeconfigDir: `${dir}/kubeconfigs`,
      stateDir: `${dir}/state`,
    });
    await e.waitForLine(/^all 1 clusters ready$/, 150_000);
    edge = await edgeAdmin(e);
    c = await realCluster(e, CLUSTER.namespace, CLUSTER.name, dir);
    const pods = await run(k132!, ["--kubeconfig", c.kubeconfig, "-n", "kube-system", "get", "pods", "-o", "name"], { HOME: dir });
    expect(pods.code, pods.stderr).toBe(0);
    nodes = pods.stdout
      .split("\n")
      .map((l) => /^pod\/etcd-(.+)$/.exec(l.trim())?.[1])
      .filter((n): n is string => !!n)
      .sort();
    expect(nodes).toHaveLength(3);
    await Promise.all(variants.map(async (v, i) => pf.set(nodes[i], await portForward(c, v.bin(), "kube-system", `etcd-${nodes[i]}`, 2379, v.env))));
  });
  afterEach(async () => {
    if (edge) await setFaults(edge, CLUSTER, {});
  });
  afterAll(async () => {
    await Promise.all([...pf.values()].map((p) => p.stop()));
    await e?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  variants.forEach((v, i) => {
    it(`${v.label}: etcdctl member list -w json lists the 3 members named after the nodes`, async () => {
      const node = nodes[i];
      const state = await etcdState(edge, CLUSTER);
      const r = await etcdctl(c, [ep(node)], ["member", "list", "-w", "json"]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const out = parseJsonBig(r.stdout);
      expect(out.header.cluster_id).toBe(state.clusterId);
      expect(out.header.member_id).toBe(await memberId(node)); // the tunnel reached the pod's member
      expect(out.members.map((m: { name: string }) => m.name).sort()).toEqual(nodes);
      for (const m of out.members) {
        expect(m.ID).toBe(state.members.find((s) => s.name === m.name)!.id); // uint64 ids intact
        expect(m.peerURLs).toEqual([`https://${m.name}:2380`]);
        expect(m.clientURLs).toEqual([`https://${m.name}:2379`]);
      }
      const log = pf.get(node)!.output();
      if (v.websocket) expect(log).toContain("negotiated protocol: portforward.k8s.io");
      else expect(log).not.toContain("negotiated protocol");
      expect(log).not.toMatch(/lost connection|error creating error stream|Timeout occurred/);
    });
  });

  it("endpoint status -w json over all three tunnels: each member reports itself and the same leader", async () => {
    const state = await etcdState(edge, CLUSTER);
    const r = await etcdctl(c, nodes.map(ep), ["endpoint", "status", "-w", "json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const rows = parseJsonBig(r.stdout);
    expect(rows.map((x: any) => x.Status.header.member_id)).toEqual(await Promise.all(nodes.map(memberId)));
    expect(state.members.map((m) => m.id)).toContain(state.leaderId);
    for (const x of rows) {
      expect(x.Status.leader).toBe(state.leaderId);
      expect(String(x.Status.raftTerm)).toBe(String(state.raftTerm));
      expect(x.Status.version).toBe(state.version);
    }
    // The table form marks exactly one endpoint as leader (IS LEADER column).
    const table = await etcdctl(c, nodes.map(ep), ["endpoint", "status"]);
    expect(table.code).toBe(0);
    expect(table.stdout.split("\n").filter((l) => /, true, false, /.test(l))).toHaveLength(1);
  });

  it("endpoint health reports every member healthy; without a leader, unhealthy with etcd's error", async () => {
    const r = await etcdctl(c, nodes.map(ep), ["endpoint", "health", "-w", "json"]);
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as Array<{ endpoint: string; health: boolean; error?: string }>;
    expect(rows).toHaveLength(3);
    for (const x of rows) expect(x).toMatchObject({ health: true });

    await setFaults(edge, CLUSTER, { noLeader: true });
    const sick = await etcdctl(c, [ep(nodes[0])], ["--command-timeout", "3s", "endpoint", "health", "-w", "json"]);
    expect(sick.code).not.toBe(0);
    expect(sick.stdout + sick.stderr).toContain("etcdserver: no leader");
  });

  it("alarm list is empty on a healthy cluster", async () => {
    const r = await etcdctl(c, [ep(nodes[0])], ["alarm", "list"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe("");
  });

  it("a client certificate from another CA is refused", async () => {
    const r = await etcdctl(c, [ep(nodes[0])], ["--dial-timeout", "2s", "--command-timeout", "3s", "member", "list"], { cert: c.strangerCert, key: c.strangerKey });
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe("");
    // The tunnel survives a failed handshake.
    const ok = await etcdctl(c, [ep(nodes[0])], ["member", "list"]);
    expect(ok.code).toBe(0);
  });

  it("npm etcd3 (grpc-js, sends SNI for IPs) through the WebSocket tunnel: member list, status, exact errors", async () => {
    const node = nodes[1];
    const state = await etcdState(edge, CLUSTER);
    const client = etcd3Client(c, ep(node));
    try {
      const list = await client.cluster.memberList({});
      expect(list.members.map((m) => m.name).sort()).toEqual(nodes);
      expect(list.members.map((m) => m.ID).sort()).toEqual(state.members.map((m) => m.id).sort());
      expect(list.header.member_id).toBe(await memberId(node));
      const st = await client.maintenance.status({});
      expect(st.leader).toBe(state.leaderId);
      expect(st.header.cluster_id).toBe(state.clusterId);
      if (state.leaderId !== (await memberId(node))) {
        // MoveLeader sent to a follower (etcdctl never does this): etcd's exact error.
        await expect(client.maintenance.moveLeader({ targetID: state.leaderId })).rejects.toThrow("etcdserver: not leader");
      }
      await expect(client.maintenance.hash({})).rejects.toThrow(/unknown method Hash/);
    } finally {
      client.close();
    }
    // KCP's exact dial: SNI and :authority etcd-<node> (the member's serving cert name) over the etcd pod's tunnel.
    const kcp = etcd3Client(c, ep(node), { grpcOptions: { "grpc.ssl_target_name_override": `etcd-${node}`, "grpc.default_authority": `etcd-${node}` } });
    try {
      expect((await kcp.maintenance.status({})).header.member_id).toBe(await memberId(node));
    } finally {
      kcp.close();
    }
  });

  it("kube-apiserver-<node>:6443 tunnel: TLS peer cert CN kube-apiserver with a future NotAfter; SNI etcd-<node> reaches that member", async () => {
    const node = nodes[2];
    const tunnel = await portForward(c, k132!, "kube-system", `kube-apiserver-${node}`, 6443);
    try {
      // KCP's certificate-expiry check: handshake without verification or client cert, read the peer cert.
      const peer = await new Promise<X509Certificate>((resolve, reject) => {
        const s = tls.connect({ host: "127.0.0.1", port: tunnel.localPort, rejectUnauthorized: false }, () => {
          const raw = s.getPeerCertificate().raw;
          s.end();
          resolve(new X509Certificate(raw));
        });
        s.on("error", reject);
      });
      expect(peer.subject.split("\n")).toContain("CN=kube-apiserver");
      expect(new Date(peer.validTo).getTime()).toBeGreaterThan(Date.now());
      expect(peer.checkIssued(new X509Certificate(c.clusterCa.certPem))).toBe(true);
      // kubectl itself through the tunnel.
      const v = await run(k132!, ["--kubeconfig", c.kubeconfig, "--server", `https://127.0.0.1:${tunnel.localPort}`, "get", "--raw", "/version"], { HOME: c.dir });
      expect(v.code, v.stderr).toBe(0);
      expect(JSON.parse(v.stdout).major).toBe("1");
      // KCP dials etcd with SNI etcd-<node>; through the apiserver pod's tunnel the VIP's mux routes it by SNI.
      const client = etcd3Client(c, `https://127.0.0.1:${tunnel.localPort}`, {
        grpcOptions: { "grpc.ssl_target_name_override": `etcd-${nodes[0]}`, "grpc.default_authority": `etcd-${nodes[0]}` },
      });
      try {
        expect((await client.maintenance.status({})).header.member_id).toBe(await memberId(nodes[0]));
      } finally {
        client.close();
      }
    } finally {
      await tunnel.stop();
    }
  });

  it("injected NOSPACE alarm: alarm list prints memberID:<id> alarm:NOSPACE, as a real etcd does", async () => {
    const victim = nodes[1];
    await setFaults(edge, CLUSTER, { alarms: [{ memberName: victim, alarm: "NOSPACE" }] });
    const r = await etcdctl(c, [ep(nodes[0])], ["alarm", "list"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(`memberID:${await memberId(victim)} alarm:NOSPACE`);
    await setFaults(edge, CLUSTER, {});
    expect((await etcdctl(c, [ep(nodes[0])], ["alarm", "list"])).stdout.trim()).toBe("");
  });

  it("injected no-leader: endpoint status reports leader 0 and etcdserver: no leader, move-leader finds no leader", async () => {
    await setFaults(edge, CLUSTER, { noLeader: true });
    // As a real leaderless etcd: Status still answers (leader 0, the error in `errors`, ERRORS column).
    const r = await etcdctl(c, nodes.map(ep), ["endpoint", "status", "-w", "json"]);
    expect(r.stderr).toBe("");
    const rows = parseJsonBig(r.stdout);
    expect(rows).toHaveLength(3);
    for (const x of rows) {
      expect(String(x.Status.leader ?? 0)).toBe("0");
      expect(x.Status.errors).toContain("etcdserver: no leader");
    }
    const table = await etcdctl(c, [ep(nodes[0])], ["endpoint", "status"]);
    expect(table.stdout).toMatch(/, false, false, .*etcdserver: no leader/);
    const move = await etcdctl(c, nodes.map(ep), ["move-leader", hex((await etcdState(edge, CLUSTER)).members[1].id)]);
    expect(move.code).not.toBe(0);
    expect(move.stderr).toContain("no leader endpoint given");
    await setFaults(edge, CLUSTER, {});
    const healed = parseJsonBig((await etcdctl(c, [ep(nodes[0])], ["endpoint", "status", "-w", "json"])).stdout);
    expect(healed[0].Status.leader).toBe((await etcdState(edge, CLUSTER)).leaderId);
    expect(healed[0].Status.errors).toBeUndefined();
  });

  it("injected unresponsive member: etcdctl runs into context deadline exceeded; the member recovers", async () => {
    await setFaults(edge, CLUSTER, { unresponsive: [nodes[0]] });
    const r = await etcdctl(c, [ep(nodes[0])], ["--command-timeout", "2s", "endpoint", "status"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("context deadline exceeded");
    // Other members still answer.
    expect((await etcdctl(c, [ep(nodes[1])], ["endpoint", "status"])).code).toBe(0);
    await setFaults(edge, CLUSTER, {});
    expect((await etcdctl(c, [ep(nodes[0])], ["endpoint", "status"])).code).toBe(0);
  });

  it("injected etcd latency: etcdctl endpoint health takes what was set (within 20%), then returns to normal", async () => {
    const took = async () => {
      const r = await etcdctl(c, [ep(nodes[0])], ["endpoint", "health", "-w", "json"]);
      expect(r.code, r.stderr).toBe(0);
      const [row] = JSON.parse(r.stdout) as Array<{ health: boolean; took: string }>;
      expect(row.health).toBe(true);
      // Go's time.Duration text: "412.3ms", "1.02s", "950µs".
      const m = /^([\d.]+)(ms|s|µs|us)$/.exec(row.took)!;
      return Number(m[1]) * ({ s: 1000, ms: 1, µs: 0.001, us: 0.001 } as Record<string, number>)[m[2]];
    };
    const base = await took();
    await setFaults(edge, CLUSTER, { latencyMs: 500 });
    expect((await etcdState(edge, CLUSTER)).faults.latencyMs).toBe(500);
    const added = (await took()) - base;
    expect(added).toBeGreaterThan(400);
    expect(added).toBeLessThan(600);
    await setFaults(edge, CLUSTER, {});
    expect(await took()).toBeLessThan(base + 250);
  });

  it("move-leader: etcdctl finds the leader among the tunnels and moves leadership; the raft term grows", async () => {
    const before = await etcdState(edge, CLUSTER);
    const target = before.members.find((m) => m.id !== before.leaderId)!;
    const r = await etcdctl(c, nodes.map(ep), ["move-leader", hex(target.id)]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(`Leadership transferred from ${hex(before.leaderId)} to ${hex(target.id)}`);
    const st = parseJsonBig((await etcdctl(c, [ep(nodes[0])], ["endpoint", "status", "-w", "json"])).stdout);
    expect(st[0].Status.leader).toBe(target.id);
    expect(BigInt(st[0].Status.raftTerm)).toBeGreaterThan(BigInt(before.raftTerm));

    const bad = await etcdctl(c, nodes.map(ep), ["move-leader", "123abc"]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("etcdserver: bad leader transferee");
    expect((await etcdState(edge, CLUSTER)).leaderId).toBe(target.id);
  });

  it("the controller's /metrics counts etcd RPCs in etcd's names (grpc_server_handled_total), by method and code", async () => {
    const metricsUrl = /^dashboard at (\S+)\/dashboard/.exec(await e.waitForLine(/^dashboard at /))![1] + "/metrics";
    const scrape = async () => parseMetrics(await (await fetch(metricsUrl)).text());
    const labels = { cluster: `${CLUSTER.namespace}/${CLUSTER.name}`, grpc_service: "etcdserverpb.Cluster", grpc_method: "MemberList", grpc_code: "OK" };
    const before = await scrape();
    for (let i = 0; i < 3; i++) expect((await etcdctl(c, [ep(nodes[0])], ["member", "list"])).code).toBe(0);
    const after = await scrape();
    expect(total(after, "grpc_server_handled_total", labels) - total(before, "grpc_server_handled_total", labels)).toBe(3);
    // The unresponsive member's RPCs above ended when the client gave up (its deadline, or its cancel
    // when that reached us first): counted with that code.
    const gaveUp = ["DeadlineExceeded", "Canceled"].map((code) => total(after, "grpc_server_handled_total", { cluster: labels.cluster, grpc_code: code }));
    expect(gaveUp[0] + gaveUp[1]).toBeGreaterThan(0);
    expect(after.find((f) => f.name === "grpc_server_handling_seconds")?.type).toBe("HISTOGRAM");
  });

  it("member remove: drops one member, unknown ids are not found, the removed member's tunnel stops serving", async () => {
    const state = await etcdState(edge, CLUSTER);
    const leaderNode = state.members.find((m) => m.id === state.leaderId)!.name;
    const victim = state.members.find((m) => m.id !== state.leaderId)!;
    const unknown = await etcdctl(c, [ep(leaderNode)], ["member", "remove", "abc123"]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain("etcdserver: member not found");

    const r = await etcdctl(c, [ep(leaderNode)], ["member", "remove", hex(victim.id)]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.replace(/\n$/, "")).toBe(`Member ${hex16(victim.id)} removed from cluster ${hex16(state.clusterId)}`);
    const list = parseJsonBig((await etcdctl(c, [ep(leaderNode)], ["member", "list", "-w", "json"])).stdout);
    expect(list.members.map((m: { name: string }) => m.name).sort()).toEqual(nodes.filter((n) => n !== victim.name));
    expect((await etcdState(edge, CLUSTER)).removedMembers.map((m) => m.id)).toEqual([victim.id]);

    const again = await etcdctl(c, [ep(leaderNode)], ["member", "remove", hex(victim.id)]);
    expect(again.stderr).toContain("etcdserver: member not found");
    // A removed member shuts down: its existing tunnel gets errors, a new one connects to nothing.
    const old = await etcdctl(c, [ep(victim.name)], ["--command-timeout", "2s", "endpoint", "status"]);
    expect(old.code).not.toBe(0);
    const fresh = await portForward(c, k132!, "kube-system", `etcd-${victim.name}`, 2379);
    try {
      const dead = await etcdctl(c, [`https://127.0.0.1:${fresh.localPort}`], ["--dial-timeout", "2s", "--command-timeout", "2s", "endpoint", "status"]);
      expect(dead.code).not.toBe(0);
    } finally {
      await fresh.stop();
    }
  });
});
