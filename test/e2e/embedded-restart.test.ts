// Crash and restart: `npm start` for 10 clusters is killed (SIGKILL to the whole process group:
// controller, driver and workerd) while the clusters are still provisioning, then started again with
// the same --state-dir. Everything must converge without re-creating what existed: the same VIP
// ports, the same Nodes (UIDs) in the workload clusters, the same CAs.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { tempDir } from "../helpers/edge.js";
import { KUBECTL, kubeconfigServer, kubectlJson, portOf, startEmbedded, until, type Embedded } from "./embedded-process.js";

const N = 10;
const ARGS = ["--clusters", String(N), "--control-planes", "1", "--workers", "1", "--startup-duration", "2s", "--jitter", "0.2"];

function workloadKubeconfigs(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of readdirSync(dir)) {
    const m = /^default-(capim-\d+)\.kubeconfig$/.exec(f);
    if (m) out.set(m[1], path.join(dir, f));
  }
  return out;
}

/** The CA certificate a kubeconfig trusts (it must not change across a restart). */
function caOf(file: string): string {
  return /certificate-authority-data:\s*"?([A-Za-z0-9+/=]+)/.exec(readFileSync(file, "utf8"))![1];
}

describe.skipIf(!KUBECTL)("embedded default: crash during provisioning, restart, converge", () => {
  const kubeconfigDir = tempDir("capim-e2e-kc-");
  const stateDir = tempDir("capim-e2e-state-");
  let run: Embedded | undefined;

  afterAll(async () => {
    if (run) await run.stop("SIGTERM");
  });

  it("converges after a kill with the same ports and without re-provisioning", async () => {
    run = startEmbedded(ARGS, { kubeconfigDir, stateDir });
    // Some machines are ready, not all: mid-provisioning.
    await run.waitForLine(/^progress: [1-9]\d*\/20 machines ready/, 150_000);
    const before = new Map<string, { port: number; ca: string; nodes: Map<string, string> }>();
    for (const [cluster, file] of workloadKubeconfigs(kubeconfigDir)) {
      const nodes = new Map<string, string>();
      try {
        const list = await kubectlJson(file, ["get", "nodes"]);
        for (const n of list.items) nodes.set(n.metadata.name, n.metadata.uid);
      } catch {
        // Its VIP may have no kube-apiserver behind it yet.
      }
      before.set(cluster, { port: portOf(kubeconfigServer(file)), ca: caOf(file), nodes });
    }
    expect(before.size, "some clusters had their VIP before the kill").toBeGreaterThan(0);
    // A ready machine has its Node: at least one Node existed before the kill, to compare after it.
    expect([...before.values()].some((b) => b.nodes.size > 0), "a Node existed before the kill").toBe(true);
    const killedReady = run.lines.some((l) => l === `all ${N} clusters ready`);
    expect(killedReady, "killed before everything was ready").toBe(false);
    await run.stop("SIGKILL");

    run = startEmbedded(ARGS, { kubeconfigDir, stateDir });
    await run.waitForLine(new RegExp(`^all ${N} clusters ready$`), 240_000);

    const after = workloadKubeconfigs(kubeconfigDir);
    expect([...after.keys()].sort()).toEqual(Array.from({ length: N }, (_, i) => `capim-${i + 1}`).sort());
    const ports = new Set<number>();
    for (const [cluster, file] of after) {
      const port = portOf(kubeconfigServer(file));
      ports.add(port);
      const old = before.get(cluster);
      if (old) {
        expect(port, `${cluster} VIP port`).toBe(old.port);
        expect(caOf(file), `${cluster} CA`).toBe(old.ca);
      }
      const nodes = await until(async () => {
        const l = await kubectlJson(file, ["get", "nodes"]);
        return l.items.length === 2 ? l.items : undefined;
      }, `${cluster} has 2 nodes`);
      for (const n of nodes) {
        expect(n.status.conditions.find((c: any) => c.type === "Ready")?.status, `${cluster}/${n.metadata.name} Ready`).toBe("True");
        const oldUid = old?.nodes.get(n.metadata.name);
        if (oldUid) expect(n.metadata.uid, `${cluster}/${n.metadata.name} not re-created`).toBe(oldUid);
      }
    }
    expect(ports.size, "one VIP port per cluster").toBe(N);
  }, 420_000);

  it("a restart with fewer --workers scales each cluster down; fewer --clusters leaves the others running and says so", async () => {
    const cpNodeUid = async (file: string) => (await kubectlJson(file, ["get", "nodes"])).items.find((n: any) => /-cp-0$/.test(n.metadata.name))?.metadata.uid;
    const files = workloadKubeconfigs(kubeconfigDir);
    const cpUids = new Map<string, string>();
    for (const [cluster, file] of files) cpUids.set(cluster, await cpNodeUid(file));
    await run!.stop("SIGTERM");
    run = startEmbedded(["--clusters", String(N - 2), "--control-planes", "1", "--workers", "0", "--startup-duration", "2s", "--jitter", "0.2"], { kubeconfigDir, stateDir });
    await run.waitForLine(new RegExp(`^all ${N - 2} clusters ready$`), 240_000);
    await run.waitForLine(new RegExp(`^also running, from an earlier run with more --clusters: capim-${N - 1}, capim-${N}; to remove one:$`), 30_000);
    for (let i = 1; i <= N - 2; i++) {
      const file = files.get(`capim-${i}`)!;
      const nodes = await until(async () => {
        const l = await kubectlJson(file, ["get", "nodes"]);
        return l.items.length === 1 ? l.items : undefined;
      }, `capim-${i} scaled down to its control plane node`);
      expect(nodes[0].metadata.name).toMatch(/-cp-0$/);
      expect(nodes[0].metadata.uid, `capim-${i}'s control plane node kept`).toBe(cpUids.get(`capim-${i}`));
    }
    const management = path.join(kubeconfigDir, "management.kubeconfig");
    const machines = (await kubectlJson(management, ["-n", "default", "get", "machines.cluster.x-k8s.io"])).items.map((m: any) => m.metadata.name);
    for (let i = 1; i <= N - 2; i++) expect(machines).not.toContain(`capim-${i}-md-0`);
    // The two clusters this run does not drive keep their machines and answer through their VIPs.
    expect(machines).toContain(`capim-${N}-md-0`);
    const undriven = await kubectlJson(files.get(`capim-${N}`)!, ["get", "nodes"]);
    expect(undriven.items).toHaveLength(2);
  }, 420_000);
});
