// Type checking of built-in kinds against their k8s.io/api Go types, so a write that kube-apiserver
// could not decode is refused instead of stored. One stored `data: {a: 5}` in a ConfigMap, or
// `spec.taints: "x"` on a Node, makes every client-go informer and `kubectl describe` on that kind fail
// to decode the list: one bad write would break the fake cluster for every CAPI controller.
//
// The type data is the generated table behind k8s-types.ts: tools/k8s-types walks the Go structs of
// k8s.io/api, so each field carries its JSON name and Go type, and CI checks the table is current.
// What JSON each Go type accepts follows encoding/json plus the custom UnmarshalJSON of metav1.Time,
// resource.Quantity and intstr.IntOrString. `null` is accepted everywhere, as Go leaves the
// zero value; fields the type does not have are ignored (kube drops them).
//
// Required fields are those in the published OpenAPI schema's `required` lists (read by the generator
// as openapi-gen decides them: `+required`, or neither `+optional` nor omitempty). Outside `status` each must be present and not null, and a
// required string must not be empty (kube's validation says `Required value` for both); kube fills
// status itself and validates it loosely, so status is checked for types only.
//
// kube-apiserver answers a decode failure of a create with 400 and of a patch with 422; here every
// type error is a 422 `Invalid` with kube's field path (`data[a]`, `spec.taints[0].effect`), which is
// what a client needs to find the field.

import { fieldsOf } from "./k8s-types.js";
import type { Field } from "./protobuf-schemas/types.js";
import { fieldRequired, type FieldError } from "./validation.js";

type Json = unknown;

const MAX_ERRORS = 20;
const MAX_DEPTH = 100;

// RFC 3339 as Go's time.Parse(time.RFC3339) reads it (fraction optional, Z or a numeric offset).
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
// resource.Quantity's grammar: signed decimal, then a binary (Ki..Ei), decimal (n..E) or exponent suffix.
const QUANTITY = /^[+-]?(\d+(\.\d*)?|\.\d+)([KMGTPE]i|[numkMGTPE]|[eE][+-]?\d+)?$/;
const BASE64_CHAR = /[A-Za-z0-9+/]/;

/** Where Go's base64.StdEncoding would fail on `s` (it skips CR and LF), or -1 when it decodes. */
function base64Error(s: string): number {
  const text = s.replace(/[\r\n]/g, "");
  let i = 0;
  while (i < text.length && BASE64_CHAR.test(text[i]!)) i++;
  const dataEnd = i;
  while (i < text.length && text[i] === "=") i++;
  if (i < text.length) return i; // a character outside the alphabet, or data after padding
  const padding = i - dataEnd;
  if (text.length % 4 !== 0 || padding > 2 || (padding > 0 && dataEnd % 4 < 2)) return Math.max(0, dataEnd - (dataEnd % 4));
  return -1;
}

const INT32_MAX = 2 ** 31 - 1;

/** Whether `path` is the object's status or inside it. */
const inStatus = (path: string) => path === "status" || path.startsWith("status.") || path.startsWith("status[");

function describe(v: Json): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v === "number" ? (Number.isInteger(v) ? "integer" : "number") : typeof v;
}

class TypeChecker {
  readonly errors: FieldError[] = [];

  private fail(path: string, value: Json, detail: string, type = "FieldValueTypeInvalid"): void {
    if (this.errors.length >= MAX_ERRORS) return;
    this.errors.push({ field: path, type, message: `Invalid value: ${JSON.stringify(describe(value))}: ${detail}` });
  }

  private failValue(path: string, value: string, detail: string): void {
    if (this.errors.length >= MAX_ERRORS) return;
    this.errors.push({ field: path, type: "FieldValueInvalid", message: `Invalid value: ${JSON.stringify(value.slice(0, 64))}: ${detail}` });
  }

