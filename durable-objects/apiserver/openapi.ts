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
import {
  capitalize,
  groupCamel,
  groupTag,
  schemaName,
  subresourceInfo,
  verbsOf,
  type GVK,
} from "./openapi-resources.js";

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

// --- operations ---------------------------------------------------------------------------------

const queryParam = (name: string, type: string, description: string): Schema => ({
  name,
  in: "query",
  description,
  schema: { type, uniqueItems: true },
});

const P = {
  pretty: queryParam("pretty", "string", "If 'true', then the output is pretty printed."),
  dryRun: queryParam("dryRun", "string", "When present, indicates that modifications should not be persisted. Valid value: All"),
  fieldManager: queryParam("fieldManager", "string", "fieldManager is a name associated with the actor or entity that is making these changes."),
  fieldValidation: queryParam(
    "fieldValidation",
    "string",
    "fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields. Valid values: Ignore, Warn, Strict",
  ),
  force: queryParam("force", "boolean", "Force is going to \"force\" Apply requests. It must be unset for non-apply patch requests."),
  gracePeriodSeconds: queryParam("gracePeriodSeconds", "integer", "The duration in seconds before the object should be deleted."),
  orphanDependents: queryParam("orphanDependents", "boolean", "Deprecated: please use the PropagationPolicy."),
  propagationPolicy: queryParam("propagationPolicy", "string", "Whether and how garbage collection will be performed: Orphan, Background, Foreground."),
  allowWatchBookmarks: queryParam("allowWatchBookmarks", "boolean", "allowWatchBookmarks requests watch events with type \"BOOKMARK\"."),
  continue: queryParam("continue", "string", "The continue option should be set when retrieving more results from the server."),
  fieldSelector: queryParam("fieldSelector", "string", "A selector to restrict the list of returned objects by their fields."),
  labelSelector: queryParam("labelSelector", "string", "A selector to restrict the list of returned objects by their labels."),
  limit: queryParam("limit", "integer", "limit is a maximum number of responses to return for a list call."),
  resourceVersion: queryParam("resourceVersion", "string", "resourceVersion sets a constraint on what resource versions a request may be served from."),
  resourceVersionMatch: queryParam("resourceVersionMatch", "string", "resourceVersionMatch determines how resourceVersion is applied to list calls."),
  sendInitialEvents: queryParam("sendInitialEvents", "boolean", "`sendInitialEvents=true` may be set together with `watch=true`."),
  timeoutSeconds: queryParam("timeoutSeconds", "integer", "Timeout for the list/watch call."),
  watch: queryParam("watch", "boolean", "Watch for changes to the described resources and return them as a stream of add, update, and remove notifications."),
};
const LIST_PARAMS = [
  P.allowWatchBookmarks, P.continue, P.fieldSelector, P.labelSelector, P.limit, P.resourceVersion,
  P.resourceVersionMatch, P.sendInitialEvents, P.timeoutSeconds, P.watch,
];
const WRITE_PARAMS = [P.dryRun, P.fieldManager, P.fieldValidation];
const DELETE_PARAMS = [P.dryRun, P.gracePeriodSeconds, P.orphanDependents, P.propagationPolicy];

const pathParam = (name: string, description: string): Schema => ({
  name,
  in: "path",
  description,
  required: true,
  schema: { type: "string", uniqueItems: true },
});

const OBJECT_TYPES = ["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"];
const LIST_TYPES = [...OBJECT_TYPES, "application/json;stream=watch", "application/vnd.kubernetes.protobuf;stream=watch"];

function content(types: string[], schema: Schema): Schema {
  return Object.fromEntries(types.map((t) => [t, { schema }]));
}

function responses(codes: Array<[string, string]>, types: string[], schema: Schema): Schema {
  const out: Schema = {};
  for (const [code, description] of codes) out[code] = { description, content: content(types, schema) };
  out["401"] = { description: "Unauthorized" };
  return out;
}

