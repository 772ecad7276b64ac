/**
 * The Deno suite's test bed: `test(name, fn)` registers a `Deno.test` whose
 * body gets a fresh endpoint server (started in-process, see
 * endpoint-server.ts), a tenant of it, the fixture handlers' reports and
 * managers that are closed after the test. When the body passed, the bed
 * then checks that no handler worker is alive (every session it ran ended
 * its workers by itself); whatever happened, it closes the managers, the
 * report channel and the server, and Deno's sanitizers (turned on, see
 * SANITIZED) then fail the test for anything it left open.
 */
import type { SyncManager, SyncManagerOptions } from '../../src/index.ts';
import { noLiveWorkers } from '../fixtures/live-workers.ts';
import { Reports } from '../fixtures/reports.ts';
import { manager } from '../fixtures/scripted.ts';
import { TestServer } from '../fixtures/server.ts';
import { startEndpointServer, type RunningServer } from './endpoint-server.ts';

export interface Bed {
  /** The origin of this test's endpoint server. */
  readonly origin: string;
  /** A tenant of it, made for this test. */
  readonly server: TestServer;
  /** What the scripted handlers report; listening from the start of the test. */
  readonly reports: Reports;
  /** A manager with a unique name, closed after the test. */
  manager(options: Omit<SyncManagerOptions, 'name'> & { name?: string }): SyncManager;
  /** The running server itself (to stop it early: an unreachable endpoint). */
  readonly running: RunningServer;
}

export interface BedOptions {
  /** The body fails after this many ms (Deno's runner has no time limit of its own). Default 30 000. */
  timeout?: number;
}

/**
 * Deno's op and resource sanitizers, off by default since Deno 2.8: every
 * timer, MessagePort, worker, WebSocket, fetch body and BroadcastChannel a
 * test opens must be closed by its end. (They do not see the node:http server,
 * which `RunningServer.close()` ends, and resolves only once every connection
 * it accepted is gone.)
 */
export const SANITIZED = { sanitizeOps: true, sanitizeResources: true } as const;

export function test(name: string, fn: (bed: Bed) => Promise<void>, options: BedOptions = {}): void {
  Deno.test({
    name,
    ...SANITIZED,
    async fn() {
      const running = await startEndpointServer();
      const reports = new Reports();
      const managers: SyncManager[] = [];
      const bed: Bed = {
        origin: running.origin,
        server: TestServer.create(running.origin),
        reports,
        running,
        manager(o) {
          const m = manager(o);
          managers.push(m);
          return m;
        },
      };
      try {
        await within(options.timeout ?? 30_000, fn(bed), () => `'${name}' did not end within ${options.timeout ?? 30_000} ms; reports so far: ${JSON.stringify(reports.all.map((r) => [r.handlerId, r.phase, r.index, r.op, r.ok]))}`);
        await noLiveWorkers();
      } finally {
        for (const m of managers) await m.close();
        reports.close();
        await running.close();
      }
    },
  });
}

/** `work`, or a rejection saying `why()` once `ms` have passed; the timer never outlives it. */
async function within(ms: number, work: Promise<void>, why: () => string): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(why())), ms);
  });
  try {
    await Promise.race([work, limit]);
  } finally {
    clearTimeout(timer);
  }
}
