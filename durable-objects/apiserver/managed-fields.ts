// metadata.managedFields: which manager owns which fields, in kube's FieldsV1 form
// (`{"f:data":{"f:key":{}}}`; keyed list items `k:{"name":"x"}` with `.` for the item itself;
// set-like scalar lists `v:"x"`). Server-side apply (patch/apply.ts) uses this to remove fields a
// manager stopped applying and to detect conflicts; every other write records an "Update" entry.
//
// Hand-written, a small model of sigs.k8s.io/structured-merge-diff: list semantics come from the
// strategic merge keys table (strategic-keys.ts) instead of OpenAPI schemas; lists without a
// strategy are atomic (one leaf), as SMD treats them for schemaless custom resources. Fields are
// tracked as flat sets of paths; a path is an array of FieldsV1 elements.
import { MERGE_PRIMITIVE, REPLACE_STRATEGY } from "./patch/strategic.js";
import type { KubeObject } from "./types.js";

type Json = unknown;
type JsonMap = Record<string, Json>;
export type FieldsV1 = { [element: string]: FieldsV1 };

export interface ManagedFieldsEntry {
  manager: string;
  operation: "Apply" | "Update";
  apiVersion: string;
  time?: string;
  fieldsType: "FieldsV1";
  fieldsV1: FieldsV1;
  subresource?: string;
}

/** An entry with its fields as a set of path keys (JSON of the element array). */
export interface Owner {
  entry: ManagedFieldsEntry;
  fields: Set<string>;
}

const isMap = (v: Json): v is JsonMap => typeof v === "object" && v !== null && !Array.isArray(v);

/** Fields kube strips from every field set: identity and server-owned metadata. */
const STRIPPED_META = ["name", "namespace", "uid", "resourceVersion", "creationTimestamp", "generation", "managedFields", "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds"];

/** Top-level fields a write may own: status only via /status on kinds with that subresource. */
function ownable(obj: KubeObject, subresource: string | undefined, statusSeparate: boolean): JsonMap {
  if (subresource === "status") return obj.status === undefined ? {} : { status: obj.status };
  const { apiVersion: _a, kind: _k, status, ...rest } = obj;
  const out: JsonMap = { ...rest };
  if (!statusSeparate && status !== undefined) out.status = status;
  if (isMap(rest.metadata)) {
    const meta = { ...rest.metadata };
    for (const f of STRIPPED_META) delete meta[f];
    if (Object.keys(meta).length) out.metadata = meta;
    else delete out.metadata;
  }
  return out;
}

function listStrategy(keys: Record<string, string>, path: string): { key: string } | "set" | "atomic" {
  const s = Object.prototype.hasOwnProperty.call(keys, path) ? keys[path] : undefined;
  if (s === undefined || s === REPLACE_STRATEGY) return "atomic";
  if (s === "" || s === MERGE_PRIMITIVE) return "set";
  return { key: s };
}

const itemKey = (key: string, item: Json) => `k:${JSON.stringify({ [key]: (item as JsonMap)[key] })}`;

/**
 * The member paths of a value (SMD's "set of fields this config specifies"): leaves, atomic lists,
 * empty maps, and keyed list items (`.`); non-empty maps are represented by their children only.
 */
function collect(v: Json, keys: Record<string, string>, dotted: string, prefix: string[], out: Set<string>): void {
  if (isMap(v)) {
    const entries = Object.entries(v).filter(([, x]) => x !== undefined);
    if (!entries.length && prefix.length) out.add(JSON.stringify(prefix));
    for (const [k, x] of entries) collect(x, keys, dotted ? `${dotted}.${k}` : k, [...prefix, `f:${k}`], out);
    return;
  }
  if (Array.isArray(v) && v.length) {
    const s = listStrategy(keys, dotted);
    if (s === "set" && v.every((x) => !isMap(x) && !Array.isArray(x))) {
      for (const x of v) out.add(JSON.stringify([...prefix, `v:${JSON.stringify(x)}`]));
      return;
    }
    if (typeof s === "object" && v.every((x) => isMap(x) && x[s.key] !== undefined)) {
      for (const x of v) {
        const p = [...prefix, itemKey(s.key, x)];
        out.add(JSON.stringify([...p, "."]));
        collect(x, keys, dotted, p, out);
      }
      return;
    }
  }
  out.add(JSON.stringify(prefix));
}

