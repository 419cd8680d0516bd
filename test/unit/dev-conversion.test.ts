// DevCluster/DevMachine (and templates) v1beta1 <-> v1beta2: the field mapping of CAPD's conversion.go,
// and round trips over generated objects (hub -> spoke -> hub and spoke -> hub -> spoke), as CAPI's
// FuzzTestFunc checks its own conversions.
import { describe, expect, it } from "vitest";
import { BadReviewError, reviewConversion } from "../../controller/webhook/conversion-review.js";
import { CONVERSION_DATA_ANNOTATION, ConversionError, convertDevObject } from "../../edge-contract/dev-conversion.js";

const B1 = "infrastructure.cluster.x-k8s.io/v1beta1";
const B2 = "infrastructure.cluster.x-k8s.io/v1beta2";
type Json = Record<string, unknown>;

const legacyCondition = { type: "Ready", status: "False", severity: "Info", lastTransitionTime: "2026-01-01T00:00:00Z", reason: "Waiting", message: "m" };
const condition = { type: "Ready", status: "True", observedGeneration: 2, lastTransitionTime: "2026-01-01T00:00:00Z", reason: "Ready", message: "" };

describe("convertDevObject: the mapping", () => {
  it("DevCluster v1beta1 -> v1beta2: ready, failure domains (map -> sorted list), both condition sets", () => {
    const spoke = {
      apiVersion: B1,
      kind: "DevCluster",
      metadata: { name: "c", namespace: "ns", labels: { a: "b" } },
      spec: {
        controlPlaneEndpoint: { host: "", port: 0 },
        backend: { docker: { failureDomains: { z: { controlPlane: true }, a: { controlPlane: false, attributes: { k: "v" } } } } },
      },
      status: { ready: true, failureDomains: { fd1: { controlPlane: true } }, conditions: [legacyCondition], v1beta2: { conditions: [condition] } },
    };
    expect(convertDevObject(spoke, B2)).toEqual({
      apiVersion: B2,
      kind: "DevCluster",
      metadata: { name: "c", namespace: "ns", labels: { a: "b" } },
      spec: { backend: { docker: { failureDomains: [{ name: "a", controlPlane: false, attributes: { k: "v" } }, { name: "z", controlPlane: true }] } } },
      status: {
        initialization: { provisioned: true },
        failureDomains: [{ name: "fd1", controlPlane: true }],
        conditions: [condition],
        deprecated: { v1beta1: { conditions: [legacyCondition] } },
      },
    });
    expect(spoke.status.ready).toBe(true); // the input is not changed
  });

  it("DevMachine v1beta2 -> v1beta1: ready from initialization, failureDomain kept only in the conversion data", () => {
    const hub = {
      apiVersion: B2,
      kind: "DevMachine",
      metadata: { name: "m", annotations: { keep: "me" } },
      spec: { providerID: "", backend: { inMemory: { vm: { provisioning: { startupDuration: "2s", startupJitter: "0.2" } } } } },
      status: { initialization: { provisioned: false }, failureDomain: "fd1", addresses: [{ type: "InternalIP", address: "10.0.0.1" }], conditions: [condition] },
    };
    const spoke = convertDevObject(hub, B1);
    const { [CONVERSION_DATA_ANNOTATION]: data, ...annotations } = (spoke.metadata as Json).annotations as Record<string, string>;
    expect(annotations).toEqual({ keep: "me" });
    expect(JSON.parse(data)).toEqual({ apiVersion: B2, kind: "DevMachine", spec: hub.spec, status: hub.status });
    expect(spoke.spec).toEqual({ backend: hub.spec.backend });
    expect(spoke.status).toEqual({ ready: false, addresses: hub.status.addresses, v1beta2: { conditions: [condition] } });
    // Back to the hub: the explicit `provisioned: false` and the failure domain come back from the data.
    expect(convertDevObject(spoke, B2)).toEqual({ ...hub, spec: { backend: hub.spec.backend } });
  });

  it("DevMachineTemplate: v1beta1 has no status; a down-converted template brings it back", () => {
    const hub = { apiVersion: B2, kind: "DevMachineTemplate", metadata: { name: "t" }, spec: { template: { spec: { backend: { inMemory: {} } } } }, status: { capacity: { cpu: "2" } } };
    const spoke = convertDevObject(hub, B1);
    expect(spoke.status).toBeUndefined();
    expect(convertDevObject(spoke, B2)).toEqual(hub);
  });

  it("refuses other kinds and versions with a ConversionError", () => {
    expect(() => convertDevObject({ apiVersion: B1, kind: "DevMachinePool" }, B2)).toThrow(ConversionError);
    expect(() => convertDevObject({ apiVersion: "infrastructure.cluster.x-k8s.io/v1alpha9", kind: "DevCluster" }, B2)).toThrow(/v1alpha9/);
    expect(() => convertDevObject({ apiVersion: B1, kind: "DevCluster" }, "apps/v1")).toThrow(/apps\/v1/);
    expect(() => convertDevObject({ apiVersion: B1, kind: "DevCluster", metadata: [] }, B2)).toThrow(/metadata/);
  });

  it("a failure domain without a name (refused by the schema) is left out, not fatal", () => {
    const hub = { apiVersion: B2, kind: "DevCluster", metadata: { name: "c" }, spec: { backend: { docker: { failureDomains: [{ controlPlane: true }, { name: "a" }] } } } };
    expect((convertDevObject(hub, B1).spec as any).backend.docker.failureDomains).toEqual({ a: { controlPlane: false } });
  });

  it("a conversion-data annotation that is not JSON is dropped, not fatal", () => {
    const spoke = { apiVersion: B1, kind: "DevCluster", metadata: { name: "c", annotations: { [CONVERSION_DATA_ANNOTATION]: "{" } }, spec: { backend: { inMemory: {} } }, status: { ready: false } };
    expect(convertDevObject(spoke, B2)).toEqual({ apiVersion: B2, kind: "DevCluster", metadata: { name: "c" }, spec: { backend: { inMemory: {} } } });
  });
});

