// A test's own Worker module, written inline and importing the project's sources by relative path
// ("./durable-objects/..."), bundled the way build:worker bundles the edge, for Miniflare's `script`.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export async function bundleInlineWorker(entry: string, sourcefile: string): Promise<string> {
  const out = await build({
    stdin: { contents: entry, resolveDir: ROOT, loader: "js", sourcefile },
    bundle: true,
    format: "esm",
    platform: "neutral",
    mainFields: ["module", "main"],
    external: ["cloudflare:*"],
    write: false,
    logLevel: "silent",
  });
  return out.outputFiles[0].text;
}
