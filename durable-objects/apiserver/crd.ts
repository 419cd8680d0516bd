// CustomResourceDefinition handling: validation, the KindInfo a CRD registers, and its status.
import { convertDevObject, isDevConvertible } from "../../edge-contract/dev-conversion.js";
import type { StatusCause } from "./status.js";
import type { KindInfo, KubeObject } from "./types.js";

interface CrdVersion {
  name?: unknown;
  served?: unknown;
  storage?: unknown;
  subresources?: { status?: unknown; scale?: { specReplicasPath?: unknown; statusReplicasPath?: unknown; labelSelectorPath?: unknown } };
  schema?: { openAPIV3Schema?: unknown };
}

interface CrdSpec {
  group?: unknown;
  scope?: unknown;
  names?: { plural?: unknown; singular?: unknown; kind?: unknown; listKind?: unknown; shortNames?: unknown; categories?: unknown };
  versions?: unknown;
  conversion?: { strategy?: unknown; webhook?: { conversionReviewVersions?: unknown; clientConfig?: { url?: unknown; service?: unknown } } };
}

const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** kube-apiserver's version priority: GA > beta > alpha > anything else; higher numbers first. */
export function compareKubeVersions(a: string, b: string): number {
  const rank = (v: string): [number, number, number, string] => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return [3, 0, 0, v];
    const major = Number(m[1]);
    if (!m[2]) return [0, -major, 0, v];
    return [m[2] === "beta" ? 1 : 2, -major, -Number(m[3]), v];
  };
  const ra = rank(a);
  const rb = rank(b);
  for (let i = 0; i < 3; i++) if (ra[i] !== rb[i]) return (ra[i] as number) - (rb[i] as number);
  return ra[3] < rb[3] ? -1 : ra[3] > rb[3] ? 1 : 0;
}

// JSONSchemaProps keywords by the Go type kube-apiserver decodes them into: a CRD whose schema has a
// `description` that is an object (a YAML `key: a: b` slip) never reaches storage there.
const STRING_KEYWORDS = ["description", "type", "format", "title", "pattern", "$ref", "$schema", "id", "x-kubernetes-list-type", "x-kubernetes-map-type"];
const NUMBER_KEYWORDS = ["maximum", "minimum", "multipleOf", "maxLength", "minLength", "maxItems", "minItems", "maxProperties", "minProperties"];
const BOOLEAN_KEYWORDS = ["nullable", "exclusiveMaximum", "exclusiveMinimum", "uniqueItems", "x-kubernetes-preserve-unknown-fields", "x-kubernetes-int-or-string", "x-kubernetes-embedded-resource"];
const MAX_SCHEMA_DEPTH = 64;

/** Type errors in an openAPIV3Schema (keywords of the wrong JSON type), with kube's field paths. */
function schemaTypeCauses(node: unknown, path: string, out: StatusCause[], depth = 0): void {
  const bad = (field: string, message: string) => out.push({ reason: "FieldValueInvalid", field, message });
  if (out.length >= 20) return;
  if (depth > MAX_SCHEMA_DEPTH) return void bad(path, "Invalid value: the schema is nested too deeply");
  if (!node || typeof node !== "object" || Array.isArray(node)) return void bad(path, "Invalid value: must be an object");
  const s = node as Record<string, unknown>;
  for (const k of STRING_KEYWORDS) if (s[k] !== undefined && typeof s[k] !== "string") bad(`${path}.${k}`, "Invalid value: must be a string");
  for (const k of NUMBER_KEYWORDS) if (s[k] !== undefined && typeof s[k] !== "number") bad(`${path}.${k}`, "Invalid value: must be a number");
  for (const k of BOOLEAN_KEYWORDS) if (s[k] !== undefined && typeof s[k] !== "boolean") bad(`${path}.${k}`, "Invalid value: must be a boolean");
  for (const k of ["required", "x-kubernetes-list-map-keys"]) {
    if (s[k] !== undefined && (!Array.isArray(s[k]) || (s[k] as unknown[]).some((x) => typeof x !== "string"))) bad(`${path}.${k}`, "Invalid value: must be a list of strings");
  }
  if (s.enum !== undefined && !Array.isArray(s.enum)) bad(`${path}.enum`, "Invalid value: must be a list");
  for (const k of ["properties", "patternProperties", "definitions"]) {
    const props = s[k];
    if (props === undefined) continue;
    if (!props || typeof props !== "object" || Array.isArray(props)) bad(`${path}.${k}`, "Invalid value: must be an object");
    else for (const [name, sub] of Object.entries(props)) schemaTypeCauses(sub, `${path}.${k}[${name}]`, out, depth + 1);
  }
  for (const k of ["allOf", "anyOf", "oneOf"]) {
    const list = s[k];
    if (list === undefined) continue;
    if (!Array.isArray(list)) bad(`${path}.${k}`, "Invalid value: must be a list");
    else list.forEach((sub, i) => schemaTypeCauses(sub, `${path}.${k}[${i}]`, out, depth + 1));
  }
  if (s.not !== undefined) schemaTypeCauses(s.not, `${path}.not`, out, depth + 1);
  if (Array.isArray(s.items)) s.items.forEach((sub, i) => schemaTypeCauses(sub, `${path}.items[${i}]`, out, depth + 1));
  else if (s.items !== undefined) schemaTypeCauses(s.items, `${path}.items`, out, depth + 1);
  if (s.additionalProperties !== undefined && typeof s.additionalProperties !== "boolean") schemaTypeCauses(s.additionalProperties, `${path}.additionalProperties`, out, depth + 1);
}

