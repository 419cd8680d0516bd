#!/usr/bin/env node
// `capim-edge` command-line tool. The CLI is TypeScript (cli/main.ts); tsx's ESM loader is registered
// in this process (no second node process, so signals and exit codes are the CLI's own).
import { register } from "tsx/esm/api";

register();
const { main } = await import(new URL("../cli/main.ts", import.meta.url).href);
process.exitCode = await main(process.argv.slice(2));
