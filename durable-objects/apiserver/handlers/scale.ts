// The `scale` subresource (autoscaling/v1 Scale) of Deployments, ReplicaSets, StatefulSets,
// ReplicationControllers and custom resources whose CRD declares one (CAPI's MachineDeployments,
// KubeadmControlPlanes): what `kubectl scale` and the HPA read and write. A write changes only the
// replicas of the parent object, through the same update path as any other write.
import { mediaType, readBodyText } from "../body.js";
import { isObject, setAtPath, valueAtPath } from "../json.js";
import { labelSelectorFromMeta, formatLabelSelector } from "../label-selectors.js";
import { applyPatchBody } from "../patch/document.js";
import { cloneJson } from "../patch/merge.js";
import type { RequestInfo } from "../request-info.js";
import { errors, jsonResponse } from "../status.js";
import type { KindInfo, KubeObject } from "../types.js";
import { invalidError } from "../validation.js";
import { dryRun, namespaceFor, readAnyBody } from "./common.js";
import type { ApiContext } from "./context.js";
import { writer } from "./write.js";

const SCALE_GV = "autoscaling/v1";

/** The Scale view of an object: its replicas and, for status.selector, its label selector as a string. */
function scaleOf(kind: KindInfo, obj: KubeObject): KubeObject {
  const paths = kind.scale!;
  const m = obj.metadata ?? {};
  let selector: string | undefined;
  if (paths.labelSelectorPath) {
    const s = valueAtPath(obj, paths.labelSelectorPath);
    if (typeof s === "string") selector = s;
  } else {
    const s = valueAtPath(obj, "spec.selector");
    try {
      if (isObject(s)) selector = formatLabelSelector(labelSelectorFromMeta(s));
    } catch {
      /* an invalid selector is reported as none */
    }
  }
  const replicas = (v: unknown) => (typeof v === "number" ? v : 0);
  return {
    kind: "Scale",
    apiVersion: SCALE_GV,
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
    spec: { replicas: replicas(valueAtPath(obj, paths.specReplicasPath)) },
    status: { replicas: replicas(valueAtPath(obj, paths.statusReplicasPath)), ...(selector ? { selector } : {}) },
  };
}

function parent(ctx: ApiContext, req: RequestInfo, name: string): KubeObject {
  if (!req.kind.scale) throw errors.noResource();
  return ctx.ops.mustGet(req.kind, namespaceFor(req), name);
}

export function getScale(ctx: ApiContext, req: RequestInfo, name: string): Response {
  return jsonResponse(200, scaleOf(req.kind, parent(ctx, req, name)));
}

/** Writes `scale`'s spec.replicas to the parent, with the Scale's resourceVersion as a precondition. */
function writeScale(ctx: ApiContext, req: RequestInfo, name: string, existing: KubeObject, scale: unknown): Response {
  if (!isObject(scale)) throw errors.badRequest("the body must be a Scale object");
  if (scale.kind !== undefined && scale.kind !== "Scale") throw errors.badRequest(`the kind in the data (${String(scale.kind)}) does not match the expected kind (Scale)`);
  if (scale.apiVersion !== undefined && scale.apiVersion !== SCALE_GV) throw errors.badRequest(`the API version in the data (${String(scale.apiVersion)}) does not match the expected API version (${SCALE_GV})`);
  const meta = isObject(scale.metadata) ? scale.metadata : {};
  if (meta.name !== undefined && meta.name !== "" && meta.name !== name) throw errors.badRequest(`the name of the object (${String(meta.name)}) does not match the name on the URL (${name})`);
  const replicas = isObject(scale.spec) ? scale.spec.replicas : undefined;
  if (typeof replicas !== "number" || !Number.isInteger(replicas) || replicas < 0 || replicas > 2 ** 31 - 1) {
    throw invalidError("autoscaling", "Scale", name, [{ field: "spec.replicas", type: "FieldValueInvalid", message: `Invalid value: ${JSON.stringify(replicas ?? null)}: must be greater than or equal to 0` }]);
  }
  const next = cloneJson(existing);
  setAtPath(next as Record<string, unknown>, req.kind.scale!.specReplicasPath, replicas);
  // The Scale's resourceVersion (when sent) is the precondition; without one the write is unconditional.
  next.metadata = { ...next.metadata };
  if (typeof meta.resourceVersion === "string" && meta.resourceVersion !== "") next.metadata.resourceVersion = meta.resourceVersion;
  else delete next.metadata.resourceVersion;
  const { object } = ctx.ops.update(req.kind, namespaceFor(req), name, next, "main", dryRun(req.q), writer(req));
  return jsonResponse(200, scaleOf(req.kind, object));
}

export async function updateScale(ctx: ApiContext, req: RequestInfo, name: string): Promise<Response> {
  const body = await readAnyBody(ctx, req);
  return writeScale(ctx, req, name, parent(ctx, req, name), body);
}

export async function patchScale(ctx: ApiContext, req: RequestInfo, name: string): Promise<Response> {
  const ct = mediaType(req.request.headers.get("content-type"));
  const text = await readBodyText(req.request, ctx.maxBodyBytes);
  const existing = parent(ctx, req, name);
  const base = scaleOf(req.kind, existing);
  let patched = applyPatchBody(ct, base, text, () => ({}));
  // The base carries the current resourceVersion; only a client-sent one is a precondition.
  if (isObject(patched) && isObject(patched.metadata) && patched.metadata.resourceVersion === base.metadata?.resourceVersion) {
    patched = { ...patched, metadata: { ...patched.metadata, resourceVersion: undefined } };
  }
  return writeScale(ctx, req, name, existing, patched);
}
