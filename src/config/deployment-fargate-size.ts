import type { Validator } from './deployment-validator.js';

/** Fargate's valid memory sizes (MiB) per CPU unit count. */
const FARGATE_MEMORY: ReadonlyMap<number, readonly number[]> = new Map([
  [256, [512, 1024, 2048]],
  [512, range(1024, 4096, 1024)],
  [1024, range(2048, 8192, 1024)],
  [2048, range(4096, 16384, 1024)],
  [4096, range(8192, 30720, 1024)],
  [8192, range(16384, 61440, 4096)],
  [16384, range(32768, 122880, 8192)],
]);

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v += step) out.push(v);
  return out;
}

/**
 * Whether Fargate offers `cpu` units with `memory` MiB (the job tasks' and every archiver's size).
 * Reports the CPU at `cpuPath` or the memory at `memoryPath`, with the sizes allowed, when not.
 */
export function checkFargateSize(
  v: Validator,
  cpu: number,
  memory: number,
  memoryPath: string,
  cpuPath: string,
): boolean {
  const sizes = FARGATE_MEMORY.get(cpu);
  if (!sizes) {
    v.fail(cpuPath, `${cpu} is not a Fargate CPU size; use one of ${[...FARGATE_MEMORY.keys()].join(', ')}`);
    return false;
  }
  if (!sizes.includes(memory)) {
    const list =
      sizes.length <= 4
        ? sizes.join(', ')
        : `${sizes[0]} to ${sizes[sizes.length - 1]} in steps of ${sizes[1]! - sizes[0]!}`;
    v.fail(memoryPath, `${memory} MiB is not valid with ${cpu} CPU units on Fargate; use ${list}`);
    return false;
  }
  return true;
}
