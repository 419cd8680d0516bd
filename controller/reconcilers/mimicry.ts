// Bootstrap mimicry for any provider's machines (what CAPV's vcsim controller does for VSphereVMs,
// made generic): the machine is real to its own provider (vSphere on vcsim, Metal3, ...), but nothing
// boots Kubernetes on it. For each machine of a configured kind whose CAPI Machine has its bootstrap
// data, the edge runs the same bootstrap timeline as for a DevMachine in the fake cluster named like the
// CAPI Cluster (a ControlPlaneEndpoint's or a DevCluster's): a Node carrying the machine's own
// providerID (so CAPI's Machine controller finds it), static pods and an etcd member for control
// planes, kubeadm's objects. A finalizer on the machine removes them from the fake cluster when it goes.
import { parse } from "yaml";
import { parseGoDuration } from "../../edge-contract/durations.js";
import type { EdgeMachineSpec, MachineProvisioning } from "../edge-client.js";
import type { GVR, KubeObject } from "../kube.js";
import type { ReconcileContext, Result } from "./context.js";
import { bootstrapDataSecretName, CLUSTER_NAME_LABEL, isControlPlaneMachine } from "./gates.js";
import { owningMachineName, provisioningOf } from "./devmachine.js";
import { deleteEdgeMachine } from "./devmachinepool.js";
import { removeFinalizer } from "./patch.js";

export const MIMICRY_FINALIZER = "bootstrap-mimicry.capim-edge.dev";
/** Where the machine's fake cluster (`namespace/name` on the edge) is recorded, for its deletion. */
export const MIMICRY_CLUSTER_ANNOTATION = "capim-edge.dev/bootstrap-mimicry-cluster";

/** One infrastructure machine kind whose machines the edge bootstraps. */
export interface MimicKind {
  gvr: GVR;
  /** Path of the provider ID in the object (default spec.providerID). */
  providerIDPath: string[];
  /** Path of a boolean that must be true before bootstrapping (e.g. status.ready); none: the provider ID alone. */
  readyPath?: string[];
  /** Node, etcd and kube-apiserver timings, as a DevMachine's spec.backend.inMemory (the VM is the provider's). */
  provisioning: MachineProvisioning;
}

const PATH_RE = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

/**
 * The --bootstrap-mimicry file:
 *   machineKinds:
 *     - {apiVersion: infrastructure.cluster.x-k8s.io/v1beta1, kind: VSphereMachine, resource: vspheremachines,
 *        providerIDPath: spec.providerID, readyPath: status.ready, provisioning: {node: {startupDuration: 2s, startupJitter: "0.2"}}}
 * Throws an Error naming the bad entry.
 */
export function parseMimicryConfig(text: string): MimicKind[] {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new Error(`not YAML: ${(e as Error).message}`);
  }
  const kinds = (doc as { machineKinds?: unknown } | null)?.machineKinds;
  if (!Array.isArray(kinds) || kinds.length === 0) throw new Error("machineKinds: a non-empty list is required");
  return kinds.map((k: any, i: number) => {
    const at = `machineKinds[${i}]`;
    if (!k || typeof k !== "object") throw new Error(`${at}: must be an object`);
    const m = typeof k.apiVersion === "string" ? /^([a-z0-9.-]+)\/(v[a-z0-9]+)$/.exec(k.apiVersion) : null;
    if (!m) throw new Error(`${at}.apiVersion: "<group>/<version>" of the infrastructure machine kind is required`);
    if (typeof k.kind !== "string" || !/^[A-Z][A-Za-z0-9]*$/.test(k.kind)) throw new Error(`${at}.kind: a kind name is required`);
    if (typeof k.resource !== "string" || !/^[a-z][a-z0-9]*$/.test(k.resource)) throw new Error(`${at}.resource: the plural resource name is required`);
    const path = (field: string, value: unknown, dflt?: string): string[] | undefined => {
      const v = value ?? dflt;
      if (v === undefined) return undefined;
      if (typeof v !== "string" || !PATH_RE.test(v)) throw new Error(`${at}.${field}: a dotted field path like spec.providerID`);
      return v.split(".");
    };
    const p = k.provisioning ?? {};
    if (typeof p !== "object" || p === null) throw new Error(`${at}.provisioning: must be an object`);
    for (const step of Object.keys(p)) {
      if (!["node", "apiServer", "etcd"].includes(step)) throw new Error(`${at}.provisioning.${step}: one of node, apiServer, etcd (the VM is the provider's)`);
      const d = p[step]?.startupDuration;
      try {
        if (d !== undefined) parseGoDuration(String(d));
      } catch (e) {
        throw new Error(`${at}.provisioning.${step}.startupDuration: ${(e as Error).message}`);
      }
    }
    const provisioning = provisioningOf(Object.fromEntries(Object.entries(p).map(([step, v]) => [step, { provisioning: v }])));
    return {
      gvr: { group: m[1], version: m[2], plural: k.resource, kind: k.kind },
      providerIDPath: path("providerIDPath", k.providerIDPath, "spec.providerID")!,
      readyPath: path("readyPath", k.readyPath),
      provisioning,
    };
  });
}

