// Builders for the Kubernetes objects a fake machine brings into its workload cluster: the Node,
// the static (mirror) pods of a kubeadm control plane, and the kubeadm-managed cluster objects that
// KCP reads and updates (kubeadm-config, kube-proxy, CoreDNS, kubeadm:get-nodes RBAC).
// Shapes follow what kubeadm/kubelet produce, trimmed to the fields CAPI and kubectl look at.
import { stringify as toYaml } from "yaml";
import type { ApiServer } from "../apiserver/server.js";
import type { KubeObject } from "../apiserver/types.js";

/** The slice of the cluster's ApiServer (its system API, not HTTP) that machines/ depends on. */
export type ClusterApi = Pick<ApiServer, "getObject" | "upsertObject" | "deleteObject" | "listObjects" | "resourceVersion">;

export const CONTROL_PLANE_LABEL = "node-role.kubernetes.io/control-plane";
export const CONTROL_PLANE_COMPONENTS = ["etcd", "kube-apiserver", "kube-scheduler", "kube-controller-manager"] as const;
export type ControlPlaneComponent = (typeof CONTROL_PLANE_COMPONENTS)[number];

/**
 * The etcd image matches the version the fake etcd reports (members.ts ETCD_VERSION), so what
 * kubectl shows and what etcdctl reports agree.
 */
export const ETCD_IMAGE = "registry.k8s.io/etcd:3.5.16-0";

export function providerID(name: string): string {
  return `in-memory://${name}`;
}

/** Minor version of "v1.31.0" (31), or undefined when it does not parse. */
export function minorOf(version: string): number | undefined {
  const m = /^v?1\.(\d+)(?:\.|$)/.exec(version);
  return m ? Number(m[1]) : undefined;
}

/** CoreDNS version kubeadm ships with a Kubernetes minor (kubeadm constants.CoreDNSVersion). */
export function corednsVersion(version: string): string {
  const minor = minorOf(version) ?? 31;
  if (minor <= 30) return "v1.11.1";
  if (minor <= 32) return "v1.11.3";
  if (minor === 33) return "v1.12.0";
  return "v1.12.1";
}

export function componentImage(component: ControlPlaneComponent, version: string): string {
  return component === "etcd" ? ETCD_IMAGE : `registry.k8s.io/${component}:${version}`;
}

/** A stable fake address per node (10.x.y.z from an FNV-1a hash of the name). */
export function nodeIP(name: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return `10.${(h >>> 16) & 255}.${(h >>> 8) & 255}.${(h & 255) % 254 + 1}`;
}

export interface NodeInput {
  name: string;
  controlPlane: boolean;
  version: string;
  /** Default in-memory://<name>. */
  providerID?: string;
  /** ISO time used for conditions/heartbeats. */
  now: string;
}

export function buildNode(m: NodeInput): KubeObject {
  const labels: Record<string, string> = {
    "beta.kubernetes.io/arch": "amd64",
    "beta.kubernetes.io/os": "linux",
    "kubernetes.io/arch": "amd64",
    "kubernetes.io/hostname": m.name,
    "kubernetes.io/os": "linux",
  };
  if (m.controlPlane) labels[CONTROL_PLANE_LABEL] = "";
  const spec: Record<string, unknown> = { providerID: m.providerID ?? providerID(m.name) };
  if (m.controlPlane) spec.taints = [{ key: CONTROL_PLANE_LABEL, effect: "NoSchedule" }];
  const cond = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    lastHeartbeatTime: m.now,
    lastTransitionTime: m.now,
    reason,
    message,
  });
  const resources = { cpu: "2", memory: "8148020Ki", "ephemeral-storage": "102687672Ki", pods: "110" };
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: m.name,
      labels,
      annotations: {
        "kubeadm.alpha.kubernetes.io/cri-socket": "unix:///var/run/containerd/containerd.sock",
        "node.alpha.kubernetes.io/ttl": "0",
        "volumes.kubernetes.io/controller-managed-attach-detach": "true",
      },
    },
    spec,
    status: {
      conditions: [
        cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
        cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        cond("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        cond("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
      ],
      addresses: [
        { type: "InternalIP", address: nodeIP(m.name) },
        { type: "Hostname", address: m.name },
      ],
      capacity: resources,
      allocatable: resources,
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        architecture: "amd64",
        bootID: "",
        containerRuntimeVersion: "containerd://1.7.22",
        kernelVersion: "6.1.0-capim-edge",
        kubeProxyVersion: m.version,
        kubeletVersion: m.version,
        machineID: "",
        operatingSystem: "linux",
        osImage: "capim-edge fake node",
        systemUUID: "",
      },
    },
  };
}

