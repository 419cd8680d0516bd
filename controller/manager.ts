// Wiring: informers (list + watch) on DevCluster, DevMachine, Machine, Cluster and CAPI's labelled
// Secrets feed a work queue per controller; events are mapped to the keys they affect (a Machine to its
// DevMachine, a Cluster to its DevCluster and DevMachines, a `<cluster>-ca` Secret to its DevCluster).
import { makeInformer, type KubeConfig, type KubernetesObject, type V1Secret } from "@kubernetes/client-node";
import { CacheIndex } from "./cache-index.js";
import { EdgeClient } from "./edge-client.js";
import { CLUSTER, collectionPath, CONTROL_PLANE_ENDPOINT, DEV_CLUSTER, DEV_MACHINE, DEV_MACHINE_POOL, ENV_VAR, IN_MEMORY_CLUSTER, IN_MEMORY_MACHINE, MACHINE_POOL, errorMessage, Kube, MACHINE, SECRET, type GVR, type KubeObject } from "./kube.js";
import type { Logger } from "./log.js";
import { etcdRpcObserver, type Metrics } from "./metrics.js";
import { clusterForMachines, devClusterForMachines, devMachineOwn, machineForDevMachine, onChange, specAndMeta, type Fingerprint } from "./predicates.js";
import { WorkQueue } from "./queue.js";
import { VipManager } from "./vip/index.js";
import { DEFAULT_PORT_RANGE } from "./vip/ports.js";
import { createEtcdRequestHandler } from "./vip/etcd/tls-mux.js";
import { createPortForwardHandler } from "./vip/portforward/handler.js";
import type { Caches, ControllerKind, ReconcileContext, VipPort } from "./reconcilers/context.js";
import { reconcileControlPlaneEndpoint } from "./reconcilers/controlplaneendpoint.js";
import { owningClusterName, reconcileDevCluster } from "./reconcilers/devcluster.js";
import { endpointRef, reconcileEnvVar } from "./reconcilers/envvar.js";
import { IN_MEMORY_FLAVOR } from "./reconcilers/infra-flavor.js";
import { reconcileMimicMachine, type MimicKind } from "./reconcilers/mimicry.js";
import { owningMachineName, reconcileDevMachine } from "./reconcilers/devmachine.js";
import { reconcileDevMachinePool } from "./reconcilers/devmachinepool.js";
import { CLUSTER_NAME_LABEL } from "./reconcilers/gates.js";
import { ShardLeases } from "./sharding/leases.js";
import { shardOf } from "./sharding/shard-of.js";
import { shardPortRange } from "./sharding/shard-ports.js";
import { ShardEndpoints } from "./sharding/shard-endpoints.js";

export interface ManagerOptions {
  kubeConfig: KubeConfig;
  edge: EdgeClient;
  vip: VipPort;
  log: Logger;
  metrics?: Metrics;
  /** Reconciles running at once per controller (DevCluster, DevMachine; default 10 each). */
  concurrency?: number;
  /** Management API requests per second (default 50; 0 = unlimited). */
  qps?: number;
  /** Watch one namespace only (default: all). */
  namespace?: string;
  /** Other providers' machine kinds whose machines the edge bootstraps (reconcilers/mimicry.ts). */
  mimicry?: MimicKind[];
  /** Controller replicas (controller/sharding): only clusters of the shards this replica holds are reconciled. */
  sharding?: { shards: number; owns(shard: number): boolean };
}

/** An informer and its cache, typed by what we store (client-node's types want optional metadata). */
export interface Cached<T> {
  on(verb: "add" | "update" | "delete", cb: (obj: T) => void): void;
  on(verb: "error" | "connect", cb: (err?: unknown) => void): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  get(name: string, namespace?: string): T | undefined;
  list(namespace?: string): readonly T[];
}

type Secret = V1Secret & { metadata: NonNullable<V1Secret["metadata"]> };

