/**
 * The automatic triggers, with the real sources of this page (README,
 * Triggers): `navigator.onLine` and `document.visibilityState` are
 * overridden and their events fired, user input is a real keydown. Each
 * trigger starts a session of exactly the handlers registered for it; a
 * trigger-started session waits for the network; interval and idle pause
 * while hidden and do not burst afterwards. A trigger asks for its session
 * within the event that causes it, and the session starts in a microtask, so
 * "at once" is checked one task after the event; "not before" by the
 * schedule's own times, which timers can only make later, never earlier.
 */
import { expect, test } from 'vitest';
import { cookie, inlineHandler, scripted, testBed } from '../fixtures/harness.ts';
import { pageEnvironment } from '../fixtures/page-environment.ts';
import { until } from '../fixtures/until.ts';
import type { SessionResult, SyncManager } from '../../src/index.ts';

const bed = testBed();
const page = pageEnvironment();

/** Every session start of `m`: its trigger, and when (performance.now()). */
function starts(m: SyncManager): { trigger: string; at: number }[] {
  const list: { trigger: string; at: number }[] = [];
  m.addEventListener('sessionstart', (e) => list.push({ trigger: e.session.trigger, at: performance.now() }));
  return list;
}

/** The results of `m`'s sessions, as they end. */
function ends(m: SyncManager): SessionResult[] {
  const list: SessionResult[] = [];
  m.addEventListener('sessionend', (e) => list.push(e.result!));
  return list;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** One task later: what a trigger started in the event before has started by then. */
const tick = () => sleep(0);

/** Waits until `m` runs no session. */
async function settled(m: SyncManager): Promise<void> {
  while (m.activeSession) await m.activeSession.done;
}

test('`online` starts one session of exactly the handlers registered for it, at the event', async () => {
  const m = bed.manager({
    handlers: [scripted('a', { triggers: ['online'] }), scripted('b', { triggers: ['manual', 'online'] }), scripted('c')],
  });
  const started = starts(m);
  const ended = ends(m);
  page.setOnline(false);
  expect(started).toEqual([]);
  page.setOnline(true);
  await tick();
  expect(started.map((s) => s.trigger)).toEqual(['online']);
  await until(() => ended.length === 1, 'the online session to end');
  expect(ended[0]!.handlers.map((h) => [h.id, h.outcome])).toEqual([['a', 'succeeded'], ['b', 'succeeded']]);
  // A manual session without a handler list takes the handlers registered for manual.
  const manual = await m.synchronize().done;
  expect(manual.handlers.map((h) => h.id)).toEqual(['b', 'c']);
  expect(m.sessions().map((s) => s.trigger)).toEqual(['online', 'manual']);
});

test('a trigger-started session while offline waits for the network and then runs; a manual one does not wait', async () => {
  const m = bed.manager({
    endpoints: { api: { kind: 'fetch', url: '/t/offline-wait/api/' } },
    handlers: [scripted('a', { triggers: ['interval'] }), scripted('b')],
  });
  const started = starts(m);
  page.setOnline(false);
  const waiting = m.synchronize({ trigger: 'interval', cookie: cookie({ a: {} }) });
  expect(m.pending()).toMatchObject([{ sessionId: waiting.id, trigger: 'interval', handlers: ['a'], waitingFor: 'network', notBefore: null }]);
  // A manual session asked for later runs meanwhile: the waiting one holds nobody up.
  const manual = await m.synchronize({ cookie: cookie({ b: {} }) }).done;
  expect(manual.outcome).toBe('succeeded');
  expect(waiting.state).toBe('queued');
  expect(started.map((s) => s.trigger)).toEqual(['manual']);
  page.setOnline(true);
  await tick();
  expect(started.map((s) => s.trigger)).toEqual(['manual', 'interval']);
  const result = await waiting.done;
  expect(result.handlers.map((h) => [h.id, h.outcome])).toEqual([['a', 'succeeded']]);
  expect(m.pending()).toEqual([]);
});

test('`interval` fires on its schedule, pauses while the page is hidden, and fires once, not in a burst, when it is shown again', async () => {
  const every = 400;
  const m = bed.manager({ triggers: { interval: { every } }, handlers: [scripted('a', { triggers: ['interval'] })] });
  const started = starts(m);
  await until(() => started.length >= 2, 'two interval sessions');
  expect(started.every((s) => s.trigger === 'interval')).toBe(true);
  // A timer never fires (much) early: consecutive firings are about a period apart at least, a burst would be ~0 apart.
  expect(started[1]!.at - started[0]!.at).toBeGreaterThanOrEqual(every * 0.9);
  await settled(m);
  page.setVisible(false);
  const before = started.length;
  await sleep(3 * every);
  expect(started.length).toBe(before);
  // Overdue by two periods and more: one session at once, at the event, and the next a whole period later.
  page.setVisible(true);
  await tick();
  expect(started.length).toBe(before + 1);
  await until(() => started.length >= before + 2, 'the next interval session');
  expect(started[before + 1]!.at - started[before]!.at).toBeGreaterThanOrEqual(every * 0.9);
});

test('a registration\'s own `interval` overrides the manager\'s; offline pauses the schedule like hidden does', async () => {
  const m = bed.manager({
    triggers: { interval: { every: 3_600_000 } },
    handlers: [scripted('fast', { triggers: ['interval'], interval: 300 }), scripted('slow', { triggers: ['interval'] })],
  });
  const ended = ends(m);
  await until(() => ended.length >= 1, 'an interval session of fast');
  expect(ended[0]!.handlers.map((h) => h.id)).toEqual(['fast']);
  await settled(m);
  page.setOnline(false);
  const before = ended.length;
  await sleep(900);
  expect(ended.length).toBe(before);
  expect(m.activeSession).toBeNull();
  page.setOnline(true);
  await tick();
  expect(m.activeSession?.trigger).toBe('interval');
});

test('`idle` fires after the set time without input, not again until the user was active, and not while hidden', async () => {
  const after = 300;
  const m = bed.manager({ triggers: { idle: { after } }, handlers: [scripted('a', { triggers: ['idle'] })] });
  const started = starts(m);
  const created = performance.now();
  await until(() => started.length === 1, 'the idle session');
  expect(started[0]!.at - created).toBeGreaterThanOrEqual(after * 0.9);
  await settled(m);
  // Still idle: no second session without input in between.
  await sleep(3 * after);
  expect(started.length).toBe(1);
  page.input();
  const typed = performance.now();
  await until(() => started.length === 2, 'the idle session after input');
  expect(started[1]!.at - typed).toBeGreaterThanOrEqual(after * 0.9);
  await settled(m);
  page.input();
  page.setVisible(false);
  await sleep(3 * after);
  expect(started.length).toBe(2);
  page.setVisible(true);
  const shown = performance.now();
  await until(() => started.length === 3, 'the idle session after the page was shown');
  expect(started[2]!.at - shown).toBeGreaterThanOrEqual(after * 0.9);
  expect(started.map((s) => s.trigger)).toEqual(['idle', 'idle', 'idle']);
});

test('`hidden` fires when the page is hidden or left, once per hiding, and its session is cancelled after the budget', async () => {
  const waits = inlineHandler('slow', `
    defineHandler({
      items: () => [{ id: 'x', name: 'X' }],
      synchronize: (ids, ctx) => new Promise((resolve) => ctx.signal.addEventListener('abort', resolve)),
    });
  `);
  const m = bed.manager({ triggers: { hidden: { budget: 500 } }, handlers: [{ ...waits, triggers: ['hidden'] }] });
  const started = starts(m);
  page.setVisible(false);
  page.pagehide();
  await tick();
  expect(started.map((s) => s.trigger)).toEqual(['hidden']);
  const result = await m.activeSession!.done;
  expect(result.outcome).toBe('cancelled');
  expect(result.handlers.map((h) => [h.id, h.outcome])).toEqual([['slow', 'cancelled']]);
  // Shown, then left without being hidden first: fires again.
  page.setVisible(true);
  page.pagehide();
  await tick();
  expect(started.map((s) => s.trigger)).toEqual(['hidden', 'hidden']);
});

test('`startup` fires once, after the task that made the manager, so listeners added right after it hear the session', async () => {
  const m = bed.manager({ handlers: [scripted('a', { triggers: ['startup'] }), scripted('b')] });
  const ended = ends(m);
  await until(() => ended.length === 1, 'the startup session');
  expect(ended[0]!.trigger).toBe('startup');
  expect(ended[0]!.handlers.map((h) => h.id)).toEqual(['a']);
  await sleep(300);
  expect(ended.length).toBe(1);
});

test('a trigger switched off never fires, and one nobody registered for never listens', async () => {
  const m = bed.manager({
    triggers: { online: false, startup: false },
    handlers: [scripted('a', { triggers: ['online', 'startup', 'manual'] })],
  });
  const started = starts(m);
  page.setOnline(false);
  page.setOnline(true);
  await sleep(200);
  expect(started).toEqual([]);
  expect(() => bed.manager({ triggers: { invoke: false }, handlers: [scripted('a')] }).invoke()).toThrow(/invoke trigger is switched off/);
});

test('bad trigger options are refused with E_INVALIDARG naming the option', () => {
  const bad: [unknown, RegExp][] = [
    [{ triggers: { idle: { after: 0 } } }, /triggers\.idle`\.after must be a number of milliseconds/],
    [{ triggers: { interval: 5 } }, /triggers\.interval` must be true, false or an object/],
    [{ triggers: { often: true } }, /unknown key 'often'/],
    [{ triggers: { invoke: { debounce: 500, maxWait: 100 } } }, /maxWait must be at least debounce/],
    [{ triggers: { sources: { network: { subscribe: () => () => {} } } } }, /sources\.network` must be an object like \{ current\(\), subscribe/],
    [{ handlers: [scripted('a', { triggers: ['sometimes' as never] })] }, /trigger "sometimes" is not one of/],
    [{ handlers: [scripted('a', { interval: 1000 })] }, /interval is set but triggers does not list 'interval'/],
  ];
  for (const [options, message] of bad) {
    expect(() => bed.manager({ handlers: [scripted('a')], ...(options as object) })).toThrow(message);
  }
});

test('a replaced source drives its trigger: an app\'s own notion of online', async () => {
  let listener: ((online: boolean) => void) | null = null;
  let online = true;
  const network = { current: () => online, subscribe: (l: (online: boolean) => void) => ((listener = l), () => (listener = null)) };
  const m = bed.manager({ triggers: { sources: { network } }, handlers: [scripted('a', { triggers: ['online'] })] });
  const started = starts(m);
  online = false;
  listener!(false);
  online = true;
  listener!(true);
  await tick();
  expect(started.map((s) => s.trigger)).toEqual(['online']);
  await m.close();
  expect(listener).toBeNull();
});
