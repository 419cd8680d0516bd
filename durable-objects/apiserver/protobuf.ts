// Decoding of Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`).
// kubectl >= 1.32 sends typed creates (`kubectl create configmap|secret|namespace|serviceaccount`)
// as protobuf and does not fall back to JSON on 415, so the common simple kinds are decoded here.
// Field numbers come from k8s.io/api/core/v1 and apimachinery generated.proto; only the kinds
// listed in SCHEMAS are understood, anything else stays 415 UnsupportedMediaType.
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { errors } from "./status.js";

type FieldType = "string" | "bytes" | "bool" | "int64" | "int32" | "time" | "smap" | "bmap" | Schema;
interface Field {
  name: string;
  type: FieldType;
  repeated?: boolean;
}
type Schema = { [no: number]: Field };

const MAGIC = [0x6b, 0x38, 0x73, 0x00]; // "k8s\0"

const OwnerReference: Schema = {
  1: { name: "kind", type: "string" },
  3: { name: "name", type: "string" },
  4: { name: "uid", type: "string" },
  5: { name: "apiVersion", type: "string" },
  6: { name: "controller", type: "bool" },
  7: { name: "blockOwnerDeletion", type: "bool" },
};

const ObjectMeta: Schema = {
  1: { name: "name", type: "string" },
  2: { name: "generateName", type: "string" },
  3: { name: "namespace", type: "string" },
  5: { name: "uid", type: "string" },
  6: { name: "resourceVersion", type: "string" },
  7: { name: "generation", type: "int64" },
  8: { name: "creationTimestamp", type: "time" },
  9: { name: "deletionTimestamp", type: "time" },
  10: { name: "deletionGracePeriodSeconds", type: "int64" },
  11: { name: "labels", type: "smap" },
  12: { name: "annotations", type: "smap" },
  13: { name: "ownerReferences", type: OwnerReference, repeated: true },
  14: { name: "finalizers", type: "string", repeated: true },
};

const ObjectReference: Schema = {
  1: { name: "kind", type: "string" },
  2: { name: "namespace", type: "string" },
  3: { name: "name", type: "string" },
  4: { name: "uid", type: "string" },
  5: { name: "apiVersion", type: "string" },
  6: { name: "resourceVersion", type: "string" },
  7: { name: "fieldPath", type: "string" },
};

const DeleteOptions: Schema = {
  1: { name: "gracePeriodSeconds", type: "int64" },
  2: { name: "preconditions", type: { 1: { name: "uid", type: "string" }, 2: { name: "resourceVersion", type: "string" } } },
  3: { name: "orphanDependents", type: "bool" },
  4: { name: "propagationPolicy", type: "string" },
  5: { name: "dryRun", type: "string", repeated: true },
};

const Eviction: Schema = {
  1: { name: "metadata", type: ObjectMeta },
  2: { name: "deleteOptions", type: DeleteOptions },
};

const SCHEMAS: Record<string, Schema> = {
  "policy/v1/Eviction": Eviction,
  "policy/v1beta1/Eviction": Eviction,
  "v1/DeleteOptions": DeleteOptions,
  "meta.k8s.io/v1/DeleteOptions": DeleteOptions,
  "v1/ConfigMap": {
    1: { name: "metadata", type: ObjectMeta },
    2: { name: "data", type: "smap" },
    3: { name: "binaryData", type: "bmap" },
    4: { name: "immutable", type: "bool" },
  },
  "v1/Secret": {
    1: { name: "metadata", type: ObjectMeta },
    2: { name: "data", type: "bmap" },
    3: { name: "type", type: "string" },
    4: { name: "stringData", type: "smap" },
    5: { name: "immutable", type: "bool" },
  },
  "v1/Namespace": {
    1: { name: "metadata", type: ObjectMeta },
    2: { name: "spec", type: { 1: { name: "finalizers", type: "string", repeated: true } } },
  },
  "v1/ServiceAccount": {
    1: { name: "metadata", type: ObjectMeta },
    2: { name: "secrets", type: ObjectReference, repeated: true },
    3: { name: "imagePullSecrets", type: { 1: { name: "name", type: "string" } }, repeated: true },
    4: { name: "automountServiceAccountToken", type: "bool" },
  },
};

