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
