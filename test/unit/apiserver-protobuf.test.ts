import { BinaryWriter } from "@bufbuild/protobuf/wire";
import { describe, expect, it } from "vitest";
import { call, newServer } from "../helpers/node-host.js";

// Encode like client-go does: "k8s\0" + runtime.Unknown{typeMeta, raw}.
function envelope(apiVersion: string, kind: string, raw: Uint8Array): Uint8Array {
  const w = new BinaryWriter();
  w.tag(1, 2).fork().tag(1, 2).string(apiVersion).tag(2, 2).string(kind).join();
  w.tag(2, 2).bytes(raw);
  const body = w.finish();
  const out = new Uint8Array(body.length + 4);
  out.set([0x6b, 0x38, 0x73, 0x00]);
  out.set(body, 4);
  return out;
}

function configMap(name: string, data: Record<string, string>): Uint8Array {
  const w = new BinaryWriter();
  w.tag(1, 2).fork().tag(1, 2).string(name).tag(11, 2).fork().tag(1, 2).string("app").tag(2, 2).string("x").join().join();
  for (const [k, v] of Object.entries(data)) w.tag(2, 2).fork().tag(1, 2).string(k).tag(2, 2).string(v).join();
  return w.finish();
}

const post = (api: any, path: string, body: Uint8Array) =>
  api.handle(new Request(`http://c${path}`, { method: "POST", body: body as unknown as BodyInit, headers: { "content-type": "application/vnd.kubernetes.protobuf" } }));

describe("apiserver protobuf bodies", () => {
  it("decodes a ConfigMap sent as protobuf (kubectl >= 1.32 create)", async () => {
    const { api } = newServer();
    const res = await post(api, "/api/v1/namespaces/default/configmaps", envelope("v1", "ConfigMap", configMap("pb", { a: "b" })));
    expect(res.status).toBe(201);
    const g = await call(api, "GET", "/api/v1/namespaces/default/configmaps/pb");
    expect(g.body.data).toEqual({ a: "b" });
    expect(g.body.metadata.labels).toEqual({ app: "x" });
  });

  it("unknown kinds are 415, garbage is 400, state unchanged", async () => {
    const { api } = newServer();
    const rv = api.resourceVersion;
    const r1 = await post(api, "/apis/apps/v1/namespaces/default/deployments", envelope("apps/v1", "Deployment", new Uint8Array()));
    expect(r1.status).toBe(415);
    const r2 = await post(api, "/api/v1/namespaces/default/configmaps", new Uint8Array([0x6b, 0x38, 0x73, 0x00, 0x0a, 0xff, 0xff]));
    expect(r2.status).toBe(400);
    const r3 = await post(api, "/api/v1/namespaces/default/configmaps", new TextEncoder().encode("{}"));
    expect(r3.status).toBe(400);
    expect(api.resourceVersion).toBe(rv);
  });
});