/**
 * The node's heartbeat Lease in kube-node-lease, as kubelet creates it (owned by its Node, so it goes with
 * it). Written once when the node starts: renewing every 10 s for thousands of fake nodes would be most
 * of the edge's writes, and neither CAPI nor kubectl needs a fresh renewTime (`describe node` shows it).
 */
export function buildNodeLease(p: { node: string; nodeUid?: string; now: string }): KubeObject {
  const metadata: Record<string, unknown> = { name: p.node, namespace: "kube-node-lease" };
  if (p.nodeUid) metadata.ownerReferences = [{ apiVersion: "v1", kind: "Node", name: p.node, uid: p.nodeUid }];
  return {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata,
    spec: { holderIdentity: p.node, leaseDurationSeconds: 40, renewTime: p.now.replace(/(\.\d{3})?Z$/, (_m, ms: string | undefined) => `${ms ?? ".000"}000Z`) },
  };
}

export function staticPodName(component: ControlPlaneComponent, node: string): string {
  return `${component}-${node}`;
}

export interface PodInput {
  component: ControlPlaneComponent;
  node: string;
  version: string;
  now: string;
  /** UID of the Node: mirror pods are owned by their Node (as kubelet does). */
  nodeUid?: string;
}

/**
 * kubelet's `kubernetes.io/config.hash` of a static pod manifest: FNV-1a 32 over the manifest, in hex (kubelet
 * hashes the decoded pod with fnv32a too). Hand-written because it is eight lines and must run in workerd.
 */
export function manifestHash(manifest: unknown): string {
  return fnv1a32(JSON.stringify(manifest));
}

export function fnv1a32(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}

export function buildStaticPod(p: PodInput): KubeObject {
  const ip = nodeIP(p.node);
  const image = componentImage(p.component, p.version);
  const hash = manifestHash({ component: p.component, node: p.node, image });
  // A mirror pod as kubelet writes it: config.mirror (= config.hash) is what CAPI's drain and
  // `kubectl drain` recognise, so they skip these pods instead of evicting them and waiting.
  const annotations: Record<string, string> = {
    "kubernetes.io/config.hash": hash,
    "kubernetes.io/config.mirror": hash,
    "kubernetes.io/config.source": "file",
    "kubernetes.io/config.seen": p.now,
  };
  if (p.component === "etcd") annotations["kubeadm.kubernetes.io/etcd.advertise-client-urls"] = `https://${ip}:2379`;
  if (p.component === "kube-apiserver") annotations["kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint"] = `${ip}:6443`;
  const metadata: Record<string, unknown> = {
    name: staticPodName(p.component, p.node),
    namespace: "kube-system",
    labels: { component: p.component, tier: "control-plane" },
    annotations,
  };
  if (p.nodeUid) metadata.ownerReferences = [{ apiVersion: "v1", kind: "Node", name: p.node, uid: p.nodeUid, controller: true }];
  const cond = (type: string) => ({ type, status: "True", lastProbeTime: null, lastTransitionTime: p.now });
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata,
    spec: {
      nodeName: p.node,
      hostNetwork: true,
      priority: 2000001000,
      priorityClassName: "system-node-critical",
      restartPolicy: "Always",
      enableServiceLinks: true,
      tolerations: [{ operator: "Exists", effect: "NoExecute" }],
      containers: [{ name: p.component, image, imagePullPolicy: "IfNotPresent", command: [p.component] }],
    },
    status: {
      phase: "Running",
      conditions: [cond("PodReadyToStartContainers"), cond("Initialized"), cond("Ready"), cond("ContainersReady"), cond("PodScheduled")],
      hostIP: ip,
      hostIPs: [{ ip }],
      podIP: ip,
      podIPs: [{ ip }],
      startTime: p.now,
      qosClass: "Burstable",
      containerStatuses: [
        {
          name: p.component,
          image,
          imageID: image,
          containerID: `containerd://${p.component}-${p.node}`,
          ready: true,
          started: true,
          restartCount: 0,
          state: { running: { startedAt: p.now } },
        },
      ],
    },
  };
}

export const SYSTEM_NAMESPACES = ["default", "kube-public", "kube-system", "kube-node-lease"];

export function buildNamespace(name: string): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name, labels: { "kubernetes.io/metadata.name": name } },
    spec: { finalizers: ["kubernetes"] },
    status: { phase: "Active" },
  };
}

export interface ClusterInput {
  version: string;
  clusterName?: string;
  /** "host:port" of the VIP. */
  controlPlaneEndpoint?: string;
}

