// The runtime-agnostic fake kube-apiserver: REST + watch over Request/Response for one cluster.
// State lives in memory (ObjectStore), written through to Persistence before any response.
import { decodeBody, decodeObject, mediaType, objectBodyFormat, readBodyBytes, readBodyText, utf8 } from "./body.js";
import { decodeProtobufObject } from "./protobuf.js";
import { handleDiscovery } from "./discovery.js";
import { groupVersion, KindRegistry } from "./kinds.js";
import { isObject, ObjectOps, type DeleteOptions, type FieldOwnership, type Propagation, type UpdateMode } from "./objects.js";
import { managerFor } from "./managed-fields.js";
import { serverSideApply } from "./patch/apply.js";
import { applyJsonPatch } from "./patch/json.js";
import { applyMergePatch, cloneJson } from "./patch/merge.js";
import { applyStrategicMergePatch } from "./patch/strategic.js";
import { strategicMergeKeysFor } from "./patch/strategic-keys.js";
import { parseResourcePath, type ResourcePath } from "./router.js";
import {
  labelSelectorFromMeta,
  matchesFieldSelector,
  matchesLabelSelector,
  parseFieldSelector,
  parseLabelSelector,
  type FieldSelector,
  type LabelSelector,
} from "./selectors.js";
import { errorResponse, errors, jsonResponse, jsonTextResponse, statusBody, successStatus } from "./status.js";
import { jsonAt, relabel } from "./object-json.js";
import { ObjectStore } from "./store.js";
import { builtinPrinter, crdPrinter, includeObjectParam, toTable, wantsTable, type TablePrinter } from "./table.js";
import { ApiError, type ApiServerOptions, type KindInfo, type KubeObject } from "./types.js";
import { invalidError } from "./validation.js";
import { replay, WatchHub, type OutType } from "./watch.js";

const DEFAULT_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"];

interface Req {
  request: Request;
  url: URL;
  q: URLSearchParams;
  path: ResourcePath;
  kind: KindInfo;
  /** apiVersion the client addressed (objects are relabelled to it). */
  gv: string;
  table: boolean;
}

interface ContinueToken {
  rv: number;
  start: string;
}

export class ApiServer {
  private readonly store: ObjectStore;
  private readonly registry = new KindRegistry();
  private readonly ops: ObjectOps;
  private readonly hub: WatchHub;
  private readonly maxBodyBytes: number;
  private readonly now: () => Date;
  private readonly gitVersion: string;

  constructor(private readonly opts: ApiServerOptions) {
    this.maxBodyBytes = opts.maxBodyBytes ?? 3 * 1024 * 1024;
    this.now = opts.now ?? (() => new Date());
    this.gitVersion = opts.kubernetesVersion ?? "v1.31.0";
    this.store = new ObjectStore(opts.persistence, opts.eventLogSize ?? 1000);
    this.ops = new ObjectOps(this.store, this.registry, this.now, opts.randomUUID ?? (() => crypto.randomUUID()));
    this.hub = new WatchHub(opts.watchHeartbeatMs ?? 10_000, () => this.store.rv);
    this.store.onChange((ev, prev) => this.hub.publish(ev, prev));
    this.ops.registerStoredCrds();
    if (this.store.rv === 0) {
      const ns = this.registry.byGroupResource("", "namespaces")!;
      for (const name of DEFAULT_NAMESPACES) this.ops.create(ns, "", { metadata: { name } });
    }
  }

  get resourceVersion(): number {
    return this.store.rv;
  }

  kinds(): KindInfo[] {
    return this.registry.all();
  }

  /** Number of open watch streams (for metrics and tests). */
  get watchCount(): number {
    return this.hub.size;
  }

  // ------------------------------------------------------------------------------------------
  // System access (no HTTP): same semantics and watch events as the REST path.

  getObject(apiVersion: string, kind: string, namespace: string, name: string): KubeObject | undefined {
    const k = this.kindOf(apiVersion, kind);
    const o = this.ops.get(k, namespace, name);
    return o && relabel(cloneJson(o), apiVersion);
  }

