import { BinaryWriter } from "@bufbuild/protobuf/wire";
import { describe, expect, it } from "vitest";
import { decodeProtobufObject } from "../../durable-objects/apiserver/protobuf.js";
import { ApiError } from "../../durable-objects/apiserver/types.js";
import { call, newServer } from "../helpers/node-host.js";

// Encode like client-go does: "k8s\0" + runtime.Unknown{typeMeta{apiVersion, kind}, raw}.
function envelope(apiVersion: string, kind: string, raw: Uint8Array | number[]): Uint8Array {
  const w = new BinaryWriter();
  w.tag(1, 2).fork().tag(1, 2).string(apiVersion).tag(2, 2).string(kind).join();
  w.tag(2, 2).bytes(Uint8Array.from(raw));
  const body = w.finish();
  const out = new Uint8Array(body.length + 4);
  out.set([0x6b, 0x38, 0x73, 0x00]);
  out.set(body, 4);
  return out;
}

const decode = (apiVersion: string, kind: string, raw: number[]) => decodeProtobufObject(envelope(apiVersion, kind, raw));

function failure(f: () => unknown): ApiError {
  try {
    f();
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error("expected an ApiError");
}

function configMap(name: string, data: Record<string, string>): Uint8Array {
  const w = new BinaryWriter();
  w.tag(1, 2).fork().tag(1, 2).string(name).tag(11, 2).fork().tag(1, 2).string("app").tag(2, 2).string("x").join().join();
  for (const [k, v] of Object.entries(data)) w.tag(2, 2).fork().tag(1, 2).string(k).tag(2, 2).string(v).join();
  return w.finish();
}

const post = (api: any, path: string, body: Uint8Array) =>
  api.handle(new Request(`http://c${path}`, { method: "POST", body: body as unknown as BodyInit, headers: { "content-type": "application/vnd.kubernetes.protobuf" } }));

describe("protobuf wire specifics (hand-encoded bytes)", () => {
  it("MicroTime, present zero-valued pointer ints, omitzero creationTimestamp", () => {
    const lease = decode("coordination.k8s.io/v1", "Lease", [
      0x0a, 0x04, 0x0a, 0x02, 0x6e, 0x31, // metadata{name "n1"}
      0x12, 0x15, // spec
      0x0a, 0x02, 0x6e, 0x31, // holderIdentity "n1"
      0x10, 0x00, // leaseDurationSeconds 0 (pointer: present zero is kept)
      0x22, 0x0b, 0x08, 0xd9, 0x83, 0xe2, 0xb1, 0x06, 0x10, 0x95, 0x9a, 0xef, 0x3a, // renewTime{seconds 1714979289, nanos 123456789}
      0x28, 0x00, // leaseTransitions 0
    ]);
    expect(lease).toEqual({
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name: "n1" },
      spec: { holderIdentity: "n1", leaseDurationSeconds: 0, renewTime: "2024-05-06T07:08:09.123456Z", leaseTransitions: 0 },
    });
  });

  it("Time has whole seconds; an empty Time is null, and dropped where omitzero", () => {
    const cm = decode("v1", "ConfigMap", [
      0x0a, 0x0f, // metadata
      0x42, 0x00, // creationTimestamp: empty (zero Time) -> null -> omitted (omitzero)
      0x4a, 0x0b, 0x08, 0xd9, 0x83, 0xe2, 0xb1, 0x06, 0x10, 0x95, 0x9a, 0xef, 0x3a, // deletionTimestamp{1714979289, nanos 123456789}
    ]);
    expect(cm.metadata).toEqual({ deletionTimestamp: "2024-05-06T07:08:09Z" });
  });

  it("IntOrString as string and as int; non-pointer zero strings and ints are dropped when omitempty", () => {
    const svc = decode("v1", "Service", [
      0x12, 0x19, // spec
      0x0a, 0x0c, 0x18, 0x50, 0x22, 0x08, 0x08, 0x01, 0x1a, 0x04, 0x68, 0x74, 0x74, 0x70, // ports[0]{port 80, targetPort{type 1, strVal "http"}}
      0x0a, 0x09, 0x18, 0x35, 0x22, 0x05, 0x08, 0x00, 0x10, 0xe9, 0x29, // ports[1]{port 53, targetPort{type 0, intVal 5353}}
    ]) as any;
    expect(svc.spec.ports).toEqual([{ port: 80, targetPort: "http" }, { port: 53, targetPort: 5353 }]);
    expect(svc.metadata).toEqual({}); // a struct is never dropped by omitempty
  });

  it("repeated int64 packed and unpacked; inline VolumeSource; defaults of absent fields follow encoding/json", () => {
    const pod = (sc: number[]) =>
      decode("v1", "Pod", [
        0x12, 0x14, // spec
        0x12, 0x03, 0x0a, 0x01, 0x63, // containers[0]{name "c"}
        0x72, 0x04, ...sc, // securityContext{supplementalGroups}
        0x0a, 0x07, 0x0a, 0x01, 0x76, 0x12, 0x02, 0x12, 0x00, // volumes[0]{name "v", volumeSource{emptyDir{}}}
      ]) as any;
    const unpacked = pod([0x20, 0x01, 0x20, 0x02]);
    const packed = pod([0x22, 0x02, 0x01, 0x02]);
    expect(unpacked.spec.securityContext).toEqual({ supplementalGroups: [1, 2] });
    expect(packed.spec).toEqual(unpacked.spec);
    expect(unpacked.spec.volumes).toEqual([{ name: "v", emptyDir: {} }]);
    expect(unpacked.spec.containers).toEqual([{ name: "c", resources: {} }]); // json.Marshal(corev1.Container{Name: "c"})
    expect(unpacked.status).toEqual({});
  });

  it("bytes are base64, RawExtension JSON is inlined, absent non-omitempty slices are null", () => {
    expect(decode("v1", "Secret", [0x12, 0x08, 0x0a, 0x01, 0x6b, 0x12, 0x03, 0x00, 0x01, 0xff]).data).toEqual({ k: "AAH/" });
    const cr = decode("apps/v1", "ControllerRevision", [0x12, 0x09, 0x0a, 0x07, ...new TextEncoder().encode('{"a":1}'), 0x18, 0x05]); // data: RawExtension{raw = 1}
    expect(cr).toEqual({ apiVersion: "apps/v1", kind: "ControllerRevision", metadata: {}, data: { a: 1 }, revision: 5 });
    const role = decode("rbac.authorization.k8s.io/v1", "ClusterRole", [0x12, 0x02, 0x12, 0x00]);
    expect(role.rules).toEqual([{ verbs: null, apiGroups: [""] }]);
    expect(decode("apps/v1", "DeleteOptions", [0x22, 0x0a, ...new TextEncoder().encode("Foreground")])).toEqual({ apiVersion: "apps/v1", kind: "DeleteOptions", propagationPolicy: "Foreground" });
  });

  it("unknown field numbers and embedded protobuf objects are a loud 415; wrong wire types and garbage are 400", () => {
    const unknown = failure(() => decode("rbac.authorization.k8s.io/v1", "ClusterRole", [0x48, 0x01]));
    expect(unknown.code).toBe(415);
    expect(unknown.message).toContain("field 9 of rbac/v1.ClusterRole");
    const nested = failure(() => decode("v1", "Pod", [0x12, 0x04, 0x12, 0x02, 0xf8, 0x07])); // containers[0] field 127
    expect(nested.message).toContain("field 127 of core/v1.Container");
    const embedded = failure(() => decode("apps/v1", "ControllerRevision", [0x12, 0x06, 0x0a, 0x04, 0x6b, 0x38, 0x73, 0x00]));
    expect(embedded.code).toBe(415);
    expect(failure(() => decode("rbac.authorization.k8s.io/v1", "ClusterRole", [0x10, 0x01])).code).toBe(400);
    expect(failure(() => decode("v1", "Pod", [0x12, 0x09, 0x00])).code).toBe(400);
    const kind = failure(() => decode("apiextensions.k8s.io/v1", "CustomResourceDefinition", []));
    expect(kind.code).toBe(415);
    expect(kind.message).toContain("application/json");
  });
});

