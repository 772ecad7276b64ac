// The wire contract of the demo's endpoint server, shared by the server
// (Node project) and the browser-side test fixture (page project). It must stay
// free of DOM and Node globals: types only, nothing that exists at run time.

/** The folders a note can live in. */
export type Folder = 'inbox' | 'archive' | 'ideas';

/** A note as the notes API returns it. */
export interface Note {
  id: string;
  folder: Folder;
  title: string;
  body: string;
  /** 1 for a created note, +1 on every write. */
  version: number;
  /** Epoch ms of the last write. */
  updatedAt: number;
  /** The tenant cursor value taken by the last write of this note. */
  cursor: number;
}

/** Body of `PUT /t/<tenant>/api/notes/<id>`: fields absent are left as they are (or defaulted on create). */
export interface NotePatch {
  title?: string;
  body?: string;
  folder?: Folder;
}

/** `GET notes` answer. */
export interface NotesList {
  notes: Note[];
  /** The tenant's cursor at the time of the answer. */
  cursor: number;
}

/** `GET changes?since=N` answer: notes written after cursor N, ascending by cursor. */
export interface ChangesList {
  changes: Note[];
  cursor: number;
}

/** Text frame (JSON) sent to every open socket of a tenant after a note write. */
export interface ChangeMessage {
  type: 'change';
  note: Note;
  cursor: number;
}

/** Injected failure of API requests. */
export interface ApiFail {
  /** HTTP status of the failing answers (400..599). */
  status: number;
  /** How many requests still fail; absent means every request fails. The fault clears itself when it reaches 0. */
  count?: number;
  /** Seconds, sent as `Retry-After`. */
  retryAfter?: number;
  /** Only requests whose API path (e.g. `notes`, `notes/n1`) is listed here fail. */
  paths?: string[];
}

/** Injected network failure of API requests: the server destroys the connection without answering. */
export interface ApiReset {
  /** How many requests still fail; absent means every request fails. The fault clears itself when it reaches 0. */
  count?: number;
  /** Only requests whose API path is listed here fail. */
  paths?: string[];
}

/** The faults of one tenant. */
export interface Faults {
  /** WebSocket channels whose upgrade is answered 503 and the TCP socket destroyed. */
  refuse: string[];
  /** WebSocket channels whose upgrade is never answered. */
  hang: string[];
  /** WebSocket channels whose sockets stop answering: frames are recorded but not echoed (a silent server, for heartbeat tests). */
  mute: string[];
  /** WebSocket channels whose sockets the server stops reading (their TCP sockets paused): what the client sends piles up in its buffers. */
  stall: string[];
  /** Delay before every API answer. */
  apiDelayMs: number;
  apiFail: ApiFail | null;
  /** Requests whose connection is cut instead of answered (a network error for the client). */
  apiReset: ApiReset | null;
}

/** One API request as the server saw it. */
export interface RequestRecord {
  /** Per tenant, increasing. */
  id: number;
  method: string;
  /** The part after `/t/<tenant>/api/`, without the query, as received (not decoded). */
  path: string;
  /** The query string without `?`. */
  query: string;
  /** Lowercased names; repeated headers joined with `, `. */
  headers: Record<string, string>;
  bodyBytes: number;
  /** Status sent; null while nothing has been sent. */
  status: number | null;
  /** The client went away before the response was complete. */
  aborted: boolean;
  /** The response was completely handed to the network. */
  finished: boolean;
  startedAt: number;
}

/** A frame the server received: text as is, binary as its length. */
export type ReceivedFrame = string | { binary: number };

/** Who started the closing of a socket. */
export type ClosedBy = 'client' | 'server';

/** One accepted WebSocket as the server saw it. */
export interface SocketRecord {
  /** Per tenant, increasing. */
  id: number;
  channel: string;
  /** The query string of the upgrade request, without `?`. */
  query: string;
  /** The subprotocol the server selected ('' when the client offered none). */
  protocol: string;
  /** Handshake request headers, lowercased names. */
  headers: Record<string, string>;
  open: boolean;
  /** The code of the client's close frame; 1006 when the TCP connection ended without one, 1005 when the frame had no code. */
  closeCode: number | null;
  closeReason: string;
  closedBy: ClosedBy | null;
  /** The last 1000 frames received. */
  received: ReceivedFrame[];
  receivedCount: number;
  receivedBytes: number;
  openedAt: number;
  closedAt: number | null;
}

/** `GET /__syncmgr/t/<tenant>/state` answer. */
export interface ServerState {
  tenant: string;
  sockets: SocketRecord[];
  requests: RequestRecord[];
  cursor: number;
  faults: Faults;
}

/** Body of `POST /__syncmgr/t/<tenant>/drop`. */
export interface DropRequest {
  /** Only sockets of this channel; absent means every open socket of the tenant. */
  channel?: string;
}

/** Answer of `POST drop`. */
export interface DropResult {
  dropped: number;
}

/** Body of `POST /__syncmgr/t/<tenant>/send`: exactly one of `data` and `binaryBytes`. */
export interface SendRequest {
  channel?: string;
  /** Sent as one text frame. */
  data?: string;
  /** Sent as one binary frame of this many bytes, byte i = i % 251. */
  binaryBytes?: number;
}

/** Answer of `POST send`. */
export interface SendResult {
  sent: number;
}

/** Body of every error answer (4xx/5xx) of the API and control endpoints. */
export interface ErrorBody {
  error: string;
}
