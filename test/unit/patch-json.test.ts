import { describe, expect, it } from "vitest";
import { applyJsonPatch } from "../../durable-objects/apiserver/patch/json.js";
import { ApiError } from "../../durable-objects/apiserver/types.js";

function err(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error("expected an ApiError");
}
const REJECTED = "the server rejected our request due to an error in our request";

describe("applyJsonPatch (RFC 6902)", () => {
  const doc = { metadata: { name: "x", labels: { "a/b": "1", "t~x": "2" } }, spec: { list: [1, 2, 3] } };

  it("applies add, remove, replace, move, copy and test", () => {
    const out = applyJsonPatch(doc, [
      { op: "test", path: "/metadata/name", value: "x" },
      { op: "add", path: "/metadata/labels/new", value: "v" },
      { op: "add", path: "/spec/list/1", value: 9 },
      { op: "add", path: "/spec/list/-", value: 4 },
      { op: "remove", path: "/metadata/labels/a~1b" },
      { op: "replace", path: "/metadata/labels/t~0x", value: "3" },
      { op: "copy", from: "/spec/list", path: "/spec/copy" },
      { op: "move", from: "/spec/list/0", path: "/spec/first" },
    ]);
    expect(out).toEqual({
      metadata: { name: "x", labels: { "t~x": "3", new: "v" } },
      spec: { list: [9, 2, 3, 4], copy: [1, 9, 2, 3, 4], first: 1 },
    });
    expect(doc.spec.list).toEqual([1, 2, 3]);
    expect(doc.metadata.labels).toEqual({ "a/b": "1", "t~x": "2" });
  });

  it("compares test values structurally, and a missing path equals null (evanphx/json-patch)", () => {
    expect(applyJsonPatch({ a: { x: 1, y: [1] } }, [{ op: "test", path: "/a", value: { y: [1], x: 1 } }])).toEqual({ a: { x: 1, y: [1] } });
    expect(applyJsonPatch({ a: 1 }, [{ op: "test", path: "/missing", value: null }])).toEqual({ a: 1 });
  });

  it("is atomic: a failing op leaves nothing applied and answers 422 Invalid", () => {
    const target = { a: 1 };
    const e = err(() => applyJsonPatch(target, [{ op: "add", path: "/b", value: 2 }, { op: "test", path: "/a", value: 2 }]));
    expect([e.code, e.reason, e.message]).toEqual([422, "Invalid", REJECTED]);
    expect(target).toEqual({ a: 1 });
  });

  it("answers 422 for unknown ops, missing members and bad indices", () => {
    for (const ops of [
      [{ op: "frobnicate", path: "/a" }],
      [{ op: "remove", path: "/missing" }],
      [{ op: "replace", path: "/missing", value: 1 }],
      [{ op: "add", path: "/no/such/parent", value: 1 }],
      [{ op: "add", path: "/list/5", value: 1 }],
      [{ op: "remove", path: "/list/01" }],
      [{ op: "copy", from: "/nope", path: "/a" }],
      [{ op: "move", from: "/obj", path: "/obj/child" }],
      [{ op: "add", value: 1 }],
      [null],
    ]) {
      const e = err(() => applyJsonPatch({ a: 1, list: [0], obj: {} }, ops));
      expect([e.code, e.reason, e.message]).toEqual([422, "Invalid", REJECTED]);
    }
  });

  it("answers 400 when the body is not a list of operations", () => {
    const e = err(() => applyJsonPatch({}, { op: "add", path: "/a", value: 1 }));
    expect([e.code, e.reason, e.message]).toEqual([400, "BadRequest", "json: cannot unmarshal object into Go value of type jsonpatch.Patch"]);
    expect(err(() => applyJsonPatch({}, ["add"])).message).toBe("json: cannot unmarshal string into Go value of type jsonpatch.Operation");
    expect(applyJsonPatch({ a: 1 }, null)).toEqual({ a: 1 });
  });

  it("answers 413 beyond 10000 operations", () => {
    const ops = Array.from({ length: 10001 }, () => ({ op: "test", path: "/a", value: 1 }));
    const e = err(() => applyJsonPatch({ a: 1 }, ops));
    expect([e.code, e.reason]).toEqual([413, "RequestEntityTooLarge"]);
    expect(e.message).toBe("Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001");
  });

  it("can replace the whole document with an empty path", () => {
    expect(applyJsonPatch({ a: 1 }, [{ op: "replace", path: "", value: { b: 2 } }])).toEqual({ b: 2 });
  });
});
