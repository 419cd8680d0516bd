// The bootstrap timeline of one fake machine: which steps it has, when each is
// due, and the DevMachine conditions that follow from that. Pure data and maths; the effects of a
// step (Nodes, Pods, etcd members) live in controller.ts and objects.ts.
//
// Each step's wait is drawn ONCE, when the machine is created, and stored (CAPI's in-memory provider
// re-draws on every reconcile, so its machines never settle on a time). Due times are chained on the
// predecessor's *scheduled* due time, not on when the step actually ran: an alarm that fires late
// (eviction, busy machine) then catches up instead of pushing every later step back.
import { parseGoDuration, parseJitter } from "../../edge-contract/durations.js";
import type { MachineCondition } from "../../edge-contract/admin-api.js";

export type { MachineCondition };

export type StepName = "vm" | "node" | "etcd" | "apiServer";

/** Steps in the order they run; etcd and apiServer both follow node (in parallel). */
export const STEP_ORDER: readonly StepName[] = ["vm", "node", "etcd", "apiServer"];
const AFTER: Record<StepName, StepName | null> = { vm: null, node: "vm", etcd: "node", apiServer: "node" };

export const CONDITION_OF: Record<StepName, string> = {
  vm: "VMProvisioned",
  node: "NodeProvisioned",
  etcd: "EtcdProvisioned",
  apiServer: "APIServerProvisioned",
};

/** One provisioning block as sent by the controller (DevMachine spec.backend.inMemory.<step>.provisioning). */
export interface ProvisioningSpec {
  startupDuration: string;
  startupJitter?: string;
}

export interface StepState {
  /** startupDuration in ms. */
  durationMs: number;
  /** startupJitter factor. */
  jitter: number;
  /** The drawn wait: durationMs + U[0,1) * jitter * durationMs, rounded to whole ms. */
  delayMs: number;
  /** Epoch ms at which the step runs. */
  dueAt: number;
  /** Epoch ms at which the step ran, null while pending. */
  doneAt: number | null;
}

/** Everything stored about one machine. JSON-serialisable. */
export interface MachineRecord {
  name: string;
  controlPlane: boolean;
  version: string;
  failureDomain?: string;
  /** The Node's providerID when another provider's machine names it (default in-memory://<name>). */
  providerID?: string;
  /** For the kubeadm ClusterConfiguration written by the first control plane. */
  clusterName?: string;
  controlPlaneEndpoint?: string;
  createdAt: number;
  /** The provisioning blocks as received (echoed back; kept so PUTs stay comparable). */
  provisioning: Partial<Record<StepName, ProvisioningSpec>>;
  /** vm and node always; etcd and apiServer for control planes only. */
  steps: Partial<Record<StepName, StepState>>;
}

export interface ParsedStep {
  durationMs: number;
  jitter: number;
}

/** Validates the `provisioning` object of a PUT body. Throws an Error with a user-facing message. */
export function parseProvisioning(value: unknown): {
  spec: Partial<Record<StepName, ProvisioningSpec>>;
  parsed: Partial<Record<StepName, ParsedStep>>;
} {
  const spec: Partial<Record<StepName, ProvisioningSpec>> = {};
  const parsed: Partial<Record<StepName, ParsedStep>> = {};
  if (value === undefined || value === null) return { spec, parsed };
  if (typeof value !== "object" || Array.isArray(value)) throw new Error("provisioning: must be an object");
  for (const [key, block] of Object.entries(value as Record<string, unknown>)) {
    if (!(STEP_ORDER as readonly string[]).includes(key)) {
      throw new Error(`provisioning.${key}: unknown step (expected one of ${STEP_ORDER.join(", ")})`);
    }
    const step = key as StepName;
    if (block === undefined || block === null) continue;
    if (typeof block !== "object" || Array.isArray(block)) throw new Error(`provisioning.${step}: must be an object`);
    const b = block as Record<string, unknown>;
    if (typeof b.startupDuration !== "string") throw new Error(`provisioning.${step}.startupDuration: required duration string`);
    let durationMs: number;
    try {
      durationMs = parseGoDuration(b.startupDuration);
    } catch (e) {
      throw new Error(`provisioning.${step}.startupDuration: ${(e as Error).message}`);
    }
    if (durationMs < 0) throw new Error(`provisioning.${step}.startupDuration: must not be negative`);
    let jitter = 0;
    if (b.startupJitter !== undefined && b.startupJitter !== null && b.startupJitter !== "") {
      try {
        jitter = parseJitter(b.startupJitter);
      } catch (e) {
        throw new Error(`provisioning.${step}.startupJitter: ${(e as Error).message}`);
      }
    }
    spec[step] = { startupDuration: b.startupDuration, ...(b.startupJitter != null ? { startupJitter: String(b.startupJitter) } : {}) };
    parsed[step] = { durationMs, jitter };
  }
  return { spec, parsed };
}

/** The wait of one step: d + U[0,1) × jitter × d. */
export function drawDelay(durationMs: number, jitter: number, random: () => number): number {
  return durationMs + random() * jitter * durationMs;
}

