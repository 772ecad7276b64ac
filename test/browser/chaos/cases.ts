/**
 * What every chaos case shares: one scripted handler `h` run in a session of
 * its own, and the end of each case, which proves nothing hung and nothing
 * leaked: `session.done` settled within a bound, every handler worker ended
 * (counted through the Web Locks they hold), and every socket and request
 * the server saw for the case's tenant is closed or finished.
 */
import { cookie, liveWorkersReach, scripted, type Report, type Script, type TestBed } from '../../fixtures/harness.ts';
import type { TestServer } from '../../fixtures/server.ts';
import { LIFE_LOCK_DELAY, type ConnectionEvent, type EndpointConfig, type HandlerRegistration, type SessionResult, type SyncManager, type SyncManagerOptions, type SyncSession } from '../../../src/index.ts';

/** Generous bounds: the machine is shared, so they are far above what a case takes. */
export const SESSION_BOUND_MS = 30_000;
export const STEP_BOUND_MS = 20_000;

/** Resolves with `promise`, or rejects naming `what` once `ms` passed: a hang fails its case instead of the run. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/**
 * The end of a case: `session.done` settled, no handler worker alive, and on
 * each server every socket closed and every request finished or aborted.
 */
export async function ended(session: SyncSession, ...servers: TestServer[]): Promise<SessionResult> {
  const result = await within(session.done, SESSION_BOUND_MS, `session ${session.id}'s done`);
  await noWorkerSince(result.startedAt);
  for (const server of servers) {
    await server.waitFor((s) => s.sockets.every((x) => !x.open) && s.requests.every((r) => r.finished || r.aborted) && s, 10_000);
  }
  return result;
}

/**
 * Waits until no handler worker is alive. A worker is counted once it holds
 * its lock, LIFE_LOCK_DELAY after it started; the workers of a session start
 * after `startedAt`, so only the part of that delay (and a margin for the
 * grant) that has not passed since is waited out before counting.
 */
export async function noWorkerSince(startedAt: number): Promise<void> {
  const left = startedAt + LIFE_LOCK_DELAY + 150 - Date.now();
  if (left > 0) await new Promise((r) => setTimeout(r, left));
  await liveWorkersReach(0, 10_000);
}

export interface Run {
  manager: SyncManager;
  session: SyncSession;
  /** The connection events the manager dispatched. */
  connections: ConnectionEvent[];
  /** Waits for the report of step `index` of `h` in this session, for at most `bound` ms (STEP_BOUND_MS by default). */
  step(index: number, phase?: string, bound?: number): Promise<Report>;
}

export interface RunOptions {
  endpoints?: Record<string, EndpointConfig>;
  defaultEndpoint?: string;
  registration?: Partial<HandlerRegistration>;
  manager?: Partial<Omit<SyncManagerOptions, 'name' | 'handlers' | 'endpoints'>>;
}

/** Starts a session of one scripted handler `h` running `script`, on a manager of its own (state in memory). */
export function start(bed: TestBed, script: Script, options: RunOptions = {}): Run {
  const reports = bed.reports; // listening before the session starts
  const manager = bed.manager({
    storage: 'memory',
    ...options.manager,
    endpoints: options.endpoints ?? {},
    ...(options.defaultEndpoint === undefined ? {} : { defaultEndpoint: options.defaultEndpoint }),
    handlers: [scripted('h', options.registration)],
  });
  const connections: ConnectionEvent[] = [];
  for (const type of ['connectionopen', 'connectionclose', 'connectionstate', 'connectionerror'] as const) {
    manager.addEventListener(type, (e) => connections.push(e));
  }
  const session = manager.synchronize({ cookie: cookie({ h: script }) });
  return { manager, session, connections, step: (index, phase = 'step', bound = STEP_BOUND_MS) => reports.wait((r) => r.sessionId === session.id && r.handlerId === 'h' && r.phase === phase && r.index === index, bound) };
}

/** The value of a step that succeeded; throws with the step's error otherwise. */
export function value<T>(report: Report): T {
  if (!report.ok) throw new Error(`step ${report.index} (${report.op}) failed: ${JSON.stringify(report.error)}`);
  return report.value as T;
}
