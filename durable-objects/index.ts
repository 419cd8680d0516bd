// The Durable Object classes the worker exports (names must match wrangler.toml).
export { WorkloadCluster } from "./workload-cluster.js";
export { TenantDirectory } from "./tenant-directory.js";
