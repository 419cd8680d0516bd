// A hostile-input battery against a real edge: at least 1,000 requests generated from a fixed seed
// (bodies, paths, query strings, headers and patches of every type), each one wrong in a way
// kube-apiserver refuses. Every answer must be a 4xx Kubernetes `Status` (or a clean close of the
// connection), never a 2xx, a 5xx or a hang; and afterwards the cluster's resourceVersion (which every
// stored write moves), its object count and a listing of every object are exactly as before.
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCluster, edgeFetch, spawnEdge, type SpawnedEdge } from "../helpers/edge.js";

const CLUSTER = "/clusters/default/hostile";
const NS = `${CLUSTER}/api/v1/namespaces/default`;
const SEED = 20261203;

let edge: SpawnedEdge;

beforeAll(async () => {
  edge = await spawnEdge({ maxBody: 64 * 1024 });
  await createCluster(edge, "default", "hostile");
  const post = async (path: string, body: unknown) => {
    const res = await edgeFetch(edge, `${CLUSTER}${path}`, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });
    expect(res.status, await res.clone().text()).toBe(201);
  };
  for (let i = 0; i < 5; i++) {
    await post("/api/v1/namespaces/default/configmaps", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: `cm-${i}`, labels: { app: "x" } }, data: { k: "v" } });
  }
  await post("/api/v1/namespaces/default/secrets", { apiVersion: "v1", kind: "Secret", metadata: { name: "s-0" }, data: { k: "dg==" } });
  await post("/api/v1/nodes", { apiVersion: "v1", kind: "Node", metadata: { name: "n-0" }, spec: { taints: [{ key: "a", effect: "NoSchedule" }] } });
  await post("/api/v1/namespaces/default/pods", {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p-0" },
    spec: { containers: [{ name: "c", image: "busybox" }] },
  });
}, 180_000);

afterAll(async () => {
  await edge?.stop();
});

/** mulberry32: a small seeded PRNG, so a failure names a request that can be replayed. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)],
  };
}

interface Attempt {
  what: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

const JSON_CT = { "content-type": "application/json" };
const cm = (name: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name }, data: { a: "b" }, ...extra });

/** Paths that must never route to a write or a read of something real. */
function hostilePaths(r: ReturnType<typeof prng>): Attempt[] {
  const bad = ["%2e", "%2E%2e", "..", "%2f", "a%2fb", "a%5cb", "%zz", "%", "a\\b", "%00", "", "x".repeat(300)];
  const out: Attempt[] = [];
  for (let i = 0; i < 240; i++) {
    const seg = r.pick(bad);
    const shape = r.int(6);
    const method = r.pick(["GET", "DELETE", "PUT", "PATCH", "POST"]);
    let path: string;
    switch (shape) {
      case 0:
        path = `${NS}/configmaps/${seg}`;
        break;
      case 1:
        path = `${NS}/configmaps/${seg}/cm-1`;
        break;
      case 2:
        path = `${CLUSTER}/api/v1/namespaces/${seg}/configmaps/cm-1`;
        break;
      case 3:
        path = `${CLUSTER}/${seg}/api/v1/namespaces/default/configmaps/cm-1`;
        break;
      case 4:
        path = `${CLUSTER}/apis/${seg}/v1/namespaces/default/deployments`;
        break;
      default:
        path = `${NS}/configmaps/cm-1/${seg}`;
    }
    // A PUT/PATCH/POST body that would be a valid write if the path were taken as a real object.
    out.push({ what: `path ${shape} ${JSON.stringify(seg).slice(0, 20)}`, method, path, headers: JSON_CT, body: method === "GET" || method === "DELETE" ? undefined : cm("cm-1") });
  }
  for (const p of ["/nope", "/api/v9", "/apis/apps/v0/deployments", "/api/v1/widgets", "/apis/no.such.group/v1/things", "/api/v1/namespaces/default/configmaps/cm-1/nosub"]) {
    for (const method of ["GET", "DELETE", "POST"]) out.push({ what: `unknown ${p}`, method, path: `${CLUSTER}${p}`, headers: JSON_CT, body: method === "POST" ? cm("zz") : undefined });
  }
  return out;
}

