// Compact field descriptions of the built-in Kubernetes types, expanded into OpenAPI v3 schemas
// shaped like kube-apiserver's (`allOf: [$ref]` for nested types, list/map extensions).
//
// Why hand-written: kubectl's client-side strategic merge patch (`kubectl apply` on an existing
// object) reads `x-kubernetes-patch-merge-key` / `x-kubernetes-patch-strategy` from these schemas
// and refuses (falls back with a warning) when a manifest has a map- or list-valued field the schema
// does not name. So the kinds marked THOROUGH below describe every object-valued field a manifest
// normally carries; other kinds get a permissive schema and do not advertise strategic merge patch
// (kubectl then uses its compiled-in types, which are exact for built-ins).
//
// Field syntax: "<type> [flag...]". Types: string, integer, int32, int64, number, boolean, time,
// bytes, quantity, intstr, object (free-form), a type name below, "[T]" (list), "{T}" (string-keyed map).
// Flags: merge=<key> (patch merge key), strategy=<s> (patch strategy), list=<atomic|map|set>,
// keys=<a,b> (list map keys), map=<atomic|granular>, req (required).

type Fields = Record<string, string>;

const META = "io.k8s.apimachinery.pkg.apis.meta.v1";
const CORE = "io.k8s.api.core.v1";

