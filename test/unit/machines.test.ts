// ClusterMachines over the real ApiServer (MemoryPersistence) and in-memory stores, with an injected
// clock. The DO's single alarm is simulated from what setAlarm was last given.
import { describe, expect, it } from "vitest";
import { MemoryPersistence } from "../../durable-objects/apiserver/memory-persistence.js";
import { ApiServer } from "../../durable-objects/apiserver/server.js";
import { MemoryEtcdStore } from "../../durable-objects/etcd/members.js";
import { ClusterMachines, type MachineJson } from "../../durable-objects/machines/controller.js";
import { MemoryMachineStore } from "../../durable-objects/machines/store.js";
import { adminCall } from "../helpers/machines-admin.js";

const T0 = Date.parse("2026-03-01T12:00:00Z");

const PROVISIONING = {
  vm: { startupDuration: "10s", startupJitter: "0.2" },
  node: { startupDuration: "2s", startupJitter: "0.2" },
  apiServer: { startupDuration: "2s", startupJitter: "0.2" },
  etcd: { startupDuration: "3s", startupJitter: "0.2" },
};

function harness(random?: () => number) {
  const api = new ApiServer({ persistence: new MemoryPersistence() });
  const machines = new MemoryMachineStore();
  const etcd = new MemoryEtcdStore();
  const clock = { t: T0 };
  const alarm = { at: null as number | null, sets: 0 };
  const make = () =>
    new ClusterMachines({
      api,
      machines,
      etcd,
      now: () => clock.t,
      random,
      setAlarm: (at) => {
        alarm.at = at;
        alarm.sets++;
      },
    });
  const h = {
    api,
    machines,
    etcd,
    clock,
    alarm,
    cm: make(),
    /** A new ClusterMachines over the same stores (DO eviction + restart). */
    restart() {
      h.cm = make();
    },
    async call(method: string, path: string, body?: unknown) {
      return adminCall(h.cm, method, path, body);
    },
    async put(name: string, body: Record<string, unknown>) {
      return (await h.call("PUT", `/machines/${name}`, body))!;
    },
    async get(name: string): Promise<MachineJson> {
      const r = (await h.call("GET", `/machines/${name}`))!;
      expect(r.status).toBe(200);
      return r.body;
    },
    /** Fires the DO alarm (as workerd would) until none is due at or before `until`. */
    runAlarmsUntil(until: number) {
      let fired = 0;
      while (alarm.at !== null && alarm.at <= until) {
        clock.t = Math.max(clock.t, alarm.at);
        h.cm.onAlarm();
        if (++fired > 100) throw new Error("alarm loop");
      }
      clock.t = Math.max(clock.t, until);
      return fired;
    },
    pod: (component: string, node: string) => api.getObject("v1", "Pod", "kube-system", `${component}-${node}`),
    node: (name: string) => api.getObject("v1", "Node", "", name),
  };
  return h;
}

const cond = (m: MachineJson, type: string) => m.conditions.find((c) => c.type === type)!;
const ms = (iso: string) => Date.parse(iso);