/** Query strings that kube-apiserver refuses with 400. */
function hostileQueries(r: ReturnType<typeof prng>): Attempt[] {
  const selectors = [
    "labelSelector=a%20in%20(",
    "labelSelector=!!",
    "labelSelector=a%3D%3Db%3D%3Dc",
    "labelSelector=%3Dx",
    "labelSelector=a%20notin%20",
    "labelSelector=" + encodeURIComponent("a in (b,,c"),
    "labelSelector=" + encodeURIComponent("-bad-key-=x"),
    "labelSelector=" + encodeURIComponent(`k=${"v".repeat(100)}`),
    "fieldSelector=spec.nope%3Dx",
    "fieldSelector=metadata.name",
    "fieldSelector=" + encodeURIComponent("metadata.name=a,=b"),
    "fieldSelector=" + encodeURIComponent("status.phase>=x"),
    "limit=-1",
    "limit=abc",
    "continue=" + encodeURIComponent("not-a-token"),
    "resourceVersion=abc&watch=true",
    "timeoutSeconds=abc&watch=true",
  ];
  const out: Attempt[] = [];
  for (let i = 0; i < 170; i++) {
    const q = r.pick(selectors);
    const target = r.pick([`${NS}/configmaps`, `${CLUSTER}/api/v1/configmaps`, `${NS}/pods`, `${CLUSTER}/api/v1/nodes`]);
    const deleting = r.int(4) === 0;
    out.push({ what: `query ${q}`, method: deleting ? "DELETE" : "GET", path: `${target}?${q}` });
  }
  return out;
}

/** Create bodies that are malformed, mistyped or invalid. */
function hostileBodies(r: ReturnType<typeof prng>): Attempt[] {
  const valid = cm("fresh-1");
  const bodies: Array<[string, string | Buffer, Record<string, string>?]> = [
    ["empty", ""],
    ["not json", "{"],
    ["null", "null"],
    ["array", "[]"],
    ["number", "7"],
    ["string", '"x"'],
    ["wrong kind", JSON.stringify({ apiVersion: "v1", kind: "Secret", metadata: { name: "fresh-2" } })],
    ["wrong apiVersion", JSON.stringify({ apiVersion: "v2", kind: "ConfigMap", metadata: { name: "fresh-3" } })],
    ["metadata string", JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: "x" })],
    ["no name", JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: {} })],
    ["upper name", cm("Fresh")],
    ["dot name", cm("..")],
    ["slash name", cm("a/b")],
    ["long name", cm("a".repeat(254))],
    ["data array", cm("fresh-4", { data: [1] })],
    ["data number", cm("fresh-5", { data: { a: 5 } })],
    ["binaryData not base64", cm("fresh-6", { binaryData: { a: "!!!" } })],
    ["labels number", JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "fresh-7", labels: { a: 1 } } })],
    ["bad label key", JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "fresh-8", labels: { "-a": "b" } } })],
    ["namespace mismatch", JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "fresh-9", namespace: "other" } })],
    ["exists", cm("cm-1")],
    ["too large", cm("fresh-10", { data: { a: "x".repeat(70 * 1024) } })],
    ["yaml garbage", "a: [b", { "content-type": "application/yaml" }],
    ["protobuf garbage", Buffer.from([0x6b, 0x38, 0x73, 0x00, 0xff, 0xff, 0xff]), { "content-type": "application/vnd.kubernetes.protobuf" }],
    ["unknown content type", valid, { "content-type": "text/x-nope" }],
    ["unknown accept", valid, { "content-type": "application/json", accept: "application/x-nope" }],
    ["truncated", valid.slice(0, valid.length - 3)],
    ["deep nesting", "[".repeat(5000) + "]".repeat(5000)],
  ];
  const out: Attempt[] = [];
  for (let i = 0; i < 220; i++) {
    const [what, body, headers] = r.pick(bodies);
    const target = r.pick([`${NS}/configmaps`, `${NS}/configmaps`, `${CLUSTER}/api/v1/namespaces/nosuchns/configmaps`]);
    out.push({ what: `body ${what}`, method: "POST", path: target, headers: headers ?? JSON_CT, body });
  }
  // Typed fields of other kinds, on create.
  const kinds: Array<[string, string, unknown]> = [
    ["node taints string", `${CLUSTER}/api/v1/nodes`, { apiVersion: "v1", kind: "Node", metadata: { name: "n-x" }, spec: { taints: "x" } }],
    ["pod containers number", `${NS}/pods`, { apiVersion: "v1", kind: "Pod", metadata: { name: "p-x" }, spec: { containers: 7 } }],
    ["secret data not base64", `${NS}/secrets`, { apiVersion: "v1", kind: "Secret", metadata: { name: "s-x" }, data: { k: "not base64!" } }],
  ];
  for (let i = 0; i < 30; i++) {
    const [what, path, body] = r.pick(kinds);
    out.push({ what, method: "POST", path, headers: JSON_CT, body: JSON.stringify(body) });
  }
  return out;
}