/** Structural checks kube-apiserver makes before accepting a CRD; returns field errors (empty = valid). */
export function validateCrd(crd: KubeObject): StatusCause[] {
  const out: StatusCause[] = [];
  const bad = (field: string, message: string, reason = "FieldValueInvalid") => out.push({ reason, field, message });
  const spec = (crd.spec ?? {}) as CrdSpec;
  const names = spec.names ?? {};
  if (typeof spec.group !== "string" || !spec.group || !spec.group.includes(".")) bad("spec.group", `Invalid value: ${JSON.stringify(spec.group ?? "")}: should be a domain with at least one dot`);
  if (typeof names.plural !== "string" || !DNS_LABEL.test(names.plural)) bad("spec.names.plural", `Invalid value: ${JSON.stringify(names.plural ?? "")}: a lowercase RFC 1123 label is required`);
  if (names.singular !== undefined && (typeof names.singular !== "string" || !DNS_LABEL.test(names.singular))) bad("spec.names.singular", `Invalid value: ${JSON.stringify(names.singular)}: a lowercase RFC 1123 label is required`);
  if (typeof names.kind !== "string" || !/^[A-Za-z][A-Za-z0-9]*$/.test(names.kind)) bad("spec.names.kind", "Required value");
  if (names.shortNames !== undefined && (!Array.isArray(names.shortNames) || names.shortNames.some((s) => typeof s !== "string" || !DNS_LABEL.test(s)))) bad("spec.names.shortNames", "Invalid value: must be lowercase RFC 1123 labels");
  if (names.categories !== undefined && (!Array.isArray(names.categories) || names.categories.some((s) => typeof s !== "string"))) bad("spec.names.categories", "Invalid value: must be strings");
  if (spec.scope !== "Namespaced" && spec.scope !== "Cluster") bad("spec.scope", `Unsupported value: ${JSON.stringify(spec.scope ?? "")}: supported values: "Cluster", "Namespaced"`, "FieldValueNotSupported");
  const versions = spec.versions;
  if (!Array.isArray(versions) || versions.length === 0) {
    bad("spec.versions", "Invalid value: must have exactly one version marked as storage version", "FieldValueRequired");
  } else {
    const seen = new Set<string>();
    versions.forEach((v: CrdVersion, i) => {
      if (!v || typeof v !== "object" || typeof v.name !== "string" || !DNS_LABEL.test(v.name)) bad(`spec.versions[${i}].name`, "Invalid value: a DNS-1035 label is required");
      else if (seen.has(v.name)) bad(`spec.versions[${i}].name`, `Duplicate value: ${JSON.stringify(v.name)}`, "FieldValueDuplicate");
      else seen.add(v.name);
    });
    versions.forEach((v: CrdVersion, i) => {
      const schema = (v as { schema?: { openAPIV3Schema?: unknown } } | undefined)?.schema?.openAPIV3Schema;
      if (schema !== undefined) schemaTypeCauses(schema, `spec.versions[${i}].schema.openAPIV3Schema`, out);
    });
    const storage = versions.filter((v: CrdVersion) => v && v.storage === true).length;
    if (storage !== 1) bad("spec.versions", "Invalid value: must have exactly one version marked as storage version");
    if (!versions.some((v: CrdVersion) => v && v.served === true)) bad("spec.versions", "Invalid value: must have at least one served version");
  }
  conversionCauses(spec, bad);
  if (out.length === 0) {
    const expected = `${names.plural}.${spec.group}`;
    if (crd.metadata?.name !== expected) bad("metadata.name", `Invalid value: ${JSON.stringify(crd.metadata?.name ?? "")}: must be spec.names.plural+"."+spec.group`);
  }
  return out;
}

