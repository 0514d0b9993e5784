// The pull queue of a streaming answer (sse events or byte chunks): the consumer's iterator reads from it,
// and when it lags the socket is paused (backpressure from a slow client) until the queue drains.
import type { Socket } from 'node:net';
import type { MeshError } from '../../../errors.ts';
import type { SseEvent } from '../../../lib/sse.ts';

type Item = SseEvent | Buffer;

/** Queued items before the upstream is paused, and when to resume. */
const HIGH_WATER = 64;
const LOW_WATER = 16;

export class StreamQueue {
  #socket: Socket | undefined;
  readonly #onResume: () => void;
  readonly #onPause: () => void;
  #items: Item[] = [];
  #head = 0;
  #waiter: { resolve: (r: IteratorResult<Item>) => void; reject: (e: unknown) => void } | undefined;
  #error: MeshError | undefined;
  #ended = false;
  #paused = false;

  /** `onPause`/`onResume` stop and restart the idle clock: while paused the silence is ours, not the upstream's. */
  constructor(socket: Socket | undefined, onResume: () => void, onPause: () => void) {
    this.#socket = socket;
    this.#onResume = onResume;
    this.#onPause = onPause;
  }

  push(item: Item): void {
    if (this.#ended) return;
    this.#items.push(item);
    this.#wake();
    if (this.#items.length - this.#head >= HIGH_WATER && !this.#paused && this.#socket !== undefined) {
      this.#paused = true;
      this.#socket.pause();
      this.#onPause();
    }
  }

  /** No more items; `drop` discards the ones not yet read (the consumer closed). */
  end(drop = false): void {
    this.#ended = true;
    if (drop) this.#clear();
    this.detach();
    this.#wake();
  }

  /** The iterator throws `err` after the items already queued. */
  fail(err: MeshError): void {
    this.#error = err;
    this.end();
  }

  /** The consumer wants nothing more but the socket must still be read to its end (release after [DONE]). */
  drop(): void {
    this.#clear();
    this.#unpause(false);
  }

  /** The socket went back to the pool: never pause or resume it again. */
  detach(): void {
    this.#unpause(false);
    this.#socket = undefined;
  }

  iterator(onReturn: () => void): AsyncIterableIterator<Item> & { takeReady(): Item | undefined } {
    return {
      next: (): Promise<IteratorResult<Item>> => this.#next(),
      // An item already queued, without a promise; undefined when next() must be awaited (or ends, or throws).
      takeReady: (): Item | undefined => (this.#head < this.#items.length ? (this.#ready() as IteratorYieldResult<Item>).value : undefined),
      return: (): Promise<IteratorResult<Item>> => {
        onReturn();
        return Promise.resolve({ done: true, value: undefined });
      },
      [Symbol.asyncIterator]() { return this; },
    };
  }

  #clear(): void {
    this.#items = [];
    this.#head = 0;
  }

  #unpause(rearm: boolean): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#socket?.resume();
    if (rearm) this.#onResume();
  }

  /** What the next read gets now: an item, the end, or the error (given once); undefined when it must wait. */
  #ready(): IteratorResult<Item> | MeshError | undefined {
    let item: Item | undefined;
    if (this.#head < this.#items.length) {
      item = this.#items[this.#head++];
      if (this.#head === this.#items.length) this.#clear(); // shift() per item is O(n) on long queues
    }
    if (this.#paused && this.#items.length - this.#head <= LOW_WATER) this.#unpause(true);
    if (item !== undefined) return { done: false, value: item };
    const error = this.#error;
    if (error !== undefined) {
      this.#error = undefined; // thrown once; afterwards the iterator is simply done
      return error;
    }
    if (this.#ended) return { done: true, value: undefined };
    return undefined;
  }

  #next(): Promise<IteratorResult<Item>> {
    const ready = this.#ready();
    if (ready === undefined) return new Promise((resolve, reject) => (this.#waiter = { resolve, reject }));
    return ready instanceof Error ? Promise.reject(ready) : Promise.resolve(ready);
  }

  /**
   * Settles a pending next() with what is ready now. Directly, not through another next(): a second promise
   * per item would cost a microtask per streamed event (issue 16, the streaming hot path).
   */
  #wake(): void {
    const waiter = this.#waiter;
    if (waiter === undefined) return;
    const ready = this.#ready();
    if (ready === undefined) return;
    this.#waiter = undefined;
    if (ready instanceof Error) waiter.reject(ready);
    else waiter.resolve(ready);
  }
}
