// ControlPlaneEndpoint reconciler (vcsim's API, vcsim.infrastructure.cluster.x-k8s.io/v1alpha1): a VIP
// backed by a fresh edge cluster, for a workload cluster whose machines another provider makes. The
// object's name is the CAPI Cluster's, so the edge cluster id is `<namespace>/<name>` as for a DevCluster,
// and `<name>-ca`/`<name>-etcd` sign the VIP's certificates once they exist. Unlike a DevCluster's, this VIP
// listens for as long as the object exists (vcsim's does too): the provider decides when machines exist.
import { CONTROL_PLANE_ENDPOINT, isNotFound, type KubeObject } from "../kube.js";
import { Reasons, sameConditions, setConditions, Types, type ConditionInput } from "./conditions.js";
import type { ReconcileContext, Result } from "./context.js";
import { dropFakeCluster, readKeyPair, SECRET_RETRY_MS, VIP_RETRY_MS, vipFailure } from "./devcluster.js";
import { ensureFinalizer, removeFinalizer } from "./patch.js";

export const CONTROL_PLANE_ENDPOINT_FINALIZER = "control-plane-endpoint.vcsim.infrastructure.cluster.x-k8s.io";

async function setStatus(ctx: ReconcileContext, cpe: KubeObject, cond: ConditionInput, endpoint?: { host: string; port: number }): Promise<void> {
  const cur = cpe.status ?? {};
  const conditions = setConditions(cur.conditions, [cond], { generation: cpe.metadata.generation });
  const host = endpoint?.host ?? cur.host;
  const port = endpoint?.port ?? cur.port;
  if (sameConditions(cur.conditions, conditions) && cur.host === host && cur.port === port) return;
  try {
    await ctx.kube.patchStatus(CONTROL_PLANE_ENDPOINT, cpe.metadata.namespace!, cpe.metadata.name, { status: { host, port, conditions } });
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
}

export async function reconcileControlPlaneEndpoint(ctx: ReconcileContext, ns: string, name: string): Promise<Result> {
  let cpe = ctx.cache.controlPlaneEndpoint(ns, name);
  if (!cpe) return {};
  if (cpe.metadata.deletionTimestamp) {
    if (!cpe.metadata.finalizers?.includes(CONTROL_PLANE_ENDPOINT_FINALIZER)) return {};
    await dropFakeCluster(ctx, ns, name);
    await removeFinalizer(ctx.kube, CONTROL_PLANE_ENDPOINT, cpe, CONTROL_PLANE_ENDPOINT_FINALIZER);
    return {};
  }
  cpe = await ensureFinalizer(ctx.kube, CONTROL_PLANE_ENDPOINT, cpe, CONTROL_PLANE_ENDPOINT_FINALIZER);
  await ctx.edge.putCluster(ns, name);
  const ca = await readKeyPair(ctx, ns, `${name}-ca`);
  const etcdCa = await readKeyPair(ctx, ns, `${name}-etcd`);
  const recorded: number | undefined = cpe.status?.port;
  let endpoint: { host: string; port: number };
  try {
    // A reported port never moves (templates and kubeconfigs hold it): when taken, wait for it.
    endpoint = await ctx.vip.open({ namespace: ns, name, port: recorded, exactPort: recorded !== undefined, ca, etcdCa });
  } catch (e) {
    await setStatus(ctx, cpe, vipFailure(ctx, ns, name, recorded, e));
    return { requeueAfterMs: VIP_RETRY_MS };
  }
  await setStatus(ctx, cpe, { type: Types.Ready, status: "True", reason: Reasons.Ready }, endpoint);
  // CAs appear when the provider's control plane (KCP) makes them: look again until both are there.
  return ca && etcdCa ? {} : { requeueAfterMs: SECRET_RETRY_MS };
}
