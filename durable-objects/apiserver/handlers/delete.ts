// delete, deletecollection and pod eviction (which honours PodDisruptionBudgets).
import { decodeObject, objectBodyFormat, readBodyBytes, utf8 } from "../body.js";
import { labelSelectorFromMeta, matchesLabelSelector } from "../label-selectors.js";
import { atVersion } from "../versions.js";
import { type DeleteOptions, type Propagation } from "../objects.js";
import { isObject } from "../json.js";
import { decodeProtobufObject } from "../protobuf.js";
import type { RequestInfo } from "../request-info.js";
import { errors, jsonResponse, successStatus } from "../status.js";
import type { KindInfo, KubeObject } from "../types.js";
import { dryRun, namespaceFor, readAnyBody, respondObject } from "./common.js";
import type { ApiContext } from "./context.js";
import { checkRvParam, intParam, parseContinue, selectorsFor } from "./list-options.js";

export async function deleteOptions(ctx: ApiContext, req: RequestInfo): Promise<DeleteOptions> {
  const opts: DeleteOptions = { dryRun: dryRun(req.q) };
  let policy: unknown = req.q.get("propagationPolicy") ?? undefined;
  const bytes = req.request.body ? await readBodyBytes(req.request, ctx.maxBodyBytes) : new Uint8Array();
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
export function returnsDeletedObject(kind: KindInfo): boolean {
  return !!kind.custom || (kind.group === "" && (kind.resource === "pods" || kind.resource === "services" || kind.resource === "namespaces"));
}

export async function deleteObject(ctx: ApiContext, req: RequestInfo, name: string): Promise<Response> {
  const opts = await deleteOptions(ctx, req);
  const { object, deleted } = ctx.ops.delete(req.kind, namespaceFor(req), name, opts);
  if (deleted && !returnsDeletedObject(req.kind)) {
    return jsonResponse(200, successStatus(200, { name, group: req.kind.group, kind: req.kind.resource, uid: object.metadata?.uid }));
  }
  return respondObject(ctx, req, 200, object);
}

export async function deleteCollection(ctx: ApiContext, req: RequestInfo): Promise<Response> {
  // The list options are checked as for a list: a malformed one must not widen the deletion to all.
  checkRvParam(req.q);
  intParam(req.q, "limit");
  intParam(req.q, "timeoutSeconds");
  const cont = req.q.get("continue");
  if (cont) parseContinue(ctx, cont);
  const opts = await deleteOptions(ctx, req);
  const matches = selectorsFor(req);
  const items = ctx.store
    .list(req.kind.group, req.kind.resource, namespaceFor(req))
    .map((s) => s.object)
    .filter(matches);
  const out: KubeObject[] = [];
  for (const o of items) {
    const m = o.metadata!;
    if (!ctx.ops.get(req.kind, m.namespace ?? "", m.name!)) continue; // gone through a cascade
    out.push(atVersion(req.kind, ctx.ops.delete(req.kind, m.namespace ?? "", m.name!, opts).object, req.gv));
  }
  return jsonResponse(200, { kind: req.kind.listKind, apiVersion: req.gv, metadata: { resourceVersion: String(ctx.store.rv) }, items: out });
}

/** POST pods/<p>/eviction: honours PodDisruptionBudgets' disruptionsAllowed, then deletes the pod. */
export async function evict(ctx: ApiContext, req: RequestInfo, name: string): Promise<Response> {
  const body = await readAnyBody(ctx, req);
  if (body.kind !== undefined && body.kind !== "Eviction") throw errors.badRequest(`the kind in the data (${String(body.kind)}) does not match the expected kind (Eviction)`);
  if (body.apiVersion !== undefined && body.apiVersion !== "policy/v1" && body.apiVersion !== "policy/v1beta1") {
    throw errors.badRequest(`the API version in the data (${String(body.apiVersion)}) does not match the expected API version (policy/v1)`);
  }
  const meta = isObject(body.metadata) ? body.metadata : {};
  if (meta.name !== undefined && meta.name !== name) {
    throw errors.badRequest(`name in URL does not match name in Eviction object`);
  }
  const ns = req.path.namespace;
  const pod = ctx.ops.mustGet(req.kind, ns, name);
  const opts: DeleteOptions = { dryRun: dryRun(req.q) };
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
    for (const s of ctx.store.list("policy", "poddisruptionbudgets", ns)) {
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
  ctx.ops.delete(req.kind, ns, name, opts);
  return jsonResponse(201, successStatus(201));
}
