// The management plane installed the way a CAPI user installs it: `clusterctl init`, from a clusterctl
// local repository because these machines do not reach GitHub. The repository holds Cluster API
// v1.14.2's three providers, built with kustomize from the same module source the managers were built
// from (what CAPI's `make release-manifests` does), and capim-edge's own release (`npm run release`).
// cert-manager's CRDs come from its Go module; its controllers do not run (there is no kubelet: the
// plane runs each manager as a process and serves their webhooks with a CA of its own), but clusterctl's
// cert-manager check, which creates a test Issuer and Certificate, then finds the API installed.
import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { stringify } from "yaml";
import { ROOT } from "../project-root.js";
import { kubectlApply } from "./capi-providers.js";

const execFileP = promisify(execFile);

export const CAPI_VERSION = "v1.14.2";
const CERT_MANAGER_MODULE = "github.com/cert-manager/cert-manager@v1.19.2";

/** clusterctl's names for CAPI's providers, and where each one's kustomize root is in the module. */
const CAPI_REPO_PROVIDERS = [
  { name: "cluster-api", type: "CoreProvider", label: "cluster-api", file: "core-components.yaml", kustomize: "core/config/default" },
  { name: "kubeadm", type: "BootstrapProvider", label: "bootstrap-kubeadm", file: "bootstrap-components.yaml", kustomize: "bootstrap/kubeadm/config/default" },
  { name: "kubeadm", type: "ControlPlaneProvider", label: "control-plane-kubeadm", file: "control-plane-components.yaml", kustomize: "controlplane/kubeadm/config/default" },
];

export interface LocalRepository {
  /** clusterctl.yaml naming every provider's components file. */
  configFile: string;
  /** capim-edge's version (package.json's, as `npm run release` writes it). */
  capimVersion: string;
}

/** Writes the local repository under `dir` (layout `<dir>/<provider-label>/<version>/<file>`). */
export async function writeLocalRepository(capiSrc: string, dir: string): Promise<LocalRepository> {
  mkdirSync(dir, { recursive: true });
  const providers: Array<{ name: string; type: string; url: string }> = [];
  for (const p of CAPI_REPO_PROVIDERS) {
    const versionDir = path.join(dir, p.label, CAPI_VERSION);
    mkdirSync(versionDir, { recursive: true });
    // kubectl's built-in kustomize builds CAPI's config/default trees as CAPI's release does.
    const { stdout } = await execFileP("kubectl", ["kustomize", path.join(capiSrc, p.kustomize)], { maxBuffer: 64 << 20 });
    writeFileSync(path.join(versionDir, p.file), stdout);
    copyFileSync(path.join(capiSrc, "metadata.yaml"), path.join(versionDir, "metadata.yaml"));
    providers.push({ name: p.name, type: p.type, url: `file://${path.join(versionDir, p.file)}` });
  }
  const { stdout } = await execFileP("npm", ["run", "-s", "release", "--", dir], { cwd: ROOT });
  const capimDir = stdout.trim().split("\n").pop()!;
  providers.push({ name: "capim-edge", type: "InfrastructureProvider", url: `file://${path.join(capimDir, "infrastructure-components.yaml")}` });
  const configFile = path.join(dir, "clusterctl.yaml");
  writeFileSync(configFile, stringify({ providers }));
  return { configFile, capimVersion: path.basename(capimDir) };
}

/** cert-manager's CRDs, from its Go module (downloaded into Go's module cache on first use). */
export async function installCertManagerCrds(kubeconfig: string): Promise<void> {
  // Outside any module (the temp dir), so no go.mod of the project's is touched.
  const { stdout } = await execFileP("go", ["mod", "download", "-json", CERT_MANAGER_MODULE], { cwd: os.tmpdir(), env: { ...process.env, PATH: `${process.env.PATH}:/usr/local/go/bin`, GOFLAGS: "" }, maxBuffer: 16 << 20 });
  const moduleDir = (JSON.parse(stdout) as { Dir: string }).Dir;
  await kubectlApply(kubeconfig, path.join(moduleDir, "deploy/crds"));
  await execFileP("kubectl", ["--kubeconfig", kubeconfig, "wait", "--for=condition=Established", "crd", "--all", "--timeout=120s"]);
}

/** The environment clusterctl runs in: a home of its own (no ~/.cluster-api of the machine's) and no GitHub version check. */
export function clusterctlEnv(home: string, vars: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? "", HOME: home, XDG_CONFIG_HOME: path.join(home, ".config"), CLUSTERCTL_DISABLE_VERSIONCHECK: "true", ...vars };
}

/** `clusterctl init` of CAPI v1.14.2 (core, kubeadm bootstrap and control plane) and capim-edge; resolves to its output. */
export async function clusterctlInit(o: { clusterctl: string; kubeconfig: string; repo: LocalRepository; home: string; vars: Record<string, string> }): Promise<string> {
  mkdirSync(o.home, { recursive: true });
  const { stdout, stderr } = await execFileP(o.clusterctl, [
    "init",
    "--config", o.repo.configFile,
    "--kubeconfig", o.kubeconfig,
    "--core", `cluster-api:${CAPI_VERSION}`,
    "--bootstrap", `kubeadm:${CAPI_VERSION}`,
    "--control-plane", `kubeadm:${CAPI_VERSION}`,
    "--infrastructure", `capim-edge:${o.repo.capimVersion}`,
  ], { env: clusterctlEnv(o.home, o.vars), maxBuffer: 16 << 20, timeout: 600_000 });
  return stdout + stderr;
}
