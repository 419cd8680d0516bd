import { describe, expect, it } from "vitest";
import { invalidError, validateObjectMeta, type FieldError } from "../../durable-objects/apiserver/validation.js";
import type { KindInfo, KubeObject } from "../../durable-objects/apiserver/types.js";

function kind(group: string, k: string, namespaced: boolean): KindInfo {
  return {
    group,
    versions: ["v1"],
    kind: k,
    listKind: `${k}List`,
    resource: `${k.toLowerCase()}s`,
    singular: k.toLowerCase(),
    namespaced,
    subresources: [],
    hasStatusSubresource: false,
  };
}
const ConfigMap = kind("", "ConfigMap", true);
const Namespace = kind("", "Namespace", false);
const Service = kind("", "Service", true);
const Node = kind("", "Node", false);
const ClusterRole = kind("rbac.authorization.k8s.io", "ClusterRole", false);

const v = (meta: KubeObject["metadata"], k: KindInfo = ConfigMap): FieldError[] => validateObjectMeta({ metadata: meta }, k);
const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

describe("validateObjectMeta: names", () => {
  it("accepts a valid object", () => {
    expect(v({ name: "web.example-1", namespace: "default", labels: { app: "web" }, annotations: { "Example.com/Note": "x" } })).toEqual([]);
  });

  it("requires name or generateName", () => {
    expect(v({ namespace: "default" })).toEqual([
      { field: "metadata.name", type: "FieldValueRequired", message: "Required value: name or generateName is required" },
    ]);
    expect(v({ generateName: "web-", namespace: "default" })).toEqual([]);
  });

  it("uses DNS-1123 subdomain for most kinds, with kube's message", () => {
    expect(v({ name: "Web", namespace: "default" })).toEqual([
      { field: "metadata.name", type: "FieldValueInvalid", message: `Invalid value: "Web": ${SUBDOMAIN_MSG}` },
    ]);
    const long = "a".repeat(254);
    expect(v({ name: long, namespace: "default" }).map((e) => e.message)).toEqual([`Invalid value: "${long}": must be no more than 253 characters`]);
    expect(v({ name: "node-1.example.com" }, Node)).toEqual([]);
  });

  it("uses DNS-1123 labels for namespaces and DNS-1035 labels for services", () => {
    expect(v({ name: "kube-system" }, Namespace)).toEqual([]);
    expect(v({ name: "a.b" }, Namespace)[0]!.message).toBe(
      `Invalid value: "a.b": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name', or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
    );
    expect(v({ name: "x".repeat(64) }, Namespace)[0]!.message).toContain("must be no more than 63 characters");
    expect(v({ name: "1svc", namespace: "default" }, Service)[0]!.message).toBe(
      `Invalid value: "1svc": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name', or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`,
    );
  });

  it("uses path-segment names for RBAC kinds", () => {
    expect(v({ name: "system:controller:Foo_bar" }, ClusterRole)).toEqual([]);
    expect(v({ name: ".." }, ClusterRole)[0]!.message).toBe(`Invalid value: "..": may not be '..'`);
    expect(v({ name: "a/b%c" }, ClusterRole).map((e) => e.message)).toEqual([
      `Invalid value: "a/b%c": may not contain '/'`,
      `Invalid value: "a/b%c": may not contain '%'`,
    ]);
  });

  it("validates generateName as a prefix (trailing dash allowed)", () => {
    expect(v({ generateName: "web-", namespace: "default" })).toEqual([]);
    expect(v({ generateName: "Web-", namespace: "default" })[0]).toMatchObject({ field: "metadata.generateName", type: "FieldValueInvalid" });
    expect(v({ generateName: "-", namespace: "default" })[0]!.field).toBe("metadata.generateName");
  });

  it("checks namespace presence against the kind's scope", () => {
    expect(v({ name: "a" })).toEqual([{ field: "metadata.namespace", type: "FieldValueRequired", message: "Required value" }]);
    expect(v({ name: "a", namespace: "default" }, Node)).toEqual([
      { field: "metadata.namespace", type: "FieldValueForbidden", message: "Forbidden: not allowed on this type" },
    ]);
  });
});

