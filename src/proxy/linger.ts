// Lingering close (issue 11.4), as nginx's `lingering_close` does: when an error answer goes out while the
// client is still sending its body (a 413 to an SDK that does not wait for `100 Continue`), closing the
// socket at once makes the kernel answer the client's next bytes with a reset, and a client busy uploading
// then reports a connection error instead of reading the 413 already on the wire. So the answer is written
// in full (with Content-Length and `Connection: close`), the rest of the body is read and dropped for a
// bounded time and size, and only then is the response ended and the socket closed.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Bounds of the lingering: total time, silence between chunks, bytes dropped. */
export interface LingerLimits {
  readonly totalMs: number;
  readonly idleMs: number;
  readonly maxBytes: number;
}

export const LINGER: LingerLimits = { totalMs: 10_000, idleMs: 2_000, maxBytes: 64 * 1024 * 1024 };

/**
 * Writes `text` (the whole body of a response whose headers are already written, `Connection: close`), then
 * drains `req` until it ends, the client goes quiet for LINGER.idleMs or closes, or LINGER.totalMs /
 * LINGER.maxBytes pass; then ends the response, and node:http closes the socket.
 */
export function endLingering(req: IncomingMessage, res: ServerResponse, text: string, limits: LingerLimits = LINGER): void {
  res.write(text);
  let dropped = 0;
  let done = false;
  const finish = (): void => {
    if (done) return;
    done = true;
    clearTimeout(total);
    clearTimeout(idle);
    req.off('data', onData);
    req.off('end', finish);
    req.off('close', finish);
    req.off('error', finish);
    res.end();
  };
  const onData = (chunk: Buffer): void => {
    dropped += chunk.length;
    if (dropped > limits.maxBytes) finish();
    else idle.refresh();
  };
  const total = setTimeout(finish, limits.totalMs);
  const idle = setTimeout(finish, limits.idleMs);
  req.on('data', onData);
  req.once('end', finish);
  req.once('close', finish);
  req.once('error', finish);
  // Next tick: a body reader that stopped early (readRaw's iterator) removes its 'readable' listener, and
  // the stream only accepts flowing mode again once it has noticed that.
  process.nextTick(() => {
    if (!done) req.resume();
  });
}
