// The whole local real-CAPI management plane in one call: Kubernetes (kube-plane.ts), Cluster API's
// providers (capi-providers.ts) and capim-edge (capim.ts); used by `npm run capi` and the real-CAPI e2e.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { startCapiProviders, type CapiInstall } from "./capi-providers.js";
import { startCapim } from "./capim.js";
import { ROOT } from "../project-root.js";
import { clusterctlInit, installCertManagerCrds, writeLocalRepository, type LocalRepository } from "./clusterctl-install.js";
import { startKubePlane } from "./kube-plane.js";
import type { Child } from "./processes.js";

const execFileP = promisify(execFile);

export interface RealCapiPlane {
  /** cluster-admin kubeconfig of the management plane. */
  kubeconfig: string;
  server: string;
  edgeUrl: string;
  edgeToken: string;
  dir: string;
  /** With install "clusterctl": the local repository clusterctl installed from, and clusterctl's home. */
  clusterctl?: { repo: LocalRepository; home: string; output: string };
  children: Child[];
  stop(): Promise<void>;
}

/**
 * Builds (or finds in the cache) the binaries with test/capi-e2e/build.sh and returns their folder.
 * Exit code 3 of the script means no Go toolchain: the message says so in one line.
 */
export async function buildRealCapi(onProgress?: (line: string) => void): Promise<string> {
  // A folder of already built binaries (same names as build.sh writes), e.g. while working on the plane.
  if (process.env.CAPIM_CAPI_BIN) return process.env.CAPIM_CAPI_BIN;
  const child = execFile("bash", [path.join(ROOT, "test/capi-e2e/build.sh")], { maxBuffer: 16 << 20 });
  child.stderr?.on("data", (b: Buffer) => {
    for (const line of b.toString().split("\n")) if (line.trim()) onProgress?.(line.trim());
  });
  let out = "";
  child.stdout?.on("data", (b: Buffer) => (out += b.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  if (code === 3) throw Object.assign(new Error("real Cluster API is built from Go modules: install Go (https://go.dev/dl) and put it on PATH"), { exitCode: 3 });
  if (code !== 0) throw new Error(`test/capi-e2e/build.sh failed (exit ${code})`);
  return out.trim().split("\n").pop()!;
}

/**
 * `install`: "manifests" (default) applies CAPI's and capim-edge's CRDs, webhooks and RBAC from their
 * sources; "clusterctl" runs `clusterctl init` from a local repository with ClusterTopology on
 * (clusterctl-install.ts), so everything the providers run with is what clusterctl installed.
 */
export async function startRealCapi(o: { bin: string; dir: string; portRange: [number, number]; log?: (line: string) => void; install?: CapiInstall }): Promise<RealCapiPlane> {
  const log = o.log ?? (() => {});
  const children: Child[] = [];
  const stop = async () => {
    for (const c of [...children].reverse()) await c.stop();
  };
  try {
    log("starting etcd, kube-apiserver and kube-controller-manager");
    const kube = await startKubePlane({ bin: o.bin, dir: path.join(o.dir, "kube") });
    children.push(...kube.children);
    const capiSrc = readFileSync(path.join(o.bin, "capi-src"), "utf8").trim();
    const edgeToken = randomBytes(18).toString("hex");
    let clusterctl: RealCapiPlane["clusterctl"];
    if (o.install === "clusterctl") {
      log("clusterctl init: Cluster API v1.14.2 and capim-edge from a local repository (cert-manager's CRDs first)");
      const repo = await writeLocalRepository(capiSrc, path.join(o.dir, "clusterctl-repository"));
      await installCertManagerCrds(kube.adminKubeconfig);
      const home = path.join(o.dir, "clusterctl-home");
      // The Deployment clusterctl installs is not run (no kubelet), so its edge URL is never dialled; the
      // controller runs below as a process with the same ServiceAccount, RBAC and token.
      const vars = { CAPIM_EDGE_URL: "https://capim-edge.invalid", CAPIM_EDGE_TOKEN: edgeToken, CLUSTER_TOPOLOGY: "true" };
      const output = await clusterctlInit({ clusterctl: path.join(o.bin, "clusterctl"), kubeconfig: kube.adminKubeconfig, repo, home, vars });
      clusterctl = { repo, home, output };
    }
    log(`${o.install === "clusterctl" ? "redirecting" : "installing"} Cluster API's CRDs and webhooks and starting its managers`);
    const providers = await startCapiProviders({ bin: o.bin, capiSrc, dir: path.join(o.dir, "capi"), kubeconfig: kube.adminKubeconfig, install: o.install });
    children.push(...providers.children);
    log("starting capim-edge's edge and controller");
    const capim = await startCapim({
      dir: path.join(o.dir, "capim-edge"), adminKubeconfig: kube.adminKubeconfig, server: kube.server, caPem: kube.ca.certPem, portRange: o.portRange,
      installed: o.install === "clusterctl", edgeToken,
    });
    children.push(...capim.children);
    return { kubeconfig: kube.adminKubeconfig, server: kube.server, edgeUrl: capim.edgeUrl, edgeToken: capim.edgeToken, dir: o.dir, clusterctl, children, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** `kubectl --kubeconfig <plane> ...` with stdin, resolving to stdout. */
export async function kubectl(kubeconfig: string, args: string[], input?: string): Promise<string> {
  const p = execFileP("kubectl", ["--kubeconfig", kubeconfig, ...args], { maxBuffer: 64 << 20 });
  if (input !== undefined) {
    p.child.stdin!.end(input);
  }
  return (await p).stdout;
}
