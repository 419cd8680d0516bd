// Logs are readable lines for a person (text) and JSON for a collector; `auto` picks by whether the
// output is a terminal, so a pipe (as here) gets JSON.
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers/edge.js";
import { parseLogFormat } from "../../controller/log.js";

function logLine(format: string): string {
  const script = `import { createLogger } from "./controller/log.ts"; createLogger({ format: ${JSON.stringify(format)} }).info({ cluster: "default/c1", port: 20001 }, "VIP open");`;
  const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: ROOT, encoding: "utf8", env: { ...process.env, CAPIM_EDGE_LOG_FORMAT: "" } });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim();
}

describe("log formats", () => {
  it("json and auto (not a terminal) write one JSON object per line", () => {
    for (const f of ["json", "auto"]) expect(JSON.parse(logLine(f))).toMatchObject({ level: 30, msg: "VIP open", cluster: "default/c1", port: 20001 });
  });

  it("text writes a readable line: time, level, name, message, then the fields", () => {
    const out = logLine("text");
    expect(() => JSON.parse(out)).toThrow();
    expect(out).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO \(capim-edge\): VIP open\n\s+cluster: "default\/c1"\n\s+port: 20001$/);
  });

  it("accepts text, json and auto only", () => {
    expect(parseLogFormat("text")).toBe("text");
    expect(parseLogFormat("auto")).toBe("auto");
    expect(parseLogFormat("xml")).toBeUndefined();
  });
});
