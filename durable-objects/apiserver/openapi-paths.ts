// The paths and operations of an /openapi/v3 group-version document, shaped like kube-apiserver's:
// one path per resource, namespaced or not, with its subresources, and the query parameters, request
// and response media types kubectl looks for (see openapi.ts for what it reads).
import type { KindInfo } from "./types.js";
import { ref, refName, type Schema } from "./openapi-schemas.js";
import { capitalize, groupCamel, groupTag, schemaName, subresourceInfo, verbsOf, type GVK } from "./openapi-resources.js";

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
export function kindPaths(paths: Record<string, Schema>, k: KindInfo, version: string, smp: boolean): void {
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
