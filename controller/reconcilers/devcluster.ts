// DevCluster reconciler (contract §5, §7): registers the fake cluster on the edge, opens the cluster's
// VIP (serving with the cluster's CAs once CAPI has created them), publishes the endpoint, and on delete closes the VIP and drops the edge state.
// The edge cluster id is the owning CAPI Cluster's <namespace>/<name>, so the VIP, the machines and
// the kubeconfig CAPI writes all agree on one name.
import { errorMessage, secretValue, type KubeObject } from "../kube.js";
import { EdgeError, type EdgeMachineList } from "../edge-client.js";
import { PortUnavailableError } from "../vip/ports.js";
import { isTrue, Reasons, setConditions, Types, type ConditionInput } from "./conditions.js";
import type { PemPair, ReconcileContext, Result } from "./context.js";
import { capiOwnerName, CLUSTER_NAME_LABEL, isPaused } from "./gates.js";
import { ensureFinalizer, patchStatusIfChanged, removeFinalizer } from "./patch.js";
import { syncApiFaults, vipOutageUntil } from "./faults.js";
import { clusterObject, DEV_FLAVOR, type InfraFlavor } from "./infra-flavor.js";

export const CLUSTER_FINALIZER = "dockercluster.infrastructure.cluster.x-k8s.io";
export const LISTENER_ANNOTATION = "inmemorycluster.infrastructure.cluster.x-k8s.io/listener";
export const DOCKER_UNSUPPORTED = "capim-edge does not run containers: use spec.backend.inMemory";

/** Secrets not seen yet are looked for again after this long (CAPI's are labelled and watched). */
export const SECRET_RETRY_MS = 10_000;
export const VIP_RETRY_MS = 5_000;

/** The owning Cluster's name: the controller ownerRef CAPI sets, else the cluster-name label. */
export function owningClusterName(obj: KubeObject): string | undefined {
  return capiOwnerName(obj, "Cluster") ?? obj.metadata.labels?.[CLUSTER_NAME_LABEL];
}

/** `<cluster>-ca` or `<cluster>-etcd` as a PEM pair, from the watch cache or the API. */
export async function readKeyPair(ctx: ReconcileContext, ns: string, name: string): Promise<PemPair | undefined> {
  const s = ctx.cache.secret(ns, name) ?? (await ctx.kube.getSecret(ns, name));
  const certPem = secretValue(s, "tls.crt");
  const keyPem = secretValue(s, "tls.key");
  return certPem && keyPem ? { certPem, keyPem } : undefined;
}

/**
 * Whether the VIP should listen: while the cluster has no machines yet (CAPI needs the endpoint and
 * probes it), and while any control plane machine has a kube-apiserver. After the last one is deleted
 * the VIP stays closed, as a real control plane endpoint would go dark.
 */
function vipWanted(machines: EdgeMachineList): boolean {
  return machines.apiServers > 0 || machines.items.length === 0;
}

/**
 * The cluster's machines on the edge, registering the cluster first unless this DevCluster is already
 * Ready with an endpoint (then the cluster was registered; a 404 means the edge lost it: register again).
 * So a Ready cluster costs one edge call per reconcile instead of two.
 */
async function ensureEdgeCluster(ctx: ReconcileContext, dc: KubeObject, ns: string, cluster: string, flavor: InfraFlavor): Promise<() => Promise<EdgeMachineList>> {
  const list = () => ctx.edge.listMachines(ns, cluster);
  let lost = false;
  if (isTrue(dc.status?.conditions, Types.Ready) && dc.spec?.controlPlaneEndpoint?.port) {
    try {
      const machines = await list();
      return async () => machines;
    } catch (e) {
      if (!(e instanceof EdgeError && e.code === 404)) throw e;
      lost = true;
    }
  }
  await ctx.edge.putCluster(ns, cluster);
  if (lost && flavor === DEV_FLAVOR) {
    // The edge lost a cluster it had: now that it is back, every machine must be handed to it again.
    for (const dm of ctx.cache.devMachinesOfCluster(ns, cluster)) {
      ctx.finishedOnEdge.delete(`${ns}/${dm}`);
      ctx.enqueue("DevMachine", ns, dm);
    }
  }
  return list;
}

