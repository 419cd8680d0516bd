// Go duration strings ("10s", "1m30s", "500ms", "1.5h") as used by DevMachine provisioning blocks.
// Hand-written because the grammar is small and must match Go's time.ParseDuration exactly (CAPI
// validates these fields with Go, so anything Go accepts must work here and nothing more).

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  "\u00b5s": 1e-3, // micro sign
  "\u03bcs": 1e-3, // Greek mu
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Go's largest duration (max int64 nanoseconds), in milliseconds. */
const MAX_MS = 9_223_372_036_854.775;

const TERM = /^(\d*)(?:\.(\d*))?([a-zA-Z\u00b5\u03bc]+)/;

/** Parses a Go duration string into milliseconds (may be fractional). Throws on malformed input. */
export function parseGoDuration(text: string): number {
  if (typeof text !== "string") throw new Error(`invalid duration ${JSON.stringify(text)}`);
  let rest = text;
  let sign = 1;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    sign = rest[0] === "-" ? -1 : 1;
    rest = rest.slice(1);
  }
  // Go special-cases a bare "0" (no unit needed).
  if (rest === "0") return 0;
  if (rest === "") throw new Error(`time: invalid duration ${JSON.stringify(text)}`);
  let total = 0;
  while (rest !== "") {
    const m = TERM.exec(rest);
    if (!m) throw new Error(`time: invalid duration ${JSON.stringify(text)}`);
    const [whole, intPart, fracPart, unit] = m;
    if (intPart === "" && (fracPart === undefined || fracPart === "")) {
      throw new Error(`time: invalid duration ${JSON.stringify(text)}`);
    }
    const factor = UNIT_MS[unit];
    if (factor === undefined) throw new Error(`time: unknown unit ${JSON.stringify(unit)} in duration ${JSON.stringify(text)}`);
    total += Number(`${intPart || "0"}.${fracPart || "0"}`) * factor;
    rest = rest.slice(whole.length);
  }
  if (!Number.isFinite(total) || total > MAX_MS) throw new Error(`time: invalid duration ${JSON.stringify(text)}`);
  return sign * total;
}

/** Formats milliseconds the way Go's Duration.String() does ("1m30s", "500ms", "0s"). */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return "0s";
  const neg = ms < 0;
  let rest = Math.abs(ms);
  let out: string;
  if (rest < 1000) {
    out = rest >= 1 ? `${trim(rest)}ms` : rest >= 1e-3 ? `${trim(rest * 1e3)}\u00b5s` : `${trim(rest * 1e6)}ns`;
  } else {
    const h = Math.floor(rest / 3_600_000);
    rest -= h * 3_600_000;
    const m = Math.floor(rest / 60_000);
    rest -= m * 60_000;
    out = `${trim(rest / 1000)}s`;
    if (h > 0) out = `${h}h${m}m${out}`;
    else if (m > 0) out = `${m}m${out}`;
  }
  return neg ? `-${out}` : out;
}

function trim(n: number): string {
  // Up to nanosecond precision, without trailing zeros (like Go).
  return Number(n.toFixed(9)).toString();
}

/**
 * Parses a startupJitter value: a string holding a float (the CRD's type), also accepted as a JSON
 * number. Must be finite and >= 0. Throws on malformed input.
 */
export function parseJitter(value: unknown): number {
  let n: number;
  if (typeof value === "number") n = value;
  else if (typeof value === "string" && /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(value)) n = Number(value);
  else throw new Error(`invalid startupJitter ${JSON.stringify(value)}: must be a string holding a float`);
  if (!Number.isFinite(n) || n < 0) throw new Error(`invalid startupJitter ${JSON.stringify(value)}: must be a non-negative number`);
  return n;
}
