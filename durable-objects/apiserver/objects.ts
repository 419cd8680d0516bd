// Object lifecycle semantics shared by the REST handlers and the system API: create, update (main,
// status, system), delete with finalizers, ownerReference cascade, namespace and CRD side effects.
// Every check runs before the first commit, so a rejected request changes nothing.
import { crdStatus, kindFromCrd, validateCrd } from "./crd.js";
import { ObjectDeletion } from "./deletion.js";
import { isObject } from "./json.js";
import { allowsCreateOnUpdate, groupVersion, type KindRegistry } from "./kinds.js";
import { decodeManagedFields, encodeManagedFields, recordUpdate, sameOwnership, type FieldScope, type ManagedFieldsEntry } from "./managed-fields.js";
import { cloneJson } from "./patch/merge.js";
import { strategicMergeKeysFor } from "./patch/strategic-keys.js";
import { errors } from "./status.js";
import type { ObjectStore } from "./store.js";
import type { KindInfo, KubeObject, ObjectKey, ObjectMeta } from "./types.js";
import { builtInMessage } from "./k8s-types.js";
import { typeErrors } from "./typed-fields.js";
import { invalidError, validateObjectMeta } from "./validation.js";

export type UpdateMode = "main" | "status" | "system";

/** Who writes (for metadata.managedFields). Without it a write records no ownership (system writes). */
export interface FieldOwnership {
  manager: string;
  /** apiVersion the client addressed. */
  apiVersion: string;
  /** Server-side apply: the entries patch/apply.ts computed, stored as they are. */
  applied?: ManagedFieldsEntry[];
}
export type Propagation = "Background" | "Foreground" | "Orphan";

export interface DeleteOptions {
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: Propagation;
  dryRun?: boolean;
}

const NS_KIND = { group: "", resource: "namespaces" };
const CRD_GROUP = "apiextensions.k8s.io";
const NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"; // kube's utilrand alphabet (no vowels: no words)


export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => deepEqual(x, bb[i]));
  }
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Everything but metadata and status: what a generation bump is about. */
function specPart(o: KubeObject): Record<string, unknown> {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = o;
  return rest;
}

function withoutRv(o: KubeObject): KubeObject {
  const { resourceVersion: _r, managedFields: _f, ...meta } = o.metadata ?? {};
  return { ...o, metadata: meta };
}

