/**
 * Everything a handler needs on AWS, read once per container from its environment: the
 * normalized config the stack bundled, the queue URLs and the SQS client. The secret resolver
 * (and with it `@aws-sdk/client-ssm`) is the delivery function's alone: lambdas/secrets.ts,
 * imported by lambdas/delivery.ts only, so the ingest and dead-letter bundles leave it out.
 * Locally and in tests the handlers are built with explicit dependencies instead.
 *
 * Environment (set by the CDK stack):
 * - `TAPPASS_STAGE`: the stage, e.g. `prod`.
 * - `TAPPASS_CONFIG_FILE`: the normalized config JSON bundled with the function.
 * - `TAPPASS_QUEUE_URL_BASE`: `https://sqs.<region>.amazonaws.com/<account>/`.
 * - `AWS_ENDPOINT_URL_SQS` (optional): an SQS-compatible endpoint, honoured by the SDK itself.
 */
import { readFileSync } from 'node:fs';
import { SQSClient } from '@aws-sdk/client-sqs';
import { awsClientConfig } from '../shared/awsClientSettings.js';
import type { ObservabilityConfig } from '../shared/config/types.js';
import { type QueueDirectory, queueDirectory } from '../shared/sqs/queueNames.js';

/** A required environment variable is missing: the deployment is broken, say how. */
class MissingEnvironmentError extends Error {
  constructor(name: string) {
    super(`environment variable ${name} is not set; the CDK stack sets it, so redeploy the stage`);
    this.name = 'MissingEnvironmentError';
  }
}

const requiredEnv = (name: string, env: NodeJS.ProcessEnv = process.env): string => {
  const value = env[name];
  if (value === undefined || value === '') throw new MissingEnvironmentError(name);
  return value;
};

/** Reads the normalized config the stack bundled (already validated at synth). */
const readRuntimeConfig = (path: string): ObservabilityConfig => {
  const config = JSON.parse(readFileSync(path, 'utf8')) as ObservabilityConfig;
  if (!Array.isArray(config.exports)) {
    throw new Error(`${path} is not a normalized observability config (no exports array)`);
  }
  return config;
};

interface Runtime {
  readonly stage: string;
  readonly config: ObservabilityConfig;
  readonly queues: QueueDirectory;
  readonly sqs: SQSClient;
}

/** The runtime of this container, from its environment. Clients are created here, once. */
const runtimeFromEnvironment = (env: NodeJS.ProcessEnv = process.env): Runtime => {
  const stage = requiredEnv('TAPPASS_STAGE', env);
  const config = readRuntimeConfig(requiredEnv('TAPPASS_CONFIG_FILE', env));
  const queues = queueDirectory(requiredEnv('TAPPASS_QUEUE_URL_BASE', env), stage);
  const sqs = new SQSClient(awsClientConfig('sqs'));
  return { stage, config, queues, sqs };
};

export type { Runtime };
export { MissingEnvironmentError, readRuntimeConfig, requiredEnv, runtimeFromEnvironment };
