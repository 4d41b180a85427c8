/**
 * UTF-8 safe cutting lives beside masking (shared/secrets/masking.ts), where text from outside
 * is masked before it is cut; re-exported here for the message builders and the ingest.
 */
export { truncateUtf8 } from '../../secrets/masking.js';
