// The notes of one tenant. A tenant has one cursor that only grows: every
// write takes the next value and stores it in the note, so "what changed
// since cursor N" is simply every note whose cursor is greater than N (a note
// written twice appears once, at its latest cursor).

import type { Folder, Note, NotePatch } from './types.ts';

export const FOLDERS: readonly Folder[] = ['inbox', 'archive', 'ideas'];

export function isFolder(value: unknown): value is Folder {
  return typeof value === 'string' && (FOLDERS as readonly string[]).includes(value);
}

/** The notes every tenant starts with (and gets back on reset): two per folder, cursors 1..6. */
const SEED: ReadonlyArray<{ id: string; folder: Folder; title: string; body: string }> = [
  { id: 'n1', folder: 'inbox', title: 'Welcome', body: 'Notes sync through a worker.' },
  { id: 'n2', folder: 'inbox', title: 'Groceries', body: 'Milk, eggs, bread.' },
  { id: 'n3', folder: 'archive', title: 'Old plan', body: 'Superseded by the new plan.' },
  { id: 'n4', folder: 'archive', title: 'Receipts 2023', body: 'Filed.' },
  { id: 'n5', folder: 'ideas', title: 'Offline first', body: 'Queue writes, replay on reconnect.' },
  { id: 'n6', folder: 'ideas', title: 'Shared sockets', body: 'One connection per name, closed when idle.' },
];

export class NotesStore {
  // Notes are replaced, never mutated, so a note handed out stays as it was.
  #notes = new Map<string, Note>();
  #cursor = 0;

  constructor(now: number = Date.now()) {
    for (const seed of SEED) {
      this.#cursor += 1;
      this.#notes.set(seed.id, { ...seed, version: 1, updatedAt: now, cursor: this.#cursor });
    }
  }

  /** The cursor of the latest write. */
  get cursor(): number {
    return this.#cursor;
  }

  /** All notes (of one folder), ascending by cursor. */
  list(folder?: Folder): Note[] {
    return this.#sorted().filter((n) => folder === undefined || n.folder === folder);
  }

  get(id: string): Note | undefined {
    return this.#notes.get(id);
  }

  /** Creates (version 1; title and body default to '', folder to 'inbox') or updates (version + 1) a note. */
  put(id: string, patch: NotePatch, now: number = Date.now()): Note {
    const previous = this.#notes.get(id);
    this.#cursor += 1;
    const note: Note = {
      id,
      folder: patch.folder ?? previous?.folder ?? 'inbox',
      title: patch.title ?? previous?.title ?? '',
      body: patch.body ?? previous?.body ?? '',
      version: (previous?.version ?? 0) + 1,
      updatedAt: now,
      cursor: this.#cursor,
    };
    this.#notes.set(id, note);
    return note;
  }

  /** Notes written after cursor `since` (of one folder), ascending by cursor. */
  changesSince(since: number, folder?: Folder): Note[] {
    return this.list(folder).filter((n) => n.cursor > since);
  }

  #sorted(): Note[] {
    return [...this.#notes.values()].sort((a, b) => a.cursor - b.cursor);
  }
}
