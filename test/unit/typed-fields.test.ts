// Built-in kinds are type-checked against the generated k8s.io/api tables: what Go's encoding/json
// (with metav1.Time, Quantity and IntOrString's own decoders) would refuse is a FieldError with kube's
// field path; what it accepts, including null and unknown fields, is not.
import { describe, expect, it } from "vitest";
import { builtInMessage } from "../../durable-objects/apiserver/k8s-types.js";
import { typeErrors } from "../../durable-objects/apiserver/typed-fields.js";
import { buildNodeLease, buildStaticPod } from "../../durable-objects/machines/objects.js";

const check = (apiVersion: string, kind: string, obj: Record<string, unknown>) => typeErrors(builtInMessage(apiVersion, kind)!, { apiVersion, kind, ...obj });
const fields = (errs: { field: string }[]) => errs.map((e) => e.field);

describe("typed fields of built-in kinds", () => {
  it("accepts well-typed objects, nulls and unknown fields", () => {
    expect(check("v1", "ConfigMap", { metadata: { name: "a", labels: { x: "y" } }, data: { a: "b" }, binaryData: { b: "aGk=" }, extra: 5 })).toEqual([]);
    expect(check("v1", "ConfigMap", { metadata: null, data: { a: null }, immutable: null })).toEqual([]);
    expect(check("v1", "Pod", { spec: { containers: [{ name: "c", image: "i", ports: [{ containerPort: 80 }], resources: { limits: { cpu: "100m", memory: 1024 } } }] } })).toEqual([]);
    expect(check("v1", "Service", { spec: { ports: [{ port: 80, targetPort: "http" }, { port: 81, targetPort: 8081 }] } })).toEqual([]);
    expect(check("v1", "Secret", { data: { k: "dg==", multi: "aGVs\nbG8=" }, stringData: { s: "plain" } })).toEqual([]);
  });

  it("accepts what the machine controller writes", () => {
    const pod = buildStaticPod({ component: "etcd", node: "cp-0", version: "v1.31.0", now: "2026-01-01T00:00:00Z" });
    expect(check("v1", "Pod", pod as Record<string, unknown>)).toEqual([]);
    const lease = buildNodeLease({ node: "cp-0", nodeUid: "u", now: "2026-01-01T00:00:00Z" });
    expect(check("coordination.k8s.io/v1", "Lease", lease as Record<string, unknown>)).toEqual([]);
  });

  it("names each wrongly typed field with kube's path", () => {
    expect(fields(check("v1", "ConfigMap", { data: [1] }))).toEqual(["data"]);
    expect(fields(check("v1", "ConfigMap", { data: { a: 5, b: "ok", c: true } }))).toEqual(["data[a]", "data[c]"]);
    expect(fields(check("v1", "Node", { spec: { taints: "x" } }))).toEqual(["spec.taints"]);
    expect(fields(check("v1", "Node", { spec: { taints: [{ key: "a", effect: 3 }] } }))).toEqual(["spec.taints[0].effect"]);
    expect(fields(check("v1", "Pod", { spec: { containers: 7 } }))).toEqual(["spec.containers"]);
    expect(fields(check("v1", "Pod", { spec: { containers: [{ name: "c", ports: [{ containerPort: 1.5 }] }] } }))).toEqual(["spec.containers[0].ports[0].containerPort"]);
    expect(fields(check("v1", "ConfigMap", { metadata: { labels: { a: 1 }, ownerReferences: {} } }))).toEqual(["metadata.labels[a]", "metadata.ownerReferences"]);
    expect(check("v1", "Node", { spec: { taints: "x" } })[0]).toMatchObject({ type: "FieldValueTypeInvalid", message: 'Invalid value: "string": must be of type array' });
  });

  it("requires what the OpenAPI schema requires, outside status", () => {
    expect(fields(check("v1", "Pod", { spec: {} }))).toEqual(["spec.containers"]);
    expect(fields(check("v1", "Pod", { spec: { containers: [{ image: "i" }] } }))).toEqual(["spec.containers[0].name"]);
    expect(fields(check("v1", "Pod", { spec: { containers: [{ name: "" }] } }))).toEqual(["spec.containers[0].name"]);
    expect(fields(check("v1", "Node", { spec: { taints: [{ key: "a" }] } }))).toEqual(["spec.taints[0].effect"]);
    expect(fields(check("rbac.authorization.k8s.io/v1", "RoleBinding", { subjects: [{ kind: "User" }] }))).toEqual(["subjects[0].name", "roleRef"]);
    expect(check("v1", "Pod", { spec: {} })[0]).toMatchObject({ type: "FieldValueRequired", message: "Required value" });
    // A Deployment with no template is refused; a Role with no rules, a Pod with no spec and status
    // without its required fields (kube fills status itself) are not.
    expect(fields(check("apps/v1", "Deployment", { spec: { selector: {} } }))).toEqual(["spec.template"]);
    expect(check("rbac.authorization.k8s.io/v1", "Role", {})).toEqual([]);
    expect(check("v1", "Pod", { status: { containerStatuses: [{ name: "c" }], conditions: [{ type: "Ready" }] } })).toEqual([]);
  });

  it("checks base64 as Go's StdEncoding does", () => {
    const bad = (v: string) => check("v1", "Secret", { data: { k: v } });
    for (const ok of ["", "dg==", "dmE=", "dmFs", "dmFs\r\ndmFs"]) expect(bad(ok), ok).toEqual([]);
    expect(bad("not base64!")[0]).toMatchObject({ field: "data[k]", type: "FieldValueInvalid", message: 'Invalid value: "not base64!": illegal base64 data at input byte 3' });
    for (const no of ["!!!", "dg=", "d===", "dg==dg==", "abc"]) expect(bad(no), no).toHaveLength(1);
    expect(fields(check("v1", "ConfigMap", { binaryData: { a: "!!!" } }))).toEqual(["binaryData[a]"]);
  });

  it("checks times, quantities, int-or-strings and 32-bit ranges", () => {
    expect(fields(check("v1", "ConfigMap", { metadata: { creationTimestamp: "yesterday" } }))).toEqual(["metadata.creationTimestamp"]);
    expect(check("v1", "ConfigMap", { metadata: { creationTimestamp: "2026-01-01T00:00:00.123+02:00" } })).toEqual([]);
    expect(fields(check("v1", "Pod", { spec: { containers: [{ name: "c", resources: { limits: { cpu: "lots" } } }] } }))).toEqual(["spec.containers[0].resources.limits[cpu]"]);
    expect(fields(check("v1", "Service", { spec: { ports: [{ port: 80, targetPort: true }] } }))).toEqual(["spec.ports[0].targetPort"]);
    expect(fields(check("v1", "Service", { spec: { ports: [{ port: 2 ** 31 }] } }))).toEqual(["spec.ports[0].port"]);
  });

  it("does not know custom kinds, and stops at a bounded number of errors", () => {
    expect(builtInMessage("cluster.x-k8s.io/v1beta2", "Cluster")).toBeUndefined();
    const data = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, i]));
    expect(check("v1", "ConfigMap", { data }).length).toBeLessThanOrEqual(20);
  });
});
