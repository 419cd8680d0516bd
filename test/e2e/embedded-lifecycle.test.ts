// The embedded default end to end, with real clients only: `npm start` brings up one cluster of
// 3 control planes + 2 workers with non-zero startup durations. A client-node watch on the management
// API records every DevMachine's conditions; kubectl 1.32 reads the workload cluster through its VIP;
// then a worker and finally the whole cluster are deleted through the management API.
import * as k8s from "@kubernetes/client-node";
import { connect } from "node:net";
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../helpers/edge.js";
import { pidsInGroup } from "../helpers/procs.js";
import { fileExists, KUBECTL, kubeConfigFile, kubeconfigServer, kubectl, kubectlJson, portOf, startEmbedded, until, type Embedded } from "./embedded-process.js";

const GROUP = "infrastructure.cluster.x-k8s.io";
const NS = "default";
const CLUSTER = "capim-1";
const CPS = [0, 1, 2].map((i) => `${CLUSTER}-cp-${i}`);
const WORKERS = [0, 1].map((i) => `${CLUSTER}-md-${i}`);

type Cond = { type: string; status: string; reason: string };
/** Per DevMachine, per condition type: the reasons seen, in order, without repeats. */
const seen = new Map<string, Map<string, string[]>>();
function record(obj: any): void {
  const name = obj?.metadata?.name as string;
  if (!name) return;
  const byType = seen.get(name) ?? new Map<string, string[]>();
  seen.set(name, byType);
  for (const c of (obj.status?.conditions ?? []) as Cond[]) {
    const list = byType.get(c.type) ?? [];
    const r = `${c.status}:${c.reason}`;
    if (list[list.length - 1] !== r) list.push(r);
    byType.set(c.type, list);
  }
}

/** `expected` appears in `actual` in this order (other entries may sit between). */
function inOrder(actual: string[], expected: string[]): boolean {
  let i = 0;
  for (const a of actual) if (a === expected[i]) i++;
  return i === expected.length;
}

const VIP_RANGE = [24000, 24999] as const;

