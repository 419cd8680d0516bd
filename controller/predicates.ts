// Event filters (controller-runtime's predicates): a watch event enqueues a reconcile only when the part of
// the object that reconciler reads has changed. Most events are status writes: our own (the reconcile that
// made them already acted on that state) or CAPI's status fields nobody here reads. Each filter keeps the
// last fingerprint per object; add and delete always pass, so a relist or a restart still reconciles all.
import type { KubeObject } from "./kube.js";
import { controlPlaneInitialized, infrastructureProvisioned } from "./reconcilers/gates.js";

export type Fingerprint = (o: KubeObject) => unknown;

/** Everything but status (and the bookkeeping every write changes): what another writer could change for us. */
export const specAndMeta: Fingerprint = (o) => {
  const m = o.metadata;
  return [m.uid, m.labels, m.annotations, m.finalizers, m.ownerReferences, m.deletionTimestamp, o.spec];
};

/** A DevMachine as its reconciler reads it, minus spec.providerID: only that reconciler writes it, then goes on. */
export const devMachineOwn: Fingerprint = (o) => {
  const { providerID: _ours, ...spec } = o.spec ?? {};
  return specAndMeta({ ...o, spec });
};

/** A Machine as the DevMachine reconciler reads it (not its status, nor the providerID CAPI copies back). */
export const machineForDevMachine: Fingerprint = (o) => {
  const m = o.metadata;
  const s = o.spec ?? {};
  return [m.uid, m.labels, m.annotations, m.ownerReferences, m.deletionTimestamp, s.clusterName, s.version, s.failureDomain, s.bootstrap, s.infrastructureRef];
};

/** A DevCluster as its DevMachines see it: which cluster it belongs to and whether it is provisioned. */
export const devClusterForMachines: Fingerprint = (o) => [
  o.metadata.uid,
  o.metadata.labels,
  o.metadata.ownerReferences,
  o.metadata.deletionTimestamp,
  o.status?.initialization?.provisioned === true,
];

/** A Cluster as the DevMachine gates read it: spec (pause, infrastructureRef) and the two readiness flags. */
export const clusterForMachines: Fingerprint = (o) => [
  specAndMeta(o),
  infrastructureProvisioned(o, undefined),
  controlPlaneInitialized(o),
];

/** Calls `fn` for add and delete, and for an update whose fingerprint differs from the last one seen. */
export function onChange(fp: Fingerprint, fn: (o: KubeObject) => void) {
  const last = new Map<string, string>();
  const key = (o: KubeObject) => `${o.metadata.namespace ?? ""}/${o.metadata.name}`;
  return {
    add(o: KubeObject) {
      last.set(key(o), JSON.stringify(fp(o)));
      fn(o);
    },
    update(o: KubeObject) {
      const f = JSON.stringify(fp(o));
      if (last.get(key(o)) === f) return;
      last.set(key(o), f);
      fn(o);
    },
    delete(o: KubeObject) {
      last.delete(key(o));
      fn(o);
    },
  };
}
