/**
 * The generic preset: the event as JSON, no extra headers, the generic classification. The same
 * as no preset, except that it is explicit: no destination is detected from the URL, and
 * `validate` does not ask what the URL is.
 */
import type { Preset } from './types.js';

/** The `generic` preset. */
const generic: Preset = {
  name: 'generic',
  title: 'Any HTTP endpoint (the event as JSON)',
  headers: {},
  variables: [],
  hosts: [],
};

export { generic };