export function stepsFor(controlPlane: boolean): StepName[] {
  return controlPlane ? [...STEP_ORDER] : ["vm", "node"];
}

/**
 * Plans a new machine: draws every step's delay once and chains the due times.
 * Missing provisioning blocks mean "no wait" (as in CAPI's in-memory provider).
 */
export function planMachine(
  input: {
    name: string;
    controlPlane: boolean;
    version: string;
    failureDomain?: string;
    providerID?: string;
    clusterName?: string;
    controlPlaneEndpoint?: string;
    provisioning: Partial<Record<StepName, ProvisioningSpec>>;
    parsed: Partial<Record<StepName, ParsedStep>>;
  },
  createdAt: number,
  random: () => number,
): MachineRecord {
  const steps: Partial<Record<StepName, StepState>> = {};
  for (const step of stepsFor(input.controlPlane)) {
    const p = input.parsed[step] ?? { durationMs: 0, jitter: 0 };
    // Whole milliseconds: due times are shown as ISO strings (ms precision) and a controller that
    // requeues for the shown time must not arrive a fraction of a millisecond early.
    const delayMs = Math.round(drawDelay(p.durationMs, p.jitter, random));
    const prev = AFTER[step];
    const start = prev ? steps[prev]!.dueAt : createdAt;
    steps[step] = { durationMs: p.durationMs, jitter: p.jitter, delayMs, dueAt: start + delayMs, doneAt: null };
  }
  const rec: MachineRecord = {
    name: input.name,
    controlPlane: input.controlPlane,
    version: input.version,
    createdAt,
    provisioning: input.provisioning,
    steps,
  };
  if (input.failureDomain !== undefined) rec.failureDomain = input.failureDomain;
  if (input.providerID !== undefined) rec.providerID = input.providerID;
  if (input.clusterName !== undefined) rec.clusterName = input.clusterName;
  if (input.controlPlaneEndpoint !== undefined) rec.controlPlaneEndpoint = input.controlPlaneEndpoint;
  return rec;
}

/** Steps the machine actually has, in run order. */
export function machineSteps(rec: MachineRecord): StepName[] {
  return STEP_ORDER.filter((s) => rec.steps[s] !== undefined);
}

/** Pending steps that may run at `now`, in run order (a step never runs before its predecessor). */
export function dueSteps(rec: MachineRecord, now: number): StepName[] {
  const out: StepName[] = [];
  for (const step of machineSteps(rec)) {
    const st = rec.steps[step]!;
    if (st.doneAt !== null || st.dueAt > now) continue;
    const prev = AFTER[step];
    if (prev && rec.steps[prev]!.doneAt === null && !out.includes(prev)) continue;
    out.push(step);
  }
  return out;
}

/** Earliest due time of a pending step, or null when the machine is fully provisioned. */
export function nextDueAt(rec: MachineRecord): number | null {
  let next: number | null = null;
  for (const step of machineSteps(rec)) {
    const st = rec.steps[step]!;
    if (st.doneAt === null && (next === null || st.dueAt < next)) next = st.dueAt;
  }
  return next;
}

export function isProvisioned(rec: MachineRecord): boolean {
  return machineSteps(rec).every((s) => rec.steps[s]!.doneAt !== null);
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The DevMachine v1beta2 conditions implied by the timeline. Messages carry no "time left" so that
 * the conditions only change when a step completes (no status churn on every reconcile).
 */
export function machineConditions(rec: MachineRecord): MachineCondition[] {
  const out: MachineCondition[] = [];
  for (const step of machineSteps(rec)) {
    const st = rec.steps[step]!;
    const type = CONDITION_OF[step];
    if (st.doneAt !== null) {
      out.push({ type, status: "True", reason: "Provisioned", lastTransitionTime: iso(st.doneAt) });
      continue;
    }
    const prev = AFTER[step];
    if (prev && rec.steps[prev]!.doneAt === null) {
      const reason = prev === "vm" ? "WaitingForVMProvisioned" : "WaitingForNodeProvisioned";
      out.push({ type, status: "False", reason, message: `Waiting for ${CONDITION_OF[prev]}`, lastTransitionTime: iso(rec.createdAt) });
    } else {
      out.push({
        type,
        status: "False",
        reason: "WaitingForStartupTimeout",
        message: `Waiting for startup timeout (due at ${iso(st.dueAt)})`,
        lastTransitionTime: iso(rec.createdAt),
      });
    }
  }
  const pending = out.filter((c) => c.status === "False");
  if (pending.length === 0) {
    const doneAt = Math.max(...machineSteps(rec).map((s) => rec.steps[s]!.doneAt!));
    out.push({ type: "Ready", status: "True", reason: "Provisioned", lastTransitionTime: iso(doneAt) });
  } else {
    // Ready mirrors the first condition still waiting, like a v1beta2 summary.
    out.push({
      type: "Ready",
      status: "False",
      reason: pending[0].reason,
      message: pending.map((c) => `${c.type}: ${c.reason}`).join("; "),
      lastTransitionTime: iso(rec.createdAt),
    });
  }
  return out;
}
