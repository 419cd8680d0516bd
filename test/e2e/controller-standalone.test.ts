// The controller as deployed (`controller/main.ts` with flags, its own process) against a management
// API (the embedded one, through its VIP) and a separately running edge. Objects are created by the
// test with client-node, like CAPI would: this checks the DevCluster gates and unsupported backends,
// the endpoint opened before CAPI creates the CAs and the VIP picking each CA up (real TLS handshakes), the metrics
// and probes, graceful SIGTERM, and a restart coming back on the same VIP port.
import * as k8s from "@kubernetes/client-node";
import { request as httpsRequest } from "node:https";
import { createServer as createNetServer } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Management } from "../../controller/local/management.js";
import { generateCA, issueCert } from "../../controller/pki/index.js";
import { spawnController, startControllerStack, type ControllerProc, type ControllerStack } from "../helpers/controller-process.js";
import type { SpawnedEdge } from "../helpers/edge.js";
import { until } from "./embedded-process.js";

const GROUP = "infrastructure.cluster.x-k8s.io";
const NS = "default";

describe("standalone controller process", () => {
  let edge: SpawnedEdge;
  let mgmt: Management;
  let custom: k8s.CustomObjectsApi;
  let core: k8s.CoreV1Api;
  let ctl: ControllerProc;

  const get = (plural: string, name: string) => custom.getNamespacedCustomObject({ group: GROUP, version: "v1beta2", namespace: NS, plural, name });
  const cond = (obj: any, type: string) => (obj?.status?.conditions ?? []).find((c: any) => c.type === type);

  let stack: ControllerStack;

  beforeAll(async () => {
    stack = await startControllerStack();
    ({ edge, mgmt, ctl } = stack);
    custom = mgmt.kubeConfig.makeApiClient(k8s.CustomObjectsApi);
    core = mgmt.kubeConfig.makeApiClient(k8s.CoreV1Api);
  }, 120_000);

  afterAll(async () => {
    // Tests below replace the controller: stop the one running now, with the rest of the stack.
    if (stack) stack.ctl = ctl;
    await stack?.stop();
  });

  async function createCluster(name: string): Promise<any> {
    return custom.createNamespacedCustomObject({
      group: "cluster.x-k8s.io",
      version: "v1beta2",
      namespace: NS,
      plural: "clusters",
      body: {
        apiVersion: "cluster.x-k8s.io/v1beta2",
        kind: "Cluster",
        metadata: { name, namespace: NS },
        spec: { infrastructureRef: { apiGroup: GROUP, kind: "DevCluster", name } },
      },
    });
  }

  async function createDevCluster(name: string, cluster: any, backend: object): Promise<void> {
    await custom.createNamespacedCustomObject({
      group: GROUP,
      version: "v1beta2",
      namespace: NS,
      plural: "devclusters",
      body: {
        apiVersion: `${GROUP}/v1beta2`,
        kind: "DevCluster",
        metadata: {
          name,
          namespace: NS,
          labels: { "cluster.x-k8s.io/cluster-name": name },
          ownerReferences: [{ apiVersion: "cluster.x-k8s.io/v1beta2", kind: "Cluster", name, uid: cluster.metadata.uid, controller: true }],
        },
        spec: { backend },
      },
    });
  }

  it("reports a docker backend as unsupported and leaves it alone", async () => {
    const cluster = await createCluster("dock");
    await createDevCluster("dock", cluster, { docker: {} });
    const dc = await until(async () => {
      const o = await get("devclusters", "dock");
      return cond(o, "Ready") ? o : undefined;
    }, "Ready condition on the docker DevCluster");
    expect(cond(dc, "Ready")).toMatchObject({ status: "False", reason: "UnsupportedBackend" });
    expect(cond(dc, "Ready").message).toContain("capim-edge does not run containers: use spec.backend.inMemory");
    expect(dc.metadata.finalizers ?? []).not.toContain("dockercluster.infrastructure.cluster.x-k8s.io");
    expect(dc.spec.controlPlaneEndpoint).toBeUndefined();
  });

  let ca: { certPem: string; keyPem: string };
  let port: number;

  /** Handshake with `opts`; resolves to the server cert's CN when it verified, undefined when it did not. */
  const verifiedPeer = (opts: { ca: string; servername: string; cert?: string; key?: string }) =>
    new Promise<string | undefined>((resolve) => {
      const s = tlsConnect({ host: "127.0.0.1", port, ...opts }, () => {
        const cn = s.getPeerCertificate().subject?.CN;
        s.destroy();
        resolve(String(cn));
      });
      s.once("error", () => resolve(undefined));
    });

  // Real CAPI's order: KCP creates `<cluster>-ca` only once the infrastructure is
  // provisioned, and `<cluster>-etcd` after it. A provider that waits for the CA deadlocks real CAPI.
  it("provisions the endpoint before any CA exists, then serves with each CA as it appears, on the same port", async () => {
    const cluster = await createCluster("vip");
    await createDevCluster("vip", cluster, { inMemory: {} });
    const dc = await until(async () => {
      const o = await get("devclusters", "vip");
      return o.status?.initialization?.provisioned ? o : undefined;
    }, "DevCluster provisioned without a CA");
    expect((await core.listNamespacedSecret({ namespace: NS, labelSelector: "cluster.x-k8s.io/cluster-name=vip" })).items).toEqual([]);
    expect(dc.metadata.finalizers).toContain("dockercluster.infrastructure.cluster.x-k8s.io");
    expect(dc.spec.controlPlaneEndpoint.host).toBe("127.0.0.1");
    port = dc.spec.controlPlaneEndpoint.port;
    expect(port).toBeGreaterThanOrEqual(21000);
    expect(port).toBeLessThanOrEqual(21999);
    expect(dc.metadata.annotations["inmemorycluster.infrastructure.cluster.x-k8s.io/listener"]).toBe(`${NS}/vip`);
    expect(cond(dc, "Ready")).toMatchObject({ status: "True" });

    // Listening, but nobody can authenticate before the CA exists: 401 with a Status.
    const stranger = await generateCA("someone-else", { rsa: false });
    const strangerClient = await issueCert(stranger, { commonName: "kubernetes-admin", organization: ["system:masters"], usage: "client" });
    const early = await new Promise<{ code: number; body: string }>((resolve, reject) => {
      const req = httpsRequest(
        { host: "127.0.0.1", port, path: "/api/v1/namespaces", rejectUnauthorized: false, cert: strangerClient.certPem, key: strangerClient.keyPem },
        (res) => {
          let body = "";
          res.on("data", (b) => (body += b));
          res.on("end", () => resolve({ code: res.statusCode ?? 0, body }));
        },
      );
      req.once("error", reject);
      req.end();
    });
    expect(early.code).toBe(401);
    expect(JSON.parse(early.body)).toMatchObject({ kind: "Status", code: 401 });

    ca = await generateCA("kubernetes", { rsa: false });
    await core.createNamespacedSecret({
      namespace: NS,
      body: {
        metadata: { name: "vip-ca", namespace: NS, labels: { "cluster.x-k8s.io/cluster-name": "vip" } },
        type: "cluster.x-k8s.io/secret",
        stringData: { "tls.crt": ca.certPem, "tls.key": ca.keyPem },
      },
    });
    const client = await issueCert(ca, { commonName: "kubernetes-admin", organization: ["system:masters"], usage: "client" });
    const peerCN = await until(() => verifiedPeer({ ca: ca.certPem, servername: "localhost", cert: client.certPem, key: client.keyPem }), "VIP serving a cert signed by vip-ca");
    expect(peerCN).toBe("kube-apiserver");
    expect((await get("devclusters", "vip")).spec.controlPlaneEndpoint.port).toBe(port);

    // A machine goes on to wait for bootstrap data: the infrastructure gate is open.
    const machine = await custom.createNamespacedCustomObject({
      group: "cluster.x-k8s.io",
      version: "v1beta2",
      namespace: NS,
      plural: "machines",
      body: {
        apiVersion: "cluster.x-k8s.io/v1beta2",
        kind: "Machine",
        metadata: { name: "vip-cp-0", namespace: NS, labels: { "cluster.x-k8s.io/cluster-name": "vip", "cluster.x-k8s.io/control-plane": "" } },
        spec: { clusterName: "vip", version: "v1.31.0", bootstrap: {}, infrastructureRef: { apiGroup: GROUP, kind: "DevMachine", name: "vip-cp-0" } },
      },
    });
    await custom.createNamespacedCustomObject({
      group: GROUP,
      version: "v1beta2",
      namespace: NS,
      plural: "devmachines",
      body: {
        apiVersion: `${GROUP}/v1beta2`,
        kind: "DevMachine",
        metadata: {
          name: "vip-cp-0",
          namespace: NS,
          labels: { "cluster.x-k8s.io/cluster-name": "vip" },
          ownerReferences: [{ apiVersion: "cluster.x-k8s.io/v1beta2", kind: "Machine", name: "vip-cp-0", uid: machine.metadata.uid, controller: true }],
        },
        spec: { backend: { inMemory: { vm: { provisioning: { startupDuration: "1s" } } } } },
      },
    });
    const next = await until(async () => {
      const o = await get("devmachines", "vip-cp-0");
      return cond(o, "VMProvisioned")?.reason === "WaitingForBootstrapData" ? o : undefined;
    }, "DevMachine waiting for bootstrap data");
    expect(next.metadata.finalizers).toContain("dockermachine.infrastructure.cluster.x-k8s.io");

    // The etcd CA comes after the VIP opened: etcd-<node> connections get a cert from it from then on.
    const etcdCa = await generateCA("etcd-ca", { rsa: false });
    const etcdClient = await issueCert(etcdCa, { commonName: "kube-apiserver-etcd-client", usage: "client" });
    const etcdHello = { ca: etcdCa.certPem, servername: "etcd-vip-cp-0", cert: etcdClient.certPem, key: etcdClient.keyPem };
    expect(await verifiedPeer(etcdHello)).toBeUndefined();
    await core.createNamespacedSecret({
      namespace: NS,
      body: {
        metadata: { name: "vip-etcd", namespace: NS, labels: { "cluster.x-k8s.io/cluster-name": "vip" } },
        type: "cluster.x-k8s.io/secret",
        stringData: { "tls.crt": etcdCa.certPem, "tls.key": etcdCa.keyPem },
      },
    });
    expect(await until(() => verifiedPeer(etcdHello), "etcd-<node> served with a cert signed by vip-etcd")).toBe("etcd-vip-cp-0");
    expect(await verifiedPeer({ ca: ca.certPem, servername: "localhost", cert: client.certPem, key: client.keyPem })).toBe("kube-apiserver");
    expect((await get("devclusters", "vip")).spec.controlPlaneEndpoint.port).toBe(port);
  });

  it("serves reconcile metrics and probes", async () => {
    const base = `http://127.0.0.1:${await ctl.metricsPort}`;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toMatch(/capim_reconcile_total\{controller="DevCluster",result="success"\} [1-9]/);
    expect(text).toMatch(/capim_reconcile_total\{controller="DevMachine",result="success"\} [1-9]/);
    expect(text).toContain("capim_reconcile_duration_seconds_bucket");
  });

  it("exits 0 on SIGTERM, closing its VIPs; a new controller waits for a busy port instead of moving the endpoint", async () => {
    ctl.child.kill("SIGTERM");
    expect(await ctl.exited).toBe(0);
    const refused = await new Promise<boolean>((resolve) => {
      const s = tlsConnect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => {
        s.destroy();
        resolve(false);
      });
      s.once("error", (e: NodeJS.ErrnoException) => resolve(e.code === "ECONNREFUSED"));
    });
    expect(refused).toBe(true);

    // Someone else takes the port while the controller is down.
    const squatter = createNetServer((c) => c.destroy());
    await new Promise<void>((resolve) => squatter.listen(port, "127.0.0.1", resolve));
    ctl = spawnController(edge, mgmt.kubeconfigPath);
    await ctl.metricsPort;
    const waiting = await until(async () => {
      const o = await get("devclusters", "vip");
      return cond(o, "Ready")?.reason === "VIPPortUnavailable" ? o : undefined;
    }, "DevCluster reporting VIPPortUnavailable");
    expect(cond(waiting, "Ready")).toMatchObject({ status: "False" });
    expect(cond(waiting, "Ready").message).toContain(String(port));
    expect(waiting.spec.controlPlaneEndpoint.port).toBe(port);

    await new Promise<void>((resolve) => squatter.close(() => resolve()));
    await until(
      () =>
        new Promise<boolean>((resolve) => {
          const s = tlsConnect({ host: "127.0.0.1", port, ca: ca.certPem, servername: "localhost" }, () => {
            s.destroy();
            resolve(true);
          });
          s.once("error", () => resolve(false));
        }),
      `VIP back on port ${port}`,
    );
    const dc = await until(async () => {
      const o = await get("devclusters", "vip");
      return cond(o, "Ready")?.status === "True" ? o : undefined;
    }, "DevCluster Ready again");
    expect(dc.spec.controlPlaneEndpoint.port).toBe(port);
  });

  const tlsOpen = () =>
    new Promise<boolean>((resolve) => {
      const s = tlsConnect({ host: "127.0.0.1", port, ca: ca.certPem, servername: "localhost" }, () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });

  async function controlPlaneMachine(name: string): Promise<void> {
    const machine = await custom.createNamespacedCustomObject({
      group: "cluster.x-k8s.io",
      version: "v1beta2",
      namespace: NS,
      plural: "machines",
      body: {
        apiVersion: "cluster.x-k8s.io/v1beta2",
        kind: "Machine",
        metadata: { name, namespace: NS, labels: { "cluster.x-k8s.io/cluster-name": "vip", "cluster.x-k8s.io/control-plane": "" } },
        spec: {
          clusterName: "vip",
          version: "v1.31.0",
          bootstrap: { dataSecretName: `${name}-bootstrap` },
          infrastructureRef: { apiGroup: GROUP, kind: "DevMachine", name },
        },
      },
    });
    await custom.createNamespacedCustomObject({
      group: GROUP,
      version: "v1beta2",
      namespace: NS,
      plural: "devmachines",
      body: {
        apiVersion: `${GROUP}/v1beta2`,
        kind: "DevMachine",
        metadata: {
          name,
          namespace: NS,
          labels: { "cluster.x-k8s.io/cluster-name": "vip" },
          ownerReferences: [{ apiVersion: "cluster.x-k8s.io/v1beta2", kind: "Machine", name, uid: machine.metadata.uid, controller: true }],
        },
        spec: { backend: { inMemory: { vm: { provisioning: { startupDuration: "500ms" } } } } },
      },
    });
  }

  async function deleteMachine(name: string): Promise<void> {
    await custom.deleteNamespacedCustomObject({ group: "cluster.x-k8s.io", version: "v1beta2", namespace: NS, plural: "machines", name });
    // The Machine's deletion cascades to its DevMachine (ownerReference): it may be gone already.
    await custom.deleteNamespacedCustomObject({ group: GROUP, version: "v1beta2", namespace: NS, plural: "devmachines", name }).catch((e) => {
      if (e?.code !== 404) throw e;
    });
    await until(() => get("devmachines", name).then(() => false, (e) => e?.code === 404), `DevMachine ${name} gone`);
  }

  it("closes the VIP when the last kube-apiserver goes and reopens it on the same port for the next", async () => {
    await deleteMachine("vip-cp-0"); // never bootstrapped: it had no kube-apiserver
    await controlPlaneMachine("vip-cp-1");
    await until(async () => cond(await get("devmachines", "vip-cp-1"), "APIServerProvisioned")?.status === "True", "vip-cp-1 apiserver up");
    await until(() => tlsOpen(), "VIP open with a kube-apiserver behind it");

    await deleteMachine("vip-cp-1");
    await until(async () => !(await tlsOpen()), "VIP closed after the last kube-apiserver");
    const dc = await get("devclusters", "vip");
    expect(dc.metadata.deletionTimestamp).toBeUndefined();

    await controlPlaneMachine("vip-cp-2");
    await until(() => tlsOpen(), `VIP reopened on ${port}`);
    expect((await get("devclusters", "vip")).spec.controlPlaneEndpoint.port).toBe(port);
  });

  it("hands finished machines to the edge again when the edge lost their cluster", async () => {
    await until(async () => cond(await get("devmachines", "vip-cp-2"), "Ready")?.status === "True", "vip-cp-2 ready");
    const edgeGet = (p: string) => fetch(`${edge.url}${p}`, { headers: { authorization: `Bearer ${edge.token}` } });
    await until(async () => (await edgeGet(`/clusters/${NS}/vip/api/v1/nodes/vip-cp-2`)).status === 200, "vip-cp-2's Node on the edge");
    // The edge loses the cluster behind the controller's back; the next DevCluster reconcile notices.
    const gone = await fetch(`${edge.url}/admin/clusters/${NS}/vip`, { method: "DELETE", headers: { authorization: `Bearer ${edge.token}` } });
    expect(gone.status).toBe(200);
    expect((await edgeGet(`/clusters/${NS}/vip/api/v1/nodes/vip-cp-2`)).status).toBe(404);
    await custom.patchNamespacedCustomObject(
      { group: GROUP, version: "v1beta2", namespace: NS, plural: "devclusters", name: "vip", body: { metadata: { annotations: { "test.capim.dev/nudge": "1" } } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
    // The machine is bootstrapped (annotated), so the edge fast-forwards it: its Node comes straight back.
    await until(async () => (await edgeGet(`/clusters/${NS}/vip/api/v1/nodes/vip-cp-2`)).status === 200, "vip-cp-2's Node back on the edge");
    await until(() => tlsOpen(), `VIP open on ${port} again`);
  });

  it("applies the DevCluster's fault annotations: API faults on the edge, and a VIP outage that ends on the same port", async () => {
    const annotate = (annotations: Record<string, string | null>) =>
      custom.patchNamespacedCustomObject(
        { group: GROUP, version: "v1beta2", namespace: NS, plural: "devclusters", name: "vip", body: { metadata: { annotations } } },
        k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
      );
    const edgeFaults = async () => (await fetch(`${edge.url}/admin/clusters/${NS}/vip/faults`, { headers: { authorization: `Bearer ${edge.token}` } })).json();
    const faults = { errors: [{ verbs: ["get"], resources: ["pods"], rate: 1, code: 503 }] };
    await annotate({ "capim-edge.dev/api-faults": JSON.stringify(faults) });
    await until(async () => JSON.stringify(await edgeFaults()) === JSON.stringify(faults), "the annotation's faults on the edge");
    await annotate({ "capim-edge.dev/api-faults": null });
    await until(async () => JSON.stringify(await edgeFaults()) === "{}", "faults cleared with the annotation");

    await until(() => tlsOpen(), "VIP open before the outage");
    await annotate({ "capim-edge.dev/vip-outage-until": new Date(Date.now() + 4_000).toISOString() });
    await until(async () => !(await tlsOpen()), "the VIP refusing connections during the outage");
    await until(() => tlsOpen(), "the VIP back after the outage", 60_000);
    expect((await get("devclusters", "vip")).spec.controlPlaneEndpoint.port).toBe(port);
  });
});
