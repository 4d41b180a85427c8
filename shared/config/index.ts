/** The config of `config/observability.yaml`: loading, validation, schema and types. */
export type { ConfigIssue } from './errors.js';
export { ConfigError, ConfigValidationError, formatIssue } from './errors.js';
export type { ConfigParseResult, LoadConfigOptions } from './load.js';
export { configVariableNames, loadConfigFile, parseConfig } from './load.js';
export {
  EXPORT_NAME_MAX_LENGTH,
  EXPORT_NAME_PATTERN,
  MANAGED_HEADERS,
  MAX_ATTEMPTS_LIMIT,
  MAX_BATCH_SIZE,
  MAX_CONCURRENCY,
  MIN_CONCURRENCY,
  ObservabilityConfigSchema,
  observabilityJsonSchema,
  renderJsonSchemaFile,
} from './schema.js';
export type {
  BatchConfig,
  BatchEncoding,
  BodyFormat,
  BreakerConfig,
  DeliveryTuning,
  ExportConfig,
  HttpMethod,
  ObservabilityConfig,
  RetryConfig,
  SigningConfig,
  WebhookConfig,
} from './types.js';
export {
  BATCH_ENCODINGS,
  BODY_FORMATS,
  DEFAULTS,
  FLOW_CONTROL_DEFAULTS,
  HTTP_METHODS,
} from './types.js';
