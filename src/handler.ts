/**
 * syncmgr, worker side: `defineHandler()` and what a handler receives.
 * @packageDocumentation
 */
export { defineHandler, type SyncHandler } from './runtime/define-handler.ts';
export type { Channel, ChannelOf, HandlerContext } from './runtime/context.ts';
export { ChannelCloseEvent, ChannelStateEvent, WebSocketChannel, type WebSocketChannelEventMap } from './runtime/websocket-channel.ts';
export { endpointWebSocket, type EndpointSocketErrorEvent, type EndpointWebSocketClass } from './runtime/endpoint-websocket.ts';
export { endpointFetch, type EndpointFetch, type EndpointFetchOptions } from './runtime/endpoint-fetch.ts';
export { FetchChannel, type FetchInit, type ResponseBodyMode } from './runtime/fetch-channel.ts';
export type { HandlerStore } from './runtime/handler-store.ts';
export { SyncError, type SyncErrorCode } from './protocol/sync-error.ts';
export { LIFE_LOCK_DELAY } from './protocol/locks.ts';
export { MAX_ITEMS, MAX_STORE_KEYS, MAX_STORE_KEY_LENGTH, MAX_STORE_VALUE_BYTES } from './protocol/types.ts';
export type {
  ConnectionKind, ConnectionState, InitializeInfo, ItemInfo, ItemStatus, LogLevel, LogOptions, ProgressAnswer, ProgressUpdate, ShowErrorAnswer, ShowErrorInfo, Trigger,
} from './protocol/types.ts';
