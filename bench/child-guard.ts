/**
 * Ties a browser process to the benchmark's: whatever way the benchmark ends
 * (a normal exit, an uncaught error, Ctrl-C or a kill by CI), the browser is
 * killed with it, so no Firefox or Chromium outlives a run and loads the next
 * one. `release()` undoes it once the browser has been closed normally.
 */
import type { ChildProcess } from 'node:child_process';

const guarded = new Set<ChildProcess>();

function killAll(): void {
  for (const child of guarded) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  guarded.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  killAll();
  // The conventional exit status of a process ended by this signal.
  process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGHUP' ? 1 : 15));
}

let installed = false;

export function killWithParent(child: ChildProcess): { release(): void } {
  if (!installed) {
    installed = true;
    process.on('exit', killAll);
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, onSignal);
  }
  guarded.add(child);
  child.once('exit', () => guarded.delete(child));
  return { release: () => void guarded.delete(child) };
}
