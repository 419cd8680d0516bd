import { describe, expect, it } from "vitest";
import { applyMergePatch } from "../../durable-objects/apiserver/patch/merge.js";
import { ApiError } from "../../durable-objects/apiserver/types.js";

describe("applyMergePatch (RFC 7386)", () => {
  it("passes the RFC 7386 appendix examples", () => {
    const cases: Array<[unknown, unknown, unknown]> = [
      [{ a: "b" }, { a: "c" }, { a: "c" }],
      [{ a: "b" }, { b: "c" }, { a: "b", b: "c" }],
      [{ a: "b" }, { a: null }, {}],
      [{ a: "b", b: "c" }, { a: null }, { b: "c" }],
      [{ a: ["b"] }, { a: "c" }, { a: "c" }],
      [{ a: "c" }, { a: ["b"] }, { a: ["b"] }],
      [{ a: { b: "c" } }, { a: { b: "d", c: null } }, { a: { b: "d" } }],
      [{ a: [{ b: "c" }] }, { a: [1] }, { a: [1] }],
      [["a", "b"], ["c", "d"], ["c", "d"]],
      [{ a: "b" }, ["c"], ["c"]],
      [{ e: null }, { a: 1 }, { e: null, a: 1 }],
      [[1, 2], { a: "b", c: null }, { a: "b" }],
      [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
    ];
    for (const [target, patch, want] of cases) expect(applyMergePatch(target, patch)).toEqual(want);
  });

  it("does not mutate inputs and returns unshared data", () => {
    const target = { metadata: { labels: { a: "1" } }, spec: { x: [1] } };
    const patch = { metadata: { labels: { b: "2" } } };
    const out = applyMergePatch(target, patch) as typeof target;
    expect(out).toEqual({ metadata: { labels: { a: "1", b: "2" } }, spec: { x: [1] } });
    expect(target).toEqual({ metadata: { labels: { a: "1" } }, spec: { x: [1] } });
    expect(patch).toEqual({ metadata: { labels: { b: "2" } } });
    out.spec.x.push(2);
    expect(target.spec.x).toEqual([1]);
  });

  it("rejects a null patch with 400 like kube-apiserver", () => {
    try {
      applyMergePatch({ a: 1 }, null);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ApiError);
      expect([(e as ApiError).code, (e as ApiError).reason, (e as ApiError).message]).toEqual([400, "BadRequest", "Invalid JSON Patch"]);
    }
  });

  it("keeps a \"__proto__\" member as data (a valid ConfigMap key), in the target and in the patch", () => {
    const target = JSON.parse('{"data":{"__proto__":"kept","a":"1"}}');
    const patch = JSON.parse('{"data":{"__proto__":"changed","b":"2"}}');
    const out = applyMergePatch(target, patch) as { data: Record<string, string> };
    expect(Object.getPrototypeOf(out.data)).toBe(Object.prototype);
    expect(JSON.stringify(out)).toBe('{"data":{"__proto__":"changed","a":"1","b":"2"}}');
    const untouched = applyMergePatch(target, { other: 1 }) as { data: Record<string, string> };
    expect(JSON.stringify(untouched.data)).toBe('{"__proto__":"kept","a":"1"}');
  });
});
