// create, update and patch (merge, strategic merge, JSON patch, server-side apply), with field
// ownership recorded for managedFields.
import { decodeObject, mediaType, readBodyText } from "../body.js";
import { managerFor } from "../managed-fields.js";
import { type FieldOwnership, type UpdateMode } from "../objects.js";
import { isObject } from "../json.js";
import { serverSideApply } from "../patch/apply.js";
import { applyPatchBody } from "../patch/document.js";
import { strategicMergeKeysFor } from "../patch/strategic-keys.js";
import { atVersion } from "../versions.js";
import type { RequestInfo } from "../request-info.js";
import { errors } from "../status.js";
import { ApiError, type KubeObject } from "../types.js";
import { invalidError } from "../validation.js";
import { checkBody, dryRun, namespaceFor, readObject, respondObject, storable } from "./common.js";
import type { ApiContext } from "./context.js";

export async function create(ctx: ApiContext, req: RequestInfo): Promise<Response> {
  if (req.kind.namespaced && !req.path.namespace) throw errors.methodNotAllowed();
  const body = storable(ctx, req, await readObject(ctx, req));
  const obj = ctx.ops.create(req.kind, namespaceFor(req), body, dryRun(req.q), writer(req));
  return respondObject(ctx, req, 201, obj);
}

export async function update(ctx: ApiContext, req: RequestInfo, name: string, mode: UpdateMode): Promise<Response> {
  const body = storable(ctx, req, await readObject(ctx, req, name));
  const { object, created } = ctx.ops.update(req.kind, namespaceFor(req), name, body, mode, dryRun(req.q), writer(req));
  return respondObject(ctx, req, created ? 201 : 200, object);
}

/** The field manager of a non-apply write: ?fieldManager=, else the user agent's program name (kube's default). */
export function writer(req: RequestInfo): FieldOwnership {
  return { manager: managerFor(fieldManager(req), req.request.headers.get("user-agent")), apiVersion: req.gv };
}

/** ?fieldManager=, checked as kube's ValidateFieldManager does (at most 128 printable characters). */
export function fieldManager(req: RequestInfo): string | null {
  const fm = req.q.get("fieldManager");
  if (fm === null) return null;
  const options = req.request.method === "PATCH" ? "PatchOptions" : req.request.method === "PUT" ? "UpdateOptions" : "CreateOptions";
  const fail = (reason: string, message: string) =>
    invalidError("meta.k8s.io", options, "", [{ field: "fieldManager", type: reason, message }]);
  if (fm.length > 128) throw fail("FieldValueTooLong", "Too long: may not be more than 128 bytes");
  if (/[^\x20-\x7e]/.test(fm)) throw fail("FieldValueInvalid", `Invalid value: ${JSON.stringify(fm.slice(0, 50))}: must only contain printable characters`);
  return fm;
}

export async function patch(ctx: ApiContext, req: RequestInfo, name: string, mode: UpdateMode): Promise<Response> {
  const ct = mediaType(req.request.headers.get("content-type"));
  const { kind } = req;
  const ns = namespaceFor(req);
  const isDryRun = dryRun(req.q);
  const kinds = ["application/merge-patch+json", "application/strategic-merge-patch+json", "application/json-patch+json", "application/apply-patch+yaml"];
  if (!kinds.includes(ct)) throw errors.unsupportedMediaType(ct);
  if (ct === "application/strategic-merge-patch+json" && kind.custom) {
    throw new ApiError(415, "UnsupportedMediaType", `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`);
  }
  const text = await readBodyText(req.request, ctx.maxBodyBytes);
  // Read the live object only after the body has arrived: no await may separate this read from the
  // write below, or a concurrent write would make a patch without resourceVersion look stale (409).
  const existing = ctx.ops.get(kind, ns, name);
  if (!existing && ct !== "application/apply-patch+yaml") throw errors.notFound(kind.group, kind.resource, name);
  // Not cloned: the patch functions never mutate their inputs and return fresh objects.
  const base = existing ? atVersion(kind, existing, req.gv) : undefined;
  const mergeKeys = () => ({ ...strategicMergeKeysFor(kind.group, kind.kind), ...(kind.strategicMergeKeys ?? {}) });
  let result: unknown;
  let fields = writer(req);
  if (ct !== "application/apply-patch+yaml") {
    result = applyPatchBody(ct, base, text, mergeKeys);
  } else {
    const fm = fieldManager(req);
    if (!fm) {
      throw errors.invalid(kind, name, [{ reason: "FieldValueRequired", field: "fieldManager", message: "Required value: is required for apply patch" }]);
    }
    const applied = checkBody(req, decodeObject(text, "yaml") as KubeObject, name);
    if (applied.apiVersion === undefined || applied.kind === undefined) {
      throw errors.badRequest("apiVersion and kind must be set in an apply patch");
    }
    const force = req.q.get("force") === "true";
    const applyReq = { manager: fm, apiVersion: req.gv, force, time: ctx.ops.timestamp(), scope: ctx.ops.fieldScope(kind, mode) };
    const out = serverSideApply(base, applied, mergeKeys(), applyReq);
    result = out.object;
    fields = { manager: fm, apiVersion: req.gv, applied: out.managedFields };
  }
  if (!isObject(result)) throw errors.badRequest("the patch did not produce an object");
  const patched = storable(ctx, req, checkBody(req, result as KubeObject, name));
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
    return respondObject(ctx, req, 201, ctx.ops.create(kind, ns, patched, isDryRun, fields));
  }
  const { object } = ctx.ops.update(kind, ns, name, patched, mode, isDryRun, fields);
  return respondObject(ctx, req, 200, object);
}
