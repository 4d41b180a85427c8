/**
 * The bad-event corpus (test/fixtures/bad-events/, described in its corpus.yaml) and a few
 * generated giants, pushed through the real pipeline with good events alongside. Each bad
 * message must either be refused by SQS at SendMessage (the producer gets the error, nothing
 * enters) or be parked in the ingest DLQ with a `reason` and a `detail` naming the field, at
 * once, without a retry; every good event must be delivered.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { parse } from 'yaml';
import { MAX_EVENT_BYTES, MAX_EVENTS_PER_MESSAGE } from '../../shared/events/auditEvent.js';
import { exportsYaml, type PipelineHarness, type QueuedMessage } from '../helpers/pipeline.js';
import { always } from '../helpers/receivers.js';
import { useTestStack } from '../helpers/testStack.js';
import { reliabilityScale } from './helpers.js';

const SCALE = reliabilityScale();
const CORPUS_DIR = join(import.meta.dirname, '../fixtures/bad-events');
/** Files of the corpus folder that are not message bodies. */
const NOT_BODIES = new Set(['corpus.yaml', 'biome.json', '.gitattributes']);
/** What SQS accepts in a body or a string attribute (its documented character ranges). */
const SQS_TEXT = /^[\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;
const KIB = 1024;

interface ParkedExpectation {
  readonly reason: string;
  /** A fragment of the `detail` attribute. */
  readonly detail: string;
  readonly audit_id?: string;
}

/** One bad message and what must become of it. */
interface BadCase {
  readonly name: string;
  readonly why: string;
  readonly body: string;
  /** The SQS error SendMessage fails with; nothing enters the pipeline. */
  readonly refused?: string;
  readonly parked?: readonly ParkedExpectation[];
  /** audit_ids of good events in the same message. */
  readonly delivered?: readonly string[];
}

type CorpusEntry = Omit<BadCase, 'name' | 'body'>;

const corpus = parse(readFileSync(join(CORPUS_DIR, 'corpus.yaml'), 'utf8')) as Record<
  string,
  CorpusEntry
>;
const bodyFiles = readdirSync(CORPUS_DIR)
  .filter((file) => !NOT_BODIES.has(file))
  .sort();

/** The corpus files, decoded as UTF-8 the way an SDK turns bytes into a message body. */
const fileCases = (): BadCase[] =>
  bodyFiles.map((file) => ({
    name: file,
    ...corpus[file],
    why: corpus[file]?.why ?? '(not described in corpus.yaml)',
    body: readFileSync(join(CORPUS_DIR, file), 'utf8'),
  }));

/** An event whose JSON is exactly `bytes` long, padded with a `blob` field. */
const paddedEvent = (auditId: string, bytes: number): string => {
  const event = {
    audit_id: auditId,
    timestamp: '2026-04-17T10:15:03Z',
    event_kind: 'policy_block',
    severity: 'error',
    blob: '',
  };
  const overhead = Buffer.byteLength(JSON.stringify(event));
  return JSON.stringify({ ...event, blob: 'x'.repeat(bytes - overhead) });
};

const goodEvent = (auditId: string) => ({
  audit_id: auditId,
  timestamp: '2026-04-17T10:15:03Z',
  event_kind: 'policy_block',
  severity: 'info',
});

/** Cases too big to keep as files, built the same way on every run. */
const generatedCases = (): BadCase[] => {
  const atTheLimit = Array.from({ length: MAX_EVENTS_PER_MESSAGE }, (_, index) =>
    index % 2 === 0 ? goodEvent(`ae_good_at_limit_${index}`) : index,
  );
  return [
    {
      name: 'generated: a 2 MiB event',
      why: 'over the 1 MiB SQS message limit: SendMessage is refused, the producer must split or trim it',
      body: paddedEvent('ae_bad_2mib', 2 * 1024 * KIB),
      refused: 'InvalidParameterValue',
    },
    {
      name: 'generated: a 210 KiB event',
      why: 'over the 200 KiB event limit, under the message limit: parked whole',
      body: paddedEvent('ae_bad_210kib', 210 * KIB),
      parked: [
        {
          reason: 'too_large',
          detail: `the limit is ${MAX_EVENT_BYTES}`,
          audit_id: 'ae_bad_210kib',
        },
      ],
    },
    {
      name: 'generated: a 600 KiB event',
      why: 'accepted by SQS (1 MiB), too large to park whole: parked cut to fit, its size noted',
      body: paddedEvent('ae_bad_600kib', 600 * KIB),
      parked: [
        {
          reason: 'too_large',
          detail: `the limit is ${MAX_EVENT_BYTES}`,
          audit_id: 'ae_bad_600kib',
        },
      ],
    },
    {
      name: 'generated: an array of 100,000 numbers',
      why: 'one 200 KB message that would otherwise become 100,000 parked messages: parked whole',
      body: JSON.stringify(Array.from({ length: 100_000 }, () => 0)),
      parked: [
        {
          reason: 'too_many_events',
          detail: `holds 100000 items; the limit is ${MAX_EVENTS_PER_MESSAGE}`,
        },
      ],
    },
    {
      name: `generated: an array of ${MAX_EVENTS_PER_MESSAGE} items, every second one a number`,
      why: 'exactly at the limit: each bad item parked on its own, each good one delivered',
      body: JSON.stringify(atTheLimit),
      parked: atTheLimit
        .filter((item) => typeof item === 'number')
        .map((item) => ({
          reason: 'invalid_event',
          detail: `(root): an audit event must be a JSON object, got number ${item}`,
        })),
      delivered: atTheLimit.flatMap((item) => (typeof item === 'number' ? [] : [item.audit_id])),
    },
  ];
};

/** What became of one send of a case. */
interface Sent {
  readonly badCase: BadCase;
  readonly messageId?: string;
  /** The SQS error code, without the SDK's `AWS.SimpleQueueService.` prefix. */
  readonly error?: string;
  readonly errorMessage?: string;
}

const send = async (sqs: SQSClient, queueUrl: string, badCase: BadCase): Promise<Sent> => {
  try {
    const response = await sqs.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: badCase.body }),
    );
    return { badCase, ...(response.MessageId ? { messageId: response.MessageId } : {}) };
  } catch (error) {
    if (!(error instanceof Error)) return { badCase, error: String(error) };
    return {
      badCase,
      error: error.name.replace(/^AWS\.SimpleQueueService\./, ''),
      errorMessage: error.message,
    };
  }
};

