// The built-in kinds this server serves, and the registry that also holds CRD-registered kinds.
import type { KindInfo } from "./types.js";

interface Def {
  kind: string;
  resource: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  sub?: string[];
  versions?: string[];
}

// Built-in kinds with a `scale` subresource keep replicas at spec.replicas/status.replicas and report
// spec.selector (a LabelSelector) as Scale's status.selector string.
const SCALE = { specReplicasPath: "spec.replicas", statusReplicasPath: "status.replicas" };

function defs(group: string, version: string, list: Def[]): KindInfo[] {
  return list.map((d) => {
    const subresources = d.sub ?? [];
    return {
      group,
      versions: d.versions ?? [version],
      kind: d.kind,
      listKind: `${d.kind}List`,
      resource: d.resource,
      singular: d.kind.toLowerCase(),
      namespaced: d.namespaced,
      ...(d.shortNames ? { shortNames: d.shortNames } : {}),
      ...(d.categories ? { categories: d.categories } : {}),
      subresources,
      hasStatusSubresource: subresources.includes("status"),
      ...(subresources.includes("scale") ? { scale: SCALE } : {}),
    };
  });
}

const ALL = ["all"];

export const BUILTIN_KINDS: KindInfo[] = [
  ...defs("", "v1", [
    { kind: "Namespace", resource: "namespaces", namespaced: false, shortNames: ["ns"], sub: ["status", "finalize"] },
    { kind: "Node", resource: "nodes", namespaced: false, shortNames: ["no"], sub: ["status", "proxy"] },
    { kind: "Pod", resource: "pods", namespaced: true, shortNames: ["po"], categories: ALL, sub: ["status", "eviction", "binding", "log", "exec", "portforward", "proxy", "ephemeralcontainers"] },
    { kind: "ConfigMap", resource: "configmaps", namespaced: true, shortNames: ["cm"] },
    { kind: "Secret", resource: "secrets", namespaced: true },
    { kind: "Service", resource: "services", namespaced: true, shortNames: ["svc"], categories: ALL, sub: ["status", "proxy"] },
    { kind: "Endpoints", resource: "endpoints", namespaced: true, shortNames: ["ep"] },
    { kind: "ServiceAccount", resource: "serviceaccounts", namespaced: true, shortNames: ["sa"], sub: ["token"] },
    { kind: "Event", resource: "events", namespaced: true, shortNames: ["ev"] },
    { kind: "PersistentVolume", resource: "persistentvolumes", namespaced: false, shortNames: ["pv"], sub: ["status"] },
    { kind: "PersistentVolumeClaim", resource: "persistentvolumeclaims", namespaced: true, shortNames: ["pvc"], sub: ["status"] },
    { kind: "LimitRange", resource: "limitranges", namespaced: true, shortNames: ["limits"] },
    { kind: "ResourceQuota", resource: "resourcequotas", namespaced: true, shortNames: ["quota"], sub: ["status"] },
    { kind: "ReplicationController", resource: "replicationcontrollers", namespaced: true, shortNames: ["rc"], categories: ALL, sub: ["status", "scale"] },
    { kind: "PodTemplate", resource: "podtemplates", namespaced: true },
  ]),
  ...defs("apps", "v1", [
    { kind: "Deployment", resource: "deployments", namespaced: true, shortNames: ["deploy"], categories: ALL, sub: ["status", "scale"] },
    { kind: "DaemonSet", resource: "daemonsets", namespaced: true, shortNames: ["ds"], categories: ALL, sub: ["status"] },
    { kind: "StatefulSet", resource: "statefulsets", namespaced: true, shortNames: ["sts"], categories: ALL, sub: ["status", "scale"] },
    { kind: "ReplicaSet", resource: "replicasets", namespaced: true, shortNames: ["rs"], categories: ALL, sub: ["status", "scale"] },
    { kind: "ControllerRevision", resource: "controllerrevisions", namespaced: true },
  ]),
  ...defs("rbac.authorization.k8s.io", "v1", [
    { kind: "Role", resource: "roles", namespaced: true },
    { kind: "RoleBinding", resource: "rolebindings", namespaced: true },
    { kind: "ClusterRole", resource: "clusterroles", namespaced: false },
    { kind: "ClusterRoleBinding", resource: "clusterrolebindings", namespaced: false },
  ]),
  ...defs("coordination.k8s.io", "v1", [{ kind: "Lease", resource: "leases", namespaced: true }]),
  ...defs("policy", "v1", [
    { kind: "PodDisruptionBudget", resource: "poddisruptionbudgets", namespaced: true, shortNames: ["pdb"], sub: ["status"] },
  ]),
  ...defs("storage.k8s.io", "v1", [
    { kind: "StorageClass", resource: "storageclasses", namespaced: false, shortNames: ["sc"] },
    { kind: "VolumeAttachment", resource: "volumeattachments", namespaced: false, sub: ["status"] },
    { kind: "CSIDriver", resource: "csidrivers", namespaced: false },
    { kind: "CSINode", resource: "csinodes", namespaced: false },
    { kind: "CSIStorageCapacity", resource: "csistoragecapacities", namespaced: true },
  ]),
  // Stored and served, never called: this server runs no admission webhooks or policies. clusterctl and
  // CAPI providers' manifests carry these objects, and clusterctl reads them back while installing.
  ...defs("admissionregistration.k8s.io", "v1", [
    { kind: "ValidatingWebhookConfiguration", resource: "validatingwebhookconfigurations", namespaced: false, categories: ["api-extensions"] },
    { kind: "MutatingWebhookConfiguration", resource: "mutatingwebhookconfigurations", namespaced: false, categories: ["api-extensions"] },
    { kind: "ValidatingAdmissionPolicy", resource: "validatingadmissionpolicies", namespaced: false, categories: ["api-extensions"], sub: ["status"] },
    { kind: "ValidatingAdmissionPolicyBinding", resource: "validatingadmissionpolicybindings", namespaced: false, categories: ["api-extensions"] },
  ]),
  ...defs("apiextensions.k8s.io", "v1", [
    { kind: "CustomResourceDefinition", resource: "customresourcedefinitions", namespaced: false, shortNames: ["crd", "crds"], categories: ["api-extensions"], sub: ["status"] },
  ]),
  ...defs("batch", "v1", [
    { kind: "Job", resource: "jobs", namespaced: true, categories: ALL, sub: ["status"] },
    { kind: "CronJob", resource: "cronjobs", namespaced: true, shortNames: ["cj"], categories: ALL, sub: ["status"] },
  ]),
  ...defs("discovery.k8s.io", "v1", [{ kind: "EndpointSlice", resource: "endpointslices", namespaced: true }]),
  ...defs("networking.k8s.io", "v1", [
    { kind: "Ingress", resource: "ingresses", namespaced: true, shortNames: ["ing"], sub: ["status"] },
    { kind: "IngressClass", resource: "ingressclasses", namespaced: false },
    { kind: "NetworkPolicy", resource: "networkpolicies", namespaced: true, shortNames: ["netpol"] },
  ]),
  ...defs("scheduling.k8s.io", "v1", [{ kind: "PriorityClass", resource: "priorityclasses", namespaced: false, shortNames: ["pc"] }]),
  ...defs("node.k8s.io", "v1", [{ kind: "RuntimeClass", resource: "runtimeclasses", namespaced: false }]),
];

