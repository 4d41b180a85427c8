/** The machine a run was measured on, as the README states it. */
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg, totalmem } from 'node:os';

interface MachineInfo {
  /** `nproc`: CPUs this process may use. */
  readonly cpus: number;
  readonly cpuModel: string;
  /** Total memory, as `free -h` reports it (GiB). */
  readonly memoryGiB: number;
  readonly node: string;
  readonly platform: string;
  /** 1-minute load average when the run started: other work on the machine skews timings. */
  readonly loadAverageAtStart: number;
}

const cpuModel = (): string => {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((text) => text.startsWith('model name'));
    return line?.split(':')[1]?.trim() ?? 'unknown';
  } catch {
    return 'unknown';
  }
};

/** Describes this machine. */
const machineInfo = (): MachineInfo => ({
  cpus: availableParallelism(),
  cpuModel: cpuModel(),
  memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
  loadAverageAtStart: Math.round((loadavg()[0] ?? 0) * 100) / 100,
});

/** One line, e.g. `2 CPUs (AMD EPYC), 23.4 GiB RAM, Node v22.23.3, linux x64`. */
const describeMachine = (machine: MachineInfo): string =>
  `${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memoryGiB} GiB RAM, Node ${machine.node}, ${machine.platform}; load average ${machine.loadAverageAtStart} at start`;

export type { MachineInfo };
export { describeMachine, machineInfo };
