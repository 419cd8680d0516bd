// ObjectMeta validation with kube-apiserver's rules and messages
// (k8s.io/apimachinery/pkg/api/validation + pkg/util/validation), so clients that show or parse
// `Invalid` Status causes see what a real cluster says. Hand-written: there is no JS port of these rules.

import { isObject } from "./json.js";
import { ApiError, type KindInfo, type KubeObject } from "./types.js";

/** One validation failure; `type` is kube's CauseType, `message` is kube's error body (no field prefix). */
export interface FieldError {
  field: string;
  type: string;
  message: string;
}

// ---------------------------------------------------------------------------------------------
// String validators (k8s.io/apimachinery/pkg/util/validation). Each returns a list of messages.

const qualifiedNameFmt = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const qualifiedNameRe = new RegExp(`^${qualifiedNameFmt}$`);
const qualifiedNameErrMsg =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const labelValueFmt = `(${qualifiedNameFmt})?`;
const labelValueRe = new RegExp(`^${labelValueFmt}$`);
const labelValueErrMsg =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const dns1123LabelFmt = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const dns1123LabelRe = new RegExp(`^${dns1123LabelFmt}$`);
const dns1123LabelErrMsg =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const dns1123SubdomainFmt = `${dns1123LabelFmt}(\\.${dns1123LabelFmt})*`;
const dns1123SubdomainRe = new RegExp(`^${dns1123SubdomainFmt}$`);
const dns1123SubdomainErrMsg =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const dns1035LabelFmt = "[a-z]([-a-z0-9]*[a-z0-9])?";
const dns1035LabelRe = new RegExp(`^${dns1035LabelFmt}$`);
const dns1035LabelErrMsg =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";

export const TOTAL_ANNOTATION_SIZE_LIMIT_BYTES = 256 * 1024;

function regexError(msg: string, fmt: string, ...examples: string[]): string {
  if (examples.length === 0) return `${msg} (regex used for validation is '${fmt}')`;
  return `${msg} (e.g. ${examples.map((e) => `'${e}', `).join("or ")}regex used for validation is '${fmt}')`;
}
const maxLenError = (n: number) => `must be no more than ${n} characters`;
const emptyError = () => "must be non-empty";

export function isDNS1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 253) errs.push(maxLenError(253));
  if (!dns1123SubdomainRe.test(value)) errs.push(regexError(dns1123SubdomainErrMsg, dns1123SubdomainFmt, "example.com"));
  return errs;
}

export function isDNS1123Label(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push(maxLenError(63));
  if (!dns1123LabelRe.test(value)) errs.push(regexError(dns1123LabelErrMsg, dns1123LabelFmt, "my-name", "123-abc"));
  return errs;
}

export function isDNS1035Label(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push(maxLenError(63));
  if (!dns1035LabelRe.test(value)) errs.push(regexError(dns1035LabelErrMsg, dns1035LabelFmt, "my-name", "abc-123"));
  return errs;
}

