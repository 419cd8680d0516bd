// meta.k8s.io/v1 Table output (what kubectl asks for with `Accept: ...;as=Table`).
//
// Columns and cells follow kube-apiserver's printers (k8s.io/kubernetes pkg/printers/internalversion):
// same names, types, priorities and cell formats, so `kubectl get` prints what it prints against a real
// cluster. Like kube-apiserver, every column is always generated (GenerateOptions{Wide: true});
// kubectl hides priority > 0 columns unless `-o wide`. Kinds without a printer get kube's default
// table convertor (NAME, CREATED AT); custom resources get their CRD's additionalPrinterColumns.
// Hand-written: these printers live in Go only; there is no JS port.
import type { KubeObject } from "./types.js";

type Json = Record<string, unknown>;
type Cell = string | number | boolean | null;

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

const NAME_DOC = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
const CREATED_DOC = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

function col(name: string, description = "", priority = 0, type = "string", format = ""): Column {
  return { name, type, format, description, priority };
}
const NAME_COL = col("Name", NAME_DOC, 0, "string", "name");
const AGE_COL = col("Age", CREATED_DOC);

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
  if (d < 365 * 8) return d % 365 ? `${Math.floor(d / 365)}y${d % 365}d` : `${Math.floor(d / 365)}y`;
  return `${Math.floor(d / 365)}y`;
}

/** translateTimestampSince: "<unknown>" for a missing time. */
function since(ts: unknown, now: Date): string {
  const t = typeof ts === "string" ? Date.parse(ts) : NaN;
  return Number.isNaN(t) ? "<unknown>" : humanDuration(now.getTime() - t);
}

// ---- small accessors over untyped JSON ------------------------------------------------------

const obj = (v: unknown): Json => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === "string" ? v : "");
const int = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? Math.trunc(v) : 0);
const orNone = (s: string): string => s || "<none>";
const count = (v: unknown): number => Object.keys(obj(v)).length;

