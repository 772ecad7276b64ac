/**
 * Using graphql-ws: a handler that runs a GraphQL query and a subscription
 * over graphql-ws, unmodified, on the endpoint `graphql`. Each client gets a
 * socket of its own (graphql-ws allows one `connection_init` per socket); a
 * lazy client (graphql-ws's default) closes its socket when its last
 * operation completes and opens a new one for the next. The result goes into
 * the item's progress text. In an app, import from `syncmgr/handler`.
 */
import { createClient, type Client } from 'graphql-ws';
import { defineHandler, endpointWebSocket } from '../../src/handler.ts';

const GraphqlSocket = endpointWebSocket('graphql');

defineHandler({
  items: () => [{ id: 'countdown', name: 'Countdown' }],
  async synchronize(itemIds, ctx) {
    const { lazy = true, name = 'world' } = (ctx.cookie ?? {}) as { lazy?: boolean; name?: string };
    // The origin is ignored: 'ws://graphql/' is the endpoint's own URL.
    const client = createClient({ url: 'ws://graphql/', webSocketImpl: GraphqlSocket, lazy, retryAttempts: 0 });
    try {
      for (const id of itemIds) {
        if ((await ctx.progress(id, { status: 'updating' })) !== 'continue') continue;
        const hello = await once<{ hello: string }>(client, `query ($name: String) { hello(name: $name) }`, { name });
        const counted: number[] = [];
        for await (const next of client.iterate<{ countdown: number }>({ query: 'subscription { countdown(from: 3) }' })) {
          counted.push(next.data!.countdown);
        }
        await ctx.progress(id, { status: 'succeeded', text: `${hello.hello}; ${counted.join(',')}` });
      }
    } finally {
      await client.dispose();
    }
  },
});

/** One query's data; its errors reject. */
async function once<T>(client: Client, query: string, variables: Record<string, unknown>): Promise<T> {
  for await (const result of client.iterate<T>({ query, variables })) {
    if (result.errors) throw new Error(result.errors.map((e) => e.message).join('; '));
    return result.data!;
  }
  throw new Error('the query completed without a result');
}