/** package -> type name -> fields. Type names are unique across packages so fields can name them bare. */
const DEFS: Record<string, Record<string, Fields>> = {
  [META]: {
    ObjectMeta: {
      name: "string", generateName: "string", namespace: "string", uid: "string", resourceVersion: "string",
      generation: "int64", creationTimestamp: "time", deletionTimestamp: "time", deletionGracePeriodSeconds: "int64",
      labels: "{string}", annotations: "{string}", finalizers: "[string] list=set strategy=merge",
      ownerReferences: "[OwnerReference] list=map keys=uid merge=uid strategy=merge",
      managedFields: "[ManagedFieldsEntry] list=atomic", selfLink: "string",
    },
    OwnerReference: {
      apiVersion: "string req", kind: "string req", name: "string req", uid: "string req",
      controller: "boolean", blockOwnerDeletion: "boolean",
    },
    ManagedFieldsEntry: {
      manager: "string", operation: "string", apiVersion: "string", time: "time", fieldsType: "string",
      fieldsV1: "object", subresource: "string",
    },
    ListMeta: { resourceVersion: "string", continue: "string", remainingItemCount: "int64", selfLink: "string" },
    LabelSelector: { matchLabels: "{string}", matchExpressions: "[LabelSelectorRequirement] list=atomic" },
    LabelSelectorRequirement: { key: "string req", operator: "string req", values: "[string] list=atomic" },
    Condition: {
      type: "string req", status: "string req", observedGeneration: "int64", lastTransitionTime: "time req",
      reason: "string req", message: "string req",
    },
    Status: {
      apiVersion: "string", kind: "string", metadata: "ListMeta", status: "string", message: "string",
      reason: "string", details: "StatusDetails", code: "int32",
    },
    StatusDetails: {
      name: "string", group: "string", kind: "string", uid: "string", causes: "[StatusCause] list=atomic",
      retryAfterSeconds: "int32",
    },
    StatusCause: { reason: "string", message: "string", field: "string" },
    DeleteOptions: {
      apiVersion: "string", kind: "string", gracePeriodSeconds: "int64", preconditions: "Preconditions",
      orphanDependents: "boolean", propagationPolicy: "string", dryRun: "[string] list=atomic",
      ignoreStoreReadErrorWithClusterBreakingPotential: "boolean",
    },
    Preconditions: { uid: "string", resourceVersion: "string" },
    WatchEvent: { type: "string req", object: "object req" },
    Patch: {},
  },
  [CORE]: {
    ConfigMap: { data: "{string}", binaryData: "{bytes}", immutable: "boolean" },
    Secret: { data: "{bytes}", stringData: "{string}", type: "string", immutable: "boolean" },
    Namespace: { spec: "NamespaceSpec", status: "NamespaceStatus" },
    NamespaceSpec: { finalizers: "[string] list=atomic" },
    NamespaceStatus: { phase: "string", conditions: "[NamespaceCondition] list=map keys=type merge=type strategy=merge" },
    NamespaceCondition: { type: "string req", status: "string req", lastTransitionTime: "time", reason: "string", message: "string" },
    ServiceAccount: {
      secrets: "[ObjectReference] merge=name strategy=merge", imagePullSecrets: "[LocalObjectReference] list=atomic",
      automountServiceAccountToken: "boolean",
    },
    Service: { spec: "ServiceSpec", status: "ServiceStatus" },
    ServiceSpec: {
      ports: "[ServicePort] list=map keys=port,protocol merge=port strategy=merge", selector: "{string} map=atomic",
      clusterIP: "string", clusterIPs: "[string] list=atomic", type: "string", externalIPs: "[string] list=atomic",
      sessionAffinity: "string", loadBalancerIP: "string", loadBalancerSourceRanges: "[string] list=atomic",
      externalName: "string", externalTrafficPolicy: "string", healthCheckNodePort: "int32",
      publishNotReadyAddresses: "boolean", sessionAffinityConfig: "SessionAffinityConfig",
      ipFamilies: "[string] list=atomic", ipFamilyPolicy: "string", allocateLoadBalancerNodePorts: "boolean",
      loadBalancerClass: "string", internalTrafficPolicy: "string", trafficDistribution: "string",
    },
    ServicePort: {
      name: "string", protocol: "string", appProtocol: "string", port: "int32 req", targetPort: "intstr", nodePort: "int32",
    },
    SessionAffinityConfig: { clientIP: "ClientIPConfig" },
    ClientIPConfig: { timeoutSeconds: "int32" },
    ServiceStatus: { loadBalancer: "LoadBalancerStatus", conditions: "[Condition] list=map keys=type merge=type strategy=merge" },
    LoadBalancerStatus: { ingress: "[LoadBalancerIngress] list=atomic" },
    LoadBalancerIngress: { ip: "string", hostname: "string", ipMode: "string", ports: "[PortStatus] list=atomic" },
    PortStatus: { port: "int32 req", protocol: "string req", error: "string" },
    Endpoints: { subsets: "[EndpointSubset] list=atomic" },
    EndpointSubset: {
      addresses: "[EndpointAddress] list=atomic", notReadyAddresses: "[EndpointAddress] list=atomic",
      ports: "[EndpointPort] list=atomic",
    },
    EndpointAddress: { ip: "string req", hostname: "string", nodeName: "string", targetRef: "ObjectReference" },
    EndpointPort: { name: "string", port: "int32 req", protocol: "string", appProtocol: "string" },
    Node: { spec: "NodeSpec", status: "NodeStatus" },
    NodeSpec: {
      podCIDR: "string", podCIDRs: "[string] list=set strategy=merge", providerID: "string", unschedulable: "boolean",
      taints: "[Taint] list=atomic", externalID: "string",
    },
    Taint: { key: "string req", value: "string", effect: "string req", timeAdded: "time" },
    NodeStatus: {
      capacity: "{quantity}", allocatable: "{quantity}", phase: "string",
      conditions: "[NodeCondition] list=map keys=type merge=type strategy=merge",
      addresses: "[NodeAddress] list=map keys=type merge=type strategy=merge",
      daemonEndpoints: "NodeDaemonEndpoints", nodeInfo: "NodeSystemInfo", images: "[ContainerImage] list=atomic",
      volumesInUse: "[string] list=atomic", volumesAttached: "[AttachedVolume] list=atomic",
    },
    NodeCondition: {
      type: "string req", status: "string req", lastHeartbeatTime: "time", lastTransitionTime: "time",
      reason: "string", message: "string",
    },
    NodeAddress: { type: "string req", address: "string req" },
    NodeDaemonEndpoints: { kubeletEndpoint: "DaemonEndpoint" },
    DaemonEndpoint: { Port: "int32 req" },
    NodeSystemInfo: {
      machineID: "string", systemUUID: "string", bootID: "string", kernelVersion: "string", osImage: "string",
      containerRuntimeVersion: "string", kubeletVersion: "string", kubeProxyVersion: "string",
      operatingSystem: "string", architecture: "string",
    },
    ContainerImage: { names: "[string] list=atomic", sizeBytes: "int64" },
    AttachedVolume: { name: "string req", devicePath: "string req" },
    ObjectReference: {
      kind: "string", namespace: "string", name: "string", uid: "string", apiVersion: "string",
      resourceVersion: "string", fieldPath: "string",
    },
    LocalObjectReference: { name: "string" },
    Event: {
      involvedObject: "ObjectReference req", reason: "string", message: "string", source: "EventSource",
      firstTimestamp: "time", lastTimestamp: "time", count: "int32", type: "string", eventTime: "time",
      series: "EventSeries", action: "string", related: "ObjectReference", reportingComponent: "string",
      reportingInstance: "string",
    },
    EventSource: { component: "string", host: "string" },
    EventSeries: { count: "int32", lastObservedTime: "time" },
    PersistentVolumeClaim: { spec: "PersistentVolumeClaimSpec", status: "PersistentVolumeClaimStatus" },
    PersistentVolumeClaimSpec: {
      accessModes: "[string] list=atomic", selector: "LabelSelector", resources: "VolumeResourceRequirements",
      volumeName: "string", storageClassName: "string", volumeMode: "string", dataSource: "TypedLocalObjectReference",
      dataSourceRef: "TypedObjectReference", volumeAttributesClassName: "string",
    },
    VolumeResourceRequirements: { limits: "{quantity}", requests: "{quantity}" },
    TypedLocalObjectReference: { apiGroup: "string", kind: "string req", name: "string req" },
    TypedObjectReference: { apiGroup: "string", kind: "string req", name: "string req", namespace: "string" },
    PersistentVolumeClaimStatus: {
      phase: "string", accessModes: "[string] list=atomic", capacity: "{quantity}",
      conditions: "[PersistentVolumeClaimCondition] list=map keys=type merge=type strategy=merge",
    },
    PersistentVolumeClaimCondition: {
      type: "string req", status: "string req", lastProbeTime: "time", lastTransitionTime: "time",
      reason: "string", message: "string",
    },
    PersistentVolumeClaimTemplate: { metadata: "ObjectMeta", spec: "PersistentVolumeClaimSpec req" },
    Pod: { spec: "PodSpec", status: "PodStatus" },
    PodTemplate: { template: "PodTemplateSpec" },
    PodTemplateSpec: { metadata: "ObjectMeta", spec: "PodSpec" },
    PodSpec: {
      volumes: "[Volume] list=map keys=name merge=name strategy=merge,retainKeys",
      initContainers: "[Container] list=map keys=name merge=name strategy=merge",
      containers: "[Container] req list=map keys=name merge=name strategy=merge",
      ephemeralContainers: "[EphemeralContainer] list=map keys=name merge=name strategy=merge",
      restartPolicy: "string", terminationGracePeriodSeconds: "int64", activeDeadlineSeconds: "int64",
      dnsPolicy: "string", nodeSelector: "{string} map=atomic", serviceAccountName: "string", serviceAccount: "string",
      automountServiceAccountToken: "boolean", nodeName: "string", hostNetwork: "boolean", hostPID: "boolean",
      hostIPC: "boolean", shareProcessNamespace: "boolean", securityContext: "PodSecurityContext",
      imagePullSecrets: "[LocalObjectReference] list=map keys=name merge=name strategy=merge",
      hostname: "string", subdomain: "string", affinity: "Affinity", schedulerName: "string",
      tolerations: "[Toleration] list=atomic", hostAliases: "[HostAlias] list=map keys=ip merge=ip strategy=merge",
      priorityClassName: "string", priority: "int32", dnsConfig: "PodDNSConfig",
      readinessGates: "[PodReadinessGate] list=atomic", runtimeClassName: "string", enableServiceLinks: "boolean",
      preemptionPolicy: "string", overhead: "{quantity}",
      topologySpreadConstraints: "[TopologySpreadConstraint] list=map keys=topologyKey,whenUnsatisfiable merge=topologyKey strategy=merge",
      setHostnameAsFQDN: "boolean", os: "PodOS", hostUsers: "boolean",
      schedulingGates: "[PodSchedulingGate] list=map keys=name merge=name strategy=merge",
      resourceClaims: "[PodResourceClaim] list=map keys=name merge=name strategy=merge,retainKeys",
      resources: "ResourceRequirements",
    },
    Container: {
      name: "string req", image: "string", command: "[string] list=atomic", args: "[string] list=atomic",
      workingDir: "string",
      ports: "[ContainerPort] list=map keys=containerPort,protocol merge=containerPort strategy=merge",
      envFrom: "[EnvFromSource] list=atomic", env: "[EnvVar] list=map keys=name merge=name strategy=merge",
      resources: "ResourceRequirements", resizePolicy: "[ContainerResizePolicy] list=atomic", restartPolicy: "string",
      volumeMounts: "[VolumeMount] list=map keys=mountPath merge=mountPath strategy=merge",
      volumeDevices: "[VolumeDevice] list=map keys=devicePath merge=devicePath strategy=merge",
      livenessProbe: "Probe", readinessProbe: "Probe", startupProbe: "Probe", lifecycle: "Lifecycle",
      terminationMessagePath: "string", terminationMessagePolicy: "string", imagePullPolicy: "string",
      securityContext: "SecurityContext", stdin: "boolean", stdinOnce: "boolean", tty: "boolean",
    },
    EphemeralContainer: {
      name: "string req", image: "string", command: "[string] list=atomic", args: "[string] list=atomic",
      workingDir: "string", ports: "[ContainerPort] list=map keys=containerPort,protocol merge=containerPort strategy=merge",
      envFrom: "[EnvFromSource] list=atomic", env: "[EnvVar] list=map keys=name merge=name strategy=merge",
      resources: "ResourceRequirements",
      volumeMounts: "[VolumeMount] list=map keys=mountPath merge=mountPath strategy=merge",
      securityContext: "SecurityContext", imagePullPolicy: "string", targetContainerName: "string",
      stdin: "boolean", stdinOnce: "boolean", tty: "boolean",
    },
    ContainerPort: { name: "string", hostPort: "int32", containerPort: "int32 req", protocol: "string", hostIP: "string" },
    EnvVar: { name: "string req", value: "string", valueFrom: "EnvVarSource" },
    EnvVarSource: {
      fieldRef: "ObjectFieldSelector", resourceFieldRef: "ResourceFieldSelector",
      configMapKeyRef: "ConfigMapKeySelector", secretKeyRef: "SecretKeySelector",
    },
    ObjectFieldSelector: { apiVersion: "string", fieldPath: "string req" },
    ResourceFieldSelector: { containerName: "string", resource: "string req", divisor: "quantity" },
    ConfigMapKeySelector: { name: "string", key: "string req", optional: "boolean" },
    SecretKeySelector: { name: "string", key: "string req", optional: "boolean" },
    EnvFromSource: { prefix: "string", configMapRef: "ConfigMapEnvSource", secretRef: "SecretEnvSource" },
    ConfigMapEnvSource: { name: "string", optional: "boolean" },
    SecretEnvSource: { name: "string", optional: "boolean" },
    ResourceRequirements: { limits: "{quantity}", requests: "{quantity}", claims: "[ResourceClaim] list=map keys=name" },
    ResourceClaim: { name: "string req", request: "string" },
    ContainerResizePolicy: { resourceName: "string req", restartPolicy: "string req" },
    VolumeMount: {
      name: "string req", readOnly: "boolean", recursiveReadOnly: "string", mountPath: "string req", subPath: "string",
      mountPropagation: "string", subPathExpr: "string",
    },
    VolumeDevice: { name: "string req", devicePath: "string req" },
    Probe: {
      exec: "ExecAction", httpGet: "HTTPGetAction", tcpSocket: "TCPSocketAction", grpc: "GRPCAction",
      initialDelaySeconds: "int32", timeoutSeconds: "int32", periodSeconds: "int32", successThreshold: "int32",
      failureThreshold: "int32", terminationGracePeriodSeconds: "int64",
    },
    ExecAction: { command: "[string] list=atomic" },
    HTTPGetAction: {
      path: "string", port: "intstr req", host: "string", scheme: "string", httpHeaders: "[HTTPHeader] list=atomic",
    },
    HTTPHeader: { name: "string req", value: "string req" },
    TCPSocketAction: { port: "intstr req", host: "string" },
    GRPCAction: { port: "int32 req", service: "string" },
    Lifecycle: { postStart: "LifecycleHandler", preStop: "LifecycleHandler", stopSignal: "string" },
    LifecycleHandler: { exec: "ExecAction", httpGet: "HTTPGetAction", tcpSocket: "TCPSocketAction", sleep: "SleepAction" },
    SleepAction: { seconds: "int64 req" },
    SecurityContext: {
      capabilities: "Capabilities", privileged: "boolean", seLinuxOptions: "SELinuxOptions",
      windowsOptions: "WindowsSecurityContextOptions", runAsUser: "int64", runAsGroup: "int64", runAsNonRoot: "boolean",
      readOnlyRootFilesystem: "boolean", allowPrivilegeEscalation: "boolean", procMount: "string",
      seccompProfile: "SeccompProfile", appArmorProfile: "AppArmorProfile",
    },
    Capabilities: { add: "[string] list=atomic", drop: "[string] list=atomic" },
    SELinuxOptions: { user: "string", role: "string", type: "string", level: "string" },
    WindowsSecurityContextOptions: {
      gmsaCredentialSpecName: "string", gmsaCredentialSpec: "string", runAsUserName: "string", hostProcess: "boolean",
    },
    SeccompProfile: { type: "string req", localhostProfile: "string" },
    AppArmorProfile: { type: "string req", localhostProfile: "string" },
    PodSecurityContext: {
      seLinuxOptions: "SELinuxOptions", windowsOptions: "WindowsSecurityContextOptions", runAsUser: "int64",
      runAsGroup: "int64", runAsNonRoot: "boolean", supplementalGroups: "[int64] list=atomic",
      supplementalGroupsPolicy: "string", fsGroup: "int64", sysctls: "[Sysctl] list=atomic",
      fsGroupChangePolicy: "string", seccompProfile: "SeccompProfile", appArmorProfile: "AppArmorProfile",
      seLinuxChangePolicy: "string",
    },
    Sysctl: { name: "string req", value: "string req" },
    Affinity: { nodeAffinity: "NodeAffinity", podAffinity: "PodAffinity", podAntiAffinity: "PodAntiAffinity" },
    NodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: "NodeSelector",
      preferredDuringSchedulingIgnoredDuringExecution: "[PreferredSchedulingTerm] list=atomic",
    },
    NodeSelector: { nodeSelectorTerms: "[NodeSelectorTerm] req list=atomic" },
    NodeSelectorTerm: {
      matchExpressions: "[NodeSelectorRequirement] list=atomic", matchFields: "[NodeSelectorRequirement] list=atomic",
    },
    NodeSelectorRequirement: { key: "string req", operator: "string req", values: "[string] list=atomic" },
    PreferredSchedulingTerm: { weight: "int32 req", preference: "NodeSelectorTerm req" },
    PodAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: "[PodAffinityTerm] list=atomic",
      preferredDuringSchedulingIgnoredDuringExecution: "[WeightedPodAffinityTerm] list=atomic",
    },
    PodAntiAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: "[PodAffinityTerm] list=atomic",
      preferredDuringSchedulingIgnoredDuringExecution: "[WeightedPodAffinityTerm] list=atomic",
    },
    PodAffinityTerm: {
      labelSelector: "LabelSelector", namespaces: "[string] list=atomic", topologyKey: "string req",
      namespaceSelector: "LabelSelector", matchLabelKeys: "[string] list=atomic", mismatchLabelKeys: "[string] list=atomic",
    },
    WeightedPodAffinityTerm: { weight: "int32 req", podAffinityTerm: "PodAffinityTerm req" },
    Toleration: { key: "string", operator: "string", value: "string", effect: "string", tolerationSeconds: "int64" },
    TopologySpreadConstraint: {
      maxSkew: "int32 req", topologyKey: "string req", whenUnsatisfiable: "string req", labelSelector: "LabelSelector",
      minDomains: "int32", nodeAffinityPolicy: "string", nodeTaintsPolicy: "string", matchLabelKeys: "[string] list=atomic",
    },
    HostAlias: { ip: "string req", hostnames: "[string] list=atomic" },
    PodDNSConfig: {
      nameservers: "[string] list=atomic", searches: "[string] list=atomic", options: "[PodDNSConfigOption] list=atomic",
    },
    PodDNSConfigOption: { name: "string", value: "string" },
    PodReadinessGate: { conditionType: "string req" },
    PodOS: { name: "string req" },
    PodSchedulingGate: { name: "string req" },
    PodResourceClaim: { name: "string req", resourceClaimName: "string", resourceClaimTemplateName: "string" },
    Volume: {
      name: "string req", hostPath: "HostPathVolumeSource", emptyDir: "EmptyDirVolumeSource",
      secret: "SecretVolumeSource", nfs: "NFSVolumeSource", persistentVolumeClaim: "PersistentVolumeClaimVolumeSource",
      downwardAPI: "DownwardAPIVolumeSource", configMap: "ConfigMapVolumeSource", projected: "ProjectedVolumeSource",
      csi: "CSIVolumeSource", ephemeral: "EphemeralVolumeSource", image: "ImageVolumeSource",
    },
    HostPathVolumeSource: { path: "string req", type: "string" },
    EmptyDirVolumeSource: { medium: "string", sizeLimit: "quantity" },
    SecretVolumeSource: {
      secretName: "string", items: "[KeyToPath] list=atomic", defaultMode: "int32", optional: "boolean",
    },
    ConfigMapVolumeSource: { name: "string", items: "[KeyToPath] list=atomic", defaultMode: "int32", optional: "boolean" },
    KeyToPath: { key: "string req", path: "string req", mode: "int32" },
    NFSVolumeSource: { server: "string req", path: "string req", readOnly: "boolean" },
    PersistentVolumeClaimVolumeSource: { claimName: "string req", readOnly: "boolean" },
    DownwardAPIVolumeSource: { items: "[DownwardAPIVolumeFile] list=atomic", defaultMode: "int32" },
    DownwardAPIVolumeFile: {
      path: "string req", fieldRef: "ObjectFieldSelector", resourceFieldRef: "ResourceFieldSelector", mode: "int32",
    },
    ProjectedVolumeSource: { sources: "[VolumeProjection] list=atomic", defaultMode: "int32" },
    VolumeProjection: {
      secret: "SecretProjection", downwardAPI: "DownwardAPIProjection", configMap: "ConfigMapProjection",
      serviceAccountToken: "ServiceAccountTokenProjection", clusterTrustBundle: "ClusterTrustBundleProjection",
    },
    SecretProjection: { name: "string", items: "[KeyToPath] list=atomic", optional: "boolean" },
    ConfigMapProjection: { name: "string", items: "[KeyToPath] list=atomic", optional: "boolean" },
    DownwardAPIProjection: { items: "[DownwardAPIVolumeFile] list=atomic" },
    ServiceAccountTokenProjection: { audience: "string", expirationSeconds: "int64", path: "string req" },
    ClusterTrustBundleProjection: {
      name: "string", signerName: "string", labelSelector: "LabelSelector", optional: "boolean", path: "string req",
    },
    CSIVolumeSource: {
      driver: "string req", readOnly: "boolean", fsType: "string", volumeAttributes: "{string}",
      nodePublishSecretRef: "LocalObjectReference",
    },
    EphemeralVolumeSource: { volumeClaimTemplate: "PersistentVolumeClaimTemplate" },
    ImageVolumeSource: { reference: "string", pullPolicy: "string" },
    PodStatus: {
      phase: "string", conditions: "[PodCondition] list=map keys=type merge=type strategy=merge", message: "string",
      reason: "string", nominatedNodeName: "string", hostIP: "string", hostIPs: "[HostIP] list=atomic",
      podIP: "string", podIPs: "[PodIP] list=map keys=ip merge=ip strategy=merge", startTime: "time",
      initContainerStatuses: "[ContainerStatus] list=atomic", containerStatuses: "[ContainerStatus] list=atomic",
      ephemeralContainerStatuses: "[ContainerStatus] list=atomic", qosClass: "string", resize: "string",
    },
    PodCondition: {
      type: "string req", status: "string req", lastProbeTime: "time", lastTransitionTime: "time",
      reason: "string", message: "string",
    },
    HostIP: { ip: "string req" },
    PodIP: { ip: "string req" },
    ContainerStatus: {
      name: "string req", state: "ContainerState", lastState: "ContainerState", ready: "boolean req",
      restartCount: "int32 req", image: "string req", imageID: "string req", containerID: "string", started: "boolean",
      allocatedResources: "{quantity}", resources: "ResourceRequirements",
    },
    ContainerState: {
      waiting: "ContainerStateWaiting", running: "ContainerStateRunning", terminated: "ContainerStateTerminated",
    },
    ContainerStateWaiting: { reason: "string", message: "string" },
    ContainerStateRunning: { startedAt: "time" },
    ContainerStateTerminated: {
      exitCode: "int32 req", signal: "int32", reason: "string", message: "string", startedAt: "time",
      finishedAt: "time", containerID: "string",
    },
    Binding: { target: "ObjectReference req" },
  },
  "io.k8s.api.apps.v1": {
    Deployment: { spec: "DeploymentSpec", status: "DeploymentStatus" },
    DeploymentSpec: {
      replicas: "int32", selector: "LabelSelector req", template: "PodTemplateSpec req", strategy: "DeploymentStrategy",
      minReadySeconds: "int32", revisionHistoryLimit: "int32", paused: "boolean", progressDeadlineSeconds: "int32",
    },
    DeploymentStrategy: { type: "string", rollingUpdate: "RollingUpdateDeployment" },
    RollingUpdateDeployment: { maxUnavailable: "intstr", maxSurge: "intstr" },
    DeploymentStatus: {
      observedGeneration: "int64", replicas: "int32", updatedReplicas: "int32", readyReplicas: "int32",
      availableReplicas: "int32", unavailableReplicas: "int32", terminatingReplicas: "int32",
      conditions: "[DeploymentCondition] list=map keys=type merge=type strategy=merge", collisionCount: "int32",
    },
    DeploymentCondition: {
      type: "string req", status: "string req", lastUpdateTime: "time", lastTransitionTime: "time",
      reason: "string", message: "string",
    },
    ReplicaSet: { spec: "ReplicaSetSpec", status: "ReplicaSetStatus" },
    ReplicaSetSpec: { replicas: "int32", minReadySeconds: "int32", selector: "LabelSelector req", template: "PodTemplateSpec" },
    ReplicaSetStatus: {
      replicas: "int32 req", fullyLabeledReplicas: "int32", readyReplicas: "int32", availableReplicas: "int32",
      terminatingReplicas: "int32", observedGeneration: "int64",
      conditions: "[ReplicaSetCondition] list=map keys=type merge=type strategy=merge",
    },
    ReplicaSetCondition: { type: "string req", status: "string req", lastTransitionTime: "time", reason: "string", message: "string" },
    StatefulSet: { spec: "StatefulSetSpec", status: "StatefulSetStatus" },
    StatefulSetSpec: {
      replicas: "int32", selector: "LabelSelector req", template: "PodTemplateSpec req",
      volumeClaimTemplates: "[PersistentVolumeClaim] list=atomic", serviceName: "string",
      podManagementPolicy: "string", updateStrategy: "StatefulSetUpdateStrategy", revisionHistoryLimit: "int32",
      minReadySeconds: "int32",
      persistentVolumeClaimRetentionPolicy: "StatefulSetPersistentVolumeClaimRetentionPolicy",
      ordinals: "StatefulSetOrdinals",
    },
    StatefulSetUpdateStrategy: { type: "string", rollingUpdate: "RollingUpdateStatefulSetStrategy" },
    RollingUpdateStatefulSetStrategy: { partition: "int32", maxUnavailable: "intstr" },
    StatefulSetPersistentVolumeClaimRetentionPolicy: { whenDeleted: "string", whenScaled: "string" },
    StatefulSetOrdinals: { start: "int32" },
    StatefulSetStatus: {
      observedGeneration: "int64", replicas: "int32 req", readyReplicas: "int32", currentReplicas: "int32",
      updatedReplicas: "int32", currentRevision: "string", updateRevision: "string", collisionCount: "int32",
      conditions: "[StatefulSetCondition] list=map keys=type merge=type strategy=merge", availableReplicas: "int32",
    },
    StatefulSetCondition: { type: "string req", status: "string req", lastTransitionTime: "time", reason: "string", message: "string" },
    DaemonSet: { spec: "DaemonSetSpec", status: "DaemonSetStatus" },
    DaemonSetSpec: {
      selector: "LabelSelector req", template: "PodTemplateSpec req", updateStrategy: "DaemonSetUpdateStrategy",
      minReadySeconds: "int32", revisionHistoryLimit: "int32",
    },
    DaemonSetUpdateStrategy: { type: "string", rollingUpdate: "RollingUpdateDaemonSet" },
    RollingUpdateDaemonSet: { maxUnavailable: "intstr", maxSurge: "intstr" },
    DaemonSetStatus: {
      currentNumberScheduled: "int32 req", numberMisscheduled: "int32 req", desiredNumberScheduled: "int32 req",
      numberReady: "int32 req", observedGeneration: "int64", updatedNumberScheduled: "int32",
      numberAvailable: "int32", numberUnavailable: "int32", collisionCount: "int32",
      conditions: "[DaemonSetCondition] list=map keys=type merge=type strategy=merge",
    },
    DaemonSetCondition: { type: "string req", status: "string req", lastTransitionTime: "time", reason: "string", message: "string" },
  },
  "io.k8s.api.batch.v1": {
    Job: { spec: "JobSpec", status: "JobStatus" },
    JobSpec: {
      parallelism: "int32", completions: "int32", activeDeadlineSeconds: "int64", backoffLimit: "int32",
      backoffLimitPerIndex: "int32", maxFailedIndexes: "int32", selector: "LabelSelector", manualSelector: "boolean",
      template: "PodTemplateSpec req", ttlSecondsAfterFinished: "int32", completionMode: "string", suspend: "boolean",
      podReplacementPolicy: "string", managedBy: "string", podFailurePolicy: "object",
      successPolicy: "object",
    },
    JobStatus: {
      conditions: "[JobCondition] list=atomic", startTime: "time", completionTime: "time", active: "int32",
      succeeded: "int32", failed: "int32", terminating: "int32", ready: "int32", completedIndexes: "string",
      failedIndexes: "string", uncountedTerminatedPods: "object",
    },
    JobCondition: {
      type: "string req", status: "string req", lastProbeTime: "time", lastTransitionTime: "time",
      reason: "string", message: "string",
    },
    CronJob: { spec: "CronJobSpec", status: "CronJobStatus" },
    CronJobSpec: {
      schedule: "string req", timeZone: "string", startingDeadlineSeconds: "int64", concurrencyPolicy: "string",
      suspend: "boolean", jobTemplate: "JobTemplateSpec req", successfulJobsHistoryLimit: "int32",
      failedJobsHistoryLimit: "int32",
    },
    JobTemplateSpec: { metadata: "ObjectMeta", spec: "JobSpec" },
    CronJobStatus: { active: "[ObjectReference] list=atomic", lastScheduleTime: "time", lastSuccessfulTime: "time" },
  },
  "io.k8s.api.coordination.v1": {
    Lease: { spec: "LeaseSpec" },
    LeaseSpec: {
      holderIdentity: "string", leaseDurationSeconds: "int32", acquireTime: "time", renewTime: "time",
      leaseTransitions: "int32", strategy: "string", preferredHolder: "string",
    },
  },
  "io.k8s.api.rbac.v1": {
    Role: { rules: "[PolicyRule] list=atomic" },
    ClusterRole: { rules: "[PolicyRule] list=atomic", aggregationRule: "AggregationRule" },
    AggregationRule: { clusterRoleSelectors: "[LabelSelector] list=atomic" },
    PolicyRule: {
      verbs: "[string] req list=atomic", apiGroups: "[string] list=atomic", resources: "[string] list=atomic",
      resourceNames: "[string] list=atomic", nonResourceURLs: "[string] list=atomic",
    },
    RoleBinding: { subjects: "[Subject] list=atomic", roleRef: "RoleRef req" },
    ClusterRoleBinding: { subjects: "[Subject] list=atomic", roleRef: "RoleRef req" },
    Subject: { kind: "string req", apiGroup: "string", name: "string req", namespace: "string" },
    RoleRef: { apiGroup: "string req", kind: "string req", name: "string req" },
  },
  "io.k8s.api.policy.v1": {
    PodDisruptionBudget: { spec: "PodDisruptionBudgetSpec", status: "PodDisruptionBudgetStatus" },
    PodDisruptionBudgetSpec: {
      minAvailable: "intstr", selector: "LabelSelector", maxUnavailable: "intstr", unhealthyPodEvictionPolicy: "string",
    },
    PodDisruptionBudgetStatus: {
      observedGeneration: "int64", disruptedPods: "{time}", disruptionsAllowed: "int32 req", currentHealthy: "int32 req",
      desiredHealthy: "int32 req", expectedPods: "int32 req",
      conditions: "[Condition] list=map keys=type merge=type strategy=merge",
    },
    Eviction: { deleteOptions: "DeleteOptions" },
  },
  "io.k8s.api.autoscaling.v1": {
    Scale: { spec: "ScaleSpec", status: "ScaleStatus" },
    ScaleSpec: { replicas: "int32" },
    ScaleStatus: { replicas: "int32 req", selector: "string" },
  },
  "io.k8s.api.authentication.v1": {
    TokenRequest: { spec: "TokenRequestSpec req", status: "TokenRequestStatus" },
    TokenRequestSpec: {
      audiences: "[string] req list=atomic", expirationSeconds: "int64", boundObjectRef: "BoundObjectReference",
    },
    BoundObjectReference: { kind: "string", apiVersion: "string", name: "string", uid: "string" },
    TokenRequestStatus: { token: "string req", expirationTimestamp: "time req" },
  },
};

