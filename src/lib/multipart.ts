// multipart/form-data codec (RFC 7578, RFC 2046 §5.1): read a form, swap `model`, re-encode the rest as is.
import { randomBytes } from 'node:crypto';
import { MeshError } from '../errors.ts';

export interface FormPart {
  name: string;
  filename?: string;
  contentType?: string;
  data: Buffer;
}

export interface FormData { parts: FormPart[] }

export interface MultipartOptions {
  /** Total body bytes allowed; more throws MeshError('body_too_large') at once. @default 32 MiB */
  maxBytes?: number;
  /** Parts allowed in one form. @default 1000 */
  maxParts?: number;
}

const DEFAULT_MAX_BYTES = 32 * 1024 * 1024;
const DEFAULT_MAX_PARTS = 1000;
const MAX_HEADER_BYTES = 16 * 1024;
const [CR, LF, DASH, SP, HTAB] = [0x0d, 0x0a, 0x2d, 0x20, 0x09] as const;
const CRLF = Buffer.from('\r\n');
const CRLFCRLF = Buffer.from('\r\n\r\n');
const EMPTY = Buffer.alloc(0);

function invalid(message: string): MeshError {
  return new MeshError('invalid_multipart', message, { param: null });
}

/** Splits `type; a=b; c="d \"e\""` (RFC 9110 §5.6.6) into the type and parameters (names lower-cased). */
function parseParams(value: string): { type: string; params: Map<string, string> } {
  const params = new Map<string, string>();
  let i = value.indexOf(';');
  const type = (i === -1 ? value : value.slice(0, i)).trim().toLowerCase();
  while (i !== -1) {
    const eq = value.indexOf('=', i + 1);
    if (eq === -1) break;
    const semi = value.indexOf(';', i + 1);
    if (semi !== -1 && semi < eq) {
      i = semi; // a parameter without a value: skip it
      continue;
    }
    const name = value.slice(i + 1, eq).trim().toLowerCase();
    let j = eq + 1;
    while (value[j] === ' ' || value[j] === '\t') j++;
    let v = '';
    if (value[j] === '"') {
      // quoted-string; `\"` and `\\` are quoted-pairs. Other backslashes are kept literally because
      // some clients send Windows paths (C:\x\y.wav) unescaped.
      for (j++; j < value.length && value[j] !== '"'; j++) {
        const next = value[j + 1];
        if (value[j] === '\\' && (next === '"' || next === '\\')) j++;
        v += value[j];
      }
      i = value.indexOf(';', j);
    } else {
      i = value.indexOf(';', j);
      v = value.slice(j, i === -1 ? undefined : i).trim();
    }
    if (name !== '' && !params.has(name)) params.set(name, v);
  }
  return { type, params };
}

/** The boundary of `multipart/form-data; boundary=XYZ` (or `boundary="X Y"`). RFC 2046 §5.1.1: 1-70
 * characters, not ending in a space; the set is checked loosely (printable ASCII) for lenient clients. */
export function parseBoundary(contentType: string): string {
  const { type, params } = parseParams(contentType);
  if (type !== 'multipart/form-data') throw invalid('Content-Type must be multipart/form-data.');
  const boundary = params.get('boundary');
  if (boundary === undefined) throw invalid('multipart/form-data Content-Type has no boundary parameter.');
  if (!isValidBoundary(boundary)) throw invalid('multipart/form-data boundary is invalid (RFC 2046: 1-70 chars).');
  return boundary;
}

function isValidBoundary(boundary: string): boolean {
  return boundary.length <= 70 && /^[\x20-\x7e]*[\x21-\x7e]$/.test(boundary);
}

/** Browsers escape `"`, CR and LF in names as %22, %0D, %0A (HTML "multipart/form-data encoding
 * algorithm"); the WHATWG form-data parser undoes exactly those three, and so do we. */
function decodeName(value: string): string {
  return value.replace(/%(0A|0D|22)/gi, (m) => String.fromCharCode(Number.parseInt(m.slice(1), 16)));
}