describe("apiserver protobuf bodies", () => {
  it("decodes a ConfigMap sent as protobuf (kubectl >= 1.32 create)", async () => {
    const { api } = newServer();
    const res = await post(api, "/api/v1/namespaces/default/configmaps", envelope("v1", "ConfigMap", configMap("pb", { a: "b" })));
    expect(res.status).toBe(201);
    const g = await call(api, "GET", "/api/v1/namespaces/default/configmaps/pb");
    expect(g.body.data).toEqual({ a: "b" });
    expect(g.body.metadata.labels).toEqual({ app: "x" });
  });

  it("creates a ClusterRole with an aggregationRule sent as protobuf", async () => {
    const { api } = newServer();
    const w = new BinaryWriter();
    w.tag(1, 2).fork().tag(1, 2).string("agg").join();
    w.tag(2, 2).fork().tag(1, 2).string("get").tag(2, 2).string("").tag(3, 2).string("pods").join();
    w.tag(3, 2).fork().tag(1, 2).fork().tag(1, 2).fork().tag(1, 2).string("k").tag(2, 2).string("v").join().join().join();
    const res = await post(api, "/apis/rbac.authorization.k8s.io/v1/clusterroles", envelope("rbac.authorization.k8s.io/v1", "ClusterRole", w.finish()));
    expect(res.status).toBe(201);
    const g = await call(api, "GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles/agg");
    expect(g.body.rules).toEqual([{ verbs: ["get"], apiGroups: [""], resources: ["pods"] }]);
    expect(g.body.aggregationRule).toEqual({ clusterRoleSelectors: [{ matchLabels: { k: "v" } }] });
  });

  it("unknown kinds and fields are 415, garbage is 400, state unchanged", async () => {
    const { api } = newServer();
    const rv = api.resourceVersion;
    const r1 = await post(api, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", envelope("apiextensions.k8s.io/v1", "CustomResourceDefinition", new Uint8Array()));
    expect(r1.status).toBe(415);
    expect((await r1.json()).reason).toBe("UnsupportedMediaType");
    const r0 = await post(api, "/api/v1/namespaces/default/configmaps", envelope("v1", "ConfigMap", [0x0a, 0x03, 0x0a, 0x01, 0x78, 0x70, 0x01]));
    expect(r0.status).toBe(415);
    expect((await r0.json()).message).toContain("field 14 of core/v1.ConfigMap");
    const r2 = await post(api, "/api/v1/namespaces/default/configmaps", new Uint8Array([0x6b, 0x38, 0x73, 0x00, 0x0a, 0xff, 0xff]));
    expect(r2.status).toBe(400);
    const r3 = await post(api, "/api/v1/namespaces/default/configmaps", new TextEncoder().encode("{}"));
    expect(r3.status).toBe(400);
    expect(api.resourceVersion).toBe(rv);
  });
});
