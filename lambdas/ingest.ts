/**
 * The ingest function's entry point, triggered by the ingest queue. Wiring only: the handler is
 * shared/handlers/ingest.ts, built once per container from the environment the stack sets.
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createIngestHandler } from '../shared/handlers/ingest.js';
import { runtimeFromEnvironment } from './runtime.js';

let instance: ReturnType<typeof createIngestHandler> | undefined;

/** The Lambda entry point; dependencies are built on the first invocation of a container. */
const handler = (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  instance ??= createIngestHandler(runtimeFromEnvironment());
  return instance(event, context);
};

export { handler };
