// Where a JSON text stops being JSON (RFC 8259), for the 400 message. Node 20's JSON.parse says what went
// wrong but not where (and quotes the body); this scanner runs only after JSON.parse has failed.

export interface JsonSyntaxError {
  /** 1-based line and column (columns count UTF-16 code units, like editors mostly do). */
  line: number;
  column: number;
  reason: string;
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const LITERAL = /true|false|null/y;
const ESCAPE = /\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})/y;

class Fail {
  readonly at: number;
  readonly reason: string;
  constructor(at: number, reason: string) {
    this.at = at;
    this.reason = reason;
  }
}

/** The first syntax error in `text`, or null if it is valid JSON (or too deeply nested to scan). */
export function findJsonError(text: string): JsonSyntaxError | null {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i++;
  };
  const unexpected = (): Fail => new Fail(i, i >= text.length ? 'unexpected end of input' : `unexpected character ${JSON.stringify(text[i])}`);
  const expect = (ch: string): void => {
    ws();
    if (text[i] !== ch) throw text[i] === undefined ? unexpected() : new Fail(i, `expected '${ch}', found ${JSON.stringify(text[i])}`);
    i++;
  };
  const sticky = (re: RegExp): boolean => {
    re.lastIndex = i;
    if (!re.test(text)) return false;
    i = re.lastIndex;
    return true;
  };
  const string = (): void => {
    ws();
    if (text[i] !== '"') throw text[i] === undefined ? unexpected() : new Fail(i, `expected a string in double quotes, found ${JSON.stringify(text[i])}`);
    const start = i++;
    for (;;) {
      const c = text.charCodeAt(i);
      if (Number.isNaN(c)) throw new Fail(start, 'unterminated string');
      if (c === 0x22) return void i++;
      if (c < 0x20) throw new Fail(i, 'control character in string (escape it, e.g. \\n)');
      if (c === 0x5c) {
        if (!sticky(ESCAPE)) throw new Fail(i, 'invalid escape sequence in string');
      } else i++;
    }
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') return void i++;
      for (;;) {
        string();
        expect(':');
        value();
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') return void i++;
        throw text[i] === undefined ? unexpected() : new Fail(i, `expected ',' or '}', found ${JSON.stringify(text[i])}`);
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') return void i++;
      for (;;) {
        value();
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') return void i++;
        throw text[i] === undefined ? unexpected() : new Fail(i, `expected ',' or ']', found ${JSON.stringify(text[i])}`);
      }
    }
    if (c === '"') return string();
    if (sticky(NUMBER) || sticky(LITERAL)) return;
    throw unexpected();
  };
  try {
    value();
    ws();
    if (i < text.length) throw new Fail(i, `unexpected ${JSON.stringify(text[i])} after the JSON value`);
    return null;
  } catch (err) {
    if (!(err instanceof Fail)) return null; // RangeError from extreme nesting: give no position
    const before = text.slice(0, err.at);
    const lineStart = before.lastIndexOf('\n');
    return { line: before.split('\n').length, column: err.at - lineStart, reason: err.reason };
  }
}

/**
 * How deeply a request body's JSON may nest. Real requests stay far below it (a tool schema nests a dozen
 * levels); deeper input only serves to make recursive code downstream (JSON.stringify, redaction) throw.
 */
export const MAX_JSON_DEPTH = 128;

/**
 * Offset of the first `[` or `{` that opens level `max + 1`, or -1 when the text never nests deeper than
 * `max`. Brackets inside strings do not count. One pass of charCodeAt, no allocation: it runs on every body.
 */
export function nestingBeyond(text: string, max: number = MAX_JSON_DEPTH): number {
  // The depth never exceeds the number of `{` and `[` (those inside strings included): counted with the native
  // indexOf, that bound clears almost every request without the character loop below (issue 16: a 20 KB
  // prompt took ~20 µs in the loop).
  let openers = 0;
  for (let i = text.indexOf('{'); i !== -1 && openers <= max; i = text.indexOf('{', i + 1)) openers++;
  for (let i = text.indexOf('['); i !== -1 && openers <= max; i = text.indexOf('[', i + 1)) openers++;
  if (openers <= max) return -1;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 92 /* \ */) i++;
        else if (d === 34) break;
      }
    } else if (c === 91 /* [ */ || c === 123 /* { */) {
      if (++depth > max) return i;
    } else if (c === 93 /* ] */ || c === 125 /* } */) depth--;
  }
  return -1;
}

/** 1-based line and column of `offset` in `text`. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  return { line: before.split('\n').length, column: offset - before.lastIndexOf('\n') };
}
