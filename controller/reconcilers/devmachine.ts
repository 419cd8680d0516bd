// DevMachine reconciler (contract §5): passes the CAPD gates, then hands the machine to the edge,
// whose Durable Object runs the bootstrap timeline on alarms (it keeps going while this controller
// is down). This side only mirrors the edge's view into the DevMachine and wakes up when the edge
// says the next step is due (`nextTransitionAt`): watches plus one timer, no polling.
import type { EdgeMachine, EdgeMachineSpec, MachineProvisioning } from "../edge-client.js";
import { EdgeError } from "../edge-client.js";
import { MACHINE, type KubeObject } from "../kube.js";
import { getCondition, isTrue, Reasons, setConditions, Types, type ConditionInput } from "./conditions.js";
import type { ReconcileContext, Result } from "./context.js";
import { capiOwnerName, CLUSTER_NAME_LABEL, isControlPlaneMachine, isPaused, machineGate, type Gate } from "./gates.js";
import { clusterObject, DEV_FLAVOR, machineObject, type InfraFlavor } from "./infra-flavor.js";
import { ensureFinalizer, patchStatusIfChanged, removeFinalizer } from "./patch.js";

export const MACHINE_FINALIZER = "dockermachine.infrastructure.cluster.x-k8s.io";
export const BOOTSTRAPPED_ANNOTATION = "machine.inmemory.infrastructure.cluster.x-k8s.io/bootstrapped";
const DOCKER_UNSUPPORTED = "capim-edge does not run containers: use spec.backend.inMemory";

/** Wake a little after the edge's due time so its alarm has fired when we look. */
const TRANSITION_SLACK_MS = 50;

/** The owning Machine's name (CAPI's controller ownerRef). */
export function owningMachineName(dm: KubeObject): string | undefined {
  return capiOwnerName(dm, "Machine");
}

/** spec.backend.inMemory.{vm,node,apiServer,etcd}.provisioning -> the edge's provisioning block. */
export function provisioningOf(inMemory: any): MachineProvisioning {
  const out: MachineProvisioning = {};
  for (const step of ["vm", "node", "apiServer", "etcd"] as const) {
    const p = inMemory?.[step]?.provisioning;
    if (p?.startupDuration) out[step] = { startupDuration: p.startupDuration, ...(p.startupJitter ? { startupJitter: p.startupJitter } : {}) };
  }
  return out;
}

/** Conditions while a gate holds the machine back: the gate on VMProvisioned, the later steps wait for the VM. */
function gatedConditions(gate: Gate, controlPlane: boolean): ConditionInput[] {
  const waitVM = { status: "False" as const, reason: Reasons.WaitingForVMProvisioned };
  return [
    { type: Types.VMProvisioned, status: "False", reason: gate.reason, message: gate.message },
    { type: Types.NodeProvisioned, ...waitVM },
    ...(controlPlane ? [{ type: Types.EtcdProvisioned, ...waitVM }, { type: Types.APIServerProvisioned, ...waitVM }] : []),
    { type: Types.Ready, status: "False", reason: Reasons.NotReady, message: gate.message },
  ];
}

/** metav1.Time is RFC 3339 in whole seconds; the edge reports milliseconds. */
function wholeSeconds(iso: string): string {
  return iso.replace(/\.\d+Z$/, "Z");
}

function edgeConditions(m: EdgeMachine): ConditionInput[] {
  return m.conditions.map((c) => ({
    type: c.type,
    status: c.status,
    reason: c.reason,
    message: c.message ?? "",
    lastTransitionTime: wholeSeconds(c.lastTransitionTime),
  }));
}

function clusterOf(ctx: ReconcileContext, dm: KubeObject, machine: KubeObject | undefined): string | undefined {
  return dm.metadata.labels?.[CLUSTER_NAME_LABEL] ?? machine?.spec?.clusterName;
}

/** The Cluster's DevCluster (InMemoryCluster): its infrastructureRef, else one owned by / labelled for it. */
function devClusterOf(ctx: ReconcileContext, flavor: InfraFlavor, ns: string, clusterName: string, cluster: KubeObject | undefined): KubeObject | undefined {
  const ref = cluster?.spec?.infrastructureRef;
  if (ref?.kind === flavor.clusterKind && ref.name) return clusterObject(ctx, flavor, ns, ref.name);
  if (flavor !== DEV_FLAVOR) return undefined;
  const owned = ctx.cache.devClustersOfCluster(ns, clusterName)[0];
  return owned === undefined ? undefined : ctx.cache.devCluster(ns, owned);
}