/** labels.FormatLabels: sorted k=v pairs, "<none>" when empty. */
function formatLabels(m: unknown): string {
  const e = Object.entries(obj(m)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return e.length ? e.map(([k, v]) => `${k}=${String(v)}`).join(",") : "<none>";
}

/** metav1.LabelSelectorAsSelector(...).String(), for the wide SELECTOR columns. */
function formatSelector(sel: unknown): string {
  const s = obj(sel);
  const parts: string[] = [];
  for (const [k, v] of Object.entries(obj(s.matchLabels))) parts.push(`${k}=${String(v)}`);
  for (const r of arr(s.matchExpressions)) {
    const e = obj(r);
    const key = str(e.key);
    const vals = arr(e.values).map(String).sort();
    switch (e.operator) {
      case "In": parts.push(`${key} in (${vals.join(",")})`); break;
      case "NotIn": parts.push(`${key} notin (${vals.join(",")})`); break;
      case "Exists": parts.push(key); break;
      case "DoesNotExist": parts.push(`!${key}`); break;
    }
  }
  // kube sorts requirements by key.
  return parts.length ? parts.sort((a, b) => keyOf(a).localeCompare(keyOf(b))).join(",") : "<none>";
}
const keyOf = (req: string) => req.replace(/^!/, "").split(/[=\s]/)[0];

function podTemplate(o: KubeObject): { names: string; images: string } {
  const cs = arr(obj(obj(obj(obj(o.spec).template).spec)).containers).map(obj);
  return { names: cs.map((c) => str(c.name)).join(","), images: cs.map((c) => str(c.image)).join(",") };
}

// ---- pods -----------------------------------------------------------------------------------

function podStatus(pod: KubeObject, now: Date): { ready: string; reason: string; restarts: string } {
  const spec = obj(pod.spec);
  const status = obj(pod.status);
  const total = arr(spec.containers).length;
  let reason = str(status.reason) || str(status.phase);
  let restarts = 0;
  let lastRestart = NaN;
  let ready = 0;
  const noteRestart = (cs: Json) => {
    restarts += int(cs.restartCount);
    const t = Date.parse(str(obj(obj(cs.lastState).terminated).finishedAt));
    if (!Number.isNaN(t) && (Number.isNaN(lastRestart) || t > lastRestart)) lastRestart = t;
  };
  const initStatuses = arr(status.initContainerStatuses).map(obj);
  let initializing = false;
  // The first init container that has not finished decides the status (kube stops there too).
  for (let i = 0; i < initStatuses.length && !initializing; i++) {
    const cs = initStatuses[i];
    noteRestart(cs);
    const st = obj(cs.state);
    const term = obj(st.terminated);
    if (st.terminated && int(term.exitCode) === 0) continue;
    if (st.running && cs.started === true) continue; // a started sidecar
    if (st.terminated) {
      reason = str(term.reason) ? `Init:${str(term.reason)}` : int(term.signal) ? `Init:Signal:${int(term.signal)}` : `Init:ExitCode:${int(term.exitCode)}`;
    } else if (str(obj(st.waiting).reason) && str(obj(st.waiting).reason) !== "PodInitializing") {
      reason = `Init:${str(obj(st.waiting).reason)}`;
    } else {
      reason = `Init:${i}/${arr(spec.initContainers).length}`;
    }
    initializing = true;
  }
  if (!initializing) {
    let hasRunning = false;
    for (const cs of arr(status.containerStatuses).map(obj).reverse()) {
      noteRestart(cs);
      const st = obj(cs.state);
      const waiting = obj(st.waiting);
      const term = obj(st.terminated);
      if (str(waiting.reason)) reason = str(waiting.reason);
      else if (st.terminated && str(term.reason)) reason = str(term.reason);
      else if (st.terminated) reason = int(term.signal) ? `Signal:${int(term.signal)}` : `ExitCode:${int(term.exitCode)}`;
      else if (st.running && cs.ready === true) {
        hasRunning = true;
        ready++;
      }
    }
    if (reason === "Completed" && hasRunning) {
      const readyCond = arr(status.conditions).map(obj).find((c) => c.type === "Ready");
      reason = readyCond?.status === "True" ? "Running" : "NotReady";
    }
  }
  const meta = pod.metadata ?? {};
  if (meta.deletionTimestamp && status.reason === "NodeLost") reason = "Unknown";
  else if (meta.deletionTimestamp) reason = "Terminating";
  const restartsStr = restarts !== 0 && !Number.isNaN(lastRestart) ? `${restarts} (${humanDuration(now.getTime() - lastRestart)} ago)` : String(restarts);
  return { ready: `${ready}/${total}`, reason, restarts: restartsStr };
}

const podPrinter: TablePrinter = {
  columns: [
    NAME_COL,
    col("Ready", "The aggregate readiness state of this pod for accepting traffic."),
    col("Status", "The aggregate status of the containers in this pod."),
    col("Restarts", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
    AGE_COL,
    col("IP", "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.", 1),
    col("Node", "NodeName indicates in which node this pod is scheduled.", 1),
    col("Nominated Node", "nominatedNodeName is set only when this pod preempts other pods on the node.", 1),
    col("Readiness Gates", "If specified, all readiness gates will be evaluated for pod readiness.", 1),
  ],
  cells(o, now) {
    const s = podStatus(o, now);
    const spec = obj(o.spec);
    const status = obj(o.status);
    const gates = arr(spec.readinessGates).map((g) => str(obj(g).conditionType));
    let gatesCell = "<none>";
    if (gates.length) {
      const conds = arr(status.conditions).map(obj);
      const trueCount = gates.filter((t) => conds.some((c) => c.type === t && c.status === "True")).length;
      gatesCell = `${trueCount}/${gates.length}`;
    }
    return [s.ready, s.reason, s.restarts, since(o.metadata?.creationTimestamp, now), orNone(str(status.podIP)), orNone(str(spec.nodeName)), orNone(str(status.nominatedNodeName)), gatesCell];
  },
  conditions(o) {
    const phase = obj(o.status).phase;
    return phase === "Succeeded" || phase === "Failed" ? [{ type: "Completed", status: "True" }] : undefined;
  },
};

// ---- nodes ----------------------------------------------------------------------------------

function nodeRoles(labels: Record<string, string> | undefined): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(labels ?? {})) {
    if (k.startsWith("node-role.kubernetes.io/")) {
      const r = k.slice("node-role.kubernetes.io/".length);
      if (r) roles.add(r);
    } else if (k === "kubernetes.io/role" && v) roles.add(v);
  }
  return roles.size ? [...roles].sort().join(",") : "<none>";
}

