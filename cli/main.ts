// capim-edge: ephemeral fake clusters on a capim-edge, for CI jobs and people.
//   capim-edge cluster create <name> [--ttl 1h] [--control-planes N --workers M] [--kubernetes-version v1.31.0] [--kubeconfig FILE]
//   capim-edge cluster list [-A] | get <name> | extend <name> --ttl 30m | delete <name> | kubeconfig <name> [--kubeconfig FILE]
//   capim-edge cluster fault <name> [--file FAULTS.json | --clear]
//   capim-edge env <name> [--kubeconfig FILE] [-n NS]   (reads the management cluster, not the edge)
// The edge and the tenant token come from --edge/--token or CAPIM_EDGE_URL/CAPIM_EDGE_TOKEN.
// Exit codes: 0 ok, 1 the edge refused or failed, 2 usage, 3 edge unreachable, 4 timed out.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { EdgeError } from "../edge-contract/admin-client.js";
import { cliError, EdgeClient } from "./client.js";
import { createCluster, deleteCluster, durationMs, extendCluster, faultCommand, getCluster, kubeconfigCommand, listClusters, type CommonOptions } from "./cluster.js";
import { envCommand } from "./env.js";
import { CliError, EXIT, usageError } from "./errors.js";

/** Each command's usage lines, so `capim-edge cluster <command> --help` shows just that command. */
const COMMAND_HELP: Record<string, string> = {
  create: `  cluster create <name>      create a cluster and write its kubeconfig
      --ttl DURATION             delete it automatically after this long (default 1h; "none": never)
      --control-planes N         simulate N control-plane machines (nodes, static pods, etcd members)
      --workers M                simulate M worker machines
      --kubernetes-version V     e.g. v1.31.0 (default: the edge's default)
      --kubeconfig FILE          where to write the kubeconfig (default ./<name>.kubeconfig)
      --startup-duration D       wait per machine bootstrap step (default 0s), --startup-jitter F
      --wait-timeout D           how long to wait for machines to be ready (default 5m)
`,
  list: `  cluster list [-A]          clusters of this tenant (in --namespace, or all with -A)
`,
  get: `  cluster get <name>         age, expiry, object count and machines
`,
  extend: `  cluster extend <name> --ttl DURATION   expire DURATION from now
`,
  delete: `  cluster delete <name> [--ignore-not-found]
`,
  kubeconfig: `  cluster kubeconfig <name> [--kubeconfig FILE]   a kubeconfig with a new cluster token (stdout by default)
`,
  fault: `  cluster fault <name> [--file FAULTS.json | --clear]   show, set or clear faults injected into the cluster's API
      --file FILE                JSON: {"seed": 1, "latency": [{"verbs": ["get"], "resources": ["pods"], "ms": 50, "jitterMs": 10}],
                                 "errors": [{"verbs": ["list"], "rate": 0.1, "code": 503}], "dropWatchesAfterSeconds": 30}
                                 (codes 429, 500, 503, 504; "-" reads stdin)
      --clear                    remove every fault
`,
};

const ENV_HELP = `  env <name>                 an EnvVar's cluster variables as an env file, from the management cluster:
                             capim-edge env demo > demo.env && . ./demo.env && envsubst < template.yaml
      --kubeconfig FILE          the management cluster (default: $KUBECONFIG or ~/.kube/config)
      -n, --namespace NS         the EnvVar's namespace (default: the kubeconfig context's, else "default")
      --wait-timeout D           wait this long for its ControlPlaneEndpoint to report an endpoint (default 1m)
`;

const GLOBAL_HELP = `Flags:
  --edge URL        edge base URL (env CAPIM_EDGE_URL)
  --token TOKEN     tenant token (env CAPIM_EDGE_TOKEN)
  --certificate-authority FILE   PEM CA of the edge's certificate, for a local edge's https URL
                    (env CAPIM_EDGE_CA_FILE; a local edge keeps it in <state-dir>/edge-tls/ca.crt)
  -n, --namespace   cluster namespace on the edge (env CAPIM_EDGE_NAMESPACE, default "default")
  -o, --output      "table" (default) or "json"
  -h, --help        this help (after a command: that command's)
  --version         the CLI's version
`;

