// Faults injected into a cluster's Kubernetes API (PUT /admin/clusters/<ns>/<name>/faults), measured
// from @kubernetes/client-node against a real local edge: added latency within 20% of what was set, an
// error rate inside a binomial bound (and exactly repeatable with a seed), 429 with Retry-After, watches
// dropped and resumed by an informer, faults kept across an edge restart, cleared by one call, and set
// through the CLI.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as k8s from "@kubernetes/client-node";
import { createCluster, edgeFetch, kubeConfigFor, spawnEdge, tempDir, type SpawnedEdge } from "../helpers/edge.js";
import { CLI, cliEnv, run } from "../helpers/cli.js";
import { until } from "../helpers/wait.js";

const NS = "default";
let edge: SpawnedEdge;
let core: k8s.CoreV1Api;
let kc: k8s.KubeConfig;
const stateDir = tempDir("capim-faults-");
const FAULTS = "/admin/clusters/team-f/f1/faults";

const setFaults = async (body: unknown) => {
  const r = await edgeFetch(edge, FAULTS, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  expect(r.status, await r.clone().text()).toBe(200);
};
const clearFaults = async () => expect((await edgeFetch(edge, FAULTS, { method: "DELETE" })).status).toBe(200);
const cm = (name: string, labels: Record<string, string> = {}): k8s.V1ConfigMap => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, labels }, data: { a: "b" } });

async function meanGetMs(n: number): Promise<number> {
  const t = performance.now();
  for (let i = 0; i < n; i++) await core.readNamespacedConfigMap({ namespace: NS, name: "probe" });
  return (performance.now() - t) / n;
}

async function listOutcomes(n: number): Promise<number[]> {
  const codes: number[] = [];
  for (let i = 0; i < n; i++) {
    try {
      await core.listNamespacedConfigMap({ namespace: NS });
      codes.push(200);
    } catch (e) {
      codes.push((e as { code?: number }).code ?? -1);
    }
  }
  return codes;
}

beforeAll(async () => {
  edge = await spawnEdge({ stateDir, keepState: true });
  await createCluster(edge, "team-f", "f1");
  kc = kubeConfigFor(edge.url, "team-f", "f1", edge.token);
  core = kc.makeApiClient(k8s.CoreV1Api);
  await core.createNamespacedConfigMap({ namespace: NS, body: cm("probe") });
});
afterAll(async () => {
  await edge?.stop();
});

