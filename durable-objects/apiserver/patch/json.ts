// JSON Patch (RFC 6902) with kube-apiserver's error mapping for `application/json-patch+json`:
//  - a body that does not decode as a list of operation objects -> 400 BadRequest (jsonpatch.DecodePatch),
//  - more than 10000 operations -> 413 RequestEntityTooLarge,
//  - any failure while applying (unknown op, missing path/member, failed test...) -> 422 Invalid
//    "the server rejected our request due to an error in our request" (kube builds it with
//    NewGenericServerResponse(422), which drops the underlying text; we keep it in details.causes).
// Semantics follow evanphx/json-patch v4 (what kube vendors) where it differs from the RFC:
// `test` of a missing path against null passes, and a missing `value` means null.
// Hand-written: small, and no maintained library reproduces kube's error classes.

import { ApiError } from "../types.js";
import { isObject } from "../json.js";
import { cloneJson } from "./merge.js";

export const MAX_JSON_PATCH_OPERATIONS = 10000;

class PatchFailure extends Error {}

function invalid(detail: string): ApiError {
  return new ApiError(422, "Invalid", "the server rejected our request due to an error in our request", {
    causes: [{ message: detail }],
  });
}

function goJsonType(v: unknown): string {
  if (Array.isArray(v)) return "array";
  if (v === null) return "null";
  if (typeof v === "object") return "object";
  if (typeof v === "boolean") return "bool";
  return typeof v; // string, number
}

function parsePointer(path: string): string[] {
  if (path === "") return [];
  if (!path.startsWith("/")) throw new PatchFailure(`invalid JSON pointer ${JSON.stringify(path)}: must start with '/'`);
  return path
    .slice(1)
    .split("/")
    .map((t) => t.replace(/~1/g, "/").replace(/~0/g, "~"));
}

function arrayIndex(token: string, length: number, allowEnd: boolean, path: string): number {
  if (allowEnd && token === "-") return length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new PatchFailure(`invalid array index ${JSON.stringify(token)} in ${path}`);
  const i = Number(token);
  if (i > length || (!allowEnd && i === length)) throw new PatchFailure(`array index ${i} out of bounds in ${path}`);
  return i;
}

/** The container holding the last token of `tokens`, walking from `doc`. */
function parentOf(doc: unknown, tokens: string[], path: string): unknown {
  let cur = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[arrayIndex(t, cur.length, false, path)];
    else if (isObject(cur) && Object.prototype.hasOwnProperty.call(cur, t)) cur = cur[t];
    else throw new PatchFailure(`doc is missing path: ${path}`);
  }
  return cur;
}

function get(doc: unknown, path: string): { found: boolean; value?: unknown } {
  let cur = doc;
  for (const t of parsePointer(path)) {
    if (Array.isArray(cur)) {
      if (!/^(0|[1-9][0-9]*)$/.test(t) || Number(t) >= cur.length) return { found: false };
      cur = cur[Number(t)];
    } else if (isObject(cur) && Object.prototype.hasOwnProperty.call(cur, t)) cur = cur[t];
    else return { found: false };
  }
  return { found: true, value: cur };
}

interface Doc {
  root: unknown;
}

function add(doc: Doc, path: string, value: unknown): void {
  const tokens = parsePointer(path);
  if (tokens.length === 0) {
    doc.root = value;
    return;
  }
  const parent = parentOf(doc.root, tokens, path);
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) parent.splice(arrayIndex(last, parent.length, true, path), 0, value);
  else if (isObject(parent)) parent[last] = value;
  else throw new PatchFailure(`add operation does not apply: doc is missing path: ${path}`);
}

function remove(doc: Doc, path: string, op: string): unknown {
  const tokens = parsePointer(path);
  if (tokens.length === 0) throw new PatchFailure(`${op} operation does not apply: cannot remove the document root`);
  const parent = parentOf(doc.root, tokens, path);
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) return parent.splice(arrayIndex(last, parent.length, false, path), 1)[0];
  if (isObject(parent) && Object.prototype.hasOwnProperty.call(parent, last)) {
    const v = parent[last];
    delete parent[last];
    return v;
  }
  throw new PatchFailure(`Unable to ${op} nonexistent key: ${last}: missing value`);
}

function replace(doc: Doc, path: string, value: unknown): void {
  const tokens = parsePointer(path);
  if (tokens.length === 0) {
    doc.root = value;
    return;
  }
  const parent = parentOf(doc.root, tokens, path);
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) parent[arrayIndex(last, parent.length, false, path)] = value;
  else if (isObject(parent) && Object.prototype.hasOwnProperty.call(parent, last)) parent[last] = value;
  else throw new PatchFailure(`replace operation does not apply: doc is missing key: ${path}: missing value`);
}

function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
}

function field(op: Record<string, unknown>, name: string): string {
  const v = op[name];
  if (typeof v !== "string") throw new PatchFailure(`operation missing ${name} field`);
  return v;
}

/**
 * Apply RFC 6902 `operations` (the parsed request body) to `target`. All-or-nothing: works on a
 * copy, inputs are never mutated. Throws ApiError 400/413/422 as described at the top.
 */
export function applyJsonPatch(target: unknown, operations: unknown): unknown {
  if (operations === null) return cloneJson(target); // Go decodes `null` as an empty patch
  if (!Array.isArray(operations)) {
    throw new ApiError(400, "BadRequest", `json: cannot unmarshal ${goJsonType(operations)} into Go value of type jsonpatch.Patch`);
  }
  for (const op of operations) {
    if (op !== null && !isObject(op)) {
      throw new ApiError(400, "BadRequest", `json: cannot unmarshal ${goJsonType(op)} into Go value of type jsonpatch.Operation`);
    }
  }
  if (operations.length > MAX_JSON_PATCH_OPERATIONS) {
    throw new ApiError(
      413,
      "RequestEntityTooLarge",
      `Request entity too large: The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${operations.length}`,
    );
  }
  const doc: Doc = { root: cloneJson(target) };
  try {
    for (const raw of operations as Array<Record<string, unknown> | null>) {
      const op = raw ?? {};
      const kind = typeof op.op === "string" ? op.op : "unknown";
      const value = "value" in op ? cloneJson(op.value) : null;
      switch (kind) {
        case "add":
          add(doc, field(op, "path"), value);
          break;
        case "remove":
          remove(doc, field(op, "path"), "remove");
          break;
        case "replace":
          replace(doc, field(op, "path"), value);
          break;
        case "move": {
          const from = field(op, "from");
          const path = field(op, "path");
          if (path !== from && path.startsWith(from + "/")) {
            throw new PatchFailure(`move operation does not apply: cannot move ${from} into its own child ${path}`);
          }
          const moved = remove(doc, from, "move");
          add(doc, path, moved);
          break;
        }
        case "copy": {
          const from = field(op, "from");
          const src = get(doc.root, from);
          if (!src.found) throw new PatchFailure(`copy operation does not apply: doc is missing from path: ${from}`);
          add(doc, field(op, "path"), cloneJson(src.value));
          break;
        }
        case "test": {
          const path = field(op, "path");
          const cur = get(doc.root, path);
          const ok = cur.found ? jsonEqual(cur.value, value) : value === null;
          if (!ok) throw new PatchFailure(`testing value ${path} failed: test failed`);
          break;
        }
        default:
          throw new PatchFailure(`Unexpected kind: ${kind}`);
      }
    }
  } catch (e) {
    if (e instanceof PatchFailure) throw invalid(e.message);
    throw e;
  }
  return doc.root;
}
