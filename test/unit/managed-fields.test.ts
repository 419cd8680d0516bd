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