const nodePrinter: TablePrinter = {
  columns: [
    NAME_COL,
    col("Status", "The status of the node"),
    col("Roles", "The roles of the node"),
    AGE_COL,
    col("Version", "Kubelet Version reported by the node."),
    col("Internal-IP", "List of addresses reachable to the node.", 1),
    col("External-IP", "List of addresses reachable to the node.", 1),
    col("OS-Image", "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).", 1),
    col("Kernel-Version", "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", 1),
    col("Container-Runtime", "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).", 1),
  ],
  cells(o, now) {
    const status = obj(o.status);
    const readyCond = arr(status.conditions).map(obj).find((c) => c.type === "Ready");
    const states = readyCond ? [readyCond.status === "True" ? "Ready" : "NotReady"] : ["Unknown"];
    if (obj(o.spec).unschedulable === true) states.push("SchedulingDisabled");
    const addrs = arr(status.addresses).map(obj);
    const addr = (t: string) => orNone(str(addrs.find((a) => a.type === t)?.address));
    const info = obj(status.nodeInfo);
    const unknown = (v: unknown) => str(v) || "<unknown>";
    return [states.join(","), nodeRoles(o.metadata?.labels), since(o.metadata?.creationTimestamp, now), str(info.kubeletVersion), addr("InternalIP"), addr("ExternalIP"), unknown(info.osImage), unknown(info.kernelVersion), unknown(info.containerRuntimeVersion)];
  },
};

// ---- workloads ------------------------------------------------------------------------------

const CONTAINERS_COL = col("Containers", "Names of each container in the template.", 1);
const IMAGES_COL = col("Images", "Images referenced by each container in the template.", 1);
const SELECTOR_COL = col("Selector", "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.", 1);

const deploymentPrinter: TablePrinter = {
  columns: [NAME_COL, col("Ready", "Number of the pod with ready state"), col("Up-to-date", "Total number of non-terminated pods targeted by this deployment that have the desired template spec."), col("Available", "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment."), AGE_COL, CONTAINERS_COL, IMAGES_COL, SELECTOR_COL],
  cells(o, now) {
    const spec = obj(o.spec);
    const st = obj(o.status);
    const t = podTemplate(o);
    return [`${int(st.readyReplicas)}/${int(spec.replicas)}`, int(st.updatedReplicas), int(st.availableReplicas), since(o.metadata?.creationTimestamp, now), t.names, t.images, formatSelector(spec.selector)];
  },
};

const replicaSetPrinter: TablePrinter = {
  columns: [NAME_COL, col("Desired", "Replicas is the number of desired pods.", 0, "integer"), col("Current", "Replicas is the most recently observed number of replicas.", 0, "integer"), col("Ready", "The number of ready replicas for this replica set.", 0, "integer"), AGE_COL, CONTAINERS_COL, IMAGES_COL, SELECTOR_COL],
  cells(o, now) {
    const spec = obj(o.spec);
    const st = obj(o.status);
    const t = podTemplate(o);
    return [int(spec.replicas), int(st.replicas), int(st.readyReplicas), since(o.metadata?.creationTimestamp, now), t.names, t.images, formatSelector(spec.selector)];
  },
};

const daemonSetPrinter: TablePrinter = {
  columns: [
    NAME_COL,
    col("Desired", "The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod).", 0, "integer"),
    col("Current", "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.", 0, "integer"),
    col("Ready", "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.", 0, "integer"),
    col("Up-to-date", "The total number of nodes that are running updated daemon pod", 0, "integer"),
    col("Available", "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)", 0, "integer"),
    col("Node Selector", "NodeSelector is a selector which must be true for the pod to fit on a node."),
    AGE_COL,
    CONTAINERS_COL,
    IMAGES_COL,
    SELECTOR_COL,
  ],
  cells(o, now) {
    const st = obj(o.status);
    const t = podTemplate(o);
    const nodeSelector = obj(obj(obj(obj(o.spec).template).spec)).nodeSelector;
    return [int(st.desiredNumberScheduled), int(st.currentNumberScheduled), int(st.numberReady), int(st.updatedNumberScheduled), int(st.numberAvailable), formatLabels(nodeSelector), since(o.metadata?.creationTimestamp, now), t.names, t.images, formatSelector(obj(o.spec).selector)];
  },
};

