// The attacks a hostile tenant tried on a shared edge, replayed over raw HTTP (node:http sends the path
// exactly as written; fetch would normalize it): admin code reached through `//`, `///` and `\` paths
// with a forged cluster token, dot segments that climb out of a collection, encoded slashes, a limit
// bypass and cross-tenant reads. Each must be refused, and a snapshot of everything stored in both
// tenants' clusters must be unchanged afterwards.
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCluster, edgeFetch, spawnEdge, type SpawnedEdge } from "../helpers/edge.js";

const TOKEN_A = "token-attacker-a-0123456789";
const TOKEN_B = "token-victim-b-9876543210";
const LIMITS = { "tenant-a": { maxClusters: 1, maxTtlSeconds: 3600 } };

let edge: SpawnedEdge;
let victimToken: string;
const previousLimits = process.env.CAPIM_EDGE_LIMITS;

beforeAll(async () => {
  process.env.CAPIM_EDGE_LIMITS = JSON.stringify(LIMITS);
  try {
    edge = await spawnEdge({ tokens: { [TOKEN_A]: "tenant-a", [TOKEN_B]: "tenant-b" } });
  } finally {
    if (previousLimits === undefined) delete process.env.CAPIM_EDGE_LIMITS;
    else process.env.CAPIM_EDGE_LIMITS = previousLimits;
  }
  // Tenant B's cluster b1 with a Secret and 14 ConfigMaps; tenant A's own (one allowed) cluster a1.
  victimToken = String((await createCluster(edge, "default", "b1", {}, TOKEN_B)).info.token);
  const a1 = await edgeFetch(edge, "/admin/clusters/default/a1", { method: "PUT", token: TOKEN_A, body: JSON.stringify({ ttlSeconds: 3000 }) });
  expect(a1.status, await a1.clone().text()).toBe(201);
  const post = (path: string, body: unknown) =>
    edgeFetch(edge, `/clusters/default/b1${path}`, { method: "POST", token: TOKEN_B, body: JSON.stringify(body), headers: { "content-type": "application/json" } });
  expect((await post("/api/v1/namespaces/default/secrets", { apiVersion: "v1", kind: "Secret", metadata: { name: "crown-jewels" }, stringData: { k: "v" } })).status).toBe(201);
  for (let i = 0; i < 14; i++) {
    expect((await post("/api/v1/namespaces/default/configmaps", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: `cm-${i}` }, data: { i: String(i) } })).status).toBe(201);
  }
}, 180_000);

afterAll(async () => {
  await edge?.stop();
});

