// The in-memory object store: every object of the cluster, the resourceVersion counter and the bounded
// event log for watch resume. Every change goes through commit(), which writes through to Persistence
// before touching memory, so a failed write leaves both unchanged.
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
  private counter: number;
  private listeners: ChangeListener[] = [];

  constructor(
    private readonly persistence: Persistence,
    private readonly eventLogSize: number,
  ) {
    const state = persistence.load();
    this.counter = state.rv;
    for (const o of state.objects) this.bucket(o.key.group, o.key.resource).set(objKey(o.key.namespace, o.key.name), o);
    this.log = state.events.slice(-eventLogSize);
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
    this.persistence.commit(event, this.eventLogSize); // throws => nothing below happens
    this.counter = rv;
    const b = this.bucket(key.group, key.resource);
    const k = objKey(key.namespace, key.name);
    const previous = b.get(k)?.object;
    if (type === "DELETED") {
      b.delete(k);
      if (b.size === 0) this.byResource.delete(resKey(key.group, key.resource));
    } else b.set(k, { key: event.key, object });
    this.log.push(event);
    if (this.log.length > this.eventLogSize) this.log.splice(0, this.log.length - this.eventLogSize);
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
    const oldest = this.log.length ? this.log[0].rv : this.counter + 1;
    if (since < oldest - 1) return undefined;
    return this.log.filter((e) => e.rv > since);
  }

  /** The whole retained log, oldest first (read-only). */
  logEntries(): readonly EventRecord[] {
    return this.log;
  }

  private bucket(group: string, resource: string): Map<string, StoredObject> {
    const k = resKey(group, resource);
    let b = this.byResource.get(k);
    if (!b) this.byResource.set(k, (b = new Map()));
    return b;
  }
}
