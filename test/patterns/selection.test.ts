// Pattern selection policies, checked statistically: over many draws the
// frequencies match the policy (chi-square goodness of fit).
import { describe, expect, it } from 'vitest';
import { choosePattern, smoothedSuccessRate, type Candidate } from '../../core/patterns/selection';

/** Mulberry32: a seeded source, so the test is repeatable and can still fail for a wrong policy. */
function seeded(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const c = (name: string, successCount: number, failureCount: number, extra: Partial<Candidate> = {}): Candidate => ({
  id: name, name, isDefault: false, priority: 0, successCount, failureCount, ...extra,
});

/** Chi-square statistic of observed counts against expected probabilities. */
function chiSquare(observed: number[], expectedP: number[], n: number): number {
  return observed.reduce((sum, o, i) => sum + (o - expectedP[i]! * n) ** 2 / (expectedP[i]! * n), 0);
}
// Critical values at p = 0.001 for 2 and 3 degrees of freedom.
const CRITICAL = { 2: 13.82, 3: 16.27 } as const;

function draw(cands: Candidate[], policy: 'random' | 'success_weighted', n: number, seed: number): number[] {
  const random = seeded(seed);
  const counts = new Map(cands.map((x) => [x.id, 0]));
  for (let i = 0; i < n; i++) {
    const chosen = choosePattern(cands, policy, random);
    counts.set(chosen.id, counts.get(chosen.id)! + 1);
  }
  return cands.map((x) => counts.get(x.id)!);
}

describe('selection policies', () => {
  const cands = [c('a', 90, 10), c('b', 10, 90), c('c', 0, 0), c('d', 50, 50)];

  it('default-first always takes the default, else the highest priority', () => {
    const withDefault = [c('a', 0, 0, { priority: 9 }), c('b', 0, 0, { isDefault: true })];
    expect(choosePattern(withDefault, 'default_first', Math.random).id).toBe('b');
    expect(choosePattern([c('a', 0, 0, { priority: 1 }), c('b', 0, 0, { priority: 7 })], 'default_first', Math.random).id).toBe('b');
  });

  it('random picks each pattern equally often', () => {
    const n = 40_000;
    const observed = draw(cands, 'random', n, 42);
    expect(chiSquare(observed, [0.25, 0.25, 0.25, 0.25], n)).toBeLessThan(CRITICAL[3]);
  });

  it('success-weighted picks in proportion to the smoothed success rate, and still tries new patterns', () => {
    const n = 40_000;
    const weights = cands.map(smoothedSuccessRate);
    const total = weights.reduce((a, b) => a + b, 0);
    const expected = weights.map((w) => w / total);
    const observed = draw(cands, 'success_weighted', n, 7);
    expect(chiSquare(observed, expected, n)).toBeLessThan(CRITICAL[3]);
    expect(observed[2]).toBeGreaterThan(n * 0.2); // the never-run pattern scores 0.5
    expect(observed[0]).toBeGreaterThan(observed[1]! * 5); // 91% vs 11% smoothed success
  });

  it('the test itself detects a wrong distribution', () => {
    const n = 40_000;
    const observed = draw(cands, 'random', n, 3);
    expect(chiSquare(observed, [0.4, 0.2, 0.2, 0.2], n)).toBeGreaterThan(CRITICAL[3]);
  });

  it('refuses an empty container', () => {
    expect(() => choosePattern([], 'random', Math.random)).toThrow(/no active pattern/);
  });
});
