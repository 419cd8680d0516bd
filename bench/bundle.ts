// The benchmarks' own long-running processes (the controller stack, the side-by-side VIP process) run
// bundled, as the controller itself does (controller/local/controller-bundle.ts): under tsx each would
// carry its loader's thread, heap and esbuild service, and the figures would not be the product's.
import path from "node:path";
import { build } from "esbuild";
import { NODE_BUNDLE_OPTIONS } from "../controller/local/controller-bundle.js";
import { ROOT } from "../controller/local/project-root.js";

/** Bundles `bench/<name>.ts` into `dist/bench/<name>.js` (node_modules external) and returns that path. */
export async function bundleBenchEntry(name: string): Promise<string> {
  const outfile = path.join(ROOT, "dist/bench", `${name}.js`);
  await build({
    entryPoints: [path.join(ROOT, "bench", `${name}.ts`)],
    outfile,
    ...NODE_BUNDLE_OPTIONS,
  });
  return outfile;
}
