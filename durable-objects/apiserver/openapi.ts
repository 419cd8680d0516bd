// /openapi/v3 (index and one document per group-version), shaped like kube-apiserver's.
//
// kubectl reads these documents for three things (checked against kubectl 1.29 and 1.32 sources):
// - `--validate` (default strict): cli-runtime's QueryParamVerifierV3 looks for a PATCH operation whose
//   (single, object-valued) `x-kubernetes-group-version-kind` matches the manifest's GVK and that has a
//   `fieldValidation` query parameter; found -> validation is left to the server. Otherwise kubectl falls
//   back to /openapi/v2 (protobuf only), and fails with "failed to download openapi" if that fails too.
// - `kubectl apply` on an existing object: the PATCH operation's requestBody must list
//   application/strategic-merge-patch+json, then the component schema carrying the GVK (array-valued
//   extension) drives strategic merge (x-kubernetes-patch-merge-key / -strategy).
// - `kubectl explain`: paths' operations give the GVK, components.schemas the fields.
// /openapi/v2 is not served (404): with the v3 documents above kubectl 1.29-1.32 never needs it.
import { kindPaths } from "./openapi-paths.js";
import type { KindInfo } from "./types.js";
import {
  closure,
  describedKindSchema,
  isDescribed,
  listSchema,
  permissiveKindSchema,
  ref,
  refName,
  hasType,
  type Schema,
} from "./openapi-schemas.js";
import { schemaName, subresourceInfo, type GVK } from "./openapi-resources.js";

/** Bump when the generated documents change shape, so clients' hash-keyed caches refetch. */
const GENERATOR_REVISION = "1";

/** "api/v1" or "apis/<group>/<version>": the keys of the v3 index. */
export function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

/** Kinds served per group-version, in `kinds` order. */
export function kindsByGroupVersion(kinds: KindInfo[]): Map<string, { group: string; version: string; kinds: KindInfo[] }> {
  const out = new Map<string, { group: string; version: string; kinds: KindInfo[] }>();
  for (const k of kinds) {
    for (const v of k.versions) {
      const key = gvPath(k.group, v);
      let entry = out.get(key);
      if (!entry) out.set(key, (entry = { group: k.group, version: v, kinds: [] }));
      entry.kinds.push(k);
    }
  }
  return out;
}

// FNV-1a, 2x32 bit. The index's `hash` only has to change when a document does (clients key caches by
// URL); a synchronous hash keeps discovery synchronous (WebCrypto digests are async).
function fnvHex(text: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c ^ (h1 >>> 7), 0x5bd1e995);
  }
  const hex = (n: number) => (n >>> 0).toString(16).padStart(8, "0");
  return (hex(h1) + hex(h2)).toUpperCase();
}

function documentHash(group: string, version: string, kinds: KindInfo[], serverVersion: string): string {
  return fnvHex(JSON.stringify([GENERATOR_REVISION, serverVersion, group, version, kinds]));
}

