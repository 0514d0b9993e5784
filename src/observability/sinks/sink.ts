// The common part of every observability sink: a bounded in-memory queue filled by the event listener (O(1),
// nothing serialised on the request path) and drained off it, on a timer, when enough records are waiting,
// and on close. Records that do not fit are dropped and counted, never blocked on: observability must not
// slow a request or grow memory without bound when its destination is slow or down.
import type { Clock, TimerHandle } from '../../lib/clock.ts';
import type { Logger } from '../../log.ts';
import type { LogRecord, StreamName } from '../records.ts';

/** Records waiting per sink, at most; beyond it new records are dropped (and counted). */
export const QUEUE_LIMIT = 10_000;
/** Minimum gap between two warnings of one sink (a dead destination must not flood the log). */
const WARN_EVERY_MS = 60_000;

export interface QueuedRecord {
  readonly stream: StreamName;
  readonly record: LogRecord;
}

export interface SinkDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  /** One record to one line of JSON, redacted; throws for a record that cannot be serialised. */
  readonly serialize: (record: LogRecord) => string;
  /** Told about every record that was not delivered. */
  readonly onDrop: (stream: StreamName, count: number) => void;
}

export interface SinkOptions {
  /** Drain at least this often (ms). */
  flushInterval: number;
  /** Drain on the next turn of the event loop once this many records wait. */
  threshold: number;
  /** Records handed to one deliver() call, at most. */
  batchSize?: number;
  limit?: number;
}

export abstract class Sink {
  protected readonly deps: SinkDeps;
  readonly #options: SinkOptions;
  readonly #limit: number;
  #queue: QueuedRecord[] = [];
  #timer: TimerHandle | null = null;
  #scheduled = false;
  #draining: Promise<void> | null = null;
  #lastWarn = -Infinity;
  /** Set by close(): deliveries make one last attempt, without retries. */
  protected closing = false;
  /** Records handed to the destination successfully. */
  delivered = 0;

  constructor(deps: SinkDeps, options: SinkOptions) {
    this.deps = deps;
    this.#options = options;
    this.#limit = options.limit ?? QUEUE_LIMIT;
  }

  /** Delivers records (already taken off the queue); reports drops itself through `drop`. */
  protected abstract deliver(items: QueuedRecord[]): Promise<void>;

  get queued(): number {
    return this.#queue.length;
  }

  start(): void {
    this.closing = false;
    this.#arm();
  }

  /** Called by the event listener: O(1). */
  push(item: QueuedRecord): void {
    if (this.closing || this.#queue.length >= this.#limit) {
      this.deps.onDrop(item.stream, 1);
      return;
    }
    this.#queue.push(item);
    if (this.#queue.length >= this.#options.threshold && !this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        void this.flush();
      });
    }
  }

  /** Drains the queue (records pushed meanwhile included). One drain at a time; never rejects. */
  flush(): Promise<void> {
    this.#draining ??= this.#drain().finally(() => {
      this.#draining = null;
    });
    return this.#draining;
  }

  /** Stops the timer, delivers what is queued (one attempt each), releases resources. */
  async close(): Promise<void> {
    this.#timer?.cancel();
    this.#timer = null;
    this.closing = true;
    await this.flush();
    await this.release();
  }

  /** Files, sockets… Called once by close(). */
  protected async release(): Promise<void> {}

  /** Serialises items to lines; records that cannot be serialised are dropped. */
  protected lines(items: readonly QueuedRecord[]): string[] {
    const out: string[] = [];
    for (const item of items) {
      try {
        out.push(this.deps.serialize(item.record));
      } catch (err) {
        this.drop([item], 'record cannot be serialised', err);
      }
    }
    return out;
  }

  protected drop(items: readonly QueuedRecord[], why: string, err?: unknown): void {
    const counts = new Map<StreamName, number>();
    for (const item of items) counts.set(item.stream, (counts.get(item.stream) ?? 0) + 1);
    for (const [stream, n] of counts) this.deps.onDrop(stream, n);
    this.warn(`observability records dropped: ${why}`, { records: items.length, ...(err === undefined ? {} : { error: message(err) }) });
  }

  protected warn(msg: string, fields: Record<string, unknown>): void {
    const now = this.deps.clock.now();
    if (now - this.#lastWarn < WARN_EVERY_MS) return;
    this.#lastWarn = now;
    this.deps.logger.warn(msg, { sink: this.constructor.name, ...fields });
  }

  async #drain(): Promise<void> {
    const size = this.#options.batchSize ?? Infinity;
    while (this.#queue.length > 0) {
      let items: QueuedRecord[];
      if (this.#queue.length <= size) {
        items = this.#queue;
        this.#queue = [];
      } else {
        items = this.#queue.splice(0, size);
      }
      try {
        await this.deliver(items);
      } catch (err) {
        this.drop(items, 'delivery failed', err);
      }
    }
  }

  #arm(): void {
    this.#timer?.cancel();
    this.#timer = this.deps.clock.setTimeout(() => {
      void this.flush().then(() => {
        if (!this.closing) this.#arm();
      });
    }, Math.max(1, this.#options.flushInterval));
  }
}

export function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
