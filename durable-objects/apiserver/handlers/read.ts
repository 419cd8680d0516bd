// get, list and watch: reads of the in-memory store, with kube's paging, resourceVersion semantics,
// bookmarks and initial events.
import { atVersion, jsonAtVersion } from "../versions.js";
import type { RequestInfo } from "../request-info.js";
import { errors, jsonResponse, statusBody } from "../status.js";
import { includeObjectParam, toTable } from "../table/table.js";
import type { KubeObject } from "../types.js";
import { replay, type OutType } from "../watch.js";
import { namespaceFor, respondObject, tablePrinter } from "./common.js";
import type { ApiContext } from "./context.js";
import { checkRvParam, intParam, parseContinue, selectorsFor } from "./list-options.js";

export function get(ctx: ApiContext, req: RequestInfo, name: string): Response {
  checkRvParam(req.q);
  return respondObject(ctx, req, 200, ctx.ops.mustGet(req.kind, namespaceFor(req), name));
}

export function list(ctx: ApiContext, req: RequestInfo): Response {
  checkRvParam(req.q);
  const matches = selectorsFor(req);
  const limit = intParam(req.q, "limit");
  const cont = req.q.get("continue");
  const token = cont ? parseContinue(ctx, cont) : undefined;
  const keyOf = (o: KubeObject) => `${o.metadata?.namespace ?? ""}\u0000${o.metadata?.name ?? ""}`;
  let items = ctx.store
    .list(req.kind.group, req.kind.resource, namespaceFor(req))
    .map((s) => s.object)
    .filter(matches);
  if (token) items = items.filter((o) => keyOf(o) > token.start);
  const rv = ctx.store.rv;
  const listMeta: Record<string, unknown> = { resourceVersion: String(rv) };
  if (limit && items.length > limit) {
    const page = items.slice(0, limit);
    listMeta.continue = btoa(JSON.stringify({ v: "meta.k8s.io/v1", rv: token?.rv ?? rv, start: keyOf(page[page.length - 1]) }));
    listMeta.remainingItemCount = items.length - limit;
    items = page;
  }
  const out = items.map((o) => atVersion(req.kind, o, req.gv));
  if (req.table) return jsonResponse(200, toTable(out, listMeta, includeObjectParam(req.q.get("includeObject")), ctx.now(), true, tablePrinter(ctx, req)));
  return jsonResponse(200, { kind: req.kind.listKind, apiVersion: req.gv, metadata: listMeta, items: out });
}

export function watch(ctx: ApiContext, req: RequestInfo): Response {
  const q = req.q;
  const matches = selectorsFor(req);
  const timeoutSeconds = intParam(q, "timeoutSeconds");
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
  const current = () => ctx.store.list(group, resource, namespaceFor(req)).map((s) => s.object).filter(matches);
  let initial: Array<{ type: OutType; object: KubeObject }>;
  if (sendInitial === "true" || (sendInitial === null && (rvText === "" || rvText === "0"))) {
    initial = current().map((object) => ({ type: "ADDED" as const, object }));
  } else if (rvText === "" || rvText === "0") {
    initial = [];
  } else {
    const since = Number(rvText);
    if (ctx.store.eventsSince(since) === undefined) {
      const oldest = ctx.store.logEntries()[0]?.rv ?? ctx.store.rv;
      return ctx.hub.openError(statusBody(410, "Expired", `too old resource version: ${since} (${oldest - 1})`));
    }
    initial = replay(ctx.store.logEntries(), since, group, resource, matches);
  }

  const gv = req.gv;
  const kindName = req.kind.kind;
  const include = includeObjectParam(q.get("includeObject"));
  let first = true;
  const printer = req.table ? tablePrinter(ctx, req) : undefined;
  const render = (obj: KubeObject): unknown => {
    const out = atVersion(req.kind, obj, gv);
    if (!req.table) return out;
    const t = toTable([out], { resourceVersion: out.metadata?.resourceVersion }, include, ctx.now(), first, printer);
    first = false;
    return t;
  };
  return ctx.hub.open({
    group,
    resource,
    matches,
    render,
    encodingKey: req.table ? undefined : gv,
    ...(req.table ? {} : { renderJson: (obj: KubeObject) => jsonAtVersion(req.kind, obj, gv) }),
    bookmark: (rv, end) => ({
      kind: kindName,
      apiVersion: gv,
      metadata: { resourceVersion: String(rv), ...(end ? { annotations: { "k8s.io/initial-events-end": "true" } } : {}) },
    }),
    allowBookmarks,
    initial,
    initialEventsEnd: sendInitial === "true",
    timeoutMs: minDefined(timeoutSeconds !== undefined ? timeoutSeconds * 1000 : undefined, ctx.watchLimitMs),
  });
}

const minDefined = (a: number | undefined, b: number | undefined) => (a === undefined ? b : b === undefined ? a : Math.min(a, b));
