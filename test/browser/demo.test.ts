import { afterEach, expect, test } from 'vitest';
import { TestServer } from '../fixtures/server.ts';

// The demo page, end to end: loaded in an iframe from the same server, driven
// through its own buttons, checked through its DOM and the server's view.

let frame: HTMLIFrameElement | undefined;
afterEach(() => frame?.remove());

async function until<T>(probe: () => T | null | undefined | false, timeout = 10_000): Promise<T> {
  const end = Date.now() + timeout;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out; page says: ${frame?.contentDocument?.body?.innerText}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('the demo syncs both handlers over shared connections and closes them', async () => {
  const server = new TestServer('demo');
  await server.reset();
  frame = document.createElement('iframe');
  frame.src = '/demo/index.html';
  frame.style.width = '900px';
  frame.style.height = '700px';
  document.body.append(frame);
  await new Promise((r) => frame!.addEventListener('load', r, { once: true }));
  const doc = frame.contentDocument!;
  const sync = await until(() => doc.getElementById('sync') as HTMLButtonElement | null);
  await until(() => (frame!.contentWindow as unknown as { syncManager?: unknown }).syncManager);
  sync.click();
  const summary = await until(() => doc.getElementById('session')?.textContent?.startsWith('last session') && doc.getElementById('session')!.textContent!);
  expect(summary).toContain('last session: succeeded');
  expect(summary).toContain('Notes succeeded');
  expect(summary).toContain('Live changes succeeded');
  // Both handlers share the one `api` connection; which asked first is a race.
  expect(summary).toMatch(/api by (notes\+live|live\+notes)/);
  expect(summary).toContain('live by live');
  const statuses = [...doc.querySelectorAll('#items tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent));
  expect(statuses.map((cells) => [cells[1], cells[2], cells[3]])).toEqual([
    ['Notes', 'Inbox', 'succeeded'],
    ['Notes', 'Archive', 'succeeded'],
    ['Notes', 'Ideas', '—'],
    ['Live changes', 'Live changes', 'succeeded'],
  ]);
  expect(doc.getElementById('connections')!.textContent).toBe('none');
  expect(doc.getElementById('log')!.textContent).toContain('change(s) seen');
  // A reload shows the same picture: choices, statuses and the log come back from IndexedDB.
  await new Promise((r) => {
    frame!.addEventListener('load', r, { once: true });
    frame!.contentWindow!.location.reload();
  });
  const reloaded = frame.contentDocument!;
  await until(() => reloaded.getElementById('log')?.textContent?.includes('change(s) seen'));
  const after = [...reloaded.querySelectorAll('#items tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent));
  expect(after.map((cells) => [cells[1], cells[2], cells[3]])).toEqual(statuses.map((cells) => [cells[1], cells[2], cells[3]]));
  expect(reloaded.getElementById('session')!.textContent).toContain('before this page loaded: succeeded session');
  const state = await server.waitFor((s) => s.sockets.length === 1 && !s.sockets[0]!.open && s);
  expect(state.sockets[0]!.closeCode).toBe(1000);
  expect(state.requests.find((r) => r.path === 'health')?.headers.authorization).toBe('Bearer demo-token');
});