describe("validateObjectMeta: labels, annotations, finalizers, ownerReferences", () => {
  it("validates label keys and values", () => {
    const errs = v({ name: "a", namespace: "d", labels: { "bad key": "ok", good: "-bad", "x/": "y" } });
    expect(errs.map((e) => [e.field, e.type])).toEqual([
      ["metadata.labels", "FieldValueInvalid"],
      ["metadata.labels", "FieldValueInvalid"],
      ["metadata.labels", "FieldValueInvalid"],
      ["metadata.labels", "FieldValueInvalid"],
    ]);
    expect(errs[0]!.message).toMatch(/^Invalid value: "bad key": name part must consist of alphanumeric characters/);
    expect(errs[1]!.message).toMatch(/^Invalid value: "-bad": a valid label must be an empty string/);
    expect(errs[2]!.message).toBe(`Invalid value: "x/": name part must be non-empty`);
    expect(v({ name: "a", namespace: "d", labels: { k: "x".repeat(64) } })[0]!.message).toContain("must be no more than 63 characters");
    expect(v({ name: "a", namespace: "d", labels: { ["p".repeat(254) + "/n"]: "v" } })[0]!.message).toContain("prefix part must be no more than 253 characters");
  });

  it("limits annotations to 256 KiB in total", () => {
    expect(v({ name: "a", namespace: "d", annotations: { big: "x".repeat(256 * 1024 - 3) } })).toEqual([]);
    expect(v({ name: "a", namespace: "d", annotations: { big: "x".repeat(256 * 1024 - 2) } })).toEqual([
      { field: "metadata.annotations", type: "FieldValueTooLong", message: "Too long: may not be more than 262144 bytes" },
    ]);
    expect(v({ name: "a", namespace: "d", annotations: { "a/b/c": "" } })[0]!.field).toBe("metadata.annotations");
  });

  it("requires qualified finalizer names", () => {
    expect(v({ name: "a", namespace: "d", finalizers: ["kubernetes", "example.com/cleanup"] })).toEqual([]);
    expect(v({ name: "a", namespace: "d", finalizers: ["a/b/c"] })[0]).toMatchObject({ field: "metadata.finalizers", type: "FieldValueInvalid" });
  });

  it("validates owner references and a single controller", () => {
    const ok = { apiVersion: "apps/v1", kind: "ReplicaSet", name: "rs", uid: "u1", controller: true };
    expect(v({ name: "a", namespace: "d", ownerReferences: [ok] })).toEqual([]);
    const errs = v({ name: "a", namespace: "d", ownerReferences: [{ apiVersion: "apps/", kind: "", name: "", uid: "" } as never] });
    expect(errs.map((e) => `${e.field}: ${e.message}`)).toEqual([
      `metadata.ownerReferences.apiVersion: Invalid value: "apps/": version must not be empty`,
      `metadata.ownerReferences.kind: Invalid value: "": kind must not be empty`,
      `metadata.ownerReferences.name: Invalid value: "": name must not be empty`,
      `metadata.ownerReferences.uid: Invalid value: "": uid must not be empty`,
    ]);
    const two = v({ name: "a", namespace: "d", ownerReferences: [ok, { ...ok, name: "rs2", uid: "u2" }] });
    expect(two).toHaveLength(1);
    expect(two[0]!.message).toContain(`Only one reference can have Controller set to true. Found "true" in references for ReplicaSet/rs and ReplicaSet/rs2`);
  });

  it("rejects a negative generation", () => {
    expect(v({ name: "a", namespace: "d", generation: -1 })).toEqual([
      { field: "metadata.generation", type: "FieldValueInvalid", message: "Invalid value: -1: must be greater than or equal to 0" },
    ]);
  });
});

describe("invalidError", () => {
  it("builds kube's 422 Invalid status", () => {
    const errs = v({ name: "Web", namespace: "default" });
    const e = invalidError("", "ConfigMap", "Web", errs);
    expect(e.code).toBe(422);
    expect(e.reason).toBe("Invalid");
    expect(e.message).toBe(`ConfigMap "Web" is invalid: metadata.name: Invalid value: "Web": ${SUBDOMAIN_MSG}`);
    expect(e.details).toEqual({
      group: "",
      kind: "ConfigMap",
      name: "Web",
      causes: [{ reason: "FieldValueInvalid", message: `Invalid value: "Web": ${SUBDOMAIN_MSG}`, field: "metadata.name" }],
    });
    const two = invalidError("apps", "Deployment", "x", [
      { field: "a", type: "FieldValueRequired", message: "Required value" },
      { field: "b", type: "FieldValueRequired", message: "Required value" },
    ]);
    expect(two.message).toBe(`Deployment.apps "x" is invalid: [a: Required value, b: Required value]`);
  });
});