// ---------------------------------------------------------------------------------------------
// Generated objects: a small seeded generator over every field the two versions carry.

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

function generators(r: () => number) {
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
  const maybe = <T>(f: () => T): T | undefined => (r() < 0.5 ? f() : undefined);
  const word = () => pick(["a", "b", "zone-1", "zone-2", "x"]) + Math.floor(r() * 100);
  const strip = (o: Json): Json => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  const conditions = () => Array.from({ length: 1 + Math.floor(r() * 3) }, (_, i) => ({ ...condition, type: `T${i}`, status: pick(["True", "False", "Unknown"]) }));
  const legacy = () => Array.from({ length: 1 + Math.floor(r() * 3) }, (_, i) => ({ ...legacyCondition, type: `L${i}` }));
  const attributes = () => maybe(() => ({ [word()]: word() }));
  const names = () => [...new Set(Array.from({ length: 1 + Math.floor(r() * 3) }, word))];
  const domainList = (controlPlaneSet: boolean) =>
    names().sort((a, b) => (controlPlaneSet ? (a < b ? -1 : 1) : 0)).map((name) => strip({ name, controlPlane: controlPlaneSet || r() < 0.5 ? r() < 0.5 : undefined, attributes: attributes() }));
  const domainMap = () => Object.fromEntries(names().map((n) => [n, strip({ controlPlane: r() < 0.5, attributes: attributes() })]));
  const provisioning = () => strip({ startupDuration: `${Math.floor(r() * 10)}s`, startupJitter: maybe(() => "0.2") });
  const inMemory = () => strip({ vm: maybe(() => ({ provisioning: provisioning() })), etcd: maybe(() => ({ provisioning: provisioning() })) });
  /** A status with at least one field, or none (an empty status converts to none). */
  const status = (o: Json) => {
    const s = strip(o);
    return Object.keys(s).length ? s : undefined;
  };
  const meta = () => strip({ name: word(), namespace: "ns", labels: maybe(() => ({ l: word() })), annotations: maybe(() => ({ a: word() })) });
  return { pick, maybe, word, strip, status, conditions, legacy, domainList, domainMap, inMemory, meta };
}

function hubObject(kind: string, g: ReturnType<typeof generators>): Json {
  const { maybe, strip } = g;
  const clusterSpec = () => strip({
    controlPlaneEndpoint: maybe(() => ({ host: "127.0.0.1", port: 20000 })),
    backend: g.pick([{ inMemory: {} }, { docker: strip({ failureDomains: maybe(() => g.domainList(false)) }) }]),
  });
  const initialization = () => maybe(() => ({ provisioned: g.pick([true, false]) }));
  const deprecated = () => maybe(() => ({ v1beta1: { conditions: g.legacy() } }));
  switch (kind) {
    case "DevCluster":
      return strip({
        apiVersion: B2, kind, metadata: g.meta(), spec: clusterSpec(),
        status: maybe(() => g.status({ conditions: maybe(g.conditions), initialization: initialization(), failureDomains: maybe(() => g.domainList(false)), deprecated: deprecated() })),
      });
    case "DevClusterTemplate":
      // CAPI keeps no conversion data for cluster templates: their failure domains must say controlPlane and be sorted.
      return { apiVersion: B2, kind, metadata: g.meta(), spec: { template: { spec: strip({ backend: g.pick([{ inMemory: {} }, { docker: { failureDomains: g.domainList(true) } }]) }) } } };
    case "DevMachine":
      return strip({
        apiVersion: B2, kind, metadata: g.meta(), spec: strip({ providerID: maybe(() => `in-memory://${g.word()}`), backend: { inMemory: g.inMemory() } }),
        status: maybe(() => g.status({ conditions: maybe(g.conditions), initialization: initialization(), addresses: maybe(() => [{ type: "Hostname", address: g.word() }]), failureDomain: maybe(g.word), deprecated: deprecated() })),
      });
    default:
      return strip({ apiVersion: B2, kind, metadata: g.meta(), spec: { template: { spec: { backend: { inMemory: g.inMemory() } } } }, status: maybe(() => ({ capacity: { cpu: "4" } })) });
  }
}

