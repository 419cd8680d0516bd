// Strategic merge patch list strategies of the built-in kinds, read from the `patchStrategy` and
// `patchMergeKey` struct tags of k8s.io/api (and apimachinery's ObjectMeta) through the generated tables
// (k8s-types.ts). Format: see strategic.ts (path -> merge key | MERGE_PRIMITIVE | REPLACE_STRATEGY).
// Fields without a tag are atomic (replaced): e.g. PodSpec.tolerations, Endpoints.subsets, and
// NodeSpec.taints: real clients compute their patches from the same Go tags, so following the tags is
// what keeps their patches and this server in agreement. `retainKeys` is not modelled (the fields it
// marks merge as their other strategy says).

import { fieldsOf, isMessage, messageOfGroupKind } from "../k8s-types.js";
import { MERGE_PRIMITIVE, REPLACE_STRATEGY } from "./strategic.js";

// Deep enough for every tagged list (the deepest, a CronJob's container ports, is at depth 9) while
// bounding recursive types.
const MAX_DEPTH = 12;

function walk(message: string, prefix: string, depth: number, onPath: Set<string>, out: Record<string, string>): void {
  if (depth > MAX_DEPTH || onPath.has(message)) return;
  onPath.add(message);
  for (const [name, f] of fieldsOf(message)) {
    const path = prefix ? `${prefix}.${name}` : name;
    const strategies = (f.patchStrategy ?? "").split(",");
    if (strategies.includes("replace")) out[path] = REPLACE_STRATEGY;
    else if (f.repeated && strategies.includes("merge")) out[path] = isMessage(f.type) ? (f.patchMergeKey ?? "") : MERGE_PRIMITIVE;
    if (isMessage(f.type)) walk(f.type, path, depth + 1, onPath, out);
  }
  onPath.delete(message);
}

const cache = new Map<string, Record<string, string>>();
const OBJECT_META: Record<string, string> = {};
walk("meta/v1.ObjectMeta", "metadata", 0, new Set(), OBJECT_META);

/**
 * Strategic merge keys for a kind (keyed by group, "" = core). Kinds that are not built in (custom
 * resources) get ObjectMeta's entries only: finalizers as a set, ownerReferences by uid.
 * Note kube-apiserver refuses strategic merge patch on custom resources (415); that is the handler's call.
 */
export function strategicMergeKeysFor(group: string, kind: string): Record<string, string> {
  const k = `${group}/${kind}`;
  let keys = cache.get(k);
  if (!keys) {
    const message = messageOfGroupKind(group, kind);
    keys = { ...OBJECT_META };
    if (message) walk(message, "", 0, new Set(), keys);
    cache.set(k, keys);
  }
  return keys;
}
