// Shape of the generated protobuf schema tables (k8s.ts). One entry per Go struct field that has a
// protobuf tag, so the decoder can reproduce what encoding/json would have written for the object.

/** Wire/JSON types with special handling; any other string names a message in MESSAGES. */
export type Scalar =
  | "string"
  | "bytes" // base64 in JSON
  | "bool"
  | "int32"
  | "int64"
  | "double"
  | "time" // metav1.Time {seconds, nanos} -> RFC3339 (seconds precision), null when unset
  | "microtime" // metav1.MicroTime -> RFC3339 with 6 fraction digits
  | "quantity" // resource.Quantity {string = 1} -> its string
  | "intorstr" // intstr.IntOrString {type, intVal, strVal} -> number or string
  | "rawjson" // RawExtension / FieldsV1 {raw bytes = 1} holding JSON -> that JSON inline
  | "strlist" // a named []string (ExtraValue): message {repeated string items = 1} -> array
  | "map";

export interface Field {
  /** JSON name; "" for inline (embedded) structs whose fields merge into the parent. */
  name: string;
  type: Scalar | string;
  /** For maps (always string keys): the value type. */
  value?: Scalar | string;
  /** Strategic merge patch: the Go field's patchStrategy tag ("merge", "replace", "merge,retainKeys"). */
  patchStrategy?: string;
  /** Strategic merge patch: the Go field's patchMergeKey tag (the key list items merge by). */
  patchMergeKey?: string;
  repeated?: true;
  ptr?: true;
  omitempty?: true;
  omitzero?: true;
  inline?: true;
  /** In the OpenAPI schema's `required` list (`+required`, or no `+optional` and no omitempty). */
  required?: true;
}

export type Message = { [fieldNo: number]: Field };
export type Messages = Record<string, Message>;
