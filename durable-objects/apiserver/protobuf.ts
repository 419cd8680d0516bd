// Decoding of Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`).
// client-go typed clients (controller-runtime, CAPI, kubectl >= 1.32 `create`/`run`) send built-in
// kinds this way and do not fall back to JSON on 415, so the body is turned into the JSON object that
// encoding/json would have produced for the same Go value. The wire format is hand-decoded here (with
// @bufbuild's BinaryReader) because the JSON mapping follows Go struct tags (omitempty, inline, Time,
// Quantity, IntOrString), not proto3 JSON; the tables in protobuf-schemas/k8s.ts are generated from
// the k8s.io/api Go types. Kinds not in KINDS stay 415 UnsupportedMediaType.
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { KINDS, MESSAGES } from "./protobuf-schemas/k8s.js";
import type { Field } from "./protobuf-schemas/types.js";
import { errors } from "./status.js";
import { ApiError } from "./types.js";

const MAGIC = [0x6b, 0x38, 0x73, 0x00]; // "k8s\0"
const MEDIA = "application/vnd.kubernetes.protobuf";
const ACCEPTED = "accepted media types include: application/json, application/yaml";
const MAX_DEPTH = 64;

type Json = unknown;
type Obj = Record<string, Json>;

/** Unknown kinds: the client must resend as JSON (kubectl/client-go users can pass --content-type/ContentType). */
function unsupportedKind(apiVersion: string, kind: string): ApiError {
  return new ApiError(415, "UnsupportedMediaType", `the body of the request was in an unknown format - protobuf bodies are not decoded for ${apiVersion}, Kind=${kind}; ${ACCEPTED} (got ${MEDIA})`);
}

class Decoder {
  constructor(readonly top: string) {}

  // A field number we have no schema for is an error, not skipped: dropping it would silently store
  // a different object than the client sent (e.g. a newer k8s.io/api field).
  private unknownField(msg: string, no: number): ApiError {
    return new ApiError(415, "UnsupportedMediaType", `protobuf field ${no} of ${msg} (in ${this.top}) is not known to this server (k8s.io/api v0.36.3 schemas); send the object as JSON - ${ACCEPTED} (got ${MEDIA})`);
  }

  message(bytes: Uint8Array, name: string, depth: number): Obj {
    if (depth > MAX_DEPTH) throw errors.badRequest("protobuf body nests too deeply");
    const schema = MESSAGES[name];
    if (!schema) throw new Error(`no schema ${name}`);
    const r = new BinaryReader(bytes);
    const out: Obj = {};
    const seen = new Set<number>();
    const inline: Obj[] = [];
    while (r.pos < r.len) {
      const [no, wt] = r.tag();
      const f = schema[no];
      if (!f) throw this.unknownField(name, no);
      seen.add(no);
      if (f.type === "map") {
        if (wt !== WireType.LengthDelimited) throw this.wireType(name, no);
        const [k, v] = this.mapEntry(r.bytes(), f.value!, name, depth);
        ((out[f.name] ??= {}) as Obj)[k] = v;
      } else if (f.inline) {
        if (wt !== WireType.LengthDelimited) throw this.wireType(name, no);
        inline.push(this.message(r.bytes(), f.type, depth + 1));
      } else if (f.repeated) {
        const list = (out[f.name] ??= []) as Json[];
        if (wt === WireType.LengthDelimited && isPackable(f.type)) {
          const p = new BinaryReader(r.bytes());
          while (p.pos < p.len) list.push(this.scalar(p, f.type));
        } else list.push(this.value(r, wt, f.type, name, no, depth));
      } else out[f.name] = this.value(r, wt, f.type, name, no, depth);
    }
    for (const [noStr, f] of Object.entries(schema)) {
      const present = seen.has(Number(noStr));
      if (f.inline) {
        if (!present) inline.push(this.message(new Uint8Array(), f.type, depth + 1));
      } else if (present) this.dropIfOmitted(out, f);
      else this.absent(out, f, depth);
    }
    for (const o of inline) Object.assign(out, o);
    return out;
  }

  private wireType(msg: string, no: number): ApiError {
    return errors.badRequest(`couldn't decode the protobuf body: unexpected wire type for field ${no} of ${msg}`);
  }

