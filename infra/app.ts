/**
 * The CDK app: `npx cdk synth|diff|deploy -c stage=<name> [-c config=<path>] [-c alarmEmail=<address>]`.
 * Loads and validates the config first; an invalid config (or stage) ends synth with the
 * problems on stderr and exit code 1, so nothing is deployed.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { formatIssue, loadConfigFile } from '../shared/config/index.js';
import { stackNameFor, TapPassWebhooksStack } from './stack.js';

const app = new App();
const stage = String(app.node.tryGetContext('stage') ?? 'dev');
const configPath = String(app.node.tryGetContext('config') ?? 'config/observability.yaml');
const alarmEmail: unknown = app.node.tryGetContext('alarmEmail');

try {
  const config = await loadConfigFile(configPath, {
    onWarning: (warning) => console.warn(`warning: ${formatIssue(warning)}`),
  });
  new TapPassWebhooksStack(app, stackNameFor(stage), {
    stage,
    config,
    ...(typeof alarmEmail === 'string' && alarmEmail !== '' ? { alarmEmail } : {}),
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
}
