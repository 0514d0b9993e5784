// The parser's state and the steps every reader shares (parser.ts: the document and block collections;
// flow.ts: flow collections): the token cursor, errors at a token, the nesting bound, mapping keys and
// scalar values.
import type { Token } from './lexer.ts';
import { resolvePlainScalar } from './scalars.ts';
import { fail, UNSUPPORTED } from './source.ts';
import type { SourceState } from './source.ts';
import { keepWritten } from './written-as.ts';

export type YamlMapping = Record<string, unknown>;

export interface ParseState extends SourceState {
  readonly tokens: readonly Token[];
  /** Index of the next token to read; the last token is always `eof`. */
  index: number;
  /** Collections open around the token being read (MAX_DEPTH bounds it). */
  depth: number;
  /** The text of the plain scalar just read when it is a number whose text does not round-trip (`000123`). */
  lossy: string | null;
}

/** Deepest nesting read, as for request bodies: deeper input would only overflow the stack of this parser. */
const MAX_DEPTH = 128;

export function peek(state: ParseState, ahead = 0): Token {
  return state.tokens[Math.min(state.index + ahead, state.tokens.length - 1)] as Token;
}

export function next(state: ParseState): Token {
  const token = peek(state);
  if (token.kind !== 'eof') state.index++;
  return token;
}

/** The token just read. */
export function previous(state: ParseState): Token | undefined {
  return state.tokens[state.index - 1];
}

/** End of the document's content: the end of input or a document marker (always at column 1). */
export function isEnd(token: Token): boolean {
  return token.kind === 'eof' || token.kind === 'doc-start' || token.kind === 'doc-end';
}

/** Whether the next tokens are `key:` with the key and the `:` on one line (§7.4 implicit keys). */
export function atKey(state: ParseState): boolean {
  const key = peek(state);
  const colon = peek(state, 1);
  return key.kind === 'scalar' && colon.kind === 'colon' && colon.line === key.line;
}

export function describe(token: Token): string {
  if (token.kind === 'eof') return 'the end of the document';
  if (token.kind === 'scalar') return `'${token.value.length > 30 ? `${token.value.slice(0, 30)}...` : token.value}'`;
  return `'${token.kind === 'dash' ? '- ' : token.value}'`;
}

export function failAt(state: ParseState, token: Token, message: string): never {
  return fail(state, message, token.line, token.column);
}

/** `read` one level deeper; past MAX_DEPTH an error at `token`. */
export function nested<T>(state: ParseState, token: Token, read: () => T): T {
  if (++state.depth > MAX_DEPTH) failAt(state, token, `nesting deeper than ${MAX_DEPTH} levels`);
  try {
    return read();
  } finally {
    state.depth--;
  }
}

/** A mapping key as a property name, after the checks every mapping makes. */
export function keyName(state: ParseState, key: Token, keyLines: Map<string, number>): string {
  const name = key.value;
  if (key.style === 'plain' && name === '<<') failAt(state, key, `merge keys (<<) are ${UNSUPPORTED}`);
  // Assigning `__proto__` on a plain object would replace its prototype instead of adding a key.
  if (name === '__proto__') failAt(state, key, "the key '__proto__' is not allowed");
  const first = keyLines.get(name);
  if (first !== undefined) failAt(state, key, `duplicate key '${name}' (first defined on line ${first})`);
  keyLines.set(name, key.line);
  return name;
}

/** A number just read for `name` whose text does not round-trip is kept as written (written-as.ts). */
export function keepLossy(state: ParseState, mapping: YamlMapping, name: string): void {
  if (state.lossy !== null) keepWritten(mapping, name, state.lossy);
  state.lossy = null;
}

export function scalarValue(state: ParseState, token: Token): unknown {
  state.lossy = null;
  if (token.style !== 'plain') return token.value;
  const value = resolvePlainScalar(token.value, (message) => failAt(state, token, message));
  if (typeof value === 'number' && String(value) !== token.value) state.lossy = token.value;
  return value;
}

/** Rejects `token` when it would continue the plain scalar before it on a later line (§7.3.3). */
export function failIfContinuation(state: ParseState, token: Token): void {
  const before = previous(state);
  if (before?.style === 'plain' && before.line < token.line) {
    failAt(state, token, `multi-line plain scalars are ${UNSUPPORTED}; quote the value or use a block scalar (| or >)`);
  }
}
