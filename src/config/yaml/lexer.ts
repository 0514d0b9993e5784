// Stage 2 of the YAML reader: lines -> tokens. Scalars come out whole (quoted and block scalars
// already decoded), every token with its 1-based position; the parser (yaml.ts) builds the tree.
// Everything outside the ModelMesh subset that can be seen from one character (anchors, tags,
// directives, complex keys, tabs as indentation) is rejected here.

import { fail, isMarker, narrow, UNSUPPORTED } from './source.ts';
import type { SourceState } from './source.ts';
import { blockScalarValue, readBlockScalarLines, readEscape } from './scalars.ts';
import type { Chomping } from './scalars.ts';

export type TokenKind = 'scalar' | 'dash' | 'colon' | 'comma' | '[' | ']' | '{' | '}' | 'doc-start' | 'doc-end' | 'eof';
export type ScalarStyle = 'plain' | 'single' | 'double' | 'literal' | 'folded';

export interface Token {
  readonly kind: TokenKind;
  /** The scalar's style; null for every other kind. */
  readonly style: ScalarStyle | null;
  /** Scalar content (plain scalars as written, the others decoded), or the indicator's own text. */
  readonly value: string;
  readonly line: number;
  readonly column: number;
}

interface LexState extends SourceState {
  readonly tokens: Token[];
  /** 0-based index of the line being read, and 0-based position in it. */
  line: number;
  pos: number;
  /** Open `[` / `{` tokens, innermost last. */
  readonly flowStack: Token[];
  /**
   * 0-based column of the innermost block collection entry started on this line: the last `- ` or the
   * last key followed by `:`. A block scalar's content must be indented more than it (§8.1.1.1).
   */
  blockIndent: number | null;
  /** Position just after a quoted scalar or flow collection closed on this line (JSON-like `"a":1`). */
  adjacentEnd: number;
}

const FLOW_INDICATORS = ',[]{}';
const REFUSED_INDICATORS: ReadonlyMap<string, string> = new Map([
  ['&', `anchors (&name) are ${UNSUPPORTED}; quote the value if '&' is meant literally`],
  ['*', `aliases (*name) are ${UNSUPPORTED}; quote the value if '*' is meant literally`],
  ['!', `tags (!tag, !!type) are ${UNSUPPORTED}; quote the value if '!' is meant literally`],
  ['%', "a plain scalar cannot start with '%'; quote the value"],
  ['@', "'@' is reserved in YAML and cannot start a plain scalar; quote the value"],
  ['`', "'`' is reserved in YAML and cannot start a plain scalar; quote the value"],
]);

const isBlank = (ch: string | undefined): boolean => ch === ' ' || ch === '\t';
const isBlankOrEnd = (ch: string | undefined): boolean => ch === undefined || ch === ' ' || ch === '\t';

export function tokenize(source: SourceState): Token[] {
  const state: LexState = { ...source, tokens: [], line: 0, pos: 0, flowStack: [], blockIndent: null, adjacentEnd: -1 };
  while (state.line < state.lines.length) {
    const before = state.line;
    readLine(state);
    // A block scalar moves `line` past its content itself.
    if (state.line === before) state.line++;
  }
  const open = state.flowStack.at(-1);
  if (open) {
    const what = open.kind === '[' ? "flow sequence: missing ']'" : "flow mapping: missing '}'";
    fail(state, `unterminated ${what}`, open.line, open.column);
  }
  const lastLine = Math.max(state.lines.length, 1);
  push(state, 'eof', null, '', lastLine, (state.lines[lastLine - 1]?.length ?? 0) + 1);
  return state.tokens;
}

function push(state: LexState, kind: TokenKind, style: ScalarStyle | null, value: string, line: number, column: number): Token {
  // Keys and values are one-byte strings wherever they can be, whatever else the file holds (narrow()): a
  // plain scalar from a wide line, and any quoted or block scalar (it may span lines) of a wide file.
  const wide = kind === 'scalar' && state.wideLines !== null && (style !== 'plain' || state.wideLines[line - 1] === 1);
  const token: Token = { kind, style, value: wide ? narrow(value) : value, line, column };
  state.tokens.push(token);
  return token;
}

function text(state: LexState): string {
  return state.lines[state.line] ?? '';
}

