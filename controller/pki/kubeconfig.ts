// kubeconfig YAML, as CAPI writes into `<cluster>-kubeconfig`: one cluster, one user, one context.
import { Document } from "yaml";

export interface KubeconfigInput {
  clusterName: string;
  server: string;
  caPem: string;
  clientCertPem: string;
  clientKeyPem: string;
  /** Default `<clusterName>-admin` (CAPI's naming). */
  user?: string;
}

const b64 = (s: string) => Buffer.from(s).toString("base64");

export function kubeconfigFor(i: KubeconfigInput): string {
  const user = i.user ?? `${i.clusterName}-admin`;
  const context = `${user}@${i.clusterName}`;
  const doc = new Document({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: i.clusterName, cluster: { server: i.server, "certificate-authority-data": b64(i.caPem) } }],
    users: [{ name: user, user: { "client-certificate-data": b64(i.clientCertPem), "client-key-data": b64(i.clientKeyPem) } }],
    contexts: [{ name: context, context: { cluster: i.clusterName, user } }],
    "current-context": context,
    preferences: {},
  });
  // Quote every string value: a cluster called "y", "no", "1e3" or "null" must stay a string in YAML 1.1 readers.
  return doc.toString({ defaultStringType: "QUOTE_DOUBLE", defaultKeyType: "PLAIN", lineWidth: 0 });
}
