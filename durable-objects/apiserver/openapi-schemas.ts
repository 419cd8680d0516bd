// Compact field descriptions of the built-in Kubernetes types, expanded into OpenAPI v3 schemas
// shaped like kube-apiserver's (`allOf: [$ref]` for nested types, list/map extensions).
//
// Why hand-written: kubectl's client-side strategic merge patch (`kubectl apply` on an existing
// object) reads `x-kubernetes-patch-merge-key` / `x-kubernetes-patch-strategy` from these schemas
// and refuses (falls back with a warning) when a manifest has a map- or list-valued field the schema
// does not name. So the kinds marked THOROUGH below describe every object-valued field a manifest
// normally carries; other kinds get a permissive schema and do not advertise strategic merge patch
// (kubectl then uses its compiled-in types, which are exact for built-ins).
//
// Field syntax: "<type> [flag...]". Types: string, integer, int32, int64, number, boolean, time,
// bytes, quantity, intstr, object (free-form), a type name below, "[T]" (list), "{T}" (string-keyed map).
// Flags: merge=<key> (patch merge key), strategy=<s> (patch strategy), list=<atomic|map|set>,
// keys=<a,b> (list map keys), map=<atomic|granular>, req (required).

import { CORE, CORE_TYPES } from "./openapi-types/core.js";
import { GROUP_TYPES, KIND_TYPES, META, META_TYPES, type Fields } from "./openapi-types/groups.js";

/** package -> type name -> fields. Type names are unique across packages so fields can name them bare. */
const DEFS: Record<string, Record<string, Fields>> = { [META]: META_TYPES, [CORE]: CORE_TYPES, ...GROUP_TYPES };

export type Schema = Record<string, unknown>;

const PKG_OF = new Map<string, string>();
for (const [pkg, types] of Object.entries(DEFS)) {
  for (const name of Object.keys(types)) {
    if (PKG_OF.has(name)) throw new Error(`openapi-schemas: type ${name} defined twice`);
    PKG_OF.set(name, pkg);
  }
}

export const refName = (type: string): string => `${PKG_OF.get(type)}.${type}`;
export const ref = (schemaName: string): Schema => ({ $ref: `#/components/schemas/${schemaName}` });

const SCALARS: Record<string, Schema> = {
  string: { type: "string" },
  integer: { type: "integer" },
  int32: { type: "integer", format: "int32" },
  int64: { type: "integer", format: "int64" },
  number: { type: "number", format: "double" },
  boolean: { type: "boolean" },
  time: { type: "string", format: "date-time" },
  bytes: { type: "string", format: "byte" },
  // kube publishes Quantity and IntOrString as named types; inlined here since no client reads their names.
  quantity: { type: "string", format: "quantity", "x-kubernetes-int-or-string": true },
  intstr: { type: "string", format: "int-or-string", "x-kubernetes-int-or-string": true },
  object: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
};

/** Expand one field description; `deps` collects the named types it refers to. */
function fieldSchema(spec: string, deps: Set<string>): { schema: Schema; required: boolean } {
  const [type, ...flags] = spec.split(" ");
  const schema = typeSchema(type, deps);
  let required = false;
  for (const flag of flags) {
    const [k, v] = flag.split("=");
    if (k === "req") required = true;
    else if (k === "merge") schema["x-kubernetes-patch-merge-key"] = v;
    else if (k === "strategy") schema["x-kubernetes-patch-strategy"] = v;
    else if (k === "list") schema["x-kubernetes-list-type"] = v;
    else if (k === "keys") schema["x-kubernetes-list-map-keys"] = v.split(",");
    else if (k === "map") schema["x-kubernetes-map-type"] = v;
    else throw new Error(`openapi-schemas: bad flag ${flag}`);
  }
  return { schema, required };
}

function typeSchema(type: string, deps: Set<string>): Schema {
  if (type.startsWith("[")) return { type: "array", items: typeSchema(type.slice(1, -1), deps) };
  if (type.startsWith("{")) return { type: "object", additionalProperties: typeSchema(type.slice(1, -1), deps) };
  const scalar = SCALARS[type];
  if (scalar) return { ...scalar };
  if (!PKG_OF.has(type)) throw new Error(`openapi-schemas: unknown type ${type}`);
  deps.add(type);
  // kube-apiserver wraps references in allOf so siblings (default, extensions) stay legal in OpenAPI 3.0.
  return { allOf: [ref(refName(type))], default: {} };
}

/** Object schema from a field map. */
function objectSchema(fields: Fields, deps: Set<string>): Schema {
  const properties: Record<string, Schema> = {};
  const required: string[] = [];
  for (const [name, spec] of Object.entries(fields)) {
    const f = fieldSchema(spec, deps);
    properties[name] = f.schema;
    if (f.required) required.push(name);
  }
  return { type: "object", properties, ...(required.length ? { required } : {}) };
}

const TYPE_META: Fields = { apiVersion: "string", kind: "string" };

/**
 * The top-level schema of a kind, or undefined when the kind is not described here.
 * `deps` receives the named types the schema refers to.
 */
export function describedKindSchema(group: string, kind: string, deps: Set<string>): Schema | undefined {
  const type = KIND_TYPES[`${group}/${kind}`];
  if (!type) return undefined;
  return kindBody(type, deps);
}

function kindBody(type: string, deps: Set<string>): Schema {
  const fields = DEFS[PKG_OF.get(type)!][type];
  return objectSchema({ ...TYPE_META, metadata: "ObjectMeta", ...fields }, deps);
}

/** Whether `kubectl apply` may compute strategic merge patches from this kind's published schema. */
export function isDescribed(group: string, kind: string): boolean {
  return `${group}/${kind}` in KIND_TYPES;
}

/** A schema for a kind nothing describes: typed metadata, everything else kept as sent. */
export function permissiveKindSchema(deps: Set<string>): Schema {
  return { ...objectSchema({ ...TYPE_META, metadata: "ObjectMeta" }, deps), "x-kubernetes-preserve-unknown-fields": true };
}

/** The List kind for an item schema name. */
export function listSchema(itemSchemaName: string, deps: Set<string>): Schema {
  deps.add("ListMeta");
  return {
    type: "object",
    required: ["items"],
    properties: {
      apiVersion: { type: "string" },
      kind: { type: "string" },
      metadata: { allOf: [ref(refName("ListMeta"))], default: {} },
      items: { type: "array", items: { allOf: [ref(itemSchemaName)], default: {} } },
    },
  };
}

/**
 * Every named type `roots` refer to, transitively, as schema name -> schema. Kind types themselves get
 * no GVK here; the document builder adds kinds under their served group-version names.
 */
export function closure(roots: Iterable<string>): Map<string, Schema> {
  const out = new Map<string, Schema>();
  const queue = [...roots];
  while (queue.length) {
    const type = queue.pop()!;
    const name = refName(type);
    if (out.has(name)) continue;
    const deps = new Set<string>();
    const fields = DEFS[PKG_OF.get(type)!][type];
    const isKind = Object.values(KIND_TYPES).includes(type);
    out.set(name, isKind ? kindBody(type, deps) : objectSchema(fields, deps));
    queue.push(...deps);
  }
  return out;
}

/** Whether a bare type name is described here (used for the standard meta types). */
export function hasType(type: string): boolean {
  return PKG_OF.has(type);
}