function readLine(state: LexState): void {
  const line = text(state);
  const lineNo = state.line + 1;
  state.pos = 0;
  state.blockIndent = null;
  state.adjacentEnd = -1;
  if (state.flowStack.length > 0) {
    // Inside a flow collection indentation means nothing, but document markers cannot appear (§7).
    if (isMarker(line, '---') || isMarker(line, '...')) {
      const open = state.flowStack[0] as Token;
      fail(state, `unterminated flow ${open.kind === '[' ? 'sequence' : 'mapping'} before the document marker on line ${lineNo}`, open.line, open.column);
    }
    readTokens(state);
    return;
  }
  let indent = 0;
  while (line[indent] === ' ') indent++;
  let first = indent;
  while (isBlank(line[first])) first++;
  if (first === line.length || line[first] === '#') return; // blank or comment-only line
  // §6.1: indentation is spaces only; a tab here would make the structure depend on tab width.
  if (line[indent] === '\t') fail(state, 'tabs are not allowed for indentation; indent with spaces', lineNo, indent + 1);
  if (indent === 0) {
    if (line[0] === '%') fail(state, `directives (%YAML, %TAG) are ${UNSUPPORTED}`, lineNo, 1);
    const marker = isMarker(line, '---') ? 'doc-start' : isMarker(line, '...') ? 'doc-end' : null;
    if (marker) {
      push(state, marker, null, line.slice(0, 3), lineNo, 1);
      state.pos = 3;
      while (isBlank(line[state.pos])) state.pos++;
      if (state.pos < line.length && line[state.pos] !== '#') {
        fail(state, `content on the same line as '${line.slice(0, 3)}' is ${UNSUPPORTED}; start it on the next line`, lineNo, state.pos + 1);
      }
      return;
    }
  }
  state.pos = indent;
  readTokens(state);
}

/** Tokens from `state.pos` to the end of the current line. */
function readTokens(state: LexState): void {
  const line = text(state);
  const lineNo = state.line + 1;
  for (;;) {
    while (isBlank(line[state.pos])) state.pos++;
    const ch = line[state.pos];
    if (ch === undefined) return;
    const column = state.pos + 1;
    const next = line[state.pos + 1];
    const inFlow = state.flowStack.length > 0;
    const refused = REFUSED_INDICATORS.get(ch);
    if (refused !== undefined) fail(state, refused, lineNo, column);
    if (ch === '#') {
      // §6.6: a comment is separated from what precedes it by white space (`a#b` is a plain scalar).
      if (state.pos > 0 && !isBlank(line[state.pos - 1])) fail(state, "unexpected '#': a comment must be preceded by a space", lineNo, column);
      return;
    } else if (ch === '[' || ch === '{') {
      state.flowStack.push(push(state, ch, null, ch, lineNo, column));
      state.pos++;
    } else if (ch === ']' || ch === '}') {
      const open = state.flowStack.pop();
      if (!open) fail(state, `unexpected '${ch}': no flow collection is open; quote the value if it is meant literally`, lineNo, column);
      const expected = open.kind === '[' ? ']' : '}';
      if (ch !== expected) fail(state, `'${ch}' does not close the '${open.kind}' opened at line ${open.line}, column ${open.column}`, lineNo, column);
      push(state, ch, null, ch, lineNo, column);
      state.adjacentEnd = ++state.pos;
    } else if (ch === ',') {
      if (!inFlow) fail(state, "a plain scalar cannot start with ','; quote the value", lineNo, column);
      push(state, 'comma', null, ch, lineNo, column);
      state.pos++;
    } else if (ch === '-' && isBlankOrEnd(next)) {
      if (inFlow) fail(state, "block sequence entries ('- ') are not allowed inside flow collections", lineNo, column);
      push(state, 'dash', null, ch, lineNo, column);
      state.blockIndent = state.pos++;
      // What follows `- ` on the line sets the indentation of a nested collection: spaces only.
      let tab = -1;
      for (; isBlank(line[state.pos]); state.pos++) if (tab < 0 && line[state.pos] === '\t') tab = state.pos;
      if (tab >= 0 && state.pos < line.length && line[state.pos] !== '#') {
        fail(state, 'tabs are not allowed for indentation; indent with spaces', lineNo, tab + 1);
      }
    } else if (ch === '?' && (isBlankOrEnd(next) || inFlow)) {
      // `{?a: 1}` is the key "a" for YAML 1.1 parsers and "?a" for YAML 1.2 ones: refuse to guess.
      if (!isBlankOrEnd(next)) fail(state, "a plain scalar inside a flow collection cannot start with '?'; quote the value", lineNo, column);
      fail(state, `complex keys ('? key') are ${UNSUPPORTED}`, lineNo, column);
    } else if (ch === ':' && isValueIndicator(state)) {
      const key = state.tokens.at(-1);
      if (key && key.line === lineNo) state.blockIndent = key.column - 1;
      push(state, 'colon', null, ch, lineNo, column);
      state.pos++;
    } else if (ch === '|' || ch === '>') {
      readBlockScalar(state);
      return;
    } else if (ch === '"' || ch === "'") {
      readQuoted(state, ch);
    } else {
      readPlain(state);
    }
  }
}

/** Whether the `:` at `state.pos` separates a key from its value (§7.4, §8.2.2). */
function isValueIndicator(state: LexState): boolean {
  const next = text(state)[state.pos + 1];
  if (isBlankOrEnd(next)) return true;
  if (state.flowStack.length === 0) return false;
  // In flow context `{a:[b]}` and, right after a quoted key or a collection, `{"a":1}` (§7.4.2).
  return FLOW_INDICATORS.includes(next as string) || state.adjacentEnd === state.pos;
}

