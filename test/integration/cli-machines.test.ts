// `capim-edge cluster create --control-planes 3 --workers 2` alone (no controller, no management
// cluster) gives a cluster in which kubectl shows 5 Ready nodes and the control-plane static pods,
// and `cluster get` reports the machines.
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newToken, spawnEdge, tempDir, type SpawnedEdge } from "../helpers/edge.js";
import { capim, cliEnv, kubectl } from "../helpers/cli.js";

const TOKEN = newToken();
let edge: SpawnedEdge;
const dir = tempDir("capim-cli-machines-");

beforeAll(async () => {
  edge = await spawnEdge({ tokens: { [TOKEN]: "ci" } });
});
afterAll(async () => {
  await edge?.stop();
});

interface Node {
  metadata: { name: string; labels?: Record<string, string> };
  status: { conditions: Array<{ type: string; status: string }>; nodeInfo?: { kubeletVersion?: string } };
}

describe("capim-edge cluster create with machines", () => {
  it("3 control planes + 2 workers: 5 Ready nodes and the control-plane pods, seen by kubectl 1.32 and 1.29", async () => {
    const env = cliEnv(edge, TOKEN);
    const kc = path.join(dir, "m.kubeconfig");
    const created = await capim(
      ["cluster", "create", "machines", "--control-planes", "3", "--workers", "2", "--kubernetes-version", "v1.31.0", "--kubeconfig", kc],
      env,
    );
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain(`kubeconfig written to ${kc}`);
    // Not a terminal: progress is printed as lines on stderr, ending at 5/5.
    expect(created.stderr).toContain("machines ready: 5/5");

    for (const version of ["1.32", "1.29"]) {
      const nodes = await kubectl(version, kc, ["get", "nodes", "-o", "json"]);
      expect(nodes.code, nodes.stderr).toBe(0);
      const items = JSON.parse(nodes.stdout).items as Node[];
      expect(items.map((n) => n.metadata.name).sort()).toEqual(["cp-1", "cp-2", "cp-3", "worker-1", "worker-2"]);
      for (const n of items) {
        expect(n.status.conditions.find((c) => c.type === "Ready")?.status, n.metadata.name).toBe("True");
      }
      const cps = items.filter((n) => n.metadata.labels && "node-role.kubernetes.io/control-plane" in n.metadata.labels);
      expect(cps.map((n) => n.metadata.name).sort()).toEqual(["cp-1", "cp-2", "cp-3"]);
    }

    const pods = await kubectl("1.32", kc, ["get", "pods", "-n", "kube-system", "-o", "name"]);
    expect(pods.code, pods.stderr).toBe(0);
    const names = pods.stdout.trim().split("\n").sort();
    const expected = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"].flatMap((c) =>
      ["cp-1", "cp-2", "cp-3"].map((n) => `pod/${c}-${n}`),
    );
    expect(names).toEqual(expected.sort());
    // kubeadm's objects exist too (what KCP reads).
    const kubeadm = await kubectl("1.32", kc, ["get", "configmap", "kubeadm-config", "-n", "kube-system", "-o", "name"]);
    expect(kubeadm.stdout.trim()).toBe("configmap/kubeadm-config");

    const got = await capim(["cluster", "get", "machines", "-o", "json"], env);
    expect(got.code, got.stderr).toBe(0);
    const info = JSON.parse(got.stdout);
    expect(info.kubernetesVersion).toBe("v1.31.0");
    expect(info.machines).toHaveLength(5);
    expect(info.machines.every((m: { ready: boolean }) => m.ready)).toBe(true);
    expect(info.objectCount).toBeGreaterThan(5 + 12);
    const human = await capim(["cluster", "get", "machines"], env);
    expect(human.stdout).toMatch(/Machines:\s+5\/5 ready/);
    expect(human.stdout).toMatch(/worker-2\s+worker\s+v1\.31\.0\s+True/);

    expect((await capim(["cluster", "delete", "machines"], env)).code).toBe(0);
  });

  it("machines with startup durations: create waits until every machine is ready", async () => {
    const env = cliEnv(edge, TOKEN);
    const kc = path.join(dir, "slow.kubeconfig");
    const created = await capim(
      ["cluster", "create", "slow", "--control-planes", "1", "--workers", "1", "--startup-duration", "300ms", "--kubeconfig", kc, "-o", "json"],
      env,
    );
    expect(created.code, created.stderr).toBe(0);
    const info = JSON.parse(created.stdout);
    expect(info.machines.map((m: { name: string; ready: boolean }) => `${m.name}:${m.ready}`)).toEqual(["cp-1:true", "worker-1:true"]);
    const nodes = await kubectl("1.32", kc, ["get", "nodes", "-o", "name"]);
    expect(nodes.stdout.trim().split("\n").sort()).toEqual(["node/cp-1", "node/worker-1"]);
    expect((await capim(["cluster", "delete", "slow"], env)).code).toBe(0);
  });
});
