// Strategic merge patch (`application/strategic-merge-patch+json`) on plain JSON, following
// k8s.io/apimachinery/pkg/util/strategicpatch (StrategicMergeMapPatch with kube-apiserver's
// options: parallel deletion lists applied, unmatched nulls ignored). Kube reads list strategies
// from Go struct tags; here they come from a flat table (see strategic-keys.ts):
//
//   mergeKeys: dot-joined JSON field path from the object root -> strategy. List elements add no
//   path segment ("spec.template.spec.containers.ports"). Values:
//     "<field>"          list of objects merged element-wise by that field (patchMergeKey)
//     "$primitive" | ""  list of scalars merged as a set union (patchStrategy:"merge", no key)
//     "$replace"         patchStrategy:"replace": the patch value replaces a map/list wholesale
//   Paths not in the table: maps merge recursively, lists are replaced.
//
// Directives handled and always stripped from the result: `$patch` (replace/delete on maps;
// replace/delete elements in keyed lists), `$retainKeys`, `$deleteFromPrimitiveList/<f>`,
// `$setElementOrder/<f>` (ordering applied with kube's interleaving rules).
// Error mapping: malformed directives -> 400 BadRequest (as kube); lists of lists -> 422 Invalid
// (as kube); the errors kube lets through as 500 (missing merge key, `$patch: merge` on a list,
// mixed element types) -> 400 BadRequest here, since bad input must never produce a 500.
// Hand-written: there is no JS implementation of strategic merge patch.

import { ApiError } from "../types.js";
import { isObject } from "../json.js";
import { cloneJson } from "./merge.js";

export const MERGE_PRIMITIVE = "$primitive";
export const REPLACE_STRATEGY = "$replace";

const DIRECTIVE = "$patch";
const RETAIN_KEYS = "$retainKeys";
const DELETE_FROM_PRIMITIVE = "$deleteFromPrimitiveList/";
const SET_ELEMENT_ORDER = "$setElementOrder/";

type Json = unknown;
type JsonMap = Record<string, Json>;

const bad = (msg: string) => new ApiError(400, "BadRequest", msg);
const invalid422 = (detail: string) =>
  new ApiError(422, "Invalid", "the server rejected our request due to an error in our request", { causes: [{ message: detail }] });

function goType(v: Json): string {
  if (Array.isArray(v)) return "array";
  if (v === null) return "null";
  if (typeof v === "object") return "object";
  if (typeof v === "boolean") return "bool";
  return typeof v;
}

function isDirectiveKey(k: string): boolean {
  return k === DIRECTIVE || k === RETAIN_KEYS || k.startsWith(DELETE_FROM_PRIMITIVE) || k.startsWith(SET_ELEMENT_ORDER);
}

class Merger {
  constructor(private readonly keys: Record<string, string>) {}

  private strategy(path: string): { kind: "key"; key: string } | { kind: "primitive" } | { kind: "replace" } | undefined {
    if (!Object.prototype.hasOwnProperty.call(this.keys, path)) return undefined;
    const v = this.keys[path]!;
    if (v === "" || v === MERGE_PRIMITIVE) return { kind: "primitive" };
    if (v === REPLACE_STRATEGY) return { kind: "replace" };
    return { kind: "key", key: v };
  }

  /** A patch value landing where nothing existed: strip directives and nulls. */
  clean(value: Json, path: string): Json {
    if (isObject(value)) return this.mergeMap({}, value, path);
    if (Array.isArray(value)) return this.mergeField([], value, path);
    return value;
  }

