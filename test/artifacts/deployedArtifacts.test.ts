/**
 * The deployed artifacts, tested (`npm run test:artifacts`): a stage synthesized by `cdk synth`,
 * its three bundled assets run as CDK wrote them, each in fresh Node.js 22 processes with the
 * environment the template gives the function, against the embedded SQS server and a fake SSM
 * `GetParameters` endpoint, the event sources played with the template's settings
 * (test/artifacts/deployedStage.ts says what differs from AWS). The other suites run the
 * TypeScript handlers in the test process; this one proves the bundles, their configuration
 * and their wiring.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { ssmParameterPrefix } from '../../infra/secretParameters.js';
import { stackNameFor } from '../../infra/stack.js';
import { queueNames } from '../../shared/sqs/queueNames.js';
import { cdkSynth } from '../helpers/cdkSynth.js';
import { type FakeSsm, startFakeSsm } from '../helpers/fakeSsm.js';
import { auditEvent, drainQueue, waitUntil } from '../helpers/pipeline.js';
import { type Receiver, startReceiver } from '../helpers/receivers.js';
import { type DeployedStage, startDeployedStage } from './deployedStage.js';
import { readSynthesizedStage, type SynthesizedStage } from './synthesizedStage.js';

const STAGE = 'artifacts';
const CONFIG_PATH = 'test/artifacts/observability.yaml';
const SSM_PREFIX = ssmParameterPrefix(STAGE);
const TOKEN = 'artifact-token-7f3e';
/** The refused export's `retry.max_attempts` in the config above. */
const REFUSED_MAX_ATTEMPTS = 2;
/** Synth with bundling, then three cold starts: generous, never asserted. */
const SETUP_MS = 180_000;
const JOURNEY_MS = 90_000;

const names = queueNames(STAGE);

let outdir: string;
let synthesized: SynthesizedStage;
let ssm: FakeSsm | undefined;
let deployed: DeployedStage | undefined;
const receivers: Partial<Record<'accepted' | 'refused' | 'deadLetters', Receiver>> = {};

const started = <T>(value: T | undefined, what: string): T => {
  if (value === undefined) throw new Error(`${what} did not start (see beforeAll)`);
  return value;
};

/** Requests of a receiver whose JSON body has this `audit_id`. */
const requestsFor = (receiver: Receiver, auditId: string) =>
  receiver.requests.filter(
    (request) => (JSON.parse(request.body) as { audit_id?: unknown }).audit_id === auditId,
  );

/**
 * {@link waitUntil}, its timeout followed by what every function printed: the sandboxes' logs
 * are the only trace of why an event did not arrive.
 */
