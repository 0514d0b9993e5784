// RESP2, the Redis serialisation protocol (https://redis.io/docs/latest/develop/reference/protocol-spec/):
// commands go out as arrays of bulk strings; replies come back as simple strings, errors, integers, bulk
// strings and arrays (both with a null form). The parser is incremental: bytes arrive in TCP chunks split
// anywhere, so a reply may end in any later chunk and one chunk may hold many replies (pipelining).

/** An error reply (`-ERR ...`). A value, not an exception: it answers one command and the stream goes on. */
export class RespError {
  /** The first word when it is upper case, as Redis uses it for a class of error: ERR, NOSCRIPT, WRONGPASS. */
  readonly code: string;
  readonly message: string;

  constructor(message: string) {
    this.message = message;
    const word = /^[A-Z][A-Z0-9_-]*(?= |$)/.exec(message);
    this.code = word === null ? 'ERR' : word[0];
  }
}

/** A reply: simple and bulk strings as (UTF-8) strings, integers as numbers, null for the null bulk/array. */
export type RespValue = string | number | null | RespError | RespValue[];

export type CommandArg = string | number | Buffer;

/** Bytes that are not RESP2: the connection carrying them cannot be trusted any more. */
export class RespProtocolError extends Error {
  override readonly name = 'RespProtocolError';
}

const CRLF = Buffer.from('\r\n');

/** Encodes one command as a RESP2 array of bulk strings. */
export function encodeCommand(args: readonly CommandArg[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = Buffer.isBuffer(arg) ? arg : Buffer.from(String(arg), 'utf8');
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, CRLF);
  }
  return Buffer.concat(parts);
}

export interface RespParserLimits {
  /** Largest bulk string accepted (Redis's own proto-max-bulk-len default is 512 MiB). */
  maxBulkBytes?: number;
  /** Longest header line (type byte to CRLF) before the stream is declared broken. */
  maxLineBytes?: number;
  /** Deepest array nesting accepted. */
  maxDepth?: number;
}

/** Marks "the buffered bytes do not hold the next element yet". */
const NEED_MORE = Symbol('need-more');
/** Marks "an array header was read; its elements follow". */
const OPENED = Symbol('opened');

interface OpenArray {
  items: RespValue[];
  remaining: number;
}

export class RespParser {
  readonly #maxBulk: number;
  readonly #maxLine: number;
  readonly #maxDepth: number;
  /** Bytes not consumed yet, from #pos on. */
  #buf: Buffer = Buffer.alloc(0);
  #pos = 0;
  /** Chunks held back while a large bulk string is still short of `#need` bytes (avoids re-copying). */
  #held: Buffer[] = [];
  #heldBytes = 0;
  /** Bytes still missing beyond #buf for the bulk string being read. */
  #need = 0;
  /** Arrays whose elements are still arriving, innermost last. */
  #open: OpenArray[] = [];

  constructor(limits: RespParserLimits = {}) {
    this.#maxBulk = limits.maxBulkBytes ?? 512 * 1024 * 1024;
    this.#maxLine = limits.maxLineBytes ?? 64 * 1024;
    this.#maxDepth = limits.maxDepth ?? 32;
  }

  /** Feeds bytes; returns the replies they complete, in order. Throws RespProtocolError on bytes that are not RESP2. */
  push(chunk: Buffer): RespValue[] {
    if (this.#heldBytes + chunk.length < this.#need) {
      this.#held.push(chunk);
      this.#heldBytes += chunk.length;
      return [];
    }
    const rest = this.#buf.subarray(this.#pos);
    this.#buf = rest.length === 0 && this.#held.length === 0 ? chunk : Buffer.concat([rest, ...this.#held, chunk]);
    this.#pos = 0;
    this.#held = [];
    this.#heldBytes = 0;
    this.#need = 0;
    const out: RespValue[] = [];
    for (;;) {
      const value = this.#readOne();
      if (value === NEED_MORE) break;
      if (value !== OPENED) this.#complete(value, out);
    }
    if (this.#pos === this.#buf.length) {
      this.#buf = Buffer.alloc(0);
      this.#pos = 0;
    }
    return out;
  }

  /** True when no partial reply is buffered (a clean point to hand the stream over). */
  get idle(): boolean {
    return this.#open.length === 0 && this.#pos === this.#buf.length && this.#heldBytes === 0;
  }

  #complete(value: RespValue, out: RespValue[]): void {
    let done: RespValue = value;
    for (;;) {
      const top = this.#open.at(-1);
      if (top === undefined) {
        out.push(done);
        return;
      }
      top.items.push(done);
      if (--top.remaining > 0) return;
      this.#open.pop();
      done = top.items;
    }
  }

  /** Reads one element at #pos: a complete scalar, OPENED for an array header, or NEED_MORE. */
  #readOne(): RespValue | typeof NEED_MORE | typeof OPENED {
    const buf = this.#buf;
    const start = this.#pos;
    if (start >= buf.length) return NEED_MORE;
    const eol = buf.indexOf(CRLF, start + 1);
    if (eol === -1) {
      if (buf.length - start > this.#maxLine) throw new RespProtocolError('reply header line too long');
      return NEED_MORE;
    }
    const type = buf[start];
    const line = buf.toString('utf8', start + 1, eol);
    const next = eol + 2;
    switch (type) {
      case 0x2b: // '+' simple string
        this.#pos = next;
        return line;
      case 0x2d: // '-' error
        this.#pos = next;
        return new RespError(line);
      case 0x3a: // ':' integer (above 2^53 loses precision: no counter here gets near that)
        this.#pos = next;
        return parseInteger(line, 'integer');
      case 0x24: // '$' bulk string
        return this.#readBulk(parseInteger(line, 'bulk length'), next);
      case 0x2a: // '*' array
        return this.#openArray(parseInteger(line, 'array length'), next);
      default:
        throw new RespProtocolError(`unexpected reply type byte 0x${(type ?? 0).toString(16)}`);
    }
  }

  #readBulk(length: number, from: number): string | null | typeof NEED_MORE {
    if (length === -1) {
      this.#pos = from;
      return null;
    }
    if (length < -1 || length > this.#maxBulk) throw new RespProtocolError(`bulk length ${length} out of range`);
    const end = from + length;
    if (end + 2 > this.#buf.length) {
      this.#need = end + 2 - this.#buf.length;
      return NEED_MORE;
    }
    if (this.#buf[end] !== 0x0d || this.#buf[end + 1] !== 0x0a) throw new RespProtocolError('bulk string not ended by CRLF');
    this.#pos = end + 2;
    return this.#buf.toString('utf8', from, end);
  }

  #openArray(length: number, from: number): RespValue[] | null | typeof OPENED {
    this.#pos = from;
    if (length === -1) return null;
    if (length < -1) throw new RespProtocolError(`array length ${length} out of range`);
    if (length === 0) return [];
    if (this.#open.length >= this.#maxDepth) throw new RespProtocolError('arrays nested too deep');
    this.#open.push({ items: [], remaining: length });
    return OPENED;
  }
}

function parseInteger(text: string, what: string): number {
  if (!/^-?\d{1,20}$/.test(text)) throw new RespProtocolError(`invalid ${what}`);
  return Number(text);
}