  mergeMap(original: JsonMap, patch: JsonMap, path: string): JsonMap {
    if (Object.prototype.hasOwnProperty.call(patch, DIRECTIVE)) {
      const d = patch[DIRECTIVE];
      if (d === "replace") {
        const rest: JsonMap = { ...patch };
        delete rest[DIRECTIVE];
        return this.mergeMap({}, rest, path);
      }
      if (d === "delete") return {};
      throw bad(`unknown patch type: ${String(d)} in map: ${JSON.stringify(patch)}`);
    }
    const out: JsonMap = { ...original };

    if (Object.prototype.hasOwnProperty.call(patch, RETAIN_KEYS)) {
      const retain = patch[RETAIN_KEYS];
      if (!Array.isArray(retain)) throw bad("invalid patch format of retainKeys");
      const keep = new Set(retain);
      for (const [k, v] of Object.entries(patch)) {
        if (v === null || isDirectiveKey(k)) continue;
        if (!keep.has(k)) throw bad("invalid patch format of retainKeys");
      }
      for (const k of Object.keys(out)) if (!keep.has(k)) delete out[k];
    }

    const handled = new Set<string>();
    // Deletions from primitive lists first: kubectl never puts a value in both lists.
    for (const [k, v] of Object.entries(patch)) {
      if (!k.startsWith(DELETE_FROM_PRIMITIVE)) continue;
      if (!Array.isArray(v)) throw bad("invalid patch format of primitive list");
      const field = k.slice(DELETE_FROM_PRIMITIVE.length);
      const cur = out[field];
      if (Array.isArray(cur)) out[field] = cur.filter((x) => !v.some((d) => scalarEqual(d, x)));
    }
    for (const [k, v] of Object.entries(patch)) {
      if (!k.startsWith(SET_ELEMENT_ORDER)) continue;
      if (!Array.isArray(v)) throw bad("invalid patch format of setElementOrder list");
      const field = k.slice(SET_ELEMENT_ORDER.length);
      const childPath = path ? `${path}.${field}` : field;
      const inOrig = Array.isArray(out[field]);
      const patchList = patch[field];
      const inPatch = Array.isArray(patchList);
      let merged: Json[];
      if (inOrig && inPatch) merged = this.mergeField(out[field], patchList, childPath) as Json[];
      else if (inPatch) merged = this.clean(patchList, childPath) as Json[];
      else if (inOrig) merged = out[field] as Json[];
      else continue;
      const st = this.strategy(childPath);
      const mergeKey = st?.kind === "key" ? st.key : "";
      const originalList = inOrig ? (out[field] as Json[]) : [];
      const [patchItems, serverOnly] = partition(merged, v, mergeKey);
      out[field] = normalizeElementOrder(patchItems, serverOnly, v, originalList, mergeKey);
      handled.add(field);
    }

    for (const [k, v] of Object.entries(patch)) {
      if (isDirectiveKey(k) || handled.has(k)) continue;
      const childPath = path ? `${path}.${k}` : k;
      if (v === null) {
        delete out[k];
        continue;
      }
      if (!Object.prototype.hasOwnProperty.call(out, k) || out[k] === null) {
        out[k] = this.clean(v, childPath);
        continue;
      }
      out[k] = this.mergeField(out[k], v, childPath);
    }
    return out;
  }

  /** Merge one field's patch value into its existing value. */
  mergeField(original: Json, patch: Json, path: string): Json {
    const st = this.strategy(path);
    if (isObject(original) && isObject(patch)) {
      if (st?.kind === "replace") return this.clean(patch, path);
      return this.mergeMap(original, patch, path);
    }
    if (Array.isArray(original) && Array.isArray(patch)) {
      if (st?.kind === "key") return this.mergeKeyedList(original, patch, st.key, path);
      if (st?.kind === "primitive") return this.mergePrimitiveList(original, patch);
      return patch.map((el) => (isObject(el) ? this.mergeMap({}, el, path) : el));
    }
    // Different types (or scalars): the patch wins.
    if (isObject(patch) || Array.isArray(patch)) return this.clean(patch, path);
    return patch;
  }

  private mergePrimitiveList(original: Json[], patch: Json[]): Json[] {
    checkElementTypes(original, patch);
    if (original.length === 0 && patch.length === 0) return [];
    if ([...original, ...patch].some(isObject)) throw bad("cannot merge lists without merge key for type struct");
    const merged: Json[] = [];
    for (const x of [...original, ...patch]) if (!merged.some((m) => scalarEqual(m, x))) merged.push(x);
    const [patchItems, serverOnly] = partition(merged, patch, "");
    return normalizeElementOrder(patchItems, serverOnly, patch, original, "");
  }

