/**
 * Where a body template's output goes while it renders: a buffer that refuses to grow past a
 * byte limit, so a template that writes `{{ event_json }}` inside a loop over 2,000 tags
 * stops at the limit instead of building a body of hundreds of megabytes. Liquid's own
 * `memoryLimit` counts what filters allocate, not what is written, so the output needs a
 * bound of its own. The same emitter backs `{% capture %}` (captured text is output kept for
 * later), and, when a rendered body turns out not to be JSON, finds which part of the
 * template wrote the offending byte (see {@link LocatingEmitter}).
 */
import { DEFAULTS } from '../config/types.js';
import { asText } from './templateFilters.js';

/** Default `webhook.max_body_bytes`: 1 MiB. */
const DEFAULT_MAX_BODY_BYTES: number = DEFAULTS.maxBodyBytes;

/** The output passed its byte limit; thrown from `write`, so rendering stops right there. */
class BodyLimitError extends Error {
  /** The limit, in bytes. */
  readonly limitBytes: number;
  /** What passed it: the body, or text a `{% capture %}` was keeping. */
  readonly what: 'body' | 'capture';

  constructor(limitBytes: number, what: 'body' | 'capture') {
    super(
      what === 'body'
        ? `the rendered body passed the export's limit of ${limitBytes} bytes`
        : `text captured by {% capture %} passed the export's limit of ${limitBytes} bytes`,
    );
    this.name = 'BodyLimitError';
    this.limitBytes = limitBytes;
    this.what = what;
  }
}

/**
 * A Liquid emitter with a byte limit. Values that are not strings (`{% echo %}` of an object
 * with `format: text`) are written as JSON, never as `[object Object]`.
 */
class BodyEmitter {
  /** What was written so far; never more than `limitBytes` bytes of UTF-8. */
  buffer = '';
  readonly limitBytes: number;
  readonly #what: 'body' | 'capture';
  /**
   * An upper bound of the bytes written while far from the limit: 3 per UTF-16 unit (a
   * surrogate pair, 2 units, is 4 bytes). Counting exactly costs a `Buffer.byteLength` per
   * piece of output, a visible share of a delivery (npm run bench, figure 4b), so it starts
   * only once the bound could pass the limit.
   */
  #boundBytes = 0;
  /** Exact bytes written, once counting exactly has started. */
  #exactBytes: number | undefined;

  constructor(limitBytes: number, what: 'body' | 'capture' = 'body') {
    this.limitBytes = limitBytes;
    this.#what = what;
  }

  /** UTF-8 bytes written so far. */
  get bytes(): number {
    return this.#exactBytes ?? Buffer.byteLength(this.buffer, 'utf8');
  }

  /** Called by Liquid for every piece of output. */
  write(value: unknown): void {
    const text = asText(value);
    if (text === '') return;
    if (this.#exactBytes === undefined) {
      const bound = this.#boundBytes + text.length * 3;
      if (bound <= this.limitBytes) {
        this.#boundBytes = bound;
        this.buffer += text;
        return;
      }
      this.#exactBytes = Buffer.byteLength(this.buffer, 'utf8');
    }
    // Checked before appending: the buffer never holds more than the limit.
    const bytes = Buffer.byteLength(text, 'utf8');
    if (this.#exactBytes + bytes > this.limitBytes)
      throw new BodyLimitError(this.limitBytes, this.#what);
    this.#exactBytes += bytes;
    this.buffer += text;
  }
}

/** Thrown by {@link LocatingEmitter} once it knows which template offset wrote its target. */
class LocatedOutput extends Error {
  readonly sourceOffset: number;

  constructor(sourceOffset: number) {
    super('located');
    this.name = 'LocatedOutput';
    this.sourceOffset = sourceOffset;
  }
}

/**
 * An emitter for a second render of a body that is not JSON: told by each template node
 * where it starts ({@link LocatingEmitter.at}), it stops at the write that reaches the body
 * offset of the problem and reports the template offset that wrote it. Keeping a map for
 * every render would cost memory on the hot path; the problem path can afford a render more.
 */
class LocatingEmitter extends BodyEmitter {
  readonly #target: number;
  #source = 0;
  #verbatim = false;

  constructor(limitBytes: number, targetOffset: number) {
    super(limitBytes);
    this.#target = targetOffset;
  }

  /**
   * The node about to write starts at `sourceOffset` of the (rewritten) template; `verbatim`
   * when it writes that source text as is (literal text), so an offset inside it maps 1:1.
   */
  at(sourceOffset: number, verbatim: boolean): void {
    this.#source = sourceOffset;
    this.#verbatim = verbatim;
  }

  override write(value: unknown): void {
    const before = this.buffer.length;
    super.write(value);
    if (this.buffer.length > this.#target) {
      throw new LocatedOutput(
        this.#verbatim ? this.#source + (this.#target - before) : this.#source,
      );
    }
  }
}

export { BodyEmitter, BodyLimitError, DEFAULT_MAX_BODY_BYTES, LocatedOutput, LocatingEmitter };