/**
 * Mismatches between the expected parked messages of one send and those found. An expected
 * detail is a fragment of the parked one, and one detail can begin another ("got number 1",
 * "got number 191"); SQS hands messages out in no set order, so a parked message whose detail
 * is exactly the expected one is taken first.
 */
const compareParked = (sent: Sent, found: readonly QueuedMessage[]): string[] => {
  const expected = sent.badCase.parked ?? [];
  const unused = [...found];
  const problems: string[] = [];
  for (const expectation of expected) {
    const matches = (message: QueuedMessage, exactDetail: boolean) => {
      const detail = message.attributes.detail ?? '';
      return (
        message.attributes.reason === expectation.reason &&
        (exactDetail ? detail === expectation.detail : detail.includes(expectation.detail)) &&
        (expectation.audit_id === undefined || message.attributes.audit_id === expectation.audit_id)
      );
    };
    const exact = unused.findIndex((message) => matches(message, true));
    const index = exact === -1 ? unused.findIndex((message) => matches(message, false)) : exact;
    if (index === -1) {
      problems.push(`${sent.badCase.name}: no parked message like ${JSON.stringify(expectation)}`);
    } else {
      unused.splice(index, 1);
    }
  }
  for (const message of unused) {
    problems.push(`${sent.badCase.name}: unexpected parked ${JSON.stringify(message.attributes)}`);
  }
  return problems;
};

const stack = useTestStack();

