// Everything a client reads before touching a resource: /, /version, health checks, legacy and
// aggregated API discovery (/api, /apis, /api/v1, /apis/<g>[/<v>]) and OpenAPI (/openapi/v3...).
// All of it is computed from the served kinds, so CRD-registered kinds appear as soon as they exist.
import { compareKubeVersions } from "./crd.js";
import { handleOpenApiV3 } from "./openapi.js";
import { groupVersionString, subresourceInfo, verbsOf } from "./openapi-resources.js";
import { errorResponse, jsonResponse } from "./status.js";
import { ApiError, type KindInfo } from "./types.js";

const notFound = () => errorResponse(new ApiError(404, "NotFound", "the server could not find the requested resource"));

// --- /version -----------------------------------------------------------------------------------

/** The Go release each Kubernetes minor was built with (what kube-apiserver reports as goVersion). */
const GO_BY_MINOR: Record<number, string> = { 27: "go1.20", 28: "go1.20", 29: "go1.21", 30: "go1.22", 31: "go1.22", 32: "go1.23", 33: "go1.24", 34: "go1.24" };

export function versionInfo(gitVersion: string): Record<string, string> {
  const m = /^v?(\d+)\.(\d+)(?:\.\d+)?(.*)$/.exec(gitVersion);
  const major = m ? m[1] : "";
  const minor = m ? m[2] + (m[3] ? "+" : "") : "";
  const go = (m && GO_BY_MINOR[Number(m[2])]) || "go1.23";
  return {
    major,
    minor,
    gitVersion,
    // This is not a build of Kubernetes: no commit or build date to report.
    gitCommit: "0000000000000000000000000000000000000000",
    gitTreeState: "clean",
    buildDate: "1970-01-01T00:00:00Z",
    goVersion: go,
    compiler: "gc",
    platform: "linux/amd64",
  };
}

// --- health ---------------------------------------------------------------------------------------

const HEALTH_CHECKS: Record<string, string[]> = {
  healthz: ["ping", "log", "etcd"],
  livez: ["ping", "log", "etcd"],
  readyz: ["ping", "log", "etcd", "etcd-readiness", "informer-sync", "shutdown"],
};

function health(path: string, url: URL): Response | undefined {
  const [, endpoint, check, ...rest] = path.split("/");
  const checks = HEALTH_CHECKS[endpoint];
  if (!checks) return undefined;
  const text = (body: string, status = 200) =>
    new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" } });
  if (check !== undefined) return rest.length === 0 && checks.includes(check) ? text("ok") : text("404 page not found\n", 404);
  if (url.searchParams.has("verbose")) {
    const excluded = new Set(url.searchParams.getAll("exclude"));
    const lines = checks.map((c) => (excluded.has(c) ? `[+]${c} excluded: ok` : `[+]${c} ok`));
    return text(`${lines.join("\n")}\n${endpoint} check passed\n`);
  }
  return text("ok");
}

// --- discovery documents ----------------------------------------------------------------------------

interface GroupVersions {
  name: string;
  /** Served versions, preferred first (kube's version priority). */
  versions: string[];
}

/** API groups in the order their first kind appears (built-ins first, as the kinds list has them). */
export function apiGroups(kinds: KindInfo[]): GroupVersions[] {
  const byName = new Map<string, Set<string>>();
  for (const k of kinds) {
    if (k.group === "") continue;
    let set = byName.get(k.group);
    if (!set) byName.set(k.group, (set = new Set()));
    for (const v of k.versions) set.add(v);
  }
  return [...byName].map(([name, versions]) => ({ name, versions: [...versions].sort(compareKubeVersions) }));
}

function coreVersions(kinds: KindInfo[]): string[] {
  const set = new Set<string>();
  for (const k of kinds) if (k.group === "") for (const v of k.versions) set.add(v);
  return [...set].sort(compareKubeVersions);
}

const servedAt = (kinds: KindInfo[], group: string, version: string) =>
  kinds.filter((k) => k.group === group && k.versions.includes(version));

