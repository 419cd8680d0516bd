// `npm start -- --shards R`: the embedded default with R controller replicas. This process's controller
// holds shard 0; shards 1..R-1 each get a controller process of their own (controller/main.ts, bundled,
// as the Deployment runs it) against the management API. Each shard has its own loopback address as endpoint
// host (127.0.0.1, 127.0.0.2, ...), so when a replica dies another takes its shard's Lease and serves
// those clusters on the same host:port.
import { spawn, type ChildProcess } from "node:child_process";
import type { ShardingOptions } from "../manager.js";
import { CONTROLLER_NODE_ARGS, ensureControllerBundle } from "./controller-bundle.js";
import { ROOT } from "./project-root.js";
/** In the embedded management API's default namespace (it has no capim-edge-system). */
export const LOCAL_LEASE_NAMESPACE = "default";

/** Shard i's endpoint host: Linux routes all of 127.0.0.0/8 to loopback, so each shard gets an address. */
export function localShardHosts(shards: number): string[] {
  return Array.from({ length: shards }, (_, i) => `127.0.0.${1 + i}`);
}

export function localSharding(shards: number, shard: number, leaseDurationSeconds = 15): ShardingOptions {
  return { shards, shard, hosts: localShardHosts(shards), leaseNamespace: LOCAL_LEASE_NAMESPACE, identity: `npm-start-shard-${shard}`, leaseDurationSeconds };
}

export interface ShardReplica {
  shard: number;
  child: ChildProcess;
}

/** Starts the controller processes of shards 1..shards-1; their log lines go to `log` with the shard named. */
export async function startShardReplicas(o: {
  shards: number;
  managementKubeconfig: string;
  /** The workload edge, or several comma-separated (controller/main.ts's --edge-url). */
  edgeUrl: string;
  edgeToken: string;
  portRange: [number, number];
  concurrency: number;
  leaseDurationSeconds?: number;
  /** The replicas' LOG_LEVEL (this process's, so they are as quiet as it is). */
  logLevel: string;
  log: (line: string) => void;
}): Promise<ShardReplica[]> {
  await ensureControllerBundle();
  const replicas: ShardReplica[] = [];
  for (let shard = 1; shard < o.shards; shard++) {
    const s = localSharding(o.shards, shard, o.leaseDurationSeconds);
    const child = spawn(
      process.execPath,
      [
        ...CONTROLLER_NODE_ARGS,
        "--kubeconfig", o.managementKubeconfig,
        "--edge-url", o.edgeUrl,
        "--vip-port-range", o.portRange.join("-"),
        "--concurrency", String(o.concurrency),
        "--metrics-port=-1",
        "--shards", String(o.shards), "--shard", String(shard), "--shard-hosts", s.hosts!.join(","),
        "--lease-namespace", s.leaseNamespace, "--identity", s.identity,
        "--shard-lease-duration", String(s.leaseDurationSeconds),
        "--log-format", "json",
      ],
      { cwd: ROOT, env: { ...process.env, CAPIM_EDGE_TOKEN: o.edgeToken, LOG_LEVEL: o.logLevel }, stdio: ["ignore", "pipe", "pipe"] },
    );
    for (const stream of [child.stdout!, child.stderr!]) {
      stream.setEncoding("utf8");
      stream.on("data", (text: string) => {
        for (const line of text.split("\n")) if (line.trim()) o.log(`shard ${shard}: ${line}`);
      });
    }
    child.once("exit", (code, signal) => o.log(`shard ${shard}: controller process (pid ${child.pid}) exited (${signal ?? code}); another replica takes its shard once its Lease expires`));
    o.log(`shard ${shard}: controller process pid ${child.pid}, endpoint host ${s.hosts![shard]}`);
    replicas.push({ shard, child });
  }
  return replicas;
}
