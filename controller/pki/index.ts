export { generateCA, type CertKeyPair } from "./ca.js";
export { issueCert, loadCA, type IssueOptions, type CertUsage, type LoadedCA } from "./certs.js";
export { kubeconfigFor, type KubeconfigInput } from "./kubeconfig.js";
