// Server-Sent Events codec for the streaming hot path: parse upstream bytes, write events back.
// Parsing follows https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
// Writing follows what OpenAI sends (reference/openai-wire.md §2): `data: <json>\n\n`, no named events.
import { MeshError } from '../errors.ts';

export interface SseEvent {
  data: string;
  event?: string;
  id?: string;
}

export interface SseParserOptions {
  /**
   * Largest single event (its field lines plus any unfinished line) kept in memory.
   * Protects the proxy from an upstream that never sends a blank line.
   * @default 8 MiB
   */
  maxEventBytes?: number;
}

export const DEFAULT_MAX_EVENT_BYTES = 8 * 1024 * 1024;

const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
const SPACE = 0x20;
const BOM = [0xef, 0xbb, 0xbf] as const;
const EMPTY = Buffer.alloc(0);

/**
 * Incremental parser: feed byte chunks, get complete events. WHATWG EventSource rules:
 * lines end in \n, \r or \r\n (mixed, CRLF possibly split across chunks); lines starting with ':'
 * are comments; 'field: value' strips ONE leading space; 'data' lines are joined with '\n'; an event
 * is dispatched on a blank line; an event with no data lines is not dispatched; unknown fields and
 * 'retry' are ignored. A UTF-8 BOM at stream start is skipped.
 *
 * Lines are split on bytes and decoded one complete line at a time: CR and LF never occur inside a
 * multi-byte UTF-8 sequence, so a character split across chunks is always reassembled before decoding.
 *
 * `id` is reported on the event whose block carried it (not carried over to later events as
 * EventSource's lastEventId is), so a proxy re-emitting events reproduces the upstream bytes.
 */
export class SseParser {
  /** Pieces of the current unfinished line (copied, so callers may reuse their chunks). */
  #pieces: Buffer[] = [];
  #pieceBytes = 0;
  /** The previous chunk ended in CR: a LF at the start of the next one belongs to that CRLF. */
  #skipLF = false;
  /** Bytes seen so far while deciding whether the stream starts with a BOM; null once decided. */
  #head: Buffer | null = EMPTY;
  #data: string | undefined;
  #event: string | undefined;
  #id: string | undefined;
  /** Bytes of the field lines of the event being built. */
  #eventBytes = 0;
  readonly #max: number;

  constructor(options: SseParserOptions = {}) {
    this.#max = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
  }

  /** Bytes currently buffered (unfinished line plus the event being built), for a caller's safety cap. */
  get buffered(): number {
    return this.#pieceBytes + this.#eventBytes + (this.#head === null ? 0 : this.#head.length);
  }

  /** Returns the events completed by this chunk (possibly none). */
  push(chunk: Buffer): SseEvent[] {
    let buf = chunk;
    if (this.#head !== null) {
      // "One leading U+FEFF BYTE ORDER MARK character must be ignored if any are present."
      const b = this.#head.length === 0 ? chunk : Buffer.concat([this.#head, chunk]);
      let i = 0;
      while (i < 3 && i < b.length && b[i] === BOM[i]) i++;
      if (i === b.length && i < 3) {
        this.#head = Buffer.from(b); // still a possible BOM prefix: wait for more bytes
        return [];
      }
      this.#head = null;
      buf = i === 3 ? b.subarray(3) : b;
    }

    const events: SseEvent[] = [];
    const len = buf.length;
    let pos = 0;
    if (this.#skipLF && len > 0) {
      if (buf[0] === LF) pos = 1;
      this.#skipLF = false;
    }
    // Positions of the next LF and CR, searched with indexOf and reused until passed.
    // -2 means "not searched yet"; -1 means "none left in this chunk".
    let nextLF = -2;
    let nextCR = -2;
    while (pos < len) {
      if (nextLF !== -1 && nextLF < pos) nextLF = buf.indexOf(LF, pos);
      if (nextCR !== -1 && nextCR < pos) nextCR = buf.indexOf(CR, pos);
      const eol = nextLF === -1 ? nextCR : nextCR === -1 ? nextLF : Math.min(nextLF, nextCR);
      if (eol === -1) break;

      let line: Buffer;
      if (this.#pieceBytes > 0) {
        this.#pieces.push(buf.subarray(pos, eol));
        line = Buffer.concat(this.#pieces, this.#pieceBytes + eol - pos);
        this.#pieces = [];
        this.#pieceBytes = 0;
      } else {
        line = buf.subarray(pos, eol);
      }

      pos = eol + 1;
      if (buf[eol] === CR) {
        if (pos === len) this.#skipLF = true;
        else if (buf[pos] === LF) pos++;
      }
      this.#line(line, events);
    }

    if (pos < len) {
      this.#pieces.push(Buffer.from(buf.subarray(pos)));
      this.#pieceBytes += len - pos;
      this.#checkSize();
    }
    return events;
  }

  /** End of stream. Per spec an unfinished trailing event is discarded, so this returns []. */
  end(): SseEvent[] {
    this.#pieces = [];
    this.#pieceBytes = 0;
    this.#skipLF = false;
    this.#reset();
    return [];
  }

  #line(line: Buffer, events: SseEvent[]): void {
    const n = line.length;
    if (n === 0) {
      this.#dispatch(events);
      return;
    }
    if (line[0] === COLON) return; // comment, e.g. `: keep-alive`
    this.#eventBytes += n;
    this.#checkSize();

    // Fast path for `data:` (almost every line OpenAI sends) without decoding the field name.
    let field: string;
    let colon: number;
    if (n >= 5 && line[4] === COLON && line[0] === 0x64 && line[1] === 0x61 && line[2] === 0x74 && line[3] === 0x61) {
      field = 'data';
      colon = 4;
    } else {
      colon = line.indexOf(COLON);
      // A line without a colon is a field name with an empty value. Field names we know are
      // ASCII, so latin1 decoding cannot make an unknown name match one of them.
      field = line.toString('latin1', 0, colon === -1 ? n : colon);
    }
    let value = '';
    if (colon !== -1) {
      let start = colon + 1;
      if (line[start] === SPACE) start++; // strip exactly one leading space
      value = line.toString('utf8', start);
    }

    switch (field) {
      case 'data':
        this.#data = this.#data === undefined ? value : `${this.#data}\n${value}`;
        break;
      case 'event':
        this.#event = value;
        break;
      case 'id':
        // "If the field value does not contain U+0000 NULL, then set the last event ID buffer."
        if (!value.includes('\0')) this.#id = value;
        break;
      default:
        break; // `retry` and unknown fields are ignored
    }
  }

