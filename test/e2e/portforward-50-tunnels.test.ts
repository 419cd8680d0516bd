// 50 port-forward tunnels at once across 10 clusters on the REAL stack: `npm start` with 10 single
// control-plane clusters, then 5 concurrent `kubectl port-forward pod/etcd-<node> :2379` processes per
// cluster (each its own SPDY session: kubectl 1.29 SPDY and kubectl 1.32 WebSocket alternate), all alive
// together, and every tunnel carries an etcd Status and MemberList from the npm etcd3 (grpc-js) client
// with a client cert from that cluster's etcd CA. Expected values come from each cluster's Durable Object.
import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../helpers/edge.js";
import { edgeAdmin, etcd3Client, etcdState, kubectlBinary, portForward, realCluster, type AdminEtcdState, type PortForward, type RealCluster } from "../helpers/etcd-clients.js";
import { startEmbedded, type Embedded } from "./embedded-process.js";

const k129 = kubectlBinary(29);
const k132 = kubectlBinary(32);
const CLUSTERS = 10;
const PER_CLUSTER = 5;

describe.skipIf(!k129 || !k132)(`${CLUSTERS * PER_CLUSTER} concurrent port-forward tunnels across ${CLUSTERS} clusters`, () => {
  const dir = tempDir("capim-e2e-pf50-");
  let e: Embedded;
  const clusters: { c: RealCluster; state: AdminEtcdState }[] = [];
  const tunnels: { cluster: number; pf: PortForward; websocket: boolean }[] = [];

  beforeAll(async () => {
    e = startEmbedded(["--clusters", String(CLUSTERS), "--control-planes", "1", "--workers", "0", "--startup-duration", "0s"], {
      kubeconfigDir: `${dir}/kubeconfigs`,
      stateDir: `${dir}/state`,
    });
    await e.waitForLine(new RegExp(`^all ${CLUSTERS} clusters ready$`), 170_000);
    const edge = await edgeAdmin(e);
    for (let i = 1; i <= CLUSTERS; i++) {
      const ref = { namespace: "default", name: `capim-${i}` };
      clusters.push({ c: await realCluster(e, ref.namespace, ref.name, dir), state: await etcdState(edge, ref) });
    }
  });
  afterAll(async () => {
    await Promise.all(tunnels.map((t) => t.pf.stop()));
    await e?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("every tunnel carries etcd Status and MemberList while all of them are open", async () => {
    const opening: Promise<void>[] = [];
    clusters.forEach(({ c, state }, ci) => {
      expect(state.members).toHaveLength(1);
      for (let j = 0; j < PER_CLUSTER; j++) {
        const websocket = j % 2 === 1;
        opening.push(
          portForward(c, websocket ? k132! : k129!, "kube-system", `etcd-${state.members[0].name}`, 2379).then((pf) => {
            tunnels.push({ cluster: ci, pf, websocket });
          }),
        );
      }
    });
    const opened = await Promise.allSettled(opening);
    const failed = opened.filter((r): r is PromiseRejectedResult => r.status === "rejected").map((r) => String(r.reason));
    expect(failed).toEqual([]);
    expect(tunnels).toHaveLength(CLUSTERS * PER_CLUSTER);
    expect(new Set(tunnels.map((t) => t.pf.localPort)).size).toBe(CLUSTERS * PER_CLUSTER);

    // All 50 kubectl sessions are alive; one RPC pair per tunnel, all in flight together.
    const results = await Promise.allSettled(
      tunnels.map(async (t) => {
        const { c, state } = clusters[t.cluster];
        const client = etcd3Client(c, `https://127.0.0.1:${t.pf.localPort}`);
        try {
          const [status, list] = await Promise.all([client.maintenance.status({}), client.cluster.memberList({})]);
          return { t, state, status, list };
        } finally {
          client.close();
        }
      }),
    );
    const errors = results.filter((r): r is PromiseRejectedResult => r.status === "rejected").map((r) => String(r.reason));
    expect(errors).toEqual([]);
    for (const r of results) {
      const { t, state, status, list } = (r as PromiseFulfilledResult<any>).value;
      const member = state.members[0];
      expect(status.header.cluster_id).toBe(state.clusterId);
      expect(status.header.member_id).toBe(member.id);
      expect(status.leader).toBe(member.id);
      expect(list.members.map((m: { ID: string; name: string }) => [m.ID, m.name])).toEqual([[member.id, member.name]]);
      expect(t.pf.child.exitCode).toBeNull(); // the session outlived its connection
      expect(t.pf.output()).not.toMatch(/lost connection|error creating error stream|Timeout occurred|an error occurred forwarding/);
      if (t.websocket) expect(t.pf.output()).toContain("negotiated protocol: portforward.k8s.io");
    }
    // Each cluster's tunnels reached that cluster's member only (distinct ids across clusters).
    expect(new Set(clusters.map(({ state }) => state.members[0].id)).size).toBe(CLUSTERS);
  });
});
