/**
 * Paces one export's requests to its `rate_limit_per_second`, in one process. A token bucket
 * of one token (no bursts): consecutive sends are at least `1 / rate` seconds apart.
 *
 * The worker never sleeps for long: a send whose slot is more than `maxWaitMs` away is not
 * made now. Its slot is booked instead, and the record goes back to its queue until then (no
 * attempt spent). The booking makes the records of a burst come back spread out, one per
 * slot, instead of all at once to be deferred again:
 * - a record that returns to the process that booked its slot claims it (by message id);
 * - a record that returns to another instance (Lambda picks any) claims any booking there that
 *   is already due and unclaimed, so bookings and returns balance out across instances;
 * - bookings nobody claimed within a grace period are forgotten (the slot goes unused, which
 *   only ever lowers the rate).
 *
 * Every granted send still respects the spacing after the previous one, so however records
 * come and go, one process never sends more than one request per `1 / rate` seconds.
 */

/** The answer to "may I send now?". */
type RateDecision =
  | {
      readonly granted: true;
      /** Wait this long (at most `maxWaitMs`) before sending. */
      readonly waitMs: number;
    }
  | {
      readonly granted: false;
      /** The booked slot is this far away: hide the record until then. */
      readonly retryInMs: number;
    };

/** How long a booking stays claimable after its slot (a deferred record comes back late). */
const BOOKING_GRACE_MS = 30_000;

/**
 * One export's pacing in one process.
 *
 * @example
 * const limiter = new RateLimiter(2); // 2 requests per second from this process
 * const decision = limiter.acquire(record.messageId, { maxWaitMs: 500, returning: false });
 */
class RateLimiter {
  readonly intervalMs: number;
  /** When the last granted send goes (or went) out. */
  #lastSendAt = Number.NEGATIVE_INFINITY;
  /** The slot after the last booked or granted one. */
  #nextFreeAt = Number.NEGATIVE_INFINITY;
  /** Booked slots by message id, in booking order (so also in slot order). */
  readonly #bookings = new Map<string, number>();

  constructor(
    readonly ratePerSecond: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!(ratePerSecond > 0) || !Number.isFinite(ratePerSecond)) {
      throw new RangeError(`a rate limit must be a positive number, got ${ratePerSecond}`);
    }
    this.intervalMs = 1000 / ratePerSecond;
  }

  /** Slots booked and not yet claimed or forgotten. */
  get bookings(): number {
    return this.#bookings.size;
  }

  /**
   * Asks for a slot for the record `key` (its SQS message id). `returning` says the record has
   * been received before (it may hold a booking made by another instance).
   */
  acquire(
    key: string,
    options: { readonly maxWaitMs: number; readonly returning: boolean },
  ): RateDecision {
    const now = this.now();
    this.#forgetStale(now);
    const own = this.#bookings.get(key);
    const borrowed =
      own === undefined && options.returning ? this.#dueBooking(now, options.maxWaitMs) : undefined;
    const claimKey = own === undefined ? borrowed?.key : key;
    const booked = own ?? borrowed?.slot;
    const slot = booked ?? Math.max(now, this.#nextFreeAt);
    const sendAt = Math.max(now, slot, this.#lastSendAt + this.intervalMs);
    if (sendAt - now <= options.maxWaitMs) {
      if (claimKey !== undefined) this.#bookings.delete(claimKey);
      this.#lastSendAt = sendAt;
      this.#nextFreeAt = Math.max(this.#nextFreeAt, sendAt + this.intervalMs);
      return { granted: true, waitMs: sendAt - now };
    }
    if (booked === undefined) {
      this.#bookings.set(key, slot);
      this.#nextFreeAt = slot + this.intervalMs;
    }
    return { granted: false, retryInMs: sendAt - now };
  }

  /** The earliest booking that is due within `maxWaitMs` (its record went elsewhere). */
  #dueBooking(now: number, maxWaitMs: number): { key: string; slot: number } | undefined {
    for (const [key, slot] of this.#bookings) {
      if (slot - now <= maxWaitMs) return { key, slot };
      // Bookings are in slot order: none later can be due.
      return undefined;
    }
    return undefined;
  }

  #forgetStale(now: number): void {
    for (const [key, slot] of this.#bookings) {
      if (slot >= now - BOOKING_GRACE_MS) return;
      this.#bookings.delete(key);
    }
  }
}

export type { RateDecision };
export { BOOKING_GRACE_MS, RateLimiter };