/** The manager's informers as another in-process reader sees them (see Manager.sharedInformers). */
export interface SharedInformers {
  clusters: Cached<KubeObject>;
  machines: Cached<KubeObject>;
  devClusters: Cached<KubeObject>;
  devMachines: Cached<KubeObject>;
  /** Secrets labelled cluster.x-k8s.io/cluster-name. */
  secrets: Cached<V1Secret & KubeObject>;
}

const RESTART_DELAY_MS = 2_000;
/** Informers of kinds an install may lack (vcsim's CRDs): retried slowly, and never holding readiness. */
const OPTIONAL_RESTART_DELAY_MS = 30_000;

export class Manager {
  readonly kube: Kube;
  private readonly queues: Record<ControllerKind, WorkQueue>;
  private readonly informers: Array<{ name: string; inf: Cached<any>; listed: boolean }> = [];
  private devClusters!: Cached<KubeObject>;
  private devMachines!: Cached<KubeObject>;
  private clusters!: Cached<KubeObject>;
  private machines!: Cached<KubeObject>;
  private secrets!: Cached<Secret>;
  /** InMemoryCluster/InMemoryMachine v1alpha1 (reconcilers/infra-flavor.ts). */
  private inMemoryClusters!: Cached<KubeObject>;
  private inMemoryMachines!: Cached<KubeObject>;
  private devMachinePools!: Cached<KubeObject>;
  private machinePools!: Cached<KubeObject>;
  private controlPlaneEndpoints!: Cached<KubeObject>;
  private envVars!: Cached<KubeObject>;
  /** One informer per bootstrap-mimicry kind, in ManagerOptions.mimicry's order. */
  private mimicMachines: Cached<KubeObject>[] = [];
  /** DevMachines by their cluster label, by owning Machine; DevClusters by owning Cluster. */
  private readonly devMachinesOfCluster = new CacheIndex((dm) => [dm.metadata.labels?.[CLUSTER_NAME_LABEL]]);
  private readonly devMachinesOfMachine = new CacheIndex((dm) => [owningMachineName(dm)]);
  private readonly devClustersOfCluster = new CacheIndex((dc) => [owningClusterName(dc)]);
  private readonly ctx: ReconcileContext;
  private synced = false;
  private stopped = false;
  private readonly restartTimers = new Set<NodeJS.Timeout>();

  constructor(private readonly opts: ManagerOptions) {
    this.kube = new Kube(opts.kubeConfig, { qps: opts.qps ?? 50 });
    const log = opts.log;
    // One queue per controller, as controller-runtime gives each controller its own workers: a
    // backlog of DevMachine events (hundreds per new cluster) never delays a DevCluster, whose VIP
    // every machine of its cluster waits for.
    const queueFor = (controller: ControllerKind) =>
      new WorkQueue({
        concurrency: opts.concurrency ?? 10,
        handler: (key) => this.reconcile(controller, key),
        onResult: (key, result, seconds, err) => {
          opts.metrics?.reconcileTotal.inc({ controller, result });
          opts.metrics?.reconcileDuration.observe({ controller }, seconds);
          if (err) log.warn({ controller, key, err: errorMessage(err) }, "reconcile failed");
        },
      });
    this.queues = {
      DevCluster: queueFor("DevCluster"),
      DevMachine: queueFor("DevMachine"),
      InMemoryCluster: queueFor("InMemoryCluster"),
      InMemoryMachine: queueFor("InMemoryMachine"),
      DevMachinePool: queueFor("DevMachinePool"),
      ControlPlaneEndpoint: queueFor("ControlPlaneEndpoint"),
      EnvVar: queueFor("EnvVar"),
      MimicMachine: queueFor("MimicMachine"),
    };
    const cache: Caches = {
      devCluster: (ns, name) => this.devClusters.get(name, ns),
      devMachine: (ns, name) => this.devMachines.get(name, ns),
      cluster: (ns, name) => this.clusters.get(name, ns),
      machine: (ns, name) => this.machines.get(name, ns),
      secret: (ns, name) => this.secrets.get(name, ns),
      inMemoryCluster: (ns, name) => this.inMemoryClusters.get(name, ns),
      inMemoryMachine: (ns, name) => this.inMemoryMachines.get(name, ns),
      devMachinePool: (ns, name) => this.devMachinePools.get(name, ns),
      machinePool: (ns, name) => this.machinePools.get(name, ns),
      controlPlaneEndpoint: (ns, name) => this.controlPlaneEndpoints.get(name, ns),
      envVar: (ns, name) => this.envVars.get(name, ns),
      devClustersOfCluster: (ns, cluster) => this.devClustersOfCluster.lookup(ns, cluster),
      devMachinesOfCluster: (ns, cluster) => this.devMachinesOfCluster.lookup(ns, cluster),
    };
    this.ctx = {
      kube: this.kube,
      edge: opts.edge,
      vip: opts.vip,
      log,
      cache,
      finishedOnEdge: new Set(),
      appliedFaults: new Map(),
      enqueue: (kind, ns, name, afterMs) => this.enqueue(kind, ns, name, afterMs),
    };
  }

