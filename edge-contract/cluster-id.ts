// How a fake cluster is named between the worker and its Durable Object. The DO name is
// `<tenant>/<namespace>/<name>`, so tenants never share a DO; the worker names the caller's cluster
// (and the digest of a presented cluster token) in two headers that only it may set.

export interface ClusterId {
  tenant: string;
  namespace: string;
  name: string;
}

/** The Durable Object name of a cluster. */
export function clusterObjectName(id: ClusterId): string {
  return `${id.tenant}/${id.namespace}/${id.name}`;
}

/** The inverse of clusterObjectName; undefined unless it has exactly three non-empty parts. */
export function parseClusterObjectName(s: string): ClusterId | undefined {
  const parts = s.split("/");
  if (parts.length !== 3 || parts.some((p) => !p)) return undefined;
  return { tenant: parts[0], namespace: parts[1], name: parts[2] };
}

export function sameCluster(a: ClusterId, b: ClusterId): boolean {
  return a.tenant === b.tenant && a.namespace === b.namespace && a.name === b.name;
}

/** Header through which the worker tells a cluster DO which cluster the caller asked for. */
export const CLUSTER_HEADER = "x-capim-cluster";

/** Header through which the worker hands a cluster token's digest to the cluster DO for verification. */
export const TOKEN_DIGEST_HEADER = "x-capim-token-digest";

/** Every header of this prefix is the worker's: client-sent ones are dropped before forwarding. */
export const INTERNAL_HEADER_PREFIX = "x-capim-";
