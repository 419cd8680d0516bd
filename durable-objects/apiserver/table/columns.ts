// Table columns shared by the built-in and custom-resource printers, kube's HumanDuration (the AGE
// column) and small accessors over untyped JSON.
import type { KubeObject } from "../types.js";

export type Json = Record<string, unknown>;
export type Cell = string | number | boolean | null;

export interface Column {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

export interface TablePrinter {
  columns: Column[];
  /** Cells after NAME (the printer's own columns, in order). */
  cells(o: KubeObject, now: Date): Cell[];
  /** Row conditions (kube marks finished pods `Completed`, which kubectl uses to hide them). */
  conditions?(o: KubeObject): Array<{ type: string; status: string }> | undefined;
}

export const NAME_DOC = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
export const CREATED_DOC = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

export function col(name: string, description = "", priority = 0, type = "string", format = ""): Column {
  return { name, type, format, description, priority };
}
export const NAME_COL = col("Name", NAME_DOC, 0, "string", "name");
export const AGE_COL = col("Age", CREATED_DOC);

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
  if (d < 365 * 8) return d % 365 ? `${Math.floor(d / 365)}y${d % 365}d` : `${Math.floor(d / 365)}y`;
  return `${Math.floor(d / 365)}y`;
}

/** translateTimestampSince: "<unknown>" for a missing time. */
export function since(ts: unknown, now: Date): string {
  const t = typeof ts === "string" ? Date.parse(ts) : NaN;
  return Number.isNaN(t) ? "<unknown>" : humanDuration(now.getTime() - t);
}

// ---- small accessors over untyped JSON ------------------------------------------------------

export const obj = (v: unknown): Json => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : {});
export const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
export const str = (v: unknown): string => (typeof v === "string" ? v : "");
export const int = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? Math.trunc(v) : 0);
export const orNone = (s: string): string => s || "<none>";
export const count = (v: unknown): number => Object.keys(obj(v)).length;
