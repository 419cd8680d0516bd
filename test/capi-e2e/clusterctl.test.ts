// capim-edge as clusterctl sees it: `npm run release` writes a clusterctl local repository
// (infrastructure-components.yaml, metadata.yaml, cluster templates, clusterctl.yaml), and the real
// clusterctl v1.14.2, built from CAPI's Go module with the rest of the real-CAPI plane, describes the
// provider and generates a cluster from it. (clusterctl init also installs cert-manager from the
// internet, which these machines do not reach; the components it would apply are what the real-CAPI
// e2e installs.)
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { buildRealCapi } from "../../controller/local/capi/plane.js";
import { ROOT, tempDir } from "../helpers/edge.js";

const execFileP = promisify(execFile);
let clusterctl: string;
let out: string;
let configFile: string;

beforeAll(async () => {
  clusterctl = path.join(await buildRealCapi((l) => console.log(l)), "clusterctl");
  out = tempDir("capim-release-");
  await execFileP("npm", ["run", "-s", "release", "--", out], { cwd: ROOT });
  configFile = path.join(out, "clusterctl.yaml");
}, 3_600_000);

/** clusterctl with its own home (no ~/.cluster-api of the machine's) and no management cluster. */
function run(args: string[], env: Record<string, string> = {}) {
  const home = tempDir("capim-clusterctl-home-");
  return execFileP(clusterctl, [...args, "--config", configFile], {
    env: { PATH: process.env.PATH ?? "", HOME: home, XDG_CONFIG_HOME: path.join(home, ".config"), ...env },
    maxBuffer: 16 << 20,
  });
}

describe("clusterctl with capim-edge's release artifacts", () => {
  it("describes the provider: its contract, variables and image", async () => {
    const { stdout } = await run(["generate", "provider", "--infrastructure", "capim-edge", "--describe"]);
    expect(stdout).toMatch(/Name:\s+capim-edge/);
    expect(stdout).toMatch(/Type:\s+InfrastructureProvider/);
    for (const v of ["CAPIM_EDGE_URL", "CAPIM_EDGE_TOKEN", "CAPIM_EDGE_CONCURRENCY"]) expect(stdout).toContain(v);
    expect(stdout).toContain("ghcr.io/capim-edge/controller:v0.1.0");
  });

  it("generates the provider's components with the variables substituted", async () => {
    const { stdout } = await run(["generate", "provider", "--infrastructure", "capim-edge"], { CAPIM_EDGE_URL: "https://edge.example", CAPIM_EDGE_TOKEN: "t0ken" });
    const docs = parseAllDocuments(stdout).map((d) => d.toJS());
    const kinds = docs.map((d) => `${d.kind}/${d.metadata.name}`);
    for (const k of ["CustomResourceDefinition/devclusters.infrastructure.cluster.x-k8s.io", "CustomResourceDefinition/devmachines.infrastructure.cluster.x-k8s.io", "Deployment/capim-edge-controller-manager", "Secret/capim-edge-token"]) {
      expect(kinds).toContain(k);
    }
    for (const d of docs) expect(d.metadata.labels?.["cluster.x-k8s.io/provider"], `${d.kind}/${d.metadata.name}`).toBe("infrastructure-capim-edge");
    const deployment = docs.find((d) => d.kind === "Deployment");
    expect(deployment.spec.template.spec.containers[0].args).toContain("--edge-url=https://edge.example");
    expect(docs.find((d) => d.kind === "Secret").stringData.token).toBe("t0ken");
  });

  it("generates a cluster from the in-memory flavor", async () => {
    const { stdout } = await run([
      "generate", "cluster", "demo", "--infrastructure", "capim-edge:v0.1.0", "--flavor", "in-memory",
      "--kubernetes-version", "v1.31.0", "--control-plane-machine-count", "3", "--worker-machine-count", "2", "--target-namespace", "team-a",
    ]);
    const docs = parseAllDocuments(stdout).map((d) => d.toJS());
    const byKind = new Map(docs.map((d) => [d.kind, d]));
    expect(byKind.get("Cluster").metadata).toMatchObject({ name: "demo", namespace: "team-a" });
    expect(byKind.get("DevCluster").spec.backend.inMemory).toBeDefined();
    expect(byKind.get("KubeadmControlPlane").spec).toMatchObject({ replicas: 3, version: "v1.31.0" });
    expect(byKind.get("MachineDeployment").spec.replicas).toBe(2);
  });
});
