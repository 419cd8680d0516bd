// The JSONPath subset CRDs use in additionalPrinterColumns, read as client-go's jsonpath reads it.
// Hand-written: no maintained JS JSONPath library unescapes quoted names and filters as client-go does.
import { arr, obj } from "./columns.js";

export type Step = { field: string } | { index: number } | { filter: string[]; op: "==" | "!="; value: unknown } | { all: true };

/**
 * The JSONPath subset CRDs use in additionalPrinterColumns: `.a.b`, `.a['b.c']`, `.a[0].b`, `.a[*].b`
 * and `.a[?(@.type=="Ready")].status`. Returns undefined for anything else (the cell is then empty).
 */
export function parseJsonPath(path: string): Step[] | undefined {
  let p = path.trim();
  if (p.startsWith("{") && p.endsWith("}")) p = p.slice(1, -1);
  if (p.startsWith("$")) p = p.slice(1);
  const steps: Step[] = [];
  let i = 0;
  while (i < p.length) {
    if (p[i] === ".") {
      const m = /^\.([A-Za-z0-9_\-$/]+)/.exec(p.slice(i));
      if (!m) return undefined;
      steps.push({ field: m[1] });
      i += m[0].length;
    } else if (p[i] === "[") {
      const rest = p.slice(i);
      let m: RegExpExecArray | null;
      if ((m = /^\[(-?\d+)\]/.exec(rest))) steps.push({ index: Number(m[1]) });
      else if ((m = /^\[\*\]/.exec(rest))) steps.push({ all: true });
      // Quoted names unescape like client-go's jsonpath: CAPI's CRDs name `['cluster\.x-k8s\.io/cluster-name']`.
      else if ((m = /^\[\s*'((?:[^'\\]|\\.)*)'\s*\]/.exec(rest)) || (m = /^\[\s*"((?:[^"\\]|\\.)*)"\s*\]/.exec(rest))) steps.push({ field: m[1].replace(/\\(.)/g, "$1") });
      else if ((m = /^\[\?\(\s*@((?:\.[A-Za-z0-9_\-]+)+)\s*(==|!=)\s*(?:"([^"]*)"|'([^']*)'|(-?\d+(?:\.\d+)?)|(true|false))\s*\)\]/.exec(rest))) {
        const value = m[3] ?? m[4] ?? (m[5] !== undefined ? Number(m[5]) : m[6] === "true");
        steps.push({ filter: m[1].slice(1).split("."), op: m[2] as "==" | "!=", value });
      } else return undefined;
      i += m[0].length;
    } else return undefined;
  }
  return steps;
}

export function evalJsonPath(steps: Step[], root: unknown): unknown[] {
  let cur: unknown[] = [root];
  for (const s of steps) {
    const next: unknown[] = [];
    for (const v of cur) {
      if ("field" in s) {
        const o = obj(v);
        if (typeof v === "object" && v !== null && !Array.isArray(v) && s.field in o) next.push(o[s.field]);
      } else if ("index" in s) {
        const a = arr(v);
        const idx = s.index < 0 ? a.length + s.index : s.index;
        if (idx >= 0 && idx < a.length) next.push(a[idx]);
      } else if ("all" in s) {
        if (Array.isArray(v)) next.push(...v);
        else if (typeof v === "object" && v !== null) next.push(...Object.values(v));
      } else {
        for (const item of arr(v)) {
          let x: unknown = item;
          for (const f of s.filter) x = obj(x)[f];
          if ((x === s.value) === (s.op === "==")) next.push(item);
        }
      }
    }
    cur = next;
  }
  return cur;
}

