// meta.k8s.io/v1 Table output (what kubectl asks for with `Accept: ...;as=Table`): NAME and AGE columns,
// the default columns kube-apiserver serves for kinds without their own printers.
import type { KubeObject } from "./types.js";

const COLUMNS = [
  { name: "Name", type: "string", format: "name", description: "Name must be unique within a namespace.", priority: 0 },
  { name: "Age", type: "string", format: "", description: "CreationTimestamp is a timestamp representing the server time when this object was created.", priority: 0 },
];

export function wantsTable(accept: string | null): boolean {
  return !!accept && /;\s*as=Table/i.test(accept);
}

type IncludeObject = "None" | "Metadata" | "Object";

export function includeObjectParam(v: string | null): IncludeObject {
  return v === "None" || v === "Object" ? v : "Metadata";
}

/** kube's duration.HumanDuration, as the AGE column shows it. */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 ? `${m}m${s % 60}s` : `${m}m`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 ? `${h}h${m % 60}m` : `${h}h`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (h < 24 * 8) return h % 24 ? `${d}d${h % 24}h` : `${d}d`;
  if (d < 365 * 2) return `${d}d`;
  return `${Math.floor(d / 365)}y`;
}

function row(obj: KubeObject, include: IncludeObject, render: (o: KubeObject) => KubeObject, now: Date) {
  const meta = obj.metadata ?? {};
  const created = Date.parse(meta.creationTimestamp ?? "");
  const age = Number.isNaN(created) ? "<unknown>" : humanDuration(now.getTime() - created);
  const r: Record<string, unknown> = { cells: [meta.name ?? "", age] };
  if (include === "Object") r.object = render(obj);
  else if (include === "Metadata") r.object = { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: meta };
  return r;
}

export function toTable(
  objects: KubeObject[],
  listMeta: Record<string, unknown>,
  include: IncludeObject,
  render: (o: KubeObject) => KubeObject,
  now: Date,
  withColumns = true,
) {
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: listMeta,
    ...(withColumns ? { columnDefinitions: COLUMNS } : {}),
    rows: objects.map((o) => row(o, include, render, now)),
  };
}