  upsertObject(obj: KubeObject): KubeObject {
    const k = this.kindOf(obj.apiVersion ?? "", obj.kind ?? "");
    const name = obj.metadata?.name;
    if (!name) throw errors.badRequest("upsertObject needs metadata.name");
    const ns = k.namespaced ? (obj.metadata?.namespace ?? "default") : "";
    const body = cloneJson(obj);
    if (body.metadata) delete body.metadata.resourceVersion; // system writes are unconditional
    const { object } = this.ops.update(k, ns, name, body, "system");
    return relabel(cloneJson(object), obj.apiVersion!);
  }

  deleteObject(apiVersion: string, kind: string, namespace: string, name: string): boolean {
    const k = this.kindOf(apiVersion, kind);
    if (!this.ops.get(k, namespace, name)) return false;
    this.ops.delete(k, namespace, name, {});
    return true;
  }

  listObjects(apiVersion: string, kind: string, namespace?: string, labelSelector?: string): KubeObject[] {
    const k = this.kindOf(apiVersion, kind);
    const sel = labelSelector ? parseLabelSelector(labelSelector) : undefined;
    return this.store
      .list(k.group, k.resource, k.namespaced ? namespace : undefined)
      .filter((s) => !sel || matchesLabelSelector(sel, s.object.metadata?.labels))
      .map((s) => relabel(cloneJson(s.object), apiVersion));
  }

  countObjects(): number {
    return this.store.count();
  }

  closeWatches(): void {
    this.hub.closeAll();
  }

  private kindOf(apiVersion: string, kind: string): KindInfo {
    const k = this.registry.fromApiVersionKind(apiVersion, kind);
    if (!k) throw new ApiError(404, "NotFound", `no matches for kind "${kind}" in version "${apiVersion}"`);
    return k;
  }

  // ------------------------------------------------------------------------------------------
  // HTTP

  async handle(request: Request): Promise<Response> {
    try {
      return await this.route(request);
    } catch (e) {
      if (e instanceof ApiError) return errorResponse(e);
      // Never leak a stack; all checks ran before any commit, so state is unchanged.
      return errorResponse(errors.internal());
    }
  }

  private async route(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const discovery = handleDiscovery(url, request.headers, this.kinds(), { gitVersion: this.gitVersion });
    if (discovery) return discovery;
    const path = parseResourcePath(url.pathname);
    if (!path) throw errors.noResource();
    const kind = this.registry.lookup(path.group, path.version, path.resource);
    if (!kind) throw errors.noResource();
    if (path.namespace && !kind.namespaced) throw errors.noResource();
    if (path.subresource && !kind.subresources.includes(path.subresource)) throw errors.noResource();
    this.checkAccept(request.headers.get("accept"));
    const req: Req = {
      request,
      url,
      q: url.searchParams,
      path,
      kind,
      gv: groupVersion(path.group, path.version),
      table: wantsTable(request.headers.get("accept")),
    };
    const method = request.method.toUpperCase();
    const { name, subresource } = path;
    if (path.watchPath) {
      if (method !== "GET" || subresource) throw errors.methodNotAllowed();
      return this.watch(req);
    }
    if (name === undefined) {
      if (method === "GET") return this.isWatch(req.q) ? this.watch(req) : this.list(req);
      if (method === "POST") return this.create(req);
      if (method === "DELETE") return this.deleteCollection(req);
      throw errors.methodNotAllowed();
    }
    if (subresource === "eviction") {
      if (method !== "POST") throw errors.methodNotAllowed();
      return this.evict(req, name);
    }
    if (subresource && subresource !== "status") throw errors.methodNotAllowed();
    if (method === "GET") return this.isWatch(req.q) && !subresource ? this.watch(req) : this.get(req, name);
    if (method === "PUT") return this.update(req, name, subresource === "status" ? "status" : "main");
    if (method === "PATCH") return this.patch(req, name, subresource === "status" ? "status" : "main");
    if (method === "DELETE" && !subresource) return this.delete(req, name);
    throw errors.methodNotAllowed();
  }