/** Kinds whose every top-level object is a type in DEFS, keyed "group/Kind". */
const KIND_TYPES: Record<string, string> = {
  "/ConfigMap": "ConfigMap", "/Secret": "Secret", "/Namespace": "Namespace", "/ServiceAccount": "ServiceAccount",
  "/Service": "Service", "/Endpoints": "Endpoints", "/Node": "Node", "/Event": "Event",
  "/PersistentVolumeClaim": "PersistentVolumeClaim", "/Pod": "Pod", "/PodTemplate": "PodTemplate", "/Binding": "Binding",
  "apps/Deployment": "Deployment", "apps/ReplicaSet": "ReplicaSet", "apps/StatefulSet": "StatefulSet",
  "apps/DaemonSet": "DaemonSet", "batch/Job": "Job", "batch/CronJob": "CronJob",
  "coordination.k8s.io/Lease": "Lease", "rbac.authorization.k8s.io/Role": "Role",
  "rbac.authorization.k8s.io/ClusterRole": "ClusterRole", "rbac.authorization.k8s.io/RoleBinding": "RoleBinding",
  "rbac.authorization.k8s.io/ClusterRoleBinding": "ClusterRoleBinding",
  "policy/PodDisruptionBudget": "PodDisruptionBudget", "policy/Eviction": "Eviction",
  "autoscaling/Scale": "Scale", "authentication.k8s.io/TokenRequest": "TokenRequest",
};

