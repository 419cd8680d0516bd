// The admin API's wire shapes (`/admin/clusters/...` on the edge, and the cluster DO's RPC methods
// behind it): what the worker answers, the controller and the CLI read, and the DO produces.
import type { StatusJson } from "./status.js";

/** Body of PUT /admin/clusters/{ns}/{name} (and of the DO's createCluster). */
export interface CreateClusterRequest {
  kubernetesVersion?: string;
  labels?: Record<string, string>;
  /** Seconds until the cluster deletes itself (absent/null: never). Only used when creating. */
  ttlSeconds?: number | null;
}

/** GET /admin/clusters/{ns}/{name}; the create answer adds the per-cluster `token` (shown once). */
export interface ClusterDescription {
  tenant: string;
  namespace: string;
  name: string;
  createdAt: string;
  kubernetesVersion: string;
  labels: Record<string, string>;
  /** ISO time the cluster expires at; absent for clusters without TTL. */
  expiresAt?: string;
  resourceVersion: string;
  objectCount: number;
  token?: string;
}

/** What a cluster DO's admin RPC answers: the HTTP status the worker replies with, and the JSON body. */
export interface AdminReply<T = unknown> {
  status: number;
  body: T | StatusJson;
}

/** One step's startup wait: a Go duration and a jitter factor held in a string (CAPD's schema). */
export interface ProvisioningSettings {
  startupDuration: string;
  startupJitter?: string;
}

export interface MachineProvisioning {
  vm?: ProvisioningSettings;
  node?: ProvisioningSettings;
  apiServer?: ProvisioningSettings;
  etcd?: ProvisioningSettings;
}

/** Body of PUT /admin/clusters/{ns}/{name}/machines/{machine}. */
export interface MachineSpec {
  controlPlane: boolean;
  version: string;
  failureDomain?: string;
  clusterName?: string;
  controlPlaneEndpoint?: string;
  /**
   * The Node's spec.providerID (default `in-memory://<machine>`): another provider's machine keeps the ID
   * its CAPI Machine expects (bootstrap mimicry). Fixed once the machine exists, as a Node's is.
   */
  providerID?: string;
  /** The Machine carried the bootstrapped annotation: skip the waits (restore after a restart). */
  bootstrapped?: boolean;
  provisioning?: MachineProvisioning;
}

export type MachineStepName = "vm" | "node" | "etcd" | "apiServer";

export interface MachineCondition {
  type: string;
  status: "True" | "False";
  reason: string;
  message?: string;
  lastTransitionTime: string;
}

/** A machine as the admin API reports it (GET/PUT .../machines/{machine}). */
export interface MachineJson {
  name: string;
  controlPlane: boolean;
  version: string;
  providerID: string;
  failureDomain?: string;
  createdAt: string;
  steps: Partial<Record<MachineStepName, { dueAt: string; done: boolean; doneAt: string | null; delayMs: number }>>;
  conditions: MachineCondition[];
  ready: boolean;
  nextTransitionAt: string | null;
}

/** GET .../machines. */
export interface MachineList {
  items: MachineJson[];
  /** Control-plane machines whose kube-apiserver pod exists (the VIP answers while > 0). */
  apiServers: number;
}

export type EtcdAlarmType = "NOSPACE" | "CORRUPT";

/** Ids are decimal strings: they are uint64 and exceed 2^53. */
export interface EtcdMemberJson {
  id: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: false;
  removed: boolean;
}

/** GET .../etcd (and the answer of every etcd call). */
export interface EtcdStateJson {
  clusterId: string;
  /** Effective leader: "0" when there is none or the noLeader fault is on. */
  leaderId: string;
  raftTerm: number;
  /** The cluster's resourceVersion (etcd revision and API resourceVersion are the same counter). */
  revision: number;
  version: string;
  /** Members not removed, in creation order. */
  members: EtcdMemberJson[];
  /** Removed members whose machines still exist (their own Status calls must fail). */
  removedMembers: EtcdMemberJson[];
  faults: {
    alarms: Array<{ memberId: string; memberName: string; alarm: EtcdAlarmType }>;
    noLeader: boolean;
    unresponsive: string[];
    /** Added to every etcd RPC, in ms. */
    latencyMs?: number;
  };
}

/**
 * PUT .../faults: faults injected into one cluster's Kubernetes API (stored with the cluster; DELETE
 * removes them all). A rule applies to a request when its verbs (kube's: get, list, watch, create,
 * update, patch, delete, deletecollection) and resources (plural names) match; an empty or missing list
 * matches all. Draws are deterministic when `seed` is set (a test can count what it gets).
 */
export interface ApiFaultsJson {
  seed?: number;
  /** Added before the request is served: `ms` plus a uniform draw in [0, jitterMs). */
  latency?: Array<{ verbs?: string[]; resources?: string[]; ms: number; jitterMs?: number }>;
  /** The request fails with `code` with probability `rate` (first matching rule wins). */
  errors?: Array<{ verbs?: string[]; resources?: string[]; rate: number; code: 429 | 500 | 503 | 504; retryAfterSeconds?: number }>;
  /** Watches end (cleanly, as a server-side timeout does) this many seconds after they start. */
  dropWatchesAfterSeconds?: number;
}
