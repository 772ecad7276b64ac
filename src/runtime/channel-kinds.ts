/**
 * The worker-side channel of each kind of connection, one row per kind (the
 * manager's side: connections/connection-kinds.ts). A grant from the manager
 * becomes the channel the handler uses.
 */
import type { ChannelGrant } from '../protocol/worker-api.ts';
import type { ConnectionKind } from '../protocol/types.ts';
import { FetchChannel } from './fetch-channel.ts';
import { WebSocketChannel } from './websocket-channel.ts';

/** The channel a handler gets, by kind. */
export interface Channels {
  websocket: WebSocketChannel;
  fetch: FetchChannel;
}

export type Channel = Channels[ConnectionKind];
/** The channel of kind `K`; any channel when the kind is not known. */
export type ChannelOf<K extends ConnectionKind> = ConnectionKind extends K ? Channel : Channels[K];

const CHANNELS: { readonly [K in ConnectionKind]: (grant: ChannelGrant<MessagePort, K>) => Channels[K] } = {
  websocket: (grant) => new WebSocketChannel(grant),
  fetch: (grant) => new FetchChannel(grant),
};

/** The channel for a grant, by its kind's row. */
export function openChannel<K extends ConnectionKind>(grant: ChannelGrant<MessagePort, K>): Channels[K] {
  const make: (grant: ChannelGrant<MessagePort, K>) => Channels[K] = CHANNELS[grant.kind as K];
  return make(grant);
}