const statefulSetPrinter: TablePrinter = {
  columns: [NAME_COL, col("Ready", "Number of the pod with ready state"), AGE_COL, CONTAINERS_COL, IMAGES_COL],
  cells(o, now) {
    const t = podTemplate(o);
    return [`${int(obj(o.status).readyReplicas)}/${int(obj(o.spec).replicas)}`, since(o.metadata?.creationTimestamp, now), t.names, t.images];
  },
};

// ---- services and endpoints -----------------------------------------------------------------

function serviceExternalIP(spec: Json, status: Json): string {
  const external = arr(spec.externalIPs).map(String);
  switch (spec.type) {
    case "ClusterIP":
    case "NodePort":
      return external.length ? external.join(",") : "<none>";
    case "LoadBalancer": {
      const ing = arr(obj(status.loadBalancer).ingress).map(obj).map((i) => str(i.ip) || str(i.hostname)).filter(Boolean);
      const all = [...ing, ...external];
      if (!all.length) return "<pending>";
      const joined = all.join(",");
      return joined.length > 16 ? `${joined.slice(0, 13)}...` : joined; // loadBalancerWidth
    }
    case "ExternalName":
      return str(spec.externalName);
  }
  return "<unknown>";
}

const servicePrinter: TablePrinter = {
  columns: [
    NAME_COL,
    col("Type", "type determines how the Service is exposed."),
    col("Cluster-IP", "clusterIP is the IP address of the service and is usually assigned randomly."),
    col("External-IP", "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service."),
    col("Port(s)", "The list of ports that are exposed by this service."),
    AGE_COL,
    col("Selector", "Route service traffic to pods with label keys and values matching this selector.", 1),
  ],
  cells(o, now) {
    const spec = obj(o.spec);
    const ports = arr(spec.ports).map(obj).map((p) => {
      const proto = str(p.protocol) || "TCP";
      return p.nodePort ? `${int(p.port)}:${int(p.nodePort)}/${proto}` : `${int(p.port)}/${proto}`;
    });
    const type = str(spec.type) || "ClusterIP";
    return [type, orNone(str(spec.clusterIP)), serviceExternalIP({ ...spec, type }, obj(o.status)), orNone(ports.join(",")), since(o.metadata?.creationTimestamp, now), formatLabels(spec.selector)];
  },
};

/** formatEndpoints: up to 3 ip:port pairs, then " + N more...". */
function formatEndpoints(subsets: unknown): string {
  const out: string[] = [];
  let n = 0;
  for (const ss of arr(subsets).map(obj)) {
    const ports = arr(ss.ports).map(obj);
    for (const a of arr(ss.addresses).map(obj)) {
      if (!ports.length) {
        if (out.length < 3) out.push(str(a.ip));
        n++;
      }
      for (const p of ports) {
        if (out.length < 3) out.push(`${str(a.ip)}:${int(p.port)}`);
        n++;
      }
    }
  }
  if (!n) return "<none>";
  return n > out.length ? `${out.join(",")} + ${n - out.length} more...` : out.join(",");
}

const endpointsPrinter: TablePrinter = {
  columns: [NAME_COL, col("Endpoints", "The set of all endpoints is the union of all subsets."), AGE_COL],
  cells: (o, now) => [formatEndpoints(o.subsets), since(o.metadata?.creationTimestamp, now)],
};

// ---- config, identity, coordination, events, rbac --------------------------------------------

const configMapPrinter: TablePrinter = {
  columns: [NAME_COL, col("Data", "Data contains the configuration data."), AGE_COL],
  cells: (o, now) => [count(o.data) + count(o.binaryData), since(o.metadata?.creationTimestamp, now)],
};

