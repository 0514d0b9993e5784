// The exporter's queue: spans encoded as OTLP JSON straight into the request bodies they will be sent as
// (SpanJsonWriter writes into a batch). Each batch is one Buffer holding the body prefix (resource and
// scope) and the spans comma-separated; the suffix is added when it is taken. Sending it is one write of a
// ready Buffer (no join, no byteLength scan, no string to UTF-8 conversion at send time), and no span object
// or string outlives the turn that built it. Sent batches' Buffers are kept for the next ones (two: one
// being sent while the next fills), and a new Buffer starts at the size the last batch reached: no
// doubling and copying through 64 kB, 128 kB… for every batch, no fresh pages to fault in.
import { ensure, putByte, type ByteTarget } from './bytes.ts';
import { REQUEST_SUFFIX } from './span-json.ts';

/** One request body being filled. */
export interface Batch extends ByteTarget {
  /** Bytes used (len), prefix included. */
  spans: number;
}

const SUFFIX = Buffer.from(REQUEST_SUFFIX, 'utf8');
/** First Buffer of a batch; it grows (doubling) when spans do not fit. */
const INITIAL_BYTES = 64 * 1024;
/** Sent batches' Buffers kept for reuse. */
const MAX_SPARES = 2;

export class BatchQueue {
  readonly #prefix: Buffer;
  readonly #batchSize: number;
  readonly #queueSize: number;
  #batches: Batch[] = [];
  #queued = 0;
  #spares: Buffer[] = [];
  /** Bytes the last taken batch used: where a new Buffer starts. */
  #lastBytes = INITIAL_BYTES;

  constructor(prefix: string, batchSize: number, queueSize: number) {
    this.#prefix = Buffer.from(prefix, 'utf8');
    this.#batchSize = batchSize;
    this.#queueSize = queueSize;
  }

  /** Spans waiting. */
  get queued(): number {
    return this.#queued;
  }

  /** Whether a batch is ready to go out without waiting for the interval. */
  get full(): boolean {
    const first = this.#batches[0];
    return first !== undefined && (first.spans >= this.#batchSize || this.#batches.length > 1);
  }

  /**
   * Queues `spans` spans that `fill` writes at the end of the target it is given (`{span},{span}`, comma
   * between spans, none around them). They stay together in one batch; a batch is closed when the next
   * group would take it past batch_size. False, and nothing queued, when the queue has no room for all of
   * them. When `fill` throws, nothing of it stays queued and the error is rethrown.
   */
  write(spans: number, fill: (t: ByteTarget) => void): boolean {
    if (spans <= 0) return true;
    if (this.#queued + spans > this.#queueSize) return false;
    let batch = this.#batches[this.#batches.length - 1];
    if (batch === undefined || (batch.spans > 0 && batch.spans + spans > this.#batchSize)) batch = this.#open();
    const mark = batch.len;
    try {
      if (batch.spans > 0) putByte(batch, 0x2c); // ','
      fill(batch);
    } catch (err) {
      batch.len = mark;
      if (batch.spans === 0) this.#batches.pop(); // opened for this group only
      throw err;
    }
    batch.spans += spans;
    this.#queued += spans;
    return true;
  }

  /** The oldest batch as a finished body, removed from the queue; null when nothing waits. */
  shift(): { body: Buffer; spans: number; batch: Batch } | null {
    const batch = this.#batches.shift();
    if (batch === undefined) return null;
    this.#queued -= batch.spans;
    ensure(batch, SUFFIX.length);
    SUFFIX.copy(batch.buf, batch.len);
    this.#lastBytes = batch.len + SUFFIX.length;
    return { body: batch.buf.subarray(0, batch.len + SUFFIX.length), spans: batch.spans, batch };
  }

  /** A sent batch's Buffer, for the next batch (the caller is done with it). */
  recycle(batch: Batch): void {
    // One smaller than the batches now are would only be outgrown (and copied) again.
    if (this.#spares.length < MAX_SPARES && batch.buf.length >= this.#lastBytes) this.#spares.push(batch.buf);
  }

  /** Empties the queue; returns the spans dropped. */
  clear(): number {
    const n = this.#queued;
    this.#batches = [];
    this.#queued = 0;
    this.#spares = [];
    return n;
  }

  #open(): Batch {
    let buf = this.#spares.pop() ?? Buffer.allocUnsafe(Math.max(INITIAL_BYTES, Math.ceil(this.#lastBytes * 1.125), this.#prefix.length * 2));
    if (buf.length < this.#prefix.length) buf = Buffer.allocUnsafe(this.#prefix.length * 2 + INITIAL_BYTES);
    this.#prefix.copy(buf, 0);
    const batch: Batch = { buf, len: this.#prefix.length, spans: 0 };
    this.#batches.push(batch);
    return batch;
  }
}
