/** Small measuring helpers shared by the benchmark cases. */

/** User + system CPU of this process since `start` (a `process.cpuUsage()`), in microseconds. */
export function cpuMicrosSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return used.user + used.system;
}

/** The item whose `key` is the median of `items` (the upper one of an even count). */
export function medianBy<T>(items: readonly T[], key: (item: T) => number): T {
  const sorted = [...items].sort((a, b) => key(a) - key(b));
  const middle = sorted[Math.floor(sorted.length / 2)];
  if (middle === undefined) throw new Error('median of no samples');
  return middle;
}

/** The median of `values` (the upper one of an even count). */
export const median = (values: readonly number[]): number => medianBy(values, (v) => v);
