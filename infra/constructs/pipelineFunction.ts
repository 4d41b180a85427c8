/**
 * A function of the pipeline: a `NodejsFunction` with the defaults baked in once, its own role
 * (no managed policies: every permission is granted explicitly by the stack) and its own log
 * group with a retention.
 *
 * Composition rather than a subclass, so the role and the log group sit under the function's
 * construct (one path per function in the tree, in cdk-nag findings and in acknowledgements).
 */
import { platform } from 'node:os';
import { join } from 'node:path';
import { type Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, RecursiveLoop, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { RECURSIVE_LOOP, type RecursiveLoopSetting } from '../../shared/sqs/topology.js';
import { RUNTIME_CONFIG_FILE_NAME } from '../runtimeConfigFile.js';

/** The Node.js version the project is developed and tested on (`.nvmrc`, `engines`). */
const FUNCTION_RUNTIME = Runtime.NODEJS_22_X;

/**
 * ESM output needs `require` for the CommonJS modules esbuild inlines (parts of the AWS SDK
 * and their `require('buffer')`-style calls).
 */
const REQUIRE_SHIM =
  "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

/** Props of {@link PipelineFunction}. */
interface PipelineFunctionProps {
  /** Full function name, including the stage. */
  readonly functionName: string;
  readonly description: string;
  /** Absolute path of the handler file (it exports `handler`). */
  readonly entry: string;
  /** Absolute path of the repository root (holds package-lock.json). */
  readonly projectRoot: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly environment: Readonly<Record<string, string>>;
  /** Local path of the normalized config, copied into the bundle as `observability.json`. */
  readonly runtimeConfigFile: string;
  readonly logRetention: RetentionDays;
  /**
   * Lambda's recursive loop detection (`RecursiveLoop`), from the stage topology.
   * https://docs.aws.amazon.com/lambda/latest/dg/invocation-recursion.html
   */
  readonly recursiveLoop: RecursiveLoopSetting;
  /**
   * Active X-Ray tracing (`TracingConfig.Mode: Active`).
   * @default false: the `Tracing` property is left out (Lambda's PassThrough)
   */
  readonly tracing?: boolean;
}

/** The command that copies the normalized config next to `index.mjs`. */
const copyCommand = (from: string, toDirectory: string): string =>
  platform() === 'win32'
    ? `copy /Y "${from}" "${toDirectory}\\${RUNTIME_CONFIG_FILE_NAME}"`
    : `cp "${from}" "${toDirectory}/${RUNTIME_CONFIG_FILE_NAME}"`;

/**
 * The command that makes the source map's paths relative to the project root, so the asset
 * (and its hash) is the same whatever the `-o` folder of the synth.
 */
const portableSourceMapCommand = (outputDir: string, projectRoot: string): string =>
  `"${process.execPath}" "${join(projectRoot, 'infra', 'portableSourceMap.mjs')}" "${outputDir}" "${projectRoot}"`;

/**
 * Bundling: esbuild on this machine (never Docker, so synth works on a laptop and in CI without
 * a daemon), minified ESM for Node.js 22 with source maps, the AWS SDK bundled at the version
 * the tests ran against rather than whichever the runtime ships.
 */
const bundlingOptions = (runtimeConfigFile: string, projectRoot: string): BundlingOptions => ({
  forceDockerBundling: false,
  format: OutputFormat.ESM,
  target: 'node22',
  mainFields: ['module', 'main'],
  banner: REQUIRE_SHIM,
  minify: true,
  sourceMap: true,
  // Stack traces need file and line, not the sources: keeps the bundle small.
  sourcesContent: false,
  bundleAwsSDK: true,
  commandHooks: {
    beforeBundling: () => [],
    beforeInstall: () => [],
    afterBundling: (_inputDir, outputDir) => [
      copyCommand(runtimeConfigFile, outputDir),
      portableSourceMapCommand(outputDir, projectRoot),
    ],
  },
});

/**
 * One function of the pipeline.
 *
 * @example
 * const ingest = new PipelineFunction(this, 'IngestFunction', {
 *   functionName: 'tappass-dev-ingest', description: 'Fans audit events out to the exports',
 *   entry: join(root, 'lambdas/ingest.ts'), projectRoot: root, memorySize: 256,
 *   timeout: Duration.seconds(30), environment, runtimeConfigFile, logRetention: RetentionDays.ONE_MONTH,
 * });
 */
class PipelineFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: PipelineFunctionProps) {
    super(scope, id);
    this.logGroup = new LogGroup(this, 'Logs', {
      logGroupName: `/aws/lambda/${props.functionName}`,
      retention: props.logRetention,
      // Removed with the stage: a retained group would block redeploying the same stage.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${props.functionName}`,
    });
    this.logGroup.grantWrite(this.role);
    this.function = new NodejsFunction(this, 'Function', {
      functionName: props.functionName,
      description: props.description,
      entry: props.entry,
      handler: 'handler',
      projectRoot: props.projectRoot,
      depsLockFilePath: `${props.projectRoot}/package-lock.json`,
      runtime: FUNCTION_RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      environment: { ...props.environment, NODE_OPTIONS: '--enable-source-maps' },
      bundling: bundlingOptions(props.runtimeConfigFile, props.projectRoot),
      recursiveLoop:
        props.recursiveLoop === RECURSIVE_LOOP.allow
          ? RecursiveLoop.ALLOW
          : RecursiveLoop.TERMINATE,
      ...(props.tracing ? { tracing: Tracing.ACTIVE } : {}),
    });
    if (props.tracing) {
      Validations.of(this.role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Active tracing: CDK grants xray:PutTraceSegments and xray:PutTelemetryRecords, which support no resource-level permissions (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html), so the resource is "*".',
      });
    }
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Node.js 22 is the runtime the project pins and tests on (.nvmrc, package.json engines); moving to a newer runtime is a deliberate, tested upgrade, not a synth-time default.',
    });
  }
}

export type { PipelineFunctionProps };
export { FUNCTION_RUNTIME, PipelineFunction, REQUIRE_SHIM };