  /**
   * The informer caches, for another reader in this process (the embedded default's driver): one watch per
   * kind for the process, as a controller-runtime manager shares its cache. The manager starts and stops them.
   */
  get sharedInformers(): SharedInformers {
    return { clusters: this.clusters, machines: this.machines, devClusters: this.devClusters, devMachines: this.devMachines, secrets: this.secrets as unknown as SharedInformers["secrets"] };
  }

  /** True once every informer has listed (for /readyz). */
  get ready(): boolean {
    return this.synced;
  }

  enqueue(kind: ControllerKind, ns: string, name: string, afterMs?: number): void {
    this.queues[kind].add(`${ns}/${name}`, afterMs);
  }

  /** Mimicked machines are keyed `<kind index>/<namespace>/<name>`: one queue serves every configured kind. */
  private enqueueMimic(kindIndex: number, ns: string, name: string): void {
    this.queues.MimicMachine.add(`${kindIndex}/${ns}/${name}`);
  }

  async start(): Promise<void> {
    const ns = this.opts.namespace;
    this.devClusters = this.informer("devclusters", DEV_CLUSTER);
    this.devMachines = this.informer("devmachines", DEV_MACHINE);
    this.clusters = this.informer("clusters", CLUSTER);
    this.machines = this.informer("machines", MACHINE);
    this.inMemoryClusters = this.informer("inmemoryclusters", IN_MEMORY_CLUSTER);
    this.inMemoryMachines = this.informer("inmemorymachines", IN_MEMORY_MACHINE);
    this.devMachinePools = this.informer("devmachinepools", DEV_MACHINE_POOL);
    this.machinePools = this.informer("machinepools", MACHINE_POOL);
    this.controlPlaneEndpoints = this.informer("controlplaneendpoints", CONTROL_PLANE_ENDPOINT);
    this.envVars = this.informer("envvars", ENV_VAR);
    this.mimicMachines = (this.opts.mimicry ?? []).map((k) => this.informer(`${k.gvr.plural}.${k.gvr.group}`, k.gvr));
    const secretsPath = ns ? `/api/v1/namespaces/${ns}/secrets` : "/api/v1/secrets";
    // Only CAPI's secrets (labelled with their cluster) are cached: `<cluster>-ca`, `<cluster>-etcd`, ...
    this.secrets = this.track<Secret>("secrets", (list) =>
      makeInformer<V1Secret>(
        this.opts.kubeConfig,
        secretsPath,
        list(() => this.kube.list(SECRET, ns, CLUSTER_NAME_LABEL)) as any,
        CLUSTER_NAME_LABEL,
      ),
    );

    this.devMachinesOfCluster.attach(this.devMachines);
    this.devMachinesOfMachine.attach(this.devMachines);
    this.devClustersOfCluster.attach(this.devClusters);
    const each = <T,>(inf: Cached<T>, fn: (o: T) => void) => {
      inf.on("add", fn);
      inf.on("update", fn);
      inf.on("delete", fn);
    };
    // Filtered by what the reconciler reads (controller/predicates.ts): status-only writes do not enqueue.
    const when = (inf: Cached<KubeObject>, fp: Fingerprint, fn: (o: KubeObject) => void) => {
      const f = onChange(fp, fn);
      inf.on("add", f.add);
      inf.on("update", f.update);
      inf.on("delete", f.delete);
    };
    when(this.devClusters, specAndMeta, (o) => this.enqueue("DevCluster", o.metadata.namespace!, o.metadata.name));
    when(this.devClusters, devClusterForMachines, (o) => {
      // The machine gate also reads the DevCluster's provisioned flag (before CAPI copies it to the Cluster).
      const ns = o.metadata.namespace!;
      const cluster = owningClusterName(o);
      if (cluster) for (const dm of this.devMachinesOfCluster.lookup(ns, cluster)) this.enqueue("DevMachine", ns, dm);
    });
    when(this.devMachines, devMachineOwn, (o) => this.enqueue("DevMachine", o.metadata.namespace!, o.metadata.name));
    // The DevMachine reconciler reads a Machine's metadata and spec, never its status.
    const mimicry = this.opts.mimicry ?? [];
    when(this.machines, machineForDevMachine, (m) => {
      const ns = m.metadata.namespace!;
      const ref = m.spec?.infrastructureRef;
      if (ref?.kind === "DevMachine" && ref.name) this.enqueue("DevMachine", ns, ref.name);
      // A DevMachine created before its Machine's infrastructureRef was set is found by its ownerRef.
      for (const dm of this.devMachinesOfMachine.lookup(ns, m.metadata.name)) {
        if (dm !== ref?.name) this.enqueue("DevMachine", ns, dm);
      }
      if (!ref?.name) return;
      if (ref.kind === "InMemoryMachine") this.enqueue("InMemoryMachine", ns, ref.name);
      // A mimicked machine reads its Machine's bootstrap data, owner and labels, all in this fingerprint.
      const i = mimicry.findIndex((k) => k.gvr.kind === ref.kind && (ref.apiGroup ?? ref.apiVersion?.split("/")[0]) === k.gvr.group);
      if (i >= 0) this.enqueueMimic(i, ns, ref.name);
    });
    when(this.clusters, specAndMeta, (c) => this.onCluster(c.metadata.namespace!, c.metadata.name, c, { devClustersOnly: true }));
    when(this.clusters, clusterForMachines, (c) => this.onCluster(c.metadata.namespace!, c.metadata.name, c, { devMachinesOnly: true }));
    each(this.secrets, (s) => {
      const cluster = s.metadata?.labels?.[CLUSTER_NAME_LABEL];
      const name = s.metadata?.name ?? "";
      if (cluster && (name === `${cluster}-ca` || name === `${cluster}-etcd`)) {
        const ns = s.metadata!.namespace!;
        this.onCluster(ns, cluster, this.clusters.get(cluster, ns), { devClustersOnly: true });
        if (this.controlPlaneEndpoints.get(cluster, ns)) this.enqueue("ControlPlaneEndpoint", ns, cluster);
      }
    });
    // InMemoryCluster/InMemoryMachine: the same triggers as their Dev* counterparts (the Cluster's and
    // Machine's are in onCluster and the Machine handler above).
    when(this.inMemoryClusters, specAndMeta, (o) => this.enqueue("InMemoryCluster", o.metadata.namespace!, o.metadata.name));
    when(this.inMemoryMachines, devMachineOwn, (o) => this.enqueue("InMemoryMachine", o.metadata.namespace!, o.metadata.name));
    when(this.inMemoryClusters, devClusterForMachines, (o) => {
      const cluster = owningClusterName(o);
      if (cluster) this.inMemoryMachinesOf(o.metadata.namespace!, cluster);
    });
    when(this.devMachinePools, specAndMeta, (o) => this.enqueue("DevMachinePool", o.metadata.namespace!, o.metadata.name));
    // A MachinePool's replicas, version and bootstrap data are spec; its infrastructureRef names the pool.
    when(this.machinePools, specAndMeta, (mp) => {
      const ref = mp.spec?.template?.spec?.infrastructureRef;
      if (ref?.kind === "DevMachinePool" && ref.name) this.enqueue("DevMachinePool", mp.metadata.namespace!, ref.name);
    });
    when(this.controlPlaneEndpoints, specAndMeta, (o) => this.enqueue("ControlPlaneEndpoint", o.metadata.namespace!, o.metadata.name));
    // An EnvVar reads its endpoint's status: every change of it (status included) goes to the EnvVars
    // naming it, found by a scan (one EnvVar per generated cluster, and they may name another namespace).
    each(this.controlPlaneEndpoints, (o) => {
      for (const ev of this.envVars.list()) {
        const ref = endpointRef(ev);
        if (ref.namespace === o.metadata.namespace && ref.name === o.metadata.name) this.enqueue("EnvVar", ev.metadata.namespace!, ev.metadata.name);
      }
    });
    when(this.envVars, specAndMeta, (o) => this.enqueue("EnvVar", o.metadata.namespace!, o.metadata.name));
    // Mimicked machines: their provider ID and readiness may be in status, so every change counts; a
    // Machine change (bootstrap data, owner) goes to the machine its infrastructureRef names.
    this.mimicMachines.forEach((inf, i) => each(inf, (o) => this.enqueueMimic(i, o.metadata.namespace!, o.metadata.name)));

    // Start in dependency order so that the first DevMachine reconciles see their Machines and Clusters.
    for (const { name, inf } of [
      { name: "clusters", inf: this.clusters },
      { name: "machines", inf: this.machines },
      { name: "secrets", inf: this.secrets },
      { name: "devclusters", inf: this.devClusters },
      { name: "devmachines", inf: this.devMachines },
    ]) {
      await this.startInformer(name, inf);
    }
    for (const { name, inf } of [
      { name: "inmemoryclusters", inf: this.inMemoryClusters },
      { name: "inmemorymachines", inf: this.inMemoryMachines },
      { name: "devmachinepools", inf: this.devMachinePools },
      { name: "machinepools", inf: this.machinePools },
      { name: "controlplaneendpoints", inf: this.controlPlaneEndpoints },
      { name: "envvars", inf: this.envVars },
      ...this.mimicMachines.map((inf, i) => ({ name: mimicry[i].gvr.plural, inf })),
    ]) {
      void this.startInformer(name, inf, { optional: true });
    }
    this.synced = true;
    this.opts.log.info({ namespace: ns ?? "(all)" }, "controller caches synced");
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.restartTimers) clearTimeout(t);
    await Promise.all(Object.values(this.queues).map((q) => q.stop()));
    await Promise.all(this.informers.map(({ inf }) => inf.stop().catch(() => {})));
  }

  private informer(name: string, gvr: GVR): Cached<KubeObject> {
    const ns = this.opts.namespace;
    return this.track(name, (list) =>
      makeInformer<KubernetesObject>(this.opts.kubeConfig, collectionPath(gvr, ns), list(() => this.kube.list(gvr, ns) as any)),
    );
  }

  /** Registers an informer whose list function marks it as having listed once (for start-up sync). */
  private track<T>(name: string, make: (wrap: <L>(fn: () => Promise<L>) => () => Promise<L>) => unknown): Cached<T> {
    const entry = { name, inf: undefined as unknown as Cached<T>, listed: false };
    entry.inf = make((fn) => async () => {
      const r = await fn();
      entry.listed = true;
      return r;
    }) as Cached<T>;
    this.informers.push(entry);
    return entry.inf;
  }

  /**
   * Start an informer and keep it running: client-node stops an informer on a watch error. An optional
   * one (a kind whose CRD an install may lack) is retried slowly and quietly.
   */
  private async startInformer(name: string, inf: Cached<any>, opts: { optional?: boolean } = {}): Promise<void> {
    const entry = this.informers.find((i) => i.inf === inf)!;
    inf.on("error", (err: unknown) => {
      if (this.stopped) return;
      this.opts.log[opts.optional && !entry.listed ? "debug" : "warn"]({ informer: name, err: errorMessage(err) }, "watch failed; restarting");
      const t = setTimeout(() => {
        this.restartTimers.delete(t);
        if (!this.stopped) inf.start().catch(() => {});
      }, opts.optional && !entry.listed ? OPTIONAL_RESTART_DELAY_MS : RESTART_DELAY_MS);
      this.restartTimers.add(t);
    });
    await inf.start().catch(() => {});
    if (opts.optional) return;
    // start() also resolves when the first list failed (the error handler retries): wait for a good list.
    while (!this.stopped && !entry.listed) await new Promise((r) => setTimeout(r, 100));
  }

  private onCluster(ns: string, name: string, cluster: KubeObject | undefined, opts: { devClustersOnly?: boolean; devMachinesOnly?: boolean } = {}): void {
    const ref = cluster?.spec?.infrastructureRef;
    // Machines and machine pools of the cluster: their gates read the Cluster's status.
    const machines = () => {
      for (const dm of this.devMachinesOfCluster.lookup(ns, name)) this.enqueue("DevMachine", ns, dm);
      this.inMemoryMachinesOf(ns, name);
      for (const dmp of this.devMachinePools.list(ns)) {
        if (dmp.metadata.labels?.[CLUSTER_NAME_LABEL] === name) this.enqueue("DevMachinePool", ns, dmp.metadata.name);
      }
    };
    if (opts.devMachinesOnly) return machines();
    if (ref?.kind === "DevCluster" && ref.name) this.enqueue("DevCluster", ns, ref.name);
    if (ref?.kind === "InMemoryCluster" && ref.name) this.enqueue("InMemoryCluster", ns, ref.name);
    for (const dc of this.devClustersOfCluster.lookup(ns, name)) {
      if (dc !== ref?.name) this.enqueue("DevCluster", ns, dc);
    }
    if (!opts.devClustersOnly) machines();
  }

  /** InMemoryMachines labelled for a cluster, by a scan (v1alpha1 objects are few; no index kept for them). */
  private inMemoryMachinesOf(ns: string, cluster: string): void {
    for (const m of this.inMemoryMachines.list(ns)) if (m.metadata.labels?.[CLUSTER_NAME_LABEL] === cluster) this.enqueue("InMemoryMachine", ns, m.metadata.name);
  }

  /** The informer of each controller's own kind (mimicked machines have one per configured kind). */
  private cacheOf(controller: Exclude<ControllerKind, "MimicMachine">): Cached<KubeObject> {
    switch (controller) {
      case "DevCluster": return this.devClusters;
      case "DevMachine": return this.devMachines;
      case "InMemoryCluster": return this.inMemoryClusters;
      case "InMemoryMachine": return this.inMemoryMachines;
      case "DevMachinePool": return this.devMachinePools;
      case "ControlPlaneEndpoint": return this.controlPlaneEndpoints;
      case "EnvVar": return this.envVars;
    }
  }

  /** Every object of every kind back on its queue (a shard was taken over: its clusters are ours now). */
  resync(): void {
    for (const kind of ["DevCluster", "DevMachine", "InMemoryCluster", "InMemoryMachine", "DevMachinePool", "ControlPlaneEndpoint", "EnvVar"] as const) {
      for (const o of this.cacheOf(kind).list()) this.enqueue(kind, o.metadata.namespace!, o.metadata.name);
    }
    this.mimicMachines.forEach((inf, i) => inf.list().forEach((o) => this.enqueueMimic(i, o.metadata.namespace!, o.metadata.name)));
  }

  /** Whether this replica reconciles the object behind a queue key: its cluster is in a held shard. */
  private inHeldShard(controller: ControllerKind, key: string): boolean {
    const sharding = this.opts.sharding;
    if (!sharding || sharding.shards <= 1) return true;
    const parts = key.split("/");
    const [ns, name] = controller === "MimicMachine" ? parts.slice(1) : parts;
    const obj = controller === "MimicMachine" ? this.mimicMachines[Number(parts[0])]?.get(name, ns) : this.cacheOf(controller).get(name, ns);
    // The VIP is keyed by the CAPI cluster's name; objects without one by their own.
    const cluster = (obj && owningClusterName(obj)) ?? name;
    return sharding.owns(shardOf(ns, cluster, sharding.shards));
  }

  private async reconcile(controller: ControllerKind, key: string): Promise<{ requeueAfterMs?: number }> {
    if (!this.inHeldShard(controller, key)) return {};
    if (controller === "MimicMachine") {
      const [i, ns, name] = key.split("/");
      return reconcileMimicMachine(this.ctx, this.opts.mimicry![Number(i)], this.mimicMachines[Number(i)].get(name, ns));
    }
    const [ns, name] = key.split("/");
    switch (controller) {
      case "DevCluster":
        return reconcileDevCluster(this.ctx, ns, name);
      case "DevMachine":
        return reconcileDevMachine(this.ctx, ns, name);
      case "InMemoryCluster":
        return reconcileDevCluster(this.ctx, ns, name, IN_MEMORY_FLAVOR);
      case "InMemoryMachine":
        return reconcileDevMachine(this.ctx, ns, name, IN_MEMORY_FLAVOR);
      case "DevMachinePool":
        return reconcileDevMachinePool(this.ctx, ns, name);
      case "ControlPlaneEndpoint":
        return reconcileControlPlaneEndpoint(this.ctx, ns, name);
      case "EnvVar":
        return reconcileEnvVar(this.ctx, ns, name);
    }
    return {};
  }
}

