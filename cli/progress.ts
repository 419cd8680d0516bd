// Progress while machines come up: a bar (cli-progress) on an interactive terminal, otherwise one
// line per change, which reads well in CI logs. Always on stderr, so stdout stays clean for -o json.
import cliProgress from "cli-progress";

export interface Progress {
  update(done: number, detail: string): void;
  stop(): void;
}

export function machineProgress(total: number, enabled: boolean): Progress {
  if (!enabled) return { update() {}, stop() {} };
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      { stream: process.stderr, format: "machines [{bar}] {value}/{total} ready {detail}", hideCursor: true, clearOnComplete: false },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { detail: "" });
    return { update: (done, detail) => bar.update(done, { detail }), stop: () => bar.stop() };
  }
  let last = -1;
  return {
    update(done, detail) {
      if (done === last) return;
      last = done;
      process.stderr.write(`machines ready: ${done}/${total}${detail ? ` (${detail})` : ""}\n`);
    },
    stop() {},
  };
}
