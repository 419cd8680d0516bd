// Strategic merge patch list strategies of the built-in kinds, transcribed from the
// `patchStrategy`/`patchMergeKey` struct tags in k8s.io/api (core/v1, apps/v1, batch/v1, policy/v1,
// networking/v1, admissionregistration/v1) and k8s.io/apimachinery ObjectMeta.
// Format: see strategic.ts (path -> merge key | MERGE_PRIMITIVE | REPLACE_STRATEGY).
// Fields without a tag are atomic (replaced): e.g. PodSpec.tolerations, Endpoints.subsets, and
// NodeSpec.taints — the latter has no strategy in k8s.io/api, and real clients compute their
// patches from those Go types, so merging taints by key+effect here would disagree with them.

import { MERGE_PRIMITIVE, REPLACE_STRATEGY } from "./strategic.js";

const objectMeta: Record<string, string> = {
  "metadata.finalizers": MERGE_PRIMITIVE,
  "metadata.ownerReferences": "uid",
};

function podSpecKeys(prefix: string): Record<string, string> {
  const keys: Record<string, string> = {
    [`${prefix}.volumes`]: "name",
    [`${prefix}.imagePullSecrets`]: "name",
    [`${prefix}.hostAliases`]: "ip",
    [`${prefix}.topologySpreadConstraints`]: "topologyKey",
    [`${prefix}.schedulingGates`]: "name",
    [`${prefix}.resourceClaims`]: "name",
  };
  for (const c of ["containers", "initContainers", "ephemeralContainers"]) {
    keys[`${prefix}.${c}`] = "name";
    keys[`${prefix}.${c}.ports`] = "containerPort";
    keys[`${prefix}.${c}.env`] = "name";
    keys[`${prefix}.${c}.volumeMounts`] = "mountPath";
    keys[`${prefix}.${c}.volumeDevices`] = "devicePath";
  }
  return keys;
}

const conditionsByType = { "status.conditions": "type" };

/** Per kind, keyed "group/Kind" (group "" = core). ObjectMeta entries are added to every kind. */
const byKind: Record<string, Record<string, string>> = {
  "/Pod": {
    ...podSpecKeys("spec"),
    ...conditionsByType,
    "status.hostIPs": "ip",
    "status.podIPs": "ip",
    "status.resourceClaimStatuses": "name",
  },
  "/PodTemplate": podSpecKeys("template.spec"),
  "/ReplicationController": { ...podSpecKeys("spec.template.spec"), ...conditionsByType },
  "/Node": { "spec.podCIDRs": MERGE_PRIMITIVE, ...conditionsByType, "status.addresses": "type" },
  "/Namespace": conditionsByType,
  "/PersistentVolumeClaim": conditionsByType,
  "/Service": { "spec.ports": "port", ...conditionsByType },
  "/ServiceAccount": { secrets: "name" },
  "/ComponentStatus": { conditions: "type" },
  "apps/Deployment": { ...podSpecKeys("spec.template.spec"), ...conditionsByType },
  "apps/ReplicaSet": { ...podSpecKeys("spec.template.spec"), ...conditionsByType },
  "apps/DaemonSet": { ...podSpecKeys("spec.template.spec"), ...conditionsByType },
  "apps/StatefulSet": { ...podSpecKeys("spec.template.spec"), ...conditionsByType },
  "batch/Job": { ...podSpecKeys("spec.template.spec"), ...conditionsByType },
  "batch/CronJob": podSpecKeys("spec.jobTemplate.spec.template.spec"),
  "policy/PodDisruptionBudget": { "spec.selector": REPLACE_STRATEGY, ...conditionsByType },
  "networking.k8s.io/ServiceCIDR": conditionsByType,
  "admissionregistration.k8s.io/ValidatingWebhookConfiguration": { webhooks: "name", "webhooks.matchConditions": "name" },
  "admissionregistration.k8s.io/MutatingWebhookConfiguration": { webhooks: "name", "webhooks.matchConditions": "name" },
  "admissionregistration.k8s.io/ValidatingAdmissionPolicy": { "spec.matchConditions": "name", "spec.variables": "name" },
};

/**
 * Strategic merge keys for a kind. Every kind gets ObjectMeta's entries (finalizers as a set,
 * ownerReferences by uid — true for ConfigMaps, Secrets and custom resources' apply schema alike);
 * kinds without list strategies of their own (ConfigMap, Lease, custom resources...) get only those.
 * Note kube-apiserver refuses strategic merge patch on custom resources (415); that is the router's call.
 */
export function strategicMergeKeysFor(group: string, kind: string): Record<string, string> {
  return { ...objectMeta, ...(byKind[`${group}/${kind}`] ?? {}) };
}
