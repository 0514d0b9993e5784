// The source text of a YAML document as every stage of the reader sees it (lines, for positions and
// error snippets), and the one error helper all stages share.

import { isSensitiveKey } from '../redact.ts';
import { ConfigError } from '../errors.ts';

/** What every stage (lexer, parser) carries; their state objects extend it. */
export interface SourceState {
  /** Shown at the start of error messages: the config file's name, or `config`. */
  readonly filename: string;
  /** Lines without their breaks (YAML 1.2 §5.4: CRLF, CR and LF all end a line). */
  readonly lines: readonly string[];
  /** Whether the last line has a line break after it (block scalar chomping needs it, §8.1.1.2). */
  readonly endsWithBreak: boolean;
  /**
   * Per line (0-based), whether it holds a character past U+00FF (see narrow()); null when no line does.
   * Every other line is a one-byte string, and so is every token sliced from it.
   */
  readonly wideLines: Uint8Array | null;
}

const WIDE = /[^\x00-\xff]/;

/** A one-byte copy of a string whose characters all fit in Latin-1. */
const latin1Copy = (s: string): string => Buffer.from(s, 'latin1').toString('latin1');

/**
 * `s` as a one-byte string when every character fits in one (Latin-1), else `s` itself. One character
 * past U+00FF anywhere in the file (an em dash in a comment) makes V8 hold the whole decoded text, and every
 * slice of it, as two-byte strings. Model, provider and pool names, header values and URLs then stayed
 * two-byte for the life of the process, and each response and upstream request head built from them was
 * flattened and narrowed again on every write (about 1 µs a request, issue 16). Latin-1 decoding of the
 * Latin-1 encoding is the identity, and Node's latin1 decoder makes one-byte strings.
 */
export function narrow(s: string): string {
  return WIDE.test(s) ? s : latin1Copy(s);
}

/** Suffix of every "this YAML feature is not in our subset" message. */
export const UNSUPPORTED = 'not supported by the ModelMesh YAML subset';

/** `---` or `...` at the start of a line, alone or followed by white space (§9.1.4). */
export function isMarker(line: string, marker: '---' | '...'): boolean {
  const after = line[3];
  return line.startsWith(marker) && (after === undefined || after === ' ' || after === '\t');
}

export function splitSource(text: string, filename: string): SourceState {
  // A byte order mark may start the stream (§5.2); it is not content.
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const lines = body.split(/\r\n|\r|\n/);
  // "a\n" splits into ["a", ""]: the empty string is not a line, it only says the last line had a break.
  const endsWithBreak = lines.length > 1 && lines[lines.length - 1] === '';
  if (endsWithBreak) lines.pop();
  // Lines are narrowed once (about a thousand calls for a config of 1,000 clients, against ten times that
  // for its tokens: startup counts, issue 16); tokens of the few wide lines are narrowed by the lexer.
  let wideLines: Uint8Array | null = null;
  if (WIDE.test(body)) {
    wideLines = new Uint8Array(lines.length);
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] as string;
      if (WIDE.test(line)) wideLines[i] = 1;
      else lines[i] = latin1Copy(line);
    }
  }
  return { filename, lines, endsWithBreak, wideLines };
}

/**
 * Throws the config error for a position (1-based line and column), formatted as
 * `file:line:column: message`, then the source line and a caret under the column.
 */
export function fail(state: SourceState, message: string, line: number, column: number): never {
  const source = state.lines[line - 1] ?? '';
  const withheld = credentialOn(source);
  if (withheld !== null) {
    // The line (and a scalar the message quotes) may be a key written literally, and a broken file is not
    // redacted yet (no secrets resolved): the position and the key name say where, never the value.
    const quiet = message.replace(/'[^']*'/g, "'[REDACTED]'");
    throw new ConfigError(`${state.filename}:${line}:${column}: ${quiet}\n  ${withheld}`, { location: { line, column } });
  }
  // Copy tabs into the caret line so the caret stays aligned however the terminal expands them.
  let pad = '';
  for (let i = 0; i < column - 1; i++) pad += source[i] === '\t' ? '\t' : ' ';
  throw new ConfigError(`${state.filename}:${line}:${column}: ${message}\n  ${source}\n  ${pad}^`, {
    location: { line, column },
  });
}

const KEY_BEFORE_COLON = /([A-Za-z0-9_-]+)["']?\s*:/g;
/** A run a generated key or token is made of (24 or more such characters), which no config word needs. */
const TOKEN_LIKE = /[A-Za-z0-9_+/=-]{24,}/;

/**
 * What to show of a source line that may hold a credential: up to its credential-named key (`api_key`,
 * `token`, `authorization` …) with the rest `[REDACTED]`, or a placeholder for a line with a token-like run;
 * null for a line that holds neither (shown as it is).
 */
function credentialOn(source: string): string | null {
  for (const m of source.matchAll(KEY_BEFORE_COLON)) {
    if (isSensitiveKey(m[1] ?? '')) return `${source.slice(0, (m.index ?? 0) + m[0].length)} [REDACTED]`;
  }
  return TOKEN_LIKE.test(source) ? '(line not shown: it may hold a credential)' : null;
}