describe("API faults", () => {
  it("adds the configured latency to matching requests only (within 20%)", async () => {
    const baseline = await meanGetMs(20);
    await setFaults({ latency: [{ verbs: ["get"], resources: ["configmaps"], ms: 400, jitterMs: 200 }] });
    const added = (await meanGetMs(20)) - baseline;
    expect(added).toBeGreaterThan(500 * 0.8); // 400 + a uniform draw in [0, 200): 500 on average
    expect(added).toBeLessThan(500 * 1.2);
    // A list is another verb: a 10 s delay on GETs does not touch it.
    await setFaults({ latency: [{ verbs: ["get"], resources: ["configmaps"], ms: 10_000 }] });
    const t = performance.now();
    await core.listNamespacedConfigMap({ namespace: NS });
    expect(performance.now() - t).toBeLessThan(5_000);
    await clearFaults();
  });

  it("fails the configured share of requests with the configured code, and a seed repeats it exactly", async () => {
    const faults = { seed: 7, errors: [{ verbs: ["list"], resources: ["configmaps"], rate: 0.3, code: 503 }] };
    await setFaults(faults);
    const first = await listOutcomes(200);
    const failed = first.filter((c) => c === 503).length;
    expect(first.every((c) => c === 200 || c === 503)).toBe(true);
    // Binomial(200, 0.3): mean 60, sd 6.5; 4.5 sd either side.
    expect(failed).toBeGreaterThanOrEqual(31);
    expect(failed).toBeLessThanOrEqual(89);
    await setFaults(faults); // the same seed again: the same requests fail
    expect(await listOutcomes(200)).toEqual(first);
    // GETs are not listed in the rule.
    await core.readNamespacedConfigMap({ namespace: NS, name: "probe" });
  });

  it("answers an injected 429 with Retry-After, as kube's priority and fairness does", async () => {
    await setFaults({ errors: [{ verbs: ["get"], rate: 1, code: 429, retryAfterSeconds: 2 }] });
    const r = await edgeFetch(edge, "/clusters/team-f/f1/api/v1/namespaces/default/configmaps/probe");
    expect(r.status).toBe(429);
    expect(r.headers.get("retry-after")).toBe("2");
    const body = (await r.json()) as { kind: string; reason: string; details?: { retryAfterSeconds?: number } };
    expect(body).toMatchObject({ kind: "Status", reason: "TooManyRequests", details: { retryAfterSeconds: 2 } });
    await clearFaults();
  });

  it("drops watches after N seconds and an informer resumes by itself", async () => {
    await setFaults({ dropWatchesAfterSeconds: 1 });
    const path = `/api/v1/namespaces/${NS}/configmaps`;
    const informer = k8s.makeInformer(kc, path, () => core.listNamespacedConfigMap({ namespace: NS, labelSelector: "drop=yes" }), "drop=yes");
    const seen = new Set<string>();
    let connects = 0;
    informer.on("add", (o) => seen.add(o.metadata!.name!));
    informer.on("connect", () => connects++);
    informer.on("error", () => undefined);
    await informer.start();
    try {
      await core.createNamespacedConfigMap({ namespace: NS, body: cm("drop-0", { drop: "yes" }) });
      await until(() => seen.has("drop-0"), "the first add");
      // Each watch lasts 1 s: after several drops the informer still delivers new objects.
      await until(() => connects >= 3, "the informer to reconnect after dropped watches", 30_000);
      await core.createNamespacedConfigMap({ namespace: NS, body: cm("drop-1", { drop: "yes" }) });
      await until(() => seen.has("drop-1"), "an add after the drops", 30_000);
    } finally {
      await informer.stop();
    }
    await clearFaults();
  });

  it("refuses an invalid spec with 422 and keeps the faults set before", async () => {
    await setFaults({ latency: [{ ms: 5 }] });
    const r = await edgeFetch(edge, FAULTS, { method: "PUT", body: JSON.stringify({ errors: [{ rate: 2, code: 418 }], latency: [{ verbs: ["fly"], ms: -1 }] }) });
    expect(r.status).toBe(422);
    const body = (await r.json()) as { reason: string; details: { causes: Array<{ field: string }> } };
    expect(body.reason).toBe("Invalid");
    expect(body.details.causes.map((c) => c.field).sort()).toEqual(["errors[0].code", "errors[0].rate", "latency[0].ms", "latency[0].verbs[0]"]);
    expect(await (await edgeFetch(edge, FAULTS)).json()).toEqual({ latency: [{ ms: 5 }] });
    expect((await edgeFetch(edge, FAULTS, { method: "PUT", body: "{}", token: null })).status).toBe(401);
  });

  it("keeps the faults across an edge restart, and one DELETE removes them", async () => {
    await setFaults({ seed: 1, errors: [{ resources: ["configmaps"], verbs: ["get"], rate: 1, code: 500 }] });
    await edge.stop();
    edge = await spawnEdge({ stateDir, keepState: true, tokens: edge.tokens });
    kc = kubeConfigFor(edge.url, "team-f", "f1", edge.token);
    core = kc.makeApiClient(k8s.CoreV1Api);
    await expect(core.readNamespacedConfigMap({ namespace: NS, name: "probe" })).rejects.toMatchObject({ code: 500 });
    await clearFaults();
    expect(await (await edgeFetch(edge, FAULTS)).json()).toEqual({});
    expect((await core.readNamespacedConfigMap({ namespace: NS, name: "probe" })).metadata?.name).toBe("probe");
  });

  it("is set, shown and cleared by `capim-edge cluster fault`", async () => {
    const env = { ...cliEnv(edge, edge.token), CAPIM_EDGE_NAMESPACE: "team-f" };
    const file = path.join(tempDir(), "faults.json");
    writeFileSync(file, JSON.stringify({ errors: [{ verbs: ["delete"], rate: 1, code: 504 }] }));
    const set = await run(process.execPath, [CLI, "cluster", "fault", "f1", "--file", file], { env });
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain("faults set");
    const shown = await run(process.execPath, [CLI, "cluster", "fault", "f1"], { env });
    expect(JSON.parse(shown.stdout)).toEqual({ errors: [{ verbs: ["delete"], rate: 1, code: 504 }] });
    await expect(core.deleteNamespacedConfigMap({ namespace: NS, name: "probe" })).rejects.toMatchObject({ code: 504 });
    const bad = await run(process.execPath, [CLI, "cluster", "fault", "f1", "--file", file, "--clear"], { env });
    expect(bad.code).toBe(2);
    const cleared = await run(process.execPath, [CLI, "cluster", "fault", "f1", "--clear"], { env });
    expect(cleared.code, cleared.stderr).toBe(0);
    expect(JSON.parse((await run(process.execPath, [CLI, "cluster", "fault", "f1"], { env })).stdout)).toEqual({});
  });
});
