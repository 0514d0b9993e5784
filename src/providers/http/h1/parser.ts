// Incremental HTTP/1.1 response parser (RFC 9112): bytes in at any boundary, head / body slices / end out.
// Body slices are views of the socket's chunks (no copies). 1xx interim answers (100 Continue, 103 Early
// Hints) are skipped; 101 is refused (we never ask to upgrade).
import { ParseError, parseHead } from './head.ts';
import type { ResponseHead } from './head.ts';

export { ParseError };
export type { ResponseHead };

/** What one response produces, in order: onHead once, onBody zero or more times, onEnd once. */
export interface ParserSink {
  onHead(head: ResponseHead): void;
  onBody(chunk: Buffer): void;
  /** The answer is complete; `reusable`: keep-alive and no stray bytes after it. */
  onEnd(reusable: boolean): void;
}

/** Head bytes accepted before giving up (node:http's default is 16 KiB; some gateways send more). */
const MAX_HEAD = 64 * 1024;
/** A chunk-size line or trailer line longer than this is not HTTP. */
const MAX_LINE = 8 * 1024;
const LF = 10;
const CR = 13;
const CR_BYTE = Buffer.from('\r');

type State = 'idle' | 'head' | 'length' | 'close' | 'size' | 'data' | 'data-end' | 'trailers' | 'done';

export class ResponseParser {
  #sink: ParserSink | undefined;
  #state: State = 'idle';
  #noBody = false;
  /** Bytes of a head or line that straddles socket chunks. */
  #pending: Buffer | undefined;
  #remaining = 0;
  #keepAlive = false;

  /** Expects one response (for a HEAD request it has no body). */
  start(sink: ParserSink, noBody: boolean): void {
    this.#sink = sink;
    this.#noBody = noBody;
    this.#state = 'head';
    this.#pending = undefined;
  }

  /** True until the first byte of a response has been read. */
  get fresh(): boolean {
    return this.#state === 'head' && this.#pending === undefined;
  }

  /** Stops delivering: later bytes are ignored (the exchange failed or was closed). */
  stop(): void {
    this.#state = 'idle';
    this.#sink = undefined;
  }

