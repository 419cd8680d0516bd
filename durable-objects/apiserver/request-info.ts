// What a request asks for, worked out once (k8s.io/apiserver's RequestInfo): the resource path
// (/api/v1/..., /apis/<g>/<v>/..., legacy /watch/ paths), the kind it names, the verb, and how the
// answer is rendered. Handlers receive it and never look at the URL's path again.
import { groupVersion, type KindRegistry } from "./kinds.js";
import { mediaType } from "./body.js";
import { errors } from "./status.js";
import { wantsTable } from "./table/table.js";
import type { KindInfo } from "./types.js";

export interface ResourcePath {
  group: string;
  version: string;
  resource: string;
  /** "" when the path has no namespace segment. */
  namespace: string;
  name?: string;
  subresource?: string;
  /** Legacy `/watch/` path prefix. */
  watchPath: boolean;
}

function decode(seg: string): string {
  try {
    return decodeURIComponent(seg);
  } catch {
    throw errors.badRequest(`invalid URL path segment ${JSON.stringify(seg.slice(0, 100))}`);
  }
}

/** undefined when the path is not a resource path (the caller answers 404). */
export function parseResourcePath(pathname: string): ResourcePath | undefined {
  let segs = pathname.split("/").slice(1);
  if (segs.length && segs[segs.length - 1] === "") segs = segs.slice(0, -1);
  if (segs.some((s) => s === "")) return undefined;
  segs = segs.map(decode);
  let group: string;
  let version: string;
  let rest: string[];
  if (segs[0] === "api" && segs.length >= 3) {
    group = "";
    version = segs[1];
    rest = segs.slice(2);
  } else if (segs[0] === "apis" && segs.length >= 4) {
    group = segs[1];
    version = segs[2];
    rest = segs.slice(3);
  } else return undefined;
  let watchPath = false;
  if (rest[0] === "watch") {
    watchPath = true;
    rest = rest.slice(1);
  }
  let namespace = "";
  // /api/v1/namespaces/<ns>/status|finalize are subresources of the namespace itself.
  const nsSubresource = group === "" && rest.length === 3 && (rest[2] === "status" || rest[2] === "finalize");
  if (rest[0] === "namespaces" && rest.length >= 3 && !nsSubresource) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  if (rest.length === 0 || rest.length > 3) return undefined;
  return { group, version, resource: rest[0], namespace, name: rest[1], subresource: rest[2], watchPath };
}

export type Verb = "get" | "list" | "watch" | "create" | "update" | "patch" | "delete" | "deletecollection" | "evict";

export interface RequestInfo {
  request: Request;
  q: URLSearchParams;
  path: ResourcePath;
  kind: KindInfo;
  verb: Verb;
  /** The object's name for verbs on one object. */
  name?: string;
  /** Writes to `/status` touch only status; `/scale` reads and writes a Scale; every other write is "main". */
  mode: "main" | "status" | "scale";
  /** apiVersion the client addressed (objects are relabelled to it). */
  gv: string;
  /** The client asked for meta.k8s.io/v1 Table output. */
  table: boolean;
}

const isWatchParam = (q: URLSearchParams) => q.get("watch") === "true" || q.get("watch") === "1";

/** kube's verb for a method on a resource path; 405 for a method the path does not serve. */
function verbOf(method: string, path: ResourcePath, q: URLSearchParams): Verb {
  const { name, subresource } = path;
  if (path.watchPath) {
    if (method !== "GET" || subresource) throw errors.methodNotAllowed();
    return "watch";
  }
  if (name === undefined) {
    if (method === "GET") return isWatchParam(q) ? "watch" : "list";
    if (method === "POST") return "create";
    if (method === "DELETE") return "deletecollection";
    throw errors.methodNotAllowed();
  }
  if (subresource === "eviction") {
    if (method !== "POST") throw errors.methodNotAllowed();
    return "evict";
  }
  if (subresource && subresource !== "status" && subresource !== "scale") throw errors.methodNotAllowed();
  if (method === "GET") return isWatchParam(q) && !subresource ? "watch" : "get";
  if (method === "PUT") return "update";
  if (method === "PATCH") return "patch";
  if (method === "DELETE" && !subresource) return "delete";
  throw errors.methodNotAllowed();
}

/** JSON is the only representation served; a client that accepts nothing JSON-like gets 406. */
function checkAccept(accept: string | null): void {
  if (!accept) return;
  const types = accept.split(",").map((t) => mediaType(t));
  if (types.some((t) => t === "" || t === "*/*" || t === "application/*" || t === "application/json" || t.endsWith("+json"))) return;
  throw errors.notAcceptable(accept.slice(0, 200));
}

/** The request's RequestInfo; 404 for a path that names no served resource, 405/406 as kube answers. */
export function resolveRequest(request: Request, url: URL, registry: KindRegistry): RequestInfo {
  const path = parseResourcePath(url.pathname);
  if (!path) throw errors.noResource();
  const kind = registry.lookup(path.group, path.version, path.resource);
  if (!kind) throw errors.noResource();
  if (path.namespace && !kind.namespaced) throw errors.noResource();
  if (path.subresource && !kind.subresources.includes(path.subresource)) throw errors.noResource();
  checkAccept(request.headers.get("accept"));
  const q = url.searchParams;
  return {
    request,
    q,
    path,
    kind,
    verb: verbOf(request.method.toUpperCase(), path, q),
    name: path.name,
    mode: path.subresource === "status" ? "status" : path.subresource === "scale" ? "scale" : "main",
    gv: groupVersion(path.group, path.version),
    table: wantsTable(request.headers.get("accept")),
  };
}
