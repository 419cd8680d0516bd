// Parsing of Kubernetes resource paths (/api/v1/..., /apis/<g>/<v>/..., legacy /watch/ paths).
import { errors } from "./status.js";

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
