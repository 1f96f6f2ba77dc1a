// How many random cases a property-based test runs: a smoke share of them in `npm test` (fast, and the
// same fixed seed, so the first cases of the full run), every one under `npm run test:fuzz` (FUZZ=full).

/** One case in SMOKE_SHARE runs in `npm test`. */
const SMOKE_SHARE = 10;

export const FULL_FUZZ = process.env.FUZZ === 'full';

/** `full` cases under FUZZ=full; otherwise a tenth of them, at least `min`. */
export function fuzzRuns(full: number, min = 5): number {
  return FULL_FUZZ ? full : Math.min(full, Math.max(min, Math.ceil(full / SMOKE_SHARE)));
}
