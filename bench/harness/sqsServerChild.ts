/**
 * Child process: the embedded SQS server (`local/sqsServer.ts`, in memory) on 127.0.0.1, in a
 * process of its own so that its CPU time can be told apart from the pipeline's.
 */
import { type EmbeddedSqsServer, startEmbeddedSqs } from '../../local/sqsServer.js';
import { processUsage } from './measure.js';
import { serveParent } from './rpc.js';

let server: EmbeddedSqsServer | undefined;

serveParent({
  start: async () => {
    server ??= await startEmbeddedSqs();
    return server.endpoint;
  },
  usage: () => processUsage(),
});