export type Schema = Record<string, unknown>;

const PKG_OF = new Map<string, string>();
for (const [pkg, types] of Object.entries(DEFS)) {
  for (const name of Object.keys(types)) {
    if (PKG_OF.has(name)) throw new Error(`openapi-schemas: type ${name} defined twice`);
    PKG_OF.set(name, pkg);
  }
}

export const refName = (type: string): string => `${PKG_OF.get(type)}.${type}`;
export const ref = (schemaName: string): Schema => ({ $ref: `#/components/schemas/${schemaName}` });

const SCALARS: Record<string, Schema> = {
  string: { type: "string" },
  integer: { type: "integer" },
  int32: { type: "integer", format: "int32" },
  int64: { type: "integer", format: "int64" },
  number: { type: "number", format: "double" },
  boolean: { type: "boolean" },
  time: { type: "string", format: "date-time" },
  bytes: { type: "string", format: "byte" },
  // kube publishes Quantity and IntOrString as named types; inlined here since no client reads their names.
  quantity: { type: "string", format: "quantity", "x-kubernetes-int-or-string": true },
  intstr: { type: "string", format: "int-or-string", "x-kubernetes-int-or-string": true },
  object: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
};

/** Expand one field description; `deps` collects the named types it refers to. */
function fieldSchema(spec: string, deps: Set<string>): { schema: Schema; required: boolean } {
  const [type, ...flags] = spec.split(" ");
  const schema = typeSchema(type, deps);
  let required = false;
  for (const flag of flags) {
    const [k, v] = flag.split("=");
    if (k === "req") required = true;
    else if (k === "merge") schema["x-kubernetes-patch-merge-key"] = v;
    else if (k === "strategy") schema["x-kubernetes-patch-strategy"] = v;
    else if (k === "list") schema["x-kubernetes-list-type"] = v;
    else if (k === "keys") schema["x-kubernetes-list-map-keys"] = v.split(",");
    else if (k === "map") schema["x-kubernetes-map-type"] = v;
    else throw new Error(`openapi-schemas: bad flag ${flag}`);
  }
  return { schema, required };
}

