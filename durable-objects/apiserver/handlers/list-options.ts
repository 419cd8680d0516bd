// List options (metav1.ListOptions) checked as kube checks them: selectors, continue tokens, limits and
// resourceVersion. Used by list, watch and deletecollection alike, so a malformed option never widens
// what a request touches.
import { matchesFieldSelector, parseFieldSelector, type FieldSelector } from "../field-selectors.js";
import { matchesLabelSelector, parseLabelSelector, type LabelSelector } from "../label-selectors.js";
import { isObject } from "../json.js";
import type { RequestInfo } from "../request-info.js";
import { errors } from "../status.js";
import type { KubeObject } from "../types.js";
import { namespaceFor } from "./common.js";
import type { ApiContext } from "./context.js";

export interface ContinueToken {
  rv: number;
  start: string;
}

export function selectorsFor(req: RequestInfo): (o: KubeObject) => boolean {
  const ls = req.q.get("labelSelector");
  const fs = req.q.get("fieldSelector");
  const label: LabelSelector | undefined = ls ? parseLabelSelector(ls) : undefined;
  const field: FieldSelector | undefined = fs ? parseFieldSelector(fs, req.kind.group, req.kind.resource) : undefined;
  const ns = namespaceFor(req);
  const name = req.path.name;
  return (o) =>
    (!ns || o.metadata?.namespace === ns) &&
    (name === undefined || o.metadata?.name === name) &&
    (!label || matchesLabelSelector(label, o.metadata?.labels)) &&
    (!field || matchesFieldSelector(field, o));
}

export function parseContinue(ctx: ApiContext, token: string): ContinueToken {
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
  if (t.rv > ctx.store.rv || ctx.store.eventsSince(t.rv) === undefined) {
    throw errors.expired(
      "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
    );
  }
  return { rv: t.rv, start: t.start };
}

export function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === "") return undefined;
  if (!/^\d{1,15}$/.test(v)) throw errors.badRequest(`invalid value for ${name}: ${JSON.stringify(v.slice(0, 50))}`);
  return Number(v);
}

export function checkRvParam(q: URLSearchParams): void {
  const rv = q.get("resourceVersion");
  if (rv && !/^\d{1,15}$/.test(rv)) throw errors.badRequest(`resourceVersion: Invalid value: ${JSON.stringify(rv.slice(0, 50))}: must be a non-negative integer`);
  const m = q.get("resourceVersionMatch");
  if (m && m !== "NotOlderThan" && m !== "Exact") throw errors.badRequest(`resourceVersionMatch: Unsupported value: ${JSON.stringify(m.slice(0, 50))}: supported values: "Exact", "NotOlderThan"`);
  if (m && !rv) throw errors.badRequest("resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided");
}
