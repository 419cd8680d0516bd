// The driver plays Cluster API's part for the embedded default: for clusters `<prefix>-1..n` it
// creates what CAPI's controllers would (Cluster, DevCluster, Machines, DevMachines), then reacts to the
// provider in real CAPI's order: once the DevCluster is provisioned it marks the Cluster's infrastructure
// provisioned, creates `<cluster>-ca` and then `<cluster>-etcd` (KCP creates the CAs only after the
// infrastructure), writes `<cluster>-kubeconfig`, hands out bootstrap data (workers only after the
// control plane is initialized, as CABPK does), sets ControlPlaneInitialized once a control plane
// machine is ready.
// Every step is create-if-missing / patch-if-different, so a restart converges without re-creating.
import { makeInformer, type KubernetesObject, type V1Secret } from "@kubernetes/client-node";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { generateCA, issueCert, kubeconfigFor } from "../pki/index.js";
import {
  CLUSTER,
  collectionPath,
  DEV_CLUSTER,
  DEV_MACHINE,
  errorMessage,
  isAlreadyExists,
  MACHINE,
  SECRET,
  secretValue,
  type GVR,
  type Kube,
  type KubeObject,
} from "../kube.js";
import type { Logger } from "../log.js";
import type { Cached, SharedInformers } from "../manager.js";
import { CacheIndex } from "../cache-index.js";
import { WorkQueue } from "../queue.js";
import { getCondition, isTrue, type Condition } from "../reconcilers/conditions.js";
import { CLUSTER_NAME_LABEL, CONTROL_PLANE_LABEL } from "../reconcilers/gates.js";
import { clusterManifest, devClusterManifest, devMachineManifest, machineManifest, type Provisioning } from "./driver-manifests.js";

export type { Provisioning } from "./driver-manifests.js";

export interface DriverOptions {
  kube: Kube;
  log: Logger;
  namespace?: string;
  prefix?: string;
  clusters: number;
  controlPlanes: number;
  workers: number;
  version?: string;
  /** Same settings for vm, node, apiServer and etcd. */
  provisioning: Provisioning;
  kubeconfigDir: string;
  /** Key type of the cluster CAs: "rsa" (default, RSA-2048 like CAPI's) or "ecdsa" (P-256; benchmarks use it to
   * measure the provider rather than CAPI's RSA key generation, ~150-300 ms a key on a small machine). */
  caKeys?: "rsa" | "ecdsa";
  /** Called whenever the count of ready machines changes. */
  onProgress?: (p: Progress) => void;
  /**
   * Informers to read instead of starting its own: in one process with the controller, its caches (one
   * watch per kind for the whole process, as a controller-runtime manager shares its cache among its
   * controllers). Their owner starts and stops them; they may span all namespaces.
   */
  informers?: SharedInformers;
}

export interface Progress {
  readyMachines: number;
  totalMachines: number;
  readyClusters: number;
  totalClusters: number;
}

const SECRET_TYPE = "cluster.x-k8s.io/secret";
/** Clusters whose objects are being created at once (creation, not CPU, paced the 100-cluster benchmark at 4). */
const CREATE_CONCURRENCY = 16;

export function machineNames(cluster: string, cps: number, workers: number): { name: string; controlPlane: boolean }[] {
  return [
    ...Array.from({ length: cps }, (_, i) => ({ name: `${cluster}-cp-${i}`, controlPlane: true })),
    ...Array.from({ length: workers }, (_, i) => ({ name: `${cluster}-md-${i}`, controlPlane: false })),
  ];
}

const nowIso = () => new Date().toISOString().replace(/\.\d{3}Z$/, "Z");

/** Failed syncs in a row after which a cluster's error is logged as a warning (then every 4x as many). */
const PERSISTENT_FAILURES = 5;

