// Prometheus text read with a parser nobody here wrote (parse-prometheus-text-format), for tests that
// check the series the controller and the edge expose.
import parsePrometheusTextFormat from "parse-prometheus-text-format";

export type Families = ReturnType<typeof parsePrometheusTextFormat>;

export const parseMetrics = (text: string): Families => parsePrometheusTextFormat(text);

/** The samples of `name` whose labels include `labels`. */
export function samples(families: Families, name: string, labels: Record<string, string> = {}) {
  const family = families.find((f) => f.name === name);
  return (family?.metrics ?? []).filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
}

/** Sum of the matching samples' values (counters, gauges) or counts (histograms); 0 when there are none. */
export function total(families: Families, name: string, labels: Record<string, string> = {}): number {
  return samples(families, name, labels).reduce((n, m) => n + Number(m.value ?? m.count ?? 0), 0);
}