function apiGroupJson(g: GroupVersions) {
  const versions = g.versions.map((v) => ({ groupVersion: `${g.name}/${v}`, version: v }));
  return { name: g.name, versions, preferredVersion: versions[0] };
}

/** Legacy APIResourceList entries: each resource, then its subresources as "<resource>/<sub>". */
function apiResources(kinds: KindInfo[], version: string) {
  const out: Array<Record<string, unknown>> = [];
  for (const k of kinds) {
    out.push({
      name: k.resource,
      singularName: k.singular,
      namespaced: k.namespaced,
      kind: k.kind,
      verbs: verbsOf(k),
      ...(k.shortNames?.length ? { shortNames: k.shortNames } : {}),
      ...(k.categories?.length ? { categories: k.categories } : {}),
    });
    for (const name of k.subresources) {
      const sub = subresourceInfo(k, name);
      const target = sub.kind ?? { group: k.group, version, kind: k.kind };
      out.push({
        name: `${k.resource}/${name}`,
        singularName: "",
        namespaced: k.namespaced,
        // Like kube-apiserver: group/version are spelled out only when they differ from the list's.
        ...(target.group !== k.group || target.version !== version ? { group: target.group, version: target.version } : {}),
        kind: target.kind,
        verbs: sub.verbs,
      });
    }
  }
  return out;
}

function resourceList(group: string, version: string, kinds: KindInfo[]) {
  return { kind: "APIResourceList", apiVersion: "v1", groupVersion: groupVersionString(group, version), resources: apiResources(kinds, version) };
}

// --- aggregated discovery (apidiscovery.k8s.io v2 / v2beta1) ------------------------------------------

const AGGREGATED = /^application\/json$/;

/**
 * The aggregated discovery version the Accept header prefers ("v2" | "v2beta1"), or undefined for the
 * legacy documents. Media ranges are taken in order (client-go lists its preference first).
 */
export function aggregatedVersion(accept: string | null): "v2" | "v2beta1" | undefined {
  if (!accept) return undefined;
  for (const range of accept.split(",")) {
    const [type, ...params] = range.split(";").map((s) => s.trim());
    const p = Object.fromEntries(params.map((kv) => kv.split("=").map((s) => s.trim().toLowerCase())));
    if (p.q === "0") continue;
    if (AGGREGATED.test(type.toLowerCase()) && p.g === "apidiscovery.k8s.io" && p.as === "apigroupdiscoverylist") {
      if (p.v === "v2" || p.v === "v2beta1") return p.v;
      continue;
    }
    // The first acceptable non-aggregated type wins: the client prefers the legacy form.
    if (type === "application/json" || type === "*/*" || type === "application/*") return undefined;
  }
  return undefined;
}

function aggregatedResources(kinds: KindInfo[], version: string) {
  return kinds.map((k) => {
    const gvk = { group: k.group, version, kind: k.kind };
    return {
      resource: k.resource,
      responseKind: gvk,
      scope: k.namespaced ? "Namespaced" : "Cluster",
      singularResource: k.singular,
      verbs: verbsOf(k),
      ...(k.shortNames?.length ? { shortNames: k.shortNames } : {}),
      ...(k.categories?.length ? { categories: k.categories } : {}),
      ...(k.subresources.length
        ? {
            subresources: k.subresources.map((name) => {
              const sub = subresourceInfo(k, name);
              return { subresource: name, responseKind: sub.kind ?? gvk, verbs: sub.verbs };
            }),
          }
        : {}),
    };
  });
}

function aggregatedGroup(name: string, versions: string[], kinds: KindInfo[]) {
  return {
    metadata: { name, creationTimestamp: null },
    versions: versions.map((v) => ({ version: v, resources: aggregatedResources(servedAt(kinds, name, v), v), freshness: "Current" })),
  };
}

