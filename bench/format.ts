/** Number formatting and small statistics shared by the figures. */

/** `1234.5` → `1,235`; `digits` after the point. */
const num = (value: number, digits = 0): string =>
  value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** A ratio as `0.93x`. */
const times = (value: number): string => `${num(value, 2)}x`;

/** Bytes as `12.3 MB` (MiB, as `free -h` and Node report them). */
const megabytes = (bytes: number): string => `${num(bytes / 1024 / 1024, 1)} MB`;

/** The median of a non-empty list. */
const median = (values: readonly number[]): number => percentile(values, 50);

/** Nearest-rank percentile (p in 0-100) of a non-empty list. */
const percentile = (values: readonly number[], p: number): number => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] ?? Number.NaN;
};

/** Splits a list into chunks of `size`. */
const chunk = <T>(items: readonly T[], size: number): T[][] => {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
};

export { chunk, median, megabytes, num, percentile, times };
