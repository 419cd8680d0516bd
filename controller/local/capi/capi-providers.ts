// Installs and runs Cluster API's own providers on the local plane the way clusterctl and envtest do it
// together: CRDs from the module source the managers were built from, conversion and admission webhooks
// pointed at each manager on 127.0.0.1 (`clientConfig.url`, a CA made here), clusterctl's provider and
// contract labels, and the managers themselves with that serving certificate.
import { execFile } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:tls";
import path from "node:path";
import { promisify } from "node:util";
import { parseAllDocuments, stringify } from "yaml";
import { generateCA, issueCert } from "../../pki/index.js";
import { freePort, startChild, waitFor, type Child } from "./processes.js";

const execFileP = promisify(execFile);

interface Provider {
  /** clusterctl's provider label value. */
  label: string;
  binary: string;
  /** Folder under the cluster-api module with config/crd/bases and config/webhook. */
  configDir: string;
  /** clusterctl's contract labels on the provider's CRDs (core CRDs carry none). */
  contract: boolean;
}

export const CAPI_PROVIDERS: Provider[] = [
  { label: "cluster-api", binary: "capi-manager", configDir: "core/config", contract: false },
  { label: "control-plane-kubeadm", binary: "kcp-manager", configDir: "controlplane/kubeadm/config", contract: true },
  { label: "bootstrap-kubeadm", binary: "cabpk-manager", configDir: "bootstrap/kubeadm/config", contract: true },
];

export type Doc = Record<string, any>;

function readYamlDocs(file: string): Doc[] {
  return parseAllDocuments(readFileSync(file, "utf8"))
    .map((d) => d.toJS() as Doc | null)
    .filter((d): d is Doc => !!d && typeof d === "object" && !!d.kind);
}

/** A webhook client config that reaches a manager on 127.0.0.1:`port`, trusting the plane's webhook CA. */
function localClientConfig(port: number, urlPath: string, caBundle: string): { url: string; caBundle: string } {
  return { url: `https://127.0.0.1:${port}${urlPath}`, caBundle };
}

/** The provider's CRDs and webhook configurations, rewritten to reach its manager at 127.0.0.1:`port`. */
export function providerManifests(capiSrc: string, p: Provider, port: number, caBundle: string): Doc[] {
  const base = path.join(capiSrc, p.configDir);
  const crdDir = path.join(base, "crd/bases");
  const crds = readdirSync(crdDir)
    .filter((f) => f.endsWith(".yaml"))
    .flatMap((f) => readYamlDocs(path.join(crdDir, f)));
  for (const crd of crds) {
    crd.metadata.labels = {
      ...crd.metadata.labels,
      "cluster.x-k8s.io/provider": p.label,
      ...(p.contract ? { "cluster.x-k8s.io/v1beta1": "v1beta1", "cluster.x-k8s.io/v1beta2": "v1beta2" } : {}),
    };
    // As the kustomize patches do (webhook_in_*.yaml), every multi-version CRD converts through its manager.
    if ((crd.spec.versions ?? []).length > 1) {
      crd.spec.conversion = { strategy: "Webhook", webhook: { conversionReviewVersions: ["v1"], clientConfig: localClientConfig(port, "/convert", caBundle) } };
    }
  }
  const webhooks = readYamlDocs(path.join(base, "webhook/manifests.yaml"));
  for (const cfg of webhooks) {
    // Every provider names its configurations the same; clusterctl prefixes them with the provider.
    cfg.metadata.name = `capi-${p.label}-${cfg.metadata.name}`;
    for (const w of cfg.webhooks ?? []) w.clientConfig = localClientConfig(port, w.clientConfig.service.path, caBundle);
  }
  return [...crds, ...webhooks];
}

export async function kubectlApply(kubeconfig: string, file: string, extra: string[] = []): Promise<void> {
  await execFileP("kubectl", ["--kubeconfig", kubeconfig, "apply", "--server-side", "--force-conflicts", ...extra, "-f", file], { maxBuffer: 64 << 20 });
}

export interface RunningProviders {
  children: Child[];
}

/**
 * How CAPI's providers get onto the plane: "manifests" applies their CRDs and webhooks from the module
 * source (pointed at the local managers); "clusterctl" means `clusterctl init` already installed them
 * (clusterctl-install.ts), so their webhooks are redirected from the in-cluster Services to the local
 * managers and each manager runs with the feature gates its installed Deployment names.
 */
export type CapiInstall = "manifests" | "clusterctl";

