// Static control plane pods are mirror pods as kubelet writes them: CAPI's drain skips pods with
// `kubernetes.io/config.mirror` and would otherwise evict etcd/kube-apiserver and wait for them.
import { describe, expect, it } from "vitest";
import { buildStaticPod, fnv1a32 } from "../../durable-objects/machines/objects.js";

const pod = (component: "etcd" | "kube-apiserver", node: string, version: string) =>
  buildStaticPod({ component, node, version, now: "2026-01-01T00:00:00Z" });

describe("mirror pods", () => {
  it("carry config.mirror equal to config.hash, with source file", () => {
    const a = pod("etcd", "cp-0", "v1.31.0").metadata!.annotations!;
    expect(a["kubernetes.io/config.mirror"]).toMatch(/^[0-9a-f]{8}$/);
    expect(a["kubernetes.io/config.mirror"]).toBe(a["kubernetes.io/config.hash"]);
    expect(a["kubernetes.io/config.source"]).toBe("file");
  });

  it("hash the manifest: same input same hash, a new version or node a new hash, seen time excluded", () => {
    const h = (c: "etcd" | "kube-apiserver", n: string, v: string) => pod(c, n, v).metadata!.annotations!["kubernetes.io/config.hash"];
    expect(h("etcd", "cp-0", "v1.31.0")).toBe(h("etcd", "cp-0", "v1.31.0"));
    expect(buildStaticPod({ component: "etcd", node: "cp-0", version: "v1.31.0", now: "2027-01-01T00:00:00Z" }).metadata!.annotations!["kubernetes.io/config.hash"]).toBe(
      h("etcd", "cp-0", "v1.31.0"),
    );
    expect(h("kube-apiserver", "cp-0", "v1.31.0")).not.toBe(h("kube-apiserver", "cp-0", "v1.32.0"));
    expect(h("etcd", "cp-0", "v1.31.0")).not.toBe(h("etcd", "cp-1", "v1.31.0"));
  });

  it("is FNV-1a 32 (published test vectors)", () => {
    expect(fnv1a32("")).toBe("811c9dc5");
    expect(fnv1a32("a")).toBe("e40c292c");
    expect(fnv1a32("foobar")).toBe("bf9cf968");
  });
});