export interface ControllerOptions {
  kubeConfig: KubeConfig;
  /** The edge, or the K edges (local workerd processes) a cluster is routed among by its namespace/name. */
  edgeUrl: string | readonly string[];
  edgeToken: string;
  /** Host written into controlPlaneEndpoint.host (and the VIP serving certs). */
  vipHost: string;
  /** Address VIP listeners bind (default 127.0.0.1; 0.0.0.0 in a Pod). */
  vipBindAddress?: string;
  /** See VipManagerOptions: the edge must answer a request within this (ms), else 504. */
  vipRequestTimeoutMs?: number;
  /** See VipManagerOptions: requests in flight per cluster beyond this get 429. */
  vipMaxInflight?: number;
  portRange?: [number, number];
  log: Logger;
  metrics?: Metrics;
  concurrency?: number;
  qps?: number;
  namespace?: string;
  mimicry?: MimicKind[];
  /** Run as one of several replicas, each holding shards of the clusters through Leases (controller/sharding). */
  sharding?: ShardingOptions;
}

export interface ShardingOptions {
  shards: number;
  /** This replica's own shard (taken at once; others only when their holder is gone). */
  shard: number;
  /**
   * Each shard's endpoint host, which its VIPs advertise whichever replica holds it. They bind it too,
   * unless `vipBindAddress` is given: then every shard binds that address, on its own slice of the
   * port range (sharding/shard-ports.ts), so one replica can serve any shards at once.
   */
  hosts?: string[];
  /**
   * In a management cluster: each shard's host is a headless Service this replica creates, pointed at
   * the holder's Pod by a label the holder sets on its own Pod (named `identity`); see
   * sharding/shard-endpoints.ts.
   */
  services?: boolean;
  /** Where the shard Leases live. */
  leaseNamespace: string;
  identity: string;
  leaseDurationSeconds?: number;
}