function encodeName(value: string): string {
  return value.replace(/["\r\n]/g, (c) => (c === '"' ? '%22' : c === '\r' ? '%0D' : '%0A'));
}

// Parser states. The stream is parsed as if it started with CRLF, so the first boundary is found by the
// same `\r\n--boundary` search as the others (RFC 2046 §5.1.1: the CRLF before a boundary is part of it).
// AFTER_DELIMITER: transport-padding, then CRLF (next part) or `--` (close-delimiter).
const [PREAMBLE, AFTER_DELIMITER, AFTER_CR, AFTER_DASH, HEADERS, BODY, EPILOGUE] = [0, 1, 2, 3, 4, 5, 6] as const;

/** Streaming parser. Boundaries may be split anywhere across chunks; part bodies are sliced from the
 * chunks (never decoded) and concatenated once per part. */
export class MultipartParser {
  readonly #delimiter: Buffer;
  readonly #maxBytes: number;
  readonly #maxParts: number;
  readonly #parts: FormPart[] = [];
  #state: number = PREAMBLE;
  #total = 0;
  /** Bytes that may be the start of a delimiter, carried to the next chunk (always begins with CR). */
  #tail: Buffer = CRLF;
  #headerBytes: Buffer = EMPTY;
  #current: Omit<FormPart, 'data'> | undefined;
  #slices: Buffer[] = [];
  #sliceBytes = 0;

  constructor(boundary: string, options: MultipartOptions = {}) {
    if (!isValidBoundary(boundary)) throw invalid('multipart/form-data boundary is invalid.'); // #scan needs no CR
    this.#delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
    this.#maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    this.#maxParts = options.maxParts ?? DEFAULT_MAX_PARTS;
  }

  push(chunk: Buffer): void {
    this.#total += chunk.length;
    if (this.#total > this.#maxBytes) {
      throw new MeshError('body_too_large', `Request body exceeds the maximum size of ${this.#maxBytes} bytes.`);
    }
    let pos = 0;
    while (pos < chunk.length) {
      switch (this.#state) {
        case PREAMBLE:
        case BODY:
          pos = this.#scan(chunk, pos);
          break;
        case AFTER_DELIMITER: {
          const c = chunk[pos++];
          if (c === DASH) this.#state = AFTER_DASH;
          else if (c === CR) this.#state = AFTER_CR;
          else if (c !== SP && c !== HTAB) throw invalid('Unexpected bytes after a multipart boundary.');
          break;
        }
        case AFTER_CR:
          if (chunk[pos++] !== LF) throw invalid('Expected CRLF after a multipart boundary.');
          this.#state = HEADERS;
          this.#headerBytes = CRLF; // the part's header section is searched as CRLF *(header CRLF) CRLF
          break;
        case AFTER_DASH:
          if (chunk[pos++] !== DASH) throw invalid('Unexpected bytes after a multipart boundary.');
          this.#state = EPILOGUE;
          break;
        case HEADERS:
          pos = this.#headers(chunk, pos);
          break;
        default:
          return; // EPILOGUE: ignored (RFC 2046)
      }
    }
  }

  end(): FormData {
    if (this.#state === PREAMBLE) throw invalid('No multipart boundary found in the request body.');
    if (this.#state !== EPILOGUE) throw invalid('Multipart body ended without the closing boundary.');
    return { parts: this.#parts };
  }

  /** Searches for the delimiter from `pos`; bytes before it are part body (or discarded preamble). */
  #scan(chunk: Buffer, pos: number): number {
    const delim = this.#delimiter;
    const tail = this.#tail;
    if (tail.length > 0) {
      // The delimiter holds a single CR (its first byte), so the tail is the only pending candidate.
      const need = delim.length - tail.length;
      const head = chunk.subarray(pos, pos + need);
      if (delim.compare(head, 0, head.length, tail.length, tail.length + head.length) === 0) {
        if (head.length < need) {
          this.#tail = Buffer.concat([tail, head]);
          return pos + head.length;
        }
        this.#tail = EMPTY;
        this.#delimiterFound();
        return pos + need;
      }
      this.#tail = EMPTY;
      this.#body(tail);
    }
    const idx = chunk.indexOf(delim, pos);
    if (idx !== -1) {
      this.#body(chunk.subarray(pos, idx));
      this.#delimiterFound();
      return idx + delim.length;
    }
    // Keep an unfinished delimiter: the last CR in the final delim.length - 1 bytes, if a prefix follows.
    let end = chunk.length;
    for (let i = chunk.length - 1; i >= Math.max(pos, chunk.length - delim.length + 1); i--) {
      if (chunk[i] !== CR) continue;
      if (delim.compare(chunk, i, chunk.length, 0, chunk.length - i) === 0) {
        end = i;
        this.#tail = Buffer.from(chunk.subarray(i));
      }
      break;
    }
    this.#body(chunk.subarray(pos, end));
    return chunk.length;
  }

  #body(bytes: Buffer): void {
    if (this.#state !== BODY || bytes.length === 0) return;
    this.#slices.push(bytes);
    this.#sliceBytes += bytes.length;
  }

  #delimiterFound(): void {
    if (this.#state === BODY && this.#current !== undefined) {
      // One copy per part: the part owns its bytes and holds no reference to the chunks.
      this.#parts.push({ ...this.#current, data: Buffer.concat(this.#slices, this.#sliceBytes) });
      this.#slices = [];
      this.#sliceBytes = 0;
      this.#current = undefined;
    }
    this.#state = AFTER_DELIMITER;
  }

  #headers(chunk: Buffer, pos: number): number {
    const prev = this.#headerBytes;
    const room = MAX_HEADER_BYTES + CRLFCRLF.length - prev.length;
    const window = Buffer.concat([prev, chunk.subarray(pos, pos + room)]);
    const idx = window.indexOf(CRLFCRLF, Math.max(0, prev.length - 3));
    const size = idx === -1 ? window.length : idx;
    if (size > MAX_HEADER_BYTES) throw invalid(`Multipart part headers exceed ${MAX_HEADER_BYTES} bytes.`);
    if (idx === -1) {
      this.#headerBytes = window;
      return pos + window.length - prev.length;
    }
    this.#startPart(idx > 2 ? window.toString('utf8', 2, idx) : '');
    this.#headerBytes = EMPTY;
    this.#state = BODY;
    return pos + idx + CRLFCRLF.length - prev.length;
  }

  #startPart(section: string): void {
    if (this.#parts.length >= this.#maxParts) throw invalid(`Multipart form has more than ${this.#maxParts} parts.`);
    let disposition: string | undefined;
    let contentType: string | undefined;
    // Obsolete header folding is not accepted: no form-data client folds (RFC 9112 §5.2 obsoletes it).
    for (const line of section === '' ? [] : section.split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon <= 0) throw invalid('Malformed multipart part header line.');
      const name = line.slice(0, colon).trim().toLowerCase();
      if (name === 'content-disposition') disposition = line.slice(colon + 1).trim();
      else if (name === 'content-type') contentType = line.slice(colon + 1).trim();
    }
    if (disposition === undefined) throw invalid('Multipart part has no Content-Disposition header.');
    const { type, params } = parseParams(disposition);
    if (type !== 'form-data') throw invalid('Multipart part Content-Disposition is not form-data.');
    const name = params.get('name');
    if (name === undefined) throw invalid('Multipart part Content-Disposition has no name.');
    const part: Omit<FormPart, 'data'> = { name: decodeName(name) };
    // `filename*` (RFC 5987) is ignored: RFC 7578 §4.2 says it MUST NOT be used in form-data.
    const filename = params.get('filename');
    if (filename !== undefined) part.filename = decodeName(filename);
    if (contentType !== undefined) part.contentType = contentType;
    this.#current = part;
  }
}

/** Reads a whole stream through the parser; throws as soon as a limit or syntax error is hit. */
export async function parseMultipart(
  source: AsyncIterable<Buffer>,
  contentType: string,
  options: MultipartOptions = {},
): Promise<FormData> {
  const parser = new MultipartParser(parseBoundary(contentType), options);
  for await (const chunk of source) parser.push(chunk);
  return parser.end();
}

/** Encodes parts with a fresh random boundary; the body is a list of Buffers so a big file is not copied.
 * 128 random bits make a collision with the content negligible, so the content is not scanned for it. */
export function encodeMultipart(form: FormData): { contentType: string; body: Buffer[]; length: number } {
  const boundary = `----ModelMeshFormBoundary${randomBytes(16).toString('hex')}`;
  const body: Buffer[] = [];
  for (const [i, part] of form.parts.entries()) {
    let head = `${i === 0 ? '' : '\r\n'}--${boundary}\r\nContent-Disposition: form-data; name="${encodeName(part.name)}"`;
    if (part.filename !== undefined) head += `; filename="${encodeName(part.filename)}"`;
    if (part.contentType !== undefined) {
      if (/[\r\n]/.test(part.contentType)) throw invalid('Multipart part Content-Type must not contain CR or LF.');
      head += `\r\nContent-Type: ${part.contentType}`;
    }
    body.push(Buffer.from(`${head}\r\n\r\n`, 'utf8'));
    if (part.data.length > 0) body.push(part.data);
  }
  body.push(Buffer.from(`${form.parts.length === 0 ? '' : '\r\n'}--${boundary}--\r\n`, 'latin1'));
  const length = body.reduce((n, b) => n + b.length, 0);
  return { contentType: `multipart/form-data; boundary=${boundary}`, body, length };
}

/** First value of a text (non-file) field, decoded as UTF-8, or undefined. */
export function formField(form: FormData, name: string): string | undefined {
  const part = form.parts.find((p) => p.name === name && p.filename === undefined);
  return part?.data.toString('utf8');
}