/** Updates and patches of every type against existing objects, each refused. */
function hostilePatches(r: ReturnType<typeof prng>): Attempt[] {
  const merge = { "content-type": "application/merge-patch+json" };
  const strategic = { "content-type": "application/strategic-merge-patch+json" };
  const jsonPatch = { "content-type": "application/json-patch+json" };
  const apply = { "content-type": "application/apply-patch+yaml" };
  const patches: Array<[string, Record<string, string>, string, string?]> = [
    ["merge malformed", merge, "{"],
    ["merge array", merge, "[1]"],
    ["merge data number", merge, JSON.stringify({ data: { a: 5 } })],
    ["merge data array", merge, JSON.stringify({ data: [1] })],
    ["merge metadata null", merge, JSON.stringify({ metadata: null })],
    ["merge rename", merge, JSON.stringify({ metadata: { name: "other" } })],
    ["merge stale rv", merge, JSON.stringify({ metadata: { resourceVersion: "1" }, data: { z: "z" } })],
    ["merge bad rv", merge, JSON.stringify({ metadata: { resourceVersion: "abc" }, data: { z: "z" } })],
    ["strategic malformed", strategic, "{"],
    ["strategic bad directive", strategic, JSON.stringify({ $patch: "explode" })],
    ["strategic data number", strategic, JSON.stringify({ data: { a: 5 } })],
    ["json patch not array", jsonPatch, JSON.stringify({ op: "add" })],
    ["json patch bad op", jsonPatch, JSON.stringify([{ op: "explode", path: "/data/a" }])],
    ["json patch no path", jsonPatch, JSON.stringify([{ op: "add", value: 1 }])],
    ["json patch failing test", jsonPatch, JSON.stringify([{ op: "test", path: "/data/k", value: "nope" }, { op: "replace", path: "/data/k", value: "w" }])],
    ["json patch missing target", jsonPatch, JSON.stringify([{ op: "replace", path: "/nope/deeper", value: 1 }])],
    ["json patch type", jsonPatch, JSON.stringify([{ op: "add", path: "/data/a", value: 5 }])],
    ["apply yaml garbage", apply, "a: [b", "fieldManager=test"],
    ["apply no field manager", apply, JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cm-1" }, data: { z: "z" } })],
    ["apply long field manager", apply, JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cm-1" }, data: { z: "z" } }), `fieldManager=${"m".repeat(129)}`],
    ["apply wrong name", apply, JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "other" } }), "fieldManager=test"],
    ["apply data number", apply, JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cm-1" }, data: { a: 5 } }), "fieldManager=test"],
    ["unknown patch type", { "content-type": "application/x-patch" }, "{}"],
  ];
  const out: Attempt[] = [];
  for (let i = 0; i < 240; i++) {
    const [what, headers, body, query] = r.pick(patches);
    const name = r.pick(["cm-1", "cm-2", "cm-3"]);
    out.push({ what: `patch ${what}`, method: "PATCH", path: `${NS}/configmaps/${name}${query ? `?${query}` : ""}`, headers, body });
  }
  for (let i = 0; i < 60; i++) {
    const kind = r.int(4);
    const body =
      kind === 0 ? cm("cm-2", { metadata: { name: "cm-2", resourceVersion: "1" } }) // stale
        : kind === 1 ? cm("other") // name mismatch
          : kind === 2 ? cm("cm-2", { data: { a: 1 } })
            : "{";
    out.push({ what: `put ${kind}`, method: "PUT", path: `${NS}/configmaps/cm-2`, headers: JSON_CT, body });
  }
  // A patch of a node's taints to a string, and of a pod's containers to a number.
  for (let i = 0; i < 20; i++) {
    out.push({ what: "node taints", method: "PATCH", path: `${CLUSTER}/api/v1/nodes/n-0`, headers: merge, body: JSON.stringify({ spec: { taints: "x" } }) });
    out.push({ what: "pod containers", method: "PATCH", path: `${NS}/pods/p-0`, headers: merge, body: JSON.stringify({ spec: { containers: 7 } }) });
  }
  return out;
}

