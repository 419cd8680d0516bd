// `npm start -- --edges 2`: the workload clusters live in two workerd processes, each cluster in the one
// its namespace/name hashes to, and the controller sends each cluster's traffic there. Real processes:
// each edge's own admin API says which clusters it holds; kubectl reads every cluster through its VIP.
// Restarted with the same state directory and another --edges, the run keeps the two processes (a
// cluster never moves away from the process holding its state) and converges on the same VIPs.
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { clusterSlot } from "../../edge-contract/cluster-hash.js";
import { tempDir } from "../helpers/edge.js";
import { pidsInGroup } from "../helpers/procs.js";
import { KUBECTL, kubeconfigServer, kubectlJson, startEmbedded, until, type Embedded } from "./embedded-process.js";

const N = 4;
const NAMES = Array.from({ length: N }, (_, i) => `capim-${i + 1}`);
const ARGS = ["--clusters", String(N), "--workers", "1", "--startup-duration", "0s", "--vip-port-range", "25000-25999", "--dashboard-port=-1"];

describe.skipIf(!KUBECTL)("embedded default with its workload clusters in two workerd processes", () => {
  const dirs = { kubeconfigDir: tempDir("capim-edges-kc-"), stateDir: tempDir("capim-edges-state-") };
  let run: Embedded | undefined;
  const kubeconfig = (name: string) => path.join(dirs.kubeconfigDir, `default-${name}.kubeconfig`);
  const token = () => readFileSync(path.join(dirs.stateDir, "token"), "utf8").trim();
  const heldBy = async (edgeUrl: string) => {
    const res = await fetch(`${edgeUrl}/admin/clusters`, { headers: { authorization: `Bearer ${token()}` } });
    expect(res.status).toBe(200);
    return ((await res.json()) as { items: Array<{ name: string }> }).items.map((c) => c.name).sort();
  };
  const nodes = async (name: string) => (await kubectlJson(kubeconfig(name), ["get", "nodes"])).items.length as number;

  afterAll(async () => {
    await run?.stop("SIGTERM");
  });

  it("spreads the clusters over both processes by hash and serves each through its VIP", async () => {
    expect(new Set(NAMES.map((n) => clusterSlot("default", n, 2))).size, "capim-1..4 hash onto both edges").toBe(2);
    run = startEmbedded([...ARGS, "--edges", "2"], dirs);
    const urls = /^workload edges: (\S+) (\S+) /.exec(await run.waitForLine(/^workload edges: /))!.slice(1);
    await run.waitForLine(/^all 4 clusters ready$/, 180_000);
    for (const [i, url] of urls.entries()) expect(await heldBy(url)).toEqual(NAMES.filter((n) => clusterSlot("default", n, 2) === i).sort());
    for (const name of NAMES) expect(await nodes(name)).toBe(2);
    // Two workload workerds and the management API's.
    expect(pidsInGroup(run.child.pid!, "workerd")).toHaveLength(3);
  }, 240_000);

  it("restarted with --edges 1 on the same state, keeps both processes and the same VIPs", async () => {
    const servers = NAMES.map((n) => kubeconfigServer(kubeconfig(n)));
    expect(await run!.stop("SIGTERM")).toBe(0);
    run = startEmbedded([...ARGS, "--edges", "1"], dirs);
    await run.waitForLine(/^workload edges: \S+ \S+ /);
    await run.waitForLine(/^all 4 clusters ready$/, 180_000);
    expect(run.stderr()).toMatch(/holds clusters on 2 workerd process\(es\); keeping that/);
    expect(NAMES.map((n) => kubeconfigServer(kubeconfig(n)))).toEqual(servers);
    for (const name of NAMES) expect(await until(() => nodes(name).catch(() => undefined), `${name} through its VIP`)).toBe(2);
  }, 240_000);
});
