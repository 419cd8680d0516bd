// Shards as a management cluster runs them: replicas in Pods share one bind address, so each shard's
// endpoint host is the DNS name of a headless Service the replicas create (capim-edge-shard-<i>), and
// the holder labels its own Pod for it. Two controller processes stand for two Pods (their Pod objects
// exist in the embedded management API; nothing resolves the names here, so kubectl dials 127.0.0.1
// and checks the certificate against the Service's name). Each shard's ports are its own slice of the
// range; when one replica is killed, the other takes its Lease, labels its own Pod for that shard, and
// serves the shard's clusters on the same host:port, next to its own.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { shardOf } from "../../controller/sharding/shard-of.js";
import { createClusterCA } from "../helpers/cluster-ca.js";
import { inMemoryClusterYaml, namespacesVia, spawnController, startControllerStack, type ControllerProc, type ControllerStack } from "../helpers/controller-process.js";
import { KUBECTL, kubectlJson, until } from "./embedded-process.js";

const NS = "default";
const PORTS = "23500-23899";
const SLICES = [
  [23500, 23699],
  [23700, 23899],
];
const host = (shard: number) => `capim-edge-shard-${shard}.${NS}.svc`;
const label = (shard: number) => `capim-edge.x-k8s.io/shard-${shard}`;
const replicaFlags = (shard: number) => [
  "--shards", "2", "--shard", String(shard), "--shard-services", "--vip-bind-address", "127.0.0.1",
  "--lease-namespace", NS, "--identity", `replica-${shard}`, "--shard-lease-duration", "4",
];

/** Cluster names, one per shard. */
function clusterNames(): [string, string] {
  const byShard: string[] = [];
  for (let i = 0; byShard.filter(Boolean).length < 2; i++) byShard[shardOf(NS, `svc-${i}`, 2)] ??= `svc-${i}`;
  return [byShard[0], byShard[1]];
}

describe.skipIf(!KUBECTL)("controller shards behind per-shard headless Services", () => {
  let stack: ControllerStack;
  let second: ControllerProc;
  const [onShard0, onShard1] = clusterNames();
  let mgmt: string;
  const get = (kind: string, name: string) => kubectlJson(mgmt, ["-n", NS, "get", kind, name]);
  const podLabels = async (pod: string) => (await get("pod", pod)).metadata.labels ?? {};
  const endpointOf = (name: string) =>
    until(async () => {
      const ep = (await get("devclusters", name)).spec?.controlPlaneEndpoint;
      return ep?.port ? (ep as { host: string; port: number }) : undefined;
    }, `${name}'s endpoint`);
  /** The admin kubeconfig of a cluster, dialling 127.0.0.1 and verifying the serving cert for its shard's Service name. */
  const kubeconfigFor = async (cluster: string, shard: number) => {
    const { port } = await endpointOf(cluster);
    const file = await createClusterCA({ cluster, namespace: NS, dir: stack.dir, port, apply: stack.apply });
    const cfg = await kubectlJson(file, ["config", "view", "--raw", "-o", "json"]);
    cfg.clusters[0].cluster["tls-server-name"] = host(shard);
    const viaLoopback = path.join(stack.dir, `${cluster}-via-loopback.kubeconfig`);
    writeFileSync(viaLoopback, JSON.stringify(cfg));
    return viaLoopback;
  };

  beforeAll(async () => {
    stack = await startControllerStack({
      portRange: PORTS,
      beforeController: async (s) => {
        // The Pods the replicas would run in (the embedded API runs nothing; the objects carry the labels).
        for (const pod of ["replica-0", "replica-1"]) {
          await s.apply(`apiVersion: v1
kind: Pod
metadata: {name: ${pod}, namespace: ${NS}, labels: {control-plane: controller-manager}}
spec: {containers: [{name: manager, image: ghcr.io/capim-edge/controller:v0.1.0}]}
`);
        }
        return replicaFlags(0);
      },
    });
    mgmt = stack.mgmt.kubeconfigPath;
    second = spawnController(stack.edge, mgmt, PORTS, replicaFlags(1));
    await second.metricsPort;
  }, 180_000);

  afterAll(async () => {
    second?.child.kill("SIGKILL");
    await stack?.stop();
  });

  it("creates a headless Service per shard and labels each replica's Pod for the shard it holds", async () => {
    for (const s of [0, 1]) {
      const svc = await until(async () => (await kubectlJson(mgmt, ["-n", NS, "get", "services", "-o", "json"])).items.find((i: { metadata: { name: string } }) => i.metadata.name === `capim-edge-shard-${s}`), `Service capim-edge-shard-${s}`);
      expect(svc.spec.clusterIP).toBe("None");
      expect(svc.spec.selector).toEqual({ [label(s)]: "serving" });
      expect(svc.metadata.labels["cluster.x-k8s.io/provider"]).toBe("infrastructure-capim-edge");
    }
    expect(await until(async () => ((await podLabels("replica-0"))[label(0)] === "serving" ? true : undefined), "replica-0's Pod labelled for shard 0")).toBe(true);
    expect(await until(async () => ((await podLabels("replica-1"))[label(1)] === "serving" ? true : undefined), "replica-1's Pod labelled for shard 1")).toBe(true);
    expect((await podLabels("replica-0"))[label(1)]).toBeUndefined();
    expect((await podLabels("replica-1"))[label(0)]).toBeUndefined();
  });

  it("each cluster's endpoint is its shard's Service name, on a port from its shard's slice", async () => {
    for (const name of [onShard0, onShard1]) {
      await stack.apply(inMemoryClusterYaml(NS, name));
    }
    for (const [shard, name] of [onShard0, onShard1].entries()) {
      const ep = await endpointOf(name);
      expect(ep.host).toBe(host(shard));
      expect(ep.port).toBeGreaterThanOrEqual(SLICES[shard][0]);
      expect(ep.port).toBeLessThanOrEqual(SLICES[shard][1]);
    }
  });

  it("a killed replica's shard moves to the other: its Pod label, and the same host:port serving kubectl", async () => {
    const kubeconfig0 = await kubeconfigFor(onShard0, 0);
    const kubeconfig1 = await kubeconfigFor(onShard1, 1);
    expect(await until(() => namespacesVia(kubeconfig0), "kubectl through shard 0's VIP, verifying its Service name")).toContain("kube-system");
    const before = await endpointOf(onShard0);

    stack.ctl.child.kill("SIGKILL");
    await stack.ctl.exited;
    expect(await until(async () => ((await podLabels("replica-1"))[label(0)] === "serving" ? true : undefined), "replica-1's Pod labelled for shard 0 once the Lease expired", 60_000)).toBe(true);
    expect((await podLabels("replica-1"))[label(1)]).toBe("serving");
    expect(await until(() => namespacesVia(kubeconfig0), "the same VIP, now served by replica-1", 60_000)).toContain("kube-system");
    expect(await endpointOf(onShard0)).toEqual(before);
    expect(await until(() => namespacesVia(kubeconfig1), "shard 1 still served by the same replica")).toContain("kube-system");
    expect(second.child.exitCode).toBeNull();
  });
});
