// Field selectors with the grammar and error texts of k8s.io/apimachinery/pkg/fields, plus the
// per-resource field labels kube-apiserver supports. Hand-written, as label-selectors.ts.

import { valueAtPath } from "./json.js";
import { ApiError, type KubeObject } from "./types.js";

export interface FieldRequirement {
  field: string;
  /** "==" is normalised to "=". */
  operator: "=" | "!=";
  value: string;
}

export interface FieldSelector {
  requirements: FieldRequirement[];
}

const metaFields = ["metadata.name", "metadata.namespace"];

/** Field labels each resource accepts ("group/resource"), from kube's AddFieldLabelConversionFunc calls. */
const supportedFields: Record<string, string[]> = {
  "/pods": [
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase",
    "status.podIP",
    "status.nominatedNodeName",
  ],
  "/nodes": ["spec.unschedulable"],
  "/events": [
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
  ],
  "/secrets": ["type"],
  "/namespaces": ["status.phase"],
  "/replicationcontrollers": ["status.replicas"],
  "apps/replicasets": ["status.replicas"],
  "batch/jobs": ["status.successful"],
  "certificates.k8s.io/certificatesigningrequests": ["spec.signerName"],
};

/** Old field names kube still accepts and rewrites. */
const fieldAliases: Record<string, Record<string, string>> = {
  "/pods": { "spec.host": "spec.nodeName" },
};

function splitTerms(text: string): string[] {
  const terms: string[] = [];
  let start = 0;
  let inSlash = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inSlash) inSlash = false;
    else if (c === "\\") inSlash = true;
    else if (c === ",") {
      terms.push(text.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(text.slice(start));
  return terms;
}

function splitTerm(term: string): [string, "!=" | "==" | "=", string] | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const op of ["!=", "==", "="] as const) {
      if (term.startsWith(op, i)) return [term.slice(0, i), op, term.slice(i + op.length)];
    }
  }
  return undefined;
}

function unescapeValue(s: string): string {
  let out = "";
  let inSlash = false;
  for (const c of s) {
    if (inSlash) {
      if (c !== "\\" && c !== "," && c !== "=") throw new Error(`invalid field selector: invalid escape sequence: \\${c}`);
      out += c;
      inSlash = false;
    } else if (c === "\\") inSlash = true;
    else if (c === "," || c === "=") throw new Error(`invalid field selector: unescaped character in value: ${c}`);
    else out += c;
  }
  if (inSlash) throw new Error("invalid field selector: invalid escape sequence: \\");
  return out;
}

/**
 * Parse a `fieldSelector` query parameter for `group`/`resource` (group "" = core).
 * Throws ApiError 400 BadRequest for syntax errors and for `field label not supported: <f>`.
 * Custom resources (and unknown resources) support metadata.name and metadata.namespace only.
 */
export function parseFieldSelector(text: string, group: string, resource: string): FieldSelector {
  const gr = `${group}/${resource}`;
  const allowed = new Set([...metaFields, ...(supportedFields[gr] ?? [])]);
  const reqs: FieldRequirement[] = [];
  for (const part of splitTerms(text)) {
    if (part === "") continue;
    const split = splitTerm(part);
    if (!split) throw new ApiError(400, "BadRequest", `invalid selector: '${text}'; can't understand '${part}'`);
    let value: string;
    try {
      value = unescapeValue(split[2]);
    } catch (e) {
      throw new ApiError(400, "BadRequest", (e as Error).message);
    }
    const field = fieldAliases[gr]?.[split[0]] ?? split[0];
    if (!allowed.has(field)) throw new ApiError(400, "BadRequest", `field label not supported: ${split[0]}`);
    reqs.push({ field, operator: split[1] === "!=" ? "!=" : "=", value });
  }
  return { requirements: reqs };
}

function str(v: unknown): string {
  if (v === undefined || v === null) return "";
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return "";
}

/**
 * The value kube's GetAttrs would expose for `field` (missing -> "", booleans "true"/"false").
 * A few fields are computed like kube: pod status.podIP is the first of status.podIPs, event
 * `source` falls back to reportingController, and bool/count fields kube always sets default to
 * "false"/"0".
 */
export function fieldValue(obj: KubeObject, field: string): string {
  switch (field) {
    case "spec.hostNetwork":
    case "spec.unschedulable":
      return valueAtPath(obj, field) === true ? "true" : "false";
    case "status.podIP": {
      const ips = valueAtPath(obj, "status.podIPs");
      if (Array.isArray(ips) && ips.length > 0) return str((ips[0] as { ip?: unknown } | null)?.ip);
      return str(valueAtPath(obj, "status.podIP"));
    }
    case "source": {
      const component = str(valueAtPath(obj, "source.component"));
      return component || str(obj.reportingComponent ?? obj.reportingController);
    }
    case "reportingComponent":
      return str(obj.reportingComponent ?? obj.reportingController);
    case "status.replicas":
      return str(valueAtPath(obj, field) ?? 0);
    case "status.successful":
      return str(valueAtPath(obj, "status.succeeded") ?? 0);
    default:
      return str(valueAtPath(obj, field));
  }
}

export function matchesFieldSelector(sel: FieldSelector, obj: KubeObject): boolean {
  for (const r of sel.requirements) {
    const v = fieldValue(obj, r.field);
    if (r.operator === "=" ? v !== r.value : v === r.value) return false;
  }
  return true;
}
