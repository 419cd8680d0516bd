// The admin API: create, inspect, list and delete clusters of the caller's tenant.
//   PUT    /admin/clusters/:ns/:name   body {kubernetesVersion?, labels?, ttlSeconds?}
//          -> 201 created, with a per-cluster `token` (shown only this once) / 200 existing (no token)
//   GET    /admin/clusters/:ns/:name   -> {namespace, name, tenant, createdAt, expiresAt?, resourceVersion, objectCount, kubernetesVersion, labels}
//   PATCH  /admin/clusters/:ns/:name   body {ttlSeconds: n|null} -> expires n seconds from now (null: never)
//   POST   /admin/clusters/:ns/:name/tokens -> 201 {token}: another per-cluster token
//   DELETE /admin/clusters/:ns/:name   -> 200 Status Success / 404 (revokes the cluster's tokens)
//   GET    /admin/clusters             -> {items: [{namespace, name, tenant, createdAt, expiresAt?, kubernetesVersion}]}
//   GET    /admin/clusters/:ns/:name/machines            -> {items, apiServers}
//   PUT|GET|DELETE /admin/clusters/:ns/:name/machines/:machine
//   GET    /admin/clusters/:ns/:name/etcd                -> etcd state; GET|PUT .../etcd/faults;
//   POST   /admin/clusters/:ns/:name/etcd/move-leader {targetId}, .../etcd/remove-member {id}
//   GET|PUT|DELETE /admin/clusters/:ns/:name/faults  -> injected API faults (latency, errors, watch drops)
//   GET    /admin/clusters/:ns/:name/metrics         -> kube-apiserver's request metrics (Prometheus text)
// Tenant limits (worker/limits.ts): 429 when maxClusters is reached, 422 for a TTL above maxTtlSeconds.
// Every route calls one typed RPC method of the cluster's DO (see durable-objects/workload-cluster.ts);
// the DO has no URL for any of this, so only a tenant token that passed this router reaches it.
import { Hono, type Context } from "hono";
import type { HonoEnv } from "./context.js";
import { decodeSegment, invalidClusterRef } from "./names.js";
import { clusterStub } from "./cluster-object.js";
import type { AdminReply, CreateClusterRequest } from "../edge-contract/admin-api.js";
import { clusterObjectName } from "../edge-contract/cluster-id.js";
import { invalidTtl, limitsFor } from "../edge-contract/limits.js";
import { jsonResponse, statusResponse } from "../edge-contract/status.js";

export const admin = new Hono<HonoEnv>();

// Per-cluster tokens (a later issue) reach their cluster's Kubernetes API only, never the admin API.
admin.use("*", async (c, next) => {
  if (c.var.principal.cluster) return statusResponse(403, "Forbidden", "a cluster token cannot use the admin API");
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
      expired.map((ref) => clusterOf(c, { ...ref, tenant }).describeCluster({ ...ref, tenant }).catch(() => {})),
    );
    c.executionCtx.waitUntil(wake);
  }
  return jsonResponse(200, { items: entries.map((e) => ({ ...e, tenant })) });
});

type Ref = { namespace: string; name: string; tenant: string };

/** Parses and validates :ns/:name; returns a 400 Status response when they are bad. */
function clusterRef(c: Context<HonoEnv>): Ref | Response {
  const [, , , rawNs = "", rawName = ""] = new URL(c.req.url).pathname.split("/");
  const namespace = decodeSegment(rawNs);
  const name = decodeSegment(rawName);
  if (namespace === undefined || name === undefined) return statusResponse(400, "BadRequest", "malformed percent-encoding in path");
  const bad = invalidClusterRef(namespace, name);
  if (bad) return statusResponse(400, "BadRequest", bad);
  return { namespace, name, tenant: c.var.principal.tenant };
}

function clusterOf(c: Context<HonoEnv>, ref: Ref) {
  return clusterStub(c.env.WORKLOAD_CLUSTER, clusterObjectName(ref));
}

function directory(c: Context<HonoEnv>) {
  const ns = c.env.TENANT_DIRECTORY;
  return ns.get(ns.idFromName(c.var.principal.tenant));
}

/** The worker's answer to an admin RPC's reply. */
function send(reply: AdminReply): Response {
  return jsonResponse(reply.status, reply.body);
}

/** The `:machine` path parameter, validated as the DO would name a Node (400 Status otherwise). */
function machineName(c: Context<HonoEnv>): string | Response {
  const name = c.req.param("machine") ?? "";
  if (!name || name.length > 253) return statusResponse(400, "BadRequest", "the machine name in the path must be 1-253 characters");
  return name;
}

