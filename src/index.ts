/**
 * syncmgr, main thread: the sync manager, its events and types.
 * @packageDocumentation
 */
export { SyncManager, type HandlerInfo, type InvokeOptions, type ItemRecord, type RetryOptions } from './coordinator/manager.ts';
export { SyncSession, type SessionState, type SynchronizeOptions } from './coordinator/session.ts';
export { WHEN_SYNCING, type WhenSyncing } from './coordinator/session-options.ts';
export { TRIGGER_STRENGTH } from './coordinator/session-request.ts';
export { WAITS, type PendingSession, type Wait } from './coordinator/session-queue.ts';
export {
  DEFAULT_HANDLER_TRIGGERS, DEFAULT_TIMEOUTS, MAX_HANDLER_NAME_LENGTH,
  type HandlerRegistration, type StorageOption, type SyncManagerOptions, type Timeouts, type TriggerOptions, type WorkerLike,
} from './coordinator/options.ts';
export type { ConditionSource, PulseSource, TriggerEnvironment } from './triggers/sources.ts';
export { DEFAULT_HIDDEN_BUDGET } from './triggers/hidden.ts';
export { DEFAULT_IDLE_AFTER } from './triggers/idle.ts';
export { DEFAULT_INTERVAL } from './triggers/interval.ts';
export { DEFAULT_INVOKE_DEBOUNCE, DEFAULT_INVOKE_MAX_WAIT } from './triggers/invoke.ts';
export { DEFAULT_STARTUP_DELAY } from './triggers/startup.ts';
export { ACTIVITY_EVENTS } from './triggers/activity.ts';
export { FAILURE_ERROR_ID, RESERVED_ERROR_ID_PREFIX, RETRY_ERROR_ID } from './state/failure-entries.ts';
export { DEFAULT_AUTO_RETRY, RETRYABLE_ERROR_CODES, type AutoRetryOptions } from './coordinator/auto-retry.ts';
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
export { MAX_ITEMS, MAX_STORE_KEYS, MAX_STORE_KEY_LENGTH, MAX_STORE_VALUE_BYTES, TRIGGERS } from './protocol/types.ts';
export type {
  ConnectionKind, ConnectionState, InitializeInfo, ItemInfo, ItemStatus, LogLevel, LogOptions, ProgressAnswer, ProgressUpdate, ShowErrorAnswer, ShowErrorInfo, Trigger,
} from './protocol/types.ts';
