// A small Redis client of our own (issue 13: the product stays dependency-free). One connection, pipelined:
// every command is written as soon as it is issued and replies are matched to commands in order. While the
// connection is down, commands wait in a bounded queue and go out on reconnect. A command not answered within
// its timeout is rejected, and since every later reply would then be matched to the wrong command, the
// connection is reset (the commands in flight with it are rejected: they may or may not have run).
import type { RedisConnection } from './connection.ts';
import { RedisError, RedisReplyError, commandName } from './errors.ts';
import { RedisLink, linkOptions, type LinkSettings } from './link.ts';
import { RespError, encodeCommand, type CommandArg, type RespValue } from './resp.ts';
import type { RedisScript } from './script.ts';
import { describeRedisUrl, parseRedisUrl, type RedisUrl } from './url.ts';

export interface RedisClientOptions extends LinkSettings {
  /** redis://[user:password@]host[:port][/db] or rediss://, or an already parsed URL. */
  url: string | RedisUrl;
  /** Bound on one command, from the call (so time spent queued while Redis is down counts). Default 1000 ms. */
  commandTimeoutMs?: number;
  /** Commands queued plus in flight; beyond it a command is rejected with REDIS_QUEUE_FULL. Default 10,000. */
  maxPending?: number;
  /** How long close() waits for replies in flight. Default 500 ms. */
  closeTimeoutMs?: number;
}

export interface SendOptions {
  /** This command's timeout instead of the client's. */
  timeoutMs?: number;
}

interface Pending {
  readonly name: string;
  readonly bytes: Buffer;
  readonly resolve: (value: RespValue) => void;
  readonly reject: (error: Error) => void;
  timer: NodeJS.Timeout | null;
  sent: boolean;
  done: boolean;
}

type UpListener = () => void;
type DownListener = (error: Error) => void;

export class RedisClient {
  readonly target: RedisUrl;
  readonly #link: RedisLink;
  readonly #commandTimeoutMs: number;
  readonly #maxPending: number;
  readonly #closeTimeoutMs: number;
  /** Waiting for a connection, oldest first. */
  #queued: Pending[] = [];
  /** Written, reply not yet read, in write order. */
  #inflight: Pending[] = [];
  #outbox: Buffer[] = [];
  #flushScheduled = false;
  #connection: RedisConnection | null = null;
  #closing = false;
  #started = false;
  #drained: (() => void) | null = null;
  readonly #up = new Set<UpListener>();
  readonly #down = new Set<DownListener>();