  /** JSON is the only representation served; a client that accepts nothing JSON-like gets 406. */
  private checkAccept(accept: string | null): void {
    if (!accept) return;
    const types = accept.split(",").map((t) => mediaType(t));
    if (types.some((t) => t === "" || t === "*/*" || t === "application/*" || t === "application/json" || t.endsWith("+json"))) return;
    throw errors.notAcceptable(accept.slice(0, 200));
  }

  private isWatch(q: URLSearchParams): boolean {
    const w = q.get("watch");
    return w === "true" || w === "1";
  }

  private namespaceFor(req: Req): string {
    return req.kind.namespaced ? req.path.namespace : "";
  }

  private dryRun(q: URLSearchParams): boolean {
    const values = q.getAll("dryRun");
    for (const v of values) if (v !== "All") throw errors.badRequest(`dryRun: Unsupported value: "${v}": supported values: "All"`);
    return values.length > 0;
  }

  private respondObject(req: Req, code: number, obj: KubeObject): Response {
    if (!req.table) return jsonTextResponse(code, jsonAt(obj, req.gv));
    const out = relabel(obj, req.gv);
    return jsonResponse(code, toTable([out], { resourceVersion: out.metadata?.resourceVersion }, includeObjectParam(req.q.get("includeObject")), (o) => o, this.now(), true, this.tablePrinter(req)));
  }

  /** Table columns: kube's printer for built-in kinds, the CRD's additionalPrinterColumns for custom ones. */
  private tablePrinter(req: Req): TablePrinter {
    const { kind } = req;
    if (!kind.custom) return builtinPrinter(kind.group, kind.resource);
    const crd = this.store.get({ group: "apiextensions.k8s.io", resource: "customresourcedefinitions", namespace: "", name: `${kind.resource}.${kind.group}` });
    return crdPrinter(crd, req.path.version);
  }

  /** Decode a create/update body and check it against the URL (apiVersion, kind, name, namespace). */
  private async readObject(req: Req, name?: string): Promise<KubeObject> {
    return this.checkBody(req, (await this.readAnyBody(req)) as KubeObject, name);
  }

  /** A JSON, YAML or (for the kinds kubectl sends that way) protobuf object body. */
  private async readAnyBody(req: Req): Promise<Record<string, unknown>> {
    const format = objectBodyFormat(req.request.headers.get("content-type"));
    if (format === "protobuf") return decodeProtobufObject(await readBodyBytes(req.request, this.maxBodyBytes));
    return decodeObject(await readBodyText(req.request, this.maxBodyBytes), format);
  }

  private checkBody(req: Req, body: KubeObject, name?: string): KubeObject {
    const { kind } = req;
    if (body.apiVersion !== undefined && body.apiVersion !== req.gv) {
      throw errors.badRequest(`the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${req.gv})`);
    }
    if (body.kind !== undefined && body.kind !== kind.kind) {
      throw errors.badRequest(`the kind in the data (${String(body.kind)}) does not match the expected kind (${kind.kind})`);
    }
    if (body.metadata !== undefined && !isObject(body.metadata)) throw errors.badRequest("metadata must be an object");
    const meta = (body.metadata ?? {}) as Record<string, unknown>;
    for (const f of ["name", "namespace", "generateName", "resourceVersion", "uid"]) {
      if (meta[f] !== undefined && typeof meta[f] !== "string") throw errors.badRequest(`metadata.${f} must be a string`);
    }
    if (name !== undefined && meta.name !== undefined && meta.name !== "" && meta.name !== name) {
      throw errors.badRequest(`the name of the object (${String(meta.name)}) does not match the name on the URL (${name})`);
    }
    if (kind.namespaced && meta.namespace !== undefined && meta.namespace !== "" && meta.namespace !== req.path.namespace) {
      throw errors.badRequest("the namespace of the provided object does not match the namespace sent on the request");
    }
    return { ...body, metadata: { ...meta, ...(name !== undefined ? { name } : {}) } };
  }

  // ---- get / list ---------------------------------------------------------------------------

  private get(req: Req, name: string): Response {
    this.checkRvParam(req.q);
    return this.respondObject(req, 200, this.ops.mustGet(req.kind, this.namespaceFor(req), name));
  }

