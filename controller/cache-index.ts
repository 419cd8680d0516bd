// A reverse lookup over an informer cache, kept current by the informer's own events (what
// controller-runtime calls a field index): "the DevMachines of cluster X", "the DevMachines owned by
// Machine Y". Event handlers used to scan every cached DevMachine for each Cluster, Machine and
// DevCluster event, and the driver did the same per sync: quadratic in the number of machines.
import type { KubeObject } from "./kube.js";

/** The part of an informer cache an index reads. */
export interface IndexSource {
  on(verb: "add" | "update" | "delete", cb: (obj: KubeObject) => void): void;
  list(namespace?: string): readonly KubeObject[];
}

export class CacheIndex {
  /** `<namespace>/<value>` -> names of the objects indexed under it. */
  private readonly names = new Map<string, Set<string>>();
  /** `<namespace>/<name>` -> the values the object is indexed under now. */
  private readonly valuesOf = new Map<string, string[]>();

  /** `index` gives the values an object is found under (none: not indexed). */
  constructor(private readonly index: (o: KubeObject) => readonly (string | undefined)[]) {}

  /**
   * Follow a cache. Handlers run in the order they were added, so attach before the handlers that
   * read this index for the same informer; objects already cached are indexed now.
   */
  attach(source: IndexSource): this {
    source.on("add", (o) => this.put(o));
    source.on("update", (o) => this.put(o));
    source.on("delete", (o) => this.remove(o));
    for (const o of source.list()) this.put(o);
    return this;
  }

  /** Names of the objects in `namespace` indexed under `value`. */
  lookup(namespace: string, value: string): string[] {
    const s = this.names.get(`${namespace}/${value}`);
    return s ? [...s] : [];
  }

  /** How many objects in `namespace` are indexed under `value`. */
  count(namespace: string, value: string): number {
    return this.names.get(`${namespace}/${value}`)?.size ?? 0;
  }

  private put(o: KubeObject): void {
    const ns = o.metadata.namespace ?? "";
    const values = this.index(o).filter((v): v is string => v !== undefined);
    const key = `${ns}/${o.metadata.name}`;
    const before = this.valuesOf.get(key);
    if (before && before.length === values.length && before.every((v, i) => v === values[i])) return;
    this.remove(o);
    if (values.length === 0) return;
    this.valuesOf.set(key, values);
    for (const v of values) {
      const k = `${ns}/${v}`;
      let s = this.names.get(k);
      if (!s) this.names.set(k, (s = new Set()));
      s.add(o.metadata.name);
    }
  }

  private remove(o: KubeObject): void {
    const ns = o.metadata.namespace ?? "";
    const key = `${ns}/${o.metadata.name}`;
    for (const v of this.valuesOf.get(key) ?? []) {
      const k = `${ns}/${v}`;
      const s = this.names.get(k);
      s?.delete(o.metadata.name);
      if (s?.size === 0) this.names.delete(k);
    }
    this.valuesOf.delete(key);
  }
}
