/**
 * What one function instance remembers about the copies it handled, so that a copy arriving
 * again does not start a second retry chain or raise a second alert (issue 16).
 *
 * SQS is at least once: a copy comes back when its delete is lost, when its visibility ends
 * mid-request, when the same message is received twice, or when the write of its successor
 * was applied but reported as failed. Each copy has an identity (for a delivery: its
 * delivery_id, the attempts it carries and its replay); the ledger says whether a copy of that
 * identity was already settled here (a duplicate: drop it), is being handled right now (wait),
 * or was handled but its successor could not be written (replay what was decided, without
 * sending again).
 *
 * The memory is the instance's: on Lambda, one container; locally, the whole pipeline. A
 * duplicate that reaches another container is handled again; docs/architecture.md states that
 * bound and `test/reliability/faults.test.ts` measures it.
 */

/** What the ledger knows about a copy, as the caller claims it. */
type Claim<Pending> =
  | { readonly kind: 'new' }
  /** A copy with this identity was settled here: drop this one. */
  | { readonly kind: 'duplicate' }
  /** Another invocation of this instance is handling a copy with this identity now. */
  | { readonly kind: 'in_flight' }
  /** Handled here, but what followed could not be written: carry out `value` again. */
  | { readonly kind: 'pending'; readonly value: Pending };

/** Options of {@link CopyLedger}. */
interface CopyLedgerOptions {
  /**
   * How long a settled identity is remembered: longer than a queue's visibility timeout plus
   * SQS's longest message delay, so a returning duplicate is still known. @default 1 hour
   */
  readonly ttlMs?: number;
  /** Most settled identities kept; the oldest are forgotten first. @default 50,000 */
  readonly maxSettled?: number;
  /**
   * Most pending entries kept: as many as the largest batch of one invocation (a batched
   * export's event source hands 10,000 records at once), so one failed write of a whole batch
   * is remembered whole. Each holds an outcome without its event. @default 10,000
   */
  readonly maxPending?: number;
  /** Clock in milliseconds. @default Date.now */
  readonly now?: () => number;
}

const DEFAULTS = { ttlMs: 3_600_000, maxSettled: 50_000, maxPending: 10_000 } as const;

/** Drops expired entries from the front, then the oldest while over `max`. */
const prune = <V extends { readonly expiresAt: number }>(
  map: Map<string, V>,
  max: number,
  now: number,
): void => {
  for (const [key, entry] of map) {
    if (entry.expiresAt > now && map.size <= max) break;
    map.delete(key);
  }
};

/**
 * The copies an instance has settled, is handling, or could not finish writing.
 *
 * @example
 * const ledger = new CopyLedger<Outcome>();
 * const claim = ledger.claim(identity);
 * if (claim.kind === 'duplicate') return drop();
 * // ... handle it, then:
 * ledger.settled(identity); // or ledger.pending(identity, outcome), or ledger.release(identity)
 */
class CopyLedger<Pending = never> {
  readonly #ttlMs: number;
  readonly #maxSettled: number;
  readonly #maxPending: number;
  readonly #now: () => number;
  readonly #settled = new Map<string, { readonly expiresAt: number }>();
  readonly #pending = new Map<string, { readonly expiresAt: number; readonly value: Pending }>();
  readonly #inFlight = new Set<string>();

  constructor(options: CopyLedgerOptions = {}) {
    this.#ttlMs = options.ttlMs ?? DEFAULTS.ttlMs;
    this.#maxSettled = options.maxSettled ?? DEFAULTS.maxSettled;
    this.#maxPending = options.maxPending ?? DEFAULTS.maxPending;
    this.#now = options.now ?? Date.now;
  }

  /** Claims a copy: what is known about its identity. A `new` or `pending` claim is in flight. */
  claim(identity: string): Claim<Pending> {
    const now = this.#now();
    const settled = this.#settled.get(identity);
    if (settled !== undefined && settled.expiresAt > now) return { kind: 'duplicate' };
    if (this.#inFlight.has(identity)) return { kind: 'in_flight' };
    this.#inFlight.add(identity);
    const pending = this.#pending.get(identity);
    if (pending !== undefined && pending.expiresAt > now) {
      return { kind: 'pending', value: pending.value };
    }
    return { kind: 'new' };
  }

  /** The copy is settled for good (delivered, or what follows it written): later ones are duplicates. */
  settled(identity: string): void {
    const now = this.#now();
    this.#inFlight.delete(identity);
    this.#pending.delete(identity);
    this.#settled.delete(identity);
    this.#settled.set(identity, { expiresAt: now + this.#ttlMs });
    prune(this.#settled, this.#maxSettled, now);
  }

  /** The copy was handled, but `value` could not be carried out: the next copy replays it. */
  pending(identity: string, value: Pending): void {
    const now = this.#now();
    this.#inFlight.delete(identity);
    this.#pending.delete(identity);
    this.#pending.set(identity, { expiresAt: now + this.#ttlMs, value });
    prune(this.#pending, this.#maxPending, now);
  }

  /** Nothing was settled (deferred, held, failed unexpectedly): forget the claim. */
  release(identity: string): void {
    this.#inFlight.delete(identity);
  }
}

export type { Claim, CopyLedgerOptions };
export { CopyLedger };
