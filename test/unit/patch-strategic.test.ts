import { describe, expect, it } from "vitest";
import { applyStrategicMergePatch } from "../../durable-objects/apiserver/patch/strategic.js";
import { strategicMergeKeysFor } from "../../durable-objects/apiserver/patch/strategic-keys.js";
import { applyServerSideApply } from "../../durable-objects/apiserver/patch/apply.js";
import { ApiError, type KubeObject } from "../../durable-objects/apiserver/types.js";

const deployKeys = strategicMergeKeysFor("apps", "Deployment");
const podKeys = strategicMergeKeysFor("", "Pod");
const nodeKeys = strategicMergeKeysFor("", "Node");

function err(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error("expected an ApiError");
}

const deployment = () => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", finalizers: ["a.io/x"], labels: { app: "web" } },
  spec: {
    strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1 } },
    template: {
      spec: {
        containers: [
          { name: "app", image: "app:1", ports: [{ containerPort: 80, protocol: "TCP" }], env: [{ name: "A", value: "1" }] },
          { name: "sidecar", image: "side:1" },
        ],
        tolerations: [{ key: "k1", operator: "Exists" }],
      },
    },
  },
});

describe("strategicMergeKeysFor", () => {
  it("follows the k8s.io/api struct tags", () => {
    expect(deployKeys["spec.template.spec.containers"]).toBe("name");
    expect(deployKeys["spec.template.spec.containers.ports"]).toBe("containerPort");
    expect(deployKeys["spec.template.spec.initContainers.volumeMounts"]).toBe("mountPath");
    expect(deployKeys["spec.template.spec.tolerations"]).toBeUndefined();
    expect(podKeys["spec.volumes"]).toBe("name");
    expect(podKeys["status.conditions"]).toBe("type");
    expect(nodeKeys["status.addresses"]).toBe("type");
    expect(nodeKeys["spec.taints"]).toBeUndefined();
    expect(strategicMergeKeysFor("", "Service")["spec.ports"]).toBe("port");
    expect(strategicMergeKeysFor("", "ServiceAccount")["secrets"]).toBe("name");
    expect(strategicMergeKeysFor("batch", "CronJob")["spec.jobTemplate.spec.template.spec.containers.env"]).toBe("name");
    expect(strategicMergeKeysFor("example.com", "Widget")).toEqual({ "metadata.finalizers": "$primitive", "metadata.ownerReferences": "uid" });
  });
});

