// Table printers of pods and nodes, as kube-apiserver's printPod and printNode fill them: the two kinds
// a CAPI user looks at most (`kubectl get pods -A`, `kubectl get nodes -o wide`).
import type { KubeObject } from "../types.js";
import { AGE_COL, arr, col, humanDuration, int, NAME_COL, obj, orNone, since, str, type Json, type TablePrinter } from "./columns.js";

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

export const podPrinter: TablePrinter = {
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

export const nodePrinter: TablePrinter = {
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
