/**
 * The shape of a destination preset: what it sends (a body template and headers) and how it
 * reads the destination's answers (a hook around the generic classification of `retry.ts`).
 */
import type { SendResult } from '../../transport/http.js';
import type { Verdict } from '../../transport/retry.js';
import type { PresetName } from './names.js';

/**
 * A verdict, plus how long the destination asked us to wait before the next attempt when it
 * said so somewhere other than `Retry-After` (Discord's `retry_after` body field, Datadog's
 * `X-RateLimit-Reset`). Only set for a `retry` outcome.
 */
type PresetVerdict = Verdict & { readonly retryAfterSeconds?: number };

/**
 * Adjusts the generic verdict for one destination: a better reason from the destination's error
 * body, a wait it asked for, or a different outcome where the destination bends HTTP.
 *
 * @param result the send result (its body snippet already redacted where the caller redacts).
 * @param verdict the generic verdict, with `retryAfterSeconds` from `Retry-After` when present.
 */
type ResponseClassifier = (result: SendResult, verdict: PresetVerdict) => PresetVerdict;

/** One destination preset. Every field it supplies can be overridden in the export's config. */
interface Preset {
  readonly name: PresetName;
  /** The destination API, for docs and `validate`: `PagerDuty Events API v2`. */
  readonly title: string;
  /**
   * Liquid body template (format json, the same JSON-safe escaping as a `body_template`), used
   * when the export has no `body_template`. Absent: the event as JSON.
   */
  readonly bodyTemplate?: string;
  /** Default headers; values may hold `${VAR}` references. A config header of the same name wins. */
  readonly headers: Readonly<Record<string, string>>;
  /**
   * The `${VAR}` names the preset's template and headers need, declared so docs can list them
   * (a test checks the list matches the template and headers).
   */
  readonly variables: readonly string[];
  /**
   * Host names of the destination's public endpoints. `validate` suggests the preset for an
   * export that sends there without one.
   */
  readonly hosts: readonly string[];
  /**
   * The API paths (no trailing slash) on `hosts` the template is made for. An export without
   * preset and template whose literal URL is one of them gets the preset from its config
   * (`registry.ts`). Absent: never detected that way.
   */
  readonly paths?: readonly string[];
  /** Adjusts the generic verdict; absent: the generic verdict stands. */
  readonly classify?: ResponseClassifier;
}

export type { Preset, PresetVerdict, ResponseClassifier };