describe('Function: the pipeline on the bad-event corpus', () => {
  it('has at least 25 malformed events as files, each described in corpus.yaml', () => {
    // Prepare
    const described = Object.keys(corpus).sort();

    // Act
    const undescribed = bodyFiles.filter((file) => corpus[file] === undefined);
    const withoutOutcome = described.filter(
      (file) =>
        corpus[file]?.refused === undefined &&
        (corpus[file]?.parked ?? []).length === 0 &&
        (corpus[file]?.delivered ?? []).length === 0,
    );

    // Assess
    expect(bodyFiles.length).toBeGreaterThanOrEqual(25);
    expect(undescribed).toEqual([]);
    expect(described).toEqual(bodyFiles);
    expect(withoutOutcome).toEqual([]);
  });

  it(`refuses or parks every bad message with its reason, at once, and delivers the good traffic (${SCALE.name}: ${SCALE.badRounds} round(s), ${SCALE.goodEventsPerRound} good events each)`, async () => {
    // Prepare
    const target = await stack.receiver(always({ status: 200 }));
    const harness: PipelineHarness = await stack.pipeline({
      yaml: exportsYaml([{ name: 'everything', url: `${target.url}/hook` }]),
      // A record that failed would come back quickly and show up as a retry.
      visibilityTimeoutSeconds: 5,
      deliveryConcurrency: 4,
    });
    const cases = [...fileCases(), ...generatedCases()];
    const expectedGood = new Set(cases.flatMap((badCase) => badCase.delivered ?? []));

    // Act
    const sends: Sent[] = [];
    for (let round = 0; round < SCALE.badRounds; round++) {
      const good = Array.from({ length: SCALE.goodEventsPerRound }, (_, index) =>
        goodEvent(`ae_good_r${round}_${index}`),
      );
      for (const event of good) expectedGood.add(event.audit_id);
      // Interleaved, so that bad and good messages share the ingest function's batches.
      const queue = [...cases];
      while (queue.length > 0 || good.length > 0) {
        const badCase = queue.shift();
        if (badCase) sends.push(await send(harness.sqs, harness.queues.ingest, badCase));
        const event = good.shift();
        if (event) await harness.pushEvents([event]);
      }
    }
    await harness.waitForIdle({ timeoutMs: 120_000 });
    const parked = await harness.drainIngestDlq();

    // Assess
    const parkedBySource = new Map<string, QueuedMessage[]>();
    for (const message of parked) {
      const source = message.attributes.source_message_id ?? '(none)';
      parkedBySource.set(source, [...(parkedBySource.get(source) ?? []), message]);
    }
    const problems = sends.flatMap((sent) => {
      const { badCase } = sent;
      if (badCase.refused !== undefined) {
        return sent.error === badCase.refused
          ? []
          : [`${badCase.name}: ${sent.error ?? 'accepted'} instead of ${badCase.refused}`];
      }
      if (sent.messageId === undefined) return [`${badCase.name}: refused with ${sent.error}`];
      return compareParked(sent, parkedBySource.get(sent.messageId) ?? []);
    });
    const deliveredIds = new Set(
      target.requests.map((request) => (JSON.parse(request.body) as { audit_id: string }).audit_id),
    );
    const reasons: Record<string, number> = {};
    for (const message of parked) {
      const reason = message.attributes.reason ?? '(none)';
      reasons[reason] = (reasons[reason] ?? 0) + 1;
    }
    const refused = sends.filter((sent) => sent.error !== undefined);
    const ingestStats = harness.pipeline.mappings[0]?.stats;
    console.log(
      [
        `bad events (${SCALE.name}): ${cases.length} bad messages x ${SCALE.badRounds} round(s) (${bodyFiles.length} files, ${cases.length - bodyFiles.length} generated), ${SCALE.goodEventsPerRound * SCALE.badRounds} good events alongside`,
        `refused by SQS at SendMessage: ${refused.length}`,
        ...[
          ...new Set(
            refused.map((sent) => `  ${sent.badCase.name}: ${sent.error} (${sent.errorMessage})`),
          ),
        ],
        `parked in the ingest DLQ: ${parked.length} ${JSON.stringify(reasons)}`,
        `good events delivered: ${[...expectedGood].filter((id) => deliveredIds.has(id)).length} of ${expectedGood.size}; ingest records retried: ${ingestStats?.failedRecords}`,
      ].join('\n'),
    );
    expect(problems).toEqual([]);
    expect(parked.filter((message) => message.attributes.reason === undefined)).toEqual([]);
    // Parked at once: no ingest record failed and came back.
    expect(ingestStats?.failedRecords).toBe(0);
    // Every parked message is one SQS takes, whatever the event held.
    const unsendable = parked.filter(
      (message) =>
        !SQS_TEXT.test(message.body) ||
        !Object.values(message.attributes).every((value) => SQS_TEXT.test(value)),
    );
    expect(unsendable).toEqual([]);
    // The 600 KiB event: cut to fit, its size noted.
    const cut = parked.find((message) => message.attributes.audit_id === 'ae_bad_600kib');
    expect(cut?.attributes).toMatchObject({ truncated: 'true', original_bytes: String(600 * KIB) });
    // Good events all arrive, bad ones never do.
    expect([...expectedGood].filter((id) => !deliveredIds.has(id))).toEqual([]);
    expect([...deliveredIds].filter((id) => !expectedGood.has(id))).toEqual([]);
  }, 300_000);
});