describe("ClusterMachines: control plane timeline", () => {
  it("draws delays within bounds, once, and chains the steps", async () => {
    for (let i = 0; i < 10; i++) {
      const h = harness();
      const r = await h.put("cp-0", { controlPlane: true, version: "v1.31.0", provisioning: PROVISIONING });
      expect(r.status).toBe(201);
      const m: MachineJson = r.body;
      const { vm, node, etcd, apiServer } = m.steps;
      const d = (a: number, b: number) => b - a;
      expect(d(T0, ms(vm!.dueAt))).toBeGreaterThanOrEqual(10_000);
      expect(d(T0, ms(vm!.dueAt))).toBeLessThanOrEqual(12_000);
      expect(d(ms(vm!.dueAt), ms(node!.dueAt))).toBeGreaterThanOrEqual(2000);
      expect(d(ms(vm!.dueAt), ms(node!.dueAt))).toBeLessThanOrEqual(2400);
      expect(d(ms(node!.dueAt), ms(etcd!.dueAt))).toBeGreaterThanOrEqual(3000);
      expect(d(ms(node!.dueAt), ms(etcd!.dueAt))).toBeLessThanOrEqual(3600);
      expect(d(ms(node!.dueAt), ms(apiServer!.dueAt))).toBeGreaterThanOrEqual(2000);
      expect(d(ms(node!.dueAt), ms(apiServer!.dueAt))).toBeLessThanOrEqual(2400);
      // The alarm is the first due step.
      expect(h.alarm.at).toBe(ms(vm!.dueAt));
      expect(m.nextTransitionAt).toBe(vm!.dueAt);
    }
  });

  it("walks VM -> Node -> etcd/apiServer with the right conditions and objects", async () => {
    const h = harness(() => 0.5);
    const r = await h.put("cp-0", { controlPlane: true, version: "v1.31.0", failureDomain: "fd1", provisioning: PROVISIONING });
    expect(r.status).toBe(201);
    let m: MachineJson = r.body;
    expect(m).toMatchObject({ name: "cp-0", controlPlane: true, version: "v1.31.0", providerID: "in-memory://cp-0", failureDomain: "fd1", ready: false });
    expect(m.createdAt).toBe(new Date(T0).toISOString());
    expect(cond(m, "VMProvisioned")).toMatchObject({ status: "False", reason: "WaitingForStartupTimeout" });
    expect(cond(m, "NodeProvisioned")).toMatchObject({ status: "False", reason: "WaitingForVMProvisioned" });
    expect(cond(m, "EtcdProvisioned")).toMatchObject({ status: "False", reason: "WaitingForNodeProvisioned" });
    expect(cond(m, "APIServerProvisioned")).toMatchObject({ status: "False", reason: "WaitingForNodeProvisioned" });
    expect(cond(m, "Ready").status).toBe("False");
    // random 0.5: vm 11s, node +2.2s, apiServer +2.2s, etcd +3.3s.
    const vmAt = T0 + 11_000;
    const nodeAt = vmAt + 2200;
    const apiAt = nodeAt + 2200;
    const etcdAt = nodeAt + 3300;
    expect(h.alarm.at).toBe(vmAt);

    h.runAlarmsUntil(vmAt - 1);
    m = await h.get("cp-0");
    expect(m.steps.vm!.done).toBe(false);

    h.runAlarmsUntil(vmAt);
    m = await h.get("cp-0");
    expect(cond(m, "VMProvisioned")).toMatchObject({ status: "True", reason: "Provisioned", lastTransitionTime: new Date(vmAt).toISOString() });
    expect(cond(m, "NodeProvisioned")).toMatchObject({ status: "False", reason: "WaitingForStartupTimeout" });
    expect(h.node("cp-0")).toBeUndefined();
    expect(h.alarm.at).toBe(nodeAt);

    h.runAlarmsUntil(nodeAt);
    m = await h.get("cp-0");
    expect(cond(m, "NodeProvisioned").status).toBe("True");
    expect(cond(m, "EtcdProvisioned")).toMatchObject({ status: "False", reason: "WaitingForStartupTimeout" });
    expect(cond(m, "APIServerProvisioned")).toMatchObject({ status: "False", reason: "WaitingForStartupTimeout" });
    const node = h.node("cp-0") as any;
    expect(node.spec.providerID).toBe("in-memory://cp-0");
    expect(node.status.nodeInfo.kubeletVersion).toBe("v1.31.0");
    expect(node.metadata.labels["node-role.kubernetes.io/control-plane"]).toBe("");
    expect(node.spec.taints).toEqual([{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }]);
    const nodeConds = Object.fromEntries(node.status.conditions.map((c: any) => [c.type, c.status]));
    expect(nodeConds).toEqual({ Ready: "True", MemoryPressure: "False", DiskPressure: "False", PIDPressure: "False" });
    expect(h.pod("kube-apiserver", "cp-0")).toBeUndefined();
    expect(h.alarm.at).toBe(apiAt);

    h.runAlarmsUntil(apiAt);
    m = await h.get("cp-0");
    expect(cond(m, "APIServerProvisioned").status).toBe("True");
    expect(cond(m, "EtcdProvisioned").status).toBe("False");
    for (const c of ["kube-apiserver", "kube-scheduler", "kube-controller-manager"]) {
      const pod = h.pod(c, "cp-0") as any;
      expect(pod.metadata.labels).toEqual({ component: c, tier: "control-plane" });
      expect(pod.spec.nodeName).toBe("cp-0");
      expect(pod.spec.containers[0].image).toBe(`registry.k8s.io/${c}:v1.31.0`);
      expect(pod.status.phase).toBe("Running");
      expect(pod.status.conditions.find((x: any) => x.type === "Ready").status).toBe("True");
      expect(pod.status.containerStatuses[0].ready).toBe(true);
      expect(pod.metadata.ownerReferences[0]).toMatchObject({ kind: "Node", name: "cp-0", uid: node.metadata.uid });
    }
    expect(h.pod("etcd", "cp-0")).toBeUndefined();
    // kubeadm objects come with the first apiserver.
    const cm = h.api.getObject("v1", "ConfigMap", "kube-system", "kubeadm-config") as any;
    expect(cm.data.ClusterConfiguration).toMatch(/kubernetesVersion: v1\.31\.0/);
    expect(cm.data.ClusterConfiguration).toMatch(/kind: ClusterConfiguration/);
    const ds = h.api.getObject("apps/v1", "DaemonSet", "kube-system", "kube-proxy") as any;
    expect(ds.spec.template.spec.containers[0].image).toBe("registry.k8s.io/kube-proxy:v1.31.0");
    const dep = h.api.getObject("apps/v1", "Deployment", "kube-system", "coredns") as any;
    expect(dep.spec.template.spec.containers[0].image).toBe("registry.k8s.io/coredns/coredns:v1.11.3");
    expect(h.api.getObject("v1", "ConfigMap", "kube-system", "coredns")).toBeDefined();
    expect(h.api.getObject("rbac.authorization.k8s.io/v1", "ClusterRole", "", "kubeadm:get-nodes")).toBeDefined();
    expect(h.api.getObject("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "", "kubeadm:get-nodes")).toBeDefined();
    expect(h.cm.etcdState().members).toEqual([]);
    expect(h.alarm.at).toBe(etcdAt);

    h.runAlarmsUntil(etcdAt);
    m = await h.get("cp-0");
    expect(m.ready).toBe(true);
    expect(cond(m, "Ready")).toMatchObject({ status: "True", reason: "Provisioned" });
    expect(m.nextTransitionAt).toBeNull();
    expect((h.pod("etcd", "cp-0") as any).spec.containers[0].image).toBe("registry.k8s.io/etcd:3.5.16-0");
    const st = h.cm.etcdState();
    expect(st.members.map((x) => x.name)).toEqual(["cp-0"]);
    expect(st.leaderId).toBe(st.members[0].id);
    expect(h.alarm.at).toBeNull();
    const list = (await h.call("GET", "/machines"))!;
    expect(list.status).toBe(200);
    expect(list.body.apiServers).toBe(1);
    expect(list.body.items.map((x: MachineJson) => x.name)).toEqual(["cp-0"]);
  });

  it("catches up on overdue steps when asked, even if the alarm never fired", async () => {
    const h = harness(() => 0);
    await h.put("cp-0", { controlPlane: true, version: "v1.31.0", provisioning: PROVISIONING });
    h.clock.t = T0 + 60_000;
    const m = await h.get("cp-0");
    expect(m.ready).toBe(true);
    expect(Object.values(m.steps).every((s) => s!.done)).toBe(true);
    // Steps still ran in order: VM before Node before the pods.
    expect(h.node("cp-0")).toBeDefined();
    expect(h.alarm.at).toBeNull();
  });

  it("keeps the one alarm at the earliest pending step across machines", async () => {
    const h = harness(() => 0);
    await h.put("cp-0", { controlPlane: true, version: "v1.31.0", provisioning: PROVISIONING });
    expect(h.alarm.at).toBe(T0 + 10_000);
    h.clock.t = T0 + 1000;
    await h.put("w-0", { controlPlane: false, version: "v1.31.0", provisioning: { vm: { startupDuration: "5s" }, node: { startupDuration: "1s" } } });
    expect(h.alarm.at).toBe(T0 + 6000);
    h.runAlarmsUntil(T0 + 6000);
    expect(h.alarm.at).toBe(T0 + 7000); // w-0 node
    h.runAlarmsUntil(T0 + 7000);
    expect(h.node("w-0")).toBeDefined();
    expect(h.alarm.at).toBe(T0 + 10_000); // back to cp-0's VM
    await h.call("DELETE", "/machines/cp-0");
    expect(h.alarm.at).toBeNull();
  });
});

describe("ClusterMachines: PUT semantics", () => {
  it("is idempotent: a second PUT returns 200 and does not redraw delays", async () => {
    let draws = 0;
    const h = harness(() => (draws++ % 2 === 0 ? 0.9 : 0.1));
    const a = await h.put("cp-0", { controlPlane: true, version: "v1.31.0", provisioning: PROVISIONING });
    expect(a.status).toBe(201);
    const before = draws;
    h.clock.t = T0 + 5000;
    const b = await h.put("cp-0", { controlPlane: true, version: "v1.31.0", provisioning: PROVISIONING });
    expect(b.status).toBe(200);
    expect(draws).toBe(before);
    expect(b.body.steps).toEqual(a.body.steps);
    expect(b.body.createdAt).toBe(a.body.createdAt);
    const c = await h.put("cp-0", { controlPlane: false, version: "v1.31.0" });
    expect(c.status).toBe(409);
    expect(c.body).toMatchObject({ kind: "Status", reason: "Conflict", code: 409 });
  });

  it("worker machines have only VM and Node, no pods or kubeadm objects", async () => {
    const h = harness(() => 0);
    const r = await h.put("w-0", { controlPlane: false, version: "v1.30.2", provisioning: PROVISIONING });
    expect(Object.keys(r.body.steps)).toEqual(["vm", "node"]);
    expect(r.body.conditions.map((c: any) => c.type)).toEqual(["VMProvisioned", "NodeProvisioned", "Ready"]);
    h.runAlarmsUntil(T0 + 60_000);
    const m = await h.get("w-0");
    expect(m.ready).toBe(true);
    const node = h.node("w-0") as any;
    expect(node.metadata.labels["node-role.kubernetes.io/control-plane"]).toBeUndefined();
    expect(node.spec.taints).toBeUndefined();
    expect(node.status.nodeInfo.kubeletVersion).toBe("v1.30.2");
    expect(h.api.listObjects("v1", "Pod", "kube-system")).toEqual([]);
    expect(h.api.getObject("v1", "ConfigMap", "kube-system", "kubeadm-config")).toBeUndefined();
    expect(h.cm.etcdState().members).toEqual([]);
  });

  it("bootstrapped: true skips every wait", async () => {
    const h = harness();
    const r = await h.put("cp-0", { controlPlane: true, version: "v1.31.0", bootstrapped: true, provisioning: PROVISIONING });
    expect(r.status).toBe(201);
    expect(r.body.ready).toBe(true);
    expect(Object.values(r.body.steps).every((s: any) => s.done && s.doneAt === new Date(T0).toISOString())).toBe(true);
    expect(h.pod("etcd", "cp-0")).toBeDefined();
    expect(h.pod("kube-apiserver", "cp-0")).toBeDefined();
    expect(h.alarm.at).toBeNull();
    // On an existing, still-waiting machine it finishes the remaining steps now.
    await h.put("cp-1", { controlPlane: true, version: "v1.31.0", provisioning: PROVISIONING });
    expect(h.alarm.at).not.toBeNull();
    h.clock.t += 1000;
    const again = await h.put("cp-1", { controlPlane: true, version: "v1.31.0", bootstrapped: true, provisioning: PROVISIONING });
    expect(again.status).toBe(200);
    expect(again.body.ready).toBe(true);
    expect(h.alarm.at).toBeNull();
    expect(h.cm.etcdState().members.map((x) => x.name)).toEqual(["cp-0", "cp-1"]);
  });

  it("no provisioning blocks means no waits", async () => {
    const h = harness();
    const r = await h.put("cp-0", { controlPlane: true, version: "v1.31.0" });
    expect(r.body.ready).toBe(true);
    expect(h.alarm.at).toBeNull();
  });

  it("never overwrites kubeadm objects that KCP updated", async () => {
    const h = harness();
    await h.put("cp-0", { controlPlane: true, version: "v1.31.0" });
    const ds = h.api.getObject("apps/v1", "DaemonSet", "kube-system", "kube-proxy") as any;
    ds.spec.template.spec.containers[0].image = "registry.k8s.io/kube-proxy:v1.32.0";
    h.api.upsertObject(ds);
    const kc = h.api.getObject("v1", "ConfigMap", "kube-system", "kubeadm-config") as any;
    kc.data.ClusterConfiguration = "changed by KCP";
    h.api.upsertObject(kc);
    await h.put("cp-1", { controlPlane: true, version: "v1.32.0" });
    expect((h.api.getObject("apps/v1", "DaemonSet", "kube-system", "kube-proxy") as any).spec.template.spec.containers[0].image).toBe(
      "registry.k8s.io/kube-proxy:v1.32.0",
    );
    expect((h.api.getObject("v1", "ConfigMap", "kube-system", "kubeadm-config") as any).data.ClusterConfiguration).toBe("changed by KCP");
    expect((h.pod("kube-apiserver", "cp-1") as any).spec.containers[0].image).toBe("registry.k8s.io/kube-apiserver:v1.32.0");
  });

  it("re-running a step whose objects already exist neither fails nor duplicates", async () => {
    const h = harness();
    // As if a previous run created the Node (and the user labelled it) but crashed before recording the step.
    h.api.upsertObject({ apiVersion: "v1", kind: "Node", metadata: { name: "cp-0", labels: { mine: "yes" } } });
    const rv = h.api.resourceVersion;
    const r = await h.put("cp-0", { controlPlane: true, version: "v1.31.0" });
    expect(r.body.ready).toBe(true);
    expect((h.node("cp-0") as any).metadata.labels).toEqual({ mine: "yes" });
    expect(h.api.listObjects("v1", "Node")).toHaveLength(1);
    expect(h.api.resourceVersion).toBeGreaterThan(rv);
  });

  it("writes the cluster name and endpoint into ClusterConfiguration", async () => {
    const h = harness();
    await h.put("cp-0", { controlPlane: true, version: "v1.30.4", clusterName: "c1", controlPlaneEndpoint: "10.0.0.1:20001" });
    const cc = (h.api.getObject("v1", "ConfigMap", "kube-system", "kubeadm-config") as any).data.ClusterConfiguration;
    expect(cc).toMatch(/apiVersion: kubeadm.k8s.io\/v1beta3/);
    expect(cc).toMatch(/clusterName: c1/);
    expect(cc).toMatch(/controlPlaneEndpoint: 10.0.0.1:20001/);
    expect((h.api.getObject("apps/v1", "Deployment", "kube-system", "coredns") as any).spec.template.spec.containers[0].image).toBe(
      "registry.k8s.io/coredns/coredns:v1.11.1",
    );
  });

  it.each([
    ["missing version", { controlPlane: true }, 400, /version/],
    ["bad version", { version: "1.31" }, 400, /version/],
    ["controlPlane not bool", { version: "v1.31.0", controlPlane: "yes" }, 400, /controlPlane/],
    ["bad duration", { version: "v1.31.0", provisioning: { vm: { startupDuration: "10x" } } }, 400, /vm.startupDuration/],
    ["bad jitter", { version: "v1.31.0", provisioning: { vm: { startupDuration: "10s", startupJitter: "-1" } } }, 400, /startupJitter/],
    ["unknown step", { version: "v1.31.0", provisioning: { kubelet: { startupDuration: "1s" } } }, 400, /unknown step/],
    ["bootstrapped not bool", { version: "v1.31.0", bootstrapped: 1 }, 400, /bootstrapped/],
    ["failureDomain not string", { version: "v1.31.0", failureDomain: 3 }, 400, /failureDomain/],
  ])("rejects %s with a Status", async (_what, body, code, re) => {
    const h = harness();
    const r = (await h.call("PUT", "/machines/m-0", body))!;
    expect(r.status).toBe(code);
    expect(r.body).toMatchObject({ kind: "Status", apiVersion: "v1", status: "Failure", code });
    expect(r.body.message).toMatch(re);
    expect(h.machines.list()).toEqual([]);
  });

  it("validates the machine name; an unknown machine is 404", async () => {
    const h = harness();
    const bad = (await h.call("PUT", "/machines/Bad_Name", { version: "v1.31.0" }))!;
    expect(bad.status).toBe(422);
    expect(bad.body).toMatchObject({ kind: "Status", reason: "Invalid" });
    const long = (await h.call("PUT", `/machines/${"a".repeat(230)}`, { version: "v1.31.0" }))!;
    expect(long.status).toBe(422);
    expect((await h.call("GET", "/machines/nope"))!).toMatchObject({ status: 404, body: { reason: "NotFound", message: 'machine "nope" not found' } });
    expect((await h.call("DELETE", "/machines/nope"))!.status).toBe(404);
  });
});

describe("ClusterMachines: deletion and restart", () => {
  it("DELETE removes the Node, the static pods and the etcd member", async () => {
    const h = harness();
    await h.put("cp-0", { controlPlane: true, version: "v1.31.0" });
    await h.put("cp-1", { controlPlane: true, version: "v1.31.0" });
    await h.put("w-0", { controlPlane: false, version: "v1.31.0" });
    expect((await h.call("GET", "/machines"))!.body.apiServers).toBe(2);
    const r = (await h.call("DELETE", "/machines/cp-0"))!;
    expect(r).toEqual({ status: 200, body: { apiServers: 1 } });
    expect(h.node("cp-0")).toBeUndefined();
    for (const c of ["etcd", "kube-apiserver", "kube-scheduler", "kube-controller-manager"]) expect(h.pod(c, "cp-0")).toBeUndefined();
    expect(h.pod("kube-apiserver", "cp-1")).toBeDefined();
    expect(h.cm.etcdState().members.map((m) => m.name)).toEqual(["cp-1"]);
    expect((await h.call("DELETE", "/machines/cp-0"))!.status).toBe(404);
    expect((await h.call("DELETE", "/machines/w-0"))!.body).toEqual({ apiServers: 1 });
    expect((await h.call("DELETE", "/machines/cp-1"))!.body).toEqual({ apiServers: 0 });
    expect(h.api.listObjects("v1", "Node")).toEqual([]);
    // Kubeadm objects stay: they belong to the cluster, not to a machine.
    expect(h.api.getObject("v1", "ConfigMap", "kube-system", "kubeadm-config")).toBeDefined();
  });

  it("a new ClusterMachines over the same stores continues the timeline", async () => {
    const h = harness(() => 0);
    await h.put("cp-0", { controlPlane: true, version: "v1.31.0", provisioning: PROVISIONING });
    h.runAlarmsUntil(T0 + 10_000); // VM done
    const before = await h.get("cp-0");
    const clusterId = h.cm.etcdState().clusterId;
    h.restart();
    const after = await h.get("cp-0");
    expect(after).toEqual(before);
    expect(h.cm.etcdState().clusterId).toBe(clusterId);
    // The DO alarm survives eviction; the new instance handles it.
    expect(h.alarm.at).toBe(T0 + 12_000);
    h.runAlarmsUntil(T0 + 20_000);
    const done = await h.get("cp-0");
    expect(done.ready).toBe(true);
    expect(done.steps.vm).toEqual(before.steps.vm);
    expect(h.cm.etcdState().members.map((m) => m.name)).toEqual(["cp-0"]);
  });

  it("deleteAll forgets everything and clears the alarm", async () => {
    const h = harness();
    await h.put("cp-0", { controlPlane: true, version: "v1.31.0", provisioning: PROVISIONING });
    expect(h.alarm.at).not.toBeNull();
    h.cm.deleteAll();
    expect(h.alarm.at).toBeNull();
    expect(h.machines.list()).toEqual([]);
    expect(h.etcd.listMembers()).toEqual([]);
    expect((await h.call("GET", "/machines"))!.body).toEqual({ items: [], apiServers: 0 });
  });
});