/** Label keys, annotation keys (lower-cased first), finalizers: `[dns-subdomain/]name`. */
export function isQualifiedName(value: string): string[] {
  const errs: string[] = [];
  const parts = value.split("/");
  let name: string;
  if (parts.length === 1) {
    name = parts[0]!;
  } else if (parts.length === 2) {
    const prefix = parts[0]!;
    name = parts[1]!;
    if (prefix.length === 0) errs.push("prefix part " + emptyError());
    else for (const m of isDNS1123Subdomain(prefix)) errs.push("prefix part " + m);
  } else {
    return [
      "a qualified name " +
        regexError(qualifiedNameErrMsg, qualifiedNameFmt, "MyName", "my.name", "123-abc") +
        " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ];
  }
  if (name.length === 0) errs.push("name part " + emptyError());
  else if (name.length > 63) errs.push("name part " + maxLenError(63));
  if (!qualifiedNameRe.test(name)) {
    errs.push("name part " + regexError(qualifiedNameErrMsg, qualifiedNameFmt, "MyName", "my.name", "123-abc"));
  }
  return errs;
}

export function isValidLabelValue(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push(maxLenError(63));
  if (!labelValueRe.test(value)) errs.push(regexError(labelValueErrMsg, labelValueFmt, "MyValue", "my_value", "12345"));
  return errs;
}

/** kube's path.IsValidPathSegmentName (RBAC object names). */
export function isValidPathSegmentName(value: string, prefix = false): string[] {
  if (!prefix) for (const bad of [".", ".."]) if (value === bad) return [`may not be '${bad}'`];
  const errs: string[] = [];
  for (const bad of ["/", "%"]) if (value.includes(bad)) errs.push(`may not contain '${bad}'`);
  return errs;
}

// ---------------------------------------------------------------------------------------------
// Field errors, formatted like k8s.io/apimachinery/pkg/util/validation/field.Error.ErrorBody().

function formatValue(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return JSON.stringify(v);
}

export function fieldInvalid(field: string, value: unknown, detail: string): FieldError {
  return { field, type: "FieldValueInvalid", message: `Invalid value: ${formatValue(value)}${detail ? `: ${detail}` : ""}` };
}
export function fieldRequired(field: string, detail: string): FieldError {
  return { field, type: "FieldValueRequired", message: `Required value${detail ? `: ${detail}` : ""}` };
}
export function fieldForbidden(field: string, detail: string): FieldError {
  return { field, type: "FieldValueForbidden", message: `Forbidden${detail ? `: ${detail}` : ""}` };
}
export function fieldTooLong(field: string, maxBytes: number): FieldError {
  return { field, type: "FieldValueTooLong", message: `Too long: may not be more than ${maxBytes} bytes` };
}

/**
 * The 422 Invalid error kube-apiserver returns for failed validation (errors.NewInvalid):
 * message `<Kind>[.group] "<name>" is invalid: <field>: <body>` (several errors in `[a, b]`),
 * one StatusCause per error in details.causes.
 */
export function invalidError(group: string, kind: string, name: string, errors: FieldError[]): ApiError {
  const qualifiedKind = group ? `${kind}.${group}` : kind;
  const texts = [...new Set(errors.map((e) => `${e.field}: ${e.message}`))];
  const agg = texts.length === 0 ? "" : texts.length === 1 ? texts[0]! : `[${texts.join(", ")}]`;
  const message = agg ? `${qualifiedKind} ${JSON.stringify(name)} is invalid: ${agg}` : `${qualifiedKind} ${JSON.stringify(name)} is invalid`;
  return new ApiError(422, "Invalid", message, {
    group,
    kind,
    name,
    causes: errors.map((e) => ({ reason: e.type, message: e.message, field: e.field })),
  });
}

// ---------------------------------------------------------------------------------------------
// Name rules per kind.

type NameFn = (name: string, prefix: boolean) => string[];

// kube's maskTrailingDash: a generateName prefix may end in '-', since random chars follow.
function maskTrailingDash(name: string): string {
  return name.length > 1 && name.endsWith("-") ? name.slice(0, -2) + "a" : name;
}
const nameIsDNSSubdomain: NameFn = (n, prefix) => isDNS1123Subdomain(prefix ? maskTrailingDash(n) : n);
const nameIsDNSLabel: NameFn = (n, prefix) => isDNS1123Label(prefix ? maskTrailingDash(n) : n);
const nameIsDNS1035Label: NameFn = (n, prefix) => isDNS1035Label(prefix ? maskTrailingDash(n) : n);
const nameIsPathSegment: NameFn = (n, prefix) => isValidPathSegmentName(n, prefix);

/** The name validation kube uses for a kind (pkg/apis/<group>/validation). */
export function nameValidatorFor(group: string, kind: string): NameFn {
  if (group === "" && kind === "Namespace") return nameIsDNSLabel;
  // Services must be DNS-1035 labels (a DNS name is derived from them), not just 1123 labels.
  if (group === "" && kind === "Service") return nameIsDNS1035Label;
  if (group === "apps" && kind === "StatefulSet") return nameIsDNSLabel;
  if (group === "rbac.authorization.k8s.io") return nameIsPathSegment;
  return nameIsDNSSubdomain;
}

// ---------------------------------------------------------------------------------------------

function utf8Length(s: string): number {
  return new TextEncoder().encode(s).length;
}

/**
 * kube's ValidateObjectMeta for create/update. Call it after the router has defaulted the
 * namespace from the URL (and cleared it for cluster-scoped kinds, as kube does silently).
 * A missing name is accepted when generateName is set, so it can run before or after the
 * server generates the name.
 */
export function validateObjectMeta(obj: KubeObject, kind: KindInfo): FieldError[] {
  const errs: FieldError[] = [];
  const meta = obj.metadata;
  if (!isObject(meta)) return [fieldRequired("metadata", "")];
  const nameFn = nameValidatorFor(kind.group, kind.kind);

  const generateName = typeof meta.generateName === "string" ? meta.generateName : "";
  const name = typeof meta.name === "string" ? meta.name : "";
  if (generateName) for (const m of nameFn(generateName, true)) errs.push(fieldInvalid("metadata.generateName", generateName, m));
  if (!name) {
    if (!generateName) errs.push(fieldRequired("metadata.name", "name or generateName is required"));
  } else {
    for (const m of nameFn(name, false)) errs.push(fieldInvalid("metadata.name", name, m));
  }

  const namespace = typeof meta.namespace === "string" ? meta.namespace : "";
  if (kind.namespaced) {
    if (!namespace) errs.push(fieldRequired("metadata.namespace", ""));
    else for (const m of nameIsDNSLabel(namespace, false)) errs.push(fieldInvalid("metadata.namespace", namespace, m));
  } else if (namespace) {
    errs.push(fieldForbidden("metadata.namespace", "not allowed on this type"));
  }

  if (typeof meta.generation === "number" && meta.generation < 0) {
    errs.push(fieldInvalid("metadata.generation", meta.generation, "must be greater than or equal to 0"));
  }

  errs.push(...validateLabels(meta.labels, "metadata.labels"));
  errs.push(...validateAnnotations(meta.annotations, "metadata.annotations"));
  errs.push(...validateOwnerReferences(meta.ownerReferences, "metadata.ownerReferences"));
  errs.push(...validateFinalizers(meta.finalizers, "metadata.finalizers"));
  return errs;
}

export function validateLabels(labels: unknown, field: string): FieldError[] {
  if (labels === undefined || labels === null) return [];
  if (!isObject(labels)) return [fieldInvalid(field, labels, "must be a map of string keys to string values")];
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(labels)) {
    for (const m of isQualifiedName(k)) errs.push(fieldInvalid(field, k, m));
    if (typeof v !== "string") {
      errs.push(fieldInvalid(field, v, "label values must be strings"));
      continue;
    }
    for (const m of isValidLabelValue(v)) errs.push(fieldInvalid(field, v, m));
  }
  return errs;
}

