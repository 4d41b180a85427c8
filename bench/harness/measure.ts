/** Measuring a process: CPU time, resident memory sampled while a phase runs, wall time. */

/** What a process has used so far. */
interface ProcessUsage {
  /** User + system CPU time since the process started. */
  readonly cpuSeconds: number;
  /** Largest resident set so far (the kernel's high-water mark). */
  readonly maxRssMb: number;
}

/** This process's usage. */
const processUsage = (): ProcessUsage => {
  const cpu = process.cpuUsage();
  return {
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
  };
};

/**
 * Samples `process.memoryUsage.rss()` every few milliseconds while a phase runs, and keeps the
 * largest value (the kernel's high-water mark covers the whole process life, set-up included).
 *
 * @example
 * const sampler = RssSampler.start();
 * await work();
 * const { peakBytes, startBytes } = sampler.stop();
 */
class RssSampler {
  readonly startBytes: number;
  #peakBytes: number;
  readonly #timer: NodeJS.Timeout;

  private constructor(intervalMs: number) {
    this.startBytes = process.memoryUsage.rss();
    this.#peakBytes = this.startBytes;
    this.#timer = setInterval(() => this.#sample(), intervalMs);
    this.#timer.unref();
  }

  static start(intervalMs = 20): RssSampler {
    return new RssSampler(intervalMs);
  }

  #sample(): void {
    this.#peakBytes = Math.max(this.#peakBytes, process.memoryUsage.rss());
  }

  /** Stops sampling; returns the RSS at the start and the peak seen. */
  stop(): { startBytes: number; peakBytes: number } {
    this.#sample();
    clearInterval(this.#timer);
    return { startBytes: this.startBytes, peakBytes: this.#peakBytes };
  }
}

/**
 * Runs `work` and returns its result, the wall time it took and the CPU time this process
 * spent meanwhile (milliseconds). On a shared machine the CPU time is the steadier of the two.
 */
const timed = async <T>(
  work: () => Promise<T>,
): Promise<{ result: T; ms: number; cpuMs: number }> => {
  const cpuBefore = process.cpuUsage();
  const startedAt = performance.now();
  const result = await work();
  const ms = performance.now() - startedAt;
  const cpu = process.cpuUsage(cpuBefore);
  return { result, ms, cpuMs: (cpu.user + cpu.system) / 1000 };
};

/** Polls `condition` every `intervalMs` until it holds; throws after `timeoutMs`. */
const waitFor = async (
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 120_000,
  intervalMs = 25,
): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
};

export type { ProcessUsage };
export { processUsage, RssSampler, timed, waitFor };
