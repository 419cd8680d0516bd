// Small helpers over untyped JSON that the apiserver shares: the one "is this a JSON object" check
// (not null, not an array), and values at dotted field paths ("status.podIP", "spec.replicas").
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The value at a dotted path of object fields, or undefined when any step is missing or not an object. */
export function valueAtPath(obj: unknown, path: string): unknown {
  let cur = obj;
  for (const key of path.split(".")) cur = isObject(cur) ? cur[key] : undefined;
  return cur;
}

/** Sets the value at a dotted path, creating (or replacing non-object) intermediate objects. */
export function setAtPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split(".");
  let cur = obj;
  for (const key of keys.slice(0, -1)) {
    if (!isObject(cur[key])) cur[key] = {};
    cur = cur[key] as Record<string, unknown>;
  }
  cur[keys[keys.length - 1]!] = value;
}