  private value(r: BinaryReader, wt: WireType, type: string, msg: string, no: number, depth: number): Json {
    const want = isPackable(type) ? (type === "double" ? WireType.Bit64 : WireType.Varint) : WireType.LengthDelimited;
    if (wt !== want) throw this.wireType(msg, no);
    if (isPackable(type)) return this.scalar(r, type);
    return this.bytesValue(r.bytes(), type, depth);
  }

  private scalar(r: BinaryReader, type: string): Json {
    if (type === "bool") return r.bool();
    if (type === "int32") return r.int32();
    if (type === "int64") return Number(r.int64());
    return r.double();
  }

  /** A length-delimited value of a non-scalar type. */
  private bytesValue(b: Uint8Array, type: string, depth: number): Json {
    switch (type) {
      case "string":
        return new TextDecoder().decode(b);
      case "bytes":
        return toBase64(b);
      case "time":
      case "microtime":
        return b.length === 0 ? null : formatTime(this.timestamp(b), type === "microtime");
      case "quantity":
        return (this.fields(b, { 1: "s" }).get(1) as string | undefined) ?? "0";
      case "intorstr": {
        const f = this.fields(b, { 1: "v", 2: "v", 3: "s" });
        return f.get(1) === 1 ? ((f.get(3) as string | undefined) ?? "") : Number(f.get(2) ?? 0);
      }
      case "strlist":
        return this.fields(b, { 1: "s" }, true).get(1) ?? [];
      case "rawjson": // RawExtension / FieldsV1: message {bytes raw = 1}
        return rawJson((this.fields(b, { 1: "b" }).get(1) as Uint8Array | undefined) ?? new Uint8Array());
      default:
        return this.message(b, type, depth + 1);
    }
  }

  private mapEntry(b: Uint8Array, valueType: string, msg: string, depth: number): [string, Json] {
    const r = new BinaryReader(b);
    let k = "";
    let v: Json = undefined;
    while (r.pos < r.len) {
      const [no, wt] = r.tag();
      if (no === 1 && wt === WireType.LengthDelimited) k = r.string();
      else if (no === 2) v = this.value(r, wt, valueType, `${msg} map entry`, 2, depth);
      else throw this.unknownField(`${msg} map entry`, no);
    }
    // gogo decodes a missing bytes map value as []byte{} ("" in JSON), not nil.
    if (v === undefined) v = valueType === "bytes" ? "" : this.zero(valueType, depth);
    return [k, v];
  }

  /** Fields of the small helper messages (Timestamp, Quantity, IntOrString, ExtraValue, RawExtension); v = varint, s = string, b = bytes. */
  private fields(b: Uint8Array, spec: Record<number, "v" | "s" | "b">, repeated = false): Map<number, Json> {
    const r = new BinaryReader(b);
    const out = new Map<number, Json>();
    while (r.pos < r.len) {
      const [no, wt] = r.tag();
      const kind = spec[no];
      if (!kind) throw this.unknownField("helper message", no);
      if (wt !== (kind === "v" ? WireType.Varint : WireType.LengthDelimited)) throw this.wireType("helper message", no);
      const v = kind === "v" ? Number(r.int64()) : kind === "s" ? r.string() : r.bytes();
      if (repeated) ((out.get(no) as Json[] | undefined) ?? out.set(no, []).get(no) as Json[]).push(v);
      else out.set(no, v);
    }
    return out;
  }

  private timestamp(b: Uint8Array): { seconds: number; nanos: number } {
    const f = this.fields(b, { 1: "v", 2: "v" });
    return { seconds: Number(f.get(1) ?? 0), nanos: Number(f.get(2) ?? 0) };
  }

  /** encoding/json's value for a field the wire did not carry. */
  private absent(out: Obj, f: Field, depth: number): void {
    if (f.repeated || f.type === "map" || f.ptr) {
      if (!f.omitempty) out[f.name] = null;
      return;
    }
    const v = this.zero(f.type, depth);
    out[f.name] = v;
    this.dropIfOmitted(out, f);
  }

