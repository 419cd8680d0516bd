// The edge worker: authenticates, enforces the body limit, serves the admin API and routes
// `/clusters/:namespace/:name/*` to that cluster's Durable Object with the prefix stripped.
import { Hono } from "hono";
import { authenticate } from "./auth.js";
import { admin } from "./admin.js";
import type { HonoEnv } from "./context.js";
import { CLUSTER_HEADER, INTERNAL_HEADER_PREFIX, TOKEN_DIGEST_HEADER, clusterObjectName } from "../edge-contract/cluster-id.js";
import { limitsFor, maxBodyBytes } from "../edge-contract/limits.js";
import { statusResponse } from "../edge-contract/status.js";
import { decodeSegment, invalidClusterRef } from "./names.js";
import { rawPath, unsafePath } from "./paths.js";
import { isWatchRequest, uncompressedStream } from "./streaming.js";

export { WorkloadCluster, TenantDirectory } from "../durable-objects/index.js";

const app = new Hono<HonoEnv>();

// The request log, at debug level only: one line per request. The path is logged without its query (a
// token never travels there, but selectors can be long), and the time is what workerd's clock shows,
// which moves across I/O only: the wait for the Durable Object, not CPU time.
app.use("*", async (c, next) => {
  if (c.env.CAPIM_EDGE_LOG_LEVEL !== "debug") return next();
  const started = Date.now();
  await next();
  console.log(`${c.req.method} ${rawPath(c.req.url).slice(0, 512)} ${c.res.status} ${Date.now() - started}ms`);
});

// Liveness without a token (launchers and load balancers poll it).
app.get("/healthz", () => new Response("ok", { headers: { "content-type": "text/plain" } }));

// A response sent without reading a request body of known size makes workerd close the connection,
// and a keep-alive client that already reused it (or is still uploading, as with a 413) fails with
// "other side closed" instead of reading the Status. So unread bodies are read and discarded, up to
// 8x the edge-wide limit; beyond that, ending the connection is the cheaper answer.
app.use("*", async (c, next) => {
  await next();
  const raw = c.req.raw;
  const length = Number(raw.headers.get("content-length") ?? 0);
  if (!raw.body || raw.bodyUsed || !(length > 0) || length > 8 * maxBodyBytes(c.env)) return;
  try {
    const reader = raw.body.getReader();
    while (!(await reader.read()).done);
  } catch {
    // the client went away: nothing to keep alive
  }
});

app.use("*", async (c, next) => {
  const principal = await authenticate(c.req.raw, c.env);
  if (!principal) return statusResponse(401, "Unauthorized", "Unauthorized");
  c.set("principal", principal);
  // Paths are checked once, here, before any route matches (see worker/paths.ts).
  const unsafe = unsafePath(rawPath(c.req.url));
  if (unsafe) return statusResponse(400, "BadRequest", unsafe);
  // Reject a declared oversize body before forwarding it (the tenant's limit, at most the edge-wide
  // one); chunked bodies are limited by the DO to the edge-wide limit.
  const length = c.req.header("content-length");
  const max = limitsFor(c.env, principal.tenant).maxBodyBytes;
  if (length !== undefined && Number(length) > max) {
    return statusResponse(413, "RequestEntityTooLarge", `request body of ${length} bytes exceeds the limit of ${max} bytes`);
  }
  await next();
});

app.route("/admin", admin);

app.all("/clusters/*", async (c) => {
  const url = new URL(c.req.url);
  const parts = rawPath(c.req.url).split("/"); // "", "clusters", ns, name, ...rest (checked by unsafePath)
  if (parts.length < 4 || !parts[2] || !parts[3]) return notFound();
  const namespace = decodeSegment(parts[2]);
  const name = decodeSegment(parts[3]);
  if (namespace === undefined || name === undefined) return statusResponse(400, "BadRequest", "malformed percent-encoding in path");
  const bad = invalidClusterRef(namespace, name);
  if (bad) return statusResponse(400, "BadRequest", bad);
  const principal = c.var.principal;
  if (principal.cluster && (principal.cluster.namespace !== namespace || principal.cluster.name !== name)) {
    return statusResponse(403, "Forbidden", `this token cannot access cluster ${namespace}/${name}`);
  }
  const rest = "/" + parts.slice(4).join("/");
  // workerd resolves raw `.`/`..` segments before the worker runs (`configmaps/.` arrives as
  // `configmaps/`), so a trailing slash below the cluster's root is refused: it never names an object.
  if (rest !== "/" && rest.endsWith("/")) return statusResponse(400, "BadRequest", "the request path has a trailing '/' (or a '.' or '..' segment)");
  // The DO sees exactly the path the client sent below the cluster prefix; a clean path parses to itself.
  const target = new URL(url.origin + rest + url.search);
  if (target.pathname !== rest) return statusResponse(400, "BadRequest", "the request path is not in normal form");

  const raw = c.req.raw;
  const headers = new Headers(raw.headers);
  headers.delete("authorization");
  // Only the worker speaks in x-capim-* headers: the caller's cluster, and the digest of a presented
  // cluster token, which the DO checks against the digests it minted before serving anything.
  for (const h of [...headers.keys()]) if (h.startsWith(INTERNAL_HEADER_PREFIX)) headers.delete(h);
  const id = { tenant: principal.tenant, namespace, name };
  headers.set(CLUSTER_HEADER, clusterObjectName(id));
  if (principal.cluster) headers.set(TOKEN_DIGEST_HEADER, principal.cluster.tokenDigest);
  const hasBody = raw.method !== "GET" && raw.method !== "HEAD";
  const ns = c.env.WORKLOAD_CLUSTER;
  const stub = ns.get(ns.idFromName(clusterObjectName(id)));
  // Bodies stream both ways: the request body is passed through, and the DO's response (a watch
  // stream included) is returned unbuffered.
  const res = await stub.fetch(
    new Request(target, {
      method: raw.method,
      headers,
      // A body of known size is read here (bounded above), so it is consumed even when the DO answers
      // without reading it (see the drain above); chunked bodies stream and the DO limits them.
      body: hasBody ? (raw.headers.has("content-length") ? await raw.arrayBuffer() : raw.body) : undefined,
      redirect: "manual",
    }),
  );
  return uncompressedStream(res, isWatchRequest(target));
});

function notFound(): Response {
  return statusResponse(404, "NotFound", "the server could not find the requested resource");
}

app.notFound(() => notFound());

app.onError((err) => {
  // Log the stack for operators; the client gets a Status without it.
  console.error("worker error", err);
  return statusResponse(500, "InternalError", `internal error: ${err instanceof Error ? err.message : String(err)}`);
});

export default app;
