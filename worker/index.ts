// The edge worker: authenticates, enforces the body limit, serves the admin API and routes
// `/clusters/:namespace/:name/*` to that cluster's Durable Object with the prefix stripped.
//
// Cluster API requests (nearly all traffic) take a path of their own that skips Hono: its router and
// per-request Context were ~6% of the edge's CPU per request, more than the checks themselves. Both
// paths pass the same gate (`admitted`) and the same body drain (`drained`), in the same order.
import { Hono } from "hono";
import { authenticate, type Principal } from "./auth.js";
import { admin } from "./admin.js";
import { clusterStub } from "./cluster-object.js";
import type { HonoEnv } from "./context.js";
import { CLUSTER_HEADER, INTERNAL_HEADER_PREFIX, TOKEN_DIGEST_HEADER, clusterObjectName } from "../edge-contract/cluster-id.js";
import { limitsFor, maxBodyBytes } from "../edge-contract/limits.js";
import { statusResponse } from "../edge-contract/status.js";
import { decodeSegment, invalidClusterRef } from "./names.js";
import { rawPath, unsafePath } from "./paths.js";
import { isWatchRequest, uncompressedStream } from "./streaming.js";

export { WorkloadCluster, TenantDirectory } from "../durable-objects/index.js";

/**
 * Who is calling, or the answer that stops the request: 401 without a known token, 400 for a path that
 * is not in normal form (checked once, here, before any route matches: see worker/paths.ts), 413 for a
 * declared body above the tenant's limit (at most the edge-wide one; chunked bodies are limited by the DO).
 */
async function admitted(req: Request, env: Env, path: string): Promise<Principal | Response> {
  const principal = await authenticate(req, env);
  if (!principal) return statusResponse(401, "Unauthorized", "Unauthorized");
  const unsafe = unsafePath(path);
  if (unsafe) return statusResponse(400, "BadRequest", unsafe);
  const length = req.headers.get("content-length");
  const max = limitsFor(env, principal.tenant).maxBodyBytes;
  if (length !== null && Number(length) > max) {
    return statusResponse(413, "RequestEntityTooLarge", `request body of ${length} bytes exceeds the limit of ${max} bytes`);
  }
  return principal;
}

/**
 * A response sent without reading a request body of known size makes workerd close the connection,
 * and a keep-alive client that already reused it (or is still uploading, as with a 413) fails with
 * "other side closed" instead of reading the Status. So unread bodies are read and discarded, up to
 * 8x the edge-wide limit; beyond that, ending the connection is the cheaper answer.
 */
async function drained(req: Request, env: Env, res: Response): Promise<Response> {
  const length = Number(req.headers.get("content-length") ?? 0);
  if (!req.body || req.bodyUsed || !(length > 0) || length > 8 * maxBodyBytes(env)) return res;
  try {
    const reader = req.body.getReader();
    while (!(await reader.read()).done);
  } catch {
    // the client went away: nothing to keep alive
  }
  return res;
}

/**
 * The request log, at debug level only: one line per request. The path is logged without its query (a
 * token never travels there, but selectors can be long), and the time is what workerd's clock shows,
 * which moves across I/O only: the wait for the Durable Object, not CPU time.
 */
async function logged(req: Request, env: Env, path: string, handle: () => Promise<Response>): Promise<Response> {
  if (env.CAPIM_EDGE_LOG_LEVEL !== "debug") return handle();
  const started = Date.now();
  const res = await handle();
  console.log(`${req.method} ${path.slice(0, 512)} ${res.status} ${Date.now() - started}ms`);
  return res;
}