/** One request with the path sent byte for byte as given. */
function raw(method: string, path: string, token: string | null, body?: string): Promise<{ status: number; text: string }> {
  const u = new URL(edge.url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        method,
        path,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body !== undefined ? { "content-type": "application/json", "content-length": Buffer.byteLength(body) } : {}),
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** A cluster token of the right shape for tenant-b/default/b1 with a made-up secret. */
function forgedToken(id = "tenant-b/default/b1"): string {
  const b64 = (b: Buffer) => b.toString("base64url");
  return `cet.${b64(Buffer.from(id))}.${b64(Buffer.alloc(32, 7))}`;
}

/** Everything observable about the edge's clusters: both tenants' listings and b1's objects. */
async function snapshot(): Promise<string> {
  const parts: unknown[] = [];
  for (const token of [TOKEN_A, TOKEN_B]) {
    const list = await edgeFetch(edge, "/admin/clusters", { token });
    parts.push(await list.json());
  }
  const info = await (await edgeFetch(edge, "/admin/clusters/default/b1", { token: TOKEN_B })).json();
  parts.push({ ...info });
  for (const p of ["/api/v1/namespaces", "/api/v1/namespaces/default/configmaps", "/api/v1/namespaces/default/secrets"]) {
    const res = await edgeFetch(edge, `/clusters/default/b1${p}`, { token: TOKEN_B });
    expect(res.status).toBe(200);
    parts.push(((await res.json()) as { items: unknown[] }).items);
  }
  parts.push(await (await edgeFetch(edge, "/admin/clusters/default/b1/etcd", { token: TOKEN_B })).json());
  parts.push(await (await edgeFetch(edge, "/admin/clusters/default/b1/machines", { token: TOKEN_B })).json());
  return JSON.stringify(parts);
}

function expectRefused(res: { status: number; text: string }, what: string) {
  expect(res.status, `${what}: ${res.text}`).toBeGreaterThanOrEqual(400);
  expect(res.status, `${what}: ${res.text}`).toBeLessThan(500);
  const body = JSON.parse(res.text);
  expect(body, what).toMatchObject({ kind: "Status", status: "Failure", code: res.status });
  expect(res.text).not.toMatch(/"token"\s*:/);
}

describe("admin code is unreachable by URL", () => {
  const adminTails = [
    ["POST", "_admin/tokens", undefined],
    ["DELETE", "_admin/cluster", undefined],
    ["PATCH", "_admin/cluster", JSON.stringify({ ttlSeconds: 999999999 })],
    ["PUT", "_admin/etcd/faults", JSON.stringify({ noLeader: true })],
    ["PUT", "_admin/machines/evil", JSON.stringify({ controlPlane: true })],
    ["GET", "_admin/cluster", undefined],
  ] as const;
  const prefixes = ["//x/", "///x/", "/\\x/", "/\\\\x/", "/%2f%2fx/", "/./", "/x/../", "/%2e/", "/x/%2e%2e/", "/"];

  it("no prefix and no token (forged, tenant, cluster) reaches /_admin inside the cluster DO", async () => {
    const before = await snapshot();
    let tried = 0;
    for (const token of [forgedToken(), victimToken, TOKEN_A, TOKEN_B]) {
      for (const prefix of prefixes) {
        for (const [method, tail, body] of adminTails) {
          const path = `/clusters/default/b1${prefix}${tail}`;
          const res = await raw(method, path, token, body);
          expectRefused(res, `${method} ${path}`);
          tried++;
        }
      }
    }
    expect(tried).toBe(4 * prefixes.length * adminTails.length);
    expect(await snapshot()).toBe(before);
  });

  it("a forged cluster token reads nothing, on any path", async () => {
    for (const path of ["/api/v1/namespaces/default/secrets", "//x/api/v1/namespaces/default/secrets", "/api", "/version", "/"]) {
      const res = await raw("GET", `/clusters/default/b1${path}`, forgedToken());
      expectRefused(res, path);
      expect(res.text).not.toContain("crown-jewels");
    }
  });

  it("tenant A cannot create a cluster past maxClusters or reach tenant B through the DO's admin paths", async () => {
    const before = await snapshot();
    for (const prefix of prefixes) {
      const res = await raw("PUT", `/clusters/default/a-extra${prefix}_admin/cluster`, TOKEN_A, JSON.stringify({}));
      expectRefused(res, `PUT ${prefix}_admin/cluster`);
    }
    const listed = await (await edgeFetch(edge, "/admin/clusters", { token: TOKEN_A })).json();
    expect(listed.items.map((c: { name: string }) => c.name)).toEqual(["a1"]);
    // The extra cluster was not created unlisted either: its API answers 404.
    const extra = await raw("GET", "/clusters/default/a-extra/api/v1/namespaces", TOKEN_A);
    expect(extra.status).toBe(404);
    // Tenant A's token names tenant A's DO: B's cluster of the same name is not reachable.
    const cross = await raw("GET", "/clusters/default/b1/api/v1/namespaces/default/secrets", TOKEN_A);
    expect(cross.status).toBe(404);
    expect(cross.text).not.toContain("crown-jewels");
    // A cluster token of tenant B's cluster b1 with a path naming another cluster: 403.
    const other = await raw("GET", "/clusters/default/a1/api/v1/namespaces", victimToken);
    expect(other.status).toBe(403);
    expect(await snapshot()).toBe(before);
  });
});

describe("paths are normalized once at the edge", () => {
  it("dot segments, empty segments, backslashes and encoded slashes are refused with nothing changed", async () => {
    const before = await snapshot();
    const base = "/clusters/default/b1/api/v1/namespaces/default/configmaps";
    const attacks: Array<[string, string]> = [
      ["DELETE", `${base}/%2e`],
      ["DELETE", `${base}/%2E`],
      ["DELETE", `${base}/.`],
      ["DELETE", `${base}/%2e%2e`],
      ["DELETE", `${base}/..`],
      ["DELETE", `${base}/.%2e`],
      ["DELETE", `${base}/cm-1/..`],
      ["DELETE", `${base}/cm-1%2f..`],
      ["DELETE", `${base}/cm-1%2F%2e%2e`],
      ["DELETE", `${base}/cm-1%5c..`],
      ["DELETE", `${base}//cm-1`],
      ["DELETE", `${base}/cm-1\\..`],
      ["DELETE", `/clusters/default/b1/api/v1/namespaces/%2e%2e/namespaces/default`],
      ["DELETE", `/clusters/default/b1/api/v1/namespaces/default/configmaps/%2e%2e/%2e%2e/%2e%2e/namespaces/default`],
      ["DELETE", `/clusters/default/%2e%2e/default/b1/api/v1/namespaces/default/configmaps/cm-2`],
      ["GET", `/clusters/default/b1/%2e%2e/b1/api/v1/namespaces/default/secrets`],
      ["GET", `/clusters/%2e/default/b1/api/v1/namespaces`],
    ];
    for (const [method, path] of attacks) {
      const res = await raw(method, path, TOKEN_B);
      expectRefused(res, `${method} ${path}`);
      expect(res.status, `${method} ${path}`).toBe(400);
    }
    expect(await snapshot()).toBe(before);
  });

  it("ordinary paths still work: a trailing slash and a query with dots", async () => {
    const res = await raw("GET", "/clusters/default/b1/api/v1/namespaces/default/configmaps?labelSelector=a.b%2Fc%20notin%20(x)", TOKEN_B);
    expect(res.status, res.text).toBe(200);
    const version = await raw("GET", "/clusters/default/b1/version", TOKEN_B);
    expect(version.status).toBe(200);
  });
});
