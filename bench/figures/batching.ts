/**
 * Figure: requests per event for a batched export (`batch: { max_events: 100 }`, an archive
 * such as the S3 bridge), next to an unbatched export taking the same events, on the local
 * pipeline end to end (the real handlers behind event source mappings with Lambda's semantics,
 * on the embedded SQS server, with its batching window). Counts only, not durations: requests
 * and events as the receivers saw them.
 */
import { LocalPipeline } from '../../local/pipeline.js';
import { startReceiver } from '../../local/receivers.js';
import { localSqsClient, startEmbeddedSqs } from '../../local/sqsServer.js';
import { formatIssue, parseConfig } from '../../shared/config/index.js';
import { sendMessages } from '../../shared/sqs/queues.js';
import { num } from '../format.js';
import { benchEvent, benchSecrets } from '../harness/fixtures.js';
import { waitFor } from '../harness/measure.js';
import type { FigureOutput } from '../report.js';
import { verdict } from '../report.js';
import type { BenchSettings } from '../settings.js';

/** Events of the run: the figure is about counts, a couple of thousand show them well. */
const MAX_EVENTS = 2_000;
const MAX_EVENTS_PER_REQUEST = 100;
const BATCHING_WINDOW_SECONDS = 1;
/** Producers batch too: events per ingest message. */
const EVENTS_PER_MESSAGE = 10;
/** Goal: a batched export needs at most this many requests per event. */
const GOAL_REQUESTS_PER_EVENT = 0.05;
const SETTLE_TIMEOUT_MS = 180_000;

const configYaml = (plainUrl: string, archiveUrl: string): string =>
  [
    'exports:',
    '  - name: siem-events',
    '    destination: webhook',
    `    webhook: { url: "${plainUrl}/events" }`,
    '  - name: siem-archive',
    '    destination: webhook',
    `    webhook: { url: "${archiveUrl}/bulk" }`,
    `    batch: { max_events: ${MAX_EVENTS_PER_REQUEST}, max_wait_seconds: ${BATCHING_WINDOW_SECONDS} }`,
  ].join('\n');

const run = async (settings: BenchSettings): Promise<FigureOutput> => {
  const eventCount = Math.min(settings.batchingEvents, MAX_EVENTS);
  const server = await startEmbeddedSqs();
  const sqs = localSqsClient(server.endpoint);
  const plain = await startReceiver({ status: 200 });
  const archive = await startReceiver({ status: 200 });
  let pipeline: LocalPipeline | undefined;
  try {
    const { config, issues } = await parseConfig(configYaml(plain.url, archive.url), 'bench.yaml');
    if (!config) throw new Error(issues.map(formatIssue).join('\n'));
    pipeline = await LocalPipeline.start({ sqs, config, secrets: benchSecrets() });
    const events = Array.from({ length: eventCount }, (_, index) => benchEvent(index));
    const bodies = [];
    for (let start = 0; start < events.length; start += EVENTS_PER_MESSAGE) {
      bodies.push(JSON.stringify(events.slice(start, start + EVENTS_PER_MESSAGE)));
    }
    const { failed } = await sendMessages(
      sqs,
      pipeline.queues.ingest,
      bodies.map((body, index) => ({ id: String(index), body })),
    );
    if (failed.length > 0) throw new Error(`SQS refused ${failed.length} ingest messages`);

    const archived = () =>
      archive.requests.reduce((sum, request) => sum + (JSON.parse(request.body) as []).length, 0);
    await waitFor(
      () => plain.requests.length >= eventCount && archived() >= eventCount,
      'every event at both receivers',
      SETTLE_TIMEOUT_MS,
      100,
    );

    const archiveRequests = archive.requests.length;
    const archivedEvents = archived();
    const batchedPerEvent = archiveRequests / archivedEvents;
    const plainPerEvent = plain.requests.length / eventCount;
    const bytes = archive.requests.reduce((sum, request) => sum + request.body.length, 0);
    return {
      rows: [
        {
          figure: '9',
          name: `Requests per event, batched export (max_events ${MAX_EVENTS_PER_REQUEST}, window ${BATCHING_WINDOW_SECONDS} s)`,
          measured: `${num(batchedPerEvent, 3)} req/event (${archiveRequests} requests for ${archivedEvents} events)`,
          baseline: `${num(plainPerEvent, 2)} req/event (the same events, unbatched export)`,
          result: `${num(archivedEvents / archiveRequests, 1)} events/request`,
          value: batchedPerEvent,
          goal: `<= ${GOAL_REQUESTS_PER_EVENT} req/event`,
          verdict: verdict(
            batchedPerEvent <= GOAL_REQUESTS_PER_EVENT && archivedEvents === eventCount,
          ),
        },
      ],
      details: {
        events: eventCount,
        eventsPerIngestMessage: EVENTS_PER_MESSAGE,
        maxEventsPerRequest: MAX_EVENTS_PER_REQUEST,
        batchingWindowSeconds: BATCHING_WINDOW_SECONDS,
        batchedRequests: archiveRequests,
        batchedEvents: archivedEvents,
        eventsPerBatchedRequest: archive.requests.map(
          (request) => (JSON.parse(request.body) as []).length,
        ),
        averageBatchedBodyBytes: bytes / Math.max(1, archiveRequests),
        unbatchedRequests: plain.requests.length,
        note: 'duplicates (at-least-once) would show as more events than pushed; the verdict requires exactly the pushed count',
      },
    };
  } finally {
    await pipeline?.stop();
    await Promise.all([plain.close(), archive.close()]);
    sqs.destroy();
    await server.stop();
  }
};

export { run };