const PATCH_TYPES_CUSTOM = ["application/apply-patch+yaml", "application/json-patch+json", "application/merge-patch+json"];
const PATCH_TYPES_BUILTIN = [...PATCH_TYPES_CUSTOM, "application/strategic-merge-patch+json"];

interface OpSpec {
  action: string;
  description: string;
  operationId: string;
  gvk: GVK;
  tag: string;
  parameters?: Schema[];
  requestBody?: Schema;
  responses: Schema;
}

function operation(o: OpSpec): Schema {
  return {
    tags: [o.tag],
    description: o.description,
    operationId: o.operationId,
    ...(o.parameters?.length ? { parameters: o.parameters } : {}),
    ...(o.requestBody ? { requestBody: o.requestBody } : {}),
    responses: o.responses,
    "x-kubernetes-action": o.action,
    "x-kubernetes-group-version-kind": { group: o.gvk.group, version: o.gvk.version, kind: o.gvk.kind },
  };
}

/** Paths of one kind at one version, added to `paths`. */
function kindPaths(paths: Record<string, Schema>, k: KindInfo, version: string, smp: boolean): void {
  const prefix = k.group ? `/apis/${k.group}/${version}` : `/api/${version}`;
  const gvk: GVK = { group: k.group, version, kind: k.kind };
  const obj = ref(schemaName(gvk, !!k.custom));
  const list = ref(schemaName({ ...gvk, kind: k.listKind }, !!k.custom));
  const status = ref(refName("Status"));
  const tag = groupTag(k.group, version);
  const idBase = `${groupCamel(k.group)}${capitalize(version)}`;
  const ns = k.namespaced ? "Namespaced" : "";
  const verbs = new Set(verbsOf(k));
  const nsParam = pathParam("namespace", "object name and auth scope, such as for teams and projects");
  const nameParam = pathParam("name", `name of the ${k.kind}`);
  const base = k.namespaced ? `${prefix}/namespaces/{namespace}/${k.resource}` : `${prefix}/${k.resource}`;
  const scopeParams = k.namespaced ? [nsParam, P.pretty] : [P.pretty];
  const body = (schema: Schema): Schema => ({ content: { "*/*": { schema } }, required: true });
  const patchBody = (): Schema => ({
    content: Object.fromEntries((smp ? PATCH_TYPES_BUILTIN : PATCH_TYPES_CUSTOM).map((t) => [t, { schema: ref(refName("Patch")) }])),
    required: true,
  });
  const op = (action: string, verb: string, idVerb: string, suffix: string, extra: Partial<OpSpec>, target = gvk, what = k.kind) =>
    operation({
      action,
      description: `${verb} ${what}`,
      operationId: `${idVerb}${idBase}${ns}${target === gvk ? k.kind : target.kind}${suffix}`,
      gvk: target,
      tag,
      responses: {},
      ...extra,
    });
  const ok = (schema: Schema, codes: Array<[string, string]> = [["200", "OK"]], types = OBJECT_TYPES) => responses(codes, types, schema);

  const collection: Schema = { parameters: scopeParams };
  if (verbs.has("list")) collection.get = op("list", "list or watch objects of kind", "list", "", { parameters: LIST_PARAMS, responses: ok(list, [["200", "OK"]], LIST_TYPES) });
  if (verbs.has("create"))
    collection.post = op("post", "create a", "create", "", {
      parameters: WRITE_PARAMS,
      requestBody: body(obj),
      responses: ok(obj, [["200", "OK"], ["201", "Created"], ["202", "Accepted"]]),
    });
  if (verbs.has("deletecollection"))
    collection.delete = op("deletecollection", "delete collection of", "deleteCollection", "", {
      parameters: [...LIST_PARAMS.filter((p) => p.name !== "watch" && p.name !== "allowWatchBookmarks"), ...DELETE_PARAMS],
      requestBody: { content: { "*/*": { schema: ref(refName("DeleteOptions")) } } },
      responses: ok(status),
    });
  if (Object.keys(collection).length > 1) paths[base] = collection;
  if (k.namespaced && verbs.has("list")) {
    paths[`${prefix}/${k.resource}`] = {
      get: operation({
        action: "list",
        description: `list or watch objects of kind ${k.kind}`,
        operationId: `list${idBase}${k.kind}ForAllNamespaces`,
        gvk,
        tag,
        responses: ok(list, [["200", "OK"]], LIST_TYPES),
      }),
      parameters: [...LIST_PARAMS, P.pretty],
    };
  }

  const item: Schema = { parameters: [nameParam, ...scopeParams] };
  if (verbs.has("get")) item.get = op("get", "read the specified", "read", "", { responses: ok(obj) });
  if (verbs.has("update"))
    item.put = op("put", "replace the specified", "replace", "", {
      parameters: WRITE_PARAMS,
      requestBody: body(obj),
      responses: ok(obj, [["200", "OK"], ["201", "Created"]]),
    });
  if (verbs.has("delete"))
    item.delete = op("delete", "delete a", "delete", "", {
      parameters: DELETE_PARAMS,
      requestBody: { content: { "*/*": { schema: ref(refName("DeleteOptions")) } } },
      responses: ok(status, [["200", "OK"], ["202", "Accepted"]]),
    });
  if (verbs.has("patch"))
    item.patch = op("patch", "partially update the specified", "patch", "", {
      parameters: [...WRITE_PARAMS, P.force],
      requestBody: patchBody(),
      responses: ok(obj, [["200", "OK"], ["201", "Created"]]),
    });
  if (Object.keys(item).length > 1) paths[`${base}/{name}`] = item;

  for (const name of k.subresources) {
    const sub = subresourceInfo(k, name);
    const sVerbs = new Set(sub.verbs);
    const target: GVK = sub.kind ?? gvk;
    const suffix = capitalize(name);
    const path: Schema = { parameters: [nameParam, ...scopeParams] };
    if (sub.connect) {
      // exec/attach/portforward/proxy stream; kube publishes them as "connect" operations returning a string.
      const str = { description: "OK", content: { "*/*": { schema: { type: "string" } } } };
      for (const [method, verb] of [["get", "get"], ["post", "create"], ["put", "update"], ["patch", "patch"], ["delete", "delete"]]) {
        if (!sVerbs.has(verb)) continue;
        path[method] = operation({
          action: "connect",
          description: `connect ${method.toUpperCase()} requests to ${name} of ${k.kind}`,
          operationId: `connect${capitalize(method)}${idBase}${ns}${k.kind}${suffix}`,
          gvk: target,
          tag,
          responses: { "200": str, "401": { description: "Unauthorized" } },
        });
      }
      paths[`${base}/{name}/${name}`] = path;
      continue;
    }
    const targetRef = sub.kind ? ref(schemaName(target)) : obj;
    const what = `${name} of the specified ${k.kind}`;
    const subOp = (action: string, verb: string, idVerb: string, extra: Partial<OpSpec>) =>
      operation({
        action,
        description: `${verb} ${what}`,
        operationId: `${idVerb}${idBase}${ns}${k.kind}${suffix}`,
        gvk: target,
        tag,
        responses: {},
        ...extra,
      });
    if (sVerbs.has("get"))
      path.get = subOp("get", "read", "read", { responses: ok(name === "log" ? { type: "string" } : targetRef) });
    if (sVerbs.has("update"))
      path.put = subOp("put", "replace", "replace", { parameters: WRITE_PARAMS, requestBody: body(targetRef), responses: ok(targetRef, [["200", "OK"], ["201", "Created"]]) });
    if (sVerbs.has("patch"))
      path.patch = subOp("patch", "partially update", "patch", { parameters: [...WRITE_PARAMS, P.force], requestBody: patchBody(), responses: ok(targetRef, [["200", "OK"], ["201", "Created"]]) });
    if (sVerbs.has("create"))
      path.post = subOp("post", "create", "create", { parameters: WRITE_PARAMS, requestBody: body(targetRef), responses: ok(targetRef, [["200", "OK"], ["201", "Created"], ["202", "Accepted"]]) });
    paths[`${base}/{name}/${name}`] = path;
  }
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