const secretPrinter: TablePrinter = {
  columns: [NAME_COL, col("Type", "Used to facilitate programmatic handling of secret data."), col("Data", "Data contains the secret data."), AGE_COL],
  cells: (o, now) => [str(o.type), count(o.data), since(o.metadata?.creationTimestamp, now)],
};

const namespacePrinter: TablePrinter = {
  columns: [NAME_COL, col("Status", "The status of the namespace"), AGE_COL],
  cells: (o, now) => [str(obj(o.status).phase), since(o.metadata?.creationTimestamp, now)],
};

const serviceAccountPrinter: TablePrinter = {
  columns: [NAME_COL, col("Secrets", "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use."), AGE_COL],
  cells: (o, now) => [arr(o.secrets).length, since(o.metadata?.creationTimestamp, now)],
};

const leasePrinter: TablePrinter = {
  columns: [NAME_COL, col("Holder", "holderIdentity contains the identity of the holder of a current lease."), AGE_COL],
  cells: (o, now) => [orNone(str(obj(o.spec).holderIdentity)), since(o.metadata?.creationTimestamp, now)],
};

const eventPrinter: TablePrinter = {
  // Event tables have NAME last (priority 1): toTable puts the name where the printer says.
  columns: [
    col("Last Seen", "The time at which the most recent occurrence of this event was recorded."),
    col("Type", "Type of this event (Normal, Warning), new types could be added in the future"),
    col("Reason", "This should be a short, machine understandable string that gives the reason for the transition into the object's current status."),
    col("Object", "The object that this event is about."),
    col("Subobject", "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement.", 1),
    col("Source", "The component reporting this event. Should be a short machine understandable string.", 1),
    col("Message", "A human-readable description of the status of this operation."),
    col("First Seen", "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)", 1),
    col("Count", "The number of times this event has occurred.", 1),
    { ...NAME_COL, priority: 1 },
  ],
  cells(o, now) {
    let first = since(o.firstTimestamp, now);
    if (!str(o.firstTimestamp)) first = since(o.eventTime, now);
    let last = str(o.lastTimestamp) ? since(o.lastTimestamp, now) : first;
    let n = int(o.count);
    const series = obj(o.series);
    if (o.series) {
      last = since(series.lastObservedTime, now);
      n = int(series.count);
    } else if (n === 0) n = 1;
    const io = obj(o.involvedObject);
    const target = str(io.name) ? `${str(io.kind).toLowerCase()}/${str(io.name)}` : str(io.kind).toLowerCase();
    const src = obj(o.source);
    const component = str(src.component) || str(o.reportingComponent);
    const host = str(src.component) ? str(src.host) : str(o.reportingInstance);
    const source = host ? `${component}, ${host}` : component;
    return [last, str(o.type), str(o.reason), target, str(io.fieldPath), source, str(o.message).trim(), first, n, o.metadata?.name ?? ""];
  },
};

function bindingPrinter(what: string): TablePrinter {
  return {
    columns: [NAME_COL, col("Role", "RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace."), AGE_COL, col("Users", `Users in the ${what}`, 1), col("Groups", `Groups in the ${what}`, 1), col("ServiceAccounts", `ServiceAccounts in the ${what}`, 1)],
    cells(o, now) {
      const ref = obj(o.roleRef);
      const subjects = arr(o.subjects).map(obj);
      const of = (k: string) => subjects.filter((s) => s.kind === k);
      return [
        `${str(ref.kind)}/${str(ref.name)}`,
        since(o.metadata?.creationTimestamp, now),
        of("User").map((s) => str(s.name)).join(", "),
        of("Group").map((s) => str(s.name)).join(", "),
        of("ServiceAccount").map((s) => `${str(s.namespace)}/${str(s.name)}`).join(", "),
      ];
    },
  };
}

