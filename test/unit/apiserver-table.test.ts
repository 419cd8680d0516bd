// Table output (Accept: ...;as=Table) with kube-apiserver's per-kind columns, through the real
// ApiServer request path.
import { describe, expect, it } from "vitest";
import { humanDuration } from "../../durable-objects/apiserver/table/columns.js";
import { evalJsonPath, parseJsonPath } from "../../durable-objects/apiserver/table/jsonpath.js";
import { call, cm, newServer } from "../helpers/node-host.js";

const TABLE = { accept: "application/json;as=Table;v=v1;g=meta.k8s.io,application/json" };
const T0 = Date.parse("2024-01-01T00:00:00Z");

function server() {
  let now = T0;
  const { api } = newServer({ now: () => new Date(now) });
  return { api, advance: (ms: number) => (now += ms) };
}

async function table(api: any, path: string, query = "") {
  const r = await call(api, "GET", `${path}${query}`, undefined, TABLE);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  expect(r.body.kind).toBe("Table");
  return r.body;
}

const names = (t: any) => t.columnDefinitions.map((c: any) => `${c.name}${c.priority ? "*" : ""}`);

describe("Table output", () => {
  it("configmaps: NAME DATA AGE, data counts data + binaryData", async () => {
    const { api, advance } = server();
    await call(api, "POST", "/api/v1/namespaces/default/configmaps", { ...cm("c", { a: "1", b: "2" }), binaryData: { x: "AA==" } });
    advance(90_000);
    const t = await table(api, "/api/v1/namespaces/default/configmaps");
    expect(names(t)).toEqual(["Name", "Data", "Age"]);
    expect(t.columnDefinitions[0].format).toBe("name");
    expect(t.rows[0].cells).toEqual(["c", 3, "90s"]);
    // includeObject: default Metadata, Object, None.
    expect(t.rows[0].object.kind).toBe("PartialObjectMetadata");
    expect((await table(api, "/api/v1/namespaces/default/configmaps", "?includeObject=Object")).rows[0].object.data).toEqual({ a: "1", b: "2" });
    expect((await table(api, "/api/v1/namespaces/default/configmaps", "?includeObject=None")).rows[0].object).toBeUndefined();
  });

  it("secrets, namespaces, serviceaccounts, leases", async () => {
    const { api } = server();
    await call(api, "POST", "/api/v1/namespaces/default/secrets", { metadata: { name: "s" }, stringData: { u: "x", p: "y" } });
    let t = await table(api, "/api/v1/namespaces/default/secrets/s");
    expect(names(t)).toEqual(["Name", "Type", "Data", "Age"]);
    expect(t.rows[0].cells).toEqual(["s", "Opaque", 2, "0s"]);
    t = await table(api, "/api/v1/namespaces/default");
    expect(t.rows[0].cells).toEqual(["default", "Active", "0s"]);
    await call(api, "POST", "/api/v1/namespaces/default/serviceaccounts", { metadata: { name: "sa" }, secrets: [{ name: "a" }] });
    t = await table(api, "/api/v1/namespaces/default/serviceaccounts");
    expect(names(t)).toEqual(["Name", "Secrets", "Age"]);
    expect(t.rows[0].cells).toEqual(["sa", 1, "0s"]);
    await call(api, "POST", "/apis/coordination.k8s.io/v1/namespaces/default/leases", { metadata: { name: "l" }, spec: { holderIdentity: "me" } });
    await call(api, "POST", "/apis/coordination.k8s.io/v1/namespaces/default/leases", { metadata: { name: "m" }, spec: {} });
    t = await table(api, "/apis/coordination.k8s.io/v1/namespaces/default/leases");
    expect(t.rows.map((r: any) => r.cells.slice(0, 2))).toEqual([["l", "me"], ["m", "<none>"]]);
  });

  it("nodes: status, roles, version; wide addresses and node info", async () => {
    const { api } = server();
    api.upsertObject({
      apiVersion: "v1",
      kind: "Node",
      metadata: { name: "cp-1", labels: { "node-role.kubernetes.io/control-plane": "", "kubernetes.io/role": "master" } },
      spec: { unschedulable: true },
      status: {
        conditions: [{ type: "Ready", status: "True" }],
        addresses: [{ type: "Hostname", address: "cp-1" }, { type: "InternalIP", address: "10.0.0.5" }],
        nodeInfo: { kubeletVersion: "v1.29.3", osImage: "Debian", kernelVersion: "6.1", containerRuntimeVersion: "containerd://1.7" },
      },
    });
    api.upsertObject({ apiVersion: "v1", kind: "Node", metadata: { name: "w-1" }, status: { conditions: [{ type: "Ready", status: "Unknown" }] } });
    const t = await table(api, "/api/v1/nodes");
    expect(names(t)).toEqual(["Name", "Status", "Roles", "Age", "Version", "Internal-IP*", "External-IP*", "OS-Image*", "Kernel-Version*", "Container-Runtime*"]);
    expect(t.rows[0].cells).toEqual(["cp-1", "Ready,SchedulingDisabled", "control-plane,master", "0s", "v1.29.3", "10.0.0.5", "<none>", "Debian", "6.1", "containerd://1.7"]);
    expect(t.rows[1].cells.slice(1, 3)).toEqual(["NotReady", "<none>"]);
  });

  it("pods: ready, status, restarts, wide ip and node; finished pods are Completed rows", async () => {
    const { api } = server();
    const pod = (name: string, status: unknown, extra: Record<string, unknown> = {}) =>
      api.upsertObject({ apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "default", ...extra }, spec: { nodeName: "w-1", containers: [{ name: "a", image: "x" }, { name: "b", image: "y" }] }, status });
    pod("run", {
      phase: "Running",
      podIP: "10.1.0.7",
      conditions: [{ type: "Ready", status: "True" }],
      containerStatuses: [
        { name: "a", ready: true, restartCount: 2, state: { running: {} }, lastState: { terminated: { exitCode: 1, finishedAt: "2023-12-31T23:55:00Z" } } },
        { name: "b", ready: false, restartCount: 0, state: { waiting: { reason: "CrashLoopBackOff" } } },
      ],
    });
    pod("done", { phase: "Succeeded" });
    pod("init", { phase: "Pending", initContainerStatuses: [{ name: "i", restartCount: 0, state: { waiting: { reason: "PodInitializing" } } }] });
    const t = await table(api, "/api/v1/namespaces/default/pods");
    expect(names(t)).toEqual(["Name", "Ready", "Status", "Restarts", "Age", "IP*", "Node*", "Nominated Node*", "Readiness Gates*"]);
    const byName = Object.fromEntries(t.rows.map((r: any) => [r.cells[0], r]));
    expect(byName.run.cells).toEqual(["run", "1/2", "CrashLoopBackOff", "2 (5m ago)", "0s", "10.1.0.7", "w-1", "<none>", "<none>"]);
    expect(byName.done.cells.slice(1, 4)).toEqual(["0/2", "Succeeded", "0"]);
    expect(byName.done.conditions).toEqual([{ type: "Completed", status: "True" }]);
    expect(byName.run.conditions).toBeUndefined();
    expect(byName.init.cells[2]).toBe("Init:0/0");
  });

  it("deployments, replicasets, statefulsets, daemonsets", async () => {
    const { api } = server();
    const template = { metadata: { labels: { app: "w" } }, spec: { nodeSelector: { disk: "ssd" }, containers: [{ name: "nginx", image: "nginx:1" }, { name: "s", image: "busybox" }] } };
    const selector = { matchLabels: { app: "w" }, matchExpressions: [{ key: "tier", operator: "In", values: ["b", "a"] }] };
    api.upsertObject({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "d", namespace: "default" }, spec: { replicas: 3, selector, template }, status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 1 } });
    let t = await table(api, "/apis/apps/v1/namespaces/default/deployments");
    expect(names(t)).toEqual(["Name", "Ready", "Up-to-date", "Available", "Age", "Containers*", "Images*", "Selector*"]);
    expect(t.rows[0].cells).toEqual(["d", "2/3", 3, 1, "0s", "nginx,s", "nginx:1,busybox", "app=w,tier in (a,b)"]);
    api.upsertObject({ apiVersion: "apps/v1", kind: "ReplicaSet", metadata: { name: "r", namespace: "default" }, spec: { replicas: 2, selector, template }, status: { replicas: 2, readyReplicas: 1 } });
    t = await table(api, "/apis/apps/v1/namespaces/default/replicasets");
    expect(t.rows[0].cells.slice(0, 4)).toEqual(["r", 2, 2, 1]);
    api.upsertObject({ apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "s", namespace: "default" }, spec: { replicas: 3, selector, template }, status: { readyReplicas: 3 } });
    t = await table(api, "/apis/apps/v1/namespaces/default/statefulsets");
    expect(names(t)).toEqual(["Name", "Ready", "Age", "Containers*", "Images*"]);
    expect(t.rows[0].cells.slice(0, 2)).toEqual(["s", "3/3"]);
    api.upsertObject({ apiVersion: "apps/v1", kind: "DaemonSet", metadata: { name: "ds", namespace: "default" }, spec: { selector, template }, status: { desiredNumberScheduled: 2, currentNumberScheduled: 2, numberReady: 1, updatedNumberScheduled: 2, numberAvailable: 1 } });
    t = await table(api, "/apis/apps/v1/namespaces/default/daemonsets");
    expect(names(t).slice(0, 8)).toEqual(["Name", "Desired", "Current", "Ready", "Up-to-date", "Available", "Node Selector", "Age"]);
    expect(t.rows[0].cells.slice(0, 7)).toEqual(["ds", 2, 2, 1, 2, 1, "disk=ssd"]);
  });

  it("services and endpoints", async () => {
    const { api } = server();
    api.upsertObject({ apiVersion: "v1", kind: "Service", metadata: { name: "web", namespace: "default" }, spec: { type: "NodePort", clusterIP: "10.96.0.10", selector: { app: "w" }, ports: [{ port: 80, nodePort: 30080, protocol: "TCP" }, { port: 53, protocol: "UDP" }] } });
    api.upsertObject({ apiVersion: "v1", kind: "Service", metadata: { name: "lb", namespace: "default" }, spec: { type: "LoadBalancer", clusterIP: "10.96.0.11", ports: [{ port: 443 }] } });
    let t = await table(api, "/api/v1/namespaces/default/services");
    expect(names(t)).toEqual(["Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age", "Selector*"]);
    const byName = Object.fromEntries(t.rows.map((r: any) => [r.cells[0], r.cells]));
    expect(byName.web).toEqual(["web", "NodePort", "10.96.0.10", "<none>", "80:30080/TCP,53/UDP", "0s", "app=w"]);
    expect(byName.lb.slice(1, 5)).toEqual(["LoadBalancer", "10.96.0.11", "<pending>", "443/TCP"]);
    api.upsertObject({ apiVersion: "v1", kind: "Endpoints", metadata: { name: "web", namespace: "default" }, subsets: [{ addresses: ["1", "2", "3", "4"].map((i) => ({ ip: `10.1.0.${i}` })), ports: [{ port: 80 }] }] });
    t = await table(api, "/api/v1/namespaces/default/endpoints/web");
    expect(t.rows[0].cells.slice(0, 2)).toEqual(["web", "10.1.0.1:80,10.1.0.2:80,10.1.0.3:80 + 1 more..."]);
  });

  it("events, role bindings, and kube's default convertor (roles, CRDs)", async () => {
    const { api, advance } = server();
    await call(api, "POST", "/api/v1/namespaces/default/events", {
      metadata: { name: "e1" },
      involvedObject: { kind: "Pod", name: "p", fieldPath: "spec.containers{a}" },
      reason: "Pulled",
      type: "Normal",
      message: " pulled \n",
      count: 3,
      firstTimestamp: "2024-01-01T00:00:00Z",
      lastTimestamp: "2024-01-01T00:00:00Z",
      source: { component: "kubelet", host: "w-1" },
    });
    advance(3 * 60_000);
    let t = await table(api, "/api/v1/namespaces/default/events");
    expect(names(t)).toEqual(["Last Seen", "Type", "Reason", "Object", "Subobject*", "Source*", "Message", "First Seen*", "Count*", "Name*"]);
    expect(t.rows[0].cells).toEqual(["3m", "Normal", "Pulled", "pod/p", "spec.containers{a}", "kubelet, w-1", "pulled", "3m", 3, "e1"]);

    await call(api, "POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings", {
      metadata: { name: "rb" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" },
      subjects: [{ kind: "User", name: "alice" }, { kind: "Group", name: "devs" }, { kind: "ServiceAccount", name: "sa", namespace: "ns1" }, { kind: "User", name: "bob" }],
    });
    t = await table(api, "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings");
    expect(names(t)).toEqual(["Name", "Role", "Age", "Users*", "Groups*", "ServiceAccounts*"]);
    expect(t.rows[0].cells).toEqual(["rb", "ClusterRole/view", "0s", "alice, bob", "devs", "ns1/sa"]);

    await call(api, "POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles", { metadata: { name: "cr" }, rules: [] });
    t = await table(api, "/apis/rbac.authorization.k8s.io/v1/clusterroles");
    expect(t.columnDefinitions.map((c: any) => `${c.name}:${c.type}`)).toEqual(["Name:string", "Created At:date"]);
    expect(t.rows[0].cells).toEqual(["cr", "2024-01-01T00:03:00Z"]);
  });

  it("custom resources: additionalPrinterColumns with filters and indexes, else NAME AGE", async () => {
    const { api } = server();
    const crd = (plural: string, kind: string, columns?: unknown[]) => ({
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: `${plural}.example.com` },
      spec: {
        group: "example.com",
        scope: "Namespaced",
        names: { plural, singular: kind.toLowerCase(), kind, listKind: `${kind}List` },
        versions: [{ name: "v1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } }, ...(columns ? { additionalPrinterColumns: columns } : {}) }],
      },
    });
    expect((await call(api, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd("machines", "Machine", [
      { name: "Phase", type: "string", jsonPath: ".status.phase" },
      { name: "Ready", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
      { name: "Replicas", type: "integer", jsonPath: ".spec.replicas" },
      { name: "First", type: "string", priority: 1, jsonPath: ".spec.items[0].name" },
      { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
    ]))).status).toBe(201);
    expect((await call(api, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd("widgets", "Widget"))).status).toBe(201);
    await call(api, "POST", "/apis/example.com/v1/namespaces/default/machines", {
      apiVersion: "example.com/v1",
      kind: "Machine",
      metadata: { name: "m1" },
      spec: { replicas: 2, items: [{ name: "first" }, { name: "second" }] },
      status: { phase: "Running", conditions: [{ type: "Other", status: "False" }, { type: "Ready", status: "True" }] },
    });
    await call(api, "POST", "/apis/example.com/v1/namespaces/default/machines", { apiVersion: "example.com/v1", kind: "Machine", metadata: { name: "m2" }, spec: { replicas: "two" } });
    let t = await table(api, "/apis/example.com/v1/namespaces/default/machines");
    expect(names(t)).toEqual(["Name", "Phase", "Ready", "Replicas", "First*", "Age"]);
    expect(t.columnDefinitions[5].type).toBe("date");
    expect(t.rows[0].cells).toEqual(["m1", "Running", "True", 2, "first", "0s"]);
    expect(t.rows[1].cells).toEqual(["m2", null, null, null, null, "0s"]);
    await call(api, "POST", "/apis/example.com/v1/namespaces/default/widgets", { apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" } });
    t = await table(api, "/apis/example.com/v1/namespaces/default/widgets");
    expect(names(t)).toEqual(["Name", "Age"]);
    expect(t.rows[0].cells).toEqual(["w", "0s"]);
    t = await table(api, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions");
    expect(names(t)).toEqual(["Name", "Created At"]);
  });

  it("watch tables carry the kind's columns once", async () => {
    const { api } = server();
    await call(api, "POST", "/api/v1/namespaces/default/configmaps", cm("w1", { a: "1" }));
    const res = await api.handle(new Request("http://cluster.local/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=1", { headers: TABLE }));
    const text = await res.text();
    const events = text.trim().split("\n").map((l) => JSON.parse(l));
    expect(events[0].object.columnDefinitions.map((c: any) => c.name)).toEqual(["Name", "Data", "Age"]);
    expect(events[0].object.rows[0].cells.slice(0, 2)).toEqual(["w1", 1]);
  });

  it("JSONPath subset and HumanDuration", () => {
    const o = { a: { "b.c": [1, 2], list: [{ t: "X", v: 1 }, { t: "Y", v: 2 }] } };
    expect(evalJsonPath(parseJsonPath(".a['b.c'][1]")!, o)).toEqual([2]);
    // client-go unescapes quoted names: CAPI's printer columns escape the dots of label keys.
    expect(evalJsonPath(parseJsonPath(".a['b\\.c']")!, o)).toEqual([[1, 2]]);
    expect(evalJsonPath(parseJsonPath("{.a.list[?(@.t!='X')].v}")!, o)).toEqual([2]);
    expect(evalJsonPath(parseJsonPath(".a.list[*].t")!, o)).toEqual(["X", "Y"]);
    expect(parseJsonPath(".a..b")).toBeUndefined();
    expect([59_000, 150_000, 3 * 3600_000 + 60_000, 30 * 3600_000, 3 * 86400_000 + 3600_000, 400 * 86400_000].map(humanDuration)).toEqual(["59s", "2m30s", "3h1m", "30h", "3d1h", "400d"]);
  });
});