function utf8ToBase64(s: string): string {
  const bytes = new TextEncoder().encode(s);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

export class ObjectOps {
  private readonly deletion: ObjectDeletion;

  constructor(
    private readonly store: ObjectStore,
    private readonly registry: KindRegistry,
    private readonly now: () => Date,
    private readonly uuid: () => string,
  ) {
    this.deletion = new ObjectDeletion(store, registry, () => this.timestamp());
  }

  private stampSecond = NaN;
  private stamp = "";

  /** RFC 3339 in whole seconds (metav1.Time), formatted once per second: every write asks for it. */
  timestamp(): string {
    const second = Math.floor(this.now().getTime() / 1000);
    if (second !== this.stampSecond) {
      this.stampSecond = second;
      this.stamp = new Date(second * 1000).toISOString().replace(/\.\d+Z$/, "Z");
    }
    return this.stamp;
  }

  keyOf(kind: KindInfo, namespace: string, name: string): ObjectKey {
    return { group: kind.group, resource: kind.resource, namespace: kind.namespaced ? namespace : "", name };
  }

  get(kind: KindInfo, namespace: string, name: string): KubeObject | undefined {
    return this.store.get(this.keyOf(kind, namespace, name));
  }

  mustGet(kind: KindInfo, namespace: string, name: string): KubeObject {
    const o = this.get(kind, namespace, name);
    if (!o) throw errors.notFound(kind.group, kind.resource, name);
    return o;
  }

  /** A built-in kind's object must decode as its Go type (typed-fields.ts), or the write is a 422. */
  private checkTypes(kind: KindInfo, name: string, obj: KubeObject): void {
    if (kind.custom) return;
    const message = builtInMessage(this.storageApiVersion(kind), kind.kind);
    if (!message) return;
    const errs = typeErrors(message, obj);
    if (errs.length) throw invalidError(kind.group, kind.kind, name, errs);
  }

  storageApiVersion(kind: KindInfo): string {
    return groupVersion(kind.group, kind.versions[0]);
  }

  // ------------------------------------------------------------------------------------------
  // create

  /** Create `body` (already checked against the URL; namespace defaulted). Returns the stored object. */
  create(kind: KindInfo, namespace: string, body: KubeObject, dryRun = false, fields?: FieldOwnership): KubeObject {
    const meta: ObjectMeta = isObject(body.metadata) ? { ...body.metadata } : {};
    if (kind.namespaced) meta.namespace = namespace;
    else delete meta.namespace;
    for (const f of ["uid", "resourceVersion", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation", "selfLink", "managedFields"]) delete meta[f];
    const probe: KubeObject = { ...body, metadata: meta };
    this.checkTypes(kind, typeof meta.name === "string" ? meta.name : "", probe);
    const errs = validateObjectMeta(probe, kind);
    if (errs.length) throw invalidError(kind.group, kind.kind, typeof meta.name === "string" ? meta.name : "", errs);

    if (kind.namespaced) this.checkNamespaceWritable(kind, namespace, meta.name ?? meta.generateName ?? "");
    if (!meta.name) meta.name = this.generateName(kind, namespace, meta.generateName!);
    const name = meta.name;
    const key = this.keyOf(kind, namespace, name);
    if (this.store.get(key)) throw errors.alreadyExists(kind.group, kind.resource, name);

    meta.uid = this.uuid();
    meta.creationTimestamp = this.timestamp();
    meta.generation = 1;
    const obj: KubeObject = { ...body, apiVersion: this.storageApiVersion(kind), kind: kind.kind, metadata: meta };
    if (kind.custom && kind.hasStatusSubresource) delete obj.status; // status only via /status, as for CRs in kube
    this.defaultOnCreate(kind, obj);
    if (fields) {
      const entries = fields.applied ?? encodeManagedFields(recordUpdate([], undefined, obj, { manager: fields.manager, apiVersion: fields.apiVersion }, this.fieldScope(kind, "main"), this.timestamp()));
      if (entries.length) meta.managedFields = entries;
    }
    if (kind.group === CRD_GROUP && kind.resource === "customresourcedefinitions") return this.writeCrd(key, obj, undefined, dryRun);
    return dryRun ? obj : this.store.commit("ADDED", key, obj);
  }

  private defaultOnCreate(kind: KindInfo, obj: KubeObject): void {
    if (kind.group !== "") return;
    if (kind.resource === "namespaces") {
      obj.metadata!.labels = { ...(obj.metadata!.labels ?? {}), "kubernetes.io/metadata.name": obj.metadata!.name! };
      obj.spec = { finalizers: ["kubernetes"], ...(isObject(obj.spec) ? obj.spec : {}) };
      obj.status = { phase: "Active" };
    } else if (kind.resource === "secrets") {
      this.foldStringData(obj);
      if (!obj.type) obj.type = "Opaque";
    } else if (kind.resource === "pods" && obj.status === undefined) {
      obj.status = { phase: "Pending" };
    }
  }

  /** Secrets: stringData is write-only, merged into data as base64 (kube does this on every write). */
  private foldStringData(obj: KubeObject): void {
    if (!isObject(obj.stringData)) {
      delete obj.stringData;
      return;
    }
    const data: Record<string, unknown> = isObject(obj.data) ? { ...obj.data } : {};
    for (const [k, v] of Object.entries(obj.stringData)) data[k] = utf8ToBase64(String(v));
    obj.data = data;
    delete obj.stringData;
  }

  private generateName(kind: KindInfo, namespace: string, prefix: string): string {
    const rnd = new Uint8Array(5);
    for (let attempt = 0; attempt < 8; attempt++) {
      crypto.getRandomValues(rnd);
      const name = prefix + [...rnd].map((b) => NAME_CHARS[b % NAME_CHARS.length]).join("");
      if (!this.store.get(this.keyOf(kind, namespace, name))) return name;
    }
    throw errors.alreadyExists(kind.group, kind.resource, prefix);
  }

  private checkNamespaceWritable(kind: KindInfo, namespace: string, name: string): void {
    const ns = this.store.get({ ...NS_KIND, namespace: "", name: namespace });
    if (!ns) throw errors.notFound("", "namespaces", namespace);
    if (ns.metadata?.deletionTimestamp) {
      throw errors.forbidden(kind.group, kind.resource, name, `unable to create new content in namespace ${namespace} because it is being terminated`);
    }
  }

  // ------------------------------------------------------------------------------------------
  // update

  /**
   * Replace the object with `body`. `main` ignores status changes on kinds with a status
   * subresource, `status` changes only status, `system` takes everything. Returns the object and
   * whether it was created (create-on-update kinds, system upserts).
   */
  update(kind: KindInfo, namespace: string, name: string, body: KubeObject, mode: UpdateMode, dryRun = false, fields?: FieldOwnership): { object: KubeObject; created: boolean } {
    const key = this.keyOf(kind, namespace, name);
    const existing = this.store.get(key);
    const bodyMeta: ObjectMeta = isObject(body.metadata) ? body.metadata : {};
    if (!existing) {
      if (mode === "system" || (mode === "main" && allowsCreateOnUpdate(kind))) {
        const { resourceVersion: _rv, ...meta } = bodyMeta;
        return { object: this.create(kind, namespace, { ...body, metadata: { ...meta, name } }, dryRun, fields), created: true };
      }
      throw errors.notFound(kind.group, kind.resource, name);
    }
    const em = existing.metadata!;
    if (bodyMeta.resourceVersion !== undefined && bodyMeta.resourceVersion !== "" && String(bodyMeta.resourceVersion) !== em.resourceVersion) {
      throw errors.conflict(kind.group, kind.resource, name);
    }
    if (bodyMeta.uid !== undefined && bodyMeta.uid !== "" && bodyMeta.uid !== em.uid) {
      throw errors.conflict(kind.group, kind.resource, name, `Precondition failed: UID in precondition: ${String(bodyMeta.uid)}, UID in object meta: ${em.uid}`);
    }

    let next: KubeObject;
    if (mode === "status") {
      const { status: _old, ...rest } = existing;
      next = cloneJson(rest);
      if (body.status !== undefined) next.status = cloneJson(body.status);
    } else {
      next = { ...body, apiVersion: existing.apiVersion, kind: existing.kind };
      const meta: ObjectMeta = { ...bodyMeta };
      // Immutable / server-owned metadata comes from the stored object.
      for (const f of ["name", "namespace", "uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"]) {
        if (em[f] === undefined) delete meta[f];
        else meta[f] = em[f];
      }
      delete meta.resourceVersion;
      delete meta.managedFields;
      delete meta.selfLink;
      next.metadata = meta;
      if (mode === "main" && kind.hasStatusSubresource) {
        if (existing.status === undefined) delete next.status;
        else next.status = existing.status;
      }
      if (kind.group === "" && kind.resource === "secrets") this.foldStringData(next);
      if (kind.group === "" && kind.resource === "namespaces" && mode === "main") next.status = existing.status;
    }
    const meta = next.metadata!;
    this.checkTypes(kind, name, next);
    this.recordOwnership(kind, mode, existing, next, mode === "status" ? undefined : bodyMeta.managedFields, fields);
    const errs = validateObjectMeta(next, kind);
    if (em.deletionTimestamp) {
      const before = new Set(em.finalizers ?? []);
      if ((meta.finalizers ?? []).some((f) => !before.has(f))) {
        errs.push({ field: "metadata.finalizers", type: "FieldValueForbidden", message: "Forbidden: no new finalizers can be added if the object is being deleted" });
      }
    }
    if (errs.length) throw invalidError(kind.group, kind.kind, name, errs);
    meta.generation = (em.generation ?? 1) + (deepEqual(specPart(next), specPart(existing)) ? 0 : 1);
    if (meta.finalizers && meta.finalizers.length === 0) delete meta.finalizers;

    const isCrd = kind.group === CRD_GROUP && kind.resource === "customresourcedefinitions";
    if (isCrd && mode !== "status") {
      const causes = validateCrd(next);
      if (causes.length) throw errors.invalid(kind, name, causes);
      const prevSpec = (existing.spec ?? {}) as Record<string, unknown>;
      const nextSpec = (next.spec ?? {}) as Record<string, unknown>;
      if (prevSpec.group !== nextSpec.group) {
        throw invalidError(kind.group, kind.kind, name, [{ field: "spec.group", type: "FieldValueInvalid", message: "Invalid value: field is immutable" }]);
      }
    }
    if (deepEqual(withoutRv(next), withoutRv(existing)) && sameOwnership(meta.managedFields, em.managedFields)) return { object: existing, created: false }; // no-op: kube keeps the rv
    if (dryRun) return { object: { ...next, metadata: { ...meta, resourceVersion: em.resourceVersion } }, created: false };

    const isNamespace = kind.group === "" && kind.resource === "namespaces";
    if (em.deletionTimestamp && !(meta.finalizers ?? []).length && !isNamespace) {
      return { object: this.deletion.remove(kind, key, next), created: false };
    }
    if (isCrd && mode !== "status") return { object: this.writeCrd(key, next, existing, false), created: false };
    const stored = this.store.commit("MODIFIED", key, next);
    if (isNamespace && em.deletionTimestamp) return { object: this.deletion.finishNamespaceIfEmpty(name) ?? stored, created: false };
    return { object: stored, created: false };
  }

  /** What a write to this kind can own: status separately on kinds with a status subresource. */
  fieldScope(kind: KindInfo, mode: UpdateMode): FieldScope {
    return {
      mergeKeys: { ...strategicMergeKeysFor(kind.group, kind.kind), ...(kind.strategicMergeKeys ?? {}) },
      subresource: mode === "status" ? "status" : undefined,
      statusSeparate: kind.hasStatusSubresource,
    };
  }

  /**
   * metadata.managedFields of `next`: apply's precomputed entries, or an Update entry for the writer,
   * or the stored ones carried over. A client may replace them outright (kube takes a changed list
   * as given; an empty list clears them).
   */
  private recordOwnership(kind: KindInfo, mode: UpdateMode, existing: KubeObject, next: KubeObject, incoming: unknown, fields?: FieldOwnership): void {
    const meta = next.metadata!;
    let base = existing.metadata?.managedFields;
    if (Array.isArray(incoming) && !deepEqual(incoming, base)) {
      if (!incoming.length) {
        delete meta.managedFields;
        return;
      }
      base = incoming;
    }
    let entries: unknown[] | undefined = base;
    if (fields?.applied) entries = fields.applied;
    else if (fields) {
      const writer = { manager: fields.manager, apiVersion: fields.apiVersion, subresource: mode === "status" ? "status" : undefined };
      entries = encodeManagedFields(recordUpdate(decodeManagedFields(base), existing, next, writer, this.fieldScope(kind, mode), this.timestamp()));
    }
    if (entries?.length) meta.managedFields = entries;
    else delete meta.managedFields;
  }

  // ------------------------------------------------------------------------------------------
  // CRDs

  private writeCrd(key: ObjectKey, crd: KubeObject, previous: KubeObject | undefined, dryRun: boolean): KubeObject {
    const causes = validateCrd(crd);
    const crdKind = this.registry.byGroupResource(CRD_GROUP, "customresourcedefinitions")!;
    if (causes.length) throw errors.invalid(crdKind, crd.metadata?.name ?? "", causes);
    const kind = kindFromCrd(crd);
    const conflict = kind ? this.nameConflict(crd.metadata!.name!, kind) : "";
    crd.status = crdStatus(crd, !conflict, conflict, this.timestamp(), previous);
    if (dryRun) return crd;
    const stored = this.store.commit(previous ? "MODIFIED" : "ADDED", key, crd);
    this.registry.setCustom(crd.metadata!.name!, conflict ? undefined : kind);
    return stored;
  }

  private nameConflict(crdName: string, kind: KindInfo): string {
    if (this.registry.isBuiltin(kind.group, kind.resource)) return `"${kind.resource}" is already in use`;
    for (const k of this.registry.all()) {
      if (!k.custom || k.group !== kind.group || this.registry.customFor(crdName) === k) continue;
      if (k.resource === kind.resource) return `"${kind.resource}" is already in use`;
      if (k.kind === kind.kind) return `"${kind.kind}" is already in use`;
    }
    return "";
  }

  /** Rebuild the registry from stored CRDs (after a restart). */
  registerStoredCrds(): void {
    const crds = this.store.list(CRD_GROUP, "customresourcedefinitions").map((s) => s.object);
    crds.sort((a, b) => String(a.metadata?.creationTimestamp).localeCompare(String(b.metadata?.creationTimestamp)));
    for (const crd of crds) {
      if (crd.metadata?.deletionTimestamp || validateCrd(crd).length) continue;
      const kind = kindFromCrd(crd);
      if (kind && !this.nameConflict(crd.metadata!.name!, kind)) this.registry.setCustom(crd.metadata!.name!, kind);
    }
  }

  // ------------------------------------------------------------------------------------------
  // delete (deletion.ts)

  /** Delete by REST semantics. `deleted` is false when finalizers keep the object (deletionTimestamp set). */
  delete(kind: KindInfo, namespace: string, name: string, opts: DeleteOptions = {}): { object: KubeObject; deleted: boolean } {
    return this.deletion.delete(kind, this.keyOf(kind, namespace, name), opts);
  }
}
