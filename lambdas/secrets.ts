/**
 * The delivery function's secret resolver, read once per container from its environment. Apart
 * from lambdas/runtime.ts so that `@aws-sdk/client-ssm` is imported by lambdas/delivery.ts
 * alone: the ingest and dead-letter bundles never carry it (`npm run bench`, figure 6).
 *
 * Environment (set by the CDK stack on the delivery function):
 * - `TAPPASS_SECRETS`: `ssm` (default) or `env`.
 * - `TAPPASS_SSM_PREFIX`: parameter path prefix, e.g. `/tappass/prod`.
 */
import { SSMClient } from '@aws-sdk/client-ssm';
import { awsClientConfig } from '../shared/awsClientSettings.js';
import {
  EnvSecretResolver,
  type SecretResolver,
  SsmSecretResolver,
} from '../shared/secrets/resolvers.js';
import { requiredEnv } from './runtime.js';

/**
 * The resolver of this container: SSM (its client created here, once) unless
 * `TAPPASS_SECRETS=env`.
 *
 * @example
 * const secrets = secretResolverFromEnvironment();
 */
const secretResolverFromEnvironment = (env: NodeJS.ProcessEnv = process.env): SecretResolver =>
  env.TAPPASS_SECRETS === 'env'
    ? new EnvSecretResolver(env)
    : new SsmSecretResolver({
        client: new SSMClient(awsClientConfig('ssm')),
        parameterPrefix: requiredEnv('TAPPASS_SSM_PREFIX', env),
      });

export { secretResolverFromEnvironment };
