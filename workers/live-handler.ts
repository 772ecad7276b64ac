/**
 * Demo handler "live": listens on the shared `live` WebSocket for note changes
 * for a short while, and writes one note through the API so there is a change
 * to see. It shares the `live` socket with any other handler of the session.
 */
import { defineHandler } from '../src/handler.ts';

const LISTEN_MS = 1500;

defineHandler({
  items: () => [{ id: 'changes', name: 'Live changes' }],
  async synchronize(_items, ctx) {
    if ((await ctx.progress('changes', { status: 'updating-indeterminate', text: 'Connecting…' })) !== 'continue') return;
    const live = await ctx.establishConnection('live', 'websocket');
    const api = await ctx.establishConnection('api', 'fetch');
    let changes = 0;
    live.addEventListener('message', (event) => {
      if (typeof event.data === 'string' && event.data.startsWith('{"type":"change"')) changes++;
    });
    const put = await api.fetch('notes/live-demo', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ folder: 'inbox', title: 'Written by the live handler', body: new Date().toISOString() }),
      signal: ctx.signal,
    });
    if (!put.ok) await ctx.logError('warning', `Writing the demo note failed: HTTP ${put.status}.`, { itemId: 'changes' });
    const started = Date.now();
    while (Date.now() - started < LISTEN_MS && !ctx.signal.aborted) {
      const answer = await ctx.progress('changes', { status: 'updating', value: Date.now() - started, max: LISTEN_MS, text: `${changes} change(s) seen` });
      if (answer !== 'continue') return;
      await new Promise((r) => setTimeout(r, 100));
    }
    await ctx.progress('changes', { status: 'succeeded', value: LISTEN_MS, max: LISTEN_MS, text: `${changes} change(s) seen` });
    await ctx.logError('information', `Live: ${changes} change(s) seen in ${LISTEN_MS} ms.`, { itemId: 'changes', errorId: 'live-summary' });
  },
});
