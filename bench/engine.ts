/**
 * What the driver needs of a browser and its page, whichever protocol carries
 * it: a bare DevTools connection to Chromium (cdp.ts) or WebDriver BiDi to
 * Firefox (bidi.ts). A measurement an engine cannot give is named in
 * `unavailable` with the reason, and its readers answer null.
 */

export type Engine = 'chromium' | 'firefox';
export const ENGINES: readonly Engine[] = ['chromium', 'firefox'];

/** Measurements that depend on the engine: main-thread task time, the page's JS heap, long-task entries. */
export type Metric = 'taskTime' | 'heap' | 'longTasks';

export interface BenchPage {
  /** Evaluates `expression` in the page, awaiting a promise, and answers its value (JSON). */
  evaluate<T>(expression: string, timeoutMs?: number): Promise<T>;
  /** Calls `window.bench[name](...args)`. */
  call<T>(name: string, ...args: unknown[]): Promise<T>;
  /** Called once the page has loaded, before anything is measured. */
  prepare(): Promise<void>;
  /** Task time of the page's main thread so far, in ms; null where the engine has no such counter. */
  taskDuration(): Promise<number | null>;
  /** JS heap in use by the page's main thread after forced garbage collections, in bytes; null where it cannot be read. */
  heapUsed(): Promise<number | null>;
}

export interface BenchBrowser {
  readonly engine: Engine;
  /** The browser's own (parent) process. */
  readonly pid: number;
  /** Product and version as the browser reports them (e.g. `Chrome/156.0…`, `Firefox/153.8.0`). */
  readonly product: string;
  /** Everything the browser said of itself, for the results file. */
  readonly details: Record<string, unknown>;
  /** Why a measurement cannot be had in this engine; absent: it can. */
  readonly unavailable: Partial<Record<Metric, string>>;
  /** Processes that may host the page; the driver takes the one whose main thread burns CPU while the page spins. */
  contentPids(): number[];
  /** How a dedicated worker's thread is named in the content process (/proc/<pid>/task/<tid>/comm). */
  readonly workerThreadPrefix: string;
  /** Opens `url` in a new tab and answers once it can be evaluated in. */
  open(url: string): Promise<BenchPage>;
  close(): Promise<void>;
}

/** Races `work` against a timer; the timer is cleared either way. */
export async function withTimeout<T>(work: Promise<T>, timeoutMs: number, what: () => string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`page did not answer within ${timeoutMs} ms: ${what()}`)), timeoutMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
