// The one way the worker reaches a cluster's Durable Object (the API path and the admin API both).
// Ids are kept by object name: idFromName hashes the name on every call (a visible share of a GET in a
// profile), and an id, unlike a stub, may outlive the request that made it. Bounded by a reset.
const objectIds = new Map<string, DurableObjectId>();
const MAX_OBJECT_IDS = 20_000;

/** The stub of the WorkloadCluster named `objectName` (edge-contract's clusterObjectName). */
export function clusterStub(ns: Env["WORKLOAD_CLUSTER"], objectName: string) {
  let id = objectIds.get(objectName);
  if (!id) {
    if (objectIds.size >= MAX_OBJECT_IDS) objectIds.clear();
    id = ns.idFromName(objectName);
    objectIds.set(objectName, id);
  }
  return ns.get(id);
}