const waitOrExplain = async <T>(stage: DeployedStage, condition: () => T, what: string) => {
  try {
    return await waitUntil(condition, { timeoutMs: 60_000, what });
  } catch (error) {
    const output = [...stage.functions.values()].map((fn) => fn.sandboxes.output()).join('\n');
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${output}`);
  }
};

const sendToIngest = async (stage: DeployedStage, body: unknown): Promise<void> => {
  await stage.sqs.send(
    new SendMessageCommand({
      QueueUrl: started(stage.queueUrls.get(names.ingest), 'the ingest queue'),
      MessageBody: JSON.stringify(body),
    }),
  );
};

beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), 'tappass-artifacts-'));
  const [synth, accepted, refused, deadLetters] = await Promise.all([
    cdkSynth(outdir, { stage: STAGE, config: CONFIG_PATH }),
    startReceiver({ status: 200 }),
    startReceiver({ status: 500, body: 'refused by the test' }),
    startReceiver({ status: 200 }),
  ]);
  Object.assign(receivers, { accepted, refused, deadLetters });
  if (synth.code !== 0) throw new Error(`cdk synth failed (${synth.code}):\n${synth.stderr}`);
  synthesized = readSynthesizedStage(outdir, stackNameFor(STAGE));
  ssm = await startFakeSsm({
    parameters: {
      [`${SSM_PREFIX}/ACCEPTED_URL`]: `${accepted.url}/hook`,
      [`${SSM_PREFIX}/ACCEPTED_TOKEN`]: TOKEN,
      [`${SSM_PREFIX}/REFUSED_URL`]: `${refused.url}/hook`,
      [`${SSM_PREFIX}/DEAD_LETTERS_URL`]: `${deadLetters.url}/hook`,
    },
  });
  deployed = await startDeployedStage({ stage: synthesized, ssmEndpoint: ssm.url });
}, SETUP_MS);

afterAll(async () => {
  try {
    // The stage first: its sandboxes may still be calling SSM and the receivers.
    await deployed?.stop();
  } finally {
    await Promise.allSettled([
      ssm?.close(),
      ...Object.values(receivers).map((receiver) => receiver.close()),
    ]);
    if (outdir) rmSync(outdir, { recursive: true, force: true });
  }
});

describe('Function: the synthesized stage, run from its bundled assets', () => {
  it('bundles each of the three functions into its own asset, as the template names it', () => {
    // Prepare
    const { functions } = synthesized;

    // Act
    const bundles = functions.map((fn) => ({
      name: fn.name,
      folder: relative(outdir, fn.assetDir),
      files: readdirSync(fn.assetDir).sort(),
      code: readFileSync(join(fn.assetDir, 'index.mjs'), 'utf8'),
    }));

    // Assess
    expect(functions.map((fn) => fn.name).sort()).toEqual(
      ['delivery', 'dlq', 'ingest'].map((role) => `tappass-${STAGE}-${role}`),
    );
    expect(new Set(bundles.map((bundle) => bundle.folder)).size).toBe(3);
    const digests = bundles.map((bundle) => createHash('sha256').update(bundle.code).digest('hex'));
    expect(new Set(digests).size).toBe(3);
    for (const bundle of bundles) {
      expect(bundle.folder).toMatch(/^asset\.[0-9a-f]{64}$/);
      expect(bundle.files).toEqual(['index.mjs', 'index.mjs.map', 'observability.json']);
      // The SSM client is the delivery function's alone (lambdas/runtime.ts).
      expect(bundle.code.includes('AmazonSSM')).toBe(bundle.name === `tappass-${STAGE}-delivery`);
    }
    for (const fn of functions) {
      expect(fn.runtime).toBe('nodejs22.x');
      expect(fn.handler).toBe('index.handler');
    }
  });

  it('gives each function the environment of its template, only endpoints and paths rewritten', () => {
    // Prepare
    const stage = started(deployed, 'the deployed stage');

    // Act
    const functions = [...stage.functions.values()];

    // Assess
    expect(functions).toHaveLength(3);
    for (const fn of functions) {
      expect([...fn.rewritten].sort()).toEqual(['TAPPASS_CONFIG_FILE', 'TAPPASS_QUEUE_URL_BASE']);
      for (const [name, value] of Object.entries(fn.template.environment)) {
        if (fn.rewritten.includes(name)) continue;
        expect([name, fn.environment[name]]).toEqual([name, value]);
      }
      expect(fn.template.environment.TAPPASS_CONFIG_FILE).toBe('/var/task/observability.json');
      expect(fn.environment.TAPPASS_CONFIG_FILE).toBe(
        join(fn.template.assetDir, 'observability.json'),
      );
      expect(fn.environment.TAPPASS_QUEUE_URL_BASE).toBe(`${stage.server.endpoint}/000000000000/`);
      expect(fn.environment.TAPPASS_STAGE).toBe(STAGE);
      expect(fn.environment.NODE_OPTIONS).toBe('--enable-source-maps');
    }
    const delivery = started(stage.functions.get(`tappass-${STAGE}-delivery`), 'delivery');
    expect(delivery.environment.TAPPASS_SECRETS).toBe('ssm');
    expect(delivery.environment.TAPPASS_SSM_PREFIX).toBe(SSM_PREFIX);
  });

  it('plays every event source with the settings of its template', () => {
    // Prepare
    const stage = started(deployed, 'the deployed stage');

    // Act
    const settings = stage.eventSources.map(({ template, mapping }) => ({
      template,
      settings: mapping.settings,
    }));

    // Assess
    // One per queue a function consumes: ingest, and each export's delivery queue and DLQ.
    expect(settings).toHaveLength(7);
    for (const { template, settings: played } of settings) {
      expect(played.batchSize).toBe(template.batchSize);
      expect(played.maxBatchingWindowMs).toBe(template.maxBatchingWindowSeconds * 1000);
      expect(played.maxConcurrency).toBe(template.maxConcurrency);
    }
  });

  it(
    'takes an event through ingest and delivery to its receiver, the secret read from SSM',
    async () => {
      // Prepare
      const stage = started(deployed, 'the deployed stage');
      const accepted = started(receivers.accepted, 'the accepted receiver');
      const fakeSsm = started(ssm, 'the fake SSM');
      const event = auditEvent({ event_kind: 'policy_block' });

      // Act
      await sendToIngest(stage, event);
      const request = await waitOrExplain(
        stage,
        () => requestsFor(accepted, event.audit_id)[0],
        `the accepted receiver to get ${event.audit_id}`,
      );

      // Assess
      expect(request.method).toBe('POST');
      expect(request.url).toBe('/hook');
      expect(request.headers.authorization).toBe(`Bearer ${TOKEN}`);
      expect(JSON.parse(request.body)).toMatchObject({
        audit_id: event.audit_id,
        event_kind: 'policy_block',
      });
      const asked = fakeSsm.calls.flatMap((call) => call.names);
      expect(asked).toEqual(
        expect.arrayContaining([`${SSM_PREFIX}/ACCEPTED_URL`, `${SSM_PREFIX}/ACCEPTED_TOKEN`]),
      );
      for (const call of fakeSsm.calls) {
        expect(call).toMatchObject({
          target: 'AmazonSSM.GetParameters',
          withDecryption: true,
          accessKeyId: 'local',
          answer: 'parameters',
        });
        for (const name of call.names) expect(name.startsWith(`${SSM_PREFIX}/`)).toBe(true);
      }
    },
    JOURNEY_MS,
  );

  it(
    'dead-letters an event after max_attempts and takes its webhook.dlq event to the dead-letters export',
    async () => {
      // Prepare
      const stage = started(deployed, 'the deployed stage');
      const refused = started(receivers.refused, 'the refused receiver');
      const deadLetters = started(receivers.deadLetters, 'the dead-letters receiver');
      const event = auditEvent({ event_kind: 'auth_fail' });
      const dlqAuditId = `${event.audit_id}:dlq:refused`;

      // Act
      await sendToIngest(stage, event);
      const raised = await waitOrExplain(
        stage,
        () => requestsFor(deadLetters, dlqAuditId)[0],
        `the dead-letters receiver to get ${dlqAuditId}`,
      );
      const archived = await drainQueue(
        stage.sqs,
        started(stage.queueUrls.get(names.deadLetters), 'the archive'),
      );

      // Assess
      // The webhook.dlq event is raised after the last attempt: every attempt has arrived.
      expect(requestsFor(refused, event.audit_id)).toHaveLength(REFUSED_MAX_ATTEMPTS);
      expect(JSON.parse(raised.body)).toMatchObject({
        audit_id: dlqAuditId,
        event_kind: 'webhook.dlq',
        export: 'refused',
        reason: 'exhausted',
        attempts: REFUSED_MAX_ATTEMPTS,
        last_status: 500,
        original_event: { audit_id: event.audit_id },
      });
      expect(archived.map((message) => message.json)).toContainEqual(
        expect.objectContaining({
          kind: 'dead_letter',
          export: 'refused',
          event: expect.objectContaining({ audit_id: event.audit_id }),
        }),
      );
      const polled = (queueName: string) =>
        stage.eventSources.find((source) => source.queueName === queueName)?.mapping.stats.records;
      expect(polled(names.deliveryDlq('refused'))).toBeGreaterThanOrEqual(1);
      expect(polled(names.delivery('dead-letters'))).toBeGreaterThanOrEqual(1);
    },
    JOURNEY_MS,
  );

  it('ran each function in Node.js 22 processes of its own, from its asset', () => {
    // Prepare: the journeys above invoked all three functions.
    const stage = started(deployed, 'the deployed stage');

    // Act
    const sandboxes = [...stage.functions.values()].flatMap((fn) =>
      fn.sandboxes.started.map((info) => ({ ...info, assetDir: fn.template.assetDir })),
    );

    // Assess
    for (const fn of stage.functions.values()) {
      expect([fn.template.name, fn.sandboxes.started.length > 0]).toEqual([fn.template.name, true]);
    }
    const pids = sandboxes.map((sandbox) => sandbox.pid);
    expect(new Set(pids).size).toBe(pids.length);
    expect(pids).not.toContain(process.pid);
    for (const sandbox of sandboxes) {
      expect(sandbox.nodeVersion).toMatch(/^v22\./);
      expect(sandbox.moduleFile).toBe(join(sandbox.assetDir, 'index.mjs'));
    }
  });
});
