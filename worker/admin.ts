// The admin API: create, inspect, list and delete clusters of the caller's tenant.
//   PUT    /admin/clusters/:ns/:name   body {kubernetesVersion?, labels?}  -> 201 created / 200 existing
//   GET    /admin/clusters/:ns/:name   -> {namespace, name, tenant, createdAt, resourceVersion, objectCount, kubernetesVersion, labels}
//   DELETE /admin/clusters/:ns/:name   -> 200 Status Success / 404
//   GET    /admin/clusters             -> {items: [{namespace, name, tenant, createdAt, kubernetesVersion}]}
//   *      /admin/clusters/:ns/:name/{machines,etcd}... -> the cluster DO at /_admin/{machines,etcd}...
import { Hono, type Context } from "hono";
import type { HonoEnv } from "./context.js";
import { CLUSTER_HEADER } from "./env.js";
import { json, statusResponse } from "./status.js";
import { decodeSegment, invalidClusterRef } from "./names.js";
import type { CreateClusterRequest } from "../durable-objects/workload-cluster.js";

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
  const { kubernetesVersion, labels, ...rest } = body as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length) return `unknown field(s): ${unknown.join(", ")}`;
  if (kubernetesVersion !== undefined && (typeof kubernetesVersion !== "string" || !/^v\d+\.\d+\.\d+([-+][0-9A-Za-z.+-]+)?$/.test(kubernetesVersion))) {
    return `kubernetesVersion must look like "v1.32.0"`;
  }
  if (labels !== undefined) {
    if (labels === null || typeof labels !== "object" || Array.isArray(labels)) return "labels must be an object of strings";
    for (const v of Object.values(labels)) if (typeof v !== "string") return "labels must be an object of strings";
  }
  return { kubernetesVersion: kubernetesVersion as string | undefined, labels: labels as Record<string, string> | undefined };
}

admin.put("/clusters/:ns/:name", async (c) => {
  const ref = clusterRef(c);
  if (ref instanceof Response) return ref;
  const text = await c.req.text();
  let parsed: unknown = {};
  if (text.trim()) {
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      return statusResponse(400, `body is not valid JSON: ${(e as Error).message}`, "BadRequest");
    }
  }
  const body = validateCreate(parsed);
  if (typeof body === "string") return statusResponse(400, body, "BadRequest");
  const res = await clusterStub(c, ref).fetch(
    doRequest(c, ref, "/_admin/cluster", { method: "PUT", body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
  );
  if (res.status === 200 || res.status === 201) {
    const info = (await res.clone().json()) as { createdAt: string; kubernetesVersion: string };
    // Recorded after the DO committed; on failure the next (idempotent) PUT records it again.
    await directory(c).record({ namespace: ref.namespace, name: ref.name, createdAt: info.createdAt, kubernetesVersion: info.kubernetesVersion });
  }
  return res;
});

admin.get("/clusters/:ns/:name", async (c) => {
  const ref = clusterRef(c);
  if (ref instanceof Response) return ref;
  return clusterStub(c, ref).fetch(doRequest(c, ref, "/_admin/cluster", { method: "GET" }));
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
  return clusterStub(c, ref).fetch(doRequest(c, ref, rest, { method: raw.method, headers, body: hasBody ? raw.body : undefined }));
}