/** kube's checks of spec.conversion: a known strategy, and a webhook (with a client config) exactly when it is Webhook. */
function conversionCauses(spec: CrdSpec, bad: (field: string, message: string, reason?: string) => void): void {
  const conversion = spec.conversion;
  if (conversion === undefined) return;
  if (!conversion || typeof conversion !== "object") return void bad("spec.conversion", "Invalid value: must be an object");
  const strategy = conversion.strategy ?? "None";
  if (strategy !== "None" && strategy !== "Webhook") return void bad("spec.conversion.strategy", `Unsupported value: ${JSON.stringify(strategy)}: supported values: "None", "Webhook"`, "FieldValueNotSupported");
  const webhook = conversion.webhook;
  if (strategy === "None") {
    if (webhook !== undefined) bad("spec.conversion.webhook", "Forbidden: should not be set when strategy is not set to Webhook", "FieldValueForbidden");
    return;
  }
  if (!webhook || typeof webhook !== "object") return void bad("spec.conversion.webhook", "Required value: required when strategy is set to Webhook", "FieldValueRequired");
  const reviews = webhook.conversionReviewVersions;
  if (!Array.isArray(reviews) || !reviews.some((v) => v === "v1" || v === "v1beta1")) {
    bad("spec.conversion.webhook.conversionReviewVersions", 'Invalid value: must include at least one of v1, v1beta1', reviews === undefined ? "FieldValueRequired" : "FieldValueInvalid");
  }
  const cc = webhook.clientConfig;
  if (!cc || typeof cc !== "object") bad("spec.conversion.webhook.clientConfig", "Required value: required when strategy is set to Webhook", "FieldValueRequired");
  else if ((cc.url === undefined) === (cc.service === undefined)) bad("spec.conversion.webhook.clientConfig", "Required value: exactly one of url or service is required", "FieldValueRequired");
}

/**
 * The in-process converter of a CRD with a conversion webhook: capim-edge's own Dev* kinds (whose
 * webhook is the controller) convert here, so the embedded management API, which calls no webhooks,
 * serves v1beta1 and v1beta2 as a real cluster with the controller's webhook does. Other webhooks are
 * not called: their objects are relabelled, as with strategy None.
 */
function converterOf(spec: CrdSpec): KindInfo["convert"] {
  if (spec.conversion?.strategy !== "Webhook" || !isDevConvertible(String(spec.group), String(spec.names?.kind))) return undefined;
  return (obj, apiVersion) => convertDevObject(obj, apiVersion) as KubeObject;
}

