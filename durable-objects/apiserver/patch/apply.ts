// Server-side apply (`application/apply-patch+yaml`) with field ownership, after kube's
// structured-merge-diff: the applied configuration is merged over the live object (strategic merge
// semantics: keyed lists merge by key, maps merge, other lists are atomic); fields this manager
// applied before but omits now are removed unless another manager also owns them; a field owned by
// another manager whose value would change is a 409 conflict unless force=true, which moves the
// ownership to the applier. Ownership is kept in metadata.managedFields (see managed-fields.ts).
//
// LIMITATIONS (deliberate): list semantics come from the strategic-merge key table (single merge
// keys, e.g. ports by containerPort only) rather than OpenAPI `x-kubernetes-list-map-keys`; custom
// resources' lists are atomic; no server-side defaulting happens between merge and ownership, so a
// defaulted field is never owned by anyone; the apply result is not re-validated against a schema.

import { pathString, removeAt, valueAt } from "../field-paths.js";
import { decodeManagedFields, encodeManagedFields, fieldsOf, sameOwner, type FieldScope, type ManagedFieldsEntry, type Owner } from "../managed-fields.js";
import { ApiError, type KubeObject } from "../types.js";
import { isObject } from "../json.js";
import { cloneJson } from "./merge.js";
import { applyStrategicMergePatch } from "./strategic.js";

export interface ApplyRequest {
  manager: string;
  /** apiVersion the client addressed (recorded in the entry). */
  apiVersion: string;
  force: boolean;
  time: string;
  scope: FieldScope;
}

export interface ApplyResult {
  object: KubeObject;
  managedFields: ManagedFieldsEntry[];
}


