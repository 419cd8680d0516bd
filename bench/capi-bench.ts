// Real Cluster API's phases against capim-edge, timed: runs the real-CAPI e2e (test/capi-e2e, vitest
// project `capi`) with CAPIM_CAPI_TIMINGS and tabulates what each phase took with CAPI's own managers.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export async function benchRealCapi(): Promise<string> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "capim-capi-bench-"));
  const file = path.join(dir, "timings.json");
  try {
    const r = spawnSync("npx", ["vitest", "run", "--project", "capi"], { stdio: ["ignore", "inherit", "inherit"], env: { ...process.env, CAPIM_CAPI_TIMINGS: file } });
    if (r.status !== 0) throw new Error(`the real-CAPI e2e failed (exit ${r.status}); no timings recorded`);
    const timings = JSON.parse(readFileSync(file, "utf8")) as Array<{ phase: string; seconds: number }>;
    return [
      "CAPI v1.14.2 (core, KubeadmControlPlane, kubeadm bootstrap) on kube-apiserver v1.35.4, capim-edge's controller",
      "on its ServiceAccount token and a local edge; `config/templates/cluster-template-in-memory.yaml` with every",
      "startupDuration at 1s (jitter 0.2). Wall-clock per phase, from the change to every Machine Running with its",
      "node and the owner's replicas/readyReplicas/upToDateReplicas at the target.",
      "",
      "| phase | seconds |",
      "|---|---|",
      ...timings.map((t) => `| ${t.phase} | ${t.seconds} |`),
      "",
      "About 30 s of a create is CAPI's ClusterCache waiting to retry before KCP has written `<cluster>-kubeconfig`,",
      "not the provider.",
    ].join("\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