async function setStatus(ctx: ReconcileContext, flavor: InfraFlavor, dc: KubeObject, conds: ConditionInput[], provisioned?: boolean): Promise<void> {
  const conditions = setConditions(dc.status?.conditions, conds, { generation: dc.metadata.generation });
  const isProvisioned = provisioned || dc.status?.initialization?.provisioned === true;
  const initialization = isProvisioned ? { provisioned: true } : undefined;
  await patchStatusIfChanged(ctx.kube, flavor.clusterGVR, dc, { conditions, initialization, ...(flavor.writesReady ? { ready: isProvisioned } : {}) });
}

/** Serves DevCluster (and, with IN_MEMORY_FLAVOR, InMemoryCluster v1alpha1: see infra-flavor.ts). */
export async function reconcileDevCluster(ctx: ReconcileContext, ns: string, name: string, flavor: InfraFlavor = DEV_FLAVOR): Promise<Result> {
  let dc = clusterObject(ctx, flavor, ns, name);
  if (!dc) return {};
  const clusterName = owningClusterName(dc);

  if (dc.metadata.deletionTimestamp) return reconcileDelete(ctx, flavor, dc, clusterName);

  if (!flavor.inMemory(dc)) {
    const reason = dc.spec?.backend?.docker ? DOCKER_UNSUPPORTED : "spec.backend.inMemory is required";
    await setStatus(ctx, flavor, dc, [{ type: Types.Ready, status: "False", reason: Reasons.UnsupportedBackend, message: reason }]);
    return {};
  }
  if (!clusterName) {
    await setStatus(ctx, flavor, dc, [
      { type: Types.Ready, status: "False", reason: Reasons.WaitingForCluster, message: "Waiting for the Cluster controller to set an owner reference" },
    ]);
    return {};
  }
  const cluster = ctx.cache.cluster(ns, clusterName);
  if (isPaused(cluster, dc)) {
    await setStatus(ctx, flavor, dc, [{ type: Types.Paused, status: "True", reason: Reasons.Paused }]);
    return {};
  }

  dc = await ensureFinalizer(ctx.kube, flavor.clusterGVR, dc, CLUSTER_FINALIZER);
  const edgeMachines = await ensureEdgeCluster(ctx, dc, ns, clusterName, flavor);
  const faultError = await syncApiFaults(ctx, dc, ns, clusterName);
  if (faultError) ctx.log.warn({ cluster: `${ns}/${clusterName}`, err: faultError }, "API faults not applied");

  // CAPI's order: the endpoint first, then KCP creates `<cluster>-ca` and
  // `<cluster>-etcd`. The VIP opens without them and picks each up when its Secret appears (the Secret
  // informer enqueues this DevCluster); until then it answers every request 401.
  const ca = await readKeyPair(ctx, ns, `${clusterName}-ca`);
  const etcdCa = await readKeyPair(ctx, ns, `${clusterName}-etcd`);

  const recorded = dc.spec.controlPlaneEndpoint as { host?: string; port?: number } | undefined;
  let endpoint = recorded?.host && recorded?.port ? { host: recorded.host, port: recorded.port } : undefined;
  // An outage darkens a published endpoint; a cluster without one yet gets its endpoint first.
  const outageUntil = endpoint ? vipOutageUntil(dc) : undefined;
  const open = ctx.vip.isOpen(ns, clusterName);
  const wanted = !outageUntil && (!endpoint || vipWanted(await edgeMachines()));
  if (wanted) {
    try {
      // Cheap when open with the same CAs; swaps TLS contexts in place when a CA appeared or changed.
      // A published endpoint never moves (CAPI treats it as immutable and kubeconfigs elsewhere hold it):
      // when its port is taken, wait for it instead of taking another.
      endpoint = await ctx.vip.open({ namespace: ns, name: clusterName, port: recorded?.port, exactPort: endpoint !== undefined, ca, etcdCa });
    } catch (e) {
      await setStatus(ctx, flavor, dc, [{ type: Types.Paused, status: "False", reason: Reasons.NotPaused }, vipFailure(ctx, ns, clusterName, recorded?.port, e)]);
      return { requeueAfterMs: VIP_RETRY_MS };
    }
  } else if (open) {
    await ctx.vip.close(ns, clusterName);
  }

  const listener = `${ns}/${clusterName}`;
  if (
    endpoint &&
    (recorded?.host !== endpoint.host || recorded?.port !== endpoint.port || dc.metadata.annotations?.[LISTENER_ANNOTATION] !== listener)
  ) {
    // Go on with the stored object: its new generation is what the status below has observed.
    dc = await ctx.kube.patch(flavor.clusterGVR, ns, name, {
      metadata: { annotations: { [LISTENER_ANNOTATION]: listener }, resourceVersion: dc.metadata.resourceVersion },
      spec: { controlPlaneEndpoint: { host: endpoint.host, port: endpoint.port } },
    });
  }

  await setStatus(
    ctx,
    flavor,
    dc,
    [
      { type: Types.Paused, status: "False", reason: Reasons.NotPaused },
      { type: Types.Ready, status: "True", reason: Reasons.Ready },
    ],
    true,
  );
  // An outage ends by itself: come back when it is over to reopen the VIP on its port.
  if (outageUntil) return { requeueAfterMs: Math.max(0, outageUntil - Date.now()) + 10 };
  // The Secret informer only sees CAPI's labelled Secrets: look again later for CAs created without the label.
  return ca && etcdCa ? {} : { requeueAfterMs: SECRET_RETRY_MS };
}

