// `npm start` (and the controller, for its shard flags) checks its flags before starting anything: a bad or missing value is one line naming the
// flag and exit code 2, never a stack trace or a run that fails later in every machine's bootstrap.
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers/edge.js";
import { run } from "../helpers/cli.js";

const start = (args: string[]) => run(process.execPath, ["--import", "tsx", "controller/local/main.ts", ...args], { cwd: ROOT, timeoutMs: 60_000 });

describe("npm start flags", () => {
  it.each([
    [["--version"], /^capim-edge: Option '--version <value>' argument missing/],
    [["--version", "banana"], /^capim-edge: invalid --version banana \(want a Kubernetes version such as v1\.31\.0\)/],
    [["--clusters", "0"], /^invalid --clusters 0/],
    [["--vip-port-range", "9-1"], /^invalid --vip-port-range 9-1/],
    [["--no-such-flag"], /^capim-edge: Unknown option '--no-such-flag'/],
    [["--dashboard-port", "http"], /^capim-edge: invalid --dashboard-port http/],
    [["--log-format", "xml"], /^capim-edge: invalid --log-format xml \(want text, json or auto\)/],
    [["--edges", "0"], /^invalid --edges 0/],
    [["--edges", "65"], /^capim-edge: invalid --edges 65 \(at most 64 workerd processes\)/],
  ])("%j: exit 2 with one line", async (args, message) => {
    const r = await start(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack
    expect(r.stderr).toContain("usage: npm start");
  });
});

const controller = (args: string[]) => run(process.execPath, ["--import", "tsx", "controller/main.ts", "--edge-url", "http://127.0.0.1:9", ...args], { cwd: ROOT, timeoutMs: 60_000, env: { ...process.env, CAPIM_EDGE_TOKEN: "t" } });

describe("controller shard flags", () => {
  it.each([
    [["--shards", "2", "--shard", "2"], /^--shard must be below --shards/],
    [["--shards", "2", "--shard-services"], /^--shard-services needs --shards of 2 or more and --vip-bind-address/],
    [["--shard-services", "--vip-bind-address", "0.0.0.0"], /^--shard-services needs --shards of 2 or more/],
    [["--shards", "3", "--shard-services", "--vip-bind-address", "0.0.0.0", "--vip-port-range", "20000-20001"], /^--vip-port-range has fewer ports than --shards/],
  ])("%j: exit 2 with one line", async (args, message) => {
    const r = await controller(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stderr).toContain("usage: capim-edge controller");
  });
});
