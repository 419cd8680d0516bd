// Helpers every verb's handler shares: the namespace a request addresses, dryRun, reading and checking
// an object body against the URL, and answering with an object (JSON, or a Table row).
import { decodeObject, objectBodyFormat, readBodyBytes, readBodyText } from "../body.js";
import { isObject } from "../json.js";
import { decodeProtobufObject } from "../protobuf.js";
import type { RequestInfo } from "../request-info.js";
import { errors, jsonResponse, jsonTextResponse } from "../status.js";
import { builtinPrinter } from "../table/builtin-printers.js";
import type { TablePrinter } from "../table/columns.js";
import { crdPrinter } from "../table/crd-printer.js";
import { includeObjectParam, toTable } from "../table/table.js";
import type { KubeObject } from "../types.js";
import type { ApiContext } from "./context.js";
import { atVersion, jsonAtVersion, toStorageVersion } from "../versions.js";

export function namespaceFor(req: RequestInfo): string {
  return req.kind.namespaced ? req.path.namespace : "";
}

export function dryRun(q: URLSearchParams): boolean {
  const values = q.getAll("dryRun");
  for (const v of values) if (v !== "All") throw errors.badRequest(`dryRun: Unsupported value: "${v}": supported values: "All"`);
  return values.length > 0;
}

export function respondObject(ctx: ApiContext, req: RequestInfo, code: number, obj: KubeObject): Response {
  if (!req.table) return jsonTextResponse(code, jsonAtVersion(req.kind, obj, req.gv));
  const out = atVersion(req.kind, obj, req.gv);
  return jsonResponse(code, toTable([out], { resourceVersion: out.metadata?.resourceVersion }, includeObjectParam(req.q.get("includeObject")), ctx.now(), true, tablePrinter(ctx, req)));
}

/** Table columns: kube's printer for built-in kinds, the CRD's additionalPrinterColumns for custom ones. */
export function tablePrinter(ctx: ApiContext, req: RequestInfo): TablePrinter {
  const { kind } = req;
  if (!kind.custom) return builtinPrinter(kind.group, kind.resource);
  const crd = ctx.store.get({ group: "apiextensions.k8s.io", resource: "customresourcedefinitions", namespace: "", name: `${kind.resource}.${kind.group}` });
  return crdPrinter(crd, req.path.version);
}

/** A checked request object at the kind's storage version (converted when the client addressed another). */
export function storable(ctx: ApiContext, req: RequestInfo, obj: KubeObject): KubeObject {
  return toStorageVersion(req.kind, obj, req.gv, ctx.ops.storageApiVersion(req.kind));
}

/** Decode a create/update body and check it against the URL (apiVersion, kind, name, namespace). */
export async function readObject(ctx: ApiContext, req: RequestInfo, name?: string): Promise<KubeObject> {
  return checkBody(req, (await readAnyBody(ctx, req)) as KubeObject, name);
}

/** A JSON, YAML or (for the kinds kubectl sends that way) protobuf object body. */
export async function readAnyBody(ctx: ApiContext, req: RequestInfo): Promise<Record<string, unknown>> {
  const format = objectBodyFormat(req.request.headers.get("content-type"));
  if (format === "protobuf") return decodeProtobufObject(await readBodyBytes(req.request, ctx.maxBodyBytes));
  return decodeObject(await readBodyText(req.request, ctx.maxBodyBytes), format);
}

export function checkBody(req: RequestInfo, body: KubeObject, name?: string): KubeObject {
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
