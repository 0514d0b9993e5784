// The YAML subset ModelMesh reads its config from: block and flow collections, plain / quoted / block
// scalars, comments, YAML 1.2 core schema. Stages: text -> lines (yaml-source.ts) -> tokens
// (yaml-lexer.ts) -> tree (here). Anything outside the subset is an error with a position, never a
// silent misreading: anchors, aliases, tags, merge keys, complex keys, directives, several documents,
// multi-line plain or quoted scalars.

import { tokenize } from './lexer.ts';
import type { Token } from './lexer.ts';
import { resolvePlainScalar } from './scalars.ts';
import { fail, splitSource, UNSUPPORTED } from './source.ts';
import { keepWritten } from './written-as.ts';
import type { SourceState } from './source.ts';

type YamlMapping = Record<string, unknown>;

interface ParseState extends SourceState {
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

/**
 * Parses one YAML document into plain values: objects (keys in document order), arrays, strings,
 * numbers, booleans and null. An empty document is null. Throws ConfigError with the
 * position of the first problem.
 */
export function parseYaml(text: string, filename = 'config'): unknown {
  const source = splitSource(text, filename);
  const state: ParseState = { ...source, tokens: tokenize(source), index: 0, depth: 0, lossy: null };
  return readDocument(state);
}

function peek(state: ParseState, ahead = 0): Token {
  return state.tokens[Math.min(state.index + ahead, state.tokens.length - 1)] as Token;
}

function next(state: ParseState): Token {
  const token = peek(state);
  if (token.kind !== 'eof') state.index++;
  return token;
}

/** The token just read. */
function previous(state: ParseState): Token | undefined {
  return state.tokens[state.index - 1];
}

/** End of the document's content: the end of input or a document marker (always at column 1). */
function isEnd(token: Token): boolean {
  return token.kind === 'eof' || token.kind === 'doc-start' || token.kind === 'doc-end';
}

/** Whether the next tokens are `key:` with the key and the `:` on one line (§7.4 implicit keys). */
function atKey(state: ParseState): boolean {
  const key = peek(state);
  const colon = peek(state, 1);
  return key.kind === 'scalar' && colon.kind === 'colon' && colon.line === key.line;
}

function describe(token: Token): string {
  if (token.kind === 'eof') return 'the end of the document';
  if (token.kind === 'scalar') return `'${token.value.length > 30 ? `${token.value.slice(0, 30)}...` : token.value}'`;
  return `'${token.kind === 'dash' ? '- ' : token.value}'`;
}

function failAt(state: ParseState, token: Token, message: string): never {
  return fail(state, message, token.line, token.column);
}

/** §9.2: an optional `---`, one block node, an optional `...`, nothing more. */
function readDocument(state: ParseState): unknown {
  if (peek(state).kind === 'doc-start') next(state);
  const root = peek(state);
  const where = root.kind === 'dash' ? 'sequence' : atKey(state) ? 'mapping' : 'document';
  const value = isEnd(root) ? null : readBlockNode(state);
  let token = peek(state);
  if (token.kind === 'doc-end') {
    next(state);
    token = peek(state);
    if (token.kind !== 'eof') failAt(state, token, `content after the document end marker '...' (multiple documents are ${UNSUPPORTED})`);
  }
  if (token.kind === 'doc-start') failAt(state, token, `multiple documents are ${UNSUPPORTED} (found a second '---')`);
  if (token.kind !== 'eof') failMisplaced(state, token, root.column, root.line, where, isScalar(value));
  return value;
}

/**
 * A node in block context: a block sequence, a block mapping (both at the column of their first
 * token), or a scalar / flow collection. The lexer lets nothing else (`]`, `,`) reach block context.
 */
function readBlockNode(state: ParseState): unknown {
  const token = peek(state);
  return nested(state, token, () => readBlockNodeAt(state, token));
}

/** `read` one level deeper; past MAX_DEPTH an error at `token`. */
function nested<T>(state: ParseState, token: Token, read: () => T): T {
  if (++state.depth > MAX_DEPTH) failAt(state, token, `nesting deeper than ${MAX_DEPTH} levels`);
  try {
    return read();
  } finally {
    state.depth--;
  }
}

function readBlockNodeAt(state: ParseState, token: Token): unknown {
  if (token.kind === 'dash') return readBlockSequence(state, token.column, false);
  if (atKey(state)) return readBlockMapping(state, token.column);
  if (token.kind === 'colon') failAt(state, token, `empty mapping keys are ${UNSUPPORTED}`);
  return readLineValue(state);
}

/** A scalar or flow collection that must be the last thing on its line. */
function readLineValue(state: ParseState): unknown {
  const first = peek(state);
  const value = first.kind === 'scalar' ? scalarValue(state, next(state)) : readFlowCollection(state);
  const last = previous(state) as Token;
  const after = peek(state);
  if (after.kind !== 'eof' && after.line === last.line) {
    // A scalar followed by `:` is a key (atKey), so only a flow collection can get here with one.
    if (after.kind === 'colon') failAt(state, first, `flow collections as mapping keys (complex keys) are ${UNSUPPORTED}`);
    const what = first.kind === 'scalar' ? (first.style === 'plain' ? 'value' : 'quoted scalar') : 'flow collection';
    failAt(state, after, `unexpected ${describe(after)} after the ${what}`);
  }
  return value;
}

/** §8.2.2: `key: value` entries, every key at `column`. */
function readBlockMapping(state: ParseState, column: number): YamlMapping {
  const startLine = peek(state).line;
  const mapping: YamlMapping = {};
  const keyLines = new Map<string, number>();
  let afterScalar = false;
  for (;;) {
    const token = peek(state);
    if (isEnd(token) || token.column < column) return mapping;
    if (token.column > column) failMisplaced(state, token, column, startLine, 'mapping', afterScalar);
    if (token.kind === 'dash') {
      failAt(state, token, `a block sequence item ('- ') cannot be mixed with the mapping keys of line ${startLine} at the same indentation`);
    }
    if (!atKey(state)) failMisplaced(state, token, column, startLine, 'mapping', false);
    const name = keyName(state, next(state), keyLines);
    const colon = next(state);
    state.lossy = null;
    const value = readBlockValue(state, column, colon);
    mapping[name] = value;
    keepLossy(state, mapping, name);
    afterScalar = isScalar(value);
  }
}

/** The value after `key:` of a mapping at `column`: on the same line, indented below, or null. */
function readBlockValue(state: ParseState, column: number, colon: Token): unknown {
  const token = peek(state);
  if (token.kind !== 'eof' && token.line === colon.line) {
    if (token.kind === 'dash') failAt(state, token, "a block sequence cannot start on the same line as its key; put '- item' on the next line");
    if (atKey(state)) failAt(state, token, 'a mapping cannot start on the same line as its parent key; start it on the next line, indented');
    return readBlockNode(state);
  }
  if (isEnd(token)) return null;
  if (token.column > column) return readBlockNode(state);
  // `key:\n- a` — a sequence may sit at the key's own indentation (§8.2.2, compact block-in context).
  if (token.column === column && token.kind === 'dash') return readBlockSequence(state, column, true);
  return null;
}

/**
 * §8.2.1: `- item` entries, every `-` at `column`. `inMapping`: the sequence is a mapping value at
 * the key's indentation, so a token at `column` that is not `-` is the mapping's next key.
 */
function readBlockSequence(state: ParseState, column: number, inMapping: boolean): unknown[] {
  const startLine = peek(state).line;
  const sequence: unknown[] = [];
  let afterScalar = false;
  for (;;) {
    const token = peek(state);
    if (isEnd(token) || token.column < column) return sequence;
    if (token.column > column) failMisplaced(state, token, column, startLine, 'sequence', afterScalar);
    if (token.kind !== 'dash') {
      if (inMapping) return sequence;
      if (atKey(state)) {
        failAt(state, token, `a mapping key cannot be mixed with the block sequence items ('- ') of line ${startLine} at the same indentation`);
      }
      failMisplaced(state, token, column, startLine, 'sequence', false);
    }
    const dash = next(state);
    const item = peek(state);
    // On the dash's line, `- - a` and `- key: value` open a collection at the item's column (§8.2.1).
    const present = !isEnd(item) && (item.line === dash.line || item.column > column);
    const value = present ? readBlockNode(state) : null;
    sequence.push(value);
    afterScalar = isScalar(value);
  }
}

/** `[a, b]` or `{a: 1}` (§7.4, §7.5), possibly over several lines, possibly nested. */
function readFlowCollection(state: ParseState): unknown {
  const open = next(state);
  return nested(state, open, () => (open.kind === '[' ? readFlowSequence(state) : readFlowMapping(state)));
}

function readFlowSequence(state: ParseState): unknown[] {
  const sequence: unknown[] = [];
  for (;;) {
    if (peek(state).kind === ']') {
      next(state);
      return sequence;
    }
    if (atKey(state)) {
      // `[a: 1]` is a sequence holding the single-pair mapping {a: 1} (§7.4.1).
      const name = keyName(state, next(state), new Map());
      next(state); // the ':'
      sequence.push({ [name]: readFlowValue(state, ']') });
    } else {
      sequence.push(readFlowNode(state));
    }
    readFlowSeparator(state, ']');
  }
}

function readFlowMapping(state: ParseState): YamlMapping {
  const mapping: YamlMapping = {};
  const keyLines = new Map<string, number>();
  for (;;) {
    const token = peek(state);
    if (token.kind === '}') {
      next(state);
      return mapping;
    }
    if (token.kind === '[' || token.kind === '{') failAt(state, token, `flow collections as mapping keys (complex keys) are ${UNSUPPORTED}`);
    if (token.kind === 'colon') failAt(state, token, `empty mapping keys are ${UNSUPPORTED}`);
    if (token.kind !== 'scalar') failAt(state, token, `expected a mapping key, found ${describe(token)}`);
    const name = keyName(state, next(state), keyLines);
    // `{a, b: 1}`: a key without `:` has a null value (§7.4.2).
    const hasValue = peek(state).kind === 'colon';
    if (hasValue) next(state);
    state.lossy = null;
    mapping[name] = hasValue ? readFlowValue(state, '}') : null;
    keepLossy(state, mapping, name);
    readFlowSeparator(state, '}');
  }
}

/** The value after `:` in a flow collection; empty (`{a: }`, `[a: ]`) is null. */
function readFlowValue(state: ParseState, close: ']' | '}'): unknown {
  const kind = peek(state).kind;
  return kind === 'comma' || kind === close ? null : readFlowNode(state);
}

function readFlowNode(state: ParseState): unknown {
  const token = peek(state);
  if (token.kind === 'scalar') return scalarValue(state, next(state));
  if (token.kind === '[' || token.kind === '{') {
    const value = readFlowCollection(state);
    const colon = peek(state);
    if (colon.kind === 'colon') failAt(state, token, `flow collections as mapping keys (complex keys) are ${UNSUPPORTED}`);
    return value;
  }
  if (token.kind === 'colon') return failAt(state, token, `empty mapping keys are ${UNSUPPORTED}`);
  if (token.kind === 'comma') return failAt(state, token, "unexpected ',': empty entries are not allowed in flow collections");
  return failAt(state, token, `unexpected ${describe(token)} in a flow collection`);
}

/** After a flow entry: `,` (a trailing one before the close is fine) or the closing bracket. */
function readFlowSeparator(state: ParseState, close: ']' | '}'): void {
  const token = peek(state);
  if (token.kind === 'comma') next(state);
  if (token.kind === 'comma' || token.kind === close) return;
  failIfContinuation(state, token);
  failAt(state, token, `expected ',' or '${close}' in the flow collection, found ${describe(token)}`);
}

/** A mapping key as a property name, after the checks every mapping makes. */
function keyName(state: ParseState, key: Token, keyLines: Map<string, number>): string {
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
function keepLossy(state: ParseState, mapping: YamlMapping, name: string): void {
  if (state.lossy !== null) keepWritten(mapping, name, state.lossy);
  state.lossy = null;
}

function scalarValue(state: ParseState, token: Token): unknown {
  state.lossy = null;
  if (token.style !== 'plain') return token.value;
  const value = resolvePlainScalar(token.value, (message) => failAt(state, token, message));
  if (typeof value === 'number' && String(value) !== token.value) state.lossy = token.value;
  return value;
}

const isScalar = (value: unknown): boolean => value === null || typeof value !== 'object';

/**
 * A token where the enclosing collection (at `column`, started on `startLine`) or the document cannot
 * continue: explains the usual causes (indentation, a multi-line plain scalar) at the token's position.
 * `afterScalar`: the entry just read was a scalar of this collection, which the token might continue.
 */
type Where = 'mapping' | 'sequence' | 'document';
function failMisplaced(state: ParseState, token: Token, column: number, startLine: number, where: Where, afterScalar: boolean): never {
  // More-indented lines after a plain scalar continue it in YAML (`a: b\n  - c` is "b - c").
  if (afterScalar && (where === 'document' || token.column > column) && !atKey(state)) failIfContinuation(state, token);
  if (where === 'document') failAt(state, token, `unexpected ${describe(token)}`);
  const started = `the ${where} started on line ${startLine}`;
  if (token.column !== column) failAt(state, token, `inconsistent indentation: expected column ${column} to continue ${started}, found column ${token.column}`);
  const expected = where === 'mapping' ? "a 'key: value' entry" : "a '- ' item";
  return failAt(state, token, `expected ${expected} of ${started}, found ${describe(token)}`);
}

/** Rejects `token` when it would continue the plain scalar before it on a later line (§7.3.3). */
function failIfContinuation(state: ParseState, token: Token): void {
  const before = previous(state);
  if (before?.style === 'plain' && before.line < token.line) {
    failAt(state, token, `multi-line plain scalars are ${UNSUPPORTED}; quote the value or use a block scalar (| or >)`);
  }
}
