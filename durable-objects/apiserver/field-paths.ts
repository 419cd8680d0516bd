// Values at managedFields paths (arrays of FieldsV1 elements: `f:name`, `k:{"key":"v"}`, `v:"x"`,
// `i:0`) inside an object: what server-side apply reads and removes when a manager stops applying a
// field, and how a path is written in a conflict message.
import { isObject } from "./json.js";

type Json = unknown;
type JsonMap = Record<string, Json>;

function matchItem(list: Json[], el: string): number {
  if (el.startsWith("k:")) {
    let key: JsonMap;
    try {
      key = JSON.parse(el.slice(2)) as JsonMap;
    } catch {
      return -1;
    }
    return list.findIndex((x) => isObject(x) && Object.entries(key).every(([k, v]) => JSON.stringify(x[k]) === JSON.stringify(v)));
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
    if (el.startsWith("f:")) cur = isObject(cur) ? cur[el.slice(2)] : undefined;
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
    if (isObject(parent)) delete parent[last.slice(2)];
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
