// Two controller replicas, each holding one shard of the clusters through a Lease, each shard with its
// own endpoint host (127.0.0.10 and 127.0.0.11): every cluster's controlPlaneEndpoint is its shard's
// host; when one replica is killed, the other takes its shard's Lease once it expires and serves those
// clusters again on the same host:port (kubectl through the VIP before and after). Real processes,
// the embedded management API, kubectl; then `npm start -- --shards 2` as a user runs it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { shardOf } from "../../controller/sharding/shard-of.js";
import { createClusterCA } from "../helpers/cluster-ca.js";
import { inMemoryClusterYaml, namespacesVia, spawnController, startControllerStack, type ControllerProc, type ControllerStack } from "../helpers/controller-process.js";
import { tempDir } from "../helpers/edge.js";
import { KUBECTL, kubectlJson, startEmbedded, until, type Embedded } from "./embedded-process.js";

const NS = "default";
const HOSTS = ["127.0.0.10", "127.0.0.11"];
const PORTS = "24000-24999";
const shardFlags = (shard: number) => ["--shards", "2", "--shard", String(shard), "--shard-hosts", HOSTS.join(","), "--lease-namespace", NS, "--identity", `replica-${shard}`, "--shard-lease-duration", "4"];

/** Cluster names, two per shard (the shard is a hash of namespace/name). */
function clusterNames(): string[] {
  const byShard: string[][] = [[], []];
  for (let i = 0; byShard.some((s) => s.length < 2); i++) {
    const name = `sh-${i}`;
    const s = shardOf(NS, name, 2);
    if (byShard[s].length < 2) byShard[s].push(name);
  }
  return byShard.flat();
}

describe.skipIf(!KUBECTL)("controller replicas holding shards through Leases", () => {
  let stack: ControllerStack;
  let second: ControllerProc;
  let restarted: ControllerProc | undefined;
  const names = clusterNames();
  let mgmt: string;
  const endpointOf = (name: string) =>
    until(async () => (await kubectlJson(mgmt, ["-n", NS, "get", "devclusters", name])).spec?.controlPlaneEndpoint?.port ? (await kubectlJson(mgmt, ["-n", NS, "get", "devclusters", name])).spec.controlPlaneEndpoint : undefined, `${name}'s endpoint`);
  const holder = async (shard: number) => (await kubectlJson(mgmt, ["-n", NS, "get", "leases", `capim-edge-shard-${shard}`])).spec?.holderIdentity;

  beforeAll(async () => {
    stack = await startControllerStack({ portRange: PORTS, beforeController: async () => shardFlags(0) });
    mgmt = stack.mgmt.kubeconfigPath;
    second = spawnController(stack.edge, mgmt, PORTS, shardFlags(1));
    await second.metricsPort;
  }, 180_000);

  afterAll(async () => {
    second?.child.kill("SIGKILL");
    restarted?.child.kill("SIGKILL");
    await stack?.stop();
  });

  it("each replica holds its own shard; every cluster's endpoint is its shard's host", async () => {
    expect(await until(async () => ((await holder(0)) === "replica-0" ? true : undefined), "replica-0 holds shard 0")).toBe(true);
    expect(await until(async () => ((await holder(1)) === "replica-1" ? true : undefined), "replica-1 holds shard 1")).toBe(true);
    for (const name of names) {
      await stack.apply(inMemoryClusterYaml(NS, name));
    }
    for (const name of names) expect((await endpointOf(name)).host).toBe(HOSTS[shardOf(NS, name, 2)]);
  });

  it("a killed replica's clusters are served again on the same host:port by the other", async () => {
    const victim = names.find((n) => shardOf(NS, n, 2) === 0)!;
    const survivor = names.find((n) => shardOf(NS, n, 2) === 1)!;
    const before = await endpointOf(victim);
    const kubeconfig = await createClusterCA({ cluster: victim, namespace: NS, dir: stack.dir, port: before.port, host: before.host, apply: stack.apply });
    const other = await createClusterCA({ cluster: survivor, namespace: NS, dir: stack.dir, port: (await endpointOf(survivor)).port, host: HOSTS[1], apply: stack.apply });
    expect(await until(() => namespacesVia(kubeconfig), "kubectl through shard 0's VIP")).toContain("kube-system");

    stack.ctl.child.kill("SIGKILL");
    await stack.ctl.exited;
    expect(await until(async () => ((await holder(0)) === "replica-1" ? true : undefined), "replica-1 takes shard 0 once its Lease expires", 60_000)).toBe(true);
    expect(await until(() => namespacesVia(kubeconfig), "kubectl through the same VIP, now served by replica-1", 60_000)).toContain("kube-system");
    expect(await endpointOf(victim)).toEqual(before);
    expect(await until(() => namespacesVia(other), "shard 1 still served")).toContain("kube-system");
  });

  it("the killed replica, started again, gets its shard handed back and serves it on the same host:port", async () => {
    const victim = names.find((n) => shardOf(NS, n, 2) === 0)!;
    const before = await endpointOf(victim);
    const kubeconfig = `${stack.dir}/${victim}.kubeconfig`; // written by the previous test
    expect(await holder(0)).toBe("replica-1");
    restarted = spawnController(stack.edge, mgmt, PORTS, shardFlags(0));
    expect(await until(async () => ((await holder(0)) === "replica-0" ? true : undefined), "replica-1 hands shard 0 back to replica-0", 60_000)).toBe(true);
    expect(await holder(1)).toBe("replica-1");
    expect(await until(() => namespacesVia(kubeconfig), "kubectl through the same VIP, served by replica-0 again", 60_000)).toContain("kube-system");
    expect(await endpointOf(victim)).toEqual(before);
    // The hand-back moved one VIP: replica-1 closed it (else replica-0 could not have bound host:port).
    expect(restarted.child.exitCode).toBeNull();
    expect(second.child.exitCode).toBeNull();
  });
});

