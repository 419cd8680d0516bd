// The in-memory object store: every object of the cluster, the resourceVersion counter and the bounded
// event log for watch resume. Every change goes through commit(), which writes through to Persistence
// before touching memory, so a failed write leaves both unchanged.
//
// The log in memory is bounded by count and by age, like kube-apiserver's watch cache (which keeps
// events for its eventFreshDuration, 75 s): each entry holds an old version of an object that nothing
// else references, ~4 KB with managed fields, so a count bound alone made a busy edge grow by ~4 MB
// per cluster until the count was reached. Watchers are not hurt: bookmarks (every heartbeat) keep
// their resourceVersion recent, and a resume from an older one gets 410 and relists, as with kube.
import { encodeCommitted } from "./object-json.js";
import type { EventRecord, KubeObject, ObjectKey, Persistence, WatchEventType } from "./types.js";

export interface StoredObject {
  key: ObjectKey;
  object: KubeObject;
}

export type ChangeListener = (event: EventRecord, previous: KubeObject | undefined) => void;

const resKey = (group: string, resource: string) => `${group}/${resource}`;
const objKey = (namespace: string, name: string) => `${namespace}/${name}`;

export class ObjectStore {
  private byResource = new Map<string, Map<string, StoredObject>>();
  private log: EventRecord[];
  /** When each log entry was committed (or loaded), by the clock; parallel to `log`. */
  private logTimes: number[];
  private counter: number;
  private listeners: ChangeListener[] = [];

  constructor(
    private readonly persistence: Persistence,
    private readonly eventLogSize: number,
    /** How long a log entry is kept in memory, in ms (Infinity: by count only). */
    private readonly eventWindowMs = Infinity,
    private readonly clock: () => number = () => Date.now(),
  ) {
    const state = persistence.load();
    this.counter = state.rv;
    for (const o of state.objects) this.bucket(o.key.group, o.key.resource).set(objKey(o.key.namespace, o.key.name), o);
    this.log = state.events.slice(-eventLogSize);
    const loaded = clock();
    this.logTimes = this.log.map(() => loaded);
  }

  get rv(): number {
    return this.counter;
  }

  onChange(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  /** The stored object itself: callers must not mutate it (clone first). */
  get(key: ObjectKey): KubeObject | undefined {
    return this.byResource.get(resKey(key.group, key.resource))?.get(objKey(key.namespace, key.name))?.object;
  }

  /** Objects of one resource (optionally one namespace), sorted by namespace then name. */
  list(group: string, resource: string, namespace?: string): StoredObject[] {
    const b = this.byResource.get(resKey(group, resource));
    if (!b) return [];
    const out: StoredObject[] = [];
    for (const o of b.values()) if (namespace === undefined || namespace === "" || o.key.namespace === namespace) out.push(o);
    return out.sort((a, c) =>
      a.key.namespace < c.key.namespace ? -1 : a.key.namespace > c.key.namespace ? 1 : a.key.name < c.key.name ? -1 : a.key.name > c.key.name ? 1 : 0,
    );
  }

  /** Every object of every resource (unsorted). */
  *all(): Iterable<StoredObject> {
    for (const b of this.byResource.values()) yield* b.values();
  }

  count(): number {
    let n = 0;
    for (const b of this.byResource.values()) n += b.size;
    return n;
  }

  /**
   * Store one change under the next resourceVersion. `object` is owned by the store afterwards.
   * Returns the stored object (with metadata.resourceVersion set).
   */
  commit(type: WatchEventType, key: ObjectKey, object: KubeObject): KubeObject {
    const rv = this.counter + 1;
    object.metadata = { ...(object.metadata ?? {}), resourceVersion: String(rv) };
    const event: EventRecord = { rv, type, key: { ...key }, object };
    encodeCommitted(object);
    this.trimLog();
    const keepFromRv = Math.max(this.log.length ? this.log[0].rv : rv, rv - this.eventLogSize + 1);
    const previous = this.get(key);
    const replacedRv = previous ? Number(previous.metadata?.resourceVersion) : undefined;
    this.persistence.commit(event, keepFromRv, replacedRv); // throws => nothing below happens
    this.counter = rv;
    const b = this.bucket(key.group, key.resource);
    const k = objKey(key.namespace, key.name);
    if (type === "DELETED") {
      b.delete(k);
      if (b.size === 0) this.byResource.delete(resKey(key.group, key.resource));
    } else b.set(k, { key: event.key, object });
    this.log.push(event);
    this.logTimes.push(this.clock());
    this.trimLog();
    for (const l of this.listeners) {
      try {
        l(event, previous);
      } catch {
        // A broken watcher must never undo or fail a committed change.
      }
    }
    return object;
  }

  /**
   * Events with rv > `since`, oldest first, or undefined when some of them were already trimmed from
   * the log (the caller answers 410 Expired).
   */
  eventsSince(since: number): EventRecord[] | undefined {
    if (since >= this.counter) return [];
    this.trimLog();
    const oldest = this.log.length ? this.log[0].rv : this.counter + 1;
    if (since < oldest - 1) return undefined;
    return this.log.filter((e) => e.rv > since);
  }

  /** The whole retained log, oldest first (read-only). */
  logEntries(): readonly EventRecord[] {
    this.trimLog();
    return this.log;
  }

  /** Drops entries past the count bound and those older than the window. */
  private trimLog(): void {
    let drop = Math.max(0, this.log.length - this.eventLogSize);
    if (this.eventWindowMs !== Infinity) {
      const cutoff = this.clock() - this.eventWindowMs;
      while (drop < this.log.length && this.logTimes[drop] < cutoff) drop++;
    }
    if (drop === 0) return;
    this.log.splice(0, drop);
    this.logTimes.splice(0, drop);
  }

  private bucket(group: string, resource: string): Map<string, StoredObject> {
    const k = resKey(group, resource);
    let b = this.byResource.get(k);
    if (!b) this.byResource.set(k, (b = new Map()));
    return b;
  }
}