  constructor(options: RedisClientOptions) {
    this.target = typeof options.url === 'string' ? parseRedisUrl(options.url) : options.url;
    this.#commandTimeoutMs = options.commandTimeoutMs ?? 1000;
    this.#maxPending = options.maxPending ?? 10_000;
    this.#closeTimeoutMs = options.closeTimeoutMs ?? 500;
    this.#link = new RedisLink(
      linkOptions(this.target, options),
      {
        connected: (connection) => this.#onConnected(connection),
        reply: (value) => this.#onReply(value),
        lost: (error) => this.#onLost(error),
        state: (up, error) => this.#emit(up, error),
      },
    );
  }

  /** The redacted URL, for logs. */
  get description(): string {
    return describeRedisUrl(this.target);
  }

  get up(): boolean {
    return this.#link.up;
  }

  /** Commands queued or in flight. */
  get pending(): number {
    return this.#queued.length + this.#inflight.length;
  }

  /**
   * Starts the connection. Resolves once connected and authenticated; rejects with the first attempt's error
   * (a clear REDIS_AUTH or REDIS_CONNECTION, for `--check` and startup) while reconnecting goes on in the
   * background until close(). Optional: the first command starts the connection too.
   */
  connect(): Promise<void> {
    if (this.#closing) return Promise.reject(closedError());
    this.#started = true;
    return this.#link.start();
  }

  /** 'up': connected (again); 'down': first failure of an outage. Returns a function removing the listener. */
  on(event: 'up', listener: UpListener): () => void;
  on(event: 'down', listener: DownListener): () => void;
  on(event: 'up' | 'down', listener: UpListener | DownListener): () => void {
    const set = (event === 'up' ? this.#up : this.#down) as Set<UpListener | DownListener>;
    set.add(listener);
    return () => void set.delete(listener);
  }

  /** Sends one command; resolves with its reply, rejects with a RedisError (a RedisReplyError for an error reply). */
  send(args: readonly CommandArg[], options: SendOptions = {}): Promise<RespValue> {
    const name = commandName(args[0]);
    if (this.#closing) return Promise.reject(closedError());
    if (this.pending >= this.#maxPending) {
      return Promise.reject(new RedisError('REDIS_QUEUE_FULL', `${name}: ${this.pending} Redis commands already waiting (max_pending ${this.#maxPending})`));
    }
    if (!this.#started) this.connect().catch(() => {}); // the first command connects; failures surface on it
    return new Promise((resolve, reject) => {
      const entry: Pending = { name, bytes: encodeCommand(args), resolve, reject, timer: null, sent: false, done: false };
      const timeoutMs = options.timeoutMs ?? this.#commandTimeoutMs;
      entry.timer = setTimeout(() => this.#onTimeout(entry, timeoutMs), timeoutMs);
      if (this.#connection === null) this.#queued.push(entry);
      else this.#write(entry);
    });
  }

  /** Runs a script by EVALSHA; on NOSCRIPT (cache flushed, failover, restart) by EVAL, which caches it again. */
  async evalScript(script: RedisScript, keys: readonly CommandArg[], args: readonly CommandArg[], options: SendOptions = {}): Promise<RespValue> {
    try {
      return await this.send(['EVALSHA', script.sha1, keys.length, ...keys, ...args], options);
    } catch (error) {
      if (!(error instanceof RedisReplyError) || error.replyCode !== 'NOSCRIPT') throw error;
      return this.send(['EVAL', script.source, keys.length, ...keys, ...args], options);
    }
  }

  /**
   * Stops reconnecting, rejects what is still queued, waits for replies in flight (at most closeTimeoutMs),
   * then closes the connection. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    const connection = this.#link.stop();
    for (const entry of this.#queued.splice(0)) this.#settle(entry, closedError());
    if (this.#inflight.some((entry) => !entry.done)) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.#closeTimeoutMs);
        this.#drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    this.#drained = null;
    connection?.destroy(closedError());
  }

  #write(entry: Pending): void {
    entry.sent = true;
    this.#inflight.push(entry);
    this.#outbox.push(entry.bytes);
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    // Commands issued in the same tick leave in one write (one syscall, one TCP segment when small).
    queueMicrotask(() => {
      this.#flushScheduled = false;
      const bytes = this.#outbox.length === 1 ? this.#outbox[0] : Buffer.concat(this.#outbox);
      this.#outbox = [];
      if (bytes !== undefined) this.#connection?.write(bytes);
    });
  }

  #onConnected(connection: RedisConnection): void {
    this.#connection = connection;
    for (const entry of this.#queued.splice(0)) this.#write(entry);
  }

  #onReply(value: RespValue): void {
    const entry = this.#inflight.shift();
    if (entry === undefined) return this.#link.reset(new RedisError('REDIS_CONNECTION', 'a reply arrived that no command was waiting for'));
    if (value instanceof RespError) this.#settle(entry, new RedisReplyError(entry.name, value));
    else this.#settle(entry, null, value);
    if (this.#inflight.length === 0) this.#drained?.();
  }

  #onLost(error: Error): void {
    this.#connection = null;
    this.#outbox = [];
    for (const entry of this.#inflight.splice(0)) {
      this.#settle(entry, new RedisError('REDIS_CONNECTION', `${entry.name}: connection lost before the reply (the command may or may not have run)`, { cause: error }));
    }
    this.#drained?.();
  }

  #onTimeout(entry: Pending, timeoutMs: number): void {
    entry.timer = null;
    if (entry.done) return;
    const where = entry.sent ? 'no reply' : 'not sent (Redis unavailable)';
    this.#settle(entry, new RedisError('REDIS_TIMEOUT', `${entry.name}: ${where} within ${timeoutMs} ms`));
    if (!entry.sent) {
      this.#queued.splice(this.#queued.indexOf(entry), 1);
      return;
    }
    this.#link.reset(new RedisError('REDIS_TIMEOUT', `${entry.name} timed out: connection reset to keep replies in order`));
  }

  #settle(entry: Pending, error: Error | null, value: RespValue = null): void {
    if (entry.done) return;
    entry.done = true;
    if (entry.timer !== null) clearTimeout(entry.timer);
    entry.timer = null;
    if (error === null) entry.resolve(value);
    else entry.reject(error);
  }

  #emit(up: boolean, error: Error | null): void {
    if (up) for (const listener of this.#up) listener();
    else for (const listener of this.#down) listener(error ?? new RedisError('REDIS_CONNECTION', 'connection lost'));
  }
}

function closedError(): RedisError {
  return new RedisError('REDIS_CLOSED', 'the Redis client is closed');
}