function typeSchema(type: string, deps: Set<string>): Schema {
  if (type.startsWith("[")) return { type: "array", items: typeSchema(type.slice(1, -1), deps) };
  if (type.startsWith("{")) return { type: "object", additionalProperties: typeSchema(type.slice(1, -1), deps) };
  const scalar = SCALARS[type];
  if (scalar) return { ...scalar };
  if (!PKG_OF.has(type)) throw new Error(`openapi-schemas: unknown type ${type}`);
  deps.add(type);
  // kube-apiserver wraps references in allOf so siblings (default, extensions) stay legal in OpenAPI 3.0.
  return { allOf: [ref(refName(type))], default: {} };
}

/** Object schema from a field map. */
function objectSchema(fields: Fields, deps: Set<string>): Schema {
  const properties: Record<string, Schema> = {};
  const required: string[] = [];
  for (const [name, spec] of Object.entries(fields)) {
    const f = fieldSchema(spec, deps);
    properties[name] = f.schema;
    if (f.required) required.push(name);
  }
  return { type: "object", properties, ...(required.length ? { required } : {}) };
}

const TYPE_META: Fields = { apiVersion: "string", kind: "string" };

/**
 * The top-level schema of a kind, or undefined when the kind is not described here.
 * `deps` receives the named types the schema refers to.
 */