describe.skipIf(!KUBECTL)("npm start -- --shards 2", () => {
  let run: Embedded;
  afterAll(async () => {
    await run?.stop("SIGKILL");
  });

  it("runs a second controller process for shard 1; killing it, shard 0's replica serves its clusters on 127.0.0.2", async () => {
    const dirs = { kubeconfigDir: tempDir("capim-shards-kc-"), stateDir: tempDir("capim-shards-state-") };
    run = startEmbedded(["--shards", "2", "--clusters", "4", "--startup-duration", "0s", "--vip-port-range", "31000-31999", "--dashboard-port=-1"], dirs);
    const shardsLine = await run.waitForLine(/^controller shards: 2 /);
    const pid = Number(/shard 1 pid (\d+)/.exec(shardsLine)![1]);
    await run.waitForLine(/^all 4 clusters ready/, 180_000);
    const names = ["capim-1", "capim-2", "capim-3", "capim-4"];
    const onShard1 = names.filter((n) => shardOf(NS, n, 2) === 1);
    expect(onShard1.length, "the 4 clusters hash onto both shards").toBeGreaterThan(0);
    const kubeconfig = `${dirs.kubeconfigDir}/${NS}-${onShard1[0]}.kubeconfig`;
    const nodes = async () => {
      try {
        return (await kubectlJson(kubeconfig, ["get", "nodes", "--request-timeout=5s"])).items.length as number;
      } catch {
        return undefined;
      }
    };
    expect(await until(nodes, "kubectl through a shard-1 cluster's VIP")).toBeGreaterThan(0);
    const server = JSON.stringify(await kubectlJson(kubeconfig, ["config", "view", "--minify", "-o", "json"]));
    expect(server).toContain("https://127.0.0.2:");

    process.kill(pid, 0); // still running: shard 1 was served by its own replica until now
    expect(run.stderr()).not.toMatch(/shard 1: controller process \(pid \d+\) exited/);
    process.kill(pid, "SIGKILL");
    await until(async () => ((await nodes()) === undefined ? true : undefined), "the VIP dark with its replica gone");
    expect(await until(nodes, "the same VIP, served by shard 0's replica after the Lease expired", 90_000)).toBeGreaterThan(0);
  }, 300_000);
});
