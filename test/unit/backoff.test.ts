import { describe, expect, test } from 'vitest';
import { backoffDelay, nextAttempt } from '../../src/connections/backoff.ts';

const options = { minDelay: 100, maxDelay: 5000, factor: 2, jitter: 0.5 };

describe('backoffDelay', () => {
  test('grows by the factor from minDelay, without jitter at random() = 0', () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, options, () => 0))).toEqual([100, 200, 400, 800, 1600]);
  });

  test('is capped at maxDelay, also for huge attempt numbers', () => {
    expect(backoffDelay(7, options, () => 0)).toBe(5000);
    expect(backoffDelay(10_000, options, () => 0)).toBe(5000);
  });

  test('jitter takes up to its share off the delay', () => {
    expect(backoffDelay(3, options, () => 0.999999)).toBe(200);
    expect(backoffDelay(3, options, () => 0.5)).toBe(300);
    expect(backoffDelay(3, { ...options, jitter: 0 }, () => 0.9)).toBe(400);
    expect(backoffDelay(3, { ...options, jitter: 1 }, () => 0.999999)).toBe(0);
  });

  test('with Math.random the delays stay within [base × (1 − jitter), base]', () => {
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(4, options);
      expect(d).toBeGreaterThanOrEqual(400);
      expect(d).toBeLessThanOrEqual(800);
    }
  });

  test('attempt 0 or less is treated as the first', () => {
    expect(backoffDelay(0, options, () => 0)).toBe(100);
    expect(backoffDelay(-3, options, () => 0)).toBe(100);
  });
});

describe('nextAttempt', () => {
  test('a connection that lived minUptime starts the count over', () => {
    expect(nextAttempt(5, 5000, 5000)).toBe(1);
    expect(nextAttempt(5, 60_000, 5000)).toBe(1);
  });

  test('a connection that flapped continues the count', () => {
    expect(nextAttempt(0, 10, 5000)).toBe(1);
    expect(nextAttempt(3, 4999, 5000)).toBe(4);
  });
});
