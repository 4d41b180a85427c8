/**
 * Secrets echoed by a real receiver never leave in pieces: the receiver on 127.0.0.1 quotes the
 * request back (a 404 page with the path, the query, the body and the Authorization header),
 * with the 1 KiB snippet cut falling inside the secrets (the HTTP client's own cap is covered by
 * the property in test/unit/masking.test.ts). The
 * dead letter, the `webhook.dlq` event delivered to a second export, every notice and SQS call,
 * and `test-export`'s and `render`'s output hold no run of 6 characters of a secret.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runRender } from '../../cli/render.js';
import { runTestExport } from '../../cli/testExport.js';
import type { DeadLetter } from '../../shared/pipeline/messages/index.js';
import { EnvSecretResolver } from '../../shared/secrets/resolvers.js';
import { createHttpClient } from '../../shared/transport/http.js';
import { auditEvent, cleanupStack, startPipeline, waitUntil } from '../helpers/pipeline.js';
import { type Receiver, type RecordedRequest, startReceiver } from '../helpers/receivers.js';

const TOKEN = 'a&b=1#tok-5eCr3t-Value-0123456789';
const SEGMENTS = ['T0SECRET1', 'B0SECRET2', 'XXXXyyyyZZZZ00001111'];

const cleanup = cleanupStack();
afterEach(async () => {
  await cleanup.run();
});

/** Every run of 6 characters of the secrets and their URL forms. */
const secretRuns = (hookUrl: string): string[] =>
  [
    TOKEN,
    encodeURIComponent(TOKEN),
    hookUrl.slice(hookUrl.indexOf('/services')),
    ...SEGMENTS,
  ].flatMap((secret) =>
    Array.from({ length: secret.length - 5 }, (_, at) => secret.slice(at, at + 6)),
  );

const leakIn = (text: string, hookUrl: string): string | undefined =>
  secretRuns(hookUrl).find((run) => text.includes(run));

/**
 * Quotes the request back after `padding` characters: what frameworks' error pages do. With
 * the padding chosen, the cut (1 KiB snippet, 64 KiB read) falls inside the quoted secrets.
 */
const echoing = (padding: number) => (_index: number, request: RecordedRequest) => ({
  status: 404,
  body: `${'.'.repeat(padding)}Cannot POST ${request.url} auth=${String(request.headers.authorization)} body=${request.body}`,
});

const receiver = async (...args: Parameters<typeof startReceiver>): Promise<Receiver> =>
  cleanup.add(await startReceiver(...args), (started) => started.close());

const yamlFor = (watcher: Receiver) => `
exports:
  - name: leaky
    destination: webhook
    webhook:
      url: "\${HOOK_URL}?k=\${TOKEN}"
      headers:
        Authorization: "Token token=\${TOKEN}"
      body_template: '{"routing_key": "\${TOKEN}", "summary": "{{event_kind}}"}'
    filters:
      event_kinds: [policy_block]
    retry:
      max_attempts: 1
  - name: dlq-watch
    destination: webhook
    webhook:
      url: "${watcher.url}/dlq"
    filters:
      event_kinds: [webhook.dlq]
`;

describe('Secrets echoed by a receiver', () => {
  it.each([
    ['the 1 KiB snippet cut', 1024 - 'Cannot POST /services/T0SEC'.length],
    [
      'the 1 KiB snippet cut, in the query token',
      1024 - `Cannot POST /services/${SEGMENTS.join('/')}?k=a%26b%3D1%23tok-5e`.length,
    ],
  ])(
    'leave nothing in the dead letter, webhook.dlq, notices or SQS calls when %s falls inside them',
    async (_case, padding) => {
      // Prepare
      const leaky = await receiver(echoing(padding));
      const watcher = await receiver({ status: 200 });
      const hookUrl = `${leaky.url}/services/${SEGMENTS.join('/')}`;
      const harness = cleanup.add(
        await startPipeline({
          yaml: yamlFor(watcher),
          secrets: new EnvSecretResolver({ HOOK_URL: hookUrl, TOKEN }),
        }),
        (started) => started.stop(),
      );

      // Act
      await harness.pushEvents([auditEvent()]);
      await waitUntil(() => watcher.requests.length >= 1, { what: 'the webhook.dlq delivery' });
      await harness.waitForIdle();

      // Assess: the token stayed one query value.
      const sent = new URL(leaky.requests[0]?.url ?? '', 'http://x');
      expect([...sent.searchParams.entries()]).toEqual([['k', TOKEN]]);
      // Assess: nothing of a secret anywhere it is kept.
      const archive = await harness.drainArchive();
      const letter = archive[0]?.json as DeadLetter;
      expect(letter.response_snippet).toContain('Cannot POST ***');
      const dlq = watcher.requests[0]?.body ?? '';
      expect(JSON.parse(dlq)).toMatchObject({ event_kind: 'webhook.dlq', export: 'leaky' });
      for (const text of [
        JSON.stringify(letter),
        dlq,
        JSON.stringify(harness.notices),
        JSON.stringify(harness.calls),
      ]) {
        expect(leakIn(text, hookUrl)).toBeUndefined();
      }
    },
  );

  it('leave nothing in test-export or render output', async () => {
    // Prepare
    const leaky = await receiver(echoing(3000));
    const watcher = await receiver({ status: 200 });
    const hookUrl = `${leaky.url}/services/${SEGMENTS.join('/')}`;
    const dir = await mkdtemp(join(tmpdir(), 'secret-masking-'));
    cleanup.add(dir, (path) => rm(path, { recursive: true, force: true }));
    const config = join(dir, 'observability.yaml');
    await writeFile(config, yamlFor(watcher));
    const http = cleanup.add(createHttpClient(), (client) => client.close());
    const lines: string[] = [];
    const output = {
      out: (line: string) => lines.push(line),
      err: (line: string) => lines.push(line),
    };
    const env = { HOOK_URL: hookUrl, TOKEN };

    // Act
    const tested = await runTestExport(
      { export: 'leaky', config, env, dotEnvPath: join(dir, '.env') },
      output,
      { http },
    );
    const rendered = await runRender(
      { export: 'leaky', config, env, dotEnvPath: join(dir, '.env') },
      output,
    );

    // Assess
    expect(tested).toBe(1);
    expect(rendered).toBe(0);
    expect(leaky.requests).toHaveLength(1);
    const printed = lines.join('\n');
    expect(printed).toContain('Cannot POST ***');
    expect(leakIn(printed, hookUrl)).toBeUndefined();
  });
});