describe.skipIf(!KUBECTL)("embedded default: 1 cluster, 3 control planes + 2 workers", () => {
  let run: Embedded;
  let kubeconfigDir: string;
  let stateDir: string;
  let mgmt: k8s.KubeConfig;
  let watchAbort: AbortController | undefined;
  let workloadKubeconfig: string;

  beforeAll(async () => {
    kubeconfigDir = tempDir("capim-e2e-kc-");
    stateDir = tempDir("capim-e2e-state-");
    // A range of its own, as a second instance on the same host would use.
    run = startEmbedded(["--clusters", "1", "--control-planes", "3", "--workers", "2", "--startup-duration", "1s", "--jitter", "0.2", "--vip-port-range", VIP_RANGE.join("-")], {
      kubeconfigDir,
      stateDir,
    });
    // The management kubeconfig is written before the controller and the driver start: watch from there.
    await run.waitForLine(/^management API at /);
    mgmt = kubeConfigFile(path.join(kubeconfigDir, "management.kubeconfig"));
    const custom = mgmt.makeApiClient(k8s.CustomObjectsApi);
    const list = await custom.listNamespacedCustomObject({ group: GROUP, version: "v1beta2", namespace: NS, plural: "devmachines" });
    for (const item of list.items) record(item);
    watchAbort = await new k8s.Watch(mgmt).watch(
      `/apis/${GROUP}/v1beta2/namespaces/${NS}/devmachines`,
      { resourceVersion: list.metadata.resourceVersion, allowWatchBookmarks: true },
      (_type, obj) => record(obj),
      () => undefined,
    );
    await run.waitForLine(/^all 1 clusters ready$/, 150_000);
    workloadKubeconfig = path.join(kubeconfigDir, `${NS}-${CLUSTER}.kubeconfig`);
  }, 200_000);

  afterAll(async () => {
    watchAbort?.abort();
    if (!run) return;
    const code = await run.stop("SIGTERM");
    expect(code, `exit ${code}; last output:\n${run.lines.slice(-15).join("\n")}\n${run.stderr().slice(-3000)}`).toBe(0);
    expect(run.lines).toContain("SIGTERM: stopping");
  });

  it("DevMachine conditions move through the CAPD reasons in order", async () => {
    // The last status write may reach the watch just after the ready line.
    await until(() => [...CPS, ...WORKERS].every((m) => seen.get(m)?.get("Ready")?.at(-1) === "True:Provisioned"), "Ready=True on every DevMachine", 20_000);
    for (const m of [...CPS, ...WORKERS]) {
      const c = seen.get(m)!;
      const vm = c.get("VMProvisioned")!;
      const gates = WORKERS.includes(m)
        ? ["False:WaitingForControlPlaneInitialized", "False:WaitingForBootstrapData"]
        : ["False:WaitingForBootstrapData"];
      expect(inOrder(vm, [...gates, "False:WaitingForStartupTimeout", "True:Provisioned"]), `${m} VMProvisioned ${vm}`).toBe(true);
      if (CPS.includes(m)) expect(vm, `${m} is a control plane`).not.toContain("False:WaitingForControlPlaneInitialized");
      const node = c.get("NodeProvisioned")!;
      expect(inOrder(node, ["False:WaitingForVMProvisioned", "True:Provisioned"]), `${m} NodeProvisioned ${node}`).toBe(true);
      expect(node.at(-1)).toBe("True:Provisioned");
      for (const t of ["EtcdProvisioned", "APIServerProvisioned"]) {
        if (CPS.includes(m)) {
          const l = c.get(t)!;
          expect(inOrder(l, ["False:WaitingForVMProvisioned", "True:Provisioned"]), `${m} ${t} ${l}`).toBe(true);
        } else {
          expect(c.get(t), `${m} has no ${t}`).toBeUndefined();
        }
      }
    }
  });

  it("kubectl get shows the printer columns a CAPI user expects (Cluster phase, the cluster of each DevMachine)", async () => {
    const mgmtKc = path.join(kubeconfigDir, "management.kubeconfig");
    const rows = (text: string) => text.trim().split("\n").map((l) => l.trim().split(/\s{2,}/));
    const clusters = rows(await kubectl(mgmtKc, ["get", "clusters.cluster.x-k8s.io", "-n", NS]));
    expect(clusters[0]).toContain("PHASE");
    expect(clusters[1][clusters[0].indexOf("PHASE")]).toBe("Provisioned");
    for (const kind of ["devclusters", "devmachines"]) {
      const table = rows(await kubectl(mgmtKc, ["get", kind, "-n", NS]));
      const col = table[0].indexOf("CLUSTER");
      expect(col, table[0].join(" ")).toBeGreaterThan(0);
      for (const row of table.slice(1)) expect(row[col]).toBe(CLUSTER);
    }
  });

  it("fills DevCluster, DevMachines and Machines like CAPD does", async () => {
    const custom = mgmt.makeApiClient(k8s.CustomObjectsApi);
    const dc = await custom.getNamespacedCustomObject({ group: GROUP, version: "v1beta2", namespace: NS, plural: "devclusters", name: CLUSTER });
    expect(dc.metadata.finalizers).toContain("dockercluster.infrastructure.cluster.x-k8s.io");
    expect(dc.metadata.annotations["inmemorycluster.infrastructure.cluster.x-k8s.io/listener"]).toBe(`${NS}/${CLUSTER}`);
    expect(dc.status.initialization.provisioned).toBe(true);
    expect(dc.status.conditions.find((c: Cond) => c.type === "Ready")?.status).toBe("True");
    const server = kubeconfigServer(workloadKubeconfig);
    expect(dc.spec.controlPlaneEndpoint).toEqual({ host: new URL(server).hostname, port: portOf(server) });
    for (const port of [portOf(server), portOf(kubeconfigServer(path.join(kubeconfigDir, "management.kubeconfig")))]) {
      expect(port).toBeGreaterThanOrEqual(VIP_RANGE[0]);
      expect(port).toBeLessThanOrEqual(VIP_RANGE[1]);
    }

    for (const m of [...CPS, ...WORKERS]) {
      const dm = await custom.getNamespacedCustomObject({ group: GROUP, version: "v1beta2", namespace: NS, plural: "devmachines", name: m });
      expect(dm.spec.providerID).toBe(`in-memory://${m}`);
      expect(dm.metadata.finalizers).toContain("dockermachine.infrastructure.cluster.x-k8s.io");
      expect(dm.status.initialization.provisioned).toBe(true);
      expect(dm.status.deprecated.v1beta1.conditions.find((c: Cond) => c.type === "Ready")?.status).toBe("True");
      const machine = await custom.getNamespacedCustomObject({ group: "cluster.x-k8s.io", version: "v1beta2", namespace: NS, plural: "machines", name: m });
      expect(machine.metadata.annotations).toHaveProperty(["machine.inmemory.infrastructure.cluster.x-k8s.io/bootstrapped"]);
    }
    // The kubeconfig Secret CAPI would read holds the same server as the file the driver wrote.
    const secret = await mgmt.makeApiClient(k8s.CoreV1Api).readNamespacedSecret({ namespace: NS, name: `${CLUSTER}-kubeconfig` });
    expect(Buffer.from(secret.data!.value, "base64").toString()).toBe(readFileSync(workloadKubeconfig, "utf8"));
  });

  it("kubectl sees 5 Ready nodes with in-memory provider IDs", async () => {
    const nodes = await kubectlJson(workloadKubeconfig, ["get", "nodes"]);
    const byName = new Map<string, any>(nodes.items.map((n: any) => [n.metadata.name, n]));
    expect([...byName.keys()].sort()).toEqual([...CPS, ...WORKERS].sort());
    for (const [name, n] of byName) {
      expect(n.spec.providerID).toBe(`in-memory://${name}`);
      expect(n.status.conditions.find((c: Cond) => c.type === "Ready")?.status).toBe("True");
      expect(n.status.nodeInfo.kubeletVersion).toBe("v1.31.0");
      const cp = CPS.includes(name);
      expect("node-role.kubernetes.io/control-plane" in (n.metadata.labels ?? {}), `${name} control-plane label`).toBe(cp);
    }
  });

  it("kubectl describe node shows the node's Lease, held by the node", async () => {
    const text = await kubectl(workloadKubeconfig, ["describe", "node", CPS[0]]);
    expect(text).not.toContain("Failed to get lease");
    expect(text).toMatch(new RegExp(`Lease:\\s*\\n\\s*HolderIdentity:\\s*${CPS[0]}`));
    expect(text).toMatch(/RenewTime:\s*\w{3}, \d{2} \w{3} \d{4}/);
    const lease = await kubectlJson(workloadKubeconfig, ["-n", "kube-node-lease", "get", "lease", CPS[0]]);
    expect(lease.metadata.ownerReferences?.[0]).toMatchObject({ kind: "Node", name: CPS[0] });
  });

  it("control plane static pods are Running and Ready with their labels; kubeadm objects exist", async () => {
    const pods = await kubectlJson(workloadKubeconfig, ["-n", "kube-system", "get", "pods", "-l", "tier=control-plane"]);
    const names = pods.items.map((p: any) => p.metadata.name).sort();
    const want = CPS.flatMap((m) => ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"].map((c) => `${c}-${m}`)).sort();
    expect(names).toEqual(want);
    for (const p of pods.items) {
      expect(p.status.phase).toBe("Running");
      expect(p.status.conditions.find((c: Cond) => c.type === "Ready")?.status).toBe("True");
      expect(p.metadata.name).toBe(`${p.metadata.labels.component}-${p.spec.nodeName}`);
    }
    const cm = await kubectlJson(workloadKubeconfig, ["-n", "kube-system", "get", "configmap", "kubeadm-config"]);
    expect(cm.data.ClusterConfiguration).toBeTruthy();
    const ds = await kubectlJson(workloadKubeconfig, ["-n", "kube-system", "get", "daemonset", "kube-proxy"]);
    expect(JSON.stringify(ds.spec)).toContain("registry.k8s.io/kube-proxy:v1.31.0");
    await kubectlJson(workloadKubeconfig, ["-n", "kube-system", "get", "configmap", "coredns"]);
    await kubectlJson(workloadKubeconfig, ["-n", "kube-system", "get", "deployment", "coredns"]);
  });

  it("workerd killed (both edges): restarted, the VIP serves again and the controller keeps reconciling", async () => {
    const before = await until(async () => {
      const pids = pidsInGroup(run.child.pid!, "workerd");
      return pids.length === 2 ? pids : undefined;
    }, "two workerd processes (workload and management edge)");
    for (const pid of before) process.kill(pid, "SIGKILL");
    // Through the VIP (controller -> workload edge) and the management API (management edge).
    const nodes = await until(() => kubectlJson(workloadKubeconfig, ["get", "nodes"]).catch(() => undefined), "the VIP to serve again", 120_000);
    expect(nodes.items).toHaveLength(5);
    await until(() => kubectlJson(path.join(kubeconfigDir, "management.kubeconfig"), ["get", "devclusters", "-A"]).catch(() => undefined), "the management API to serve again", 120_000);
    expect(pidsInGroup(run.child.pid!, "workerd").filter((p) => before.includes(p))).toEqual([]);
    expect(run.child.exitCode).toBeNull();
    // The next test deletes a Machine: the controller's watches on the management API must have recovered for it to pass.
  }, 300_000);

  it("deleting a worker Machine and DevMachine removes its Node", async () => {
    const custom = mgmt.makeApiClient(k8s.CustomObjectsApi);
    const victim = WORKERS[1];
    await custom.deleteNamespacedCustomObject({ group: "cluster.x-k8s.io", version: "v1beta2", namespace: NS, plural: "machines", name: victim });
    // The Machine's deletion cascades to its DevMachine (ownerReference): it may be gone already.
    await custom.deleteNamespacedCustomObject({ group: GROUP, version: "v1beta2", namespace: NS, plural: "devmachines", name: victim }).catch((e) => {
      if (e?.code !== 404) throw e;
    });
    await until(async () => {
      const nodes = await kubectlJson(workloadKubeconfig, ["get", "nodes"]);
      return !nodes.items.some((n: any) => n.metadata.name === victim) && nodes.items.length === 4;
    }, `node ${victim} gone`);
    const leases = await kubectlJson(workloadKubeconfig, ["-n", "kube-node-lease", "get", "leases"]);
    expect(leases.items.map((l: any) => l.metadata.name)).not.toContain(victim);
    // The DevMachine goes away once the controller removed its finalizer.
    await until(
      () =>
        custom.getNamespacedCustomObject({ group: GROUP, version: "v1beta2", namespace: NS, plural: "devmachines", name: victim }).then(
          () => false,
          (e) => e?.code === 404,
        ),
      `DevMachine ${victim} deleted`,
    );
  });

  it("deleting the cluster closes its VIP and removes its edge state", async () => {
    const custom = mgmt.makeApiClient(k8s.CustomObjectsApi);
    const port = portOf(kubeconfigServer(workloadKubeconfig));
    const remaining = [...CPS, WORKERS[0]];
    for (const m of remaining) {
      await custom.deleteNamespacedCustomObject({ group: "cluster.x-k8s.io", version: "v1beta2", namespace: NS, plural: "machines", name: m });
      // The Machine's deletion cascades to its DevMachine (ownerReference): it may be gone already.
      await custom
        .deleteNamespacedCustomObject({ group: GROUP, version: "v1beta2", namespace: NS, plural: "devmachines", name: m })
        .catch((e) => {
          if (e?.code !== 404) throw e;
        });
    }
    await custom.deleteNamespacedCustomObject({ group: GROUP, version: "v1beta2", namespace: NS, plural: "devclusters", name: CLUSTER });
    await custom.deleteNamespacedCustomObject({ group: "cluster.x-k8s.io", version: "v1beta2", namespace: NS, plural: "clusters", name: CLUSTER });
    await until(
      () =>
        custom.getNamespacedCustomObject({ group: GROUP, version: "v1beta2", namespace: NS, plural: "devclusters", name: CLUSTER }).then(
          () => false,
          (e) => e?.code === 404,
        ),
      "DevCluster deleted",
    );
    const refused = await new Promise<boolean>((resolve) => {
      const s = connect({ host: "127.0.0.1", port });
      s.once("connect", () => {
        s.destroy();
        resolve(false);
      });
      s.once("error", (e: NodeJS.ErrnoException) => resolve(e.code === "ECONNREFUSED"));
    });
    expect(refused, `VIP port ${port} refuses connections`).toBe(true);
    const token = readFileSync(path.join(stateDir, "token"), "utf8").trim();
    const res = await fetch(`${await run.edgeUrl()}/admin/clusters/${NS}/${CLUSTER}`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(404);
    expect(fileExists(kubeconfigDir, "management.kubeconfig")).toBe(true);
  });
});
