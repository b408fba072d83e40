/**
 * A seeded pseudo-random generator (mulberry32, 32-bit state), so a run's drawn lags and jitters
 * can be replayed from its seed: the same seed gives the same sequence on every machine.
 */
export type Rng = () => number;

/** Uniform in [0, 1). */
export function seededRng(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
