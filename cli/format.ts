// Human output: aligned tables, short durations (kubectl style), errors as one line.

/** Prints rows as left-aligned columns separated by three spaces (like kubectl's tables). */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join("   ")
      .trimEnd();
  return [line(headers), ...rows.map(line)].join("\n");
}

/** "45s", "5m12s", "3h4m", "2d5h" — the two largest units, like kubectl's AGE column. */
export function shortDuration(ms: number): string {
  let s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (d > 0) return h ? `${d}d${h}h` : `${d}d`;
  if (h > 0) return m ? `${h}h${m}m` : `${h}h`;
  return s ? `${m}m${s}s` : `${m}m`;
}

export function age(iso: string | undefined, now = Date.now()): string {
  if (!iso) return "<unknown>";
  return shortDuration(now - Date.parse(iso));
}

/** "in 29m", "expired", or "never" for a cluster without TTL. */
export function expiresIn(iso: string | undefined, now = Date.now()): string {
  if (!iso) return "never";
  const left = Date.parse(iso) - now;
  return left <= 0 ? "expired" : `in ${shortDuration(left)}`;
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + "\n");
}