  private zero(type: string, depth: number): Json {
    switch (type) {
      case "string":
        return "";
      case "bool":
        return false;
      case "int32":
      case "int64":
      case "double":
      case "intorstr":
        return 0;
      case "quantity":
        return "0";
      case "bytes":
      case "time":
      case "microtime":
      case "rawjson":
      case "strlist":
        return null;
      default:
        return this.message(new Uint8Array(), type, depth + 1);
    }
  }

  /** omitempty drops "", 0, false and empty slices/maps of non-pointer fields (never structs); omitzero drops zero Times. */
  private dropIfOmitted(out: Obj, f: Field): void {
    if (f.ptr) return;
    const v = out[f.name];
    const empty = v === "" || v === 0 || v === false || v === null || (Array.isArray(v) && v.length === 0) || (isPlainMap(f) && Object.keys(v as Obj).length === 0);
    const structLike = !f.repeated && f.type !== "map" && !["string", "bytes", "bool", "int32", "int64", "double", "strlist"].includes(f.type);
    if (f.omitempty && empty && !structLike) delete out[f.name];
    else if (f.omitzero && v === null) delete out[f.name];
  }
}

function isPlainMap(f: Field): boolean {
  return f.type === "map";
}

function isPackable(type: string): boolean {
  return type === "bool" || type === "int32" || type === "int64" || type === "double";
}

function toBase64(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s);
}

function rawJson(b: Uint8Array): Json {
  if (b.length === 0) return null;
  if (MAGIC.every((m, i) => b[i] === m)) {
    throw new ApiError(415, "UnsupportedMediaType", `an embedded object (RawExtension) in protobuf is not decoded; ${ACCEPTED} (got ${MEDIA})`);
  }
  try {
    return JSON.parse(new TextDecoder().decode(b));
  } catch {
    throw errors.badRequest("couldn't decode the protobuf body: an embedded raw object is not JSON");
  }
}

/** metav1.Time marshals UTC RFC3339 with whole seconds; MicroTime with six fraction digits. */
function formatTime(t: { seconds: number; nanos: number }, micro: boolean): string {
  const iso = new Date(t.seconds * 1000).toISOString().replace(/\.\d+Z$/, "");
  if (!micro) return `${iso}Z`;
  return `${iso}.${String(Math.floor(t.nanos / 1000)).padStart(6, "0")}Z`;
}

/** Decode a protobuf-encoded object into its JSON form; 415 for kinds/fields not understood, 400 for garbage. */
export function decodeProtobufObject(body: Uint8Array): Record<string, unknown> {
  if (body.length < 4 || MAGIC.some((b, i) => body[i] !== b)) throw errors.badRequest("protobuf body without the k8s envelope");
  let apiVersion = "";
  let kind = "";
  let raw: Uint8Array = new Uint8Array();
  let contentEncoding = "";
  try {
    // runtime.Unknown{typeMeta{apiVersion=1, kind=2}=1, raw=2, contentEncoding=3, contentType=4}
    const r = new BinaryReader(body.subarray(4));
    while (r.pos < r.len) {
      const [no, wt] = r.tag();
      if (no === 1 && wt === WireType.LengthDelimited) {
        const t = new BinaryReader(r.bytes());
        while (t.pos < t.len) {
          const [tn, twt] = t.tag();
          if (tn === 1 && twt === WireType.LengthDelimited) apiVersion = t.string();
          else if (tn === 2 && twt === WireType.LengthDelimited) kind = t.string();
          else t.skip(twt, tn);
        }
      } else if (no === 2 && wt === WireType.LengthDelimited) raw = r.bytes();
      else if (no === 3 && wt === WireType.LengthDelimited) contentEncoding = r.string();
      else r.skip(wt, no);
    }
  } catch {
    throw errors.badRequest("couldn't decode the protobuf body");
  }
  // DeleteOptions is registered in every group version; all share meta/v1's message.
  const msg = kind === "DeleteOptions" ? "meta/v1.DeleteOptions" : KINDS[`${apiVersion}/${kind}`];
  if (!msg || contentEncoding !== "") throw unsupportedKind(apiVersion, kind);
  try {
    return { apiVersion, kind, ...new Decoder(`${apiVersion}, Kind=${kind}`).message(raw, msg, 0) };
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw errors.badRequest("couldn't decode the protobuf body");
  }
}
