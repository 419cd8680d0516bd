// Two CI "jobs" (separate bash processes) share one local edge: each creates its own cluster with the
// capim-edge CLI, uses it with kubectl (1.29 and 1.32) through the kubeconfig the CLI wrote, and deletes
// it. While both exist, neither cluster token reaches the other cluster, the admin API, or works as
// another tenant's; after deletion the tokens are dead (404: the cluster is gone).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { edgeFetch, kubectlPath, newToken, spawnEdge, tempDir, type SpawnedEdge } from "../helpers/edge.js";
import { CLI, capim, cliEnv, kubectl } from "../helpers/cli.js";

const TENANT_TOKEN = newToken();
const OTHER_TENANT_TOKEN = newToken();
let edge: SpawnedEdge;
const dir = tempDir("capim-cli-jobs-");

beforeAll(async () => {
  edge = await spawnEdge({ tokens: { [TENANT_TOKEN]: "ci", [OTHER_TENANT_TOKEN]: "other" } });
});
afterAll(async () => {
  await edge?.stop();
});

const JOB = `set -euo pipefail
node "$CLI" cluster create "$NAME" --ttl 10m --kubeconfig "$DIR/$NAME.kubeconfig"
export KUBECONFIG="$DIR/$NAME.kubeconfig"
"$KUBECTL" create configmap job-data --from-literal=job="$NAME"
"$KUBECTL" get configmap job-data -o jsonpath='{.data.job}' > "$DIR/$NAME.out"
"$KUBECTL" get namespaces -o name > "$DIR/$NAME.namespaces"
touch "$DIR/$NAME.ready"
while [ ! -e "$DIR/go-delete" ]; do sleep 0.2; done
node "$CLI" cluster delete "$NAME"
`;