describe("applyStrategicMergePatch", () => {
  it("merges containers by name, ports by containerPort and env by name", () => {
    const target = deployment();
    const out = applyStrategicMergePatch(
      target,
      {
        spec: {
          template: {
            spec: {
              containers: [{ name: "app", image: "app:2", ports: [{ containerPort: 443 }], env: [{ name: "A", value: "2" }] }],
            },
          },
        },
      },
      deployKeys,
    ) as ReturnType<typeof deployment>;
    expect(out.spec.template.spec.containers).toEqual([
      {
        name: "app",
        image: "app:2",
        ports: [{ containerPort: 443 }, { containerPort: 80, protocol: "TCP" }],
        env: [{ name: "A", value: "2" }],
      },
      { name: "sidecar", image: "side:1" },
    ]);
    expect(out.spec.template.spec.tolerations).toEqual([{ key: "k1", operator: "Exists" }]);
    expect(target).toEqual(deployment()); // not mutated
  });

  it("replaces lists without a merge key (tolerations, node taints)", () => {
    const out = applyStrategicMergePatch(deployment(), { spec: { template: { spec: { tolerations: [{ key: "k2" }] } } } }, deployKeys) as ReturnType<
      typeof deployment
    >;
    expect(out.spec.template.spec.tolerations).toEqual([{ key: "k2" }]);
    const node = { spec: { taints: [{ key: "a", effect: "NoSchedule" }, { key: "b", effect: "NoExecute" }] } };
    expect(applyStrategicMergePatch(node, { spec: { taints: [{ key: "c", effect: "NoSchedule" }] } }, nodeKeys)).toEqual({
      spec: { taints: [{ key: "c", effect: "NoSchedule" }] },
    });
  });

  it("handles $patch delete / replace elements in keyed lists", () => {
    const del = applyStrategicMergePatch(
      deployment(),
      { spec: { template: { spec: { containers: [{ name: "sidecar", $patch: "delete" }] } } } },
      deployKeys,
    ) as ReturnType<typeof deployment>;
    expect(del.spec.template.spec.containers.map((c) => c.name)).toEqual(["app"]);
    const rep = applyStrategicMergePatch(
      deployment(),
      { spec: { template: { spec: { containers: [{ name: "only", image: "o:1" }, { $patch: "replace" }] } } } },
      deployKeys,
    ) as ReturnType<typeof deployment>;
    expect(rep.spec.template.spec.containers).toEqual([{ name: "only", image: "o:1" }]);
  });

  it("handles $patch on maps, nulls and strips directives from new subtrees", () => {
    const t = { metadata: { labels: { a: "1", b: "2" }, annotations: { x: "y" } }, spec: { keep: 1 } };
    expect(applyStrategicMergePatch(t, { metadata: { labels: { c: "3", $patch: "replace" }, annotations: null } }, {})).toEqual({
      metadata: { labels: { c: "3" } },
      spec: { keep: 1 },
    });
    expect(applyStrategicMergePatch(t, { metadata: { labels: { $patch: "delete" } } }, {})).toEqual({
      metadata: { labels: {}, annotations: { x: "y" } },
      spec: { keep: 1 },
    });
    expect(applyStrategicMergePatch({}, { spec: { template: { spec: { containers: [{ name: "a", $patch: "delete" }, { name: "b", x: null }] } } } }, deployKeys)).toEqual({
      spec: { template: { spec: { containers: [{ name: "b" }] } } },
    });
    expect(applyStrategicMergePatch({ a: 1 }, { $patch: "delete" }, {})).toEqual({});
  });

  it("merges finalizers as a set with kube's ordering, and honours $deleteFromPrimitiveList / $setElementOrder", () => {
    const t = { metadata: { finalizers: ["a.io/x", "b.io/y"] } };
    expect(applyStrategicMergePatch(t, { metadata: { finalizers: ["b.io/y", "c.io/z"] } }, podKeys)).toEqual({
      metadata: { finalizers: ["a.io/x", "b.io/y", "c.io/z"] },
    });
    // A brand-new item is placed before the remaining live-only items (normalizeElementOrder).
    expect(applyStrategicMergePatch(t, { metadata: { finalizers: ["c.io/z"] } }, podKeys)).toEqual({
      metadata: { finalizers: ["c.io/z", "a.io/x", "b.io/y"] },
    });
    // kubectl sends $setElementOrder to keep its order.
    expect(
      applyStrategicMergePatch(t, { metadata: { "$setElementOrder/finalizers": ["a.io/x", "b.io/y", "c.io/z"], finalizers: ["c.io/z"] } }, podKeys),
    ).toEqual({ metadata: { finalizers: ["a.io/x", "b.io/y", "c.io/z"] } });
    expect(applyStrategicMergePatch(t, { metadata: { "$deleteFromPrimitiveList/finalizers": ["a.io/x"] } }, podKeys)).toEqual({
      metadata: { finalizers: ["b.io/y"] },
    });
  });

  it("reorders keyed lists with $setElementOrder", () => {
    const out = applyStrategicMergePatch(
      deployment(),
      {
        spec: {
          template: {
            spec: {
              "$setElementOrder/containers": [{ name: "sidecar" }, { name: "app" }],
              containers: [{ name: "app", image: "app:3" }],
            },
          },
        },
      },
      deployKeys,
    ) as ReturnType<typeof deployment>;
    expect(out.spec.template.spec.containers.map((c) => [c.name, c.image])).toEqual([
      ["sidecar", "side:1"],
      ["app", "app:3"],
    ]);
  });

  it("applies $retainKeys (Deployment strategy switch)", () => {
    const out = applyStrategicMergePatch(deployment(), { spec: { strategy: { $retainKeys: ["type"], type: "Recreate" } } }, deployKeys) as {
      spec: { strategy: unknown };
    };
    expect(out.spec.strategy).toEqual({ type: "Recreate" });
    const e = err(() => applyStrategicMergePatch(deployment(), { spec: { strategy: { $retainKeys: ["type"], rollingUpdate: {} } } }, deployKeys));
    expect([e.code, e.message]).toEqual([400, "invalid patch format of retainKeys"]);
  });

  it("merges pod status conditions by type and ownerReferences by uid", () => {
    const pod = {
      metadata: { ownerReferences: [{ uid: "u1", name: "rs1", kind: "ReplicaSet", apiVersion: "apps/v1" }] },
      status: { conditions: [{ type: "Ready", status: "False" }, { type: "Initialized", status: "True" }] },
    };
    expect(
      applyStrategicMergePatch(
        pod,
        {
          metadata: { ownerReferences: [{ uid: "u1", controller: true }] },
          status: { conditions: [{ type: "Ready", status: "True" }] },
        },
        podKeys,
      ),
    ).toEqual({
      metadata: { ownerReferences: [{ uid: "u1", name: "rs1", kind: "ReplicaSet", apiVersion: "apps/v1", controller: true }] },
      status: { conditions: [{ type: "Ready", status: "True" }, { type: "Initialized", status: "True" }] },
    });
  });

  it("maps malformed patches to 400 / 422", () => {
    expect(err(() => applyStrategicMergePatch({}, [1], {})).message).toBe("json: cannot unmarshal array into Go value of type map[string]interface {}");
    const noKey = err(() => applyStrategicMergePatch(deployment(), { spec: { template: { spec: { containers: [{ image: "x" }] } } } }, deployKeys));
    expect([noKey.code, noKey.message]).toEqual([400, 'map: {"image":"x"} does not contain declared merge key: name']);
    const lol = err(() => applyStrategicMergePatch({ metadata: { finalizers: [["a"]] } }, { metadata: { finalizers: [["b"]] } }, podKeys));
    expect([lol.code, lol.reason]).toEqual([422, "Invalid"]);
    expect(err(() => applyStrategicMergePatch({}, { metadata: { $patch: "merge" } }, {})).code).toBe(400);
    expect(err(() => applyStrategicMergePatch({}, { metadata: { "$deleteFromPrimitiveList/finalizers": "x" } }, {})).message).toBe(
      "invalid patch format of primitive list",
    );
    expect(err(() => applyStrategicMergePatch({}, { "$setElementOrder/x": 1 }, {})).message).toBe("invalid patch format of setElementOrder list");
  });

  it("replaces maps marked $replace (PodDisruptionBudget selector)", () => {
    const keys = strategicMergeKeysFor("policy", "PodDisruptionBudget");
    const pdb = { spec: { selector: { matchLabels: { a: "1" } } } };
    expect(applyStrategicMergePatch(pdb, { spec: { selector: { matchLabels: { b: "2" } } } }, keys)).toEqual({
      spec: { selector: { matchLabels: { b: "2" } } },
    });
  });
});

describe("applyServerSideApply (create-or-merge)", () => {
  it("creates from the applied object when nothing exists", () => {
    const applied: KubeObject = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" }, data: { a: "1" } };
    const out = applyServerSideApply(undefined, applied, {});
    expect(out).toEqual(applied);
    expect(out).not.toBe(applied);
  });

  it("merges over the existing object and keeps fields it does not mention", () => {
    const existing = deployment() as KubeObject;
    const out = applyServerSideApply(
      existing,
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "web", labels: { tier: "front" } },
        spec: { replicas: 3, template: { spec: { containers: [{ name: "app", image: "app:9" }] } } },
      },
      deployKeys,
    ) as ReturnType<typeof deployment> & { spec: { replicas: number } };
    expect(out.metadata.labels).toEqual({ app: "web", tier: "front" });
    expect(out.metadata.finalizers).toEqual(["a.io/x"]);
    expect(out.spec.replicas).toBe(3);
    expect(out.spec.template.spec.containers.map((c) => [c.name, c.image])).toEqual([
      ["app", "app:9"],
      ["sidecar", "side:1"],
    ]);
    expect(existing).toEqual(deployment());
  });
});