function spokeObject(kind: string, g: ReturnType<typeof generators>): Json {
  const { maybe, strip } = g;
  const clusterSpec = () => strip({
    controlPlaneEndpoint: maybe(() => ({ host: "127.0.0.1", port: 20000 })),
    backend: g.pick([{ inMemory: {} }, { docker: strip({ failureDomains: maybe(g.domainMap) }) }]),
  });
  const v1beta2 = () => maybe(() => ({ conditions: g.conditions() }));
  switch (kind) {
    case "DevCluster":
      return { apiVersion: B1, kind, metadata: g.meta(), spec: clusterSpec(), status: strip({ ready: g.pick([true, false]), failureDomains: maybe(g.domainMap), conditions: maybe(g.legacy), v1beta2: v1beta2() }) };
    case "DevClusterTemplate":
      return { apiVersion: B1, kind, metadata: g.meta(), spec: { template: { spec: clusterSpec() } } };
    case "DevMachine":
      return {
        apiVersion: B1, kind, metadata: g.meta(), spec: strip({ providerID: maybe(() => `in-memory://${g.word()}`), backend: { inMemory: g.inMemory() } }),
        status: strip({ ready: g.pick([true, false]), addresses: maybe(() => [{ type: "Hostname", address: g.word() }]), conditions: maybe(g.legacy), v1beta2: v1beta2() }),
      };
    default:
      return { apiVersion: B1, kind, metadata: g.meta(), spec: { template: { spec: { backend: { inMemory: g.inMemory() } } } } };
  }
}

const KINDS = ["DevCluster", "DevClusterTemplate", "DevMachine", "DevMachineTemplate"];

describe("convertDevObject: round trips over generated objects", () => {
  it.each(KINDS)("%s hub -> spoke -> hub is lossless", (kind) => {
    const g = generators(rng(kind.length * 7919));
    for (let i = 0; i < 500; i++) {
      const hub = hubObject(kind, g);
      const spoke = convertDevObject(hub, B1);
      expect(spoke.apiVersion).toBe(B1);
      expect(convertDevObject(spoke, B2)).toEqual(hub);
    }
  });

  it.each(KINDS)("%s spoke -> hub -> spoke is lossless (but for the conversion data)", (kind) => {
    const g = generators(rng(kind.length * 104729));
    for (let i = 0; i < 500; i++) {
      const spoke = spokeObject(kind, g);
      const back = convertDevObject(convertDevObject(spoke, B2), B1);
      const annotations = { ...((back.metadata as Json).annotations as Json) };
      delete annotations[CONVERSION_DATA_ANNOTATION];
      const { annotations: _a, ...meta } = back.metadata as Json;
      const restored = { ...back, metadata: Object.keys(annotations).length ? { ...meta, annotations } : meta };
      expect(restored).toEqual(spoke);
    }
  });
});

describe("reviewConversion (the webhook's ConversionReview)", () => {
  const review = (request: unknown) => ({ apiVersion: "apiextensions.k8s.io/v1", kind: "ConversionReview", request });
  const cluster = { apiVersion: B1, kind: "DevCluster", metadata: { name: "c" }, spec: { backend: { inMemory: {} } }, status: { ready: true } };

  it("converts every object to the desired version, answering with the request's uid", () => {
    const out = reviewConversion(review({ uid: "u1", desiredAPIVersion: B2, objects: [cluster, { ...cluster, metadata: { name: "d" } }] }));
    expect(out.response.uid).toBe("u1");
    expect(out.response.result).toEqual({ status: "Success" });
    expect(out.response.convertedObjects!.map((o) => [o.apiVersion, (o.status as Json).initialization])).toEqual([[B2, { provisioned: true }], [B2, { provisioned: true }]]);
  });

  it("answers Failure (not an exception) for objects it cannot convert", () => {
    for (const [objects, message] of [
      [[{ apiVersion: "apps/v1", kind: "Deployment" }], /objects\[0\]: no conversion for apps\/v1 Deployment/],
      [[cluster, 7], /objects\[1\]: not an object/],
      [[{ ...cluster, apiVersion: "infrastructure.cluster.x-k8s.io/v1alpha3" }], /v1alpha3/],
    ] as const) {
      const out = reviewConversion(review({ uid: "u2", desiredAPIVersion: B1, objects }));
      expect(out.response.result.status).toBe("Failure");
      expect((out.response.result as { message: string }).message).toMatch(message);
      expect(out.response.convertedObjects).toBeUndefined();
    }
  });

  it("refuses what is not a v1 ConversionReview", () => {
    expect(() => reviewConversion({ kind: "AdmissionReview", apiVersion: "admission.k8s.io/v1" })).toThrow(BadReviewError);
    expect(() => reviewConversion(review({ desiredAPIVersion: B2, objects: [] }))).toThrow(/uid/);
  });
});
