/**
 * The demo page: registers the two demo handlers, runs sessions on "Sync now",
 * and renders items, live connections and the log from the manager's events.
 */
import { SyncManager, type ItemSnapshot, type SyncSession } from '../src/index.ts';

const manager = new SyncManager({
  name: 'syncmgr-demo',
  endpoints: {
    api: { kind: 'fetch', url: '/api/', headers: async () => ({ authorization: 'Bearer demo-token' }), probe: 'health' },
    live: { kind: 'websocket', url: '/ws/live', protocols: ['notes.v1'] },
  },
  defaultEndpoint: 'api',
  handlers: [
    { id: 'notes', name: 'Notes', endpoints: ['api'], worker: () => new Worker(new URL('../workers/notes-handler.ts', import.meta.url), { type: 'module' }) },
    { id: 'live', name: 'Live changes', endpoints: ['api', 'live'], worker: () => new Worker(new URL('../workers/live-handler.ts', import.meta.url), { type: 'module' }) },
  ],
});

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const rows = new Map<string, { handlerId: string; item: ItemSnapshot }>();
const open = new Map<string, { kind: string; state: string }>();
let session: SyncSession | null = null;

function renderItems(): void {
  const body = $('items');
  body.replaceChildren();
  for (const handler of manager.handlers()) {
    const known = manager.items(handler.id);
    for (const record of known) {
      const live = rows.get(`${handler.id}/${record.id}`)?.item;
      const status = live?.status ?? record.status ?? '—';
      const tr = document.createElement('tr');
      const box = Object.assign(document.createElement('input'), { type: 'checkbox', checked: record.checked });
      box.addEventListener('change', () => manager.setItemChecked(handler.id, record.id, box.checked));
      const bar = document.createElement('progress');
      if (live && live.max > 0) Object.assign(bar, { max: live.max, value: live.value });
      else if (status !== 'updating-indeterminate') bar.value = status === 'succeeded' ? bar.max : 0;
      const skip = Object.assign(document.createElement('button'), { textContent: 'Skip', disabled: !session || !live || ['succeeded', 'failed', 'skipped', 'cancelled'].includes(status) });
      skip.addEventListener('click', () => session?.skip(handler.id, record.id));
      tr.append(cell(box), cell(handler.name), cell(record.name), cell(status, `status-${status}`), cell(bar), cell(live?.text ?? ''), cell(skip));
      body.append(tr);
    }
  }
  if (!body.children.length) body.append(row('Press "Sync now" to list the handlers\' items.'));
}

function renderConnections(): void {
  const list = $('connections');
  list.replaceChildren(...(open.size ? [...open].map(([name, { kind, state }]) => li(`${name} (${kind}) ${state}`)) : [li('none', 'muted')]));
}

function renderLog(): void {
  const body = $('log');
  body.replaceChildren(...manager.log().reverse().map((e) => {
    const tr = document.createElement('tr');
    tr.append(cell(new Date(e.time).toLocaleTimeString()), cell(e.level, `level-${e.level}`), cell(e.handlerId ?? 'syncmgr'), cell(e.itemId ?? ''), cell(e.text));
    return tr;
  }));
}

function cell(content: string | Node, className = ''): HTMLTableCellElement {
  const td = document.createElement('td');
  td.className = className;
  td.append(content);
  return td;
}

function row(text: string): HTMLTableRowElement {
  const tr = document.createElement('tr');
  const td = cell(text, 'muted');
  td.colSpan = 7;
  tr.append(td);
  return tr;
}

function li(text: string, className = ''): HTMLLIElement {
  return Object.assign(document.createElement('li'), { textContent: text, className });
}

manager.addEventListener('progress', (e) => {
  rows.set(`${e.handlerId}/${e.item.id}`, { handlerId: e.handlerId, item: e.item });
  renderItems();
});
manager.addEventListener('handlerstate', (e) => {
  if (e.phase === 'preparing' || e.phase === 'finished') renderItems();
  if (e.phase === 'finished' && e.error) $('session').textContent = `${e.handlerId}: ${e.outcome} (${e.error.message})`;
});
manager.addEventListener('connectionopen', (e) => {
  open.set(e.name, { kind: e.kind, state: 'open' });
  renderConnections();
});
// "drop open sockets" shows these: the socket reconnects while the session needs it.
manager.addEventListener('connectionstate', (e) => {
  const known = open.get(e.name);
  if (known && e.state) known.state = e.state;
  renderConnections();
});
manager.addEventListener('connectionclose', (e) => {
  open.delete(e.name);
  renderConnections();
});
manager.addEventListener('log', renderLog);
// Stored state: after a reload the items, their last status and the log come back from IndexedDB.
manager.addEventListener('statechange', (e) => {
  renderItems();
  if (e.part === 'loaded') renderLog();
  const last = manager.sessions().at(-1);
  if (e.part === 'loaded' && last) $('session').textContent = `before this page loaded: ${last.outcome} session at ${new Date(last.endedAt).toLocaleTimeString()}`;
});
manager.addEventListener('sessionstart', () => {
  rows.clear();
  $('session').textContent = 'syncing…';
});
manager.addEventListener('sessionend', (e) => {
  const r = e.result!;
  $<HTMLButtonElement>('sync').disabled = false;
  $<HTMLButtonElement>('cancel').disabled = true;
  session = null;
  $('session').textContent = `last session: ${r.outcome} in ${r.endedAt - r.startedAt} ms; ` +
    r.handlers.map((h) => `${h.name} ${h.outcome}`).join(', ') + `; connections: ${r.connections.map((c) => `${c.name} by ${c.handlers.join('+')}`).join(', ') || 'none'}`;
  renderItems();
});

$('sync').addEventListener('click', () => {
  $<HTMLButtonElement>('sync').disabled = true;
  $<HTMLButtonElement>('cancel').disabled = false;
  session = manager.synchronize({ trigger: 'manual' });
});
$('cancel').addEventListener('click', () => session?.cancel());
$('clear-log').addEventListener('click', () => manager.clearLog());

async function control(verb: string, body: unknown): Promise<void> {
  await fetch(`/__syncmgr/t/demo/${verb}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}
$<HTMLInputElement>('refuse-live').addEventListener('change', (e) => control('faults', { refuse: (e.target as HTMLInputElement).checked ? ['live'] : [] }));
$<HTMLInputElement>('fail-api').addEventListener('change', (e) => control('faults', { apiFail: (e.target as HTMLInputElement).checked ? { status: 503 } : null }));
$('drop').addEventListener('click', () => control('drop', {}));

renderItems();
renderConnections();
renderLog();
// Exposed for the end-to-end test and for poking at it from the console.
Object.assign(globalThis, { syncManager: manager });