  private mergeKeyedList(originalIn: Json[], patchIn: Json[], mergeKey: string, path: string): Json[] {
    if (originalIn.length === 0 && patchIn.length === 0) return [];
    checkElementTypes(originalIn, patchIn);
    const elementsAreMaps = [...originalIn, ...patchIn].some(isObject);
    if (!elementsAreMaps) return this.mergePrimitiveList(originalIn, patchIn);
    for (const [i, el] of originalIn.entries()) if (!isObject(el)) throw bad(`value for key ${i} is not a map.`);

    // Special elements: {$patch: delete, key: v} removes matches; {$patch: replace} replaces the list.
    let original = originalIn as JsonMap[];
    let patch: JsonMap[] = [];
    let replace = false;
    for (const el of patchIn as JsonMap[]) {
      if (!Object.prototype.hasOwnProperty.call(el, DIRECTIVE)) {
        patch.push(el);
        continue;
      }
      const d = el[DIRECTIVE];
      if (d === "delete") {
        if (!Object.prototype.hasOwnProperty.call(el, mergeKey)) throw noMergeKey(el, mergeKey);
        original = original.filter((o) => !(Object.prototype.hasOwnProperty.call(o, mergeKey) && scalarEqual(o[mergeKey], el[mergeKey])));
      } else if (d === "replace") {
        replace = true;
      } else if (d === "merge") {
        throw bad("merging lists cannot yet be specified in the patch");
      } else {
        throw bad(`unknown patch type: ${String(d)} in map: ${JSON.stringify(el)}`);
      }
    }
    if (replace) {
      original = patch.map((el) => this.mergeMap({}, el, path));
      patch = [];
    }

    const merged: JsonMap[] = [...original];
    for (const el of patch) {
      if (!Object.prototype.hasOwnProperty.call(el, mergeKey)) throw noMergeKey(el, mergeKey);
      const idx = merged.findIndex((o) => Object.prototype.hasOwnProperty.call(o, mergeKey) && scalarEqual(o[mergeKey], el[mergeKey]));
      if (idx >= 0) merged[idx] = this.mergeMap(merged[idx]!, el, path);
      else merged.push(this.mergeMap({}, el, path));
    }
    const [patchItems, serverOnly] = partition(merged, patch, mergeKey);
    return normalizeElementOrder(patchItems, serverOnly, patch, original, mergeKey);
  }
}

function noMergeKey(el: JsonMap, key: string): ApiError {
  return bad(`map: ${JSON.stringify(el)} does not contain declared merge key: ${key}`);
}

function scalarEqual(a: Json, b: Json): boolean {
  return a === b;
}

function checkElementTypes(...lists: Json[][]): void {
  let first: string | undefined;
  for (const l of lists) {
    for (const v of l) {
      const t = goType(v);
      if (first === undefined) {
        if (t === "array") throw invalid422("lists of lists are not supported");
        first = t;
      } else if (t !== first) {
        throw bad(`list element types are not identical: ${JSON.stringify(lists)}`);
      }
    }
  }
}

/** Position of `v` in `list`, comparing maps by their merge key value. */
function indexIn(list: Json[], v: Json, mergeKey: string): number {
  if (mergeKey && isObject(v)) {
    return list.findIndex((x) => isObject(x) && Object.prototype.hasOwnProperty.call(x, mergeKey) && scalarEqual(x[mergeKey], v[mergeKey]));
  }
  return list.findIndex((x) => scalarEqual(x, v));
}

/** Split merged items into those named in `by` and the rest (server-only), keeping order. */
function partition(merged: Json[], by: Json[], mergeKey: string): [Json[], Json[]] {
  const inBy: Json[] = [];
  const rest: Json[] = [];
  for (const v of merged) (indexIn(by, v, mergeKey) >= 0 ? inBy : rest).push(v);
  return [inBy, rest];
}

function sortByOrder(list: Json[], order: Json[], mergeKey: string): Json[] {
  return list
    .map((v, i) => ({ v, i, o: indexIn(order, v, mergeKey) }))
    .sort((a, b) => (a.o >= 0 && b.o >= 0 ? a.o - b.o : a.i - b.i))
    .map((x) => x.v);
}

/**
 * kube's normalizeElementOrder: patch items in patch (or $setElementOrder) order, server-only
 * items in live order, interleaved by their live positions. An item unknown to the live list is
 * placed before the next server-only item, so e.g. adding finalizer "b" to ["a"] yields ["b","a"].
 */
function normalizeElementOrder(patchItems: Json[], serverOnly: Json[], patchOrder: Json[], serverOrder: Json[], mergeKey: string): Json[] {
  const right = sortByOrder(patchItems, patchOrder, mergeKey);
  const left = sortByOrder(serverOnly, serverOrder, mergeKey);
  const out: Json[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++]);
    else if (j >= right.length) out.push(left[i++]);
    else {
      const li = indexIn(serverOrder, left[i], mergeKey);
      const ri = indexIn(serverOrder, right[j], mergeKey);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
      else out.push(right[j++]);
    }
  }
  return out;
}

/**
 * Apply a strategic merge patch. Neither `target` nor `patch` is mutated and the result shares
 * no structure with them. `patch` must be a JSON object (else 400 BadRequest, like kube).
 */
export function applyStrategicMergePatch(target: unknown, patch: unknown, mergeKeys: Record<string, string>): unknown {
  if (!isObject(patch)) {
    throw bad(`json: cannot unmarshal ${goType(patch)} into Go value of type map[string]interface {}`);
  }
  const original = isObject(target) ? cloneJson(target) : {};
  return new Merger(mergeKeys).mergeMap(original, cloneJson(patch), "");
}
