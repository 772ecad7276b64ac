// The HTTP API of a tenant (`/t/<tenant>/api/<path>`): notes, changes since a
// cursor, and the probes the library's tests need (health, echo, generated
// bytes, slow answers, an empty 204). Faults, delays and request records are applied by the
// caller; this module only maps a request to a reply.

import { type Reply, bytesReply, errorReply, jsonReply, patternReply, textReply } from './http-io.ts';
import { routeHostile } from './hostile-routes.ts';
import { isFolder } from './notes-store.ts';
import { sleep } from './sleep.ts';
import type { Tenant } from './tenant.ts';
import type { ChangesList, Folder, NotePatch, NotesList } from './types.ts';
import { type Checked, checkIntegerParam, describe, fail, ok, parseJsonObject } from './validate.ts';

/** Largest `GET bytes?n=`. */
export const MAX_GENERATED_BYTES = 256 * 1024 * 1024;
/** Longest pause between the 64 KiB chunks of `GET bytes?paceMs=`. */
export const MAX_PACE_MS = 1000;
/** Longest `GET slow?ms=`. */
export const MAX_SLOW_MS = 120_000;
/** Largest body of `PUT notes/<id>`. */
export const MAX_NOTE_BODY_BYTES = 1024 * 1024;
/** Longest note id. */
const MAX_NOTE_ID_LENGTH = 256;

export interface ApiRequest {
  tenant: Tenant;
  method: string;
  /** As received, without the query (see RequestRecord.path). */
  path: string;
  params: URLSearchParams;
  body: Buffer;
  contentType: string | undefined;
  /** Request headers, lowercased names (see headersOf). */
  headers: Record<string, string>;
  /** Aborts when the client goes away or the server closes. */
  signal: AbortSignal;
}

/** The reply, or null when the client went away while it was being prepared. */
export async function routeApi(req: ApiRequest): Promise<Reply | null> {
  const { method, path } = req;
  const isGet = method === 'GET' || method === 'HEAD';
  const slash = path.indexOf('/');
  const head = slash < 0 ? path : path.slice(0, slash);
  const rest = slash < 0 ? null : path.slice(slash + 1);
  const hostile = routeHostile({ method, path, params: req.params, headers: req.headers });
  if (hostile) return hostile;

  if (rest === null) {
    if (head === 'health' && isGet) return jsonReply(200, { ok: true });
    if (head === 'notes' && isGet) return listNotes(req);
    if (head === 'changes' && isGet) return listChanges(req);
    if (head === 'echo' && (method === 'POST' || method === 'PUT')) {
      return bytesReply(req.body, req.contentType ?? 'application/octet-stream');
    }
    if (head === 'bytes' && isGet) return generatedBytes(req);
    if (head === 'slow' && isGet) return slow(req);
    if (head === 'empty') return { status: 204, headers: {}, body: '' };
  } else if (head === 'notes' && rest !== '' && !rest.includes('/')) {
    const id = decodeNoteId(rest);
    if (!id.ok) return errorReply(400, id.error);
    if (isGet) return getNote(req, id.value);
    if (method === 'PUT') return putNote(req, id.value);
  }
  return errorReply(404, `no API endpoint ${method} ${path === '' ? '(empty path)' : path}`);
}

function listNotes(req: ApiRequest): Reply {
  const folder = folderParam(req.params);
  if (!folder.ok) return errorReply(400, folder.error);
  const answer: NotesList = { notes: req.tenant.notes.list(folder.value), cursor: req.tenant.notes.cursor };
  return jsonReply(200, answer);
}

function listChanges(req: ApiRequest): Reply {
  const since = checkIntegerParam('since', req.params.get('since'), Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  if (!since.ok) return errorReply(400, since.error);
  const folder = folderParam(req.params);
  if (!folder.ok) return errorReply(400, folder.error);
  const { notes } = req.tenant;
  const answer: ChangesList = { changes: notes.changesSince(since.value, folder.value), cursor: notes.cursor };
  return jsonReply(200, answer);
}

function getNote(req: ApiRequest, id: string): Reply {
  const note = req.tenant.notes.get(id);
  return note ? jsonReply(200, note) : errorReply(404, `no note ${JSON.stringify(id)}`);
}

function putNote(req: ApiRequest, id: string): Reply {
  if (req.body.length > MAX_NOTE_BODY_BYTES) return errorReply(413, `a note write is at most ${MAX_NOTE_BODY_BYTES} bytes`);
  const json = parseJsonObject(req.body, false);
  if (!json.ok) return errorReply(400, json.error);
  const patch = parseNotePatch(json.value);
  if (!patch.ok) return errorReply(400, patch.error);
  const note = req.tenant.notes.put(id, patch.value);
  req.tenant.broadcastChange(note);
  return jsonReply(200, note);
}

function generatedBytes(req: ApiRequest): Reply {
  const n = checkIntegerParam('n', req.params.get('n'), 0, MAX_GENERATED_BYTES);
  if (!n.ok) return errorReply(400, n.error);
  const rawPace = req.params.get('paceMs');
  const pace = rawPace === null ? null : checkIntegerParam('paceMs', rawPace, 0, MAX_PACE_MS);
  if (pace && !pace.ok) return errorReply(400, pace.error);
  const rawHold = req.params.get('holdAfter');
  const hold = rawHold === null ? null : checkIntegerParam('holdAfter', rawHold, 0, n.value);
  if (hold && !hold.ok) return errorReply(400, hold.error);
  return patternReply(n.value, { chunked: req.params.get('chunked') === '1', paceMs: pace?.value ?? 0, holdAfter: hold?.value });
}

async function slow(req: ApiRequest): Promise<Reply | null> {
  const ms = checkIntegerParam('ms', req.params.get('ms'), 0, MAX_SLOW_MS);
  if (!ms.ok) return errorReply(400, ms.error);
  return (await sleep(ms.value, req.signal)) ? textReply(200, 'done') : null;
}

/**
 * The fields a client may write. Unknown fields are ignored, so a client can
 * send back a whole note it read (id, version, cursor are the server's).
 */
function parseNotePatch(raw: Record<string, unknown>): Checked<NotePatch> {
  const patch: NotePatch = {};
  for (const key of ['title', 'body'] as const) {
    const value = raw[key];
    if (value === undefined) continue;
    if (typeof value !== 'string') return fail(`${key} must be a string, got ${describe(value)}`);
    patch[key] = value;
  }
  if (raw.folder !== undefined) {
    if (!isFolder(raw.folder)) return fail(`folder must be "inbox", "archive" or "ideas", got ${JSON.stringify(raw.folder)}`);
    patch.folder = raw.folder;
  }
  return ok(patch);
}

function folderParam(params: URLSearchParams): Checked<Folder | undefined> {
  const folder = params.get('folder');
  if (folder === null) return ok(undefined);
  return isFolder(folder) ? ok(folder) : fail(`query parameter folder must be inbox, archive or ideas, got ${JSON.stringify(folder)}`);
}

function decodeNoteId(segment: string): Checked<string> {
  let id: string;
  try {
    id = decodeURIComponent(segment);
  } catch {
    return fail(`note id ${JSON.stringify(segment)} is not valid percent-encoding`);
  }
  if (id.length > MAX_NOTE_ID_LENGTH) return fail(`note ids are at most ${MAX_NOTE_ID_LENGTH} characters`);
  return ok(id);
}
