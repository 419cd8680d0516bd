// Server-side apply (`application/apply-patch+yaml`), simplified to "create or merge".
//
// LIMITATION (deliberate): real server-side apply tracks field ownership in metadata.managedFields
// and removes fields a manager applied before but omits now, and reports conflicts (409) between
// managers unless force=true. None of that is modelled: fields missing from the applied object are
// kept, there are never conflicts, and managedFields is left as the caller sets it. This is enough
// for clients that apply complete objects repeatedly (kubectl apply --server-side, controllers).

import type { KubeObject } from "../types.js";
import { cloneJson } from "./merge.js";
import { applyStrategicMergePatch } from "./strategic.js";

/**
 * `existing` undefined -> a copy of `applied` (the create case); otherwise `applied` merged over
 * `existing` with strategic merge semantics (lists with merge keys merged element-wise, maps merged,
 * other lists replaced). The caller validates, sets system fields and checks name/namespace.
 */
export function applyServerSideApply(existing: KubeObject | undefined, applied: KubeObject, mergeKeys: Record<string, string>): KubeObject {
  if (existing === undefined) return cloneJson(applied);
  return applyStrategicMergePatch(existing, applied, mergeKeys) as KubeObject;
}