const controllerRevisionPrinter: TablePrinter = {
  columns: [NAME_COL, col("Controller", "Controller of the object"), col("Revision", "Revision indicates the revision of the state represented by Data."), AGE_COL],
  cells(o, now) {
    const ctl = (o.metadata?.ownerReferences ?? []).find((r) => r.controller);
    const group = ctl ? (ctl.apiVersion.includes("/") ? ctl.apiVersion.split("/")[0] : "") : "";
    const ctlName = ctl ? `${ctl.kind.toLowerCase()}${group ? `.${group}` : ""}/${ctl.name}` : "<none>";
    return [ctlName, int(o.revision), since(o.metadata?.creationTimestamp, now)];
  },
};

const pdbPrinter: TablePrinter = {
  columns: [NAME_COL, col("Min Available", "The minimum number of pods that must be available."), col("Max Unavailable", "The maximum number of pods that may be unavailable."), col("Allowed Disruptions", "Calculated number of pods that may be disrupted at this time.", 0, "integer"), AGE_COL],
  cells(o, now) {
    const spec = obj(o.spec);
    const v = (x: unknown) => (x === undefined || x === null ? "N/A" : String(x));
    return [v(spec.minAvailable), v(spec.maxUnavailable), int(obj(o.status).disruptionsAllowed), since(o.metadata?.creationTimestamp, now)];
  },
};

/** kube's rest.DefaultTableConvertor: NAME and CREATED AT (RFC 3339), for kinds without a printer. */
const defaultPrinter: TablePrinter = {
  columns: [NAME_COL, col("Created At", CREATED_DOC, 0, "date")],
  cells(o) {
    const t = Date.parse(o.metadata?.creationTimestamp ?? "");
    return [Number.isNaN(t) ? null : new Date(t).toISOString().replace(/\.\d+Z$/, "Z")];
  },
};

const BUILTIN: Record<string, TablePrinter> = {
  "/pods": podPrinter,
  "/nodes": nodePrinter,
  "/configmaps": configMapPrinter,
  "/secrets": secretPrinter,
  "/namespaces": namespacePrinter,
  "/services": servicePrinter,
  "/endpoints": endpointsPrinter,
  "/serviceaccounts": serviceAccountPrinter,
  "/events": eventPrinter,
  "apps/deployments": deploymentPrinter,
  "apps/replicasets": replicaSetPrinter,
  "apps/daemonsets": daemonSetPrinter,
  "apps/statefulsets": statefulSetPrinter,
  "apps/controllerrevisions": controllerRevisionPrinter,
  "coordination.k8s.io/leases": leasePrinter,
  "policy/poddisruptionbudgets": pdbPrinter,
  "rbac.authorization.k8s.io/rolebindings": bindingPrinter("roleBinding"),
  "rbac.authorization.k8s.io/clusterrolebindings": bindingPrinter("clusterRoleBinding"),
};

// ---- custom resources: additionalPrinterColumns ----------------------------------------------

interface PrinterColumnSpec {
  name: string;
  type: string;
  format?: string;
  description?: string;
  priority?: number;
  jsonPath: string;
}

type Step = { field: string } | { index: number } | { filter: string[]; op: "==" | "!="; value: unknown } | { all: true };

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

/** The printer for a built-in kind (group "" = core); kube's default convertor for the rest. */
export function builtinPrinter(group: string, resource: string): TablePrinter {
  return BUILTIN[`${group}/${resource}`] ?? defaultPrinter;
}

// ---- the table ------------------------------------------------------------------------------

function row(o: KubeObject, include: IncludeObject, render: (o: KubeObject) => KubeObject, now: Date, printer: TablePrinter) {
  const meta = o.metadata ?? {};
  const own = printer.cells(o, now);
  // NAME is the printer's first column except for events (where the printer lists it itself).
  const cells = printer.columns[0] === NAME_COL ? [meta.name ?? "", ...own] : own;
  const r: Record<string, unknown> = { cells };
  const conditions = printer.conditions?.(o);
  if (conditions) r.conditions = conditions;
  if (include === "Object") r.object = render(o);
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
  printer: TablePrinter = defaultPrinter,
) {
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: listMeta,
    ...(withColumns ? { columnDefinitions: printer.columns } : {}),
    rows: objects.map((o) => row(o, include, render, now, printer)),
  };
}
