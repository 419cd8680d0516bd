// Writes the reconcilers share: finalizers (merge patch guarded by resourceVersion, so a concurrent
// writer's finalizer is never dropped: a stale read gets 409 and the key is retried) and status
// patches that are skipped when nothing changed (no self-triggered watch events, no write load).
import { isNotFound, type GVR, type Kube, type KubeObject } from "../kube.js";
import { sameConditions, toV1Beta1, type Condition } from "./conditions.js";

/** Adds the finalizer; returns the object as stored (for callers that patch again with its resourceVersion). */
export async function ensureFinalizer(kube: Kube, gvr: GVR, obj: KubeObject, finalizer: string): Promise<KubeObject> {
  const current = obj.metadata.finalizers ?? [];
  if (current.includes(finalizer)) return obj;
  return kube.patch(gvr, obj.metadata.namespace!, obj.metadata.name, {
    metadata: { finalizers: [...current, finalizer], resourceVersion: obj.metadata.resourceVersion },
  });
}

export async function removeFinalizer(kube: Kube, gvr: GVR, obj: KubeObject, finalizer: string): Promise<void> {
  const current = obj.metadata.finalizers ?? [];
  if (!current.includes(finalizer)) return;
  try {
    await kube.patch(gvr, obj.metadata.namespace!, obj.metadata.name, {
      metadata: { finalizers: current.filter((f) => f !== finalizer), resourceVersion: obj.metadata.resourceVersion },
    });
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
}

/** The status fields a reconciler owns; only these are compared and patched. */
export interface OwnedStatus {
  conditions: Condition[];
  initialization?: { provisioned?: boolean };
  failureDomain?: string;
  addresses?: Array<{ type: string; address: string }>;
  /** The v1beta1 contract's status.ready (InMemoryCluster/InMemoryMachine v1alpha1, DevMachinePool). */
  ready?: boolean;
  /** Further status fields the reconciler owns (a machine pool's replicas), compared and written as they are. */
  extra?: Record<string, unknown>;
}

/** Patch status with `next` (and the v1beta1 condition mirror) unless it already says that. */
export async function patchStatusIfChanged(kube: Kube, gvr: GVR, obj: KubeObject, next: OwnedStatus): Promise<boolean> {
  const cur = obj.status ?? {};
  const changed =
    !sameConditions(cur.conditions, next.conditions) ||
    (next.initialization !== undefined && JSON.stringify(cur.initialization ?? {}) !== JSON.stringify(next.initialization)) ||
    (next.failureDomain !== undefined && cur.failureDomain !== next.failureDomain) ||
    (next.addresses !== undefined && JSON.stringify(cur.addresses ?? []) !== JSON.stringify(next.addresses)) ||
    (next.ready !== undefined && cur.ready !== next.ready) ||
    (next.extra !== undefined && Object.entries(next.extra).some(([k, v]) => JSON.stringify(cur[k]) !== JSON.stringify(v)));
  if (!changed) return false;
  const body: Record<string, unknown> = {
    conditions: next.conditions,
    deprecated: { v1beta1: { conditions: toV1Beta1(next.conditions) } },
  };
  if (next.initialization !== undefined) body.initialization = next.initialization;
  if (next.failureDomain !== undefined) body.failureDomain = next.failureDomain;
  if (next.addresses !== undefined) body.addresses = next.addresses;
  if (next.ready !== undefined) body.ready = next.ready;
  if (next.extra !== undefined) Object.assign(body, next.extra);
  try {
    await kube.patchStatus(gvr, obj.metadata.namespace!, obj.metadata.name, { status: body });
  } catch (e) {
    if (isNotFound(e)) return false;
    throw e;
  }
  return true;
}
