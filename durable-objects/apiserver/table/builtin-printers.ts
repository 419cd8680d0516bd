// The printers of built-in kinds for meta.k8s.io/v1 Table output.
//
// Columns and cells follow kube-apiserver's printers (k8s.io/kubernetes pkg/printers/internalversion):
// same names, types, priorities and cell formats, so `kubectl get` prints what it prints against a real
// cluster. Like kube-apiserver, every column is always generated (GenerateOptions{Wide: true});
// kubectl hides priority > 0 columns unless `-o wide`. Kinds without a printer get kube's default
// table convertor (NAME, CREATED AT); custom resources get their CRD's additionalPrinterColumns.
// Hand-written: these printers live in Go only; there is no JS port.
import type { KubeObject } from "../types.js";
import { nodePrinter, podPrinter } from "./pod-node-printers.js";
import { AGE_COL, arr, col, count, CREATED_DOC, int, NAME_COL, obj, orNone, since, str, type Json, type TablePrinter } from "./columns.js";

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
export const defaultPrinter: TablePrinter = {
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

/** The printer for a built-in kind (group "" = core); kube's default convertor for the rest. */
export function builtinPrinter(group: string, resource: string): TablePrinter {
  return BUILTIN[`${group}/${resource}`] ?? defaultPrinter;
}
