/**
 * Whatever validate accepts as a header value can be sent: random values that `parseConfig`
 * accepts go through `prepareRequest` and the real HTTP client to a receiver on 127.0.0.1 and
 * arrive unchanged.
 */
import fc from 'fast-check';
import { parseConfig } from '../../shared/config/index.js';
import { prepareRequest } from '../../shared/request/prepareRequest.js';
import { createHttpClient, type HttpClient } from '../../shared/transport/http.js';
import { auditEvent } from '../helpers/pipeline.js';
import { type Receiver, startReceiver } from '../helpers/receivers.js';

const anyValue = fc.oneof(
  fc.string({ unit: 'binary-ascii', maxLength: 64 }),
  fc.string({ unit: 'binary', maxLength: 16 }),
  fc.string({ unit: fc.constantFrom('a', ' ', '\t', '"', '\\', ':', ';', 'é', '\x7f') }),
);

describe('Function: parseConfig() and the HTTP client, on header values', () => {
  let receiver: Receiver;
  let client: HttpClient;

  beforeAll(async () => {
    receiver = await startReceiver({ status: 200 });
    client = createHttpClient();
  });

  afterAll(async () => {
    await client.close();
    await receiver.close();
  });

  it('sends every header value validate accepts, unchanged', async () => {
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(
        anyValue.filter((value) => !value.includes('$')),
        async (value) => {
          // Prepare
          const text = JSON.stringify({
            exports: [
              {
                name: 'alerts',
                destination: 'webhook',
                webhook: { url: `${receiver.url}/in`, headers: { 'X-Note': value } },
              },
            ],
          });
          const { config } = await parseConfig(text, 'x.yaml');
          const exportConfig = config?.exports[0];
          if (exportConfig === undefined) return;

          // Act
          const request = await prepareRequest(exportConfig, auditEvent(), {});
          const result = await client.send(request);
          sent += 1;

          // Assess: HTTP drops whitespace around a value (RFC 9110 OWS), nothing else.
          expect(result).toMatchObject({ status: 200 });
          expect(result.errorClass).toBeUndefined();
          expect(receiver.requests.at(-1)?.headers['x-note']).toBe(
            value.replace(/^[\t ]+|[\t ]+$/g, ''),
          );
        },
      ),
      { numRuns: 150 },
    );
    // Enough of the values were accepted for the property to say something.
    expect(sent).toBeGreaterThan(20);
  });
});
