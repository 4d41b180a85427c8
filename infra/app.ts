/**
 * The CDK app: `npx cdk synth|diff|deploy -c stage=<name> [-c config=<path>] [-c alarmEmail=<address>]
 * [-c removal=retain|destroy] [-c tracing=true] [-c strict=true]`.
 * Loads and validates the config first; an invalid config (or stage) ends synth with the
 * problems on stderr and exit code 1, so nothing is deployed. Then it prints the config file and
 * the exports it deploys, and every warning in the words of `npm run validate`; under
 * `-c strict=true` a warning ends synth like an error (docs/deploying.md).
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { type ConfigIssue, loadConfigFile } from '../shared/config/index.js';
import { stageTopology } from '../shared/sqs/topology.js';
import { stackNameFor, TapPassWebhooksStack } from './stack.js';
import { synthReport } from './synthReport.js';

const app = new App();
const context = (key: string): string | undefined => {
  const value: unknown = app.node.tryGetContext(key);
  return value === undefined || value === null || value === '' ? undefined : String(value);
};
const stage = context('stage') ?? 'dev';
const configPath = context('config') ?? 'config/observability.yaml';
const alarmEmail = context('alarmEmail');
const removal = context('removal') ?? 'retain';
const tracing = context('tracing') === 'true';
const strict = context('strict') === 'true';

try {
  if (removal !== 'retain' && removal !== 'destroy') {
    throw new Error(`-c removal=${removal}: use retain (the default) or destroy`);
  }
  const warnings: ConfigIssue[] = [];
  const config = await loadConfigFile(configPath, {
    onWarning: (warning) => warnings.push(warning),
  });
  const report = synthReport({
    stage,
    configPath,
    config,
    warnings,
    topology: stageTopology(stage, config),
  });
  console.error(report.header);
  for (const line of report.warnings) console.error(line);
  if (strict && report.warnings.length > 0) {
    throw new Error(
      `-c strict=true: ${report.warnings.length} warning(s) above; nothing was synthesized`,
    );
  }
  new TapPassWebhooksStack(app, stackNameFor(stage), {
    stage,
    config,
    removal,
    tracing,
    ...(alarmEmail === undefined ? {} : { alarmEmail }),
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
}