  #dispatch(events: SseEvent[]): void {
    // "If the data buffer is an empty string, ... return": an event without data lines is dropped.
    if (this.#data !== undefined) {
      const event: SseEvent = { data: this.#data };
      // An empty event name means the default type ("message"), same as no `event:` line.
      if (this.#event !== undefined && this.#event !== '') event.event = this.#event;
      if (this.#id !== undefined) event.id = this.#id;
      events.push(event);
    }
    this.#reset();
  }

  #reset(): void {
    this.#data = undefined;
    this.#event = undefined;
    this.#id = undefined;
    this.#eventBytes = 0;
  }

  #checkSize(): void {
    if (this.#eventBytes + this.#pieceBytes > this.#max) {
      throw new MeshError('upstream_error', `Upstream sent a server-sent event larger than ${this.#max} bytes.`);
    }
  }
}

function assertSingleLine(field: string, value: string): void {
  if (value.includes('\n') || value.includes('\r')) {
    throw new MeshError('internal_error', `SSE ${field} must not contain CR or LF.`);
  }
}

/**
 * Serialise one event as OpenAI does: `data: <data>\n\n`. Data containing line breaks becomes
 * several `data:` lines (CR, LF and CRLF all split, as a parser would); `event:`/`id:` lines only
 * when given. Throws if `event` or `id` contains CR or LF, which would inject extra fields.
 */
export function formatSseEvent(event: SseEvent): string {
  let head = '';
  if (event.event !== undefined) {
    assertSingleLine('event', event.event);
    head += `event: ${event.event}\n`;
  }
  if (event.id !== undefined) {
    assertSingleLine('id', event.id);
    head += `id: ${event.id}\n`;
  }
  const data = event.data;
  if (!data.includes('\n') && !data.includes('\r')) return `${head}data: ${data}\n\n`;
  return `${head}data: ${data.split(/\r\n|\r|\n/).join('\ndata: ')}\n\n`;
}

/**
 * The in-band error event sent once a stream is committed (headers already out), in the shape
 * the SDKs turn into an APIError (reference/openai-wire.md §2, "Errors").
 */
export function formatSseError(message: string, code: string | null = null, type = 'server_error'): string {
  return `data: ${JSON.stringify({ error: { message, type, param: null, code } })}\n\n`;
}

/**
 * An upstream's in-band failure event, `{"error":{"message","code"}}` (OpenRouter and other gateways answer
 * 200 and send the failure as an event, first or mid-stream), as a reason and status (the code when it is an
 * HTTP status, else 0); undefined for any other event. A substring check first: this runs on every event.
 */
export function inBandError(data: string): { reason: string; status: number } | undefined {
  if (!data.includes('"error"')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const error = (parsed as Record<string, unknown>)['error'];
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as Record<string, unknown>;
  const code = typeof e['code'] === 'number' && e['code'] >= 400 && e['code'] <= 599 ? e['code'] : 0;
  const message = typeof e['message'] === 'string' ? e['message'].slice(0, 200) : 'error event';
  return { reason: code === 0 ? message : `${code} ${message}`, status: code };
}