function valueAt(obj: unknown, path: string[]): unknown {
  let v: any = obj;
  for (const p of path) v = v && typeof v === "object" ? v[p] : undefined;
  return v;
}

/** Wait for the Cluster's fake cluster (a ControlPlaneEndpoint or DevCluster of its name) this long between looks. */
const ENDPOINT_RETRY_MS = 5_000;

export async function reconcileMimicMachine(ctx: ReconcileContext, kind: MimicKind, obj: KubeObject | undefined): Promise<Result> {
  if (!obj) return {};
  const ns = obj.metadata.namespace!;
  const name = obj.metadata.name;
  const where = { kind: kind.gvr.kind, machine: `${ns}/${name}` };
  if (obj.metadata.deletionTimestamp) {
    if (!obj.metadata.finalizers?.includes(MIMICRY_FINALIZER)) return {};
    const recorded = obj.metadata.annotations?.[MIMICRY_CLUSTER_ANNOTATION];
    if (recorded) {
      const [clusterNs, cluster] = recorded.split("/");
      await deleteEdgeMachine(ctx, clusterNs, cluster, name);
    }
    await removeFinalizer(ctx.kube, kind.gvr, obj, MIMICRY_FINALIZER);
    ctx.log.info(where, "bootstrap mimicry: machine removed from its fake cluster");
    return {};
  }
  const machineName = owningMachineName(obj);
  const machine = machineName ? ctx.cache.machine(ns, machineName) : undefined;
  const cluster = machine?.spec?.clusterName ?? machine?.metadata.labels?.[CLUSTER_NAME_LABEL];
  // CAPI's Machine (owner reference, cluster, bootstrap data): a Machine event brings us back.
  if (!machine || !cluster || !bootstrapDataSecretName(machine)) return {};
  const providerID = valueAt(obj, kind.providerIDPath);
  if (typeof providerID !== "string" || !providerID) return {};
  if (kind.readyPath && valueAt(obj, kind.readyPath) !== true) return {};
  if (!ctx.cache.controlPlaneEndpoint(ns, cluster) && ctx.cache.devClustersOfCluster(ns, cluster).length === 0 && !ctx.cache.devCluster(ns, cluster)) {
    ctx.log.debug({ ...where, cluster }, "bootstrap mimicry: no ControlPlaneEndpoint or DevCluster for the cluster yet");
    return { requeueAfterMs: ENDPOINT_RETRY_MS };
  }
  if (!obj.metadata.finalizers?.includes(MIMICRY_FINALIZER) || obj.metadata.annotations?.[MIMICRY_CLUSTER_ANNOTATION] !== `${ns}/${cluster}`) {
    obj = await ctx.kube.patch(kind.gvr, ns, name, {
      metadata: {
        finalizers: [...(obj.metadata.finalizers ?? []).filter((f) => f !== MIMICRY_FINALIZER), MIMICRY_FINALIZER],
        annotations: { [MIMICRY_CLUSTER_ANNOTATION]: `${ns}/${cluster}` },
        resourceVersion: obj.metadata.resourceVersion,
      },
    });
  }
  const spec: EdgeMachineSpec = {
    controlPlane: isControlPlaneMachine(machine),
    version: String(machine.spec?.version ?? ""),
    providerID,
    provisioning: kind.provisioning,
  };
  // Idempotent: the edge keeps the machine's plan and runs its steps on alarms; a repeated PUT changes nothing.
  const em = await ctx.edge.putMachine(ns, cluster, name, spec);
  if (em.ready) return {};
  // Look again when the last step is due, so that a lost edge cluster (re-registered by its endpoint) gets it back.
  return em.nextTransitionAt ? { requeueAfterMs: Math.max(0, Date.parse(em.nextTransitionAt) - Date.now()) + 50 } : {};
}
