// DevCluster, DevMachine and their templates between v1beta1 and v1beta2 (the hub, the storage
// version), as CAPD's conversion.go does it: the controller's conversion webhook serves it to a real
// kube-apiserver, and the edge's API server runs it in-process for the embedded management API (a fake
// cluster calls no webhooks). Written by hand because the only implementation is CAPI's Go types and
// conversion-gen output; the mapping is small and listed here field by field.
//
// v1beta2 -> v1beta1 loses what v1beta1 cannot hold (the tri-state `initialization.provisioned`, a
// machine's `status.failureDomain`, a machine template's `status`): as CAPI does, the hub's spec and
// status travel in the `cluster.x-k8s.io/conversion-data` annotation and are restored on the way back,
// so hub -> spoke -> hub is lossless.

export const DEV_GROUP = "infrastructure.cluster.x-k8s.io";
export const DEV_HUB_VERSION = "v1beta2";
export const DEV_SPOKE_VERSION = "v1beta1";
/** CAPI's annotation for the data a down-conversion cannot hold. */
export const CONVERSION_DATA_ANNOTATION = "cluster.x-k8s.io/conversion-data";

/** The kinds converted here, by kind name. */
export const DEV_CONVERTIBLE_KINDS = ["DevCluster", "DevClusterTemplate", "DevMachine", "DevMachineTemplate"] as const;
type DevKind = (typeof DEV_CONVERTIBLE_KINDS)[number];

type Json = Record<string, unknown>;

/** A request the converter cannot serve (unknown kind or version, malformed object). */
export class ConversionError extends Error {
  override name = "ConversionError";
}

/** Whether `kind` in `group` is one of the kinds converted here. */
export function isDevConvertible(group: string, kind: string): boolean {
  return group === DEV_GROUP && (DEV_CONVERTIBLE_KINDS as readonly string[]).includes(kind);
}

/**
 * `obj` (a DevCluster, DevMachine or template at v1beta1 or v1beta2) as `toApiVersion`. Returns a new
 * object; `obj` is not changed. Metadata is kept except the conversion-data annotation.
 */
export function convertDevObject(obj: Json, toApiVersion: string): Json {
  const kind = obj.kind;
  if (typeof kind !== "string" || !(DEV_CONVERTIBLE_KINDS as readonly string[]).includes(kind)) {
    throw new ConversionError(`no conversion for kind ${JSON.stringify(kind)}`);
  }
  const from = versionOf(obj.apiVersion);
  const to = versionOf(toApiVersion);
  if (obj.metadata !== undefined && !isObject(obj.metadata)) throw new ConversionError("metadata must be an object");
  const copy = structuredClone(obj);
  copy.apiVersion = toApiVersion;
  if (from === to) return copy;
  return to === DEV_HUB_VERSION ? toHub(kind as DevKind, copy) : toSpoke(kind as DevKind, copy, obj);
}

function versionOf(apiVersion: unknown): string {
  const m = typeof apiVersion === "string" ? /^infrastructure\.cluster\.x-k8s\.io\/(v1beta1|v1beta2)$/.exec(apiVersion) : null;
  if (!m) throw new ConversionError(`no conversion for apiVersion ${JSON.stringify(apiVersion)}: ${DEV_GROUP}/${DEV_SPOKE_VERSION} and /${DEV_HUB_VERSION} are served`);
  return m[1];
}

// ---------------------------------------------------------------------------------------------
// v1beta1 -> v1beta2

