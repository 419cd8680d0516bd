// The two APIs the DevCluster/DevMachine reconcilers serve: CAPD's DevCluster/DevMachine v1beta2 (the
// v1beta2 contract, `spec.backend.inMemory`) and the original InMemoryCluster/InMemoryMachine v1alpha1 of
// CAPI's in-memory provider (the v1beta1 contract: always in memory, timings in `spec.behaviour`, and
// readiness also in `status.ready`, which CAPI reads for v1beta1-contract providers).
import { DEV_CLUSTER, DEV_MACHINE, IN_MEMORY_CLUSTER, IN_MEMORY_MACHINE, type GVR, type KubeObject } from "../kube.js";
import type { ReconcileContext } from "./context.js";

export interface InfraFlavor {
  clusterKind: "DevCluster" | "InMemoryCluster";
  machineKind: "DevMachine" | "InMemoryMachine";
  clusterGVR: GVR;
  machineGVR: GVR;
  /** The in-memory settings of a cluster or machine object; undefined: not an in-memory one. */
  inMemory(obj: KubeObject): Record<string, unknown> | undefined;
  /** Also write status.ready (the v1beta1 contract). */
  writesReady: boolean;
}

export const DEV_FLAVOR: InfraFlavor = {
  clusterKind: "DevCluster",
  machineKind: "DevMachine",
  clusterGVR: DEV_CLUSTER,
  machineGVR: DEV_MACHINE,
  inMemory: (obj) => obj.spec?.backend?.inMemory,
  writesReady: false,
};

export const IN_MEMORY_FLAVOR: InfraFlavor = {
  clusterKind: "InMemoryCluster",
  machineKind: "InMemoryMachine",
  clusterGVR: IN_MEMORY_CLUSTER,
  machineGVR: IN_MEMORY_MACHINE,
  inMemory: (obj) => obj.spec?.behaviour ?? {},
  writesReady: true,
};

export function clusterObject(ctx: ReconcileContext, flavor: InfraFlavor, ns: string, name: string): KubeObject | undefined {
  return flavor === DEV_FLAVOR ? ctx.cache.devCluster(ns, name) : ctx.cache.inMemoryCluster(ns, name);
}

export function machineObject(ctx: ReconcileContext, flavor: InfraFlavor, ns: string, name: string): KubeObject | undefined {
  return flavor === DEV_FLAVOR ? ctx.cache.devMachine(ns, name) : ctx.cache.inMemoryMachine(ns, name);
}
