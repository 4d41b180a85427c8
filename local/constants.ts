/** Settings of the local stack that commands need without loading the stack itself. */

/** Default port of the embedded SQS server, like other local AWS emulators. */
const DEFAULT_PORT = 4566;

/** The local stage name: queue names read `tappass-local-…`. */
const LOCAL_STAGE = 'local';

export { DEFAULT_PORT, LOCAL_STAGE };