/** The /openapi/v3 index: one entry per served group-version. */
export function openApiV3Index(kinds: KindInfo[], serverVersion: string): { paths: Record<string, { serverRelativeURL: string }> } {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const [key, gv] of kindsByGroupVersion(kinds)) {
    paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${documentHash(gv.group, gv.version, gv.kinds, serverVersion)}` };
  }
  return { paths };
}


// --- schemas ------------------------------------------------------------------------------------

const gvkExt = (gvk: GVK) => [{ group: gvk.group, kind: gvk.kind, version: gvk.version }];

/** A CRD's openAPIV3Schema with kube's additions: typed metadata, apiVersion and kind. */
function customKindSchema(schema: unknown, deps: Set<string>): Schema {
  if (!schema || typeof schema !== "object" || Array.isArray(schema)) return permissiveKindSchema(deps);
  const s = structuredClone(schema) as Schema;
  const props = { ...((s.properties as Record<string, Schema> | undefined) ?? {}) };
  props.apiVersion = { type: "string", ...(props.apiVersion ?? {}) };
  props.kind = { type: "string", ...(props.kind ?? {}) };
  deps.add("ObjectMeta");
  props.metadata = { allOf: [ref(refName("ObjectMeta"))], default: {} };
  return { ...s, type: "object", properties: props };
}

const STANDARD_TYPES = ["ObjectMeta", "ListMeta", "Status", "DeleteOptions", "Patch", "WatchEvent"];

/** The OpenAPI v3 document of one group-version. */
export function buildGroupVersionDocument(group: string, version: string, kinds: KindInfo[], serverVersion: string): Schema {
  const paths: Record<string, Schema> = {};
  const kindSchemas = new Map<string, Schema>();
  const deps = new Set<string>(STANDARD_TYPES);
  const subresourceKinds: GVK[] = [];
  for (const k of kinds) {
    const gvk: GVK = { group: k.group, version, kind: k.kind };
    const custom = !!k.custom;
    const smp = !custom && isDescribed(k.group, k.kind);
    kindPaths(paths, k, version, smp);
    const name = schemaName(gvk, custom);
    const body = custom
      ? customKindSchema(k.schemas?.[version], deps)
      : (describedKindSchema(k.group, k.kind, deps) ?? permissiveKindSchema(deps));
    kindSchemas.set(name, { ...body, "x-kubernetes-group-version-kind": gvkExt(gvk) });
    kindSchemas.set(schemaName({ ...gvk, kind: k.listKind }, custom), {
      ...listSchema(name, deps),
      "x-kubernetes-group-version-kind": gvkExt({ ...gvk, kind: k.listKind }),
    });
    for (const s of k.subresources) {
      const target = subresourceInfo(k, s).kind;
      if (target && !subresourceInfo(k, s).connect) subresourceKinds.push(target);
    }
  }
  const schemas: Record<string, Schema> = Object.fromEntries(closure(deps));
  for (const target of subresourceKinds) {
    const name = schemaName(target);
    if (schemas[name]?.["x-kubernetes-group-version-kind"]) continue;
    const sdeps = new Set<string>();
    const body = describedKindSchema(target.group, target.kind, sdeps) ?? permissiveKindSchema(sdeps);
    for (const [n, s] of closure(sdeps)) schemas[n] ??= s;
    schemas[name] = { ...body, "x-kubernetes-group-version-kind": gvkExt(target) };
  }
  for (const [name, schema] of kindSchemas) schemas[name] = schema;
  // Standard types carry the GVKs kube-apiserver gives them.
  const add = (type: string, gvks: GVK[]) => {
    const n = refName(type);
    if (hasType(type) && schemas[n]) schemas[n] = { ...schemas[n], "x-kubernetes-group-version-kind": gvks };
  };
  add("Status", [{ group: "", version: "v1", kind: "Status" }]);
  const here = (kind: string): GVK[] => {
    const list = [{ group: "", version: "v1", kind }];
    if (group || version !== "v1") list.push({ group, version, kind });
    return list;
  };
  add("DeleteOptions", here("DeleteOptions"));
  add("WatchEvent", here("WatchEvent"));
  return {
    openapi: "3.0.0",
    info: { title: "Kubernetes", version: serverVersion },
    paths,
    components: {
      schemas,
      securitySchemes: {
        BearerToken: { type: "apiKey", description: "Bearer Token authentication", name: "authorization", in: "header" },
      },
    },
    security: [{ BearerToken: [] }],
  };
}

// Small cache of serialized documents, keyed by hash: kubectl fetches the same document several times
// per command and the kinds rarely change.
const docCache = new Map<string, string>();
const DOC_CACHE_SIZE = 16;

function documentJson(group: string, version: string, kinds: KindInfo[], serverVersion: string, hash: string): string {
  let json = docCache.get(hash);
  if (json === undefined) {
    json = JSON.stringify(buildGroupVersionDocument(group, version, kinds, serverVersion));
    if (docCache.size >= DOC_CACHE_SIZE) docCache.delete(docCache.keys().next().value!);
    docCache.set(hash, json);
  }
  return json;
}

/**
 * Serve /openapi/v3 and /openapi/v3/<gv>; undefined when `path` is not an OpenAPI v3 path this
 * server has (the caller answers 404).
 */
export function handleOpenApiV3(url: URL, headers: Headers, kinds: KindInfo[], serverVersion: string): Response | undefined {
  const path = url.pathname.replace(/\/+$/, "");
  if (path === "/openapi/v3") {
    return new Response(JSON.stringify(openApiV3Index(kinds, serverVersion)), {
      headers: { "content-type": "application/json", "cache-control": "no-cache, private" },
    });
  }
  if (!path.startsWith("/openapi/v3/")) return undefined;
  const key = path.slice("/openapi/v3/".length);
  const gv = kindsByGroupVersion(kinds).get(key);
  if (!gv) return undefined;
  const hash = documentHash(gv.group, gv.version, gv.kinds, serverVersion);
  const etag = `"${hash}"`;
  const requested = url.searchParams.get("hash");
  // A hash-addressed URL never changes content, so clients may cache it for good (as kube-apiserver says).
  const cacheControl = requested === hash ? "public, immutable, max-age=31536000" : "no-cache, private";
  if (headers.get("if-none-match") === etag) {
    return new Response(null, { status: 304, headers: { etag, "cache-control": cacheControl } });
  }
  const json = documentJson(gv.group, gv.version, gv.kinds, serverVersion, hash);
  return new Response(json, { headers: { "content-type": "application/json", etag, "cache-control": cacheControl } });
}
