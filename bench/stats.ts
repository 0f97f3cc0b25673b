// Small statistics shared by the benchmarks: percentiles of sorted samples and a one-line summary.

/** The p-quantile (0..1) of ascending `sorted`, nearest rank; 0 for no samples. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

/** "min 812 ms, median 901 ms, max 1010 ms" for durations in milliseconds. */
export function summary(times: readonly number[]): string {
  const sorted = [...times].sort((a, b) => a - b);
  const ms = (n: number) => `${Math.round(n)} ms`;
  return `min ${ms(sorted[0] ?? 0)}, median ${ms(percentile(sorted, 0.5))}, max ${ms(sorted.at(-1) ?? 0)}`;
}

/** The median of `values` (mean of the middle two for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** "2.0 s (1.5–2.3 s, 5 rounds)" for durations in ms: the median, then the range. */
export function secondsSpread(times: readonly number[], digits = 2): string {
  const s = (ms: number) => (ms / 1000).toFixed(digits);
  return `median ${s(median(times))} s (${s(Math.min(...times))}–${s(Math.max(...times))} s, ${times.length} rounds)`;
}