export const USAGE = `Usage: capim-edge [flags] cluster <command> [args]
       capim-edge env <name> [--kubeconfig FILE] [-n NS]

Commands:
${Object.values(COMMAND_HELP).join("")}${ENV_HELP}
${GLOBAL_HELP}`;

function commandUsage(command: string): string {
  return `Usage: capim-edge [flags] cluster ${command} ...\n\n${COMMAND_HELP[command]}\n${GLOBAL_HELP}`;
}

/** The package's version (package.json next to cli/). */
function cliVersion(): string {
  const pkg = JSON.parse(readFileSync(fileURLToPath(new URL("../package.json", import.meta.url)), "utf8")) as { version: string };
  return pkg.version;
}

const OPTIONS = {
  edge: { type: "string" },
  token: { type: "string" },
  "certificate-authority": { type: "string" },
  namespace: { type: "string", short: "n" },
  output: { type: "string", short: "o" },
  "all-namespaces": { type: "boolean", short: "A" },
  ttl: { type: "string" },
  "control-planes": { type: "string" },
  workers: { type: "string" },
  "kubernetes-version": { type: "string" },
  kubeconfig: { type: "string" },
  "startup-duration": { type: "string" },
  "startup-jitter": { type: "string" },
  "wait-timeout": { type: "string" },
  "ignore-not-found": { type: "boolean" },
  file: { type: "string" },
  clear: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean" },
} as const;

type Values = ReturnType<typeof parse>["values"];

function parse(argv: string[]) {
  return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
}