const Unknown: Schema = {
  1: { name: "typeMeta", type: { 1: { name: "apiVersion", type: "string" }, 2: { name: "kind", type: "string" } } },
  2: { name: "raw", type: "bytes" },
  3: { name: "contentEncoding", type: "string" },
  4: { name: "contentType", type: "string" },
};

function toBase64(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s);
}

function readMap(r: BinaryReader, binary: boolean): [string, string] {
  const end = r.uint32() + r.pos;
  let k = "";
  let v = "";
  while (r.pos < end) {
    const [no, wt] = r.tag();
    if (no === 1 && wt === WireType.LengthDelimited) k = r.string();
    else if (no === 2 && wt === WireType.LengthDelimited) v = binary ? toBase64(r.bytes()) : r.string();
    else r.skip(wt, no);
  }
  return [k, v];
}

function decodeMessage(r: BinaryReader, schema: Schema, end: number, depth: number): Record<string, unknown> {
  if (depth > 20) throw new Error("too deep");
  const out: Record<string, unknown> = {};
  while (r.pos < end) {
    const [no, wt] = r.tag();
    const f = schema[no];
    if (!f) {
      r.skip(wt, no);
      continue;
    }
    let v: unknown;
    switch (f.type) {
      case "string":
        v = r.string();
        break;
      case "bytes":
        v = r.bytes();
        break;
      case "bool":
        v = r.bool();
        break;
      case "int64":
        v = Number(r.int64());
        break;
      case "int32":
        v = r.int32();
        break;
      case "time": {
        const t = decodeMessage(r, { 1: { name: "seconds", type: "int64" }, 2: { name: "nanos", type: "int32" } }, r.uint32() + r.pos, depth + 1);
        v = new Date(Number(t.seconds ?? 0) * 1000).toISOString().replace(/\.\d+Z$/, "Z");
        break;
      }
      case "smap":
      case "bmap": {
        const [k, val] = readMap(r, f.type === "bmap");
        const m = (out[f.name] ??= {}) as Record<string, string>;
        m[k] = val;
        continue;
      }
      default:
        v = decodeMessage(r, f.type, r.uint32() + r.pos, depth + 1);
    }
    if (f.repeated) ((out[f.name] ??= []) as unknown[]).push(v);
    else out[f.name] = v;
  }
  if (r.pos !== end) throw new Error("truncated message");
  return out;
}

/** Decode a protobuf-encoded object into its JSON form; 415 for kinds not understood, 400 for garbage. */
export function decodeProtobufObject(body: Uint8Array): Record<string, unknown> {
  if (body.length < 4 || MAGIC.some((b, i) => body[i] !== b)) throw errors.badRequest("protobuf body without the k8s envelope");
  let unknown: Record<string, unknown>;
  try {
    const r = new BinaryReader(body.subarray(4));
    unknown = decodeMessage(r, Unknown, r.len, 0);
  } catch {
    throw errors.badRequest("couldn't decode the protobuf body");
  }
  const tm = (unknown.typeMeta ?? {}) as { apiVersion?: string; kind?: string };
  const schema = SCHEMAS[`${tm.apiVersion}/${tm.kind}`];
  if (!schema || (unknown.contentEncoding ?? "") !== "") throw errors.unsupportedMediaType("application/vnd.kubernetes.protobuf");
  try {
    const raw = (unknown.raw as Uint8Array | undefined) ?? new Uint8Array();
    const r = new BinaryReader(raw);
    return { apiVersion: tm.apiVersion, kind: tm.kind, ...decodeMessage(r, schema, r.len, 0) };
  } catch {
    throw errors.badRequest("couldn't decode the protobuf body");
  }
}
