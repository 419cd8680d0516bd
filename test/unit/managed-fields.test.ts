import { describe, expect, it } from "vitest";
import { decodeManagedFields, encodeManagedFields, recordUpdate } from "../../durable-objects/apiserver/managed-fields.js";
import type { KubeObject } from "../../durable-objects/apiserver/types.js";

const scope = { mergeKeys: { "status.conditions": "type" }, subresource: "status", statusSeparate: true };
const writer = { manager: "capim-edge", apiVersion: "v1beta2", subresource: "status" };

function machine(reasons: string[], extra: Record<string, unknown> = {}): KubeObject {
  const conditions = reasons.map((reason, i) => ({ type: `T${i}`, status: "False", reason }));
  return { apiVersion: "v1beta2", kind: "DevMachine", metadata: { name: "m" }, status: { conditions, ...extra } } as KubeObject;
}

/** The same owners encoded from a plain JSON copy of the list, where no cached encoding can be reused. */
const fromScratch = (entries: unknown) => encodeManagedFields(decodeManagedFields(JSON.parse(JSON.stringify(entries))));

describe("managedFields of repeated status writes", () => {
  it("match a from-scratch encoding when the writer's fields stay the same, grow or shrink", () => {
    const init = { initialization: { provisioned: true } };
    const steps = [machine(["a", "b"]), machine(["c", "d"]), machine(["e", "f"], init), machine(["g"], init), machine(["h"], init)];
    let before: KubeObject | undefined;
    let entries: ReturnType<typeof encodeManagedFields> = [];
    for (const after of steps) {
      entries = encodeManagedFields(recordUpdate(decodeManagedFields(entries), before, after, writer, scope, "2026-11-23T00:00:00Z"));
      expect(entries).toEqual(fromScratch(entries));
      after.metadata!.managedFields = entries as never;
      before = after;
    }
    const fields = JSON.stringify(entries[0].fieldsV1);
    expect(fields).toContain('"k:{\\"type\\":\\"T0\\"}"');
    expect(fields).not.toContain("T1");
    expect(fields).toContain("f:initialization");
  });
});

describe("managedFields across the main resource and its status", () => {
  const T = "2026-11-23T00:00:00Z";
  const obj = (spec: Record<string, unknown>, status: Record<string, unknown>) => ({ apiVersion: "v1", kind: "Thing", metadata: { name: "t" }, spec, status }) as KubeObject;
  const fieldsOf = (owners: ReturnType<typeof recordUpdate>, manager: string) => [...(owners.find((o) => o.entry.manager === manager)?.fields ?? [])].sort();
  const main = (statusSeparate: boolean) => ({ mergeKeys: {}, statusSeparate });
  const statusScope = { mergeKeys: {}, subresource: "status", statusSeparate: true };

  it("a main write on a kind with a status subresource drops the spec fields it removed and keeps status owners", () => {
    const v1 = obj({ a: 1, b: 2 }, { x: 1 });
    let owners = recordUpdate([], undefined, v1, { manager: "spec-writer", apiVersion: "v1" }, main(true), T);
    // A non-apply write is credited with what it changed: the status writer takes status.x by writing a new value.
    const v2 = obj({ a: 1, b: 2 }, { x: 2 });
    owners = recordUpdate(owners, v1, v2, { manager: "status-writer", apiVersion: "v1", subresource: "status" }, statusScope, T);
    expect(fieldsOf(owners, "status-writer")).toEqual(['["f:status","f:x"]']);
    const v3 = obj({ a: 1 }, { x: 2 });
    owners = recordUpdate(owners, v2, v3, { manager: "other", apiVersion: "v1" }, main(true), T);
    expect(fieldsOf(owners, "spec-writer")).toEqual(['["f:spec","f:a"]']);
    expect(fieldsOf(owners, "status-writer")).toEqual(['["f:status","f:x"]']);
  });

  it("a status write drops the status fields it removed and leaves spec owners alone", () => {
    const v1 = obj({ a: 1 }, { x: 1, y: 1 });
    let owners = recordUpdate([], undefined, v1, { manager: "creator", apiVersion: "v1" }, main(false), T);
    const v2 = obj({ a: 1 }, { x: 5 });
    owners = recordUpdate(owners, v1, v2, { manager: "status-writer", apiVersion: "v1", subresource: "status" }, statusScope, T);
    // status.x went to its new writer, status.y is gone: the creator keeps only its spec field.
    expect(fieldsOf(owners, "creator")).toEqual(['["f:spec","f:a"]']);
    expect(fieldsOf(owners, "status-writer")).toEqual(['["f:status","f:x"]']);
  });

  it("on a kind without a status subresource a main write owns and drops status fields like any other", () => {
    const v1 = obj({ a: 1 }, { x: 1 });
    let owners = recordUpdate([], undefined, v1, { manager: "creator", apiVersion: "v1" }, main(false), T);
    expect(fieldsOf(owners, "creator")).toEqual(['["f:spec","f:a"]', '["f:status","f:x"]']);
    const v2 = obj({ a: 1 }, {});
    owners = recordUpdate(owners, v1, v2, { manager: "other", apiVersion: "v1" }, main(false), T);
    expect(fieldsOf(owners, "creator")).toEqual(['["f:spec","f:a"]']);
  });
});
