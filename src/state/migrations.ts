/**
 * The schema version of the stored layout and its migrations: a store
 * written by an older syncmgr is brought up to {@link STATE_SCHEMA_VERSION}
 * step by step; one written by a newer one is left untouched.
 */
import { SyncError } from '../protocol/sync-error.ts';
import type { StateStore } from '../storage/state-store.ts';
import { KEYS, STATE_SCHEMA_VERSION, isObject } from './records.ts';

/** Upgrades stored state from version `n` (its key) to `n + 1`. */
export type Migration = (store: StateStore) => Promise<void>;

/** The migrations of the stored layout, by the version they upgrade from. Version 1 is the first: none yet. */
export const MIGRATIONS: Readonly<Record<number, Migration>> = Object.freeze({});

export interface SchemaMeta {
  schema: number;
}

/**
 * Brings the store to `target`: creates `manager/meta` in a new store, runs
 * each migration from the stored version up, recording the version after
 * each step (so an interrupted migration resumes where it stopped). Refuses a
 * store written by a newer version (`E_NOTIMPL`): it is left untouched.
 */
export async function migrate(store: StateStore, target = STATE_SCHEMA_VERSION, migrations: Readonly<Record<number, Migration>> = MIGRATIONS): Promise<number> {
  let meta = await store.get(KEYS.meta);
  if (meta === undefined) {
    // Atomic: two tabs starting at once both end with one meta.
    await store.update(KEYS.meta, (old) => old ?? { schema: target });
    meta = await store.get(KEYS.meta);
  }
  if (!isSchemaMeta(meta)) throw new SyncError('E_FAIL', `Stored state has an unreadable '${KEYS.meta}' record: ${JSON.stringify(meta)}.`);
  if (meta.schema > target) {
    throw new SyncError('E_NOTIMPL', `Stored state has schema version ${meta.schema}, written by a newer syncmgr; this one reads up to ${target}. It was left untouched.`);
  }
  for (let version = meta.schema; version < target; version++) {
    const step = migrations[version];
    if (!step) throw new SyncError('E_NOTIMPL', `No migration of stored state from schema version ${version} to ${version + 1}.`);
    await step(store);
    await store.set(KEYS.meta, { schema: version + 1 } satisfies SchemaMeta);
  }
  return meta.schema;
}

/** The stored `manager/meta` record has this shape. */
export function isSchemaMeta(value: unknown): value is SchemaMeta {
  return isObject(value) && Number.isInteger(value.schema) && (value.schema as number) >= 1;
}
