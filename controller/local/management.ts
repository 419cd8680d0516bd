// The embedded management API: one more fake cluster on the edge (`capim-system/management`) with the
// provider's CRDs and the minimal CAPI core CRDs installed, served through a VIP of its own. The
// controller and the driver talk to it like to any management cluster; users can `kubectl` into it.
import { ApiextensionsV1Api, KubeConfig, type V1CustomResourceDefinition } from "@kubernetes/client-node";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseAllDocuments, stringify } from "yaml";
import { EdgeClient } from "../edge-client.js";
import { CLUSTER, DEV_CLUSTER, DEV_MACHINE, errorMessage, isConflict, Kube, MACHINE } from "../kube.js";
import type { Logger } from "../log.js";
import { generateCA, issueCert, kubeconfigFor, type CertKeyPair } from "../pki/index.js";
import { VipManager } from "../vip/index.js";
import { ROOT } from "./project-root.js";

export const CRD_DIRS = [path.join(ROOT, "config/crd/bases"), path.join(ROOT, "config/crd/capi")];
export const MANAGEMENT = { namespace: "capim-system", name: "management" } as const;

export interface ManagementOptions {
  edgeUrl: string;
  edgeToken: string;
  /** Where management.kubeconfig is written. */
  kubeconfigDir: string;
  /** The management API's VIP port comes from here (default 20000-30000). */
  portRange?: [number, number];
  /** Keeps the management CA and VIP port, so kubeconfigs stay valid across restarts. */
  stateDir: string;
  logger: Logger;
}

export interface Management {
  /** Client config through the management VIP (TLS, admin client certificate): what management.kubeconfig holds. */
  kubeConfig: KubeConfig;
  /**
   * Client config straight to the edge's plain-HTTP port with the tenant token, for clients in this
   * process (controller, driver): the VIP is for people and tools that need TLS, and on a loopback
   * port inside one process its TLS and proxy hop only cost CPU.
   */
  directKubeConfig: KubeConfig;
  kubeconfigPath: string;
  /** https://127.0.0.1:<port> */
  server: string;
  stop(): Promise<void>;
}

/** Every CustomResourceDefinition document under config/crd/{bases,capi}. */
export function loadCrds(dirs: string[] = CRD_DIRS): V1CustomResourceDefinition[] {
  const out: V1CustomResourceDefinition[] = [];
  for (const dir of dirs) {
    for (const f of readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort()) {
      for (const doc of parseAllDocuments(readFileSync(path.join(dir, f), "utf8"))) {
        const obj = doc.toJS() as V1CustomResourceDefinition | null;
        if (obj?.kind === "CustomResourceDefinition") out.push(obj);
      }
    }
  }
  return out;
}

/** A kubeconfig for a plain-HTTP edge URL: client-node refuses http:// without skip-TLS-verify. */
export function tokenKubeconfig(server: string, token: string, name = "capim-management"): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name, cluster: { server, "insecure-skip-tls-verify": true } }],
    users: [{ name: `${name}-admin`, user: { token } }],
    contexts: [{ name, context: { cluster: name, user: `${name}-admin`, namespace: "default" } }],
    "current-context": name,
  });
}

async function installCrds(kc: KubeConfig): Promise<void> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  for (const crd of loadCrds()) {
    const name = crd.metadata!.name!;
    try {
      await api.createCustomResourceDefinition({ body: crd });
    } catch (e) {
      if (!isConflict(e)) throw new Error(`installing CRD ${name}: ${errorMessage(e)}`);
      // Already there (restart with the same state): bring it to this version of the YAML.
      const current = await api.readCustomResourceDefinition({ name });
      await api.replaceCustomResourceDefinition({
        name,
        body: { ...crd, metadata: { ...crd.metadata, resourceVersion: current.metadata?.resourceVersion } },
      });
    }
  }
}

/** Wait until the kinds the controller and driver use are served (CRD registration is asynchronous in kube). */
async function waitServed(kube: Kube, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const gvr of [DEV_CLUSTER, DEV_MACHINE, CLUSTER, MACHINE]) {
    for (;;) {
      try {
        await kube.list(gvr, "default");
        break;
      } catch (e) {
        if (Date.now() > deadline) throw new Error(`${gvr.kind} not served by the management API: ${errorMessage(e)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }
}

function loadOrCreate<T>(file: string, make: () => Promise<T>, parse: (text: string) => T, show: (v: T) => string): Promise<T> {
  if (existsSync(file)) return Promise.resolve(parse(readFileSync(file, "utf8")));
  return make().then((v) => {
    writeFileSync(file, show(v), { mode: 0o600 });
    return v;
  });
}

/**
 * Registers `capim-system/management` on the edge, installs the CRDs (over plain HTTP with the token),
 * then serves it to clients through a VIP of its own, like a workload cluster: kubectl does not send
 * bearer tokens over plain HTTP, and the edge's JSON responses get gzip-encoded for clients that accept
 * it (the VIP asks for identity on watches so that events are not held in a compressor's buffer).
 */
export async function startManagement(o: ManagementOptions): Promise<Management> {
  const edge = new EdgeClient({ url: o.edgeUrl, token: o.edgeToken });
  await edge.putCluster(MANAGEMENT.namespace, MANAGEMENT.name);
  const direct = new KubeConfig();
  direct.loadFromString(tokenKubeconfig(`${o.edgeUrl.replace(/\/+$/, "")}/clusters/${MANAGEMENT.namespace}/${MANAGEMENT.name}`, o.edgeToken));
  await installCrds(direct);
  await waitServed(new Kube(direct));

  mkdirSync(o.stateDir, { recursive: true });
  const ca = await loadOrCreate(
    path.join(o.stateDir, "management-ca.json"),
    () => generateCA("capim-management"),
    (t) => JSON.parse(t) as CertKeyPair,
    (v) => JSON.stringify(v),
  );
  const portFile = path.join(o.stateDir, "management-port");
  const wantPort = existsSync(portFile) ? Number(readFileSync(portFile, "utf8")) || undefined : undefined;
  const vip = new VipManager({ edgeUrl: o.edgeUrl, edgeToken: o.edgeToken, host: "127.0.0.1", logger: o.logger, portRange: o.portRange });
  const { host, port } = await vip.open({ namespace: MANAGEMENT.namespace, name: MANAGEMENT.name, port: wantPort, ca });
  writeFileSync(portFile, String(port));
  const server = `https://${host}:${port}`;
  const client = await issueCert(ca, { commonName: "kubernetes-admin", organization: ["system:masters"], usage: "client" });
  const text = kubeconfigFor({ clusterName: "capim-management", server, caPem: ca.certPem, clientCertPem: client.certPem, clientKeyPem: client.keyPem });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(text);
  mkdirSync(o.kubeconfigDir, { recursive: true });
  const kubeconfigPath = path.join(o.kubeconfigDir, "management.kubeconfig");
  writeFileSync(kubeconfigPath, text, { mode: 0o600 });
  return { kubeConfig, directKubeConfig: direct, kubeconfigPath, server, stop: () => vip.closeAll() };
}
