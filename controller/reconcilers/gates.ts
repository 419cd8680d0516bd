// The gates a DevMachine passes before its machine exists on the edge (CAPD in-memory semantics):
// the Cluster's infrastructure must be provisioned, workers wait for the control plane to be
// initialized, and every machine waits for its bootstrap data secret (never executed, only awaited).
import type { KubeObject } from "../kube.js";
import { Reasons } from "./conditions.js";

export const CONTROL_PLANE_LABEL = "cluster.x-k8s.io/control-plane";
export const CLUSTER_NAME_LABEL = "cluster.x-k8s.io/cluster-name";
export const PAUSED_ANNOTATION = "cluster.x-k8s.io/paused";

export interface Gate {
  reason:
    | typeof Reasons.WaitingForClusterInfrastructureReady
    | typeof Reasons.WaitingForControlPlaneInitialized
    | typeof Reasons.WaitingForBootstrapData;
  message: string;
}

interface AnyCondition {
  type?: string;
  status?: string;
}

function conditionTrue(list: unknown, type: string): boolean {
  return Array.isArray(list) && (list as AnyCondition[]).some((c) => c?.type === type && c?.status === "True");
}

/**
 * Cluster infrastructure provisioned: v1beta2 `status.initialization.infrastructureProvisioned`,
 * v1beta1 `status.infrastructureReady`, or (as CAPI would soon copy it) the DevCluster's own
 * `status.initialization.provisioned`.
 */
export function infrastructureProvisioned(cluster: KubeObject | undefined, devCluster: KubeObject | undefined): boolean {
  const s = cluster?.status ?? {};
  if (s.initialization?.infrastructureProvisioned === true || s.infrastructureReady === true) return true;
  return devCluster?.status?.initialization?.provisioned === true;
}

/** ControlPlaneInitialized: the v1beta2 condition, the initialization flag, or v1beta1's status.v1beta2 conditions. */
export function controlPlaneInitialized(cluster: KubeObject | undefined): boolean {
  const s = cluster?.status ?? {};
  return (
    s.initialization?.controlPlaneInitialized === true ||
    conditionTrue(s.conditions, "ControlPlaneInitialized") ||
    conditionTrue(s.v1beta2?.conditions, "ControlPlaneInitialized") ||
    s.controlPlaneReady === true
  );
}

/** The name of the object's owner of a CAPI kind (Cluster, Machine, MachinePool), from its ownerReferences. */
export function capiOwnerName(obj: KubeObject, kind: string): string | undefined {
  return obj.metadata.ownerReferences?.find((r) => r.kind === kind && r.apiVersion.startsWith("cluster.x-k8s.io/"))?.name;
}

export function isControlPlaneMachine(machine: KubeObject | undefined): boolean {
  return machine?.metadata.labels?.[CONTROL_PLANE_LABEL] !== undefined;
}

export function bootstrapDataSecretName(machine: KubeObject | undefined): string | undefined {
  const n = machine?.spec?.bootstrap?.dataSecretName;
  return typeof n === "string" && n ? n : undefined;
}

/** The first gate that holds the machine back, or undefined when it may be provisioned. */
export function machineGate(args: {
  cluster: KubeObject | undefined;
  devCluster: KubeObject | undefined;
  machine: KubeObject;
}): Gate | undefined {
  const { cluster, devCluster, machine } = args;
  if (!infrastructureProvisioned(cluster, devCluster)) {
    return { reason: Reasons.WaitingForClusterInfrastructureReady, message: "Waiting for the Cluster's infrastructure to be provisioned" };
  }
  if (!isControlPlaneMachine(machine) && !controlPlaneInitialized(cluster)) {
    return { reason: Reasons.WaitingForControlPlaneInitialized, message: "Waiting for the control plane to be initialized" };
  }
  if (!bootstrapDataSecretName(machine)) {
    return { reason: Reasons.WaitingForBootstrapData, message: "Waiting for the bootstrap provider to set Machine.spec.bootstrap.dataSecretName" };
  }
  return undefined;
}

/** CAPI pause: Cluster.spec.paused or the paused annotation on the object itself. */
export function isPaused(cluster: KubeObject | undefined, obj: KubeObject): boolean {
  return cluster?.spec?.paused === true || obj.metadata.annotations?.[PAUSED_ANNOTATION] !== undefined;
}