export function validateAnnotations(annotations: unknown, field: string): FieldError[] {
  if (annotations === undefined || annotations === null) return [];
  if (!isObject(annotations)) return [fieldInvalid(field, annotations, "must be a map of string keys to string values")];
  const errs: FieldError[] = [];
  let size = 0;
  for (const [k, v] of Object.entries(annotations)) {
    // Annotation keys are qualified names except that case does not matter.
    for (const m of isQualifiedName(k.toLowerCase())) errs.push(fieldInvalid(field, k, m));
    if (typeof v !== "string") errs.push(fieldInvalid(field, v, "annotation values must be strings"));
    size += utf8Length(k) + (typeof v === "string" ? utf8Length(v) : 0);
  }
  if (size > TOTAL_ANNOTATION_SIZE_LIMIT_BYTES) errs.push(fieldTooLong(field, TOTAL_ANNOTATION_SIZE_LIMIT_BYTES));
  return errs;
}

export function validateFinalizers(finalizers: unknown, field: string): FieldError[] {
  if (finalizers === undefined || finalizers === null) return [];
  if (!Array.isArray(finalizers)) return [fieldInvalid(field, finalizers, "must be a list of strings")];
  const errs: FieldError[] = [];
  for (const f of finalizers) {
    if (typeof f !== "string") {
      errs.push(fieldInvalid(field, f, "finalizers must be strings"));
      continue;
    }
    for (const m of isQualifiedName(f)) errs.push(fieldInvalid(field, f, m));
  }
  return errs;
}

export function validateOwnerReferences(refs: unknown, field: string): FieldError[] {
  if (refs === undefined || refs === null) return [];
  if (!Array.isArray(refs)) return [fieldInvalid(field, refs, "must be a list of owner references")];
  const errs: FieldError[] = [];
  let firstController = "";
  for (const ref of refs) {
    if (!isObject(ref)) {
      errs.push(fieldInvalid(field, ref, "must be an object"));
      continue;
    }
    const apiVersion = typeof ref.apiVersion === "string" ? ref.apiVersion : "";
    const kind = typeof ref.kind === "string" ? ref.kind : "";
    const name = typeof ref.name === "string" ? ref.name : "";
    const uid = typeof ref.uid === "string" ? ref.uid : "";
    // schema.FromAPIVersionAndKind: the version is what follows the last '/', or the whole string.
    const version = apiVersion.includes("/") ? apiVersion.slice(apiVersion.lastIndexOf("/") + 1) : apiVersion;
    if (!version) errs.push(fieldInvalid(`${field}.apiVersion`, apiVersion, "version must not be empty"));
    if (!kind) errs.push(fieldInvalid(`${field}.kind`, kind, "kind must not be empty"));
    if (!name) errs.push(fieldInvalid(`${field}.name`, name, "name must not be empty"));
    if (!uid) errs.push(fieldInvalid(`${field}.uid`, uid, "uid must not be empty"));
    if (ref.controller === true) {
      const current = `${kind}/${name}`;
      if (firstController) {
        errs.push(
          fieldInvalid(
            field,
            refs,
            `Only one reference can have Controller set to true. Found "true" in references for ${firstController} and ${current}`,
          ),
        );
      } else {
        firstController = current;
      }
    }
  }
  return errs;
}