  message(v: Json, name: string, path: string, depth: number): void {
    if (v === null) return;
    if (typeof v !== "object" || Array.isArray(v)) return this.fail(path, v, "must be of type object");
    if (depth > MAX_DEPTH) return this.fail(path, v, "nests too deeply", "FieldValueInvalid");
    const fields = fieldsOf(name);
    const obj = v as Record<string, Json>;
    for (const [key, value] of Object.entries(obj)) {
      const f = fields.get(key);
      if (!f || this.errors.length >= MAX_ERRORS) continue;
      this.field(value, f, path ? `${path}.${key}` : key, depth + 1);
    }
    if (!inStatus(path)) this.requiredFields(obj, fields, path);
  }

  private requiredFields(obj: Record<string, Json>, fields: Map<string, Field>, path: string): void {
    for (const [key, f] of fields) {
      if (!f.required || this.errors.length >= MAX_ERRORS) continue;
      const value = obj[key];
      const missing = value === undefined || value === null || (f.type === "string" && !f.repeated && value === "");
      if (missing && !(path === "" && key === "status")) this.errors.push(fieldRequired(path ? `${path}.${key}` : key, ""));
    }
  }

  private field(v: Json, f: Field, path: string, depth: number): void {
    if (v === null) return;
    if (f.type === "map") {
      if (typeof v !== "object" || Array.isArray(v)) return this.fail(path, v, "must be of type object");
      for (const [k, item] of Object.entries(v as Record<string, Json>)) this.value(item, f.value!, `${path}[${k}]`, depth + 1);
      return;
    }
    if (f.repeated && f.type !== "bytes") {
      if (!Array.isArray(v)) return this.fail(path, v, "must be of type array");
      v.forEach((item, i) => this.value(item, f.type, `${path}[${i}]`, depth + 1));
      return;
    }
    this.value(v, f.type, path, depth);
  }

  private value(v: Json, type: string, path: string, depth: number): void {
    if (v === null || this.errors.length >= MAX_ERRORS) return;
    switch (type) {
      case "string":
        if (typeof v !== "string") this.fail(path, v, "must be of type string");
        return;
      case "bool":
        if (typeof v !== "boolean") this.fail(path, v, "must be of type boolean");
        return;
      case "int32":
      case "int64":
        if (typeof v !== "number" || !Number.isInteger(v)) this.fail(path, v, "must be of type integer");
        else if (type === "int32" && Math.abs(v) > INT32_MAX) this.failValue(path, String(v), "must fit in a 32-bit integer");
        return;
      case "double":
        if (typeof v !== "number") this.fail(path, v, "must be of type number");
        return;
      case "bytes": {
        if (typeof v !== "string") return this.fail(path, v, "must be of type string (base64)");
        const at = base64Error(v);
        if (at >= 0) this.failValue(path, v, `illegal base64 data at input byte ${at}`);
        return;
      }
      case "time":
      case "microtime":
        if (typeof v !== "string") this.fail(path, v, "must be of type string (RFC 3339 time)");
        else if (v !== "" && !RFC3339.test(v)) this.failValue(path, v, "must be an RFC 3339 time");
        return;
      case "quantity":
        if (typeof v === "number") return;
        if (typeof v !== "string") this.fail(path, v, "must be of type string or number (quantity)");
        else if (!QUANTITY.test(v.trim())) this.failValue(path, v, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
        return;
      case "intorstr":
        if (typeof v !== "string" && !(typeof v === "number" && Number.isInteger(v))) this.fail(path, v, "must be of type integer or string");
        return;
      case "rawjson":
        return;
      case "strlist":
        if (!Array.isArray(v)) return this.fail(path, v, "must be of type array");
        v.forEach((item, i) => this.value(item, "string", `${path}[${i}]`, depth + 1));
        return;
      default:
        this.message(v, type, path, depth);
    }
  }
}

/**
 * Type errors of `obj` against the Go type of a built-in kind, with kube's field paths; empty for a
 * well-typed object and for kinds that are not built in (CRDs are checked against their own schema).
 */
export function typeErrors(message: string, obj: Record<string, unknown>): FieldError[] {
  const checker = new TypeChecker();
  checker.message(obj, message, "", 0);
  return checker.errors;
}
