// Everything the server knows about one tenant: its notes, its faults, the
// records of its requests and sockets, and the live sockets themselves (so a
// note write or a control verb can reach every socket of the tenant, whichever
// Vite server instance accepted it).

import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { copyFaults, noFaults } from './faults.ts';
import { NotesStore } from './notes-store.ts';
import type { ChangeMessage, Faults, Note, RequestRecord, ServerState, SocketRecord } from './types.ts';

/** Requests kept per tenant (newest last). */
export const MAX_REQUEST_RECORDS = 500;
/** Socket records kept per tenant; only closed ones are ever dropped. */
export const MAX_SOCKET_RECORDS = 1000;

/** An accepted socket and its record. */
export interface LiveSocket {
  readonly record: SocketRecord;
  readonly ws: WebSocket;
  /** Set before the server closes or drops the socket, so the record says who ended it. */
  closingByServer: boolean;
}

export class Tenant {
  readonly id: string;
  notes: NotesStore = new NotesStore();
  faults: Faults = noFaults();
  #requests: RequestRecord[] = [];
  #sockets: SocketRecord[] = [];
  #live = new Set<LiveSocket>();
  /** Upgrades held unanswered by the `hang` fault. */
  #hanging = new Set<Duplex>();
  // Ids keep growing across resets, so a late event of a socket from before a
  // reset can never be mistaken for a new one.
  #nextRequestId = 1;
  #nextSocketId = 1;

  constructor(id: string) {
    this.id = id;
  }

  /** Starts the record of an API request; the caller keeps it up to date. */
  recordRequest(init: Pick<RequestRecord, 'method' | 'path' | 'query' | 'headers'>): RequestRecord {
    const record: RequestRecord = {
      id: this.#nextRequestId++,
      ...init,
      bodyBytes: 0,
      status: null,
      aborted: false,
      finished: false,
      startedAt: Date.now(),
    };
    this.#requests.push(record);
    if (this.#requests.length > MAX_REQUEST_RECORDS) this.#requests.splice(0, this.#requests.length - MAX_REQUEST_RECORDS);
    return record;
  }

  /** Registers an accepted socket. */
  addSocket(ws: WebSocket, channel: string, headers: Record<string, string>, query = ''): LiveSocket {
    const record: SocketRecord = {
      id: this.#nextSocketId++,
      channel,
      query,
      protocol: ws.protocol,
      headers,
      open: true,
      closeCode: null,
      closeReason: '',
      closedBy: null,
      received: [],
      receivedCount: 0,
      receivedBytes: 0,
      openedAt: Date.now(),
      closedAt: null,
    };
    this.#sockets.push(record);
    if (this.#sockets.length > MAX_SOCKET_RECORDS) {
      const oldestClosed = this.#sockets.findIndex((r) => !r.open);
      if (oldestClosed >= 0) this.#sockets.splice(oldestClosed, 1);
    }
    const live: LiveSocket = { record, ws, closingByServer: false };
    this.#live.add(live);
    this.applyStall();
    return live;
  }

  /** Pauses the reading of every live socket of a stalled channel (the `stall` fault), resumes the others. */
  applyStall(): void {
    for (const { ws, record } of this.#live) {
      if (this.faults.stall.includes(record.channel)) ws.pause();
      else if (ws.isPaused) ws.resume();
    }
  }

  /** Completes the record of a socket from ws' 'close' event (code and reason of the client's close frame). */
  socketClosed(live: LiveSocket, code: number, reason: string): void {
    this.#live.delete(live);
    const { record } = live;
    record.open = false;
    record.closeCode = code;
    record.closeReason = reason;
    record.closedBy = live.closingByServer ? 'server' : 'client';
    record.closedAt = Date.now();
  }

  /** Sockets in the OPEN state (not closing), of one channel or all. */
  openSockets(channel?: string): LiveSocket[] {
    return [...this.#live].filter((s) => s.ws.readyState === s.ws.OPEN && (channel === undefined || s.record.channel === channel));
  }

  /** Sends a close frame with `code` (the record then gets the code the client answers with). */
  closeSocket(live: LiveSocket, code: number, reason = ''): void {
    live.closingByServer = true;
    live.ws.close(code, reason);
  }

  /** Destroys the TCP connection without a close frame (the record gets 1006). */
  dropSocket(live: LiveSocket): void {
    live.closingByServer = true;
    live.ws.terminate();
  }

  /** Tells every open socket of the tenant (all channels) about a note write. */
  broadcastChange(note: Note): void {
    const message: ChangeMessage = { type: 'change', note, cursor: note.cursor };
    const text = JSON.stringify(message);
    for (const live of this.#live) sendIfOpen(live, text);
  }

  /** Keeps an unanswered upgrade (the `hang` fault) until the client leaves or the tenant is reset. */
  holdHanging(socket: Duplex): void {
    this.#hanging.add(socket);
    socket.once('close', () => this.#hanging.delete(socket));
  }

  /** The state view. Records are shared, not copied: serialize it right away. */
  snapshot(): ServerState {
    return {
      tenant: this.id,
      sockets: [...this.#sockets],
      requests: [...this.#requests],
      cursor: this.notes.cursor,
      faults: copyFaults(this.faults),
    };
  }

  /** Back to a fresh tenant: sockets terminated, faults cleared, records cleared, notes reseeded. */
  reset(): void {
    for (const live of [...this.#live]) this.dropSocket(live);
    // Their 'close' events come later and only complete records no longer listed.
    this.#live.clear();
    for (const socket of this.#hanging) socket.destroy();
    this.#hanging.clear();
    this.faults = noFaults();
    this.#requests = [];
    this.#sockets = [];
    this.notes = new NotesStore();
  }
}

/** Sends a text or binary frame if the socket is still open; true if sent. */
export function sendIfOpen(live: LiveSocket, data: string | Uint8Array): boolean {
  if (live.ws.readyState !== live.ws.OPEN) return false;
  live.ws.send(data, { binary: typeof data !== 'string' });
  return true;
}
