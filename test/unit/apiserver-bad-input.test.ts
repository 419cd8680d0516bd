import { describe, expect, it } from "vitest";
import { call, cm, newServer } from "../helpers/node-host.js";

const CMS = "/api/v1/namespaces/default/configmaps";
const MERGE = { "content-type": "application/merge-patch+json" };

interface Case {
  name: string;
  method: string;
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  code: number;
  reason: string;
  message?: RegExp;
}

const cases: Case[] = [
  { name: "malformed JSON", method: "POST", path: CMS, body: "{not json", code: 400, reason: "BadRequest" },
  { name: "JSON array body", method: "POST", path: CMS, body: "[1,2]", code: 400, reason: "BadRequest" },
  { name: "empty body", method: "POST", path: CMS, body: "", code: 400, reason: "BadRequest" },
  { name: "wrong apiVersion", method: "POST", path: CMS, body: { ...cm("x"), apiVersion: "apps/v1" }, code: 400, reason: "BadRequest" },
  { name: "wrong kind", method: "POST", path: CMS, body: { ...cm("x"), kind: "Secret" }, code: 400, reason: "BadRequest" },
  { name: "namespace mismatch", method: "POST", path: CMS, body: cm("x", {}, { namespace: "kube-system" }), code: 400, reason: "BadRequest" },
  { name: "name mismatch on update", method: "PUT", path: `${CMS}/base`, body: cm("other"), code: 400, reason: "BadRequest" },
  { name: "metadata not an object", method: "POST", path: CMS, body: { metadata: "x" }, code: 400, reason: "BadRequest" },
  { name: "name not a string", method: "POST", path: CMS, body: { metadata: { name: 5 } }, code: 400, reason: "BadRequest" },
  { name: "invalid name", method: "POST", path: CMS, body: cm("Bad_Name"), code: 422, reason: "Invalid", message: /metadata\.name/ },
  { name: "missing name", method: "POST", path: CMS, body: { metadata: {} }, code: 422, reason: "Invalid" },
  { name: "invalid label", method: "POST", path: CMS, body: cm("x", {}, { labels: { "bad key!": "v" } }), code: 422, reason: "Invalid" },
  { name: "unknown resource", method: "GET", path: "/api/v1/namespaces/default/widgets", code: 404, reason: "NotFound", message: /could not find the requested resource/ },
  { name: "unknown group", method: "GET", path: "/apis/nope.io/v1/things", code: 404, reason: "NotFound" },
  { name: "unknown version", method: "GET", path: "/apis/apps/v2/deployments", code: 404, reason: "NotFound" },
  { name: "namespaced path for cluster kind", method: "GET", path: "/api/v1/namespaces/default/nodes", code: 404, reason: "NotFound" },
  { name: "too deep path", method: "GET", path: "/api/v1/namespaces/default/configmaps/a/b/c", code: 404, reason: "NotFound" },
  { name: "bad percent escape", method: "GET", path: "/api/v1/namespaces/default/configmaps/%zz", code: 400, reason: "BadRequest" },
  { name: "missing object", method: "GET", path: `${CMS}/nope`, code: 404, reason: "NotFound", message: /^configmaps "nope" not found$/ },
  { name: "delete missing", method: "DELETE", path: `${CMS}/nope`, code: 404, reason: "NotFound" },
  { name: "patch missing", method: "PATCH", path: `${CMS}/nope`, body: {}, headers: MERGE, code: 404, reason: "NotFound" },
  { name: "malformed merge patch", method: "PATCH", path: `${CMS}/base`, body: "{", headers: MERGE, code: 400, reason: "BadRequest" },
  { name: "json patch not an array", method: "PATCH", path: `${CMS}/base`, body: { op: "add" }, headers: { "content-type": "application/json-patch+json" }, code: 400, reason: "BadRequest" },
  { name: "json patch test failure", method: "PATCH", path: `${CMS}/base`, body: [{ op: "test", path: "/data/a", value: "zzz" }], headers: { "content-type": "application/json-patch+json" }, code: 422, reason: "Invalid" },
  { name: "patch renames", method: "PATCH", path: `${CMS}/base`, body: { metadata: { name: "renamed" } }, headers: MERGE, code: 400, reason: "BadRequest" },
  { name: "patch stale rv", method: "PATCH", path: `${CMS}/base`, body: { metadata: { resourceVersion: "1" } }, headers: MERGE, code: 409, reason: "Conflict" },
  { name: "cbor body", method: "POST", path: CMS, body: "x", headers: { "content-type": "application/cbor" }, code: 415, reason: "UnsupportedMediaType" },
  { name: "protobuf garbage", method: "POST", path: CMS, body: "x", headers: { "content-type": "application/vnd.kubernetes.protobuf" }, code: 400, reason: "BadRequest" },
  { name: "protobuf-only accept", method: "GET", path: CMS, headers: { accept: "application/vnd.kubernetes.protobuf" }, code: 406, reason: "NotAcceptable" },
  { name: "bad label selector", method: "GET", path: `${CMS}?labelSelector=%3D%3D%3D`, code: 400, reason: "BadRequest" },
  { name: "unsupported field selector", method: "GET", path: `${CMS}?fieldSelector=spec.foo%3Dbar`, code: 400, reason: "BadRequest" },
  { name: "bad limit", method: "GET", path: `${CMS}?limit=abc`, code: 400, reason: "BadRequest" },
  { name: "bad timeoutSeconds", method: "GET", path: `${CMS}?watch=true&timeoutSeconds=-1`, code: 400, reason: "BadRequest" },
  { name: "bad dryRun", method: "POST", path: `${CMS}?dryRun=Some`, body: cm("x"), code: 400, reason: "BadRequest" },
  { name: "bad propagationPolicy", method: "DELETE", path: `${CMS}/base?propagationPolicy=Sometimes`, code: 422, reason: "Invalid" },
  { name: "delete precondition rv", method: "DELETE", path: `${CMS}/base`, body: { kind: "DeleteOptions", preconditions: { resourceVersion: "1" } }, code: 409, reason: "Conflict" },
  { name: "method not allowed", method: "PUT", path: CMS, body: cm("x"), code: 405, reason: "MethodNotAllowed" },
  { name: "POST to cluster-wide namespaced collection", method: "POST", path: "/api/v1/configmaps", body: cm("x"), code: 405, reason: "MethodNotAllowed" },
  { name: "eviction of a configmap", method: "POST", path: `${CMS}/base/eviction`, body: {}, code: 404, reason: "NotFound" },
  { name: "create in missing namespace", method: "POST", path: "/api/v1/namespaces/ghost/configmaps", body: cm("x"), code: 404, reason: "NotFound", message: /^namespaces "ghost" not found$/ },
  { name: "deep nesting", method: "POST", path: CMS, body: `{"metadata":{"name":"deep"},"data":${"[".repeat(5000)}${"]".repeat(5000)}}`, code: 400, reason: "BadRequest" },
  { name: "yaml alias bomb apply", method: "PATCH", path: `${CMS}/base?fieldManager=x`, body: "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n", headers: { "content-type": "application/apply-patch+yaml" }, code: 400, reason: "BadRequest" },
];

