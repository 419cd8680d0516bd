// In-memory Persistence: the embedded default and what Node tests use. Values are deep-copied on the
// way in and out so a caller mutating an object afterwards cannot change what was "stored".
import { objectKeyString as keyString, type EventRecord, type KubeObject, type ObjectKey, type PersistedState, type Persistence } from "./types.js";

export class MemoryPersistence implements Persistence {
  private rv = 0;
  private objects = new Map<string, { key: ObjectKey; object: KubeObject }>();
  private events: EventRecord[] = [];
  /** Number of commits seen (handy for tests asserting that a rejected request stored nothing). */
  commits = 0;

  load(): PersistedState {
    return structuredClone({
      rv: this.rv,
      objects: [...this.objects.values()],
      events: this.events,
    });
  }

  commit(event: EventRecord, keepFromRv: number): void {
    const ev = structuredClone(event);
    const k = keyString(ev.key);
    if (ev.type === "DELETED") this.objects.delete(k);
    else this.objects.set(k, { key: ev.key, object: ev.object });
    this.events.push(ev);
    const keep = this.events.findIndex((e) => e.rv >= Math.min(keepFromRv, ev.rv));
    if (keep > 0) this.events.splice(0, keep);
    this.rv = ev.rv;
    this.commits++;
  }

  clear(): void {
    this.rv = 0;
    this.objects.clear();
    this.events = [];
  }
}