  private selectors(req: Req): (o: KubeObject) => boolean {
    const ls = req.q.get("labelSelector");
    const fs = req.q.get("fieldSelector");
    const label: LabelSelector | undefined = ls ? parseLabelSelector(ls) : undefined;
    const field: FieldSelector | undefined = fs ? parseFieldSelector(fs, req.kind.group, req.kind.resource) : undefined;
    const ns = this.namespaceFor(req);
    const name = req.path.name;
    return (o) =>
      (!ns || o.metadata?.namespace === ns) &&
      (name === undefined || o.metadata?.name === name) &&
      (!label || matchesLabelSelector(label, o.metadata?.labels)) &&
      (!field || matchesFieldSelector(field, o));
  }

  private parseContinue(token: string): ContinueToken {
    let t: unknown;
    try {
      t = JSON.parse(atob(token.replace(/-/g, "+").replace(/_/g, "/")));
    } catch {
      throw errors.badRequest("continue key is not valid: illegal base64 data");
    }
    if (!isObject(t) || t.v !== "meta.k8s.io/v1" || typeof t.rv !== "number" || typeof t.start !== "string") {
      throw errors.badRequest("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)");
    }
    // Tokens are only honoured while the log still covers their rv (kube: until compaction).
    if (t.rv > this.store.rv || this.store.eventsSince(t.rv) === undefined) {
      throw errors.expired(
        "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
      );
    }
    return { rv: t.rv, start: t.start };
  }

  private intParam(q: URLSearchParams, name: string): number | undefined {
    const v = q.get(name);
    if (v === null || v === "") return undefined;
    if (!/^\d{1,15}$/.test(v)) throw errors.badRequest(`invalid value for ${name}: ${JSON.stringify(v.slice(0, 50))}`);
    return Number(v);
  }

  private checkRvParam(q: URLSearchParams): void {
    const rv = q.get("resourceVersion");
    if (rv && !/^\d{1,15}$/.test(rv)) throw errors.badRequest(`resourceVersion: Invalid value: ${JSON.stringify(rv.slice(0, 50))}: must be a non-negative integer`);
    const m = q.get("resourceVersionMatch");
    if (m && m !== "NotOlderThan" && m !== "Exact") throw errors.badRequest(`resourceVersionMatch: Unsupported value: ${JSON.stringify(m.slice(0, 50))}: supported values: "Exact", "NotOlderThan"`);
    if (m && !rv) throw errors.badRequest("resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided");
  }

  private list(req: Req): Response {
    this.checkRvParam(req.q);
    const matches = this.selectors(req);
    const limit = this.intParam(req.q, "limit");
    const cont = req.q.get("continue");
    const token = cont ? this.parseContinue(cont) : undefined;
    const keyOf = (o: KubeObject) => `${o.metadata?.namespace ?? ""}\u0000${o.metadata?.name ?? ""}`;
    let items = this.store
      .list(req.kind.group, req.kind.resource, this.namespaceFor(req))
      .map((s) => s.object)
      .filter(matches);
    if (token) items = items.filter((o) => keyOf(o) > token.start);
    const rv = this.store.rv;
    const listMeta: Record<string, unknown> = { resourceVersion: String(rv) };
    if (limit && items.length > limit) {
      const page = items.slice(0, limit);
      listMeta.continue = btoa(JSON.stringify({ v: "meta.k8s.io/v1", rv: token?.rv ?? rv, start: keyOf(page[page.length - 1]) }));
      listMeta.remainingItemCount = items.length - limit;
      items = page;
    }
    const out = items.map((o) => relabel(o, req.gv));
    if (req.table) return jsonResponse(200, toTable(out, listMeta, includeObjectParam(req.q.get("includeObject")), (o) => o, this.now(), true, this.tablePrinter(req)));
    return jsonResponse(200, { kind: req.kind.listKind, apiVersion: req.gv, metadata: listMeta, items: out });
  }

  // ---- watch --------------------------------------------------------------------------------