  /** Feeds bytes from the socket; throws ParseError for a malformed answer. */
  push(chunk: Buffer): void {
    let pos = 0;
    const end = chunk.length;
    while (pos < end) {
      const state = this.#state;
      if (state === 'idle') return;
      if (state === 'done') throw new ParseError('bytes after the end of the response');
      if (state === 'head') pos = this.#head(chunk, pos);
      else if (state === 'length' || state === 'data') pos = this.#data(chunk, pos, state);
      else if (state === 'data-end') pos = this.#dataEnd(chunk, pos);
      else if (state === 'close') {
        this.#sink?.onBody(pos === 0 ? chunk : chunk.subarray(pos));
        return;
      } else {
        const next = this.#state === 'size' && this.#pending === undefined ? this.#sizeLine(chunk, pos) : -1;
        if (next !== -1) {
          pos = next;
          continue;
        }
        const nl = chunk.indexOf(LF, pos);
        const stop = nl < 0 ? end : nl + 1;
        let line = chunk.subarray(pos, stop);
        if (this.#pending !== undefined) line = Buffer.concat([this.#pending, line]);
        pos = stop;
        if (nl < 0) {
          if (line.length > MAX_LINE) throw new ParseError('chunk line too long');
          this.#pending = line;
          continue;
        }
        this.#pending = undefined;
        this.#line(line.toString('latin1').replace(/\r?\n$/, ''));
      }
      // The message ended: whatever follows in this chunk is not ours (no pipelining), so no reuse.
      if (this.#state === 'done') return this.#finish(pos === end);
    }
  }

  /** The socket ended: completes a close-delimited body; false when the answer is cut short. */
  eof(): boolean {
    if (this.#state !== 'close') return false;
    this.#finish(false);
    return true;
  }

  #head(chunk: Buffer, pos: number): number {
    let buf = pos === 0 ? chunk : chunk.subarray(pos);
    let from = 0;
    if (this.#pending !== undefined) {
      from = Math.max(0, this.#pending.length - 3);
      buf = Buffer.concat([this.#pending, buf]);
    }
    let at = buf.indexOf('\r\n\r\n', from);
    let skip = 4;
    if (at < 0) { // tolerate bare LF line ends, as llhttp does
      at = buf.indexOf('\n\n', from);
      skip = 2;
    }
    if (at < 0) {
      if (buf.length > MAX_HEAD) throw new ParseError('response head too large');
      this.#pending = buf;
      return chunk.length;
    }
    const used = at + skip - (this.#pending?.length ?? 0); // bytes of this chunk that belong to the head
    this.#pending = undefined;
    if (at > MAX_HEAD) throw new ParseError('response head too large');
    const head = parseHead(buf.toString('latin1', 0, at), this.#noBody);
    if (head.status < 200) {
      if (head.status === 101) throw new ParseError('unexpected 101 Switching Protocols');
      return pos + used; // interim answer: the real one follows
    }
    this.#keepAlive = head.keepAlive;
    this.#remaining = head.length;
    this.#state = head.framing === 'none' ? 'done' : head.framing === 'chunked' ? 'size' : head.framing;
    this.#sink?.onHead(head);
    return pos + used;
  }

  #data(chunk: Buffer, pos: number, state: 'length' | 'data'): number {
    const take = Math.min(this.#remaining, chunk.length - pos);
    const slice = pos === 0 && take === chunk.length ? chunk : chunk.subarray(pos, pos + take);
    this.#remaining -= take;
    if (this.#remaining === 0) this.#state = state === 'length' ? 'done' : 'data-end';
    this.#sink?.onBody(slice);
    return pos + take;
  }

  /** The CRLF (or bare LF) that closes chunk data: anything else is a framing error, found at once. */
  #dataEnd(chunk: Buffer, pos: number): number {
    const byte = chunk[pos];
    if (byte === LF) this.#state = 'size';
    else if (byte !== CR || this.#pending !== undefined) throw new ParseError('missing CRLF after chunk data');
    else this.#pending = CR_BYTE; // the CR; its LF may be in the next read
    if (byte === LF) this.#pending = undefined;
    return pos + 1;
  }

  /**
   * The usual chunk-size line, read from the bytes: 1 to 12 hex digits, then CRLF or LF, whole in this chunk.
   * Returns where the chunk data starts, or -1 for anything else (extensions, spaces, a line split across
   * reads, an error), which #line then parses. A stream has one such line per upstream write (issue 16).
   */
  #sizeLine(chunk: Buffer, pos: number): number {
    let size = 0;
    let i = pos;
    for (const last = Math.min(chunk.length, pos + 12); i < last; i++) {
      const c = chunk[i] as number;
      const digit = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
      if (digit === -1) break;
      size = size * 16 + digit;
    }
    if (i === pos) return -1;
    if (chunk[i] === CR) i++;
    if (chunk[i] !== LF) return -1;
    this.#remaining = size;
    this.#state = size === 0 ? 'trailers' : 'data';
    return i + 1;
  }

  /** One line of the chunked coding (RFC 9112 §7.1): size[;ext] or a trailer. */
  #line(line: string): void {
    if (this.#state === 'size') {
      const m = /^([0-9a-fA-F]{1,12})[ \t]*(;.*)?$/.exec(line);
      if (m === null) throw new ParseError(`bad chunk size "${line.slice(0, 30)}"`);
      this.#remaining = Number.parseInt(m[1] as string, 16);
      this.#state = this.#remaining === 0 ? 'trailers' : 'data';
    } else if (line === '') {
      this.#state = 'done'; // end of the trailer section
    } else if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+:/.test(line)) {
      throw new ParseError(`bad trailer line "${line.slice(0, 60)}"`);
    }
  }

  #finish(clean: boolean): void {
    const sink = this.#sink;
    this.#state = 'idle';
    this.#sink = undefined;
    sink?.onEnd(clean && this.#keepAlive);
  }
}
