import { describe, expect, it } from "vitest";
import { encodeCommitted, jsonAt, relabel, storedJson } from "../../durable-objects/apiserver/object-json.js";
import type { KubeObject } from "../../durable-objects/apiserver/types.js";

const obj = (o: Record<string, unknown>) => o as unknown as KubeObject;

describe("object JSON shared by a write's users", () => {
  it("serves exactly what relabel + JSON.stringify would, whatever the key order or version", () => {
    const cases = [
      obj({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a" }, data: { k: "v" } }),
      obj({ kind: "ConfigMap", apiVersion: "v1", metadata: { name: "b" } }),
      obj({ metadata: { name: "c" }, apiVersion: "v1", kind: "ConfigMap" }),
      obj({ apiVersion: "v1", metadata: { name: "d" }, kind: "ConfigMap" }),
      obj({ apiVersion: "v1" }),
      obj({}),
    ];
    for (const o of cases) {
      for (const v of ["v1", "v2"]) expect(jsonAt(o, v)).toBe(JSON.stringify(relabel(o, v)));
    }
  });

  it("re-encodes an object the store commits again", () => {
    const o = obj({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", resourceVersion: "1" } });
    expect(encodeCommitted(o)).toBe(storedJson(o));
    o.metadata = { name: "a", resourceVersion: "2" };
    encodeCommitted(o);
    expect(JSON.parse(storedJson(o)).metadata.resourceVersion).toBe("2");
  });
});
