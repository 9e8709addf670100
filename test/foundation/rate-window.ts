// Rate limits count hits in fixed windows (core/access/rate-limit.ts: a
// window starts at every multiple of its length since the epoch). A test that
// makes `limit + 1` requests and expects the last one refused races the clock:
// should a window end between its requests, the count starts again and the
// last request passes. freshRateWindow() waits, when too little of the
// current window is left, for the next one to begin, and its check afterwards
// asserts that every request of the test did fall into one window (so a
// machine too slow for the margin shows up as that, not as a broken limit).
// The app runs in the test's process (app.request), on the same clock.
import { expect } from 'vitest';

const windowIndex = (windowSeconds: number, at = Date.now()) => Math.floor(at / (windowSeconds * 1000));

/**
 * Waits until at least `needSeconds` of the current `windowSeconds` window are
 * left (at most needSeconds), and returns a check to call once the requests
 * are made.
 */
export async function freshRateWindow(windowSeconds: number, needSeconds: number): Promise<{ expectSameWindow(): void }> {
  const ms = windowSeconds * 1000;
  for (let left = ms - (Date.now() % ms); left < needSeconds * 1000; left = ms - (Date.now() % ms)) {
    await new Promise((resolve) => setTimeout(resolve, left + 50));
  }
  const start = windowIndex(windowSeconds);
  return {
    expectSameWindow() {
      expect(windowIndex(windowSeconds), `the requests took more than ${needSeconds} s and spread over two rate-limit windows`).toBe(start);
    },
  };
}