  private watch(req: Req): Response {
    const q = req.q;
    const matches = this.selectors(req);
    const timeoutSeconds = this.intParam(q, "timeoutSeconds");
    const allowBookmarks = q.get("allowWatchBookmarks") === "true";
    const rvText = q.get("resourceVersion") ?? "";
    if (rvText && !/^\d{1,15}$/.test(rvText)) throw errors.badRequest(`resourceVersion: Invalid value: ${JSON.stringify(rvText.slice(0, 50))}: must be a non-negative integer`);
    const rvMatch = q.get("resourceVersionMatch");
    const sendInitial = q.get("sendInitialEvents");
    if (sendInitial !== null && sendInitial !== "true" && sendInitial !== "false") throw errors.badRequest(`sendInitialEvents: Invalid value: ${JSON.stringify(sendInitial.slice(0, 20))}`);
    if (sendInitial !== null && rvMatch !== "NotOlderThan") {
      throw errors.invalid(req.kind, "", [{ reason: "FieldValueForbidden", field: "sendInitialEvents", message: "Forbidden: sendInitialEvents is forbidden for watch unless resourceVersionMatch is set to NotOlderThan" }]);
    }
    if (sendInitial === null && rvMatch) {
      throw errors.invalid(req.kind, "", [{ reason: "FieldValueForbidden", field: "resourceVersionMatch", message: "Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided" }]);
    }
    if (sendInitial === "true" && !allowBookmarks) {
      throw errors.invalid(req.kind, "", [{ reason: "FieldValueForbidden", field: "allowWatchBookmarks", message: "Forbidden: allowWatchBookmarks must be set to true when sendInitialEvents is true" }]);
    }

    const group = req.kind.group;
    const resource = req.kind.resource;
    const current = () => this.store.list(group, resource, this.namespaceFor(req)).map((s) => s.object).filter(matches);
    let initial: Array<{ type: OutType; object: KubeObject }>;
    if (sendInitial === "true" || (sendInitial === null && (rvText === "" || rvText === "0"))) {
      initial = current().map((object) => ({ type: "ADDED" as const, object }));
    } else if (rvText === "" || rvText === "0") {
      initial = [];
    } else {
      const since = Number(rvText);
      if (this.store.eventsSince(since) === undefined) {
        const oldest = this.store.logEntries()[0]?.rv ?? this.store.rv;
        return this.hub.openError(statusBody(410, "Expired", `too old resource version: ${since} (${oldest - 1})`));
      }
      initial = replay(this.store.logEntries(), since, group, resource, matches);
    }

    const gv = req.gv;
    const kindName = req.kind.kind;
    const include = includeObjectParam(q.get("includeObject"));
    let first = true;
    const printer = req.table ? this.tablePrinter(req) : undefined;
    const render = (obj: KubeObject): unknown => {
      const out = relabel(obj, gv);
      if (!req.table) return out;
      const t = toTable([out], { resourceVersion: out.metadata?.resourceVersion }, include, (o) => o, this.now(), first, printer);
      first = false;
      return t;
    };
    return this.hub.open({
      group,
      resource,
      matches,
      render,
      encodingKey: req.table ? undefined : gv,
      ...(req.table ? {} : { renderJson: (obj: KubeObject) => jsonAt(obj, gv) }),
      bookmark: (rv, end) => ({
        kind: kindName,
        apiVersion: gv,
        metadata: { resourceVersion: String(rv), ...(end ? { annotations: { "k8s.io/initial-events-end": "true" } } : {}) },
      }),
      allowBookmarks,
      initial,
      initialEventsEnd: sendInitial === "true",
      timeoutMs: timeoutSeconds !== undefined ? timeoutSeconds * 1000 : undefined,
    });
  }

  // ---- create / update / patch -------------------------------------------------------------

  private async create(req: Req): Promise<Response> {
    if (req.kind.namespaced && !req.path.namespace) throw errors.methodNotAllowed();
    const body = await this.readObject(req);
    const obj = this.ops.create(req.kind, this.namespaceFor(req), body, this.dryRun(req.q), this.writer(req));
    return this.respondObject(req, 201, obj);
  }

  private async update(req: Req, name: string, mode: UpdateMode): Promise<Response> {
    const body = await this.readObject(req, name);
    const { object, created } = this.ops.update(req.kind, this.namespaceFor(req), name, body, mode, this.dryRun(req.q), this.writer(req));
    return this.respondObject(req, created ? 201 : 200, object);
  }