/** Headers that make an otherwise fine request unacceptable. */
function hostileHeaders(r: ReturnType<typeof prng>): Attempt[] {
  const variants: Array<[string, Record<string, string>]> = [
    ["no token", { authorization: "" }],
    ["basic auth", { authorization: "Basic " + Buffer.from("a:b").toString("base64") }],
    ["bearer garbage", { authorization: "Bearer \u00ff\u00fe" }],
    ["bearer forged cluster", { authorization: `Bearer cet.${Buffer.from("default/default/hostile").toString("base64url")}.${Buffer.alloc(32, 1).toString("base64url")}` }],
    ["spoofed cluster header", { "x-capim-cluster": "default/default/other", authorization: "" }],
    ["accept garbage", { accept: "application/x-nope" }],
    ["content-length mismatch", { "content-type": "application/json", "x-test-body": "short" }],
  ];
  const out: Attempt[] = [];
  for (let i = 0; i < 80; i++) {
    const [what, headers] = r.pick(variants);
    const post = r.int(2) === 0;
    out.push({ what: `header ${what}`, method: post ? "POST" : "GET", path: `${NS}/configmaps${post ? "" : "/cm-1"}`, headers: { ...JSON_CT, ...headers }, body: post ? cm("fresh-h") : undefined });
  }
  return out;
}

interface Answer {
  status: number;
  text: string;
  closed: boolean;
}

function send(a: Attempt): Promise<Answer> {
  const u = new URL(edge.url);
  const headers: Record<string, string> = { authorization: `Bearer ${edge.token}`, ...a.headers };
  if (headers.authorization === "") delete headers.authorization;
  let body = a.body;
  if (headers["x-test-body"]) {
    // A declared length longer than what is sent, then the socket ends: the server must not hang.
    delete headers["x-test-body"];
    headers["content-length"] = "100";
    body = "{";
  } else if (body !== undefined) {
    headers["content-length"] = String(Buffer.byteLength(body));
  }
  return new Promise((resolve) => {
    const req = http.request({ host: u.hostname, port: u.port, method: a.method, path: a.path, headers, agent: false, timeout: 60_000 }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text, closed: false }));
      res.on("error", () => resolve({ status: res.statusCode ?? 0, text, closed: true }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (e) => resolve({ status: 0, text: e.message, closed: e.message !== "timeout" }));
    if (headers["content-length"] === "100") req.write(body as string);
    else req.end(body);
    if (headers["content-length"] === "100") setTimeout(() => req.destroy(), 200);
  });
}

/** The cluster's write counter and object count, and every object of the kinds touched. */
async function snapshot(): Promise<string> {
  const info = await (await edgeFetch(edge, "/admin/clusters/default/hostile")).json();
  const lists: unknown[] = [info.resourceVersion, info.objectCount];
  for (const p of ["/api/v1/namespaces", "/api/v1/configmaps", "/api/v1/secrets", "/api/v1/nodes", "/api/v1/pods"]) {
    const res = await edgeFetch(edge, `${CLUSTER}${p}`);
    expect(res.status).toBe(200);
    lists.push((await res.json()).items);
  }
  return JSON.stringify(lists);
}

describe("hostile input", () => {
  it("refuses 1,000+ generated hostile requests with 4xx Statuses and stores nothing", async () => {
    const r = prng(SEED);
    const attempts = [...hostilePaths(r), ...hostileQueries(r), ...hostileBodies(r), ...hostilePatches(r), ...hostileHeaders(r)];
    expect(attempts.length).toBeGreaterThanOrEqual(1000);
    const before = await snapshot();
    const failures: string[] = [];
    const codes = new Map<number, number>();
    let next = 0;
    const worker = async () => {
      while (next < attempts.length) {
        const i = next++;
        const a = attempts[i];
        const ans = await send(a);
        codes.set(ans.status, (codes.get(ans.status) ?? 0) + 1);
        const where = `#${i} ${a.what}: ${a.method} ${a.path.slice(0, 120)} -> ${ans.status} ${ans.text.slice(0, 200)}`;
        if (ans.closed && ans.status === 0) continue; // a clean close of the connection
        if (ans.status < 400 || ans.status >= 500) {
          failures.push(where);
          continue;
        }
        let body: { kind?: string; code?: number; status?: string } | undefined;
        try {
          body = JSON.parse(ans.text);
        } catch {
          /* reported below */
        }
        if (body?.kind !== "Status" || body.code !== ans.status || body.status !== "Failure") failures.push(`${where} (not a Status)`);
        if (/\bat .*\.(ts|js):\d+/.test(ans.text)) failures.push(`${where} (stack trace)`);
      }
    };
    await Promise.all(Array.from({ length: 4 }, worker));
    expect(failures, failures.slice(0, 30).join("\n")).toEqual([]);
    // Every family of refusal was exercised, not just one.
    for (const code of [400, 401, 404, 409, 413, 415, 422]) expect(codes.get(code) ?? 0, `answers with ${code}`).toBeGreaterThan(0);
    expect(await snapshot()).toBe(before);
  }, 600_000);
});
