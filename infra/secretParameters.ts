/**
 * Where the values of `${VAR}` references live on AWS: one SSM parameter per variable,
 * `/<prefix>/<stage>/<VAR>`. The stack only names them (for IAM and the outputs); it never
 * creates or reads one, so no value ever enters a template.
 */
import { Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { ObservabilityConfig } from '../shared/config/types.js';
import { exportVariableNames } from '../shared/request/variables.js';
import { APP_PREFIX, assertStageName } from '../shared/sqs/queueNames.js';

/**
 * `TAPPASS_SSM_PREFIX` of a stage: the path every parameter of the stage lives under.
 *
 * @example
 * ssmParameterPrefix('prod'); // '/tappass/prod'
 */
const ssmParameterPrefix = (stage: string): string => `/${APP_PREFIX}/${assertStageName(stage)}`;

/**
 * Every variable any export references, each once, sorted (the delivery function serves all
 * exports, so it needs all of them).
 *
 * @example
 * configVariables(config); // ['PD_ROUTING_KEY', 'SLACK_WEBHOOK_URL']
 */
const configVariables = (config: ObservabilityConfig): string[] =>
  [...new Set(config.exports.flatMap(exportVariableNames))].sort();

/**
 * The full parameter names of a stage, e.g. `/tappass/prod/PD_ROUTING_KEY`.
 *
 * @example
 * ssmParameterNames('prod', config); // ['/tappass/prod/PD_ROUTING_KEY']
 */
const ssmParameterNames = (stage: string, config: ObservabilityConfig): string[] =>
  configVariables(config).map((name) => `${ssmParameterPrefix(stage)}/${name}`);

/** The parameters' ARNs in the deploying account and region (tokens, resolved by CloudFormation). */
const ssmParameterArns = (
  scope: IConstruct,
  stage: string,
  config: ObservabilityConfig,
): string[] =>
  ssmParameterNames(stage, config).map((name) =>
    Stack.of(scope).formatArn({
      service: 'ssm',
      resource: 'parameter',
      resourceName: name.slice(1),
    }),
  );

export { configVariables, ssmParameterArns, ssmParameterNames, ssmParameterPrefix };
