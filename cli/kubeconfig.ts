// Kubeconfig for one edge cluster: server <edge>/clusters/<ns>/<name>, a per-cluster bearer token,
// and the edge's CA when it has its own (a local edge). kubectl sends tokens to https servers only.
import { chmodSync, writeFileSync } from "node:fs";
import { stringify } from "yaml";

export function kubeconfigYaml(opts: { server: string; token: string; namespace: string; name: string; caPem?: string }): string {
  const id = `capim-edge-${opts.namespace}-${opts.name}`;
  const cluster: Record<string, string> = { server: opts.server };
  if (opts.caPem) cluster["certificate-authority-data"] = Buffer.from(opts.caPem).toString("base64");
  const doc = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: id, cluster }],
    users: [{ name: id, user: { token: opts.token } }],
    contexts: [{ name: id, context: { cluster: id, user: id, namespace: "default" } }],
    "current-context": id,
    preferences: {},
  };
  return stringify(doc);
}

/** Writes the file readable by its owner only (it holds a bearer token). */
export function writeKubeconfig(file: string, yamlText: string): void {
  writeFileSync(file, yamlText, { mode: 0o600 });
  chmodSync(file, 0o600); // an existing file keeps its old mode otherwise
}