/** kube's conflict Status: one cause per field, message as fieldmanager's NewConflictError prints it. */
function conflictError(conflicts: Array<{ owner: ManagedFieldsEntry; path: string }>): ApiError {
  const who = (e: ManagedFieldsEntry) => {
    let s = JSON.stringify(e.manager);
    if (e.subresource) s += ` with subresource ${JSON.stringify(e.subresource)}`;
    if (e.operation === "Update") s += e.time ? ` using ${e.apiVersion} at ${e.time}` : ` using ${e.apiVersion}`;
    return s;
  };
  const causes = conflicts.map((c) => ({ type: "FieldManagerConflict", message: `conflict with ${who(c.owner)}`, field: c.path }));
  let message: string;
  if (conflicts.length === 1) message = `Apply failed with 1 conflict: conflict with ${who(conflicts[0].owner)}: ${conflicts[0].path}`;
  else {
    const byManager = new Map<string, string[]>();
    for (const c of conflicts) byManager.set(who(c.owner), [...(byManager.get(who(c.owner)) ?? []), c.path]);
    const lines: string[] = [];
    for (const m of [...byManager.keys()].sort()) lines.push(`conflicts with ${m}:`, ...byManager.get(m)!.map((p) => `- ${p}`));
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join("\n")}`;
  }
  return new ApiError(409, "Conflict", message, { causes });
}

/** The key field of a keyed list item (`...k:{"name":"x"}, f:name`): it stays while the item does. */
function isItemKeyField(key: string): boolean {
  const path = JSON.parse(key) as string[];
  const [parent, last] = path.slice(-2);
  if (!parent?.startsWith("k:") || !last?.startsWith("f:")) return false;
  try {
    return Object.prototype.hasOwnProperty.call(JSON.parse(parent.slice(2)), last.slice(2));
  } catch {
    return false;
  }
}

/**
 * Maps left empty by a removal go too (Go's omitempty drops them from built-in objects, e.g. labels
 * or data), unless someone owns the empty map itself.
 */
function pruneEmptyParents(root: KubeObject, path: string[], owned: Set<string>): void {
  let p = path[path.length - 1] === "." ? path.slice(0, -1) : path;
  while (p.length > 1) {
    p = p.slice(0, -1);
    if (!p[p.length - 1].startsWith("f:")) return;
    const v = valueAt(root, p);
    if (!isObject(v) || Object.keys(v).length || owned.has(JSON.stringify(p))) return;
    removeAt(root, p);
  }
}

/**
 * The merge alone: `applied` over `existing` (a copy of `applied` when nothing exists), keeping
 * every field it does not mention — what an apply by a manager that owns nothing yet does.
 */
export function applyServerSideApply(existing: KubeObject | undefined, applied: KubeObject, mergeKeys: Record<string, string>): KubeObject {
  return existing === undefined ? cloneJson(applied) : (applyStrategicMergePatch(existing, applied, mergeKeys) as KubeObject);
}

/**
 * Full server-side apply. `live` undefined -> the create case. Returns the merged object and the
 * managedFields to store with it, or throws a 409 Conflict Status.
 */
export function serverSideApply(live: KubeObject | undefined, applied: KubeObject, mergeKeys: Record<string, string>, req: ApplyRequest): ApplyResult {
  if (isObject(applied.metadata) && applied.metadata.managedFields !== undefined && applied.metadata.managedFields !== null) {
    throw new ApiError(400, "BadRequest", "metadata.managedFields must be nil");
  }
  const merged = applyServerSideApply(live, applied, mergeKeys);

  const owners = decodeManagedFields(live?.metadata?.managedFields);
  const sub = req.scope.subresource;
  const mine = owners.find((o) => sameOwner(o.entry, req.manager, "Apply", sub));
  const others = owners.filter((o) => o !== mine);
  const appliedFields = fieldsOf(applied, req.scope);

  // Conflicts: fields others own whose value this apply changes. Items and maps (".") never conflict
  // by themselves; their leaves do.
  const conflicts: Array<{ owner: ManagedFieldsEntry; path: string; key: string; o: Owner }> = [];
  for (const key of appliedFields) {
    const path = JSON.parse(key) as string[];
    if (path[path.length - 1] === ".") continue;
    const before = live === undefined ? undefined : valueAt(live, path);
    if (JSON.stringify(before) === JSON.stringify(valueAt(applied, path))) continue;
    for (const o of others) if (o.fields.has(key)) conflicts.push({ owner: o.entry, path: pathString(key), key, o });
  }
  if (conflicts.length && !req.force) throw conflictError(conflicts);
  for (const c of conflicts) {
    c.o.fields.delete(c.key); // force: ownership moves to the applier
    delete c.o.encoded;
  }

  // Fields this manager applied before and omits now go, unless someone else (still) owns them or
  // anything below them.
  const ownedByOthers = (key: string) => {
    const prefix = key.endsWith(',"."]') ? key.slice(0, -5) : key.slice(0, -1);
    return others.some((o) => o.fields.has(key) || [...o.fields].some((k) => k.startsWith(prefix) && k !== key && k[prefix.length] === ","));
  };
  const dropped = [...(mine?.fields ?? [])].filter((k) => !appliedFields.has(k) && !ownedByOthers(k) && !isItemKeyField(k));
  // Deepest first, so removing an item never precedes removing its own fields.
  dropped.sort((a, b) => b.length - a.length);
  const stillOwned = new Set([...appliedFields, ...others.flatMap((o) => [...o.fields])]);
  for (const k of dropped) {
    const path = JSON.parse(k) as string[];
    removeAt(merged, path);
    pruneEmptyParents(merged, path, stillOwned);
  }

  const entry: ManagedFieldsEntry = { manager: req.manager, operation: "Apply", apiVersion: req.apiVersion, time: req.time, fieldsType: "FieldsV1", fieldsV1: {}, ...(sub ? { subresource: sub } : {}) };
  // Unchanged ownership keeps the old timestamp, so re-applying the same manifest is a no-op.
  const unchanged = mine && mine.fields.size === appliedFields.size && [...appliedFields].every((k) => mine.fields.has(k)) && !conflicts.length;
  const next: Owner[] = owners.map((o) => (o === mine ? { entry: unchanged ? o.entry : entry, fields: appliedFields } : o));
  if (!mine) next.push({ entry, fields: appliedFields });
  return { object: merged, managedFields: encodeManagedFields(next) };
}