export interface RunningController {
  manager: Manager;
  vip: VipManager;
  edge: EdgeClient;
  /** Stop reconciling, then close every VIP (the edge keeps all state; a restart picks it up). */
  stop(): Promise<void>;
}

/** Builds and starts the whole controller: edge client, VIPs (with port-forward + etcd), manager. */
export async function startController(o: ControllerOptions): Promise<RunningController> {
  const edge = new EdgeClient({ url: o.edgeUrl, token: o.edgeToken });
  const sharding = o.sharding;
  const shardHost = sharding?.hosts
    ? (ns: string, name: string) => {
        const s = shardOf(ns, name, sharding.shards);
        const host = sharding.hosts![s];
        if (o.vipBindAddress === undefined) return { host, bindAddress: host };
        return { host, bindAddress: o.vipBindAddress, portRange: shardPortRange(o.portRange ?? DEFAULT_PORT_RANGE, sharding.shards, s) };
      }
    : undefined;
  const pfLog = o.log.child({ component: "portforward" });
  const observeEtcd = o.metrics ? etcdRpcObserver(o.metrics) : undefined;
  const vip = new VipManager({
    edgeUrl: o.edgeUrl,
    edgeToken: o.edgeToken,
    host: o.vipHost,
    bindAddress: o.vipBindAddress,
    portRange: o.portRange,
    logger: o.log.child({ component: "vip" }),
    metrics: o.metrics,
    upgradeHandler: createPortForwardHandler({ log: (msg, fields, level = "debug") => pfLog[level](fields ?? {}, msg), observeEtcd }),
    etcdHandler: createEtcdRequestHandler({ observeEtcd }),
    requestTimeoutMs: o.vipRequestTimeoutMs,
    maxInflight: o.vipMaxInflight,
    hostFor: shardHost,
  });
  let leases: ShardLeases | undefined;
  let started = false;
  const manager = new Manager({
    kubeConfig: o.kubeConfig,
    edge,
    vip,
    log: o.log.child({ component: "manager" }),
    metrics: o.metrics,
    concurrency: o.concurrency,
    qps: o.qps,
    namespace: o.namespace,
    mimicry: o.mimicry,
    ...(sharding ? { sharding: { shards: sharding.shards, owns: (s: number) => leases?.owns(s) ?? false } } : {}),
  });
  const endpoints = sharding?.services
    ? new ShardEndpoints({ kube: manager.kube, namespace: sharding.leaseNamespace, pod: sharding.identity, shards: sharding.shards, log: o.log.child({ component: "shards" }) })
    : undefined;
  try {
    if (sharding) {
      leases = new ShardLeases({
        kube: manager.kube,
        namespace: sharding.leaseNamespace,
        identity: sharding.identity,
        shards: sharding.shards,
        preferred: sharding.shard,
        leaseDurationSeconds: sharding.leaseDurationSeconds,
        log: o.log.child({ component: "shards" }),
        onChange: (held, gained, lost) => {
          // A lost shard's VIPs close at once: its new holder binds the same host and ports.
          if (lost.length) void vip.closeWhere((ns, name) => lost.includes(shardOf(ns, name, sharding.shards)));
          if (gained.length && started) manager.resync();
          void endpoints?.label(held);
        },
      });
      await endpoints?.ensureServices();
      await leases.start();
      // Also when nothing changed: a label left on this Pod by an earlier run of the container goes.
      await endpoints?.label(leases.holding);
    }
    await manager.start();
    started = true;
  } catch (e) {
    await leases?.stop().catch(() => {});
    await manager.stop().catch(() => {});
    await vip.closeAll().catch(() => {});
    throw e;
  }
  let stopping: Promise<void> | undefined;
  return {
    manager,
    vip,
    edge,
    stop: () =>
      (stopping ??= (async () => {
        await manager.stop();
        await vip.closeAll();
        await leases?.stop();
        await endpoints?.label(new Set());
        endpoints?.stop();
      })()),
  };
}
