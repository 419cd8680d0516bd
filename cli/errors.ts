// Failures the CLI reports as one line and a non-zero exit code.

/** Exit codes: 1 the edge refused or failed, 2 bad usage, 3 the edge could not be reached, 4 timed out. */
export const EXIT = { failed: 1, usage: 2, unreachable: 3, timeout: 4 } as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failed,
    /** The edge's HTTP status, when the failure is an answer from the edge. */
    readonly status?: number,
  ) {
    super(message);
  }
}

export const usageError = (message: string) => new CliError(message, EXIT.usage);