function toHub(kind: DevKind, obj: Json): Json {
  const restored = takeConversionData(obj);
  const spec = objectAt(obj, "spec");
  const status = objectAt(obj, "status");
  switch (kind) {
    case "DevCluster":
      if (spec) clusterSpecToHub(spec, objectAt(restored ?? {}, "spec"));
      if (status) {
        statusToHub(status, restored);
        if (status.failureDomains !== undefined) status.failureDomains = failureDomainsToList(status.failureDomains, objectAt(restored ?? {}, "status")?.failureDomains);
      }
      break;
    case "DevClusterTemplate":
      withTemplateSpec(spec, (s) => clusterSpecToHub(s, undefined));
      break;
    case "DevMachine":
      if (status) {
        statusToHub(status, restored);
        const fd = objectAt(restored ?? {}, "status")?.failureDomain;
        if (fd !== undefined) status.failureDomain = fd;
      }
      break;
    case "DevMachineTemplate": {
      const rs = restored && objectAt(restored, "status");
      if (rs) obj.status = rs;
      break;
    }
  }
  dropEmpty(obj, "status");
  return obj;
}

/** spec.controlPlaneEndpoint is omitzero in v1beta2; the docker backend's failure domains become a list. */
function clusterSpecToHub(spec: Json, restored: Json | undefined): void {
  const ep = objectAt(spec, "controlPlaneEndpoint");
  if (ep && (ep.host === undefined || ep.host === "") && (ep.port === undefined || ep.port === 0)) delete spec.controlPlaneEndpoint;
  const docker = objectAt(objectAt(spec, "backend") ?? {}, "docker");
  const before = objectAt(objectAt(restored ?? {}, "backend") ?? {}, "docker")?.failureDomains;
  if (docker && docker.failureDomains !== undefined) docker.failureDomains = failureDomainsToList(docker.failureDomains, before);
}

/** ready -> initialization.provisioned; conditions -> deprecated.v1beta1.conditions; v1beta2.conditions -> conditions. */
function statusToHub(status: Json, restored: Json | undefined): void {
  const { ready, conditions: legacy, v1beta2 } = status;
  delete status.ready;
  delete status.conditions;
  delete status.v1beta2;
  const conditions = isObject(v1beta2) ? v1beta2.conditions : undefined;
  if (conditions !== undefined) status.conditions = conditions;
  if (legacy !== undefined) status.deprecated = { v1beta1: { conditions: legacy } };
  // A v1beta1 `ready: false` is also what "not reported yet" looks like; the hub's explicit false survives
  // only through the conversion data, as in CAPI's Convert_bool_To_Pointer_bool.
  const before = objectAt(objectAt(restored ?? {}, "status") ?? {}, "initialization")?.provisioned;
  const provisioned = ready === true ? true : before === false ? false : undefined;
  if (provisioned !== undefined) status.initialization = { provisioned };
}

/**
 * v1beta1's map of failure domains (name -> spec), as v1beta2's list sorted by name; the hub's own list
 * (its order, an unset controlPlane) when the conversion data holds one that maps to the same domains.
 */
function failureDomainsToList(domains: unknown, restored: unknown): unknown {
  if (!isObject(domains)) return domains;
  if (Array.isArray(restored) && sameJson(failureDomainsToMap(restored), domains)) return restored;
  return Object.keys(domains)
    .sort()
    .map((name) => {
      const d = isObject(domains[name]) ? domains[name] : {};
      return { name, controlPlane: d.controlPlane === true, ...(d.attributes !== undefined ? { attributes: d.attributes } : {}) };
    });
}