export interface FieldScope {
  mergeKeys: Record<string, string>;
  subresource?: string;
  /** The kind has a status subresource (main-resource writes do not own status). */
  statusSeparate: boolean;
}

export function fieldsOf(obj: KubeObject, scope: FieldScope): Set<string> {
  const out = new Set<string>();
  collect(ownable(obj, scope.subresource, scope.statusSeparate), scope.mergeKeys, "", [], out);
  out.delete("[]");
  return out;
}

// ---- FieldsV1 <-> path sets ----------------------------------------------------------------

export function toFieldsV1(paths: Set<string>): FieldsV1 {
  const root: FieldsV1 = {};
  for (const key of [...paths].sort()) {
    let node = root;
    for (const el of JSON.parse(key) as string[]) node = node[el] ??= {};
  }
  return root;
}

export function fromFieldsV1(f: unknown, prefix: string[] = [], out = new Set<string>()): Set<string> {
  if (!isMap(f)) return out;
  const children = Object.keys(f);
  if (!children.length && prefix.length) out.add(JSON.stringify(prefix));
  for (const el of children) {
    if (el === ".") out.add(JSON.stringify([...prefix, "."]));
    else fromFieldsV1(f[el], [...prefix, el], out);
  }
  return out;
}

/** Owners decoded from metadata.managedFields; malformed entries are dropped. */
export function decodeManagedFields(v: unknown): Owner[] {
  if (!Array.isArray(v)) return [];
  const out: Owner[] = [];
  for (const e of v) {
    if (!isMap(e) || typeof e.manager !== "string" || (e.operation !== "Apply" && e.operation !== "Update")) continue;
    const entry: ManagedFieldsEntry = {
      manager: e.manager,
      operation: e.operation,
      apiVersion: typeof e.apiVersion === "string" ? e.apiVersion : "",
      ...(typeof e.time === "string" ? { time: e.time } : {}),
      fieldsType: "FieldsV1",
      fieldsV1: isMap(e.fieldsV1) ? (e.fieldsV1 as FieldsV1) : {},
      ...(typeof e.subresource === "string" && e.subresource ? { subresource: e.subresource } : {}),
    };
    out.push({ entry, fields: fromFieldsV1(entry.fieldsV1) });
  }
  return out;
}

/** Back to metadata.managedFields (owners with no fields left are dropped, like kube). */
export function encodeManagedFields(owners: Owner[]): ManagedFieldsEntry[] {
  return owners.filter((o) => o.fields.size).map((o) => ({ ...o.entry, fieldsType: "FieldsV1" as const, fieldsV1: toFieldsV1(o.fields) }));
}

/** managedFields equal apart from timestamps (a write changing only those is a no-op in kube). */
export function sameOwnership(a: unknown, b: unknown): boolean {
  const strip = (v: unknown) => JSON.stringify(decodeManagedFields(v).map((o) => [o.entry.manager, o.entry.operation, o.entry.apiVersion, o.entry.subresource ?? "", [...o.fields].sort()]));
  return strip(a) === strip(b);
}

export const sameOwner = (e: ManagedFieldsEntry, manager: string, operation: string, subresource?: string) =>
  e.manager === manager && e.operation === operation && (e.subresource ?? "") === (subresource ?? "");

// ---- values at paths -------------------------------------------------------------------------

function matchItem(list: Json[], el: string): number {
  if (el.startsWith("k:")) {
    let key: JsonMap;
    try {
      key = JSON.parse(el.slice(2)) as JsonMap;
    } catch {
      return -1;
    }
    return list.findIndex((x) => isMap(x) && Object.entries(key).every(([k, v]) => JSON.stringify(x[k]) === JSON.stringify(v)));
  }
  if (el.startsWith("v:")) return list.findIndex((x) => JSON.stringify(x) === el.slice(2));
  if (el.startsWith("i:")) return Number(el.slice(2));
  return -1;
}