/** A VIP that would not open, logged, as the Ready condition of the object that owns the endpoint. */
export function vipFailure(ctx: ReconcileContext, ns: string, cluster: string, port: number | undefined, e: unknown): ConditionInput {
  const portTaken = e instanceof PortUnavailableError;
  ctx.log.warn({ cluster: `${ns}/${cluster}`, port, err: errorMessage(e) }, portTaken ? "VIP port unavailable; retrying" : "opening the VIP failed");
  return portTaken
    ? { type: Types.Ready, status: "False", reason: Reasons.VIPPortUnavailable, message: `${errorMessage(e)}; the endpoint keeps its port, retrying` }
    : { type: Types.Ready, status: "False", reason: Reasons.VIPUnavailable, message: `Opening the VIP failed: ${errorMessage(e)}` };
}

/** A fake cluster's end: its VIP closed and its edge state dropped (DevCluster, InMemoryCluster, ControlPlaneEndpoint). */
export async function dropFakeCluster(ctx: ReconcileContext, ns: string, cluster: string): Promise<void> {
  ctx.appliedFaults.delete(`${ns}/${cluster}`);
  await ctx.vip.close(ns, cluster);
  await ctx.edge.deleteCluster(ns, cluster);
  ctx.log.info({ cluster: `${ns}/${cluster}` }, "fake cluster deleted");
}

async function reconcileDelete(ctx: ReconcileContext, flavor: InfraFlavor, dc: KubeObject, clusterName: string | undefined): Promise<Result> {
  const ns = dc.metadata.namespace!;
  if (!dc.metadata.finalizers?.includes(CLUSTER_FINALIZER)) return {};
  if (clusterName) await dropFakeCluster(ctx, ns, clusterName);
  await removeFinalizer(ctx.kube, flavor.clusterGVR, dc, CLUSTER_FINALIZER);
  return {};
}
