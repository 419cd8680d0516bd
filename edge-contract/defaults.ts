// Defaults every component must agree on (the DO's /version and the controller's machines disagreed
// once: v1.32.0 against v1.31.0).

/** Kubernetes version of a cluster created without one (also `npm start`'s default). */
export const DEFAULT_KUBERNETES_VERSION = "v1.31.0";
