// Compact field descriptions of meta/v1 and the non-core groups' types, and the kinds described, for
// the OpenAPI v3 schemas openapi-schemas.ts expands (syntax there). Hand-kept: see openapi-schemas.ts.
/** A type's fields: JSON name -> "<type> [flag...]" (syntax in openapi-schemas.ts). */
export type Fields = Record<string, string>;

export const META = "io.k8s.apimachinery.pkg.apis.meta.v1";

export const META_TYPES: Record<string, Fields> = {
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
};

/** package -> type name -> fields, for the groups other than core. */
export const GROUP_TYPES: Record<string, Record<string, Fields>> = {
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
export const KIND_TYPES: Record<string, string> = {
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