export class Driver {
  readonly namespace: string;
  readonly names: string[];
  private readonly queue: WorkQueue;
  private readonly caches: Record<"clusters" | "machines" | "devClusters" | "devMachines", Cached<KubeObject>>;
  /** CAPI's Secrets (labelled with their cluster): CAs, bootstrap data, kubeconfigs; read here instead of GETs. */
  private readonly secrets: Cached<V1Secret & KubeObject>;
  /** The informers are the controller's (started and stopped there). */
  private readonly shared: boolean;
  private readonly nameSet: ReadonlySet<string>;
  private readonly kubeconfigsWritten = new Map<string, string>();
  /** Clusters whose `<cluster>-ca` and `<cluster>-etcd` exist (created here or found). */
  private readonly casCreated = new Set<string>();
  /** Machine writes that succeeded (`<uid>/<step>`): the informer may not show them yet when the next event syncs. */
  private readonly machineWritesDone = new Set<string>();
  private readonly version: string;
  /** DevMachines by cluster label; the ready ones (what progress counts) by cluster label. */
  private readonly devMachinesOf = new CacheIndex((dm) => [dm.metadata.labels?.[CLUSTER_NAME_LABEL]]);
  private readonly readyDevMachinesOf = new CacheIndex((dm) => [isReadyDevMachine(dm) ? dm.metadata.labels?.[CLUSTER_NAME_LABEL] : undefined]);
  private readyWaiters: Array<() => void> = [];
  private lastProgress = "";

  constructor(private readonly o: DriverOptions) {
    this.namespace = o.namespace ?? "default";
    this.version = o.version ?? "v1.31.0";
    this.names = Array.from({ length: o.clusters }, (_, i) => `${o.prefix ?? "capim"}-${i + 1}`);
    this.nameSet = new Set(this.names);
    this.queue = new WorkQueue({
      concurrency: 4,
      handler: (name) => this.sync(name),
      onResult: (key, _result, _s, err, n = 0) => {
        if (!err) return;
        // Transient failures (a conflict, an edge restart) pass quietly; one that keeps coming back is
        // what holds a cluster, and the user must see why (e.g. 429 from a limit), not a silent stall.
        const fields = { cluster: key, failures: n, err: errorMessage(err) };
        if (n === PERSISTENT_FAILURES || n % (PERSISTENT_FAILURES * 4) === 0) o.log.warn(fields, "driver keeps failing on this cluster; retrying");
        else o.log.debug(fields, "driver sync failed; retrying");
      },
    });
    this.shared = o.informers !== undefined;
    if (o.informers) {
      const { secrets, ...caches } = o.informers;
      this.caches = caches;
      this.secrets = secrets;
      this.indexDevMachines();
      return;
    }
    const inf = (gvr: GVR) =>
      makeInformer<KubernetesObject>(o.kube.kc, collectionPath(gvr, this.namespace), () => o.kube.list(gvr, this.namespace) as any) as unknown as Cached<KubeObject>;
    this.caches = { clusters: inf(CLUSTER), machines: inf(MACHINE), devClusters: inf(DEV_CLUSTER), devMachines: inf(DEV_MACHINE) };
    this.secrets = makeInformer<V1Secret>(
      o.kube.kc,
      `/api/v1/namespaces/${this.namespace}/secrets`,
      () => o.kube.list(SECRET, this.namespace, CLUSTER_NAME_LABEL) as any,
      CLUSTER_NAME_LABEL,
    ) as unknown as Cached<V1Secret & KubeObject>;
    this.indexDevMachines();
  }

  private indexDevMachines(): void {
    this.devMachinesOf.attach(this.caches.devMachines);
    this.readyDevMachinesOf.attach(this.caches.devMachines);
  }

  /** Kubeconfig file written for a cluster: `<dir>/<ns>-<name>.kubeconfig`. */
  kubeconfigPath(cluster: string): string {
    return path.join(this.o.kubeconfigDir, `${this.namespace}-${cluster}.kubeconfig`);
  }

  async start(): Promise<void> {
    for (const [name, c] of Object.entries(this.caches)) {
      const kick = (o: KubeObject) => {
        if ((o.metadata.namespace ?? this.namespace) !== this.namespace) return;
        const cluster = o.metadata.labels?.[CLUSTER_NAME_LABEL] ?? (name === "clusters" ? o.metadata.name : undefined);
        if (cluster && this.nameSet.has(cluster)) this.queue.add(cluster);
      };
      c.on("add", kick);
      c.on("update", kick);
      c.on("delete", kick);
      if (this.shared) continue;
      c.on("error", () => setTimeout(() => void c.start().catch(() => {}), 2000).unref());
      await c.start();
    }
    if (!this.shared) {
      this.secrets.on("error", () => setTimeout(() => void this.secrets.start().catch(() => {}), 2000).unref());
      await this.secrets.start();
    }
    // Objects created before this driver subscribed (a restart) are picked up by the queue below.
    // A few clusters at a time, as CAPI's
    // controllers (and a `kubectl apply` of many clusters) work on several at once; sync each as it is done.
    let next = 0;
    const worker = async () => {
      while (next < this.names.length) {
        const n = this.names[next++];
        await this.ensureCluster(n);
        this.queue.add(n);
      }
    };
    await Promise.all(Array.from({ length: CREATE_CONCURRENCY }, worker));
  }