describe("apiserver bad input", () => {
  for (const c of cases) {
    it(`${c.name} -> ${c.code} ${c.reason}, state unchanged`, async () => {
      const { api, persistence } = newServer();
      await call(api, "POST", CMS, cm("base", { a: "1" }));
      const before = JSON.stringify(api.listObjects("v1", "ConfigMap"));
      const rv = api.resourceVersion;
      const commits = persistence.commits;
      const r = await call(api, c.method, c.path, c.body, c.headers ?? {});
      expect(r.status).toBe(c.code);
      expect(r.body).toMatchObject({ kind: "Status", apiVersion: "v1", status: "Failure", code: c.code, reason: c.reason });
      expect(JSON.stringify(r.body)).not.toMatch(/at .*\.ts:\d+/); // no stack traces
      if (c.message) expect(r.body.message).toMatch(c.message);
      expect(api.resourceVersion).toBe(rv);
      expect(persistence.commits).toBe(commits);
      expect(JSON.stringify(api.listObjects("v1", "ConfigMap"))).toBe(before);
    });
  }

  it("bodies over the size limit are 413 by Content-Length and by streamed size", async () => {
    const { api } = newServer({ maxBodyBytes: 1000 });
    const big = JSON.stringify(cm("big", { x: "y".repeat(5000) }));
    const r1 = await call(api, "POST", CMS, big);
    expect(r1.status).toBe(413);
    expect(r1.body.reason).toBe("RequestEntityTooLarge");
    // A streamed body without Content-Length.
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 10; i++) c.enqueue(new TextEncoder().encode(big.slice(i * 600, (i + 1) * 600)));
        c.close();
      },
    });
    const res = await api.handle(new Request(`http://c${CMS}`, { method: "POST", body: stream, headers: { "content-type": "application/json" }, duplex: "half" } as RequestInit));
    expect(res.status).toBe(413);
    expect((await call(api, "GET", `${CMS}/big`)).status).toBe(404);
  });

  it("a failing persistence write leaves memory unchanged and answers 500 without a stack", async () => {
    const { api, persistence } = newServer();
    const orig = persistence.commit.bind(persistence);
    persistence.commit = () => {
      throw new Error("disk full at /secret/path.ts:12");
    };
    const r = await call(api, "POST", CMS, cm("x"));
    expect(r.status).toBe(500);
    expect(r.body.reason).toBe("InternalError");
    expect(JSON.stringify(r.body)).not.toContain("disk full");
    persistence.commit = orig;
    expect((await call(api, "GET", `${CMS}/x`)).status).toBe(404);
    expect((await call(api, "POST", CMS, cm("x"))).status).toBe(201);
  });

  it("random garbage never crashes the server", async () => {
    const { api } = newServer();
    const methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
    const paths = ["/api/v1/", "/apis/", CMS, `${CMS}/x`, "/api/v1/namespaces/default/pods/p/eviction", "/apis/apps/v1/namespaces/default/deployments/d/status", "/api/v1/watch/pods"];
    const bodies = ["", "null", "1", '"s"', "{}", '{"metadata":null}', '{"metadata":{"name":""}}', '{"metadata":{"labels":[]}}', "[{}]", '{"metadata":{"finalizers":"x"}}'];
    const types = ["application/json", "application/merge-patch+json", "application/json-patch+json", "application/strategic-merge-patch+json", "application/apply-patch+yaml"];
    let n = 0;
    for (const m of methods)
      for (const p of paths)
        for (const b of bodies) {
          const t = types[n++ % types.length];
          const res = await api.handle(new Request(`http://c${p}?fieldManager=f`, { method: m, headers: { "content-type": t }, body: m === "GET" ? undefined : b }));
          expect(res.status).toBeLessThan(500);
          if (res.body && res.headers.get("content-type") === "application/json" && res.status === 200 && /watch/.test(p)) await res.body.cancel();
        }
    api.closeWatches();
  });
});
