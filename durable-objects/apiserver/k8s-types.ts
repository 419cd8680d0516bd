// Lookups over the generated k8s.io/api tables (protobuf-schemas/k8s.ts, written by tools/k8s-types from the
// Go structs' tags): which message describes a built-in kind, and a message's fields by JSON name.
// Everything the apiserver knows about built-in types' shapes (protobuf decoding, type checks of writes,
// strategic merge keys) comes from these tables, so it cannot drift from k8s.io/api.
import { KINDS, MESSAGES } from "./protobuf-schemas/k8s.js";
import type { Field } from "./protobuf-schemas/types.js";

/** The message describing objects of `apiVersion`/`kind`, or undefined when the kind is not built in. */
export function builtInMessage(apiVersion: string, kind: string): string | undefined {
  return KINDS[`${apiVersion}/${kind}`];
}

let byGroupKind: Map<string, string> | undefined;

/** The message of a built-in kind in any served version (their struct tags agree across versions). */
export function messageOfGroupKind(group: string, kind: string): string | undefined {
  if (!byGroupKind) {
    byGroupKind = new Map();
    for (const [gvk, message] of Object.entries(KINDS)) {
      const [gv, k] = [gvk.slice(0, gvk.lastIndexOf("/")), gvk.slice(gvk.lastIndexOf("/") + 1)];
      const g = gv.includes("/") ? gv.slice(0, gv.indexOf("/")) : "";
      if (!byGroupKind.has(`${g}/${k}`)) byGroupKind.set(`${g}/${k}`, message);
    }
  }
  return byGroupKind.get(`${group}/${kind}`);
}

const fieldTables = new Map<string, Map<string, Field>>();

/** JSON name -> field of a message, with inline (embedded) structs flattened into their parent. */
export function fieldsOf(message: string): Map<string, Field> {
  let table = fieldTables.get(message);
  if (table) return table;
  table = new Map();
  for (const f of Object.values(MESSAGES[message] ?? {})) {
    if (f.inline) for (const [name, inner] of fieldsOf(f.type)) table.set(name, inner);
    else table.set(f.name, f);
  }
  fieldTables.set(message, table);
  return table;
}

/** Whether `type` names a message (as opposed to a scalar with its own JSON form). */
export function isMessage(type: string): boolean {
  return type in MESSAGES;
}