  /** The field manager of a non-apply write: ?fieldManager=, else the user agent's program name (kube's default). */
  private writer(req: Req): FieldOwnership {
    return { manager: managerFor(this.fieldManager(req), req.request.headers.get("user-agent")), apiVersion: req.gv };
  }

  /** ?fieldManager=, checked as kube's ValidateFieldManager does (at most 128 printable characters). */
  private fieldManager(req: Req): string | null {
    const fm = req.q.get("fieldManager");
    if (fm === null) return null;
    const options = req.request.method === "PATCH" ? "PatchOptions" : req.request.method === "PUT" ? "UpdateOptions" : "CreateOptions";
    const fail = (reason: string, message: string) =>
      invalidError("meta.k8s.io", options, "", [{ field: "fieldManager", type: reason, message }]);
    if (fm.length > 128) throw fail("FieldValueTooLong", "Too long: may not be more than 128 bytes");
    if (/[^\x20-\x7e]/.test(fm)) throw fail("FieldValueInvalid", `Invalid value: ${JSON.stringify(fm.slice(0, 50))}: must only contain printable characters`);
    return fm;
  }

  private async patch(req: Req, name: string, mode: UpdateMode): Promise<Response> {
    const ct = mediaType(req.request.headers.get("content-type"));
    const { kind } = req;
    const ns = this.namespaceFor(req);
    const dryRun = this.dryRun(req.q);
    const kinds = ["application/merge-patch+json", "application/strategic-merge-patch+json", "application/json-patch+json", "application/apply-patch+yaml"];
    if (!kinds.includes(ct)) throw errors.unsupportedMediaType(ct);
    if (ct === "application/strategic-merge-patch+json" && kind.custom) {
      throw new ApiError(415, "UnsupportedMediaType", `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`);
    }
    const text = await readBodyText(req.request, this.maxBodyBytes);
    // Read the live object only after the body has arrived: no await may separate this read from the
    // write below, or a concurrent write would make a patch without resourceVersion look stale (409).
    const existing = this.ops.get(kind, ns, name);
    if (!existing && ct !== "application/apply-patch+yaml") throw errors.notFound(kind.group, kind.resource, name);
    // Not cloned: the patch functions never mutate their inputs and return fresh objects.
    const base = existing ? relabel(existing, req.gv) : undefined;
    const mergeKeys = () => ({ ...strategicMergeKeysFor(kind.group, kind.kind), ...(kind.strategicMergeKeys ?? {}) });
    let result: unknown;
    let fields = this.writer(req);
    switch (ct) {
      case "application/merge-patch+json": {
        const p = decodeBody(text, "json");
        if (!isObject(p)) throw errors.badRequest("a merge patch must be a JSON object");
        result = applyMergePatch(base, p);
        break;
      }
      case "application/strategic-merge-patch+json": {
        const p = decodeBody(text, "json");
        if (!isObject(p)) throw errors.badRequest("a strategic merge patch must be a JSON object");
        result = applyStrategicMergePatch(base, p, mergeKeys());
        break;
      }
      case "application/json-patch+json":
        result = applyJsonPatch(base, decodeBody(text, "json"));
        break;
      default: {
        const fm = this.fieldManager(req);
        if (!fm) {
          throw errors.invalid(kind, name, [{ reason: "FieldValueRequired", field: "fieldManager", message: "Required value: is required for apply patch" }]);
        }
        const applied = this.checkBody(req, decodeObject(text, "yaml") as KubeObject, name);
        if (applied.apiVersion === undefined || applied.kind === undefined) {
          throw errors.badRequest("apiVersion and kind must be set in an apply patch");
        }
        const force = req.q.get("force") === "true";
        const applyReq = { manager: fm, apiVersion: req.gv, force, time: this.ops.timestamp(), scope: this.ops.fieldScope(kind, mode) };
        const out = serverSideApply(base, applied, mergeKeys(), applyReq);
        result = out.object;
        fields = { manager: fm, apiVersion: req.gv, applied: out.managedFields };
      }
    }
    if (!isObject(result)) throw errors.badRequest("the patch did not produce an object");
    const patched = this.checkBody(req, result as KubeObject, name);
    // A patch that removes metadata (or its name) would otherwise be refilled from the stored object;
    // kube refuses it as an update of the immutable name.
    if (existing && (!isObject(result.metadata) || !result.metadata.name)) {
      throw invalidError(kind.group, kind.kind, name, [{ field: "metadata.name", type: "FieldValueInvalid", message: 'Invalid value: "": field is immutable' }]);
    }
    if (existing) {
      const prv = patched.metadata?.resourceVersion;
      if (prv !== undefined && prv !== existing.metadata?.resourceVersion) throw errors.conflict(kind.group, kind.resource, name);
    }
    if (!existing) {
      if (kind.namespaced && !req.path.namespace) throw errors.methodNotAllowed();
      return this.respondObject(req, 201, this.ops.create(kind, ns, patched, dryRun, fields));
    }
    const { object } = this.ops.update(kind, ns, name, patched, mode, dryRun, fields);
    return this.respondObject(req, 200, object);
  }

