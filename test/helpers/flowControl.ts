/**
 * Test helpers for the flow-control features (event age, rate limit, breaker, batching): add
 * keys to exports of a YAML config built by `exportsYaml`, and count requests per time window.
 */
import { parse, stringify } from 'yaml';
import type { RecordedRequest } from '../../local/receivers.js';

const isMap = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The YAML text with extra keys merged into the named exports; a map merges into a map
 * already there (`webhook: { body_template }` keeps the URL).
 *
 * @example
 * withExportKeys(exportsYaml([{ name: 'slack', url }]), { slack: { rate_limit_per_second: 1 } });
 */
const withExportKeys = (
  yaml: string,
  keys: Readonly<Record<string, Readonly<Record<string, unknown>>>>,
): string => {
  const document = parse(yaml) as { exports: Record<string, unknown>[] };
  for (const exportConfig of document.exports) {
    const extra = keys[String(exportConfig.name)] ?? {};
    for (const [key, value] of Object.entries(extra)) {
      const current = exportConfig[key];
      exportConfig[key] = isMap(current) && isMap(value) ? { ...current, ...value } : value;
    }
  }
  return stringify(document);
};

/**
 * The most requests that arrived within any window of `windowMs` (both ends included), from
 * the receiver's own timestamps.
 */
const mostInAnyWindow = (requests: readonly RecordedRequest[], windowMs: number): number => {
  const times = requests.map((request) => request.receivedAt).sort((a, b) => a - b);
  let most = 0;
  let start = 0;
  for (let end = 0; end < times.length; end++) {
    while ((times[end] ?? 0) - (times[start] ?? 0) > windowMs) start++;
    most = Math.max(most, end - start + 1);
  }
  return most;
};

export { mostInAnyWindow, withExportKeys };
