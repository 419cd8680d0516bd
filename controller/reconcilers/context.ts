// What a reconciler is given: clients, the VIP manager, read caches fed by watches, and a way to
// enqueue other keys. The manager (controller/manager.ts) builds it; reconcilers stay free of wiring.
import type { V1Secret } from "@kubernetes/client-node";
import type { EdgeClient } from "../edge-client.js";
import type { Kube, KubeObject } from "../kube.js";
import type { Logger } from "../log.js";

export interface PemPair {
  certPem: string;
  keyPem: string;
}

/** The part of controller/vip's VipManager the reconcilers use. */
export interface VipPort {
  open(args: { namespace: string; name: string; port?: number; exactPort?: boolean; ca?: PemPair; etcdCa?: PemPair }): Promise<{ host: string; port: number }>;
  close(namespace: string, name: string): Promise<void> | void;
  isOpen(namespace: string, name: string): boolean;
}

/** Read-only views of the informer caches (eventually consistent, like controller-runtime's). */
export interface Caches {
  devCluster(ns: string, name: string): KubeObject | undefined;
  devMachine(ns: string, name: string): KubeObject | undefined;
  cluster(ns: string, name: string): KubeObject | undefined;
  machine(ns: string, name: string): KubeObject | undefined;
  inMemoryCluster(ns: string, name: string): KubeObject | undefined;
  inMemoryMachine(ns: string, name: string): KubeObject | undefined;
  devMachinePool(ns: string, name: string): KubeObject | undefined;
  machinePool(ns: string, name: string): KubeObject | undefined;
  controlPlaneEndpoint(ns: string, name: string): KubeObject | undefined;
  envVar(ns: string, name: string): KubeObject | undefined;
  /** Secrets labelled cluster.x-k8s.io/cluster-name (CAPI's); others are fetched directly. */
  secret(ns: string, name: string): V1Secret | undefined;
  /** Names of the DevClusters owned by (or labelled for) a Cluster. */
  devClustersOfCluster(ns: string, cluster: string): string[];
  /** Names of the DevMachines labelled for a Cluster. */
  devMachinesOfCluster(ns: string, cluster: string): string[];
}

export type ControllerKind = "DevCluster" | "DevMachine" | "InMemoryCluster" | "InMemoryMachine" | "DevMachinePool" | "ControlPlaneEndpoint" | "EnvVar" | "MimicMachine";

export interface ReconcileContext {
  kube: Kube;
  edge: EdgeClient;
  vip: VipPort;
  log: Logger;
  cache: Caches;
  /**
   * DevMachines (`namespace/name`) this process has seen finished on the edge: their later reconciles make
   * no edge call (see devmachine.ts). Kept in memory only, so a restarted controller looks once more; a
   * DevMachine that is gone leaves it, and one re-created under the name is not finished until it says so.
   */
  finishedOnEdge: Set<string>;
  /** The api-faults annotation text last applied per cluster (`namespace/name`), see faults.ts. */
  appliedFaults: Map<string, string>;
  enqueue(kind: ControllerKind, namespace: string, name: string, afterMs?: number): void;
}

/** What a reconcile asks for next; errors are thrown and retried with backoff by the queue. */
export interface Result {
  requeueAfterMs?: number;
}
