// Keeps one connection open: connects, and after a failure or a loss reconnects with exponential backoff and
// jitter (bounded), until stopped. 'up' and 'down' are reported on transitions only, so an outage is one
// 'down' however many attempts fail during it (one warning per outage, issue 13).
import type { ConnectionOptions } from 'node:tls';
import { RedisConnection, type ConnectOptions } from './connection.ts';
import { RedisError } from './errors.ts';
import type { RespValue } from './resp.ts';
import type { RedisUrl } from './url.ts';

export interface ReconnectOptions {
  /** First retry delay; doubles per failed attempt. */
  reconnectMinDelayMs: number;
  /** Ceiling of the retry delay. */
  reconnectMaxDelayMs: number;
}

/** What a user of a link (the client, the subscriber) may set; linkOptions() fills in the defaults. */
export interface LinkSettings {
  /** Connect plus handshake bound. Default 2000 ms. */
  connectTimeoutMs?: number;
  /** Reconnect backoff: first delay and ceiling. Defaults 50 ms and 2000 ms. */
  reconnectMinDelayMs?: number;
  reconnectMaxDelayMs?: number;
  tls?: ConnectionOptions;
  clientName?: string;
}

/** The options of a link to `target`, with the defaults of every setting not given. */
export function linkOptions(target: RedisUrl, settings: LinkSettings): ConnectOptions & ReconnectOptions {
  const options: ConnectOptions & ReconnectOptions = {
    target,
    connectTimeoutMs: settings.connectTimeoutMs ?? 2000,
    reconnectMinDelayMs: settings.reconnectMinDelayMs ?? 50,
    reconnectMaxDelayMs: settings.reconnectMaxDelayMs ?? 2000,
  };
  if (settings.tls !== undefined) options.tls = settings.tls;
  if (settings.clientName !== undefined) options.clientName = settings.clientName;
  return options;
}

export interface LinkHandlers {
  /** A connection is ready (handshake done). */
  connected(connection: RedisConnection): void;
  reply(value: RespValue): void;
  /** The connection in use ended (`connected` was called for it before). */
  lost(error: Error): void;
  /** Up/down transitions: up after `connected`, down at the first failure of an outage. */
  state(up: boolean, error: Error | null): void;
}

/** Delay before retry `attempt` (0-based): min·2^attempt capped at max, then "equal jitter" (half fixed, half random). */
export function backoffDelay(attempt: number, minMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

type LinkState = 'initial' | 'up' | 'down';

export class RedisLink {
  readonly #options: ConnectOptions & ReconnectOptions;
  readonly #handlers: LinkHandlers;
  #connection: RedisConnection | null = null;
  #state: LinkState = 'initial';
  #attempt = 0;
  #timer: NodeJS.Timeout | null = null;
  #connecting = false;
  #stopped = false;
  /** Callers of start() waiting for the outcome of the next attempt. */
  #waiting: { resolve(): void; reject(error: Error): void }[] = [];

  constructor(options: ConnectOptions & ReconnectOptions, handlers: LinkHandlers) {
    this.#options = options;
    this.#handlers = handlers;
  }

  get up(): boolean {
    return this.#state === 'up';
  }

  get connection(): RedisConnection | null {
    return this.#connection;
  }

  /** Starts connecting; resolves at the first ready connection, rejects with the first attempt's error (retries go on). */
  start(): Promise<void> {
    if (this.#state === 'up') return Promise.resolve();
    if (this.#stopped) return Promise.reject(new RedisError('REDIS_CLOSED', 'the Redis client is closed'));
    const first = new Promise<void>((resolve, reject) => void this.#waiting.push({ resolve, reject }));
    if (!this.#connecting && this.#timer === null) void this.#attemptNow();
    return first;
  }

  /** Drops the current connection (e.g. after a command timeout left replies out of order) and reconnects. */
  reset(reason: Error): void {
    this.#connection?.destroy(reason);
  }

  /** No more reconnects; returns the open connection, if any, for the owner to end gracefully. */
  stop(): RedisConnection | null {
    this.#stopped = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    return this.#connection;
  }

  async #attemptNow(): Promise<void> {
    this.#timer = null;
    if (this.#stopped) return;
    this.#connecting = true;
    let connection: RedisConnection;
    try {
      connection = await RedisConnection.open(this.#options);
    } catch (error) {
      this.#connecting = false;
      this.#settleFirst(error as Error);
      this.#down(error as Error);
      return;
    }
    this.#connecting = false;
    if (this.#stopped) {
      connection.destroy(new RedisError('REDIS_CLOSED', 'the Redis client is closed'));
      return this.#settleFirst(new RedisError('REDIS_CLOSED', 'the Redis client was closed while connecting'));
    }
    this.#attempt = 0;
    this.#connection = connection;
    connection.bind({
      reply: (value) => this.#handlers.reply(value),
      closed: (error) => {
        this.#connection = null;
        this.#handlers.lost(error);
        this.#down(error);
      },
    });
    this.#state = 'up';
    this.#handlers.connected(connection);
    this.#handlers.state(true, null);
    this.#settleFirst(null);
  }

  #down(error: Error): void {
    if (this.#state !== 'down') {
      this.#state = 'down';
      this.#handlers.state(false, error);
    }
    if (this.#stopped) return;
    const delay = backoffDelay(this.#attempt++, this.#options.reconnectMinDelayMs, this.#options.reconnectMaxDelayMs);
    this.#timer = setTimeout(() => void this.#attemptNow(), delay);
    this.#timer.unref();
  }

  #settleFirst(error: Error | null): void {
    for (const waiter of this.#waiting.splice(0)) {
      if (error === null) waiter.resolve();
      else waiter.reject(error);
    }
  }
}
