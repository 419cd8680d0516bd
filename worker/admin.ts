// The admin API: create, inspect, list and delete clusters of the caller's tenant.
//   PUT    /admin/clusters/:ns/:name   body {kubernetesVersion?, labels?, ttlSeconds?}
//          -> 201 created, with a per-cluster `token` (shown only this once) / 200 existing (no token)
//   GET    /admin/clusters/:ns/:name   -> {namespace, name, tenant, createdAt, expiresAt?, resourceVersion, objectCount, kubernetesVersion, labels}
//   PATCH  /admin/clusters/:ns/:name   body {ttlSeconds: n|null} -> expires n seconds from now (null: never)
//   POST   /admin/clusters/:ns/:name/tokens -> 201 {token}: another per-cluster token
//   DELETE /admin/clusters/:ns/:name   -> 200 Status Success / 404 (revokes the cluster's tokens)
//   GET    /admin/clusters             -> {items: [{namespace, name, tenant, createdAt, expiresAt?, kubernetesVersion}]}
// Tenant limits (worker/limits.ts): 429 when maxClusters is reached, 422 for a TTL above maxTtlSeconds.
//   *      /admin/clusters/:ns/:name/{machines,etcd}... -> the cluster DO at /_admin/{machines,etcd}...
import { Hono, type Context } from "hono";
import type { HonoEnv } from "./context.js";
import { CLUSTER_HEADER } from "./env.js";
import { json, statusResponse } from "./status.js";
import { decodeSegment, invalidClusterRef } from "./names.js";
import type { CreateClusterRequest } from "../durable-objects/workload-cluster.js";
import { limitsFor } from "./limits.js";
import { invalidTtl } from "../durable-objects/ttl.js";

export const admin = new Hono<HonoEnv>();

// Per-cluster tokens (a later issue) reach their cluster's Kubernetes API only, never the admin API.
admin.use("*", async (c, next) => {
  if (c.var.principal.cluster) return statusResponse(403, "a cluster token cannot use the admin API", "Forbidden");
  await next();
});

admin.get("/clusters", async (c) => {
  const tenant = c.var.principal.tenant;
  const namespace = c.req.query("namespace");
  const dir = directory(c);
  const entries = await dir.list(namespace || undefined);
  // Clusters whose expiry passed while the edge was down are hidden by the directory; waking their
  // DO makes it delete itself (and its directory row) now rather than on its next request.
  const expired = await dir.expired(Date.now());
  if (expired.length) {
    const wake = Promise.all(
      expired.map((ref) => clusterStub(c, { ...ref, tenant }).fetch(doRequest(c, { ...ref, tenant }, "/_admin/cluster", { method: "GET" })).catch(() => {})),
    );
    c.executionCtx.waitUntil(wake);
  }
  return json({ items: entries.map((e) => ({ ...e, tenant })) });
});

type Ref = { namespace: string; name: string; tenant: string };

/** Parses and validates :ns/:name; returns a 400 Status response when they are bad. */
function clusterRef(c: Context<HonoEnv>): Ref | Response {
  const [, , , rawNs = "", rawName = ""] = new URL(c.req.url).pathname.split("/");
  const namespace = decodeSegment(rawNs);
  const name = decodeSegment(rawName);
  if (namespace === undefined || name === undefined) return statusResponse(400, "malformed percent-encoding in path", "BadRequest");
  const bad = invalidClusterRef(namespace, name);
  if (bad) return statusResponse(400, bad, "BadRequest");
  return { namespace, name, tenant: c.var.principal.tenant };
}

function clusterStub(c: Context<HonoEnv>, ref: Ref) {
  const ns = c.env.WORKLOAD_CLUSTER;
  return ns.get(ns.idFromName(`${ref.tenant}/${ref.namespace}/${ref.name}`));
}

function directory(c: Context<HonoEnv>) {
  const ns = c.env.TENANT_DIRECTORY;
  return ns.get(ns.idFromName(c.var.principal.tenant));
}

function doRequest(c: Context<HonoEnv>, ref: Ref, path: string, init: RequestInit = {}): Request {
  const url = new URL(c.req.url);
  const headers = new Headers(init.headers);
  headers.set(CLUSTER_HEADER, `${ref.tenant}/${ref.namespace}/${ref.name}`);
  return new Request(new URL(path + url.search, url.origin), { ...init, headers, redirect: "manual" });
}

function validateCreate(body: unknown): CreateClusterRequest | string {
  if (body === null || typeof body !== "object" || Array.isArray(body)) return "body must be a JSON object";
  const { kubernetesVersion, labels, ttlSeconds, ...rest } = body as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length) return `unknown field(s): ${unknown.join(", ")}`;
  if (kubernetesVersion !== undefined && (typeof kubernetesVersion !== "string" || !/^v\d+\.\d+\.\d+([-+][0-9A-Za-z.+-]+)?$/.test(kubernetesVersion))) {
    return `kubernetesVersion must look like "v1.32.0"`;
  }
  if (labels !== undefined) {
    if (labels === null || typeof labels !== "object" || Array.isArray(labels)) return "labels must be an object of strings";
    for (const v of Object.values(labels)) if (typeof v !== "string") return "labels must be an object of strings";
  }
  return {
    kubernetesVersion: kubernetesVersion as string | undefined,
    labels: labels as Record<string, string> | undefined,
    ttlSeconds: ttlSeconds as number | null | undefined,
  };
}

/** Reads an optional JSON object body; a string is the 400 message. */
async function readBody(c: Context<HonoEnv>): Promise<unknown> {
  const text = await c.req.text();
  if (!text.trim()) return {};
  try {
    return JSON.parse(text);
  } catch (e) {
    return `body is not valid JSON: ${(e as Error).message}`;
  }
}