/** The hub object that a down-conversion stored, removed from the annotations. */
function takeConversionData(obj: Json): Json | undefined {
  const meta = objectAt(obj, "metadata");
  const annotations = meta && objectAt(meta, "annotations");
  const data = annotations?.[CONVERSION_DATA_ANNOTATION];
  if (data === undefined) return undefined;
  delete annotations![CONVERSION_DATA_ANNOTATION];
  if (Object.keys(annotations!).length === 0) delete meta!.annotations;
  if (typeof data !== "string") return undefined;
  try {
    const parsed: unknown = JSON.parse(data);
    return isObject(parsed) ? parsed : undefined;
  } catch {
    // CAPI fails the conversion here; a client that edited the annotation loses only the restored extras.
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// v1beta2 -> v1beta1

function toSpoke(kind: DevKind, obj: Json, hub: Json): Json {
  const spec = objectAt(obj, "spec");
  switch (kind) {
    case "DevCluster": {
      if (spec) clusterSpecToSpoke(spec);
      const status = statusToSpoke(obj);
      if (Array.isArray(status.failureDomains)) status.failureDomains = failureDomainsToMap(status.failureDomains);
      break;
    }
    case "DevClusterTemplate":
      withTemplateSpec(spec, clusterSpecToSpoke);
      return obj; // CAPI keeps no conversion data for cluster templates: nothing is lost.
    case "DevMachine": {
      if (spec && spec.providerID === "") delete spec.providerID;
      const status = statusToSpoke(obj);
      delete status.failureDomain;
      break;
    }
    case "DevMachineTemplate": {
      withTemplateSpec(spec, (s) => {
        if (s.providerID === "") delete s.providerID;
      });
      delete obj.status;
      break;
    }
  }
  storeConversionData(obj, hub);
  return obj;
}

function clusterSpecToSpoke(spec: Json): void {
  const docker = objectAt(objectAt(spec, "backend") ?? {}, "docker");
  if (docker && Array.isArray(docker.failureDomains)) docker.failureDomains = failureDomainsToMap(docker.failureDomains);
}

/** The v1beta1 status (always present there: `ready` has no omitempty). */
function statusToSpoke(obj: Json): Json {
  const status = objectAt(obj, "status") ?? {};
  obj.status = status;
  const { conditions, initialization, deprecated } = status;
  delete status.conditions;
  delete status.initialization;
  delete status.deprecated;
  status.ready = isObject(initialization) && initialization.provisioned === true;
  const legacy = isObject(deprecated) && isObject(deprecated.v1beta1) ? deprecated.v1beta1.conditions : undefined;
  if (legacy !== undefined) status.conditions = legacy;
  if (conditions !== undefined) status.v1beta2 = { conditions };
  return status;
}

/** Deep equality of JSON values, whatever the key order. */
function sameJson(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameJson(x, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && sameJson(a[k], b[k]));
  }
  return a === b;
}

/**
 * v1beta2's list of failure domains as v1beta1's map (name -> {controlPlane, attributes}). An item
 * without a name (which the CRD schema refuses) has no key to live under and is left out, so one bad
 * object never makes a whole LIST at v1beta1 fail.
 */
function failureDomainsToMap(domains: unknown[]): Json {
  const out: Json = {};
  for (const d of domains) {
    if (!isObject(d) || typeof d.name !== "string") continue;
    out[d.name] = { controlPlane: d.controlPlane === true, ...(d.attributes !== undefined ? { attributes: d.attributes } : {}) };
  }
  return out;
}

/** The hub's apiVersion, kind, spec and status (no metadata), as CAPI's MarshalData stores them. */
function storeConversionData(obj: Json, hub: Json): void {
  const { metadata: _m, ...data } = hub;
  const meta = (objectAt(obj, "metadata") ?? {}) as Json;
  obj.metadata = meta;
  meta.annotations = { ...(objectAt(meta, "annotations") ?? {}), [CONVERSION_DATA_ANNOTATION]: JSON.stringify(data) };
}

// ---------------------------------------------------------------------------------------------

function withTemplateSpec(spec: Json | undefined, fn: (s: Json) => void): void {
  const inner = objectAt(objectAt(spec ?? {}, "template") ?? {}, "spec");
  if (inner) fn(inner);
}

function objectAt(obj: Json, key: string): Json | undefined {
  const v = obj[key];
  return isObject(v) ? v : undefined;
}

function dropEmpty(obj: Json, key: string): void {
  const v = obj[key];
  if (isObject(v) && Object.keys(v).length === 0) delete obj[key];
}

/** A JSON object (not null, not an array). */
export function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
