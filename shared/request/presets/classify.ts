/**
 * The classification of an attempt for one export: the generic table of `retry.ts`, then the
 * hook of the export's preset (named, or detected from the resolved URL).
 */
import type { ExportConfig } from '../../config/types.js';
import type { SendResult } from '../../transport/http.js';
import { classifyResult } from '../../transport/retry.js';
import { type PresetOptions, presetFor } from './registry.js';
import type { PresetVerdict } from './types.js';

/**
 * What one attempt's result means for this export: the generic table of `retry.ts`, adjusted
 * by the export's preset (named, or detected from `url`). `retryAfterSeconds` carries the wait
 * the destination asked for (`Retry-After`, or the preset's own source) on a retry.
 *
 * @example
 * const verdict = classifyFor(exportConfig, result, request.url);
 * const delay = backoffDelaySeconds(attempt, exportConfig.retry, verdict.retryAfterSeconds);
 */
const classifyFor = (
  exportConfig: ExportConfig,
  result: SendResult,
  url?: string,
  options?: PresetOptions,
): PresetVerdict => {
  const verdict = classifyResult(result);
  const base: PresetVerdict =
    verdict.outcome === 'retry' && result.retryAfterSeconds !== undefined
      ? { ...verdict, retryAfterSeconds: result.retryAfterSeconds }
      : verdict;
  const classify = presetFor(exportConfig, url, options)?.classify;
  if (classify === undefined) return base;
  try {
    return classify(result, base);
  } catch {
    // A hook reads untrusted bodies; if it ever fails, the generic verdict still stands.
    return base;
  }
};

export { classifyFor };