  async stop(): Promise<void> {
    await this.queue.stop();
    if (this.shared) return;
    await Promise.all([...Object.values(this.caches), this.secrets].map((c) => c.stop().catch(() => {})));
  }

  progress(): Progress {
    const total = this.o.controlPlanes + this.o.workers;
    let readyMachines = 0;
    let readyClusters = 0;
    for (const n of this.names) {
      const ready = this.readyDevMachinesOf.count(this.namespace, n);
      readyMachines += Math.min(ready, total);
      if (ready >= total && this.kubeconfigsWritten.has(n)) readyClusters++;
    }
    return { readyMachines, totalMachines: total * this.names.length, readyClusters, totalClusters: this.names.length };
  }

  /** Clusters in the namespace that this run does not drive (an earlier run's larger --clusters): they keep running. */
  undrivenClusters(): string[] {
    return this.caches.clusters
      .list(this.namespace)
      .map((c) => c.metadata.name)
      .filter((n) => !this.nameSet.has(n))
      .sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  }

  /** Resolves once every cluster has all its machines ready and its kubeconfig written. */
  allReady(): Promise<void> {
    const p = this.progress();
    if (p.readyClusters === p.totalClusters) return Promise.resolve();
    return new Promise((r) => this.readyWaiters.push(r));
  }

  private report(): void {
    const p = this.progress();
    const key = JSON.stringify(p);
    if (key !== this.lastProgress) {
      this.lastProgress = key;
      this.o.onProgress?.(p);
    }
    if (p.readyClusters === p.totalClusters && this.readyWaiters.length) {
      const ws = this.readyWaiters;
      this.readyWaiters = [];
      for (const w of ws) w();
    }
  }

  // ---- creation (idempotent) ----

  private cacheOf(gvr: GVR): Cached<KubeObject> {
    const c = { [CLUSTER.kind]: this.caches.clusters, [MACHINE.kind]: this.caches.machines, [DEV_CLUSTER.kind]: this.caches.devClusters, [DEV_MACHINE.kind]: this.caches.devMachines }[gvr.kind];
    return c!;
  }

  /** The informer cache answers "exists?" (it listed before creation starts); a create that races another gets 409 and reads. */
  private async createIfMissing(gvr: GVR, obj: KubeObject): Promise<KubeObject> {
    const existing = this.cacheOf(gvr).get(obj.metadata.name, this.namespace);
    if (existing) return existing;
    try {
      return await this.o.kube.create(gvr, this.namespace, obj);
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
      return (await this.o.kube.get(gvr, this.namespace, obj.metadata.name))!;
    }
  }