/**
 * Kinds whose kube-apiserver strategy allows PUT to create a missing object (AllowCreateOnUpdate);
 * every other kind answers 404 to an update of a missing object.
 */
const CREATE_ON_UPDATE = new Set([
  "/services",
  "/endpoints",
  "/events",
  "/limitranges",
  "coordination.k8s.io/leases",
  "rbac.authorization.k8s.io/roles",
  "rbac.authorization.k8s.io/rolebindings",
  "rbac.authorization.k8s.io/clusterroles",
  "rbac.authorization.k8s.io/clusterrolebindings",
  "discovery.k8s.io/endpointslices",
  "scheduling.k8s.io/priorityclasses",
]);

export function allowsCreateOnUpdate(kind: KindInfo): boolean {
  return CREATE_ON_UPDATE.has(`${kind.group}/${kind.resource}`);
}

export function groupVersion(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.lastIndexOf("/");
  return i < 0 ? { group: "", version: apiVersion } : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

/** Built-in kinds plus CRD-registered ones; lookups by resource (REST paths) and by kind (system access). */
export class KindRegistry {
  private custom = new Map<string, KindInfo[]>(); // CRD name -> kinds it registered (one entry)
  private byResource = new Map<string, KindInfo>();
  private byKind = new Map<string, KindInfo>();
  /** all(), built once per change: discovery reads it on every request. */
  private list: KindInfo[] = [];

  constructor() {
    this.rebuild();
  }

  /** Served kinds: a shared array, callers must not modify it (rebuilt when a CRD registers or goes). */
  all(): KindInfo[] {
    return this.list;
  }

  byGroupResource(group: string, resource: string): KindInfo | undefined {
    return this.byResource.get(`${group}/${resource}`);
  }

  /** Resolve a resource name as used in a URL, served at `version`. */
  lookup(group: string, version: string, resource: string): KindInfo | undefined {
    const k = this.byResource.get(`${group}/${resource}`);
    return k && k.versions.includes(version) ? k : undefined;
  }

  byGroupKind(group: string, kind: string): KindInfo | undefined {
    return this.byKind.get(`${group}/${kind}`);
  }

  fromApiVersionKind(apiVersion: string, kind: string): KindInfo | undefined {
    const { group, version } = splitApiVersion(apiVersion);
    const k = this.byKind.get(`${group}/${kind}`);
    return k && k.versions.includes(version) ? k : undefined;
  }

  isBuiltin(group: string, resource: string): boolean {
    return BUILTIN_KINDS.some((k) => k.group === group && k.resource === resource);
  }

  setCustom(crdName: string, kind: KindInfo | undefined): void {
    if (kind) this.custom.set(crdName, [kind]);
    else this.custom.delete(crdName);
    this.rebuild();
  }

  customFor(crdName: string): KindInfo | undefined {
    return this.custom.get(crdName)?.[0];
  }

  private rebuild(): void {
    this.byResource.clear();
    this.byKind.clear();
    for (const k of [...BUILTIN_KINDS, ...[...this.custom.values()].flat()]) {
      const rk = `${k.group}/${k.resource}`;
      if (this.byResource.has(rk)) continue; // built-ins win over a conflicting CRD
      this.byResource.set(rk, k);
      this.byKind.set(`${k.group}/${k.kind}`, k);
    }
    this.list = [...this.byResource.values()];
  }
}
