/**
 * A response body shorter than its Content-Length is a failed transfer (the
 * connection was cut). Engines that see this fail the read themselves; one
 * that hands out the bytes it got as a complete body would give the handler a
 * truncated response as a success. So the main thread checks the length
 * wherever it is known for sure: a Content-Length and no content coding, in a
 * response whose headers it sees whole. (A cross-origin response may hide its
 * Content-Encoding, and a coded body's length is not its Content-Length.)
 */
import { declaredLength } from '../protocol/fetch-messages.ts';

/** The body's length in bytes when the response says it for sure; else `null`. */
export function expectedLength(response: Response): number | null {
  const headersWhole = response.type === 'basic' || response.type === 'default';
  if (!headersWhole && response.headers.get('content-encoding') === null) return null;
  return declaredLength(response.headers);
}

/** The network error of a body that ended after `received` of its `expected` bytes (the caller makes it an `E_FAIL` naming the endpoint, as for the engine's own). */
export function shortBody(received: number, expected: number): TypeError {
  return new TypeError(`the body ended after ${received} of the ${expected} bytes its Content-Length announced (the connection was cut)`);
}

/**
 * The response's body, erroring with {@link shortBody} at its end when it is
 * shorter than `expected`. Chunks pass unchanged, and each is read from the
 * network only when the reader asks for one, so backpressure reaches the network as before.
 */
export function lengthChecked(body: ReadableStream<Uint8Array>, expected: number): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let received = 0;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { done, value } = await reader.read();
        if (!done) {
          received += value.byteLength;
          controller.enqueue(value);
        } else if (received < expected) controller.error(shortBody(received, expected));
        else controller.close();
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}
