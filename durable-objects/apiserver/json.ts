// The one "is this a JSON object" check the apiserver uses (not null, not an array).
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
