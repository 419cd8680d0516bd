// A battery of bad requests against a real spawned edge: each must get a Kubernetes Status with
// the right code and reason, and must leave the stored objects and resourceVersion unchanged.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCluster, edgeFetch, spawnEdge, type SpawnedEdge } from "../helpers/edge.js";

const MAX_BODY = 1024 * 1024; // a smaller limit keeps the oversize bodies cheap
let edge: SpawnedEdge;
const C = "/clusters/bad/target";
const CMS = `${C}/api/v1/namespaces/default/configmaps`;

beforeAll(async () => {
  edge = await spawnEdge({ maxBody: MAX_BODY });
  await createCluster(edge, "bad", "target");
  const res = await req("POST", CMS, JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "base", labels: { a: "b" } }, data: { k: "v" } }));
  expect(res.status).toBe(201);
});
afterAll(async () => {
  await edge?.stop();
});

function req(method: string, path: string, body?: BodyInit, contentType = "application/json", token?: string | null) {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers["content-type"] = contentType;
  return edgeFetch(edge, path, { method, body, headers, token });
}

/**
 * A GET that, like Go's http.Transport, retries once when a pooled keep-alive connection turns out to be
 * closed: after refusing an oversized chunked upload the edge closes that connection (as Go's HTTP server
 * does once an unread body passes its limit), and undici may already have picked it for the next request.
 */
async function getJson(path: string): Promise<any> {
  try {
    return await (await edgeFetch(edge, path)).json();
  } catch (err) {
    if (!/other side closed|ECONNRESET|socket/i.test(String((err as { cause?: unknown }).cause ?? err))) throw err;
    return await (await edgeFetch(edge, path)).json();
  }
}

/** Everything a bad request must not change: all objects of the cluster, and its counter. */
async function snapshot() {
  const admin = await getJson("/admin/clusters/bad/target");
  const cms = await getJson(`${C}/api/v1/configmaps`);
  const nss = await getJson(`${C}/api/v1/namespaces`);
  return { rv: admin.resourceVersion, count: admin.objectCount, cms: cms.items, nss: nss.items };
}

const base = (over: Record<string, unknown> = {}) => JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "base" }, data: { k: "v" }, ...over });
const big = (n: number) => JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "huge" }, data: { k: "x".repeat(n) } });

interface Case {
  name: string;
  send: () => Promise<Response>;
  code: number;
  reason: string | string[];
}

