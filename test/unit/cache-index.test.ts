import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { CacheIndex } from "../../controller/cache-index.js";
import type { KubeObject } from "../../controller/kube.js";

/** An informer cache's event surface: objects by name, events as client-node emits them. */
function fakeCache(initial: KubeObject[] = []) {
  const events = new EventEmitter();
  const objects = new Map(initial.map((o) => [o.metadata.name, o]));
  return {
    on: (verb: "add" | "update" | "delete", cb: (o: KubeObject) => void) => void events.on(verb, cb),
    list: () => [...objects.values()],
    emit(verb: "add" | "update" | "delete", o: KubeObject) {
      if (verb === "delete") objects.delete(o.metadata.name);
      else objects.set(o.metadata.name, o);
      events.emit(verb, o);
    },
  };
}

const dm = (name: string, cluster?: string, ns = "default"): KubeObject =>
  ({ metadata: { name, namespace: ns, ...(cluster ? { labels: { cluster } } : {}) } }) as KubeObject;

describe("CacheIndex", () => {
  it("indexes what was cached before attaching and follows add, update and delete", () => {
    const cache = fakeCache([dm("a", "c1"), dm("b", "c2")]);
    const index = new CacheIndex((o) => [o.metadata.labels?.cluster]).attach(cache);
    expect(index.lookup("default", "c1")).toEqual(["a"]);
    cache.emit("add", dm("c", "c1"));
    expect(index.lookup("default", "c1").sort()).toEqual(["a", "c"]);
    cache.emit("update", dm("a", "c2"));
    expect(index.lookup("default", "c1")).toEqual(["c"]);
    expect(index.lookup("default", "c2").sort()).toEqual(["a", "b"]);
    cache.emit("update", dm("b"));
    expect(index.lookup("default", "c2")).toEqual(["a"]);
    cache.emit("delete", dm("a", "c2"));
    expect(index.count("default", "c2")).toBe(0);
    expect(index.lookup("default", "c2")).toEqual([]);
  });

  it("keeps namespaces apart", () => {
    const cache = fakeCache();
    const index = new CacheIndex((o) => [o.metadata.labels?.cluster]).attach(cache);
    cache.emit("add", dm("a", "c1", "ns1"));
    cache.emit("add", dm("a", "c1", "ns2"));
    cache.emit("delete", dm("a", "c1", "ns1"));
    expect(index.lookup("ns1", "c1")).toEqual([]);
    expect(index.lookup("ns2", "c1")).toEqual(["a"]);
  });
});