/** Serves DevMachine (and, with IN_MEMORY_FLAVOR, InMemoryMachine v1alpha1: see infra-flavor.ts). */
export async function reconcileDevMachine(ctx: ReconcileContext, ns: string, name: string, flavor: InfraFlavor = DEV_FLAVOR): Promise<Result> {
  let dm = machineObject(ctx, flavor, ns, name);
  const gvr = flavor.machineGVR;
  const ready = (v: boolean) => (flavor.writesReady ? { ready: v } : {});
  if (!dm) {
    ctx.finishedOnEdge.delete(`${ns}/${name}`);
    return {};
  }
  const machineName = owningMachineName(dm);
  const machine = machineName ? ctx.cache.machine(ns, machineName) : undefined;
  const clusterName = clusterOf(ctx, dm, machine);

  if (dm.metadata.deletionTimestamp) return reconcileDelete(ctx, flavor, dm, clusterName);

  const controlPlane = isControlPlaneMachine(machine) || isControlPlaneMachine(dm);
  const inMemory = flavor.inMemory(dm);
  if (!inMemory) {
    const message = dm.spec?.backend?.docker ? DOCKER_UNSUPPORTED : "spec.backend.inMemory is required";
    const conditions = setConditions(dm.status?.conditions, [{ type: Types.Ready, status: "False", reason: Reasons.UnsupportedBackend, message }]);
    await patchStatusIfChanged(ctx.kube, gvr, dm, { conditions });
    return {};
  }
  // CAPI sets the owner reference and labels; until then a watch on Machine/Cluster brings us back.
  if (!machine || !clusterName) return {};
  const cluster = ctx.cache.cluster(ns, clusterName);
  if (!cluster) return {};
  if (isPaused(cluster, dm)) {
    const conditions = setConditions(dm.status?.conditions, [{ type: Types.Paused, status: "True", reason: Reasons.Paused }]);
    await patchStatusIfChanged(ctx.kube, gvr, dm, { conditions });
    return {};
  }

  dm = await ensureFinalizer(ctx.kube, gvr, dm, MACHINE_FINALIZER);
  const devCluster = devClusterOf(ctx, flavor, ns, clusterName, cluster);
  const failureDomain = typeof machine.spec?.failureDomain === "string" && machine.spec.failureDomain ? machine.spec.failureDomain : undefined;
  const notPaused: ConditionInput = { type: Types.Paused, status: "False", reason: Reasons.NotPaused };

  const gate = machineGate({ cluster, devCluster, machine });
  if (gate) {
    const conditions = setConditions(dm.status?.conditions, [notPaused, ...gatedConditions(gate, controlPlane)], {
      generation: dm.metadata.generation,
    });
    await patchStatusIfChanged(ctx.kube, gvr, dm, { conditions, failureDomain, ...ready(false) });
    return {};
  }

  if (ctx.finishedOnEdge.has(`${ns}/${name}`) && finished(dm, machine)) {
    // The VIP closes with the last kube-apiserver; a finished control plane machine brings it back too.
    if (controlPlane && !ctx.vip.isOpen(ns, clusterName) && devCluster) ctx.enqueue(flavor.clusterKind, ns, devCluster.metadata.name);
    return {};
  }

  const spec: EdgeMachineSpec = {
    controlPlane,
    version: String(machine.spec?.version ?? ""),
    ...(failureDomain ? { failureDomain } : {}),
    bootstrapped: machine.metadata.annotations?.[BOOTSTRAPPED_ANNOTATION] !== undefined,
    provisioning: provisioningOf(inMemory),
  };
  const em = (await readEdgeMachine(ctx, dm, clusterName, spec)) ?? (await ctx.edge.putMachine(ns, clusterName, name, spec));

  const vmDone = em.steps.vm?.done === true;
  if (vmDone && dm.spec.providerID !== em.providerID) {
    // Go on with the stored object: its new generation is what the status below has observed.
    dm = await ctx.kube.patch(gvr, ns, name, { spec: { providerID: em.providerID } });
  }

  const conditions = setConditions(dm.status?.conditions, [notPaused, ...edgeConditions(em)], { generation: dm.metadata.generation });
  const provisioned = em.ready || dm.status?.initialization?.provisioned === true;
  await patchStatusIfChanged(ctx.kube, gvr, dm, {
    conditions,
    failureDomain,
    ...ready(provisioned),
    ...(provisioned ? { initialization: { provisioned: true } } : {}),
    ...(vmDone ? { addresses: [{ type: "Hostname", address: name }] } : {}),
  });

  // The first kube-apiserver after none (new cluster, or all control planes were gone) brings the VIP back.
  if (controlPlane && em.steps.apiServer?.done && !ctx.vip.isOpen(ns, clusterName) && devCluster) {
    ctx.enqueue(flavor.clusterKind, ns, devCluster.metadata.name);
  }

  if (em.ready && machine.metadata.annotations?.[BOOTSTRAPPED_ANNOTATION] === undefined) {
    await ctx.kube.patch(MACHINE, ns, machine.metadata.name, { metadata: { annotations: { [BOOTSTRAPPED_ANNOTATION]: "" } } });
  }
  if (em.ready && !em.nextTransitionAt) ctx.finishedOnEdge.add(`${ns}/${name}`);

  if (em.nextTransitionAt) {
    const due = Date.parse(em.nextTransitionAt) - Date.now() + TRANSITION_SLACK_MS;
    return { requeueAfterMs: Math.max(TRANSITION_SLACK_MS, due) };
  }
  return {};
}

