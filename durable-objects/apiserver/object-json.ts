// JSON text of stored objects, computed once per write. A write serializes the same stored object for
// its SQLite row, for every watch event line and for its own response; on the management cluster that
// was three JSON.stringify calls per write. Stored objects are never changed after the store commits
// them (every write builds a new object), so their text can be shared by identity.
//
// Only the most recent objects are kept: the three users run within one request, and remembering the
// text of every stored object would double the memory of a cluster that only serves reads.
import type { KubeObject } from "./types.js";

const RECENT = 32;
const recent = new Map<object, string>();

function remember(obj: KubeObject, text: string): string {
  recent.delete(obj);
  recent.set(obj, text);
  if (recent.size > RECENT) recent.delete(recent.keys().next().value!);
  return text;
}

/** Serializes an object the store is committing, for the writes' other users to share. */
export function encodeCommitted(obj: KubeObject): string {
  return remember(obj, JSON.stringify(obj));
}

/** JSON.stringify(obj) for a stored object, shared with the other users of the same write. */
export function storedJson(obj: KubeObject): string {
  return recent.get(obj) ?? remember(obj, JSON.stringify(obj));
}

/** The object with apiVersion set to the one the client addressed, type meta first (as kube encodes it). */
export function relabel(obj: KubeObject, apiVersion: string): KubeObject {
  const { apiVersion: _a, kind, ...rest } = obj;
  return { apiVersion, kind, ...rest };
}

/** True when `relabel(obj, apiVersion)` would serialize exactly like `obj`. */
function alreadyLabelled(obj: KubeObject, apiVersion: string): boolean {
  if (obj.apiVersion !== apiVersion) return false;
  let i = 0;
  for (const k in obj) {
    if (k !== (i === 0 ? "apiVersion" : "kind")) return false;
    if (++i === 2) return true;
  }
  return false;
}

/** JSON of a stored object as served at `apiVersion`: `JSON.stringify(relabel(obj, apiVersion))`. */
export function jsonAt(obj: KubeObject, apiVersion: string): string {
  return alreadyLabelled(obj, apiVersion) ? storedJson(obj) : JSON.stringify(relabel(obj, apiVersion));
}
