// One upstream socket of the h1 pool: its listeners are installed once and dispatch to whichever exchange
// owns the socket now, so a reused socket costs no listener churn per request.
import net from 'node:net';
import type { Socket } from 'node:net';
import tls from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { ResponseParser } from './parser.ts';

/** The exchange that currently owns a connection. */
export interface ConnectionUser {
  /** TCP (and for https the TLS handshake) is up. */
  onConnect(): void;
  onData(chunk: Buffer): void;
  /** The socket is gone; `error` is the socket error, if any, that closed it. */
  onClose(error: NodeJS.ErrnoException | undefined): void;
}

export interface Endpoint {
  host: string;
  port: number;
  secure: boolean;
  /** SNI name; omitted for IP literals (RFC 6066 §3). */
  servername: string | undefined;
}

/** A close with no answer this soon after the write is the keep-alive race (a round trip): replayed once. */
const REPLAY_WINDOW_MS = 100;

export class Connection {
  readonly socket: Socket;
  readonly parser = new ResponseParser();
  user: ConnectionUser | undefined;
  /** Requests written on this socket so far; > 1 means the current one reused it. */
  uses = 0;
  /** Date.now() when it went idle (pool eviction). */
  idleSince = 0;
  #error: NodeJS.ErrnoException | undefined;
  #closed = false;

  /** `onGone` runs once when the socket closes, whoever owned it. */
  constructor(endpoint: Endpoint, session: Buffer | undefined, onGone: (c: Connection) => void, onSession: (s: Buffer) => void) {
    const { host, port } = endpoint;
    let socket: Socket;
    if (endpoint.secure) {
      const options: tls.ConnectionOptions = { host, port, ALPNProtocols: ['http/1.1'] };
      if (endpoint.servername !== undefined) options.servername = endpoint.servername;
      if (session !== undefined) options.session = session;
      const s: TLSSocket = tls.connect(options);
      s.on('session', onSession); // resumption for the next socket, as https.Agent does
      s.once('secureConnect', () => this.user?.onConnect());
      socket = s;
    } else {
      socket = net.connect({ host, port });
      socket.once('connect', () => this.user?.onConnect());
    }
    this.socket = socket;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 1000);
    socket.on('data', (chunk: Buffer) => {
      const user = this.user;
      if (user !== undefined) user.onData(chunk);
      else socket.destroy(); // bytes nobody asked for on an idle socket: it is not in a known state
    });
    socket.on('error', (err: NodeJS.ErrnoException) => (this.#error ??= err));
    socket.on('close', () => {
      this.#closed = true;
      onGone(this);
      const user = this.user;
      this.user = undefined;
      user?.onClose(this.#error);
    });
  }

  get closed(): boolean {
    return this.#closed || this.socket.destroyed;
  }

  /**
   * Closed by the server just as a request was written on this reused socket (its keep-alive timeout racing
   * ours), with nothing of an answer: most likely never processed, so it may go once more on a new socket.
   * Later, the server may have done the work (a generation run and billed): sent twice, it would be done twice.
   * `writtenAt`: performance.now() when the request was handed to the OS in full, 0 while it was not.
   */
  keepAliveRace(writtenAt: number, error: NodeJS.ErrnoException | undefined): boolean {
    const code = error?.code;
    const justWritten = writtenAt === 0 || performance.now() - writtenAt <= REPLAY_WINDOW_MS;
    return this.parser.fresh && this.uses > 1 && justWritten && (code === undefined || code === 'ECONNRESET' || code === 'EPIPE');
  }

  destroy(): void {
    this.socket.destroy();
  }
}
