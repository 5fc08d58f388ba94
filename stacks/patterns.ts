/**
 * What AWS accepts, as patterns and tables that more than one part of the app checks: the
 * notebook stack's variables, the synth-time settings and the team files.
 */

/** An AWS region name. */
export const REGION_RE = "^[a-z]{2,4}(-[a-z]+)+-[0-9]+$";

/** An image tag. */
export const TAG_RE = "^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$";

/** Fargate's CPU units and the memory (MiB) each offers. */
export const FARGATE_MEMORY: Record<number, number[]> = {
  256: [512, 1024, 2048],
  512: range(1024, 4096, 1024),
  1024: range(2048, 8192, 1024),
  2048: range(4096, 16384, 1024),
  4096: range(8192, 30720, 1024),
  8192: range(16384, 61440, 4096),
  16384: range(32768, 122880, 8192),
};
export const FARGATE_TABLE_TEXT =
  "256: 512, 1024, 2048; 512: 1024-4096; 1024: 2048-8192; 2048: 4096-16384 (steps of 1024); " +
  "4096: 8192-30720 (steps of 1024); 8192: 16384-61440 (steps of 4096); 16384: 32768-122880 (steps of 8192)";

/** Retention values CloudWatch Logs accepts (0: never expire). */
export const LOG_RETENTION_DAYS = [
  0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v += step) out.push(v);
  return out;
}
