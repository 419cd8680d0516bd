// What KCP does for a cluster's CA, for tests without CAPI: a `<cluster>-ca` Secret labelled with the
// cluster's name (applied with the caller's kubectl), and an admin kubeconfig for the cluster's VIP
// with a client certificate that CA signed.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { generateCA, issueCert, kubeconfigFor } from "../../controller/pki/index.js";

export async function createClusterCA(o: { cluster: string; namespace: string; dir: string; port: number; host?: string; apply: (yaml: string) => Promise<unknown> }): Promise<string> {
  const ca = await generateCA("kubernetes", { rsa: false });
  const b64 = (s: string) => Buffer.from(s).toString("base64");
  await o.apply(`apiVersion: v1
kind: Secret
metadata: {name: ${o.cluster}-ca, namespace: ${o.namespace}, labels: {cluster.x-k8s.io/cluster-name: ${o.cluster}}}
type: cluster.x-k8s.io/secret
data: {tls.crt: ${b64(ca.certPem)}, tls.key: ${b64(ca.keyPem)}}
`);
  const admin = await issueCert(ca, { commonName: "kubernetes-admin", organization: ["system:masters"], usage: "client" });
  const file = path.join(o.dir, `${o.cluster}.kubeconfig`);
  writeFileSync(file, kubeconfigFor({ clusterName: o.cluster, server: `https://${o.host ?? "127.0.0.1"}:${o.port}`, caPem: ca.certPem, clientCertPem: admin.certPem, clientKeyPem: admin.keyPem }));
  return file;
}
