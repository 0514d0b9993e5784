// Keep-alive pool of one provider (DESIGN §4 "Upstream transport"): at most `maxSockets` sockets open, idle
// ones reused last-in first-out (the warmest socket, and the cold ones age out), a FIFO wait queue when
// all are busy, and a socket goes back to the pool only after a complete response.
import { Connection } from './connection.ts';
import type { Endpoint } from './connection.ts';

/** Something waiting for a socket; `granted` may run synchronously inside acquire() or release(). */
export interface PoolWaiter {
  granted(connection: Connection): void;
}

export interface PoolOptions {
  endpoint: Endpoint;
  maxSockets: number;
  /**
   * An idle socket older than this is closed (ms): servers close theirs after a few seconds (node:http 5 s),
   * and writing to a socket the server is closing is the one failure a retry must then absorb.
   */
  idleTimeout: number;
}

export class Pool {
  readonly #options: PoolOptions;
  /** Idle sockets, most recently used last. */
  #idle: Connection[] = [];
  #waiting: PoolWaiter[] = [];
  readonly #all = new Set<Connection>();
  #session: Buffer | undefined;
  #sweeper: NodeJS.Timeout | undefined;
  readonly #onGone = (c: Connection): void => this.#gone(c);
  readonly #onSession = (s: Buffer): void => void (this.#session = s);

  constructor(options: PoolOptions) {
    this.#options = options;
  }

  /** Sockets open now (idle, busy and connecting). */
  get open(): number {
    return this.#all.size;
  }

  get idle(): number {
    return this.#idle.length;
  }

  /** Hands a socket to `waiter`: an idle one (unless `fresh`), a new one, or the next one released. */
  acquire(waiter: PoolWaiter, fresh = false): void {
    if (!fresh) {
      const idle = this.#idle.pop();
      if (idle !== undefined) return this.#grant(idle, waiter);
    }
    if (this.#all.size < this.#options.maxSockets) return this.#grant(this.#connect(), waiter);
    if (fresh) this.#waiting.unshift(waiter); // a retry already waited its turn once
    else this.#waiting.push(waiter);
  }

  /** Withdraws a waiter that no longer wants a socket (cancelled, timed out). */
  cancel(waiter: PoolWaiter): void {
    const i = this.#waiting.indexOf(waiter);
    if (i >= 0) this.#waiting.splice(i, 1);
  }

  /** Returns a socket after its response: reused when `reusable`, else closed. */
  release(c: Connection, reusable: boolean): void {
    c.user = undefined;
    if (!reusable || c.closed) return c.destroy();
    const next = this.#waiting.shift();
    if (next !== undefined) return this.#grant(c, next);
    c.idleSince = Date.now();
    c.socket.unref(); // an idle socket does not keep the process alive (as http.Agent does)
    this.#idle.push(c);
    this.#sweeper ??= setInterval(() => this.#sweep(), Math.max(250, this.#options.idleTimeout / 2)).unref();
  }

  /** Closes every socket, idle and busy (their exchanges fail as closed by the upstream). */
  close(): void {
    this.#idle = [];
    this.#stopSweeper();
    for (const c of [...this.#all]) c.destroy();
  }

  #grant(c: Connection, waiter: PoolWaiter): void {
    c.socket.ref();
    c.uses++;
    waiter.granted(c);
  }

  #connect(): Connection {
    const c = new Connection(this.#options.endpoint, this.#session, this.#onGone, this.#onSession);
    this.#all.add(c);
    return c;
  }

  #gone(c: Connection): void {
    this.#all.delete(c);
    const i = this.#idle.indexOf(c);
    if (i >= 0) this.#idle.splice(i, 1);
    if (this.#idle.length === 0) this.#stopSweeper();
    // A slot is free: the longest waiter gets a new socket.
    const next = this.#waiting.shift();
    if (next !== undefined) this.#grant(this.#connect(), next);
  }

  #sweep(): void {
    const limit = Date.now() - this.#options.idleTimeout;
    // Oldest first: #idle is ordered by the time each socket went idle.
    while (this.#idle.length > 0 && (this.#idle[0] as Connection).idleSince <= limit) (this.#idle.shift() as Connection).destroy();
    if (this.#idle.length === 0) this.#stopSweeper();
  }

  #stopSweeper(): void {
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }
}
