// Objects between a kind's served versions. Objects are stored once, at the kind's first (preferred)
// version; most kinds serve the same schema at every version and are only relabelled, but a CRD whose
// versions differ (DevCluster v1beta1/v1beta2) brings a converter (KindInfo.convert) that every read
// runs on the way out and every write on the way in, as kube-apiserver runs a CRD's conversion webhook.
import { jsonAt, relabel } from "./object-json.js";
import { ApiError, type KindInfo, type KubeObject } from "./types.js";

/** A stored object as served at `apiVersion`. */
export function atVersion(kind: KindInfo, obj: KubeObject, apiVersion: string): KubeObject {
  if (!kind.convert || obj.apiVersion === apiVersion) return relabel(obj, apiVersion);
  return relabel(convertOrFail(kind, obj, apiVersion, 500, "InternalError"), apiVersion);
}

/** JSON text of `atVersion(kind, obj, apiVersion)` (shares a write's serialization when nothing changes). */
export function jsonAtVersion(kind: KindInfo, obj: KubeObject, apiVersion: string): string {
  if (!kind.convert || obj.apiVersion === apiVersion) return jsonAt(obj, apiVersion);
  return JSON.stringify(atVersion(kind, obj, apiVersion));
}

/** A request's object (at the version the client addressed) at the storage version. */
export function toStorageVersion(kind: KindInfo, obj: KubeObject, addressed: string, storage: string): KubeObject {
  if (!kind.convert || addressed === storage) return obj;
  return convertOrFail(kind, { ...obj, apiVersion: addressed, kind: kind.kind }, storage, 400, "BadRequest");
}

function convertOrFail(kind: KindInfo, obj: KubeObject, apiVersion: string, code: number, reason: string): KubeObject {
  try {
    return kind.convert!(obj, apiVersion);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    throw new ApiError(code, reason, `conversion of ${kind.kind} ${String(obj.metadata?.name ?? "")} from ${String(obj.apiVersion)} to ${apiVersion} failed: ${message}`);
  }
}
