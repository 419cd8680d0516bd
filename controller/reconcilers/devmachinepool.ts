// DevMachinePool reconciler (in-memory backend): a CAPI MachinePool of N replicas gets N fake worker
// machines on the edge, named `<pool>-<index>` (0..N-1, so scaling down removes the highest indexes, and a
// restart finds the same ones), each running a DevMachine's bootstrap timeline without control plane
// steps. The pool reports their provider IDs in spec.providerIDList (what CAPI's MachinePool controller
// matches Nodes by), the count in status.replicas, and provisioned once the first N have their VMs.
// A version change replaces every replica (CAPI's MachinePool asks the provider to roll them).
import type { EdgeMachine, EdgeMachineSpec } from "../edge-client.js";
import { EdgeError } from "../edge-client.js";
import { DEV_MACHINE_POOL, type KubeObject } from "../kube.js";
import { Reasons, setConditions, Types, type ConditionInput } from "./conditions.js";
import type { ReconcileContext, Result } from "./context.js";
import { capiOwnerName, CLUSTER_NAME_LABEL, isPaused, machineGate } from "./gates.js";
import { provisioningOf } from "./devmachine.js";
import { ensureFinalizer, patchStatusIfChanged, removeFinalizer, type OwnedStatus } from "./patch.js";

/** CAPD's finalizer name for machine pools. */
export const MACHINE_POOL_FINALIZER = "dockermachinepool.infrastructure.cluster.x-k8s.io";
const DOCKER_UNSUPPORTED = "capim-edge does not run containers: use spec.backend.inMemory";

export function owningMachinePoolName(obj: KubeObject): string | undefined {
  return capiOwnerName(obj, "MachinePool");
}

/** The index of a pool's machine on the edge, or undefined for any other machine of the cluster. */
export function poolIndex(pool: string, machine: string): number | undefined {
  if (!machine.startsWith(`${pool}-`)) return undefined;
  const rest = machine.slice(pool.length + 1);
  return /^(0|[1-9]\d{0,5})$/.test(rest) ? Number(rest) : undefined;
}