/** The value a path denotes (a list item for `k:`/`v:` + `.`), or undefined. */
export function valueAt(root: Json, path: string[]): Json {
  let cur = root;
  for (const el of path) {
    if (el === ".") return cur;
    if (el.startsWith("f:")) cur = isMap(cur) ? cur[el.slice(2)] : undefined;
    else cur = Array.isArray(cur) ? cur[matchItem(cur, el)] : undefined;
    if (cur === undefined) return undefined;
  }
  return cur;
}

/** Remove the field or list item a path denotes (in place). */
export function removeAt(root: Json, path: string[]): void {
  const p = path[path.length - 1] === "." ? path.slice(0, -1) : path;
  if (!p.length) return;
  const parent = valueAt(root, p.slice(0, -1));
  const last = p[p.length - 1];
  if (last.startsWith("f:")) {
    if (isMap(parent)) delete parent[last.slice(2)];
  } else if (Array.isArray(parent)) {
    const i = matchItem(parent, last);
    if (i >= 0) parent.splice(i, 1);
  }
}

/** SMD's path notation for conflict messages: `.spec.containers[name="nginx"].image`. */
export function pathString(key: string): string {
  let s = "";
  for (const el of JSON.parse(key) as string[]) {
    if (el === ".") continue;
    if (el.startsWith("f:")) s += `.${el.slice(2)}`;
    else if (el.startsWith("k:")) {
      try {
        s += `[${Object.entries(JSON.parse(el.slice(2)) as JsonMap).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(",")}]`;
      } catch {
        s += `[${el.slice(2)}]`;
      }
    } else if (el.startsWith("v:")) s += `[=${el.slice(2)}]`;
    else if (el.startsWith("i:")) s += `[${el.slice(2)}]`;
  }
  return s;
}

// ---- Update operations -----------------------------------------------------------------------

export interface Writer {
  manager: string;
  apiVersion: string;
  subresource?: string;
}

/**
 * Ownership after a non-apply write (create, update, merge/strategic/JSON patch): the writer takes
 * the fields it added or changed (from whoever owned them, without conflicts, as in kube), and
 * fields the write removed are owned by no one.
 */
export function recordUpdate(owners: Owner[], before: KubeObject | undefined, after: KubeObject, writer: Writer, scope: FieldScope, time: string): Owner[] {
  const afterFields = fieldsOf(after, scope);
  const changed = new Set<string>();
  for (const key of afterFields) {
    const path = JSON.parse(key) as string[];
    const was = before === undefined ? undefined : valueAt(before, path);
    if (path[path.length - 1] === "." ? was === undefined : JSON.stringify(was) !== JSON.stringify(valueAt(after, path))) changed.add(key);
  }
  const out: Owner[] = [];
  let mine: Owner | undefined;
  for (const o of owners) {
    const fields = new Set([...o.fields].filter((k) => !changed.has(k) && valueAt(after, JSON.parse(k) as string[]) !== undefined));
    const next = { entry: o.entry, fields };
    if (sameOwner(o.entry, writer.manager, "Update", writer.subresource)) mine = next;
    out.push(next);
  }
  if (!changed.size) return out;
  if (!mine) {
    mine = { entry: { manager: writer.manager, operation: "Update", apiVersion: writer.apiVersion, fieldsType: "FieldsV1", fieldsV1: {}, ...(writer.subresource ? { subresource: writer.subresource } : {}) }, fields: new Set() };
    out.push(mine);
  }
  for (const k of changed) mine.fields.add(k);
  mine.entry = { ...mine.entry, apiVersion: writer.apiVersion, time };
  return out;
}

/** kube's default field manager for non-apply writes: ?fieldManager=, else the user agent up to "/". */
export function managerFor(fieldManager: string | null, userAgent: string | null): string {
  if (fieldManager) return fieldManager;
  return (userAgent ?? "").split("/")[0].slice(0, 128) || "unknown";
}
