// DevCluster, DevMachine and their templates at v1beta1 next to v1beta2 on the embedded management API
// (which runs the controller's conversion in-process): objects written at either version are stored
// once at v1beta2, read back converted at both, reconciled by the controller, patched and watched at
// v1beta1; a v1beta1 read written back loses nothing. kubectl and client-node against the stack.
import * as k8s from "@kubernetes/client-node";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startControllerStack, type ControllerStack } from "../helpers/controller-process.js";
import { KUBECTL, kubeConfigFile, kubectl, kubectlJson, until } from "./embedded-process.js";

const NS = "default";
const G = "infrastructure.cluster.x-k8s.io";
const DATA = "cluster.x-k8s.io/conversion-data";
const at = (version: string, resource: string) => `${resource}.${version}.${G}`;

describe.skipIf(!KUBECTL)("DevCluster/DevMachine v1beta1 served next to v1beta2", () => {
  let stack: ControllerStack;
  let mgmt: string;
  const get = (version: string, resource: string, name: string) => kubectlJson(mgmt, ["-n", NS, "get", at(version, resource), name]);

  beforeAll(async () => {
    stack = await startControllerStack({ portRange: "23000-23999" });
    mgmt = stack.mgmt.kubeconfigPath;
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it("a v1beta1 DevCluster is stored at v1beta2, reconciled, and reads as ready at v1beta1", async () => {
    await stack.apply(`apiVersion: cluster.x-k8s.io/v1beta2
kind: Cluster
metadata: {name: old, namespace: ${NS}}
spec: {}
---
apiVersion: ${G}/v1beta1
kind: DevCluster
metadata: {name: old, namespace: ${NS}, labels: {cluster.x-k8s.io/cluster-name: old}}
spec:
  backend: {inMemory: {}}
`);
    const hub = await until(async () => {
      const o = await get("v1beta2", "devclusters", "old");
      return o.status?.initialization?.provisioned === true ? o : undefined;
    }, "the controller provisions the DevCluster written at v1beta1");
    expect(hub.apiVersion).toBe(`${G}/v1beta2`);
    expect(hub.spec.controlPlaneEndpoint).toMatchObject({ host: "127.0.0.1" });
    expect(hub.metadata.annotations?.[DATA]).toBeUndefined();

    const spoke = await get("v1beta1", "devclusters", "old");
    expect(spoke.apiVersion).toBe(`${G}/v1beta1`);
    expect(spoke.spec).toEqual(hub.spec);
    expect(spoke.status.ready).toBe(true);
    expect(spoke.status.initialization).toBeUndefined();
    expect(spoke.status.v1beta2.conditions).toEqual(hub.status.conditions);
    expect(JSON.parse(spoke.metadata.annotations[DATA]).status).toEqual(hub.status);
    // The v1beta1 printer columns read the converted object.
    expect(await kubectl(mgmt, ["-n", NS, "get", at("v1beta1", "devclusters"), "old"])).toMatch(/^old\s+old\s+true\s+/m);
  });

  it("a v1beta1 read written back changes nothing at v1beta2", async () => {
    const before = await get("v1beta2", "devclusters", "old");
    const spoke = await get("v1beta1", "devclusters", "old");
    spoke.metadata.labels.touched = "yes"; // one real change, so the write is not a no-op
    const file = path.join(stack.dir, "old-v1beta1.json");
    writeFileSync(file, JSON.stringify(spoke));
    await kubectl(mgmt, ["replace", "-f", file]);
    // And the status as read at v1beta1 (ready, v1beta2.conditions) written back through /status.
    writeFileSync(file, JSON.stringify(await get("v1beta1", "devclusters", "old")));
    await kubectl(mgmt, ["replace", "--subresource=status", "-f", file]);
    const after = await get("v1beta2", "devclusters", "old");
    expect(after.metadata.labels).toEqual({ ...before.metadata.labels, touched: "yes" });
    expect(after.metadata.annotations?.[DATA]).toBeUndefined();
    expect(after.spec).toEqual(before.spec);
    expect(after.status).toEqual(before.status);
  });

  it("templates: v1beta1 failure domains (a map) become v1beta2's sorted list; merge patches at v1beta1 land there", async () => {
    await stack.apply(`apiVersion: ${G}/v1beta1
kind: DevClusterTemplate
metadata: {name: zones, namespace: ${NS}}
spec:
  template:
    spec:
      backend:
        docker:
          failureDomains:
            zone-b: {controlPlane: true}
            zone-a: {controlPlane: false, attributes: {rack: r1}}
`);
    const hub = await get("v1beta2", "devclustertemplates", "zones");
    expect(hub.spec.template.spec.backend.docker.failureDomains).toEqual([
      { name: "zone-a", controlPlane: false, attributes: { rack: "r1" } },
      { name: "zone-b", controlPlane: true },
    ]);
    await kubectl(mgmt, ["-n", NS, "patch", at("v1beta1", "devclustertemplates"), "zones", "--type=merge", "-p",
      JSON.stringify({ spec: { template: { spec: { backend: { docker: { failureDomains: { "zone-0": { controlPlane: true }, "zone-a": null } } } } } } })]);
    const patched = await get("v1beta2", "devclustertemplates", "zones");
    expect(patched.spec.template.spec.backend.docker.failureDomains.map((d: any) => d.name)).toEqual(["zone-0", "zone-b"]);
    const spoke = await get("v1beta1", "devclustertemplates", "zones");
    expect(spoke.spec.template.spec.backend.docker.failureDomains).toEqual({ "zone-0": { controlPlane: true }, "zone-b": { controlPlane: true } });
  });

  it("DevMachine and DevMachineTemplate keep their provisioning timings across versions; v1beta2 writes read at v1beta1", async () => {
    const backend = { inMemory: { vm: { provisioning: { startupDuration: "3s", startupJitter: "0.1" } }, etcd: { provisioning: { startupDuration: "1s" } } } };
    await stack.apply(JSON.stringify({ apiVersion: `${G}/v1beta1`, kind: "DevMachineTemplate", metadata: { name: "cp", namespace: NS }, spec: { template: { spec: { backend } } } }));
    expect((await get("v1beta2", "devmachinetemplates", "cp")).spec.template.spec.backend).toEqual(backend);
    await stack.apply(JSON.stringify({ apiVersion: `${G}/v1beta2`, kind: "DevMachine", metadata: { name: "m0", namespace: NS }, spec: { providerID: "in-memory://m0", backend } }));
    const spoke = await get("v1beta1", "devmachines", "m0");
    expect(spoke.spec).toEqual({ providerID: "in-memory://m0", backend });
    expect(spoke.status).toEqual({ ready: false });
  });

  it("a watch at v1beta1 delivers objects converted to v1beta1", async () => {
    const kc = kubeConfigFile(mgmt);
    const events: Array<{ type: string; obj: any }> = [];
    const req = await new k8s.Watch(kc).watch(`/apis/${G}/v1beta1/namespaces/${NS}/devclustertemplates`, {}, (type, obj) => events.push({ type, obj }), () => {});
    try {
      await until(async () => (events.some((e) => e.obj.metadata?.name === "zones") ? true : undefined), "the initial ADDED event");
      await kubectl(mgmt, ["-n", NS, "patch", at("v1beta2", "devclustertemplates"), "zones", "--type=json", "-p",
        JSON.stringify([{ op: "add", path: "/spec/template/spec/backend/docker/failureDomains/-", value: { name: "zone-c", controlPlane: false } }])]);
      const modified = await until(async () => events.find((e) => e.type === "MODIFIED")?.obj, "the MODIFIED event at v1beta1");
      expect(modified.apiVersion).toBe(`${G}/v1beta1`);
      expect(Object.keys(modified.spec.template.spec.backend.docker.failureDomains)).toEqual(["zone-0", "zone-b", "zone-c"]);
    } finally {
      req.abort();
    }
  });
});
