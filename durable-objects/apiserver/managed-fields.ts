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
import { valueAt } from "./field-paths.js";
import { isObject } from "./json.js";
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
  /** toFieldsV1(fields), when known to be current (an owner this server encoded); whoever changes `fields` drops it. */
  encoded?: FieldsV1;
}


/** Fields kube strips from every field set: identity and server-owned metadata. */
const STRIPPED_META = ["name", "namespace", "uid", "resourceVersion", "creationTimestamp", "generation", "managedFields", "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds"];

/** Top-level fields a write may own: status only via /status on kinds with that subresource. */
function ownable(obj: KubeObject, subresource: string | undefined, statusSeparate: boolean): JsonMap {
  if (subresource === "status") return obj.status === undefined ? {} : { status: obj.status };
  const { apiVersion: _a, kind: _k, status, ...rest } = obj;
  const out: JsonMap = { ...rest };
  if (!statusSeparate && status !== undefined) out.status = status;
  if (isObject(rest.metadata)) {
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
 * A path key is the JSON of its element array; prefixes are kept as the joined element JSON to build keys cheaply.
 * Element JSON is remembered: the same field names come up on every write (bounded, as user data adds its own).
 */
const elementJson = new Map<string, string>();
function jsonOfElement(element: string): string {
  let json = elementJson.get(element);
  if (json === undefined) {
    if (elementJson.size >= 8192) elementJson.clear();
    elementJson.set(element, (json = JSON.stringify(element)));
  }
  return json;
}
const extend = (prefix: string, element: string) => (prefix ? `${prefix},${jsonOfElement(element)}` : jsonOfElement(element));
const keyOf = (prefix: string) => `[${prefix}]`;

interface Walk {
  keys: Record<string, string>;
  fields: Set<string>;
  /** When set: the keys whose value differs from the `before` object's (a keyed item: is new there). */
  changed?: Set<string>;
}

/** The first list item that valueAt would resolve `element` to (what a path into a list denotes). */
function firstByElement(list: Json, element: (x: Json) => string | undefined): Map<string, Json> {
  const out = new Map<string, Json>();
  if (Array.isArray(list)) {
    for (const x of list) {
      const e = element(x);
      if (e !== undefined && !out.has(e)) out.set(e, x);
    }
  }
  return out;
}

/**
 * The member paths of a value (SMD's "set of fields this config specifies"): leaves, atomic lists,
 * empty maps, and keyed list items (`.`); non-empty maps are represented by their children only.
 * With `w.changed`, also which of them differ between `after` and `before` (the values that valueAt
 * finds at the same path in the two whole objects), in the same walk.
 */
function collect(v: Json, after: Json, before: Json, dotted: string, prefix: string, w: Walk): void {
  if (isObject(v)) {
    let members = 0;
    for (const k of Object.keys(v)) {
      const x = v[k];
      if (x === undefined) continue;
      members++;
      const a = isObject(after) ? after[k] : undefined;
      const b = isObject(before) ? before[k] : undefined;
      collect(x, a, b, dotted ? `${dotted}.${k}` : k, extend(prefix, `f:${k}`), w);
    }
    if (!members && prefix) addLeaf(prefix, after, before, w);
    return;
  }
  if (Array.isArray(v) && v.length) {
    const s = listStrategy(w.keys, dotted);
    if (s === "set" && v.every((x) => !isObject(x) && !Array.isArray(x))) {
      const inBefore = w.changed && Array.isArray(before) ? new Set(before.map((x) => JSON.stringify(x))) : undefined;
      for (const x of v) {
        const json = JSON.stringify(x);
        const key = keyOf(extend(prefix, `v:${json}`));
        w.fields.add(key);
        if (w.changed && !inBefore?.has(json)) w.changed.add(key);
      }
      return;
    }
    if (typeof s === "object" && v.every((x) => isObject(x) && x[s.key] !== undefined)) {
      const byKey = (x: Json) => (isObject(x) ? JSON.stringify(x[s.key]) : undefined);
      const afterItems = w.changed ? firstByElement(after, byKey) : undefined;
      const beforeItems = w.changed ? firstByElement(before, byKey) : undefined;
      for (const x of v) {
        const p = extend(prefix, itemKey(s.key, x));
        const dot = keyOf(extend(p, "."));
        const id = byKey(x)!;
        const b = beforeItems?.get(id);
        w.fields.add(dot);
        if (w.changed && b === undefined) w.changed.add(dot);
        collect(x, afterItems?.get(id), b, dotted, p, w);
      }
      return;
    }
  }
  addLeaf(prefix, after, before, w);
}

function addLeaf(prefix: string, after: Json, before: Json, w: Walk): void {
  const key = keyOf(prefix);
  w.fields.add(key);
  if (w.changed && !sameValue(before, after)) w.changed.add(key);
}

/** Scalars compare as they are; only two maps or lists (atomic values) need their JSON compared. */
function sameValue(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

export interface FieldScope {
  mergeKeys: Record<string, string>;
  subresource?: string;
  /** The kind has a status subresource (main-resource writes do not own status). */
  statusSeparate: boolean;
}

/** The fields of `obj`, and with `changed`, which of them differ from `before`'s (all when there is no `before`). */
function walkFields(obj: KubeObject, scope: FieldScope, changed?: { before: KubeObject | undefined }): Walk {
  const w: Walk = { keys: scope.mergeKeys, fields: new Set(), ...(changed ? { changed: new Set<string>() } : {}) };
  collect(ownable(obj, scope.subresource, scope.statusSeparate), obj, changed?.before, "", "", w);
  w.fields.delete("[]");
  w.changed?.delete("[]");
  return w;
}

export function fieldsOf(obj: KubeObject, scope: FieldScope): Set<string> {
  return walkFields(obj, scope).fields;
}

// ---- FieldsV1 <-> path sets ----------------------------------------------------------------

export function toFieldsV1(paths: Set<string>): FieldsV1 {
  return encodeFields(paths).fieldsV1;
}

/**
 * FieldsV1 of a path set, and the paths it decodes back to: a path with a longer path below it in the
 * set is only an inner node of the FieldsV1 tree and does not come back. Sorted, a path's extensions
 * (`["a","b"]` for `["a"]`) come right before it (`,` sorts before `]`), so one look back finds them.
 */
function encodeFields(paths: Set<string>): { fieldsV1: FieldsV1; decoded: Set<string> } {
  const root: FieldsV1 = {};
  const decoded = new Set<string>();
  let previous = "";
  for (const key of [...paths].sort()) {
    let node = root;
    for (const el of JSON.parse(key) as string[]) node = node[el] ??= {};
    if (!previous.startsWith(`${key.slice(0, -1)},`)) decoded.add(key);
    previous = key;
  }
  return { fieldsV1: root, decoded };
}

export function fromFieldsV1(f: unknown, prefix: string[] = [], out = new Set<string>()): Set<string> {
  if (!isObject(f)) return out;
  const children = Object.keys(f);
  if (!children.length && prefix.length) out.add(JSON.stringify(prefix));
  for (const el of children) {
    if (el === ".") out.add(JSON.stringify([...prefix, "."]));
    else fromFieldsV1(f[el], [...prefix, el], out);
  }
  return out;
}

/**
 * managedFields lists this server encoded, with their owners: a stored object's list is decoded on every
 * write to it, and parsing the FieldsV1 back into path sets was a large share of a write. Stored objects
 * are never mutated (writes replace them), so the list object identifies its content.
 */
const ownersOfEncoded = new WeakMap<object, Owner[]>();

/** Owners decoded from metadata.managedFields; malformed entries are dropped. Callers own the result. */
export function decodeManagedFields(v: unknown): Owner[] {
  if (!Array.isArray(v)) return [];
  const known = ownersOfEncoded.get(v);
  if (known) return known.map((o) => ({ entry: { ...o.entry }, fields: new Set(o.fields), encoded: o.encoded }));
  const out: Owner[] = [];
  for (const e of v) {
    if (!isObject(e) || typeof e.manager !== "string" || (e.operation !== "Apply" && e.operation !== "Update")) continue;
    const entry: ManagedFieldsEntry = {
      manager: e.manager,
      operation: e.operation,
      apiVersion: typeof e.apiVersion === "string" ? e.apiVersion : "",
      ...(typeof e.time === "string" ? { time: e.time } : {}),
      fieldsType: "FieldsV1",
      fieldsV1: isObject(e.fieldsV1) ? (e.fieldsV1 as FieldsV1) : {},
      ...(typeof e.subresource === "string" && e.subresource ? { subresource: e.subresource } : {}),
    };
    out.push({ entry, fields: fromFieldsV1(entry.fieldsV1) });
  }
  return out;
}

/** Back to metadata.managedFields (owners with no fields left are dropped, like kube). */
export function encodeManagedFields(owners: Owner[]): ManagedFieldsEntry[] {
  const kept = owners.filter((o) => o.fields.size);
  const cached: Owner[] = [];
  const entries = kept.map(({ entry: e, encoded, fields }): ManagedFieldsEntry => {
    // An owner with `encoded` came from this cache and only lost fields since, so it is in decoded form.
    const f = encoded ? { fieldsV1: encoded, decoded: fields } : encodeFields(fields);
    // Members in the order of kube's ManagedFieldsEntry, whatever order the entry was built in.
    const entry: ManagedFieldsEntry = {
      manager: e.manager,
      operation: e.operation,
      apiVersion: e.apiVersion,
      ...(e.time !== undefined ? { time: e.time } : {}),
      fieldsType: "FieldsV1",
      fieldsV1: f.fieldsV1,
      ...(e.subresource ? { subresource: e.subresource } : {}),
    };
    cached.push({ entry, fields: new Set(f.decoded), encoded: f.fieldsV1 });
    return entry;
  });
  ownersOfEncoded.set(entries, cached);
  return entries;
}

/** managedFields equal apart from timestamps (a write changing only those is a no-op in kube). */
export function sameOwnership(a: unknown, b: unknown): boolean {
  const strip = (v: unknown) => JSON.stringify(decodeManagedFields(v).map((o) => [o.entry.manager, o.entry.operation, o.entry.apiVersion, o.entry.subresource ?? "", [...o.fields].sort()]));
  return strip(a) === strip(b);
}

export const sameOwner = (e: ManagedFieldsEntry, manager: string, operation: string, subresource?: string) =>
  e.manager === manager && e.operation === operation && (e.subresource ?? "") === (subresource ?? "");

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
  const walk = walkFields(after, scope, { before });
  const afterFields = walk.fields;
  const changed = walk.changed!;
  const out: Owner[] = [];
  let mine: Owner | undefined;
  let mineBefore: Owner | undefined;
  const inScope = writeScope(scope);
  for (const o of owners) {
    // A field the write could not touch stays; one it could stays when `after` has it among its own
    // fields (the usual case) or valueAt finds it.
    const fields = new Set<string>();
    for (const k of o.fields) {
      if (!inScope(k) || (!changed.has(k) && (afterFields.has(k) || valueAt(after, JSON.parse(k) as string[]) !== undefined))) fields.add(k);
    }
    const next: Owner = { entry: o.entry, fields, ...(fields.size === o.fields.size && o.encoded ? { encoded: o.encoded } : {}) };
    if (sameOwner(o.entry, writer.manager, "Update", writer.subresource)) {
      mine = next;
      mineBefore = o;
    }
    out.push(next);
  }
  if (!changed.size) return out;
  if (!mine) {
    mine = { entry: { manager: writer.manager, operation: "Update", apiVersion: writer.apiVersion, fieldsType: "FieldsV1", fieldsV1: {}, ...(writer.subresource ? { subresource: writer.subresource } : {}) }, fields: new Set() };
    out.push(mine);
  }
  for (const k of changed) mine.fields.add(k);
  mine.entry = { ...mine.entry, apiVersion: writer.apiVersion, time };
  // The usual write (a controller updating the status it already owns) leaves the writer with exactly
  // the fields it had: its encoded FieldsV1 still says that, so it is not built again.
  if (mineBefore?.encoded && sameSet(mine.fields, mineBefore.fields)) mine.encoded = mineBefore.encoded;
  else delete mine.encoded;
  return out;
}

const STATUS_PREFIX = '["f:status"';

/** Which path keys a write in `scope` can change: a status write only status, a main write on a kind with a status subresource all but status. */
function writeScope(scope: FieldScope): (key: string) => boolean {
  if (scope.subresource === "status") return (k) => k.startsWith(STATUS_PREFIX);
  if (scope.statusSeparate) return (k) => !k.startsWith(STATUS_PREFIX);
  return () => true;
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const k of a) if (!b.has(k)) return false;
  return true;
}

/** kube's default field manager for non-apply writes: ?fieldManager=, else the user agent up to "/". */
export function managerFor(fieldManager: string | null, userAgent: string | null): string {
  if (fieldManager) return fieldManager;
  return (userAgent ?? "").split("/")[0].slice(0, 128) || "unknown";
}