export async function reconcileDevMachinePool(ctx: ReconcileContext, ns: string, name: string): Promise<Result> {
  let dmp = ctx.cache.devMachinePool(ns, name);
  if (!dmp) return {};
  const poolName = owningMachinePoolName(dmp);
  const mp = poolName ? ctx.cache.machinePool(ns, poolName) : undefined;
  const clusterName: string | undefined = mp?.spec?.clusterName ?? dmp.metadata.labels?.[CLUSTER_NAME_LABEL];

  if (dmp.metadata.deletionTimestamp) {
    if (!dmp.metadata.finalizers?.includes(MACHINE_POOL_FINALIZER)) return {};
    if (clusterName) await deletePoolMachines(ctx, ns, clusterName, name);
    await removeFinalizer(ctx.kube, DEV_MACHINE_POOL, dmp, MACHINE_POOL_FINALIZER);
    return {};
  }
  const setStatus = (conds: ConditionInput[], extra: Omit<OwnedStatus, "conditions"> = {}) =>
    patchStatusIfChanged(ctx.kube, DEV_MACHINE_POOL, dmp!, {
      conditions: setConditions(dmp!.status?.conditions, conds, { generation: dmp!.metadata.generation }),
      ...extra,
    });
  if (!dmp.spec?.backend?.inMemory) {
    const message = dmp.spec?.backend?.docker ? DOCKER_UNSUPPORTED : "spec.backend.inMemory is required";
    await setStatus([{ type: Types.Ready, status: "False", reason: Reasons.UnsupportedBackend, message }]);
    return {};
  }
  // CAPI's MachinePool sets the owner reference; its events bring us back.
  if (!mp || !clusterName) return {};
  const cluster = ctx.cache.cluster(ns, clusterName);
  if (!cluster) return {};
  if (isPaused(cluster, dmp)) {
    await setStatus([{ type: Types.Paused, status: "True", reason: Reasons.Paused }]);
    return {};
  }
  dmp = await ensureFinalizer(ctx.kube, DEV_MACHINE_POOL, dmp, MACHINE_POOL_FINALIZER);
  const notPaused: ConditionInput = { type: Types.Paused, status: "False", reason: Reasons.NotPaused };
  const devClusterName = cluster.spec?.infrastructureRef?.kind === "DevCluster" ? cluster.spec.infrastructureRef.name : clusterName;
  // The pool's replicas are workers: the same gates as a worker Machine (bootstrap data is the pool's).
  const gate = machineGate({
    cluster,
    devCluster: ctx.cache.devCluster(ns, devClusterName),
    machine: { metadata: { name: mp.metadata.name }, spec: mp.spec?.template?.spec ?? {} } as KubeObject,
  });
  if (gate) {
    await setStatus([notPaused, { type: Types.Ready, status: "False", reason: gate.reason, message: gate.message }]);
    return {};
  }

  const desired = Number.isInteger(mp.spec?.replicas) ? (mp.spec.replicas as number) : 1;
  const version = String(mp.spec?.template?.spec?.version ?? "");
  const spec: EdgeMachineSpec = { controlPlane: false, version, provisioning: provisioningOf(dmp.spec.backend.inMemory) };
  // A replica of another version is replaced (deleted here, created again below).
  const current = await ctx.edge.listMachines(ns, clusterName);
  const mine = new Map<number, EdgeMachine>();
  for (const m of current.items) {
    const i = poolIndex(name, m.name);
    if (i === undefined) continue;
    if (i >= desired || m.version !== version) await deleteEdgeMachine(ctx, ns, clusterName, m.name);
    else mine.set(i, m);
  }
  for (let i = 0; i < desired; i++) {
    if (!mine.has(i)) mine.set(i, await ctx.edge.putMachine(ns, clusterName, `${name}-${i}`, spec));
  }

  const replicas = [...mine.entries()].sort(([a], [b]) => a - b).map(([, m]) => m);
  const withVM = replicas.filter((m) => m.steps.vm?.done === true);
  const providerIDList = withVM.map((m) => m.providerID);
  if (JSON.stringify(dmp.spec.providerIDList ?? []) !== JSON.stringify(providerIDList)) {
    dmp = await ctx.kube.patch(DEV_MACHINE_POOL, ns, name, { spec: { providerIDList } });
  }
  const ready = replicas.filter((m) => m.ready).length;
  const provisioned = dmp!.status?.initialization?.provisioned === true || withVM.length === desired;
  await setStatus(
    [
      notPaused,
      ready === desired
        ? { type: Types.Ready, status: "True", reason: Reasons.Ready }
        : { type: Types.Ready, status: "False", reason: Reasons.NotReady, message: `${ready} of ${desired} replicas ready` },
    ],
    {
      initialization: provisioned ? { provisioned: true } : undefined,
      // CAPI v1.14's MachinePool controller still reads an infrastructure pool's readiness from
      // status.ready (controllers/external IsReady), so it mirrors initialization.provisioned.
      ready: provisioned,
      extra: {
        replicas: withVM.length,
        observedGeneration: dmp!.metadata.generation,
        instances: replicas.map((m) => ({ instanceName: m.name, providerID: m.providerID, version, ready: m.ready })),
      },
    },
  );
  // Wake up when the next replica's step is due (no polling otherwise).
  const next = replicas.map((m) => (m.nextTransitionAt ? Date.parse(m.nextTransitionAt) : Infinity)).reduce((a, b) => Math.min(a, b), Infinity);
  return Number.isFinite(next) ? { requeueAfterMs: Math.max(0, next - Date.now()) + 50 } : {};
}

/** Deletes a machine from the edge; one already gone is fine. */
export async function deleteEdgeMachine(ctx: ReconcileContext, ns: string, cluster: string, machine: string): Promise<void> {
  try {
    await ctx.edge.deleteMachine(ns, cluster, machine);
  } catch (e) {
    if (!(e instanceof EdgeError && e.code === 404)) throw e;
  }
}

/** Deletes every machine of the pool from the edge. */
async function deletePoolMachines(ctx: ReconcileContext, ns: string, cluster: string, pool: string): Promise<void> {
  let list;
  try {
    list = await ctx.edge.listMachines(ns, cluster);
  } catch (e) {
    if (e instanceof EdgeError && e.code === 404) return; // the cluster is gone, and its machines with it
    throw e;
  }
  for (const m of list.items) {
    if (poolIndex(pool, m.name) !== undefined) await deleteEdgeMachine(ctx, ns, cluster, m.name);
  }
}