/** Installs (or redirects) CAPI's CRDs and webhooks and starts its three managers; resolves once their webhooks serve. */
export async function startCapiProviders(o: { bin: string; capiSrc: string; dir: string; kubeconfig: string; install?: CapiInstall }): Promise<RunningProviders> {
  const certDir = path.join(o.dir, "webhook-certs");
  mkdirSync(certDir, { recursive: true });
  const ca = await generateCA("capim-webhooks", { rsa: false });
  const serving = await issueCert(ca, { commonName: "127.0.0.1", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"], usage: "server" });
  writeFileSync(path.join(certDir, "tls.crt"), serving.certPem);
  writeFileSync(path.join(certDir, "tls.key"), serving.keyPem, { mode: 0o600 });
  const caBundle = Buffer.from(ca.certPem).toString("base64");

  const children: Child[] = [];
  const ports = await Promise.all(CAPI_PROVIDERS.map(() => Promise.all([freePort(), freePort(), freePort()])));
  let featureGates: Array<string | undefined> = CAPI_PROVIDERS.map(() => undefined);
  if (o.install === "clusterctl") {
    await redirectWebhooks(o.kubeconfig, new Map(CAPI_PROVIDERS.map((p, i) => [p.label, ports[i][0]])), caBundle, o.dir);
    featureGates = await Promise.all(CAPI_PROVIDERS.map((p) => installedFeatureGates(o.kubeconfig, p.label)));
  } else {
    const manifests = CAPI_PROVIDERS.flatMap((p, i) => providerManifests(o.capiSrc, p, ports[i][0], caBundle));
    const file = path.join(o.dir, "capi-providers.yaml");
    writeFileSync(file, manifests.map((d) => stringify(d)).join("---\n"));
    await waitFor("CAPI CRDs and webhooks applied", async () => (await kubectlApply(o.kubeconfig, file), true), { timeoutMs: 120_000 });
  }
  // The managers resolve their kinds through discovery at start: every CRD must be served first.
  await execFileP("kubectl", ["--kubeconfig", o.kubeconfig, "wait", "--for=condition=Established", "crd", "--all", "--timeout=120s"]);

  CAPI_PROVIDERS.forEach((p, i) => {
    const [webhookPort, healthPort, diagPort] = ports[i];
    children.push(
      startChild(p.binary, path.join(o.bin, p.binary), [
        `--kubeconfig=${o.kubeconfig}`,
        `--webhook-port=${webhookPort}`,
        `--webhook-cert-dir=${certDir}`,
        `--health-addr=127.0.0.1:${healthPort}`,
        `--diagnostics-address=127.0.0.1:${diagPort}`,
        "--insecure-diagnostics=true",
        "--leader-elect=false",
        "--v=2",
        ...(featureGates[i] ? [featureGates[i]!] : []),
      ], { dir: o.dir }),
    );
  });
  await Promise.all(
    children.map((c, i) =>
      waitFor(`${c.name} webhook server on 127.0.0.1:${ports[i][0]}`, () => tlsAccepts(ports[i][0], ca.certPem), { child: c, timeoutMs: 180_000 }),
    ),
  );
  return { children };
}

/** A CRD's conversion webhook or an admission webhook's client config. */
type ClientConfig = { service?: { path?: string }; url?: string; caBundle?: string };

/**
 * Points every webhook that clusterctl installed for a provider (CRD conversion, validating and mutating
 * admission) at that provider's manager on 127.0.0.1: the in-cluster Service has no Pods behind it here
 * (no kubelet), and no cert-manager injects a CA, so the plane's own serving CA goes in `caBundle`.
 */
/** A webhook's client config (in-cluster Service or URL) pointed at the same path on 127.0.0.1:`port`. */
export function redirectClientConfig(cc: ClientConfig, port: number, caBundle: string): ClientConfig {
  return localClientConfig(port, cc.service?.path ?? cc.url?.replace(/^https:\/\/[^/]+/, "") ?? "/", caBundle);
}

export async function redirectWebhooks(kubeconfig: string, portByLabel: Map<string, number>, caBundle: string, dir: string): Promise<void> {
  const redirect = (cc: ClientConfig, port: number) => redirectClientConfig(cc, port, caBundle);
  const items: Doc[] = [];
  for (const [label, port] of portByLabel) {
    const sel = `cluster.x-k8s.io/provider=${label}`;
    const kinds = "customresourcedefinitions,validatingwebhookconfigurations,mutatingwebhookconfigurations";
    const { stdout } = await execFileP("kubectl", ["--kubeconfig", kubeconfig, "get", kinds, "-l", sel, "-o", "json"], { maxBuffer: 64 << 20 });
    for (const obj of JSON.parse(stdout).items as Doc[]) {
      const conversion = obj.spec?.conversion?.webhook;
      if (conversion?.clientConfig) conversion.clientConfig = redirect(conversion.clientConfig, port);
      for (const w of obj.webhooks ?? []) w.clientConfig = redirect(w.clientConfig, port);
      items.push(obj);
    }
  }
  const file = path.join(dir, "redirected-webhooks.json");
  writeFileSync(file, JSON.stringify({ apiVersion: "v1", kind: "List", items }));
  await execFileP("kubectl", ["--kubeconfig", kubeconfig, "replace", "-f", file], { maxBuffer: 64 << 20 });
}

/** The `--feature-gates=...` argument of the provider's installed manager Deployment (clusterctl rendered it from variables such as CLUSTER_TOPOLOGY). */
async function installedFeatureGates(kubeconfig: string, label: string): Promise<string | undefined> {
  const { stdout } = await execFileP("kubectl", ["--kubeconfig", kubeconfig, "get", "deployments", "-A", "-l", `cluster.x-k8s.io/provider=${label}`, "-o", "json"]);
  const args: string[] = (JSON.parse(stdout).items as Doc[]).flatMap((d) => d.spec.template.spec.containers.flatMap((c: Doc) => c.args ?? []));
  return args.find((a) => a.startsWith("--feature-gates="));
}

export function tlsAccepts(port: number, caPem: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: "127.0.0.1", port, ca: caPem }, () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}
