// metav1.Condition helpers (v1beta2 status.conditions) and the deprecated v1beta1 mirror
// (status.deprecated.v1beta1.conditions), with the condition types and reasons CAPD uses.

export interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

/** clusterv1.Condition as v1beta1 had it: severity instead of observedGeneration. */
export interface V1Beta1Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  severity?: "Error" | "Warning" | "Info" | "";
  reason?: string;
  message?: string;
  lastTransitionTime: string;
}

export const Types = {
  Ready: "Ready",
  Paused: "Paused",
  VMProvisioned: "VMProvisioned",
  NodeProvisioned: "NodeProvisioned",
  EtcdProvisioned: "EtcdProvisioned",
  APIServerProvisioned: "APIServerProvisioned",
  LoadBalancerAvailable: "LoadBalancerAvailable",
} as const;

export const Reasons = {
  Ready: "Ready",
  NotReady: "NotReady",
  ReadyUnknown: "ReadyUnknown",
  Provisioned: "Provisioned",
  NotProvisioned: "NotProvisioned",
  Deleting: "Deleting",
  InternalError: "InternalError",
  WaitingForClusterInfrastructureReady: "WaitingForClusterInfrastructureReady",
  WaitingForControlPlaneInitialized: "WaitingForControlPlaneInitialized",
  WaitingForBootstrapData: "WaitingForBootstrapData",
  WaitingForStartupTimeout: "WaitingForStartupTimeout",
  WaitingForVMProvisioned: "WaitingForVMProvisioned",
  WaitingForNodeProvisioned: "WaitingForNodeProvisioned",
  /** capim-edge specific: the backend the object asks for is not one we run. */
  UnsupportedBackend: "UnsupportedBackend",
  WaitingForCluster: "WaitingForCluster",
  WaitingForMachine: "WaitingForMachine",
  VIPUnavailable: "VIPUnavailable",
  /** capim-edge specific: the port the endpoint names is held by another process; the VIP waits for it. */
  VIPPortUnavailable: "VIPPortUnavailable",
  Paused: "Paused",
  NotPaused: "NotPaused",
} as const;

export type ConditionInput = Omit<Condition, "lastTransitionTime" | "message"> & { message?: string; lastTransitionTime?: string };

/**
 * Merge `updates` into `existing`: a condition keeps its lastTransitionTime unless its status changes
 * (metav1 semantics); conditions not in `updates` are kept unless listed in `remove`.
 */
export function setConditions(
  existing: Condition[] | undefined,
  updates: ConditionInput[],
  opts: { now?: string; generation?: number; remove?: string[] } = {},
): Condition[] {
  const now = opts.now ?? new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
  const out = new Map<string, Condition>();
  for (const c of existing ?? []) if (!opts.remove?.includes(c.type)) out.set(c.type, c);
  for (const u of updates) {
    const prev = out.get(u.type);
    const ltt = prev && prev.status === u.status ? prev.lastTransitionTime : (u.lastTransitionTime ?? now);
    const c: Condition = { type: u.type, status: u.status, reason: u.reason, message: u.message ?? "", lastTransitionTime: ltt };
    if (opts.generation !== undefined) c.observedGeneration = opts.generation;
    out.set(u.type, c);
  }
  return order([...out.values()]);
}

const ORDER = [Types.Ready, Types.Paused, Types.VMProvisioned, Types.NodeProvisioned, Types.EtcdProvisioned, Types.APIServerProvisioned];

/** Ready first, then the provisioning steps in timeline order, then the rest by type (stable diffs). */
function order(cs: Condition[]): Condition[] {
  const rank = (t: string) => {
    const i = ORDER.indexOf(t as (typeof ORDER)[number]);
    return i < 0 ? ORDER.length : i;
  };
  return cs.sort((a, b) => rank(a.type) - rank(b.type) || a.type.localeCompare(b.type));
}

export function getCondition(list: Condition[] | undefined, type: string): Condition | undefined {
  return list?.find((c) => c.type === type);
}

export function isTrue(list: Condition[] | undefined, type: string): boolean {
  return getCondition(list, type)?.status === "True";
}

/** The v1beta1 mirror: same types, severity Info for a False step that is only waiting, Error for InternalError. */
export function toV1Beta1(conditions: Condition[]): V1Beta1Condition[] {
  return conditions
    .filter((c) => c.type !== Types.Paused)
    .map((c) => {
      const v: V1Beta1Condition = { type: c.type, status: c.status, lastTransitionTime: c.lastTransitionTime };
      if (c.status !== "True") {
        v.severity = c.reason === Reasons.InternalError || c.reason === Reasons.UnsupportedBackend ? "Error" : "Info";
        v.reason = c.reason;
        if (c.message) v.message = c.message;
      }
      return v;
    });
}

/** True when two condition lists say the same thing (ignores order). */
export function sameConditions(a: Condition[] | undefined, b: Condition[] | undefined): boolean {
  const key = (l: Condition[] | undefined) =>
    JSON.stringify(
      [...(l ?? [])]
        .map((c) => [c.type, c.status, c.reason, c.message ?? "", c.lastTransitionTime, c.observedGeneration ?? null])
        .sort(),
    );
  return key(a) === key(b);
}
