// Real clients against the API server served over node:http: @kubernetes/client-node (typed API,
// informer = LIST + WATCH with bookmarks) and kubectl.
import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import { existsSync, realpathSync } from "node:fs";
import { dirname, join } from "node:path";
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serveApiServer, newServer } from "../helpers/node-host.js";

function kubectlBinary(): string | undefined {
  try {
    const which = execFileSync("sh", ["-c", "command -v kubectl"]).toString().trim();
    const bin = join(dirname(realpathSync(which)), "kubectl.1.32");
    return existsSync(bin) ? bin : undefined;
  } catch {
    return undefined;
  }
}

describe("apiserver with real clients", () => {
  const { api } = newServer({ watchHeartbeatMs: 200 });
  let host: { url: string; close(): Promise<void> };
  let kc: k8s.KubeConfig;

  beforeAll(async () => {
    host = await serveApiServer(api);
    kc = new k8s.KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: "c", server: host.url, skipTLSVerify: true }],
      users: [{ name: "u" }],
      contexts: [{ name: "x", cluster: "c", user: "u" }],
      currentContext: "x",
    });
  });
  afterAll(async () => {
    api.closeWatches();
    await host.close();
  });

  it("client-node: typed create/list and a strategic-merge patch with a stale rv", async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const node = await core.createNode({ body: { metadata: { name: "n1", labels: { a: "1" } }, spec: { providerID: "dev://n1" } } });
    expect(node.metadata?.uid).toBeTruthy();
    const list = await core.listNode({ fieldSelector: "metadata.name=n1" });
    expect(list.items.map((n) => n.metadata?.name)).toEqual(["n1"]);
    const patched = await core.patchNode(
      { name: "n1", body: { metadata: { labels: { b: "2" }, resourceVersion: node.metadata!.resourceVersion } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.StrategicMergePatch),
    );
    expect(patched.metadata?.labels).toEqual({ a: "1", b: "2" });
    await expect(
      core.patchNode(
        { name: "n1", body: { metadata: { labels: { c: "3" }, resourceVersion: node.metadata!.resourceVersion } } },
        k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.StrategicMergePatch),
      ),
    ).rejects.toMatchObject({ code: 409 });
    await expect(core.readNamespacedPod({ name: "nope", namespace: "default" })).rejects.toMatchObject({ code: 404 });
  });

  it("client-node informer sees adds, updates and deletes", async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const informer = k8s.makeInformer(kc, "/api/v1/namespaces/kube-system/configmaps", () => core.listNamespacedConfigMap({ namespace: "kube-system" }));
    const seen: string[] = [];
    informer.on("add", (o) => seen.push(`add:${o.metadata?.name}`));
    informer.on("update", (o) => seen.push(`update:${o.metadata?.name}`));
    informer.on("delete", (o) => seen.push(`delete:${o.metadata?.name}`));
    await informer.start();
    await core.createNamespacedConfigMap({ namespace: "kube-system", body: { metadata: { name: "kubeadm-config" }, data: { a: "b" } } });
    await core.replaceNamespacedConfigMap({ namespace: "kube-system", name: "kubeadm-config", body: { metadata: { name: "kubeadm-config" }, data: { a: "c" } } });
    await core.deleteNamespacedConfigMap({ namespace: "kube-system", name: "kubeadm-config" });
    for (let i = 0; i < 100 && seen.length < 3; i++) await new Promise((r) => setTimeout(r, 20));
    await informer.stop();
    expect(seen).toEqual(["add:kubeadm-config", "update:kubeadm-config", "delete:kubeadm-config"]);
  });

  const kubectl = kubectlBinary();
  it.skipIf(!kubectl)("kubectl 1.32: create, label, patch, get, delete", async () => {
    // Async: the server runs in this process, a sync spawn would block it.
    const k = async (...args: string[]) => (await promisify(execFile)(kubectl!, ["--server", host.url, ...args], { encoding: "utf8", timeout: 20_000 })).stdout;
    expect(await k("create", "configmap", "kc", "--from-literal=a=b")).toContain("configmap/kc created");
    expect(await k("label", "configmap", "kc", "x=y")).toContain("labeled");
    expect(await k("patch", "configmap", "kc", "-p", '{"data":{"c":"d"}}')).toContain("patched");
    expect(JSON.parse(await k("get", "configmap", "kc", "-o", "json")).data).toEqual({ a: "b", c: "d" });
    expect(await k("get", "configmaps", "-l", "x=y")).toMatch(/NAME\s+DATA\s+AGE\nkc\s+2\s+/);
    expect(await k("delete", "configmap", "kc")).toContain("deleted");
    await expect(k("get", "configmap", "kc")).rejects.toThrow(/NotFound|not found/);
  });
});
