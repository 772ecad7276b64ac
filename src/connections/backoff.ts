/**
 * Reconnect timing as pure functions: the delay before attempt n
 * (exponential, capped, with jitter) and when the attempt count starts over.
 */

export interface BackoffOptions {
  /** Delay before the first retry, in ms. */
  minDelay: number;
  /** Upper bound of any delay, in ms. */
  maxDelay: number;
  /** Growth per attempt (2 doubles the delay). */
  factor: number;
  /** 0 … 1: the share of each delay that is random (0: none; 0.5: between half and all of it). */
  jitter: number;
}

/**
 * The delay before attempt `attempt` (1 for the first retry):
 * `min(maxDelay, minDelay × factor^(attempt−1))`, of which a `jitter` share is
 * random, so many clients dropped at once do not come back at once.
 * `random` returns a number in [0, 1) (Math.random by default; tests pass their own).
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const exponent = Math.max(0, attempt - 1);
  const base = Math.min(options.maxDelay, options.minDelay * options.factor ** exponent);
  return Math.round(base * (1 - options.jitter * random()));
}

/**
 * The number of the next reconnect attempt after a connection that stayed up
 * `uptime` ms closed: a connection that lived at least `minUptime` starts the
 * count over (1); one that flapped continues it, so a server that accepts and
 * drops at once still meets the attempt limit.
 */
export function nextAttempt(previousAttempt: number, uptime: number, minUptime: number): number {
  return uptime >= minUptime ? 1 : previousAttempt + 1;
}
