// Shared contracts of the runtime-agnostic Kubernetes API server.
// Nothing here (or anywhere under durable-objects/apiserver) may import Worker or Node APIs:
// the same code runs inside a Durable Object in workerd and in plain Node tests.

/** A Kubernetes object as JSON. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [field: string]: unknown;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
  managedFields?: unknown[];
  [field: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** Where an object lives. `namespace` is "" for cluster-scoped objects; `group` is "" for core. */
export interface ObjectKey {
  group: string;
  resource: string;
  namespace: string;
  name: string;
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";

/** One entry of the bounded event log kept for watch resume. */
/** One string per object key, for maps over objects of every kind. */
export const objectKeyString = (k: ObjectKey): string => `${k.group}\u0000${k.resource}\u0000${k.namespace}\u0000${k.name}`;

export interface EventRecord {
  rv: number;
  type: WatchEventType;
  key: ObjectKey;
  /** The object as it was after the change (for DELETED: the last state, with the deletion's rv). */
  object: KubeObject;
}

/** Everything a cluster's API server needs back after a restart or eviction. */
export interface PersistedState {
  /** The cluster's resourceVersion counter (the last rv handed out). */
  rv: number;
  /** Current objects, each with metadata.resourceVersion set. */
  objects: Array<{ key: ObjectKey; object: KubeObject }>;
  /** The newest events, oldest first, at most the configured log size. */
  events: EventRecord[];
}

/**
 * Durable storage behind the API server. Implemented over SQLite in the Durable Object
 * (durable-objects/sqlite-persistence.ts) and in memory for Node tests (memory-persistence.ts).
 * All calls are synchronous: a DO's SQL API is, and it lets a write be stored before the
 * response that acknowledges it is produced.
 */
export interface Persistence {
  load(): PersistedState;
  /**
   * Store one committed change: upsert (ADDED/MODIFIED) or delete (DELETED) the object, append the
   * event, and record `event.rv` as the counter. Events older than `keepFromRv` are no longer needed
   * (the store's log has dropped them) and may be trimmed; the newest is always kept. `replacedRv` is the
   * resourceVersion of the object this change replaces or deletes (absent for ADDED).
   */
  commit(event: EventRecord, keepFromRv: number, replacedRv?: number): void;
  /** Drop all state (the cluster is being deleted). */
  clear(): void;
}

/** What the API server knows about one kind (built-in, or registered by a CRD). */
export interface KindInfo {
  group: string;
  /** Served versions, preferred first. Objects are stored once and relabelled per version. */
  versions: string[];
  kind: string;
  listKind: string;
  /** Plural resource name, e.g. "pods". */
  resource: string;
  singular: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  /** Subresources served, e.g. ["status"], ["status", "eviction"]. */
  subresources: string[];
  /** Whether status is a subresource (then spec-only updates ignore status and vice versa). */
  hasStatusSubresource: boolean;
  /** The `scale` subresource's paths (dot separated, no leading dot), when the kind serves it. */
  scale?: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath?: string };
  /** Strategic merge patch list metadata: JSON path (dot separated, lists by field name) -> merge key. */
  strategicMergeKeys?: Record<string, string>;
  /** True for kinds registered from a CustomResourceDefinition. */
  custom?: boolean;
  /** Verbs served on the main resource; discovery and OpenAPI assume full CRUD + watch when absent. */
  verbs?: string[];
  /**
   * Converts an object to another served version (`apiVersion` is group/version). Set for CRDs whose
   * versions differ and whose conversion this server runs in-process; absent, objects are relabelled.
   */
  convert?: (obj: KubeObject, apiVersion: string) => KubeObject;
  /** A CRD's `openAPIV3Schema` per served version (published in /openapi/v3; preserve-unknown when absent). */
  schemas?: Record<string, unknown>;
}

/** Options of the runtime-agnostic API server. */
export interface ApiServerOptions {
  persistence: Persistence;
  /** How many events the watch resume log keeps (default 1000). */
  eventLogSize?: number;
  /** How long, in ms, the log keeps an event in memory (default 75 s, kube's watch cache eventFreshDuration). */
  eventWindowMs?: number;
  /** Largest request body accepted, in bytes (default 3 MiB, like kube-apiserver). */
  maxBodyBytes?: number;
  /** Heartbeat interval of watch streams in ms (default 10 s). */
  watchHeartbeatMs?: number;
  /** Kubernetes version reported by /version, e.g. "v1.31.0". */
  kubernetesVersion?: string;
  now?: () => Date;
  randomUUID?: () => string;
  /** Called with an unexpected error before it is answered as a bare 500 (default: console.error). */
  onInternalError?: (err: unknown) => void;
}

/** Thrown by pure helpers (patch, selectors, validation); the router turns it into a Status. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "ApiError";
  }
}