function startJob(name: string, kubectlVersion: string) {
  const script = path.join(dir, "job.sh");
  writeFileSync(script, JOB);
  const env = { ...cliEnv(edge, TENANT_TOKEN), CLI, NAME: name, DIR: dir, KUBECTL: kubectlPath(kubectlVersion)! };
  const child = spawn("bash", [script], { env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (b: Buffer) => (out += b));
  child.stderr.on("data", (b: Buffer) => (out += b));
  const done = new Promise<{ code: number | null; out: string }>((resolve) => child.on("exit", (code) => resolve({ code, out })));
  return { child, done };
}

async function waitFor(cond: () => boolean, what: string, jobs: Array<{ done: Promise<{ code: number | null; out: string }> }>) {
  let finished: { code: number | null; out: string } | undefined;
  for (const j of jobs) void j.done.then((r) => (finished ??= r.code === 0 ? undefined : r));
  while (!cond()) {
    if (finished) throw new Error(`a job failed before ${what}: exit ${finished.code}\n${finished.out}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function tokenOf(kubeconfig: string): string {
  return parse(readFileSync(kubeconfig, "utf8")).users[0].user.token as string;
}

describe("capim-edge CLI shared by concurrent CI jobs", () => {
  it("two jobs create, use and delete their own clusters; tokens stay within their cluster", async () => {
    expect(kubectlPath("1.29")).toBeDefined();
    expect(kubectlPath("1.32")).toBeDefined();
    const jobs = [startJob("job-a", "1.29"), startJob("job-b", "1.32")];
    await waitFor(() => existsSync(path.join(dir, "job-a.ready")) && existsSync(path.join(dir, "job-b.ready")), "using their clusters", jobs);

    // Each job saw its own data and a working cluster.
    expect(readFileSync(path.join(dir, "job-a.out"), "utf8")).toBe("job-a");
    expect(readFileSync(path.join(dir, "job-b.out"), "utf8")).toBe("job-b");
    expect(readFileSync(path.join(dir, "job-a.namespaces"), "utf8")).toContain("namespace/kube-system");

    const kcA = path.join(dir, "job-a.kubeconfig");
    const kcB = path.join(dir, "job-b.kubeconfig");
    const cfgA = parse(readFileSync(kcA, "utf8"));
    expect(cfgA.clusters[0].cluster.server).toBe(`${edge.httpsUrl}/clusters/default/job-a`);
    const tokenA = tokenOf(kcA);
    const tokenB = tokenOf(kcB);
    expect(tokenA).not.toBe(tokenB);
    expect(tokenA).not.toBe(TENANT_TOKEN);

    // A's token against B's cluster, with kubectl and raw HTTP: refused, B's data invisible.
    const cross = await kubectl("1.32", kcA, ["--server", cfgA.clusters[0].cluster.server.replace("job-a", "job-b"), "get", "configmap", "job-data", "-o", "name"]);
    expect(cross.code).not.toBe(0);
    expect(cross.stderr).toMatch(/Forbidden/);
    const raw = await edgeFetch(edge, "/clusters/default/job-b/api/v1/namespaces/default/configmaps/job-data", { token: tokenA });
    expect(raw.status).toBe(403);
    expect((await raw.json()).kind).toBe("Status");
    // A cluster token cannot use the admin API (list, create, delete).
    expect((await edgeFetch(edge, "/admin/clusters", { token: tokenA })).status).toBe(403);
    expect((await edgeFetch(edge, "/admin/clusters/default/job-b", { method: "DELETE", token: tokenA })).status).toBe(403);
    // A forged token naming B's cluster with a random secret is refused by B's DO.
    const forged = tokenA.split(".");
    forged[1] = Buffer.from("ci/default/job-b").toString("base64url");
    const forgedRes = await edgeFetch(edge, "/clusters/default/job-b/api/v1/namespaces", { token: forged.join(".") });
    expect(forgedRes.status).toBe(401);

    // The jobs' tenant sees both clusters; another tenant sees neither and cannot reach them.
    const list = await capim(["cluster", "list", "-o", "json"], cliEnv(edge, TENANT_TOKEN));
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout).items.map((i: { name: string }) => i.name).sort()).toEqual(["job-a", "job-b"]);
    const other = await capim(["cluster", "list", "-o", "json"], cliEnv(edge, OTHER_TENANT_TOKEN));
    expect(JSON.parse(other.stdout).items).toEqual([]);
    const otherGet = await capim(["cluster", "get", "job-a"], cliEnv(edge, OTHER_TENANT_TOKEN));
    expect(otherGet.code).toBe(1);
    expect(otherGet.stderr.trim().split("\n")).toHaveLength(1);
    expect(otherGet.stderr).toContain("404 NotFound");

    // Let both jobs clean up, concurrently.
    writeFileSync(path.join(dir, "go-delete"), "");
    const results = await Promise.all(jobs.map((j) => j.done));
    for (const r of results) expect(r.code, r.out).toBe(0);
    expect(results[0].out).toContain("cluster default/job-a deleted");

    // Deleting revoked the tokens: the cluster is gone for its own kubeconfig.
    const after = await kubectl("1.29", kcA, ["get", "namespaces"]);
    expect(after.code).not.toBe(0);
    expect(after.stderr).toMatch(/NotFound|not found/);
    const empty = await capim(["cluster", "list", "-o", "json"], cliEnv(edge, TENANT_TOKEN));
    expect(JSON.parse(empty.stdout).items).toEqual([]);
  });

  it("cluster kubeconfig mints a working second token; bad usage and failures exit non-zero with one line", async () => {
    const env = cliEnv(edge, TENANT_TOKEN);
    const created = await capim(["cluster", "create", "kc-test", "--ttl", "10m", "--kubeconfig", path.join(dir, "first.kubeconfig"), "-o", "json"], env);
    expect(created.code, created.stderr).toBe(0);
    const info = JSON.parse(created.stdout);
    expect(info).toMatchObject({ name: "kc-test", namespace: "default", kubeconfig: path.join(dir, "first.kubeconfig") });
    expect(info.token).toBeUndefined(); // the token is only in the kubeconfig file

    const printed = await capim(["cluster", "kubeconfig", "kc-test"], env);
    expect(printed.code, printed.stderr).toBe(0);
    const second = path.join(dir, "second.kubeconfig");
    writeFileSync(second, printed.stdout);
    expect(tokenOf(second)).not.toBe(tokenOf(path.join(dir, "first.kubeconfig")));
    const use = await kubectl("1.32", second, ["create", "configmap", "via-second"]);
    expect(use.code, use.stderr).toBe(0);
    const seen = await kubectl("1.29", path.join(dir, "first.kubeconfig"), ["get", "configmap", "via-second", "-o", "name"]);
    expect(seen.stdout.trim()).toBe("configmap/via-second");

    // Creating an existing cluster again fails (no token would be handed out).
    const again = await capim(["cluster", "create", "kc-test", "--kubeconfig", path.join(dir, "again.kubeconfig")], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("already exists");
    expect(existsSync(path.join(dir, "again.kubeconfig"))).toBe(false);

    for (const args of [["cluster"], ["cluster", "frobnicate"], ["cluster", "get"], ["cluster", "create", "x", "--ttl", "soon"], ["cluster", "list", "--ttl", "1h"]]) {
      const r = await capim(args, env);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr.trim().split("\n"), args.join(" ")).toHaveLength(1);
    }
    const badName = await capim(["cluster", "create", "Not_Valid"], env);
    expect(badName.code).toBe(1);
    expect(badName.stderr).toMatch(/^capim-edge: 400 BadRequest: .*invalid cluster name/);
    const badToken = await capim(["cluster", "list"], { ...env, CAPIM_EDGE_TOKEN: "nope" });
    expect(badToken.code).toBe(1);
    expect(badToken.stderr).toContain("401");
    const unreachable = await capim(["cluster", "list"], { ...env, CAPIM_EDGE_URL: "http://127.0.0.1:1" });
    expect(unreachable.code).toBe(3);

    const del = await capim(["cluster", "delete", "kc-test"], env);
    expect(del.code, del.stderr).toBe(0);
    const del2 = await capim(["cluster", "delete", "kc-test"], env);
    expect(del2.code).toBe(1);
    expect((await capim(["cluster", "delete", "kc-test", "--ignore-not-found"], env)).code).toBe(0);
  });

  it("guides a person: per-command help, --version, and an untrusted certificate named with the flag that fixes it", async () => {
    const env = cliEnv(edge, TENANT_TOKEN);
    const help = await capim(["cluster", "create", "--help"], env);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("cluster create <name>");
    expect(help.stdout).toContain("--wait-timeout");
    expect(help.stdout).not.toContain("cluster extend");
    const all = await capim(["--help"], env);
    expect(all.stdout).toContain("cluster extend");

    const version = await capim(["--version"], env);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toBe(`capim-edge ${JSON.parse(readFileSync(path.join(CLI, "../../package.json"), "utf8")).version}`);

    const { CAPIM_EDGE_CA_FILE: _ca, ...noCa } = env;
    const untrusted = await capim(["cluster", "list"], noCa);
    expect(untrusted.code).toBe(3);
    expect(untrusted.stderr.trim().split("\n")).toHaveLength(1);
    expect(untrusted.stderr).toMatch(/certificate .* is not trusted \(\w+\): pass --certificate-authority FILE/);
  });
});
