/**
 * Demo handler "notes": one item per folder of the demo's notes API. It syncs
 * each selected folder over the default (fetch) endpoint, reporting progress
 * per note and checking the answer before each folder.
 */
import { defineHandler } from '../src/handler.ts';

interface Note {
  id: string;
  folder: string;
  title: string;
  version: number;
}

const FOLDERS = [
  { id: 'inbox', name: 'Inbox' },
  { id: 'archive', name: 'Archive' },
  { id: 'ideas', name: 'Ideas', checked: false },
];


defineHandler({
  items: () => FOLDERS,
  async synchronize(folders, ctx) {
    const api = await ctx.establishConnection(null, 'fetch');
    for (const folder of folders) {
      const answer = await ctx.progress(folder, { status: 'updating-indeterminate', text: 'Listing notes…' });
      if (answer === 'cancel-all') return;
      if (answer === 'cancel-item') continue;
      const response = await api.fetch(`notes?folder=${encodeURIComponent(folder)}`, { signal: ctx.itemSignal(folder) });
      if (!response.ok) {
        await ctx.logError('error', `Listing ${folder} failed: HTTP ${response.status}.`, { itemId: folder, errorId: `list-${folder}`, actionable: true });
        await ctx.progress(folder, { status: 'failed', text: `HTTP ${response.status}` });
        continue;
      }
      await ctx.deleteLogError(`list-${folder}`);
      const { notes } = (await response.json()) as { notes: Note[] };
      // The versions seen last time live in the handler's own store, so "changed" means changed since the last sync, across reloads.
      const seen = (await ctx.store.get<Record<string, number>>(`versions:${folder}`)) ?? {};
      let changed = 0;
      for (const [i, note] of notes.entries()) {
        if (seen[note.id] !== note.version) changed++;
        seen[note.id] = note.version;
        await ctx.progress(folder, { status: 'updating', value: i + 1, max: notes.length, text: note.title });
      }
      await ctx.store.set(`versions:${folder}`, seen);
      await ctx.progress(folder, { status: 'succeeded', value: notes.length, max: notes.length, text: `${notes.length} notes, ${changed} changed` });
    }
  },
});