/** A required JSON object body for the machine and etcd calls; a Response is the 400. */
async function objectBody(c: Context<HonoEnv>): Promise<Record<string, unknown> | Response> {
  const parsed = await readBody(c);
  if (typeof parsed === "string") return statusResponse(400, "BadRequest", parsed);
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return statusResponse(400, "BadRequest", "the request body must be a JSON object");
  return parsed as Record<string, unknown>;
}

type Stub = ReturnType<typeof clusterStub>;

/**
 * One admin call of the cluster DO: the cluster ref (and, with `needs`, the machine name and a JSON
 * object body) are checked first, each failure answered with its 400 Status.
 */
function call(needs: { machine?: boolean; body?: boolean }, fn: (stub: Stub, ref: Ref, machine: string, body: Record<string, unknown>) => Promise<AdminReply>) {
  return async (c: Context<HonoEnv>): Promise<Response> => {
    const ref = clusterRef(c);
    if (ref instanceof Response) return ref;
    const machine = needs.machine ? machineName(c) : "";
    if (machine instanceof Response) return machine;
    const body = needs.body ? await objectBody(c) : {};
    if (body instanceof Response) return body;
    return send(await fn(clusterOf(c, ref), ref, machine, body));
  };
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

/** Admin bodies are tiny; a larger one is refused before it is read. */
const MAX_ADMIN_BODY = 64 * 1024;

/** Reads an optional JSON body; a string is the 400 message. */
async function readBody(c: Context<HonoEnv>): Promise<unknown> {
  if (Number(c.req.header("content-length") ?? 0) > MAX_ADMIN_BODY) return `the request body is larger than ${MAX_ADMIN_BODY} bytes`;
  const text = await c.req.text();
  if (text.length > MAX_ADMIN_BODY) return `the request body is larger than ${MAX_ADMIN_BODY} bytes`;
  if (!text.trim()) return {};
  try {
    return JSON.parse(text);
  } catch (e) {
    return `body is not valid JSON: ${(e as Error).message}`;
  }
}

function tooManyClusters(max: number): Response {
  return statusResponse(429, "TooManyRequests", `this tenant already has the maximum of ${max} clusters (maxClusters); delete one first`);
}

admin.put("/clusters/:ns/:name", async (c) => {
  const ref = clusterRef(c);
  if (ref instanceof Response) return ref;
  const parsed = await readBody(c);
  if (typeof parsed === "string") return statusResponse(400, "BadRequest", parsed);
  const body = validateCreate(parsed);
  if (typeof body === "string") return statusResponse(400, "BadRequest", body);
  const limits = limitsFor(c.env, ref.tenant);
  const badTtl = invalidTtl(body.ttlSeconds, limits.maxTtlSeconds);
  if (badTtl) return statusResponse(422, "Invalid", `cluster "${ref.name}" is invalid: ${badTtl}`);
  // Claim a slot under maxClusters first (atomic in the directory DO); an existing cluster needs none.
  const dir = directory(c);
  const reserved = await dir.reserve(ref.namespace, ref.name, limits.maxClusters, Date.now());
  if (reserved === "full") return tooManyClusters(limits.maxClusters);
  let reply: AdminReply;
  try {
    reply = await clusterOf(c, ref).createCluster(ref, body);
  } catch (e) {
    if (reserved === "reserved") await dir.release(ref.namespace, ref.name);
    throw e;
  }
  if (reply.status === 200 || reply.status === 201) {
    const info = reply.body as { createdAt: string; kubernetesVersion: string; expiresAt?: string };
    // Recorded after the DO committed; on failure the next (idempotent) PUT records it again.
    await dir.record({ namespace: ref.namespace, name: ref.name, createdAt: info.createdAt, kubernetesVersion: info.kubernetesVersion, expiresAt: info.expiresAt });
  } else if (reserved === "reserved") {
    await dir.release(ref.namespace, ref.name);
  }
  return send(reply);
});

admin.get("/clusters/:ns/:name", call({}, (stub, ref) => stub.describeCluster(ref)));

// Extend (or shorten, or remove) the TTL: the cluster expires ttlSeconds from now.
admin.patch("/clusters/:ns/:name", async (c) => {
  const ref = clusterRef(c);
  if (ref instanceof Response) return ref;
  const parsed = await readBody(c);
  if (typeof parsed === "string") return statusResponse(400, "BadRequest", parsed);
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return statusResponse(400, "BadRequest", "body must be a JSON object");
  const { ttlSeconds, ...rest } = parsed as Record<string, unknown>;
  if (Object.keys(rest).length) return statusResponse(400, "BadRequest", `unknown field(s): ${Object.keys(rest).join(", ")}`);
  if (!("ttlSeconds" in parsed)) return statusResponse(400, "BadRequest", "ttlSeconds: required (a number of seconds, or null for no expiry)");
  const badTtl = invalidTtl(ttlSeconds, limitsFor(c.env, ref.tenant).maxTtlSeconds);
  if (badTtl) return statusResponse(422, "Invalid", `cluster "${ref.name}" is invalid: ${badTtl}`);
  const reply = await clusterOf(c, ref).setClusterTtl(ref, (ttlSeconds as number | null | undefined) ?? null);
  if (reply.status === 200) {
    const info = reply.body as { expiresAt?: string };
    await directory(c).setExpiry(ref.namespace, ref.name, info.expiresAt);
  }
  return send(reply);
});

// Another per-cluster token (e.g. `capim-edge cluster kubeconfig`); the token is in the answer only.
admin.post("/clusters/:ns/:name/tokens", call({}, (stub, ref) => stub.mintClusterToken(ref)));

admin.delete("/clusters/:ns/:name", async (c) => {
  const ref = clusterRef(c);
  if (ref instanceof Response) return ref;
  const reply = await clusterOf(c, ref).deleteCluster(ref);
  // Also forget a directory entry whose DO is already gone (404), so listings heal.
  if (reply.status === 200 || reply.status === 404) await directory(c).remove(ref.namespace, ref.name);
  return send(reply);
});

// Machines and the fake etcd: each route is one typed call of the cluster DO.
admin.get("/clusters/:ns/:name/machines", call({}, (stub, ref) => stub.listMachines(ref)));
admin.get("/clusters/:ns/:name/machines/:machine", call({ machine: true }, (stub, ref, m) => stub.getMachine(ref, m)));
admin.put("/clusters/:ns/:name/machines/:machine", call({ machine: true, body: true }, (stub, ref, m, body) => stub.putMachine(ref, m, body)));
admin.delete("/clusters/:ns/:name/machines/:machine", call({ machine: true }, (stub, ref, m) => stub.deleteMachine(ref, m)));
admin.get("/clusters/:ns/:name/etcd", call({}, (stub, ref) => stub.etcdState(ref)));
admin.get("/clusters/:ns/:name/etcd/faults", call({}, (stub, ref) => stub.etcdFaults(ref)));
admin.put("/clusters/:ns/:name/etcd/faults", call({ body: true }, (stub, ref, _m, body) => stub.setEtcdFaults(ref, body)));
admin.post("/clusters/:ns/:name/etcd/move-leader", call({ body: true }, (stub, ref, _m, body) => stub.moveEtcdLeader(ref, body)));
admin.post("/clusters/:ns/:name/etcd/remove-member", call({ body: true }, (stub, ref, _m, body) => stub.removeEtcdMember(ref, body)));

// kube-apiserver's request metrics of one cluster, in Prometheus text.
admin.get("/clusters/:ns/:name/metrics", async (c) => {
  const ref = clusterRef(c);
  if (ref instanceof Response) return ref;
  const reply = await clusterOf(c, ref).requestMetrics(ref);
  if (reply.status !== 200) return send(reply);
  return new Response(reply.body as string, { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" } });
});

// Faults injected into the cluster's Kubernetes API (durable-objects/apiserver/api-faults.ts).
admin.get("/clusters/:ns/:name/faults", call({}, (stub, ref) => stub.apiFaults(ref)));
admin.put("/clusters/:ns/:name/faults", call({ body: true }, (stub, ref, _m, body) => stub.setApiFaults(ref, body)));
admin.delete("/clusters/:ns/:name/faults", call({}, (stub, ref) => stub.clearApiFaults(ref)));

// A known admin path with a method it does not serve: 405; any other path below machines/etcd: 404.
const KNOWN_SUBPATHS = /^\/admin\/clusters\/[^/]+\/[^/]+\/(faults|metrics|machines(\/[^/]+)?|etcd(\/(faults|move-leader|remove-member))?)$/;
admin.all("/clusters/:ns/:name/:area{machines|etcd|faults|metrics}/*", (c) => unserved(c));
admin.all("/clusters/:ns/:name/:area{machines|etcd|faults|metrics}", (c) => unserved(c));

function unserved(c: Context<HonoEnv>): Response {
  if (KNOWN_SUBPATHS.test(new URL(c.req.url).pathname)) {
    return statusResponse(405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
  }
  return statusResponse(404, "NotFound", "the server could not find the requested resource");
}