  // ---- delete / eviction --------------------------------------------------------------------

  private async deleteOptions(req: Req): Promise<DeleteOptions> {
    const opts: DeleteOptions = { dryRun: this.dryRun(req.q) };
    let policy: unknown = req.q.get("propagationPolicy") ?? undefined;
    const bytes = req.request.body ? await readBodyBytes(req.request, this.maxBodyBytes) : new Uint8Array();
    const format = objectBodyFormat(req.request.headers.get("content-type"));
    const text = format === "protobuf" ? "" : utf8(bytes);
    if (format === "protobuf" ? bytes.length > 0 : text.trim() !== "") {
      const body = format === "protobuf" ? decodeProtobufObject(bytes) : decodeObject(text, format);
      if (body.kind !== undefined && body.kind !== "DeleteOptions") throw errors.badRequest(`the kind in the data (${String(body.kind)}) does not match the expected kind (DeleteOptions)`);
      if (body.propagationPolicy !== undefined) policy = body.propagationPolicy;
      else if (body.orphanDependents === true) policy = "Orphan";
      if (body.preconditions !== undefined) {
        if (!isObject(body.preconditions)) throw errors.badRequest("preconditions must be an object");
        const p = body.preconditions;
        opts.preconditions = {
          uid: typeof p.uid === "string" ? p.uid : undefined,
          resourceVersion: typeof p.resourceVersion === "string" ? p.resourceVersion : undefined,
        };
      }
      if (Array.isArray(body.dryRun) && body.dryRun.length) {
        if (body.dryRun.some((v) => v !== "All")) throw errors.badRequest('dryRun: Unsupported value: supported values: "All"');
        opts.dryRun = true;
      }
    } else if (req.q.get("orphanDependents") === "true" && policy === undefined) policy = "Orphan";
    if (policy !== undefined) {
      if (policy !== "Background" && policy !== "Foreground" && policy !== "Orphan") {
        throw errors.invalid(req.kind, req.path.name ?? "", [{ reason: "FieldValueNotSupported", field: "propagationPolicy", message: `Unsupported value: ${JSON.stringify(String(policy).slice(0, 50))}: supported values: "Foreground", "Background", "Orphan"` }]);
      }
      opts.propagationPolicy = policy as Propagation;
    }
    return opts;
  }

  /** Kinds whose DELETE answers with the object rather than a Status (kube's ReturnDeletedObject). */
  private returnsDeletedObject(kind: KindInfo): boolean {
    return !!kind.custom || (kind.group === "" && (kind.resource === "pods" || kind.resource === "services" || kind.resource === "namespaces"));
  }

  private async delete(req: Req, name: string): Promise<Response> {
    const opts = await this.deleteOptions(req);
    const { object, deleted } = this.ops.delete(req.kind, this.namespaceFor(req), name, opts);
    if (deleted && !this.returnsDeletedObject(req.kind)) {
      return jsonResponse(200, successStatus(200, { name, group: req.kind.group, kind: req.kind.resource, uid: object.metadata?.uid }));
    }
    return this.respondObject(req, 200, object);
  }