/** The --file of `cluster fault`: JSON from a file or stdin ("-"); the edge checks its fields. */
function readFaults(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file === "-" ? 0 : file, "utf8");
  } catch (e) {
    throw usageError(`--file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    const v = JSON.parse(text) as unknown;
    if (v && typeof v === "object" && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw usageError(`--file ${file}: not a JSON object`);
}

function count(flag: string, v: string | undefined): number {
  if (v === undefined) return 0;
  if (!/^\d+$/.test(v) || Number(v) > 100) throw usageError(`--${flag}: must be a whole number from 0 to 100`);
  return Number(v);
}

/** Flags that only some commands take: refuse them elsewhere rather than ignore them silently. */
const COMMAND_FLAGS: Record<string, Array<keyof Values>> = {
  create: ["ttl", "control-planes", "workers", "kubernetes-version", "kubeconfig", "startup-duration", "startup-jitter", "wait-timeout"],
  list: ["all-namespaces"],
  get: [],
  extend: ["ttl"],
  delete: ["ignore-not-found"],
  kubeconfig: ["kubeconfig"],
  fault: ["file", "clear"],
};
const GLOBAL_FLAGS = new Set<keyof Values>(["edge", "token", "certificate-authority", "namespace", "output", "help", "version"]);

async function run(argv: string[]): Promise<void> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (e) {
    throw usageError((e as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.version) {
    process.stdout.write(`capim-edge ${cliVersion()}\n`);
    return;
  }
  if (positionals[0] === "env") return runEnv(values, positionals.slice(1));
  if (values.help && positionals[0] === "cluster" && positionals[1] && positionals[1] in COMMAND_HELP) {
    process.stdout.write(commandUsage(positionals[1]));
    return;
  }
  if (values.help || positionals.length === 0) {
    process.stdout.write(USAGE);
    if (!values.help) throw usageError("missing command");
    return;
  }
  const [group, command, name, ...extra] = positionals;
  if (group !== "cluster") throw usageError(`unknown command "${group}" (try "capim-edge cluster list")`);
  if (!command || !(command in COMMAND_FLAGS)) throw usageError(`unknown cluster command "${command ?? ""}" (one of ${Object.keys(COMMAND_FLAGS).join(", ")})`);
  for (const k of Object.keys(values) as Array<keyof Values>) {
    if (!GLOBAL_FLAGS.has(k) && !COMMAND_FLAGS[command].includes(k)) throw usageError(`flag --${k} does not apply to "cluster ${command}"`);
  }
  const needsName = command !== "list";
  if (needsName && !name) throw usageError(`cluster ${command}: missing <name>`);
  if (extra.length || (!needsName && name)) throw usageError(`unexpected argument "${needsName ? extra[0] : name}"`);

  const output = values.output ?? "table";
  if (output !== "table" && output !== "json") throw usageError(`--output must be "table" or "json", not "${output}"`);
  const edge = values.edge ?? process.env.CAPIM_EDGE_URL;
  const token = values.token ?? process.env.CAPIM_EDGE_TOKEN;
  if (!edge) throw usageError("no edge URL: pass --edge or set CAPIM_EDGE_URL");
  if (!token) throw usageError("no token: pass --token or set CAPIM_EDGE_TOKEN");
  try {
    const u = new URL(edge);
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error();
  } catch {
    throw usageError(`--edge ${edge}: not an http(s) URL`);
  }
  const caFile = values["certificate-authority"] ?? process.env.CAPIM_EDGE_CA_FILE;
  let caPem: string | undefined;
  if (caFile) {
    try {
      caPem = readFileSync(caFile, "utf8");
    } catch (e) {
      throw usageError(`--certificate-authority ${caFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    if (!caPem.includes("-----BEGIN CERTIFICATE-----")) throw usageError(`--certificate-authority ${caFile}: not a PEM certificate`);
  }
  const o: CommonOptions = {
    client: new EdgeClient(edge, token, { caPem }),
    namespace: values.namespace ?? process.env.CAPIM_EDGE_NAMESPACE ?? "default",
    json: output === "json",
  };

  switch (command) {
    case "create":
      return createCluster(o, name!, {
        ttl: values.ttl ?? "1h",
        controlPlanes: count("control-planes", values["control-planes"]),
        workers: count("workers", values.workers),
        kubernetesVersion: values["kubernetes-version"],
        kubeconfig: values.kubeconfig,
        startupDuration: values["startup-duration"],
        startupJitter: values["startup-jitter"],
        waitTimeout: values["wait-timeout"] ?? "5m",
      });
    case "list":
      return listClusters(o, values["all-namespaces"] ?? false);
    case "get":
      return getCluster(o, name!);
    case "extend":
      if (!values.ttl) throw usageError("cluster extend: --ttl is required");
      return extendCluster(o, name!, values.ttl);
    case "delete":
      return deleteCluster(o, name!, values["ignore-not-found"] ?? false);
    case "kubeconfig":
      return kubeconfigCommand(o, name!, values.kubeconfig);
    case "fault":
      if (values.file !== undefined && values.clear) throw usageError("cluster fault: --file and --clear exclude each other");
      return faultCommand(o, name!, values.clear ? "clear" : values.file !== undefined ? readFaults(values.file) : undefined);
  }
}

/** `capim-edge env <name>`: only its own flags; it talks to the management cluster, not the edge. */
async function runEnv(values: Values, args: string[]): Promise<void> {
  if (values.help) {
    process.stdout.write(`Usage: capim-edge env <name> [flags]\n\n${ENV_HELP}`);
    return;
  }
  const allowed = new Set<keyof Values>(["kubeconfig", "namespace", "wait-timeout"]);
  for (const k of Object.keys(values) as Array<keyof Values>) if (!allowed.has(k)) throw usageError(`flag --${k} does not apply to "env"`);
  const [name, ...extra] = args;
  if (!name) throw usageError("env: missing <name>");
  if (extra.length) throw usageError(`unexpected argument "${extra[0]}"`);
  const waitTimeout = values["wait-timeout"] ?? "1m";
  return envCommand(name, { kubeconfig: values.kubeconfig, namespace: values.namespace, waitMs: durationMs("--wait-timeout", waitTimeout), waitTimeout });
}

/** Runs the CLI; returns the exit code. Failures print one line on stderr. */
export async function main(argv: string[]): Promise<number> {
  try {
    await run(argv);
    return 0;
  } catch (e) {
    if (e instanceof EdgeError) e = cliError(e);
    if (e instanceof CliError) {
      process.stderr.write(`capim-edge: ${e.message}\n`);
      return e.exitCode;
    }
    process.stderr.write(`capim-edge: internal error: ${(e as Error)?.message ?? String(e)}\n`);
    return EXIT.failed;
  }
}
