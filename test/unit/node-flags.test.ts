// The controller's Node flags are spelled in four launch commands that cannot import them (the image, the
// manifest, two npm scripts); this keeps them equal to controller/node-flags.ts, which the local stack,
// the tests' controllers and the benchmarks' VIP processes use.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { CONTROLLER_NODE_FLAGS } from "../../controller/node-flags.js";

const root = path.resolve(import.meta.dirname, "../..");
const read = (f: string) => readFileSync(path.join(root, f), "utf8");

/** The arguments between `node` and the entry script of a command line. */
function flagsBefore(entry: string, argv: string[]): string[] {
  const node = argv.indexOf("node");
  const at = argv.indexOf(entry);
  expect(node, `node in ${argv.join(" ")}`).toBeGreaterThanOrEqual(0);
  expect(at, `${entry} in ${argv.join(" ")}`).toBeGreaterThan(node);
  return argv.slice(node + 1, at);
}

describe("controller Node flags", () => {
  it("npm start and npm run controller pass them", () => {
    const scripts = JSON.parse(read("package.json")).scripts as Record<string, string>;
    const lastCommand = (s: string) => s.split("&&").at(-1)!.trim().split(/\s+/);
    expect(flagsBefore("dist/controller/local/main.js", lastCommand(scripts.start))).toEqual(CONTROLLER_NODE_FLAGS);
    expect(flagsBefore("dist/controller/main.js", lastCommand(scripts.controller))).toEqual(CONTROLLER_NODE_FLAGS);
  });

  it("the image's entrypoint passes them", () => {
    const line = read("Dockerfile").split("\n").find((l) => l.startsWith("ENTRYPOINT"))!;
    expect(flagsBefore("dist/controller/main.js", JSON.parse(line.slice("ENTRYPOINT".length)))).toEqual(CONTROLLER_NODE_FLAGS);
  });

  it("the manager Deployment's command passes them", () => {
    const docs = parseAllDocuments(read("config/manager/manager.yaml")).map((d) => d.toJS());
    const deployment = docs.find((d) => d?.kind === "Deployment");
    const command = deployment.spec.template.spec.containers.find((c: { name: string }) => c.name === "manager").command as string[];
    expect(flagsBefore("dist/controller/main.js", command)).toEqual(CONTROLLER_NODE_FLAGS);
  });
});
