// Deletion with kube's semantics: preconditions, finalizers (deletionTimestamp until they are gone),
// propagation policies, garbage collection of dependents through ownerReferences, namespace termination
// and the cleanup that follows a CRD's removal.
import type { KindRegistry } from "./kinds.js";
import { isObject } from "./json.js";
import type { DeleteOptions } from "./objects.js";
import { cloneJson } from "./patch/merge.js";
import { errors } from "./status.js";
import type { ObjectStore } from "./store.js";
import { ApiError, type KindInfo, type KubeObject, type ObjectKey } from "./types.js";

const NS_KIND = { group: "", resource: "namespaces" };
const CRD_GROUP = "apiextensions.k8s.io";

export class ObjectDeletion {
  constructor(
    private readonly store: ObjectStore,
    private readonly registry: KindRegistry,
    private readonly timestamp: () => string,
  ) {}

  /** Delete by REST semantics. `deleted` is false when finalizers keep the object (deletionTimestamp set). */
  delete(kind: KindInfo, key: ObjectKey, opts: DeleteOptions = {}): { object: KubeObject; deleted: boolean } {
    const name = key.name;
    const existing = this.store.get(key);
    if (!existing) throw errors.notFound(kind.group, kind.resource, name);
    const em = existing.metadata!;
    const pre = opts.preconditions;
    if (pre?.uid && pre.uid !== em.uid) {
      throw errors.conflict(kind.group, kind.resource, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${em.uid}`);
    }
    if (pre?.resourceVersion && pre.resourceVersion !== em.resourceVersion) {
      throw errors.conflict(kind.group, kind.resource, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${em.resourceVersion}`);
    }
    const pending = (em.finalizers ?? []).length > 0 || (kind.group === "" && kind.resource === "namespaces");
    if (opts.dryRun) {
      return pending
        ? { object: { ...existing, metadata: { ...em, deletionTimestamp: em.deletionTimestamp ?? this.timestamp(), deletionGracePeriodSeconds: 0 } }, deleted: false }
        : { object: existing, deleted: true };
    }
    if (em.deletionTimestamp) {
      // Already terminating: nothing more to do until the finalizers go.
      return { object: existing, deleted: false };
    }
    const policy = opts.propagationPolicy ?? "Background";
    if (policy === "Orphan") this.orphanDependents(em.uid!);
    if (policy === "Foreground") this.cascade(em.uid!);

    if (kind.group === "" && kind.resource === "namespaces") return this.deleteNamespace(key, existing);
    if (pending) {
      const next = cloneJson(existing);
      next.metadata!.deletionTimestamp = this.timestamp();
      next.metadata!.deletionGracePeriodSeconds = 0;
      return { object: this.store.commit("MODIFIED", key, next), deleted: false };
    }
    return { object: this.remove(kind, key, cloneJson(existing)), deleted: true };
  }

  private deleteNamespace(key: ObjectKey, existing: KubeObject): { object: KubeObject; deleted: boolean } {
    const ns = key.name;
    const next = cloneJson(existing);
    next.metadata!.deletionTimestamp = this.timestamp();
    next.metadata!.deletionGracePeriodSeconds = 0;
    next.status = { ...(isObject(next.status) ? next.status : {}), phase: "Terminating" };
    let stored = this.store.commit("MODIFIED", key, next);
    for (const s of [...this.store.all()]) {
      if (s.key.namespace !== ns || s.key.resource === "namespaces") continue;
      const kind = this.registry.byGroupResource(s.key.group, s.key.resource);
      if (!kind || !this.store.get(s.key)) continue;
      this.delete(kind, s.key, {});
    }
    const removed = this.finishNamespaceIfEmpty(ns);
    if (removed) stored = removed;
    return { object: stored, deleted: !!removed };
  }

  /** A terminating namespace goes away once nothing is left in it (the namespace controller's job). */
  finishNamespaceIfEmpty(ns: string): KubeObject | undefined {
    const key = { ...NS_KIND, namespace: "", name: ns };
    const nsObj = this.store.get(key);
    if (!nsObj?.metadata?.deletionTimestamp || (nsObj.metadata.finalizers ?? []).length) return undefined;
    for (const s of this.store.all()) if (s.key.namespace === ns) return undefined;
    const nsKind = this.registry.byGroupResource("", "namespaces")!;
    const last = cloneJson(nsObj);
    last.spec = { ...(isObject(last.spec) ? last.spec : {}), finalizers: [] };
    return this.remove(nsKind, key, last);
  }

  /** Remove an object for good, then run what follows a removal (GC cascade, CRD/namespace cleanup). */
  remove(kind: KindInfo, key: ObjectKey, last: KubeObject): KubeObject {
    const stored = this.store.commit("DELETED", key, last);
    const uid = stored.metadata?.uid;
    if (kind.group === CRD_GROUP && kind.resource === "customresourcedefinitions") this.purgeCrd(stored);
    if (uid) this.cascade(uid);
    if (key.namespace && kind.resource !== "namespaces") this.finishNamespaceIfEmpty(key.namespace);
    return stored;
  }

  private purgeCrd(crd: KubeObject): void {
    const kind = this.registry.customFor(crd.metadata!.name!);
    this.registry.setCustom(crd.metadata!.name!, undefined);
    if (!kind) return;
    for (const s of this.store.list(kind.group, kind.resource)) {
      this.store.commit("DELETED", s.key, cloneJson(s.object));
    }
  }

  private dependentsOf(uid: string) {
    const out = [];
    for (const s of this.store.all()) {
      if ((s.object.metadata?.ownerReferences ?? []).some((r) => r.uid === uid)) out.push(s);
    }
    return out;
  }

  private uidExists(uid: string): boolean {
    for (const s of this.store.all()) if (s.object.metadata?.uid === uid) return true;
    return false;
  }

  /** Garbage collection of dependents of a removed owner: delete them, or drop the reference if other owners remain. */
  private cascade(ownerUid: string): void {
    for (const dep of this.dependentsOf(ownerUid)) {
      const current = this.store.get(dep.key);
      if (!current) continue;
      const kind = this.registry.byGroupResource(dep.key.group, dep.key.resource);
      if (!kind) continue;
      const refs = current.metadata?.ownerReferences ?? [];
      const others = refs.filter((r) => r.uid !== ownerUid && this.uidExists(r.uid));
      if (others.length) {
        const next = cloneJson(current);
        next.metadata!.ownerReferences = refs.filter((r) => r.uid !== ownerUid);
        this.store.commit("MODIFIED", dep.key, next);
      } else {
        try {
          this.delete(kind, dep.key, {});
        } catch (e) {
          if (!(e instanceof ApiError)) throw e;
        }
      }
    }
  }

  private orphanDependents(ownerUid: string): void {
    for (const dep of this.dependentsOf(ownerUid)) {
      const next = cloneJson(dep.object);
      const refs = (next.metadata!.ownerReferences ?? []).filter((r) => r.uid !== ownerUid);
      if (refs.length) next.metadata!.ownerReferences = refs;
      else delete next.metadata!.ownerReferences;
      this.store.commit("MODIFIED", dep.key, next);
    }
  }
}