const cases: Case[] = [
  { name: "broken JSON", send: () => req("POST", CMS, '{"apiVersion": "v1", "kind":'), code: 400, reason: "BadRequest" },
  { name: "broken YAML", send: () => req("POST", CMS, "kind: ConfigMap\nmetadata: [", "application/yaml"), code: 400, reason: "BadRequest" },
  { name: "body is an array", send: () => req("POST", CMS, "[]"), code: 400, reason: "BadRequest" },
  { name: "wrong kind for the resource", send: () => req("POST", CMS, JSON.stringify({ apiVersion: "v1", kind: "Secret", metadata: { name: "s" } })), code: 400, reason: "BadRequest" },
  { name: "wrong apiVersion for the resource", send: () => req("POST", CMS, JSON.stringify({ apiVersion: "apps/v1", kind: "ConfigMap", metadata: { name: "x" } })), code: 400, reason: "BadRequest" },
  { name: "namespace in body differs from the URL", send: () => req("POST", CMS, JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x", namespace: "kube-system" } })), code: 400, reason: "BadRequest" },
  { name: "no name", send: () => req("POST", CMS, JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: {} })), code: 422, reason: "Invalid" },
  { name: "bad name", send: () => req("POST", CMS, JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "Bad_Name" } })), code: 422, reason: "Invalid" },
  { name: "name too long", send: () => req("POST", CMS, JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a".repeat(254) } })), code: 422, reason: "Invalid" },
  { name: "duplicate create", send: () => req("POST", CMS, base()), code: 409, reason: "AlreadyExists" },
  { name: "unsupported content type", send: () => req("POST", CMS, base(), "text/plain"), code: 415, reason: "UnsupportedMediaType" },
  { name: "unknown resource", send: () => req("GET", `${C}/api/v1/namespaces/default/foos`), code: 404, reason: "NotFound" },
  { name: "unknown group", send: () => req("GET", `${C}/apis/nope.example.com/v1/things`), code: 404, reason: "NotFound" },
  { name: "unknown object", send: () => req("GET", `${CMS}/missing`), code: 404, reason: "NotFound" },
  { name: "missing namespace", send: () => req("POST", `${C}/api/v1/namespaces/no-such-ns/configmaps`, JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" } })), code: 404, reason: "NotFound" },
  { name: "bad label selector", send: () => req("GET", `${CMS}?labelSelector=${encodeURIComponent("a in (")}`), code: 400, reason: "BadRequest" },
  { name: "bad label selector key", send: () => req("GET", `${CMS}?labelSelector=${encodeURIComponent("-bad-=x")}`), code: 400, reason: "BadRequest" },
  { name: "unsupported field selector", send: () => req("GET", `${CMS}?fieldSelector=${encodeURIComponent("data.k=v")}`), code: 400, reason: "BadRequest" },
  { name: "garbage resourceVersion on list", send: () => req("GET", `${CMS}?resourceVersion=abc`), code: 400, reason: "BadRequest" },
  { name: "garbage resourceVersion on watch", send: () => req("GET", `${CMS}?watch=true&resourceVersion=-1`), code: 400, reason: "BadRequest" },
  { name: "garbage limit", send: () => req("GET", `${CMS}?limit=ten`), code: 400, reason: "BadRequest" },
  { name: "garbage resourceVersion on get", send: () => req("GET", `${CMS}/base?resourceVersion=abc`), code: 400, reason: "BadRequest" },
  { name: "garbage limit on deletecollection", send: () => req("DELETE", `${CMS}?limit=abc`), code: 400, reason: "BadRequest" },
  { name: "garbage continue on deletecollection", send: () => req("DELETE", `${CMS}?continue=not-a-token`), code: 400, reason: "BadRequest" },
  { name: "fieldManager over 128 characters", send: () => req("PATCH", `${CMS}/base?fieldManager=${"m".repeat(129)}`, '{"data":{"k":"v2"}}', "application/merge-patch+json"), code: 422, reason: "Invalid" },
  { name: "merge patch removing metadata", send: () => req("PATCH", `${CMS}/base`, '{"metadata":null}', "application/merge-patch+json"), code: 422, reason: "Invalid" },
  { name: "stale resourceVersion on update", send: () => req("PUT", `${CMS}/base`, base({ metadata: { name: "base", resourceVersion: "1" }, data: { k: "changed" } })), code: 409, reason: "Conflict" },
  { name: "garbage resourceVersion on update", send: () => req("PUT", `${CMS}/base`, base({ metadata: { name: "base", resourceVersion: "zz" }, data: { k: "changed" } })), code: 409, reason: ["Conflict", "BadRequest"] },
  { name: "name in body differs from the URL", send: () => req("PUT", `${CMS}/base`, base({ metadata: { name: "other" } })), code: 400, reason: "BadRequest" },
  { name: "update of a missing object", send: () => req("PUT", `${CMS}/missing`, base({ metadata: { name: "missing" } })), code: 404, reason: "NotFound" },
  { name: "merge patch: broken JSON", send: () => req("PATCH", `${CMS}/base`, "{", "application/merge-patch+json"), code: 400, reason: "BadRequest" },
  { name: "json patch: not an array", send: () => req("PATCH", `${CMS}/base`, '{"op":"add"}', "application/json-patch+json"), code: 400, reason: "BadRequest" },
  { name: "json patch: failing test op", send: () => req("PATCH", `${CMS}/base`, JSON.stringify([{ op: "test", path: "/data/k", value: "nope" }, { op: "replace", path: "/data/k", value: "changed" }]), "application/json-patch+json"), code: 422, reason: "Invalid" },
  { name: "json patch: remove a missing path", send: () => req("PATCH", `${CMS}/base`, JSON.stringify([{ op: "remove", path: "/data/nope" }]), "application/json-patch+json"), code: 422, reason: "Invalid" },
  { name: "strategic patch: broken JSON", send: () => req("PATCH", `${CMS}/base`, "[1,", "application/strategic-merge-patch+json"), code: 400, reason: "BadRequest" },
  { name: "patch: unknown patch type", send: () => req("PATCH", `${CMS}/base`, "{}", "application/x-unknown-patch+json"), code: 415, reason: "UnsupportedMediaType" },
  { name: "patch of a missing object", send: () => req("PATCH", `${CMS}/missing`, '{"data":{"a":"b"}}', "application/merge-patch+json"), code: 404, reason: "NotFound" },
  { name: "patch that renames", send: () => req("PATCH", `${CMS}/base`, '{"metadata":{"name":"renamed"}}', "application/merge-patch+json"), code: 400, reason: "BadRequest" },
  { name: "delete with broken options", send: () => req("DELETE", `${CMS}/base`, "{nope"), code: 400, reason: "BadRequest" },
  { name: "delete with a stale precondition", send: () => req("DELETE", `${CMS}/base`, JSON.stringify({ kind: "DeleteOptions", apiVersion: "v1", preconditions: { resourceVersion: "1" } })), code: 409, reason: "Conflict" },
  { name: "method not allowed on a collection", send: () => req("PUT", CMS, base()), code: 405, reason: "MethodNotAllowed" },
  { name: "huge body with Content-Length (worker)", send: () => req("POST", CMS, big(MAX_BODY + 10)), code: 413, reason: "RequestEntityTooLarge" },
  {
    name: "huge chunked body (DO)",
    send: () => {
      const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(ctl) {
          if (sent === 0) ctl.enqueue(new TextEncoder().encode('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"huge"},"data":{"k":"'));
          if (sent > MAX_BODY + 200_000) {
            ctl.enqueue(new TextEncoder().encode('"}}'));
            ctl.close();
            return;
          }
          sent += chunk.length;
          ctl.enqueue(chunk);
        },
      });
      return edgeFetch(edge, CMS, { method: "POST", body: stream, headers: { "content-type": "application/json" }, duplex: "half" } as RequestInit);
    },
    code: 413,
    reason: "RequestEntityTooLarge",
  },
  { name: "admin create with a huge body", send: () => req("PUT", "/admin/clusters/bad/huge", big(MAX_BODY + 10)), code: 413, reason: "RequestEntityTooLarge" },
  { name: "bad cluster name", send: () => req("GET", "/clusters/bad/Target/api/v1/namespaces"), code: 400, reason: "BadRequest" },
  { name: "unknown cluster", send: () => req("GET", "/clusters/bad/nope/api/v1/namespaces"), code: 404, reason: "NotFound" },
  { name: "no token", send: () => req("POST", CMS, base({ metadata: { name: "no-token" } }), "application/json", null), code: 401, reason: "Unauthorized" },
  { name: "wrong token", send: () => req("DELETE", `${CMS}/base`, undefined, undefined, "wrong-token"), code: 401, reason: "Unauthorized" },
  { name: "empty bearer", send: () => edgeFetch(edge, CMS, { token: null, headers: { authorization: "Bearer " } }), code: 401, reason: "Unauthorized" },
];

describe("bad requests", () => {
  it.each(cases)("$name -> $code", async (c) => {
    const before = await snapshot();
    const res = await c.send();
    const text = await res.text();
    expect(res.status, text).toBe(c.code);
    expect(res.headers.get("content-type") ?? "").toContain("application/json");
    const body = JSON.parse(text);
    expect(body).toMatchObject({ kind: "Status", apiVersion: "v1", status: "Failure", code: c.code });
    expect(Array.isArray(c.reason) ? c.reason : [c.reason]).toContain(body.reason);
    expect(typeof body.message).toBe("string");
    expect(text).not.toMatch(/\bat .*\.(ts|js):\d+/); // no stack traces
    expect(await snapshot()).toEqual(before);
  });

  it("a watch from a resourceVersion older than the event log ends with a 410 Expired error event", async () => {
    await createCluster(edge, "bad", "churn");
    const path = "/clusters/bad/churn/api/v1/namespaces/default/configmaps";
    const first = await (await req("POST", path, JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" }, data: { n: "0" } }))).json();
    // Push the first write out of the (1000-entry) event log.
    for (let i = 1; i <= 1005; i++) {
      const r = await req("PATCH", `${path}/c`, JSON.stringify({ data: { n: String(i) } }), "application/merge-patch+json");
      expect(r.status).toBe(200);
    }
    const res = await req("GET", `${path}?watch=true&resourceVersion=${first.metadata.resourceVersion}`);
    expect(res.status).toBe(200);
    const text = await res.text(); // the stream ends after the error event
    const ev = JSON.parse(text.trim().split("\n")[0]);
    expect(ev).toMatchObject({ type: "ERROR", object: { kind: "Status", code: 410, reason: "Expired" } });
    // A list with that stale resourceVersion still works (NotOlderThan semantics).
    expect((await req("GET", `${path}?resourceVersion=${first.metadata.resourceVersion}`)).status).toBe(200);
  });
});
