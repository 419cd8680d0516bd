// Faults asked for on a DevCluster, so a scale test can disturb one fake cluster with kubectl alone:
//   capim-edge.dev/api-faults: '<JSON>'         the edge's API faults for this cluster (see README), applied
//                                                when the annotation appears or changes, cleared when it is
//                                                removed (faults set another way, e.g. the CLI, are left
//                                                alone while the annotation was never there)
//   capim-edge.dev/vip-outage-until: <RFC 3339>  the VIP is closed (connections refused, as an unreachable
//                                                control plane) until then, and reopens on the same port
import { errorMessage, type KubeObject } from "../kube.js";
import type { ReconcileContext } from "./context.js";

export const API_FAULTS_ANNOTATION = "capim-edge.dev/api-faults";
export const VIP_OUTAGE_ANNOTATION = "capim-edge.dev/vip-outage-until";

/**
 * Applies the api-faults annotation when it differs from what this process last applied for the
 * cluster (ctx.appliedFaults, in memory: a restarted controller applies it once more, which is idempotent). Returns an error message for an annotation the edge refused or that is not JSON.
 */
export async function syncApiFaults(ctx: ReconcileContext, dc: KubeObject, ns: string, cluster: string): Promise<string | undefined> {
  const applied = ctx.appliedFaults;
  const key = `${ns}/${cluster}`;
  const wanted = dc.metadata.annotations?.[API_FAULTS_ANNOTATION];
  const last = applied.get(key);
  if (wanted === last) return undefined;
  try {
    if (wanted === undefined) {
      await ctx.edge.clearApiFaults(ns, cluster);
      applied.delete(key);
      ctx.log.info({ cluster: key }, "API faults cleared (annotation removed)");
      return undefined;
    }
    let faults: unknown;
    try {
      faults = JSON.parse(wanted);
    } catch {
      return `annotation ${API_FAULTS_ANNOTATION} is not JSON`;
    }
    await ctx.edge.setApiFaults(ns, cluster, faults as Record<string, unknown>);
    applied.set(key, wanted);
    ctx.log.info({ cluster: key }, "API faults applied from the annotation");
    return undefined;
  } catch (e) {
    return `annotation ${API_FAULTS_ANNOTATION}: ${errorMessage(e)}`;
  }
}

/** When the VIP outage the annotation asks for ends (epoch ms), if it has not ended yet. */
export function vipOutageUntil(dc: KubeObject, now = Date.now()): number | undefined {
  const v = dc.metadata.annotations?.[VIP_OUTAGE_ANNOTATION];
  const until = v ? Date.parse(v) : NaN;
  return Number.isFinite(until) && until > now ? until : undefined;
}
