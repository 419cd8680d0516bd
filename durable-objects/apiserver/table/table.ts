// meta.k8s.io/v1 Table output (what kubectl asks for with `Accept: ...;as=Table`).
//
// Columns and cells follow kube-apiserver's printers (k8s.io/kubernetes pkg/printers/internalversion):
// same names, types, priorities and cell formats, so `kubectl get` prints what it prints against a real
// cluster. Like kube-apiserver, every column is always generated (GenerateOptions{Wide: true});
// kubectl hides priority > 0 columns unless `-o wide`. Kinds without a printer get kube's default
// table convertor (NAME, CREATED AT); custom resources get their CRD's additionalPrinterColumns.
// Hand-written: these printers live in Go only; there is no JS port.
import type { KubeObject } from "../types.js";
import { defaultPrinter } from "./builtin-printers.js";
import { NAME_COL, type TablePrinter } from "./columns.js";

export function wantsTable(accept: string | null): boolean {
  return !!accept && /;\s*as=Table/i.test(accept);
}

type IncludeObject = "None" | "Metadata" | "Object";

export function includeObjectParam(v: string | null): IncludeObject {
  return v === "None" || v === "Object" ? v : "Metadata";
}


// ---- the table ------------------------------------------------------------------------------

function row(o: KubeObject, include: IncludeObject, now: Date, printer: TablePrinter) {
  const meta = o.metadata ?? {};
  const own = printer.cells(o, now);
  // NAME is the printer's first column except for events (where the printer lists it itself).
  const cells = printer.columns[0] === NAME_COL ? [meta.name ?? "", ...own] : own;
  const r: Record<string, unknown> = { cells };
  const conditions = printer.conditions?.(o);
  if (conditions) r.conditions = conditions;
  if (include === "Object") r.object = o;
  else if (include === "Metadata") r.object = { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: meta };
  return r;
}

export function toTable(
  objects: KubeObject[],
  listMeta: Record<string, unknown>,
  include: IncludeObject,
  now: Date,
  withColumns = true,
  printer: TablePrinter = defaultPrinter,
) {
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: listMeta,
    ...(withColumns ? { columnDefinitions: printer.columns } : {}),
    rows: objects.map((o) => row(o, include, now, printer)),
  };
}