/** The kind a (valid) CRD registers: every served version, preferred first. */
export function kindFromCrd(crd: KubeObject): KindInfo | undefined {
  const spec = crd.spec as CrdSpec;
  const names = spec.names!;
  const versions = (spec.versions as CrdVersion[]).filter((v) => v.served === true);
  if (versions.length === 0) return undefined;
  const ordered = versions.map((v) => v.name as string).sort(compareKubeVersions);
  // Subresources may differ per version; the server keeps one set per kind (the storage version's, else any).
  const storage = (spec.versions as CrdVersion[]).find((v) => v.storage === true) ?? versions[0];
  const hasStatus = !!(storage.subresources?.status ?? versions.some((v) => v.subresources?.status));
  const kind = names.kind as string;
  const convert = converterOf(spec);
  return {
    group: spec.group as string,
    versions: ordered,
    kind,
    listKind: typeof names.listKind === "string" && names.listKind ? names.listKind : `${kind}List`,
    resource: names.plural as string,
    singular: typeof names.singular === "string" && names.singular ? names.singular : kind.toLowerCase(),
    namespaced: spec.scope === "Namespaced",
    ...(Array.isArray(names.shortNames) ? { shortNames: names.shortNames as string[] } : {}),
    ...(Array.isArray(names.categories) ? { categories: names.categories as string[] } : {}),
    subresources: [...(hasStatus ? ["status"] : []), ...(storage.subresources?.scale ? ["scale"] : [])],
    hasStatusSubresource: hasStatus,
    ...scaleOf(storage.subresources?.scale),
    custom: true,
    ...(convert ? { convert } : {}),
    ...schemasOf(versions),
  };
}

/** A CRD's scale subresource paths (`.spec.replicas` form), without the leading dot. */
function scaleOf(scale: { specReplicasPath?: unknown; statusReplicasPath?: unknown; labelSelectorPath?: unknown } | undefined): Pick<KindInfo, "scale"> {
  if (!scale || typeof scale.specReplicasPath !== "string" || typeof scale.statusReplicasPath !== "string") return {};
  const path = (p: string) => p.replace(/^\./, "");
  return {
    scale: {
      specReplicasPath: path(scale.specReplicasPath),
      statusReplicasPath: path(scale.statusReplicasPath),
      ...(typeof scale.labelSelectorPath === "string" ? { labelSelectorPath: path(scale.labelSelectorPath) } : {}),
    },
  };
}

/** Each served version's openAPIV3Schema, so OpenAPI (kubectl explain, validation) describes the kind. */
function schemasOf(versions: CrdVersion[]): { schemas?: Record<string, unknown> } {
  const entries = versions
    .filter((v) => v.schema?.openAPIV3Schema)
    .map((v) => [v.name as string, v.schema!.openAPIV3Schema] as const);
  return entries.length ? { schemas: Object.fromEntries(entries) } : {};
}

/** The status kube-apiserver's CRD controllers would write once the names are accepted (or not). */
export function crdStatus(crd: KubeObject, accepted: boolean, conflict: string, now: string, previous?: KubeObject): Record<string, unknown> {
  const spec = crd.spec as CrdSpec;
  const names = spec.names ?? {};
  const prevConds = (((previous?.status as Record<string, unknown>)?.conditions ?? []) as Array<Record<string, unknown>>);
  const since = (type: string, status: string) => {
    const p = prevConds.find((c) => c.type === type);
    return p && p.status === status && typeof p.lastTransitionTime === "string" ? p.lastTransitionTime : now;
  };
  const cond = (type: string, ok: boolean, reason: string, message: string) => ({
    type,
    status: ok ? "True" : "False",
    lastTransitionTime: since(type, ok ? "True" : "False"),
    reason,
    message,
  });
  const storage = (spec.versions as CrdVersion[]).find((v) => v.storage === true)?.name as string;
  const prevStored = ((previous?.status as Record<string, unknown>)?.storedVersions ?? []) as string[];
  const acceptedNames: Record<string, unknown> = {
    plural: names.plural,
    singular: typeof names.singular === "string" && names.singular ? names.singular : String(names.kind).toLowerCase(),
    kind: names.kind,
    listKind: typeof names.listKind === "string" && names.listKind ? names.listKind : `${names.kind}List`,
  };
  if (Array.isArray(names.shortNames)) acceptedNames.shortNames = names.shortNames;
  if (Array.isArray(names.categories)) acceptedNames.categories = names.categories;
  return {
    conditions: [
      accepted
        ? cond("NamesAccepted", true, "NoConflicts", "no conflicts found")
        : cond("NamesAccepted", false, "NameConflict", conflict),
      accepted
        ? cond("Established", true, "InitialNamesAccepted", "the initial names have been accepted")
        : cond("Established", false, "NotAccepted", "not all names are accepted"),
    ],
    acceptedNames: accepted ? acceptedNames : { plural: "", kind: "" },
    storedVersions: [...new Set([...prevStored, storage])],
  };
}