/**
 * A machine whose bootstrap has finished and been mirrored: DevMachine Ready and provisioned with its
 * providerID, not paused, conditions current for its generation, and the Machine annotated
 * `bootstrapped`. Once this process has also seen it finished on the edge (ctx.finishedOnEdge), its later
 * reconciles (that annotation's own watch event, Cluster changes) have nothing to read there: the edge
 * never changes a finished machine. They made ~690 edge GETs per 100-cluster benchmark run. Deletion
 * still goes through the edge, and an edge that lost the cluster clears the memory (devcluster.ts).
 */
function finished(dm: KubeObject, machine: KubeObject): boolean {
  const conditions = (dm.status?.conditions ?? []) as Array<{ observedGeneration?: number }>;
  return (
    machine.metadata.annotations?.[BOOTSTRAPPED_ANNOTATION] !== undefined &&
    dm.status?.initialization?.provisioned === true &&
    typeof dm.spec?.providerID === "string" &&
    isTrue(dm.status?.conditions, Types.Ready) &&
    getCondition(dm.status?.conditions, Types.Paused)?.status === "False" &&
    conditions.every((c) => c.observedGeneration === undefined || c.observedGeneration === dm.metadata.generation)
  );
}

/** Gate reasons: while VMProvisioned carries one of these, the machine was never handed to the edge. */
const GATE_REASONS: ReadonlySet<string> = new Set([
  Reasons.WaitingForClusterInfrastructureReady,
  Reasons.WaitingForControlPlaneInitialized,
  Reasons.WaitingForBootstrapData,
]);

/**
 * The edge machine by GET when the DevMachine's status shows it was PUT before and nothing calls for
 * another PUT; undefined means "PUT it". A PUT creates the machine (or 409s on a changed role/version),
 * fast-forwards a `bootstrapped` one and runs overdue steps; a GET does none of that, so it is used only
 * when none of that is needed. The DevMachine status is the record, so nothing is cached here.
 */
async function readEdgeMachine(ctx: ReconcileContext, dm: KubeObject, cluster: string, spec: EdgeMachineSpec): Promise<EdgeMachine | undefined> {
  const vm = getCondition(dm.status?.conditions, Types.VMProvisioned);
  if (!vm || GATE_REASONS.has(vm.reason)) return undefined;
  let em: EdgeMachine;
  try {
    em = await ctx.edge.getMachine(dm.metadata.namespace!, cluster, dm.metadata.name);
  } catch (e) {
    if (e instanceof EdgeError && e.code === 404) return undefined;
    throw e;
  }
  if (em.controlPlane !== spec.controlPlane || em.version !== spec.version) return undefined;
  if (spec.bootstrapped && !em.ready) return undefined;
  if (em.nextTransitionAt && Date.parse(em.nextTransitionAt) <= Date.now()) return undefined;
  return em;
}

async function reconcileDelete(ctx: ReconcileContext, flavor: InfraFlavor, dm: KubeObject, clusterName: string | undefined): Promise<Result> {
  const ns = dm.metadata.namespace!;
  const name = dm.metadata.name;
  ctx.finishedOnEdge.delete(`${ns}/${name}`);
  if (!dm.metadata.finalizers?.includes(MACHINE_FINALIZER)) return {};
  if (clusterName) {
    let apiServers: number;
    try {
      apiServers = (await ctx.edge.deleteMachine(ns, clusterName, name)).apiServers;
    } catch (e) {
      if (!(e instanceof EdgeError && e.code === 404)) throw e;
      // Already gone (a retry after a crash, or the whole cluster was dropped).
      apiServers = await ctx.edge.listMachines(ns, clusterName).then(
        (l) => l.apiServers,
        () => 0,
      );
    }
    if (apiServers === 0 && ctx.vip.isOpen(ns, clusterName)) {
      await ctx.vip.close(ns, clusterName);
      ctx.log.info({ cluster: `${ns}/${clusterName}` }, "last kube-apiserver gone: VIP closed");
    }
  }
  await removeFinalizer(ctx.kube, flavor.machineGVR, dm, MACHINE_FINALIZER);
  return {};
}