/** A plain scalar (§7.3.3), on one line: it ends at `: `, ` #`, the line end, or a flow indicator in flow context. */
function readPlain(state: LexState): void {
  const line = text(state);
  const inFlow = state.flowStack.length > 0;
  const start = state.pos;
  let end = start;
  for (let i = start; i < line.length; ) {
    const ch = line[i] as string;
    if (isBlank(ch)) {
      i++;
      continue;
    }
    if (ch === ':' && (isBlankOrEnd(line[i + 1]) || (inFlow && FLOW_INDICATORS.includes(line[i + 1] as string)))) break;
    if (ch === '#' && isBlank(line[i - 1])) break;
    if (inFlow && FLOW_INDICATORS.includes(ch)) {
      if ((ch === '[' || ch === '{') && end === i) {
        fail(state, `'${ch}' cannot appear in a plain scalar inside a flow collection; quote the value`, state.line + 1, i + 1);
      }
      break;
    }
    end = ++i;
  }
  push(state, 'scalar', 'plain', line.slice(start, end), state.line + 1, start + 1);
  state.pos = end;
}

/** A single- or double-quoted scalar (§7.3.1, §7.3.2), which must end on the line it starts. */
function readQuoted(state: LexState, quote: '"' | "'"): void {
  const line = text(state);
  const lineNo = state.line + 1;
  const start = state.pos;
  let value = '';
  let i = start + 1;
  for (;;) {
    const ch = line[i];
    if (ch === undefined) {
      const style = quote === '"' ? 'double' : 'single';
      fail(state, `unterminated ${style}-quoted scalar (multi-line quoted scalars are ${UNSUPPORTED})`, lineNo, start + 1);
    }
    if (ch === quote) {
      // In single quotes, '' is an escaped quote (§7.3.2).
      if (quote === "'" && line[i + 1] === "'") {
        value += "'";
        i += 2;
        continue;
      }
      i++;
      break;
    }
    if (quote === '"' && ch === '\\') {
      const escape = readEscape(line, i);
      if ('error' in escape) fail(state, escape.error, lineNo, i + 1);
      value += escape.value;
      i += escape.length;
      continue;
    }
    value += ch;
    i++;
  }
  // Only a separator, `:` or a flow indicator may follow the closing quote (`"a"b` is an error).
  const after = line[i];
  const inFlow = state.flowStack.length > 0;
  const ok = isBlankOrEnd(after) || (after === ':' && (inFlow || isBlankOrEnd(line[i + 1]))) || (inFlow && ',]}'.includes(after as string));
  if (!ok) fail(state, `unexpected '${after}' after the quoted scalar`, lineNo, i + 1);
  push(state, 'scalar', quote === '"' ? 'double' : 'single', value, lineNo, start + 1);
  state.pos = i;
  state.adjacentEnd = i;
}

/** A literal `|` or folded `>` block scalar (§8.1): header on this line, content on the lines below. */
function readBlockScalar(state: LexState): void {
  const line = text(state);
  const lineNo = state.line + 1;
  const start = state.pos;
  if (state.flowStack.length > 0) fail(state, 'block scalars (| and >) cannot be used inside flow collections', lineNo, start + 1);
  let parent: number;
  if (state.blockIndent !== null) parent = state.blockIndent;
  else if (state.tokens.every((t) => t.kind === 'doc-start')) parent = -1; // the whole document is the scalar
  else fail(state, "a block scalar (| or >) must follow 'key:' or '- ' on the same line", lineNo, start + 1);

  // Header (§8.1.1): indentation digit and chomping indicator, in either order, then a comment.
  let chomping: Chomping = 'clip';
  let explicit = 0;
  let i = start + 1;
  for (let n = 0; n < 2; n++) {
    const ch = line[i];
    if ((ch === '-' || ch === '+') && chomping === 'clip') chomping = ch === '-' ? 'strip' : 'keep';
    else if (ch !== undefined && ch >= '1' && ch <= '9' && explicit === 0) explicit = Number(ch);
    else break;
    i++;
  }
  let j = i;
  while (isBlank(line[j])) j++;
  if (j < line.length && !(line[j] === '#' && j > i)) {
    fail(state, `unexpected '${line[j]}' in the block scalar header (expected '-', '+', a digit 1-9 or a comment)`, lineNo, j + 1);
  }

  const { body, next } = readBlockScalarLines(state, state.line + 1, parent, explicit);
  const lastLineHasBreak = next < state.lines.length || state.endsWithBreak;
  const value = blockScalarValue(body, line[start] === '>', chomping, lastLineHasBreak);
  push(state, 'scalar', line[start] === '>' ? 'folded' : 'literal', value, lineNo, start + 1);
  state.line = next;
}