/** `/clusters/<ns>/<name>/<rest>` to that cluster's DO, as `/<rest>`. */
async function routeToCluster(req: Request, env: Env, principal: Principal, path: string): Promise<Response> {
  const parts = path.split("/"); // "", "clusters", ns, name, ...rest (checked by unsafePath)
  if (parts.length < 4 || !parts[2] || !parts[3]) return notFound();
  const namespace = decodeSegment(parts[2]);
  const name = decodeSegment(parts[3]);
  if (namespace === undefined || name === undefined) return statusResponse(400, "BadRequest", "malformed percent-encoding in path");
  const bad = invalidClusterRef(namespace, name);
  if (bad) return statusResponse(400, "BadRequest", bad);
  if (principal.cluster && (principal.cluster.namespace !== namespace || principal.cluster.name !== name)) {
    return statusResponse(403, "Forbidden", `this token cannot access cluster ${namespace}/${name}`);
  }
  const rest = "/" + parts.slice(4).join("/");
  // workerd resolves raw `.`/`..` segments before the worker runs (`configmaps/.` arrives as
  // `configmaps/`), so a trailing slash below the cluster's root is refused: it never names an object.
  if (rest !== "/" && rest.endsWith("/")) return statusResponse(400, "BadRequest", "the request path has a trailing '/' (or a '.' or '..' segment)");
  // The DO sees exactly the path the client sent below the cluster prefix; a clean path parses to itself.
  const url = new URL(req.url);
  const target = new URL(url.origin + rest + url.search);
  if (target.pathname !== rest) return statusResponse(400, "BadRequest", "the request path is not in normal form");

  const headers = new Headers(req.headers);
  headers.delete("authorization");
  // Only the worker speaks in x-capim-* headers: the caller's cluster, and the digest of a presented
  // cluster token, which the DO checks against the digests it minted before serving anything.
  for (const h of [...headers.keys()]) if (h.startsWith(INTERNAL_HEADER_PREFIX)) headers.delete(h);
  const objectName = clusterObjectName({ tenant: principal.tenant, namespace, name });
  headers.set(CLUSTER_HEADER, objectName);
  if (principal.cluster) headers.set(TOKEN_DIGEST_HEADER, principal.cluster.tokenDigest);
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  const stub = clusterStub(env.WORKLOAD_CLUSTER, objectName);
  // Bodies stream both ways: the request body is passed through, and the DO's response (a watch
  // stream included) is returned unbuffered.
  const res = await stub.fetch(
    new Request(target, {
      method: req.method,
      headers,
      // A body of known size is read here (bounded above), so it is consumed even when the DO answers
      // without reading it (see `drained`); chunked bodies stream and the DO limits them.
      body: hasBody ? (req.headers.has("content-length") ? await req.arrayBuffer() : req.body) : undefined,
      redirect: "manual",
    }),
  );
  return uncompressedStream(res, isWatchRequest(target));
}

/** The cluster API path: the gate, the route, the drain, without Hono. */
async function clusterRequest(req: Request, env: Env, path: string): Promise<Response> {
  return logged(req, env, path, async () => {
    try {
      const principal = await admitted(req, env, path);
      const res = principal instanceof Response ? principal : await routeToCluster(req, env, principal, path);
      return await drained(req, env, res);
    } catch (err) {
      return internalError(err);
    }
  });
}

const app = new Hono<HonoEnv>();

app.use("*", (c, next) => logged(c.req.raw, c.env, rawPath(c.req.url), async () => {
  await next();
  return c.res;
}));

// Liveness without a token (launchers and load balancers poll it).
app.get("/healthz", () => new Response("ok", { headers: { "content-type": "text/plain" } }));

app.use("*", async (c, next) => {
  await next();
  await drained(c.req.raw, c.env, c.res);
});

app.use("*", async (c, next) => {
  const principal = await admitted(c.req.raw, c.env, rawPath(c.req.url));
  if (principal instanceof Response) return principal;
  c.set("principal", principal);
  await next();
});

app.route("/admin", admin);

function notFound(): Response {
  return statusResponse(404, "NotFound", "the server could not find the requested resource");
}

function internalError(err: unknown): Response {
  // Log the stack for operators; the client gets a Status without it.
  console.error("worker error", err);
  return statusResponse(500, "InternalError", `internal error: ${err instanceof Error ? err.message : String(err)}`);
}

app.notFound(() => notFound());
app.onError((err) => internalError(err));

export default {
  fetch(req: Request, env: Env, ctx: ExecutionContext): Response | Promise<Response> {
    const path = rawPath(req.url);
    if (path.startsWith("/clusters/")) return clusterRequest(req, env, path);
    return app.fetch(req, env, ctx);
  },
} satisfies ExportedHandler<Env>;
