// What each resource and subresource accepts (verbs, the kind it answers with) and how kube-apiserver
// names groups in schema names and operation ids. Shared by discovery.ts and openapi.ts.
import type { KindInfo } from "./types.js";

export const DEFAULT_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

export interface GVK {
  group: string;
  version: string;
  kind: string;
}

export interface SubresourceInfo {
  name: string;
  verbs: string[];
  /** The kind the subresource reads and writes; the parent kind (at the served version) when undefined. */
  kind?: GVK;
  /** Connect-style subresources (exec, attach, portforward, proxy) stream instead of returning objects. */
  connect?: boolean;
}

const RW = ["get", "patch", "update"];
const CONNECT = ["create", "get"];
const PROXY = ["create", "delete", "get", "patch", "update"];

/** kube-apiserver's subresources by name, and the few that depend on the parent resource. */
export function subresourceInfo(kind: KindInfo, name: string): SubresourceInfo {
  const core = (k: string): GVK => ({ group: "", version: "v1", kind: k });
  switch (name) {
    case "status":
    case "ephemeralcontainers":
    case "resize":
    case "approval":
      return { name, verbs: RW };
    case "scale":
      return { name, verbs: RW, kind: { group: "autoscaling", version: "v1", kind: "Scale" } };
    case "eviction":
      return { name, verbs: ["create"], kind: { group: "policy", version: "v1", kind: "Eviction" } };
    case "binding":
      return { name, verbs: ["create"], kind: core("Binding") };
    case "token":
      return { name, verbs: ["create"], kind: { group: "authentication.k8s.io", version: "v1", kind: "TokenRequest" } };
    case "finalize":
      return { name, verbs: ["update"] };
    case "log":
      return { name, verbs: ["get"] };
    case "exec":
      return { name, verbs: CONNECT, kind: core("PodExecOptions"), connect: true };
    case "attach":
      return { name, verbs: CONNECT, kind: core("PodAttachOptions"), connect: true };
    case "portforward":
      return { name, verbs: CONNECT, kind: core("PodPortForwardOptions"), connect: true };
    case "proxy":
      return { name, verbs: PROXY, kind: core(`${kind.kind}ProxyOptions`), connect: true };
    default:
      return { name, verbs: RW };
  }
}

export function verbsOf(kind: KindInfo): string[] {
  return kind.verbs ?? DEFAULT_VERBS;
}

export function groupVersionString(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

/** Schema-name prefix kube-apiserver uses for a group's types, e.g. io.k8s.api.apps, io.x-k8s.cluster. */
export function schemaPackage(group: string, custom: boolean): string {
  if (group === "") return "io.k8s.api.core";
  if (group === "apiextensions.k8s.io") return "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions";
  if (group === "apiregistration.k8s.io") return "io.k8s.kube-aggregator.pkg.apis.apiregistration";
  if (!custom && !group.includes(".")) return `io.k8s.api.${group}`;
  if (!custom && group.endsWith(".k8s.io")) {
    const first = group.split(".")[0];
    return `io.k8s.api.${first === "internal" ? "apiserverinternal" : first}`;
  }
  // CRDs: the group's DNS labels reversed, like kube-apiserver's CRD OpenAPI builder.
  return group.split(".").reverse().join(".");
}

export function schemaName(gvk: GVK, custom = false): string {
  return `${schemaPackage(gvk.group, custom)}.${gvk.version}.${gvk.kind}`;
}

const cap = (s: string) => (s ? s[0].toUpperCase() + s.slice(1) : s);

/** "Core", "Apps", "RbacAuthorization", "ClusterXK8sIo": the group part of kube's operation ids. */
export function groupCamel(group: string): string {
  if (group === "") return "Core";
  const g = group.endsWith(".k8s.io") ? group.slice(0, -".k8s.io".length) : group;
  return g.split(/[.-]/).map(cap).join("");
}

/** kube's tag, e.g. core_v1, rbacAuthorization_v1. */
export function groupTag(group: string, version: string): string {
  const c = groupCamel(group);
  return `${c[0].toLowerCase()}${c.slice(1)}_${version}`;
}

export const capitalize = cap;
