// The YAML subset ModelMesh reads its config from: block and flow collections, plain / quoted / block
// scalars, comments, YAML 1.2 core schema. Stages: text -> lines (source.ts) -> tokens (lexer.ts) -> tree
// (here: the document and block collections; flow.ts: flow collections; parse-state.ts: the cursor and the
// steps both share). Anything outside the subset is an error with a position, never a
// silent misreading: anchors, aliases, tags, merge keys, complex keys, directives, several documents,
// multi-line plain or quoted scalars.

import { tokenize } from './lexer.ts';
import type { Token } from './lexer.ts';
import { splitSource, UNSUPPORTED } from './source.ts';
import { readFlowCollection } from './flow.ts';
import {
  atKey, describe, failAt, failIfContinuation, isEnd, keepLossy, keyName, nested, next, peek, previous, scalarValue,
  type ParseState, type YamlMapping,
} from './parse-state.ts';

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
