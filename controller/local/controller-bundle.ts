// The controller's long-running processes (`npm start`, its shard replicas, the controller the
// real-CAPI plane and the tests spawn) run bundled from dist/controller/, not through tsx: tsx's loader
// (a hooks thread with its own V8 heap, its transform cache, an esbuild service process) cost the
// embedded default's main process 421 MB of RSS against 262 MB bundled, 10 clusters ready (2026-12-04),
// and every module load crossed threads. `npm run build:controller` runs this file; spawners call
// ensureControllerBundle.
import { renameSync, rmSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { mtimeOf, newestMtime, ROOT } from "./project-root.js";
import { CONTROLLER_NODE_FLAGS } from "../node-flags.js";

const CONTROLLER_BUNDLE_DIR = path.join(ROOT, "dist/controller");
/** controller/main.ts: the controller as a management cluster runs it. */
const CONTROLLER_MAIN = path.join(CONTROLLER_BUNDLE_DIR, "main.js");
/** `node`'s arguments up to the controller's own ones: its Node flags and the bundled entry. */
export const CONTROLLER_NODE_ARGS: readonly string[] = [...CONTROLLER_NODE_FLAGS, CONTROLLER_MAIN];
/** controller/local/main.ts: the embedded default (`npm start`). */
const LOCAL_MAIN = path.join(CONTROLLER_BUNDLE_DIR, "local/main.js");
const SOURCE_DIRS = ["controller", "edge-contract"].map((d) => path.join(ROOT, d));

/** esbuild's options for a Node program of this repository (the benchmarks' processes use them too). */
export const NODE_BUNDLE_OPTIONS = {
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // node_modules stay where they are (resolved from dist/ as from the sources).
  packages: "external",
  logLevel: "warning",
} as const;

/** Bundles both entry points into dist/controller/ when a bundle is missing or older than any source. */
export async function ensureControllerBundle(): Promise<void> {
  const built = Math.min(mtimeOf(CONTROLLER_MAIN), mtimeOf(LOCAL_MAIN));
  if (built > 0 && built >= Math.max(...SOURCE_DIRS.map(newestMtime))) return;
  // Built next to it and renamed into place, so a process starting meanwhile never loads half a bundle.
  const tmp = `${CONTROLLER_BUNDLE_DIR}.${process.pid}.${Date.now()}.tmp`;
  const { build } = await import("esbuild");
  await build({
    entryPoints: [path.join(ROOT, "controller/main.ts"), path.join(ROOT, "controller/local/main.ts")],
    outbase: path.join(ROOT, "controller"),
    outdir: tmp,
    ...NODE_BUNDLE_OPTIONS,
    splitting: true,
    chunkNames: "chunk-[hash]",
  });
  rmSync(CONTROLLER_BUNDLE_DIR, { recursive: true, force: true });
  renameSync(tmp, CONTROLLER_BUNDLE_DIR);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await ensureControllerBundle();
