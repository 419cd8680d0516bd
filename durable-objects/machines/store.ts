// Where machine timelines are kept. The Durable Object uses the SQLite implementation
// (durable-objects/machines-sqlite.ts); tests and Node use the in-memory one. Records are plain JSON,
// so a store may keep them serialised; callers must `put` after every change.
import { nextDueAt, type MachineRecord } from "./timeline.js";

export interface MachineStore {
  get(name: string): MachineRecord | undefined;
  /** All machines, ordered by creation time (then name). */
  list(): MachineRecord[];
  put(rec: MachineRecord): void;
  delete(name: string): boolean;
  /** Machines with a pending step due at or before `now`, ordered by creation time (then name). */
  listDue(now: number): MachineRecord[];
  /** Earliest due time of any pending step, or null. */
  nextDueAt(): number | null;
  clear(): void;
}

const byCreation = (a: MachineRecord, b: MachineRecord) =>
  a.createdAt - b.createdAt || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** Keeps JSON copies so callers cannot mutate stored state by accident (same contract as SQLite). */
export class MemoryMachineStore implements MachineStore {
  private readonly rows = new Map<string, string>();

  get(name: string): MachineRecord | undefined {
    const row = this.rows.get(name);
    return row === undefined ? undefined : (JSON.parse(row) as MachineRecord);
  }
  list(): MachineRecord[] {
    return [...this.rows.values()].map((r) => JSON.parse(r) as MachineRecord).sort(byCreation);
  }
  put(rec: MachineRecord): void {
    this.rows.set(rec.name, JSON.stringify(rec));
  }
  delete(name: string): boolean {
    return this.rows.delete(name);
  }
  listDue(now: number): MachineRecord[] {
    return this.list().filter((m) => {
      const due = nextDueAt(m);
      return due !== null && due <= now;
    });
  }
  nextDueAt(): number | null {
    let next: number | null = null;
    for (const m of this.list()) {
      const due = nextDueAt(m);
      if (due !== null && (next === null || due < next)) next = due;
    }
    return next;
  }
  clear(): void {
    this.rows.clear();
  }
}
