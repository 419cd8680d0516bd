// Table printers of custom resources: their CRD's additionalPrinterColumns, cells as apiextensions'
// cellForJSONValue formats them.
import type { KubeObject } from "../types.js";
import { arr, col, humanDuration, int, NAME_COL, obj, str, type Cell, type TablePrinter } from "./columns.js";
import { evalJsonPath, parseJsonPath } from "./jsonpath.js";

interface PrinterColumnSpec {
  name: string;
  type: string;
  format?: string;
  description?: string;
  priority?: number;
  jsonPath: string;
}

/** apiextensions' cellForJSONValue: values of the wrong type give an empty cell. */
function crCell(type: string, value: unknown, now: Date): Cell {
  if (value === undefined || value === null) return null;
  switch (type) {
    case "string":
      return typeof value === "string" ? value : JSON.stringify(value); // JSONPath printing of non-strings
    case "integer":
      return typeof value === "number" ? Math.trunc(value) : null;
    case "number":
      return typeof value === "number" ? value : null;
    case "boolean":
      return typeof value === "boolean" ? value : null;
    case "date": {
      if (typeof value !== "string") return null;
      const t = Date.parse(value);
      return Number.isNaN(t) ? "<invalid>" : humanDuration(now.getTime() - t);
    }
  }
  return null;
}

/** The printer of a CRD's served version (`version` as the client addressed it). */
export function crdPrinter(crd: KubeObject | undefined, version: string): TablePrinter {
  const v = arr(obj(crd?.spec).versions).map(obj).find((x) => x.name === version);
  let specs = arr(v?.additionalPrinterColumns).map(obj) as unknown as PrinterColumnSpec[];
  // A v1 CRD defaults an empty list to one Age column.
  if (!specs.length) specs = [{ name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" }];
  const parsed = specs.map((c) => parseJsonPath(str(c.jsonPath)));
  return {
    columns: [NAME_COL, ...specs.map((c) => col(str(c.name), str(c.description), int(c.priority), str(c.type) || "string", str(c.format)))],
    cells(o, now) {
      return specs.map((c, i) => {
        const steps = parsed[i];
        if (!steps) return null;
        const r = evalJsonPath(steps, o);
        return r.length ? crCell(str(c.type), r[0], now) : null;
      });
    },
  };
}