function tooManyClusters(max: number): Response {
  return statusResponse(429, `this tenant already has the maximum of ${max} clusters (maxClusters); delete one first`, "TooManyRequests");
}

admin.put("/clusters/:ns/:name", async (c) => {
  const ref = clusterRef(c);
  if (ref instanceof Response) return ref;
  const parsed = await readBody(c);
  if (typeof parsed === "string") return statusResponse(400, parsed, "BadRequest");
  const body = validateCreate(parsed);
  if (typeof body === "string") return statusResponse(400, body, "BadRequest");
  const limits = limitsFor(c.env, ref.tenant);
  const badTtl = invalidTtl(body.ttlSeconds, limits.maxTtlSeconds);
  if (badTtl) return statusResponse(422, `cluster "${ref.name}" is invalid: ${badTtl}`, "Invalid");
  // Claim a slot under maxClusters first (atomic in the directory DO); an existing cluster needs none.
  const dir = directory(c);
  const reserved = await dir.reserve(ref.namespace, ref.name, limits.maxClusters, Date.now());
  if (reserved === "full") return tooManyClusters(limits.maxClusters);
  let res: Response;
  try {
    res = await clusterStub(c, ref).fetch(
      doRequest(c, ref, "/_admin/cluster", { method: "PUT", body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
    );
  } catch (e) {
    if (reserved === "reserved") await dir.release(ref.namespace, ref.name);
    throw e;
  }
  if (res.status === 200 || res.status === 201) {
    const info = (await res.clone().json()) as { createdAt: string; kubernetesVersion: string; expiresAt?: string };
    // Recorded after the DO committed; on failure the next (idempotent) PUT records it again.
    await dir.record({ namespace: ref.namespace, name: ref.name, createdAt: info.createdAt, kubernetesVersion: info.kubernetesVersion, expiresAt: info.expiresAt });
  } else if (reserved === "reserved") {
    await dir.release(ref.namespace, ref.name);
  }
  return res;
});

admin.get("/clusters/:ns/:name", async (c) => {
  const ref = clusterRef(c);
  if (ref instanceof Response) return ref;
  return clusterStub(c, ref).fetch(doRequest(c, ref, "/_admin/cluster", { method: "GET" }));
});

// Extend (or shorten, or remove) the TTL: the cluster expires ttlSeconds from now.
admin.patch("/clusters/:ns/:name", async (c) => {
  const ref = clusterRef(c);
  if (ref instanceof Response) return ref;
  const parsed = await readBody(c);
  if (typeof parsed === "string") return statusResponse(400, parsed, "BadRequest");
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return statusResponse(400, "body must be a JSON object", "BadRequest");
  const { ttlSeconds, ...rest } = parsed as Record<string, unknown>;
  if (Object.keys(rest).length) return statusResponse(400, `unknown field(s): ${Object.keys(rest).join(", ")}`, "BadRequest");
  if (!("ttlSeconds" in parsed)) return statusResponse(400, "ttlSeconds: required (a number of seconds, or null for no expiry)", "BadRequest");
  const badTtl = invalidTtl(ttlSeconds, limitsFor(c.env, ref.tenant).maxTtlSeconds);
  if (badTtl) return statusResponse(422, `cluster "${ref.name}" is invalid: ${badTtl}`, "Invalid");
  const res = await clusterStub(c, ref).fetch(
    doRequest(c, ref, "/_admin/cluster", { method: "PATCH", body: JSON.stringify({ ttlSeconds }), headers: { "content-type": "application/json" } }),
  );
  if (res.status === 200) {
    const info = (await res.clone().json()) as { expiresAt?: string };
    await directory(c).setExpiry(ref.namespace, ref.name, info.expiresAt);
  }
  return res;
});

// Another per-cluster token (e.g. `capim-edge cluster kubeconfig`); the token is in the answer only.
admin.post("/clusters/:ns/:name/tokens", async (c) => {
  const ref = clusterRef(c);
  if (ref instanceof Response) return ref;
  return clusterStub(c, ref).fetch(doRequest(c, ref, "/_admin/tokens", { method: "POST" }));
});

admin.delete("/clusters/:ns/:name", async (c) => {
  const ref = clusterRef(c);
  if (ref instanceof Response) return ref;
  const res = await clusterStub(c, ref).fetch(doRequest(c, ref, "/_admin/cluster", { method: "DELETE" }));
  // Also forget a directory entry whose DO is already gone (404), so listings heal.
  if (res.status === 200 || res.status === 404) await directory(c).remove(ref.namespace, ref.name);
  return res;
});

// Machines and etcd admin routes live inside the cluster DO (its adminExtension hook).
admin.all("/clusters/:ns/:name/:area{machines|etcd}/*", forwardExtension);
admin.all("/clusters/:ns/:name/:area{machines|etcd}", forwardExtension);

async function forwardExtension(c: Context<HonoEnv>): Promise<Response> {
  const ref = clusterRef(c);
  if (ref instanceof Response) return ref;
  const parts = new URL(c.req.url).pathname.split("/"); // "", admin, clusters, ns, name, area, ...
  const rest = "/_admin/" + parts.slice(5).join("/");
  const raw = c.req.raw;
  const headers = new Headers(raw.headers);
  headers.delete("authorization");
  const hasBody = raw.method !== "GET" && raw.method !== "HEAD";
  return clusterStub(c, ref).fetch(doRequest(c, ref, rest, { method: raw.method, headers, body: hasBody ? await raw.arrayBuffer() : undefined }));
}