/** kubeadm's ClusterConfiguration as stored in kube-system/kubeadm-config (v1beta4 from 1.31 on). */
export function clusterConfigurationYaml(c: ClusterInput): string {
  const minor = minorOf(c.version) ?? 31;
  const cfg: Record<string, unknown> = {
    apiServer: {},
    apiVersion: minor >= 31 ? "kubeadm.k8s.io/v1beta4" : "kubeadm.k8s.io/v1beta3",
    certificatesDir: "/etc/kubernetes/pki",
    clusterName: c.clusterName ?? "kubernetes",
    controllerManager: {},
    dns: {},
    etcd: { local: { dataDir: "/var/lib/etcd" } },
    imageRepository: "registry.k8s.io",
    kind: "ClusterConfiguration",
    kubernetesVersion: c.version,
    networking: { dnsDomain: "cluster.local", serviceSubnet: "10.96.0.0/12" },
    scheduler: {},
  };
  if (c.controlPlaneEndpoint) cfg.controlPlaneEndpoint = c.controlPlaneEndpoint;
  return toYaml(cfg);
}

/** The objects `kubeadm init` leaves behind that KCP reads or updates; created once, never overwritten. */
export function buildKubeadmObjects(c: ClusterInput): KubeObject[] {
  const coredns = `registry.k8s.io/coredns/coredns:${corednsVersion(c.version)}`;
  return [
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "kubeadm:get-nodes" },
      rules: [{ apiGroups: [""], resources: ["nodes"], verbs: ["get"] }],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: "kubeadm:get-nodes" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "kubeadm:get-nodes" },
      subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "system:bootstrappers:kubeadm:default-node-token" }],
    },
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "kubeadm-config", namespace: "kube-system" },
      data: { ClusterConfiguration: clusterConfigurationYaml(c) },
    },
    {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name: "kube-proxy", namespace: "kube-system", labels: { "k8s-app": "kube-proxy" } },
      spec: {
        selector: { matchLabels: { "k8s-app": "kube-proxy" } },
        updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
        template: {
          metadata: { labels: { "k8s-app": "kube-proxy" } },
          spec: {
            hostNetwork: true,
            priorityClassName: "system-node-critical",
            serviceAccountName: "kube-proxy",
            nodeSelector: { "kubernetes.io/os": "linux" },
            tolerations: [{ operator: "Exists" }],
            containers: [
              {
                name: "kube-proxy",
                image: `registry.k8s.io/kube-proxy:${c.version}`,
                command: ["/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf", "--hostname-override=$(NODE_NAME)"],
              },
            ],
          },
        },
      },
    },
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "coredns", namespace: "kube-system" },
      data: { Corefile: COREFILE },
    },
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "coredns", namespace: "kube-system", labels: { "k8s-app": "kube-dns" } },
      spec: {
        replicas: 2,
        selector: { matchLabels: { "k8s-app": "kube-dns" } },
        strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
        template: {
          metadata: { labels: { "k8s-app": "kube-dns" } },
          spec: {
            priorityClassName: "system-cluster-critical",
            serviceAccountName: "coredns",
            nodeSelector: { "kubernetes.io/os": "linux" },
            tolerations: [
              { key: "CriticalAddonsOnly", operator: "Exists" },
              { key: CONTROL_PLANE_LABEL, effect: "NoSchedule" },
            ],
            containers: [
              {
                name: "coredns",
                image: coredns,
                args: ["-conf", "/etc/coredns/Corefile"],
                ports: [
                  { containerPort: 53, name: "dns", protocol: "UDP" },
                  { containerPort: 53, name: "dns-tcp", protocol: "TCP" },
                  { containerPort: 9153, name: "metrics", protocol: "TCP" },
                ],
                volumeMounts: [{ name: "config-volume", mountPath: "/etc/coredns", readOnly: true }],
              },
            ],
            volumes: [{ name: "config-volume", configMap: { name: "coredns", items: [{ key: "Corefile", path: "Corefile" }] } }],
          },
        },
      },
    },
  ];
}

/** kubeadm's default Corefile (KCP's CoreDNS migration parses it). */
const COREFILE = `.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30 {
       disable success cluster.local
       disable denial cluster.local
    }
    loop
    reload
    loadbalance
}
`;

/** Creates `obj` unless an object with its key exists; never overwrites (others may have updated it). */
export function ensureObject(api: ClusterApi, obj: KubeObject): boolean {
  const meta = obj.metadata!;
  if (api.getObject(obj.apiVersion!, obj.kind!, meta.namespace ?? "", meta.name!)) return false;
  api.upsertObject(obj);
  return true;
}
