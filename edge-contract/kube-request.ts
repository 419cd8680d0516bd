// What a Kubernetes API request is about, from its method and path alone (kube's RequestInfo, reduced to
// what metrics and the VIP need): verb, group, version, resource, subresource. The VIP (which forwards
// without parsing the body) and the edge's API server label their request metrics with it, so both
// endpoints name the same request the same way.

export interface KubeRequest {
  /** get, list, watch, create, update, patch, delete, deletecollection, connect (upgrades), or the method. */
  verb: string;
  group: string;
  version: string;
  /** Plural resource name; "" for discovery and other non-resource paths. */
  resource: string;
  subresource: string;
  /** cluster, namespace (a namespaced collection or object) or resource (all namespaces); "" off the API. */
  scope: string;
}

export function kubeRequest(method: string, url: string): KubeRequest {
  const q = url.indexOf("?");
  const path = q < 0 ? url : url.slice(0, q);
  const params = new URLSearchParams(q < 0 ? "" : url.slice(q + 1));
  const m = method.toUpperCase();
  const segs = path.split("/").filter(Boolean);
  const out: KubeRequest = { verb: m === "GET" || m === "HEAD" ? "get" : m.toLowerCase(), group: "", version: "", resource: "", subresource: "", scope: "" };
  let rest: string[];
  if (segs[0] === "api" && segs.length >= 2) {
    out.version = segs[1];
    rest = segs.slice(2);
  } else if (segs[0] === "apis" && segs.length >= 3) {
    out.group = segs[1];
    out.version = segs[2];
    rest = segs.slice(3);
  } else return out;
  let watchPath = false;
  if (rest[0] === "watch") {
    watchPath = true;
    rest = rest.slice(1);
  }
  if (rest.length === 0) return out;
  let namespaced = false;
  if (rest[0] === "namespaces" && rest.length >= 3) {
    namespaced = true;
    rest = rest.slice(2);
  }
  out.resource = rest[0];
  out.subresource = rest[2] ?? "";
  const collection = rest.length === 1;
  out.scope = namespaced ? "namespace" : out.resource === "namespaces" || !collection ? "cluster" : "resource";
  if (watchPath || (m === "GET" && (params.get("watch") === "true" || params.get("watch") === "1"))) out.verb = "watch";
  else if (m === "GET" || m === "HEAD") out.verb = collection ? "list" : "get";
  else if (m === "POST") out.verb = "create";
  else if (m === "PUT") out.verb = "update";
  else if (m === "PATCH") out.verb = "patch";
  else if (m === "DELETE") out.verb = collection ? "deletecollection" : "delete";
  return out;
}

/** kube-apiserver's `verb` label on its request metrics: POST for create, PUT for update, the rest in capitals. */
export function metricVerb(verb: string): string {
  return verb === "create" ? "POST" : verb === "update" ? "PUT" : verb.toUpperCase();
}

/** kube-apiserver's request duration buckets (apiserver_request_duration_seconds), in seconds. */
export const REQUEST_DURATION_BUCKETS = [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60];
