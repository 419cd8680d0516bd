// The `scale` subresource (autoscaling/v1 Scale) of Deployments, ReplicaSets, StatefulSets,
// ReplicationControllers and custom resources whose CRD declares one (CAPI's MachineDeployments,
// KubeadmControlPlanes): what `kubectl scale` and the HPA read and write. A write changes only the
// replicas of the parent object, through the same update path as any other write.
import { decodeBody, mediaType, readBodyText } from "../body.js";
import { isObject } from "../json.js";
import { labelSelectorFromMeta, formatLabelSelector } from "../label-selectors.js";
import { applyJsonPatch } from "../patch/json.js";
import { applyMergePatch, cloneJson } from "../patch/merge.js";
import { applyStrategicMergePatch } from "../patch/strategic.js";
import type { RequestInfo } from "../request-info.js";
import { errors, jsonResponse } from "../status.js";
import type { KindInfo, KubeObject } from "../types.js";
import { invalidError } from "../validation.js";
import { dryRun, namespaceFor, readAnyBody } from "./common.js";
import type { ApiContext } from "./context.js";
import { writer } from "./write.js";

const SCALE_GV = "autoscaling/v1";

function at(obj: unknown, path: string): unknown {
  let cur = obj;
  for (const key of path.split(".")) cur = isObject(cur) ? cur[key] : undefined;
  return cur;
}

function setAt(obj: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split(".");
  let cur = obj;
  for (const key of keys.slice(0, -1)) {
    if (!isObject(cur[key])) cur[key] = {};
    cur = cur[key] as Record<string, unknown>;
  }
  cur[keys[keys.length - 1]!] = value;
}

/** The Scale view of an object: its replicas and, for status.selector, its label selector as a string. */
function scaleOf(kind: KindInfo, obj: KubeObject): KubeObject {
  const paths = kind.scale!;
  const m = obj.metadata ?? {};
  let selector: string | undefined;
  if (paths.labelSelectorPath) {
    const s = at(obj, paths.labelSelectorPath);
    if (typeof s === "string") selector = s;
  } else if (isObject(at(obj, "spec.selector"))) {
    try {
      selector = formatLabelSelector(labelSelectorFromMeta(at(obj, "spec.selector") as Record<string, never>));
    } catch {
      /* an invalid selector is reported as none */
    }
  }
  const replicas = (v: unknown) => (typeof v === "number" ? v : 0);
  return {
    kind: "Scale",
    apiVersion: SCALE_GV,
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
    spec: { replicas: replicas(at(obj, paths.specReplicasPath)) },
    status: { replicas: replicas(at(obj, paths.statusReplicasPath)), ...(selector ? { selector } : {}) },
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
  setAt(next as Record<string, unknown>, req.kind.scale!.specReplicasPath, replicas);
  const rv = typeof meta.resourceVersion === "string" && meta.resourceVersion !== "" ? meta.resourceVersion : undefined;
  next.metadata = { ...next.metadata, resourceVersion: rv };
  if (rv === undefined) delete next.metadata.resourceVersion;
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
  let patched: unknown;
  switch (ct) {
    case "application/merge-patch+json":
      patched = applyMergePatch(base, decodeBody(text, "json"));
      break;
    case "application/strategic-merge-patch+json":
      patched = applyStrategicMergePatch(base, decodeBody(text, "json"), {});
      break;
    case "application/json-patch+json":
      patched = applyJsonPatch(base, decodeBody(text, "json"));
      break;
    default:
      throw errors.unsupportedMediaType(ct);
  }
  // The base carries the current resourceVersion; only a client-sent one is a precondition.
  if (isObject(patched) && isObject(patched.metadata) && patched.metadata.resourceVersion === base.metadata?.resourceVersion) {
    patched = { ...patched, metadata: { ...patched.metadata, resourceVersion: undefined } };
  }
  return writeScale(ctx, req, name, existing, patched);
}
