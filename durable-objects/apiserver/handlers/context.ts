// What every handler works with: one cluster's storage, object semantics, kinds and watch hub.
import type { KindRegistry } from "../kinds.js";
import type { ObjectOps } from "../objects.js";
import type { ObjectStore } from "../store.js";
import type { WatchHub } from "../watch.js";

export interface ApiContext {
  store: ObjectStore;
  ops: ObjectOps;
  registry: KindRegistry;
  hub: WatchHub;
  now(): Date;
  maxBodyBytes: number;
  /** Injected fault: watches end this long after they start (api-faults.ts). */
  watchLimitMs?: number;
}
