// JSON Merge Patch (RFC 7386), as kube-apiserver applies `application/merge-patch+json`.
// Hand-written: the algorithm is a dozen lines and kube's edge cases (top-level null) need control.

import { isObject } from "../json.js";
import { ApiError } from "../types.js";


/**
 * Deep copy of JSON data (inputs are never mutated by the patch functions). Also the apiserver's clone
 * of stored objects: ~4x cheaper than structuredClone, which serializes through V8's wire format.
 */
export function cloneJson<T>(v: T): T {
  if (Array.isArray(v)) return v.map(cloneJson) as T;
  if (isObject(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) setOwn(out, k, cloneJson(x));
    return out as T;
  }
  return v;
}

/** out[k] = v, except that a "__proto__" key (valid in a ConfigMap's data) stays data instead of setting the prototype. */
export function setOwn(out: Record<string, unknown>, k: string, v: unknown): void {
  if (k === "__proto__") Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  else out[k] = v;
}

function merge(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return cloneJson(patch);
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else setOwn(out, k, merge(Object.hasOwn(out, k) ? out[k] : undefined, v));
  }
  // Untouched members are shared with `target`; copy so callers may mutate the result freely.
  for (const k of Object.keys(out)) if (!Object.hasOwn(patch, k)) setOwn(out, k, cloneJson(out[k]));
  return out;
}

/**
 * RFC 7386: objects merge recursively, `null` deletes a member, any non-object patch replaces
 * the target. Exception, as in kube-apiserver (evanphx/json-patch ErrBadJSONPatch): a patch that
 * is `null` as a whole is rejected with 400 BadRequest "Invalid JSON Patch".
 * A non-object patch (e.g. an array) replaces the whole object; kube then fails to decode the
 * result into the kind and answers 422 Invalid, which the caller should do for a non-object result.
 */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || patch === undefined) throw new ApiError(400, "BadRequest", "Invalid JSON Patch");
  return merge(target, patch);
}