  private async deleteCollection(req: Req): Promise<Response> {
    // The list options are checked as for a list: a malformed one must not widen the deletion to all.
    this.checkRvParam(req.q);
    this.intParam(req.q, "limit");
    this.intParam(req.q, "timeoutSeconds");
    const cont = req.q.get("continue");
    if (cont) this.parseContinue(cont);
    const opts = await this.deleteOptions(req);
    const matches = this.selectors(req);
    const items = this.store
      .list(req.kind.group, req.kind.resource, this.namespaceFor(req))
      .map((s) => s.object)
      .filter(matches);
    const out: KubeObject[] = [];
    for (const o of items) {
      const m = o.metadata!;
      if (!this.ops.get(req.kind, m.namespace ?? "", m.name!)) continue; // gone through a cascade
      out.push(relabel(this.ops.delete(req.kind, m.namespace ?? "", m.name!, opts).object, req.gv));
    }
    return jsonResponse(200, { kind: req.kind.listKind, apiVersion: req.gv, metadata: { resourceVersion: String(this.store.rv) }, items: out });
  }

  /** POST pods/<p>/eviction: honours PodDisruptionBudgets' disruptionsAllowed, then deletes the pod. */
  private async evict(req: Req, name: string): Promise<Response> {
    const body = await this.readAnyBody(req);
    if (body.kind !== undefined && body.kind !== "Eviction") throw errors.badRequest(`the kind in the data (${String(body.kind)}) does not match the expected kind (Eviction)`);
    if (body.apiVersion !== undefined && body.apiVersion !== "policy/v1" && body.apiVersion !== "policy/v1beta1") {
      throw errors.badRequest(`the API version in the data (${String(body.apiVersion)}) does not match the expected API version (policy/v1)`);
    }
    const meta = isObject(body.metadata) ? body.metadata : {};
    if (meta.name !== undefined && meta.name !== name) {
      throw errors.badRequest(`name in URL does not match name in Eviction object`);
    }
    const ns = req.path.namespace;
    const pod = this.ops.mustGet(req.kind, ns, name);
    const opts: DeleteOptions = { dryRun: this.dryRun(req.q) };
    if (isObject(body.deleteOptions)) {
      const d = body.deleteOptions;
      if (isObject(d.preconditions)) {
        opts.preconditions = {
          uid: typeof d.preconditions.uid === "string" ? d.preconditions.uid : undefined,
          resourceVersion: typeof d.preconditions.resourceVersion === "string" ? d.preconditions.resourceVersion : undefined,
        };
      }
      if (Array.isArray(d.dryRun) && d.dryRun.includes("All")) opts.dryRun = true;
    }
    const phase = (pod.status as Record<string, unknown> | undefined)?.phase;
    const ignoresPdb = phase === "Succeeded" || phase === "Failed" || phase === "Pending" || !!pod.metadata?.deletionTimestamp;
    if (!ignoresPdb) {
      for (const s of this.store.list("policy", "poddisruptionbudgets", ns)) {
        const pdb = s.object;
        const spec = (pdb.spec ?? {}) as Record<string, unknown>;
        if (!isObject(spec.selector)) continue;
        let sel;
        try {
          sel = labelSelectorFromMeta(spec.selector);
        } catch {
          continue;
        }
        if (!matchesLabelSelector(sel, pod.metadata?.labels)) continue;
        const status = (pdb.status ?? {}) as Record<string, unknown>;
        const allowed = typeof status.disruptionsAllowed === "number" ? status.disruptionsAllowed : 0;
        if (allowed <= 0) {
          throw errors.tooManyRequests("Cannot evict pod as it would violate the pod's disruption budget.", [
            { reason: "DisruptionBudget", message: `The disruption budget ${pdb.metadata?.name} needs ${String(status.desiredHealthy ?? 0)} healthy pods and has ${String(status.currentHealthy ?? 0)} currently` },
          ]);
        }
      }
    }
    this.ops.delete(req.kind, ns, name, opts);
    return jsonResponse(201, successStatus(201));
  }
}