function aggregatedResponse(version: "v2" | "v2beta1", items: unknown[]): Response {
  const body = { kind: "APIGroupDiscoveryList", apiVersion: `apidiscovery.k8s.io/${version}`, metadata: {}, items };
  return new Response(JSON.stringify(body), {
    headers: {
      "content-type": `application/json;g=apidiscovery.k8s.io;v=${version};as=APIGroupDiscoveryList`,
      vary: "Accept",
    },
  });
}

// --- entry point --------------------------------------------------------------------------------

/**
 * Answer a discovery, version, health or OpenAPI request; undefined for every other path (resource
 * requests), which the router then handles. Called for every request, so non-matching paths return fast.
 */
export function handleDiscovery(url: URL, headers: Headers, kinds: KindInfo[], version: { gitVersion: string }): Response | undefined {
  const raw = url.pathname;
  const path = raw.length > 1 ? raw.replace(/\/+$/, "") : raw;
  const parts = path.split("/").slice(1);
  switch (parts[0]) {
    case "":
      return parts.length === 1 ? jsonResponse(200, { paths: rootPaths(kinds) }) : undefined;
    case "version":
      return parts.length === 1 ? jsonResponse(200, versionInfo(version.gitVersion)) : undefined;
    case "healthz":
    case "livez":
    case "readyz":
      return health(path, url);
    case "openapi":
      if (parts[1] === "v3") return handleOpenApiV3(url, headers, kinds, version.gitVersion) ?? notFound();
      // v2 is published only as protobuf by kube-apiserver and kubectl reads v3 first; not served.
      return parts.length === 2 && parts[1] === "v2" ? notFound() : undefined;
    case "api":
      return legacyCore(parts, headers, kinds);
    case "apis":
      return groups(parts, headers, kinds);
    default:
      return undefined;
  }
}

function legacyCore(parts: string[], headers: Headers, kinds: KindInfo[]): Response | undefined {
  if (parts.length > 2) return undefined; // a resource path: decided before any per-request work
  const versions = coreVersions(kinds);
  if (parts.length === 1) {
    const agg = aggregatedVersion(headers.get("accept"));
    if (agg) return aggregatedResponse(agg, versions.length ? [aggregatedGroup("", versions, kinds)] : []);
    return jsonResponse(200, { kind: "APIVersions", versions, serverAddressByClientCIDRs: [] });
  }
  if (parts.length === 2) {
    if (!versions.includes(parts[1])) return notFound();
    return jsonResponse(200, resourceList("", parts[1], servedAt(kinds, "", parts[1])));
  }
  return undefined;
}

function groups(parts: string[], headers: Headers, kinds: KindInfo[]): Response | undefined {
  if (parts.length > 3) return undefined; // a resource path: decided before any per-request work
  const all = apiGroups(kinds);
  if (parts.length === 1) {
    const agg = aggregatedVersion(headers.get("accept"));
    if (agg) return aggregatedResponse(agg, all.map((g) => aggregatedGroup(g.name, g.versions, kinds)));
    return jsonResponse(200, { kind: "APIGroupList", apiVersion: "v1", groups: all.map(apiGroupJson) });
  }
  const group = all.find((g) => g.name === parts[1]);
  if (!group) return notFound();
  if (parts.length === 2) return jsonResponse(200, { kind: "APIGroup", apiVersion: "v1", ...apiGroupJson(group) });
  if (!group.versions.includes(parts[2])) return notFound();
  return jsonResponse(200, resourceList(group.name, parts[2], servedAt(kinds, group.name, parts[2])));
}

function rootPaths(kinds: KindInfo[]): string[] {
  const paths = ["/api", "/apis", "/healthz", "/livez", "/readyz", "/version", "/openapi/v3", "/openapi/v3/"];
  for (const v of coreVersions(kinds)) paths.push(`/api/${v}`);
  for (const g of apiGroups(kinds)) {
    paths.push(`/apis/${g.name}`);
    for (const v of g.versions) paths.push(`/apis/${g.name}/${v}`);
  }
  for (const [endpoint, checks] of Object.entries(HEALTH_CHECKS)) for (const c of checks) paths.push(`/${endpoint}/${c}`);
  return paths.sort();
}
