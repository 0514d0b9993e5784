// Publish/subscribe needs its own connection: once it has subscribed, a RESP2 connection only carries
// (un)subscribe confirmations and messages. After every reconnect the subscriber subscribes again to every
// channel it holds, and reports 'up' only once Redis has confirmed them all (messages published while it was
// down are lost: what relies on them must resync on 'up').
import type { RedisConnection } from './connection.ts';
import { RedisError } from './errors.ts';
import { RedisLink, linkOptions, type LinkSettings } from './link.ts';
import { encodeCommand, type RespValue } from './resp.ts';
import { parseRedisUrl, type RedisUrl } from './url.ts';

export interface RedisSubscriberOptions extends LinkSettings {
  url: string | RedisUrl;
  /** Called for every message on a subscribed channel. */
  onMessage: (channel: string, message: string) => void;
}

export class RedisSubscriber {
  readonly #link: RedisLink;
  readonly #onMessage: (channel: string, message: string) => void;
  readonly #channels = new Set<string>();
  /** Channels subscribed on the current connection (confirmed). */
  readonly #confirmed = new Set<string>();
  readonly #waiters = new Map<string, (() => void)[]>();
  #connection: RedisConnection | null = null;
  #up = false;
  #closed = false;
  readonly #listeners = { up: new Set<() => void>(), down: new Set<(error: Error) => void>() };

  constructor(options: RedisSubscriberOptions) {
    this.#onMessage = options.onMessage;
    this.#link = new RedisLink(
      linkOptions(typeof options.url === 'string' ? parseRedisUrl(options.url) : options.url, options),
      {
        connected: (connection) => this.#onConnected(connection),
        reply: (value) => this.#onReply(value),
        lost: () => this.#onLost(),
        state: (up, error) => {
          if (!up) this.#setUp(false, error);
        },
      },
    );
  }

  /** Connected and every channel confirmed. */
  get up(): boolean {
    return this.#up;
  }

  /** Starts the connection; same contract as RedisClient.connect(). */
  connect(): Promise<void> {
    return this.#link.start();
  }

  on(event: 'up', listener: () => void): () => void;
  on(event: 'down', listener: (error: Error) => void): () => void;
  on(event: 'up' | 'down', listener: (() => void) | ((error: Error) => void)): () => void {
    const set = this.#listeners[event] as Set<typeof listener>;
    set.add(listener);
    return () => void set.delete(listener);
  }

  /** Subscribes (now, and again after every reconnect); resolves when Redis confirms it on a connection. */
  subscribe(channel: string): Promise<void> {
    if (this.#closed) return Promise.reject(new RedisError('REDIS_CLOSED', 'the Redis subscriber is closed'));
    this.#channels.add(channel);
    if (this.#confirmed.has(channel)) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.#waiters.set(channel, [...(this.#waiters.get(channel) ?? []), resolve]));
    this.#connection?.write(encodeCommand(['SUBSCRIBE', channel]));
    return done;
  }

  unsubscribe(channel: string): void {
    if (!this.#channels.delete(channel)) return;
    this.#confirmed.delete(channel);
    this.#connection?.write(encodeCommand(['UNSUBSCRIBE', channel]));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#link.stop()?.destroy(new RedisError('REDIS_CLOSED', 'the Redis subscriber is closed'));
  }

  #onConnected(connection: RedisConnection): void {
    this.#connection = connection;
    if (this.#channels.size === 0) return this.#setUp(true, null);
    connection.write(encodeCommand(['SUBSCRIBE', ...this.#channels]));
  }

  #onReply(value: RespValue): void {
    if (!Array.isArray(value)) return;
    const [kind, channel, payload] = value;
    if (typeof channel !== 'string') return;
    if (kind === 'message' && typeof payload === 'string') return this.#onMessage(channel, payload);
    if (kind !== 'subscribe' || !this.#channels.has(channel)) return;
    this.#confirmed.add(channel);
    for (const resolve of this.#waiters.get(channel) ?? []) resolve();
    this.#waiters.delete(channel);
    if (!this.#up && [...this.#channels].every((c) => this.#confirmed.has(c))) this.#setUp(true, null);
  }

  #onLost(): void {
    this.#connection = null;
    this.#confirmed.clear();
  }

  #setUp(up: boolean, error: Error | null): void {
    if (this.#up === up && up) return;
    this.#up = up;
    if (up) for (const listener of this.#listeners.up) listener();
    else for (const listener of this.#listeners.down) listener(error ?? new RedisError('REDIS_CONNECTION', 'connection lost'));
  }
}
