// The objects the driver creates for a cluster where CAPI's controllers would: the Cluster, its
// DevCluster, and per machine a Machine and its DevMachine, owned as CAPI owns them.
import { apiVersionOf, CLUSTER, DEV_CLUSTER, DEV_MACHINE, MACHINE, type GVR, type KubeObject } from "../kube.js";
import { CLUSTER_NAME_LABEL, CONTROL_PLANE_LABEL } from "../reconcilers/gates.js";

export interface Provisioning {
  startupDuration: string;
  startupJitter?: string;
}

function ownerRef(o: KubeObject, kind: string, gvr: GVR, controller = true) {
  return { apiVersion: apiVersionOf(gvr), kind, name: o.metadata.name, uid: o.metadata.uid!, controller, blockOwnerDeletion: true };
}

export function clusterManifest(namespace: string, name: string): KubeObject {
  return {
    apiVersion: apiVersionOf(CLUSTER),
    kind: "Cluster",
    metadata: { name, namespace, labels: { [CLUSTER_NAME_LABEL]: name } },
    spec: {
      clusterNetwork: { pods: { cidrBlocks: ["192.168.0.0/16"] }, services: { cidrBlocks: ["10.128.0.0/12"] } },
      infrastructureRef: { apiGroup: DEV_CLUSTER.group, kind: "DevCluster", name },
    },
  };
}

export function devClusterManifest(namespace: string, name: string, cluster: KubeObject): KubeObject {
  return {
    apiVersion: apiVersionOf(DEV_CLUSTER),
    kind: "DevCluster",
    metadata: { name, namespace, labels: { [CLUSTER_NAME_LABEL]: name }, ownerReferences: [ownerRef(cluster, "Cluster", CLUSTER)] },
    spec: { backend: { inMemory: {} } },
  };
}

const machineLabels = (cluster: string, controlPlane: boolean): Record<string, string> => ({
  [CLUSTER_NAME_LABEL]: cluster,
  ...(controlPlane ? { [CONTROL_PLANE_LABEL]: "" } : {}),
});

/** A Machine, owned (not controlled) by its Cluster, as a MachineSet's or KCP's machines are by their owner. */
export function machineManifest(namespace: string, cluster: string, m: { name: string; controlPlane: boolean }, version: string, owner: KubeObject): KubeObject {
  return {
    apiVersion: apiVersionOf(MACHINE),
    kind: "Machine",
    metadata: { name: m.name, namespace, labels: machineLabels(cluster, m.controlPlane), ownerReferences: [ownerRef(owner, "Cluster", CLUSTER, false)] },
    spec: {
      clusterName: cluster,
      version,
      bootstrap: { configRef: { apiGroup: "bootstrap.cluster.x-k8s.io", kind: "KubeadmConfig", name: m.name } },
      infrastructureRef: { apiGroup: DEV_MACHINE.group, kind: "DevMachine", name: m.name },
    },
  };
}

/** A DevMachine owned by its Machine, every provisioning step with the same startupDuration/jitter. */
export function devMachineManifest(namespace: string, cluster: string, m: { name: string; controlPlane: boolean }, p: Provisioning, machine: KubeObject): KubeObject {
  const block = { provisioning: { startupDuration: p.startupDuration, ...(p.startupJitter ? { startupJitter: p.startupJitter } : {}) } };
  return {
    apiVersion: apiVersionOf(DEV_MACHINE),
    kind: "DevMachine",
    metadata: { name: m.name, namespace, labels: machineLabels(cluster, m.controlPlane), ownerReferences: [ownerRef(machine, "Machine", MACHINE)] },
    spec: { backend: { inMemory: { vm: block, node: block, apiServer: block, etcd: block } } },
  };
}