export function describedKindSchema(group: string, kind: string, deps: Set<string>): Schema | undefined {
  const type = KIND_TYPES[`${group}/${kind}`];
  if (!type) return undefined;
  return kindBody(type, deps);
}

function kindBody(type: string, deps: Set<string>): Schema {
  const fields = DEFS[PKG_OF.get(type)!][type];
  return objectSchema({ ...TYPE_META, metadata: "ObjectMeta", ...fields }, deps);
}

/** Whether `kubectl apply` may compute strategic merge patches from this kind's published schema. */
export function isDescribed(group: string, kind: string): boolean {
  return `${group}/${kind}` in KIND_TYPES;
}

/** A schema for a kind nothing describes: typed metadata, everything else kept as sent. */
export function permissiveKindSchema(deps: Set<string>): Schema {
  return { ...objectSchema({ ...TYPE_META, metadata: "ObjectMeta" }, deps), "x-kubernetes-preserve-unknown-fields": true };
}

/** The List kind for an item schema name. */
export function listSchema(itemSchemaName: string, deps: Set<string>): Schema {
  deps.add("ListMeta");
  return {
    type: "object",
    required: ["items"],
    properties: {
      apiVersion: { type: "string" },
      kind: { type: "string" },
      metadata: { allOf: [ref(refName("ListMeta"))], default: {} },
      items: { type: "array", items: { allOf: [ref(itemSchemaName)], default: {} } },
    },
  };
}

/**
 * Every named type `roots` refer to, transitively, as schema name -> schema. Kind types themselves get
 * no GVK here; the document builder adds kinds under their served group-version names.
 */
export function closure(roots: Iterable<string>): Map<string, Schema> {
  const out = new Map<string, Schema>();
  const queue = [...roots];
  while (queue.length) {
    const type = queue.pop()!;
    const name = refName(type);
    if (out.has(name)) continue;
    const deps = new Set<string>();
    const fields = DEFS[PKG_OF.get(type)!][type];
    const isKind = Object.values(KIND_TYPES).includes(type);
    out.set(name, isKind ? kindBody(type, deps) : objectSchema(fields, deps));
    queue.push(...deps);
  }
  return out;
}

/** Whether a bare type name is described here (used for the standard meta types). */
export function hasType(type: string): boolean {
  return PKG_OF.has(type);
}
