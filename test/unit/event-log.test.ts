// The watch resume log is bounded by count and by age in memory (kube's watch cache keeps 75 s):
// a resume from inside the window replays, one from before it is 410 Expired, and entries older than
// the window are released even when no write follows.
import { describe, expect, it } from "vitest";
import { MemoryPersistence } from "../../durable-objects/apiserver/memory-persistence.js";
import { ObjectStore } from "../../durable-objects/apiserver/store.js";

const key = (name: string) => ({ group: "", resource: "configmaps", namespace: "default", name });

describe("event log window", () => {
  it("drops entries older than the window, by the clock, and answers resumes from before it with undefined (410)", () => {
    let now = 0;
    const store = new ObjectStore(new MemoryPersistence(), 1000, 75_000, () => now);
    for (let i = 0; i < 10; i++) store.commit("ADDED", key(`a-${i}`), { metadata: { name: `a-${i}` } });
    now = 60_000;
    for (let i = 0; i < 5; i++) store.commit("ADDED", key(`b-${i}`), { metadata: { name: `b-${i}` } });
    expect(store.logEntries()).toHaveLength(15);
    expect(store.eventsSince(3)).toHaveLength(12);
    now = 80_000; // the first ten are 80 s old, the last five 20 s
    expect(store.eventsSince(3)).toBeUndefined();
    expect(store.eventsSince(10)).toHaveLength(5);
    expect(store.logEntries().map((e) => e.rv)).toEqual([11, 12, 13, 14, 15]);
    now = 200_000; // an idle cluster keeps nothing, and a client at the current rv still resumes
    expect(store.logEntries()).toEqual([]);
    expect(store.eventsSince(15)).toEqual([]);
    expect(store.eventsSince(14)).toBeUndefined();
  });

  it("still bounds the count, and without a window keeps entries however old", () => {
    let now = 0;
    const store = new ObjectStore(new MemoryPersistence(), 3, Infinity, () => now);
    for (let i = 0; i < 5; i++) store.commit("ADDED", key(`c-${i}`), { metadata: { name: `c-${i}` } });
    now = 10 ** 9;
    expect(store.logEntries().map((e) => e.rv)).toEqual([3, 4, 5]);
  });

  it("lets persistence drop what the log dropped, so a restart reads back only the window (and the counter)", () => {
    let now = 0;
    const persistence = new MemoryPersistence();
    const store = new ObjectStore(persistence, 1000, 75_000, () => now);
    for (let i = 0; i < 10; i++) store.commit("ADDED", key(`d-${i}`), { metadata: { name: `d-${i}` } });
    now = 80_000;
    store.commit("ADDED", key("e-0"), { metadata: { name: "e-0" } });
    const state = persistence.load();
    expect(state.events.map((e) => e.rv)).toEqual([11]);
    expect(state.objects).toHaveLength(11);
    const restarted = new ObjectStore(persistence, 1000, 75_000, () => now);
    expect(restarted.rv).toBe(11);
    expect(restarted.eventsSince(10)?.map((e) => e.rv)).toEqual([11]);
  });
});