  private async createSecretIfMissing(name: string, cluster: string, data: Record<string, string>): Promise<V1Secret> {
    const existing = this.secrets.get(name, this.namespace);
    if (existing) return existing;
    const body: V1Secret = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name, namespace: this.namespace, labels: { [CLUSTER_NAME_LABEL]: cluster } },
      type: SECRET_TYPE,
      data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString("base64")])),
    };
    try {
      return (await this.o.kube.create(SECRET, this.namespace, body as KubeObject)) as V1Secret;
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
      return (await this.o.kube.getSecret(this.namespace, name))!;
    }
  }

  private async ensureCluster(name: string): Promise<void> {
    const ns = this.namespace;
    const cluster = await this.createIfMissing(CLUSTER, clusterManifest(ns, name));
    await this.createIfMissing(DEV_CLUSTER, devClusterManifest(ns, name, cluster));
    // Machines of one cluster at once, as MachineDeployments and KCP create theirs independently.
    const wanted = machineNames(name, this.o.controlPlanes, this.o.workers);
    await Promise.all(
      wanted.map(async (m) => {
        const machine = await this.createIfMissing(MACHINE, machineManifest(ns, name, m, this.version, cluster));
        await this.createIfMissing(DEV_MACHINE, devMachineManifest(ns, name, m, this.o.provisioning, machine));
      }),
    );
    await this.removeSurplusMachines(name, new Set(wanted.map((m) => m.name)));
  }

  /**
   * Machines an earlier run made beyond this run's --control-planes/--workers are deleted, as KCP and a
   * MachineDeployment scale down: the DevMachine goes with its Machine (ownerReference) and the
   * controller removes its node and etcd member from the fake cluster.
   */
  private async removeSurplusMachines(cluster: string, wanted: Set<string>): Promise<void> {
    const surplus = this.caches.machines
      .list(this.namespace)
      .filter((m) => m.metadata.labels?.[CLUSTER_NAME_LABEL] === cluster && !wanted.has(m.metadata.name) && !m.metadata.deletionTimestamp);
    for (const m of surplus) {
      this.o.log.info({ cluster, machine: m.metadata.name }, "scaling down: deleting a machine beyond --control-planes/--workers");
      await this.o.kube.delete(MACHINE, this.namespace, m.metadata.name);
    }
  }

  // ---- reacting like CAPI ----

  private async sync(name: string): Promise<{ requeueAfterMs?: number } | void> {
    const ns = this.namespace;
    const cluster = this.caches.clusters.get(name, ns);
    const dc = this.caches.devClusters.get(name, ns);
    if (!cluster || !dc || cluster.metadata.deletionTimestamp) return this.report();

    const endpoint = dc.spec?.controlPlaneEndpoint;
    const infraReady = dc.status?.initialization?.provisioned === true && endpoint?.host && endpoint?.port;
    if (infraReady) {
      if (cluster.status?.initialization?.infrastructureProvisioned !== true) {
        // CAPI's Cluster controller: Provisioned once the infrastructure is and the endpoint is set.
        await this.setClusterStatus(cluster, { initialization: { infrastructureProvisioned: true }, phase: "Provisioned" }, "InfrastructureReady");
      }
      if (cluster.spec?.controlPlaneEndpoint?.host !== endpoint.host || cluster.spec?.controlPlaneEndpoint?.port !== endpoint.port) {
        await this.o.kube.patch(CLUSTER, ns, name, { spec: { controlPlaneEndpoint: { host: endpoint.host, port: endpoint.port } } });
      }
      await this.ensureCAs(name);
      await this.ensureKubeconfig(name, `https://${endpoint.host}:${endpoint.port}`);
    }
    // CABPK cannot write bootstrap data before the cluster's certificates exist.
    const certificatesReady = this.casCreated.has(name);

    const dms = this.devMachinesOf.lookup(ns, name).map((n) => this.caches.devMachines.get(n, ns)).filter((d): d is KubeObject => d !== undefined);
    for (const dm of dms) {
      const machine = this.caches.machines.get(dm.metadata.name, ns);
      if (!machine || machine.metadata.deletionTimestamp || dm.metadata.deletionTimestamp) continue;
      // CABPK: bootstrap data once the provider says it waits for it (workers are held back before
      // that by WaitingForControlPlaneInitialized).
      const vm = getCondition(dm.status?.conditions, "VMProvisioned");
      const done = (step: string) => this.machineWritesDone.has(`${machine.metadata.uid}/${step}`);
      const markDone = (step: string) => this.machineWritesDone.add(`${machine.metadata.uid}/${step}`);
      if (certificatesReady && vm?.reason === "WaitingForBootstrapData" && !machine.spec?.bootstrap?.dataSecretName && !done("bootstrap")) {
        const secretName = `${machine.metadata.name}-bootstrap`;
        await this.createSecretIfMissing(secretName, name, { value: "#cloud-config\n# never executed by capim-edge\n", format: "cloud-config" });
        await this.o.kube.patch(MACHINE, ns, machine.metadata.name, { spec: { bootstrap: { dataSecretName: secretName } } });
        markDone("bootstrap");
      }
      // Machine controller: mirror the infra machine's provisioning and providerID.
      if (dm.status?.initialization?.provisioned === true && machine.status?.initialization?.infrastructureProvisioned !== true && !done("provisioned")) {
        if (dm.spec?.providerID && machine.spec?.providerID !== dm.spec.providerID) {
          await this.o.kube.patch(MACHINE, ns, machine.metadata.name, { spec: { providerID: dm.spec.providerID } });
        }
        await this.o.kube.patchStatus(MACHINE, ns, machine.metadata.name, {
          status: { initialization: { infrastructureProvisioned: true, bootstrapDataSecretCreated: true }, nodeRef: { name: dm.metadata.name }, phase: "Running" },
        });
        markDone("provisioned");
      }
    }

    // KCP: the control plane is initialized once the first control plane machine is fully up
    // (kube-apiserver serving, kubeadm-config written).
    const cpReady = dms.some((dm) => dm.metadata.labels?.[CONTROL_PLANE_LABEL] !== undefined && isTrue(dm.status?.conditions, "Ready"));
    if (cpReady && !isTrue(cluster.status?.conditions, "ControlPlaneInitialized")) {
      await this.setClusterStatus(cluster, { initialization: { controlPlaneInitialized: true } }, "ControlPlaneInitialized");
    }
    this.report();
  }

  /**
   * KCP's order: `<cluster>-ca`, then `<cluster>-etcd`, one after the other, only after the infrastructure is
   * provisioned; so the VIP is already open when each appears. RSA like CAPI's unless caKeys says otherwise.
   */
  private async ensureCAs(name: string): Promise<void> {
    if (this.casCreated.has(name)) return;
    for (const suffix of ["ca", "etcd"]) {
      const secretName = `${name}-${suffix}`;
      if (this.secrets.get(secretName, this.namespace)) continue;
      const ca = await generateCA(suffix === "ca" ? "kubernetes" : "etcd-ca", { rsa: this.o.caKeys !== "ecdsa" });
      await this.createSecretIfMissing(secretName, name, { "tls.crt": ca.certPem, "tls.key": ca.keyPem });
    }
    this.casCreated.add(name);
  }

  private async setClusterStatus(cluster: KubeObject, fields: Record<string, unknown>, conditionTrue: string): Promise<void> {
    const conditions: Condition[] = [...((cluster.status?.conditions as Condition[]) ?? []).filter((c) => c.type !== conditionTrue)];
    conditions.push({ type: conditionTrue, status: "True", reason: conditionTrue === "ControlPlaneInitialized" ? "Initialized" : "Ready", message: "", lastTransitionTime: nowIso() });
    const init = { ...(cluster.status?.initialization ?? {}), ...((fields.initialization as object) ?? {}) };
    await this.o.kube.patchStatus(CLUSTER, this.namespace, cluster.metadata.name, { status: { ...fields, initialization: init, conditions } });
  }

  /** `<cluster>-kubeconfig` (as CAPI writes it) and the local file; reused while the server is unchanged. */
  private async ensureKubeconfig(name: string, server: string): Promise<void> {
    const ns = this.namespace;
    const file = this.kubeconfigPath(name);
    if (this.kubeconfigsWritten.get(name) === server) return;
    let secret: V1Secret | undefined = this.secrets.get(`${name}-kubeconfig`, ns);
    let text = secretValue(secret, "value");
    if (!text || kubeconfigServer(text) !== server) {
      const caSecret = this.secrets.get(`${name}-ca`, ns) ?? (await this.o.kube.getSecret(ns, `${name}-ca`));
      const ca = { certPem: secretValue(caSecret, "tls.crt")!, keyPem: secretValue(caSecret, "tls.key")! };
      const client = await issueCert(ca, { commonName: "kubernetes-admin", organization: ["system:masters"], usage: "client" });
      text = kubeconfigFor({ clusterName: name, server, caPem: ca.certPem, clientCertPem: client.certPem, clientKeyPem: client.keyPem });
      const data = { value: Buffer.from(text).toString("base64") };
      if (secret) {
        await this.o.kube.patch(SECRET, ns, `${name}-kubeconfig`, { data });
      } else {
        secret = await this.createSecretIfMissing(`${name}-kubeconfig`, name, { value: text });
      }
    }
    mkdirSync(this.o.kubeconfigDir, { recursive: true });
    writeFileSync(file, text, { mode: 0o600 });
    this.kubeconfigsWritten.set(name, server);
  }
}

function isReadyDevMachine(dm: KubeObject): boolean {
  return isTrue(dm.status?.conditions, "Ready") && dm.status?.initialization?.provisioned === true;
}

function kubeconfigServer(text: string): string | undefined {
  try {
    return parseYaml(text)?.clusters?.[0]?.cluster?.server;
  } catch {
    return undefined;
  }
}
