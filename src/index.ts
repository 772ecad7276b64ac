/**
 * syncmgr, main thread: the sync manager, its events and types.
 * @packageDocumentation
 */
export { SyncManager, type HandlerInfo, type ItemRecord } from './coordinator/manager.ts';
export { SyncSession, type SessionState, type SynchronizeOptions } from './coordinator/session.ts';
export {
  DEFAULT_TIMEOUTS, MAX_HANDLER_NAME_LENGTH,
  type HandlerRegistration, type StorageOption, type SyncManagerOptions, type Timeouts, type WorkerLike,
} from './coordinator/options.ts';
export { HandlerStateEvent, ItemEvent, SessionEvent, type SyncManagerEventMap } from './coordinator/events.ts';
export { LogEvent, StateChangeEvent, StorageFallbackEvent } from './state/events.ts';
export { ConnectionEvent } from './connections/connection-event.ts';
export type { HandlerPhase } from './coordinator/handler-phase.ts';
export type { ConnectionRecord, HandlerResult, ItemSnapshot, SessionResult } from './coordinator/result.ts';
export { MAX_LOG_ENTRIES, type LogEntry } from './state/log-book.ts';
export {
  MAX_SESSION_HISTORY, STATE_SCHEMA_VERSION,
  type HandlerOutcome, type HandlerSummary, type SessionOutcome, type SessionSummary, type SessionSummaryOutcome, type StoredError,
} from './state/records.ts';
export type { StorageKind } from './state/backing-store.ts';
export type { StateChanges, StateStore } from './storage/state-store.ts';
export { IndexedDbStateStore, stateDatabaseName } from './storage/indexeddb-state-store.ts';
export { MemoryStateStore } from './storage/memory-state-store.ts';
export { STATE_FLUSH_INTERVAL } from './storage/write-batcher.ts';
export { LIFE_LOCK_DELAY } from './protocol/locks.ts';
export { DEFAULT_CONNECT_TIMEOUT, type Dynamic } from './connections/endpoint-common.ts';
export type { EndpointConfig, FetchEndpoint, WebSocketEndpoint } from './connections/endpoint-config.ts';
export {
  DEFAULT_HEARTBEAT, DEFAULT_RECONNECT, DEFAULT_SEND_BUFFER, DEFAULT_RECEIVE_BUFFER,
  type FrameRoute, type HeartbeatOptions, type ReconnectOptions, type SendBufferOptions, type ReceiveBufferOptions,
} from './connections/websocket-options.ts';
export { HEARTBEAT_CLOSE_CODE } from './connections/websocket-connection.ts';
export { RECEIVE_OVERFLOW_CLOSE_CODE } from './protocol/socket-messages.ts';
export {
  DEFAULT_FETCH_RETRY, FINAL_SERVER_ERRORS, IDEMPOTENT_METHODS, type FetchRetryOptions,
} from './connections/retry-policy.ts';
export { DEFAULT_REDIRECT, DEFAULT_WHOLE_BODY_LIMIT, STREAM_WINDOW_BYTES } from './connections/fetch-options.ts';
export type { RedirectMode, ResponseBodyMode } from './protocol/fetch-messages.ts';
export { SyncError, type SyncErrorCode } from './protocol/sync-error.ts';
export { MAX_ITEMS, MAX_STORE_KEYS, MAX_STORE_KEY_LENGTH, MAX_STORE_VALUE_BYTES } from './protocol/types.ts';
export type {
  ConnectionKind, ConnectionState, InitializeInfo, ItemInfo, ItemStatus, LogLevel, LogOptions, ProgressAnswer, ProgressUpdate, Trigger,
} from './protocol/types.ts';
