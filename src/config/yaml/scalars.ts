// Scalar content rules of YAML 1.2: core schema resolution of plain scalars (§10.3.2), escape
// sequences of double-quoted scalars (§5.7), and folding / chomping of block scalars (§8.1).

import { fail, isMarker } from './source.ts';
import type { SourceState } from './source.ts';

export type Chomping = 'clip' | 'strip' | 'keep';

const NULL_RE = /^(?:~|null|Null|NULL)?$/;
const TRUE_RE = /^(?:true|True|TRUE)$/;
const FALSE_RE = /^(?:false|False|FALSE)$/;
// The core schema allows a sign on decimal integers only; we also accept it on 0x / 0o (`-0x10` is -16).
const INT_RE = /^([-+]?)(?:0x([0-9a-fA-F]+)|0o([0-7]+)|([0-9]+))$/;
const FLOAT_RE = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;
const INF_RE = /^([-+]?)\.(?:inf|Inf|INF)$/;
const NAN_RE = /^\.(?:nan|NaN|NAN)$/;

/**
 * The value of a plain (unquoted) scalar under the core schema: null, booleans, integers and floats;
 * anything else (`yes`, `on`, `500ms`, `1.2.3`) stays a string. `reject` reports values we refuse.
 */
export function resolvePlainScalar(text: string, reject: (message: string) => never): null | boolean | number | string {
  if (NULL_RE.test(text)) return null;
  if (TRUE_RE.test(text)) return true;
  if (FALSE_RE.test(text)) return false;
  const int = INT_RE.exec(text);
  if (int) {
    const [, sign, hex, octal, decimal = ''] = int;
    const magnitude = hex !== undefined ? parseInt(hex, 16) : octal !== undefined ? parseInt(octal, 8) : Number(decimal);
    const value = sign === '-' ? -magnitude : magnitude;
    // Past 2^53 the number would silently differ from what was written.
    if (!Number.isSafeInteger(value)) {
      reject(`the integer ${text} is too large to be represented exactly; quote it if it is meant as a string`);
    }
    return value;
  }
  if (FLOAT_RE.test(text)) return Number(text);
  const inf = INF_RE.exec(text);
  if (inf) return inf[1] === '-' ? -Infinity : Infinity;
  if (NAN_RE.test(text)) return NaN;
  return text;
}

// §5.7 escape sequences with a fixed meaning.
const SIMPLE_ESCAPES: ReadonlyMap<string, string> = new Map([
  ['0', '\0'],
  ['a', '\x07'],
  ['b', '\b'],
  ['t', '\t'],
  ['\t', '\t'],
  ['n', '\n'],
  ['v', '\v'],
  ['f', '\f'],
  ['r', '\r'],
  ['e', '\x1b'],
  [' ', ' '],
  ['"', '"'],
  ['/', '/'],
  ['\\', '\\'],
  ['N', '\x85'],
  ['_', '\xa0'],
  ['L', '\u2028'],
  ['P', '\u2029'],
]);
// §5.7 escapes followed by a fixed number of hex digits.
const HEX_ESCAPE_DIGITS: ReadonlyMap<string, number> = new Map([
  ['x', 2],
  ['u', 4],
  ['U', 8],
]);

/** The escape sequence whose backslash is at `text[start]`: its value and length, or why it is invalid. */
export function readEscape(text: string, start: number): { value: string; length: number } | { error: string } {
  const letter = text[start + 1];
  if (letter === undefined) {
    return { error: 'escaped line breaks (multi-line double-quoted scalars) are not supported; keep the string on one line' };
  }
  const simple = SIMPLE_ESCAPES.get(letter);
  if (simple !== undefined) return { value: simple, length: 2 };
  const digits = HEX_ESCAPE_DIGITS.get(letter);
  if (digits === undefined) return { error: `unknown escape sequence '\\${letter}' in a double-quoted scalar` };
  const hex = text.slice(start + 2, start + 2 + digits);
  if (hex.length !== digits || !/^[0-9a-fA-F]+$/.test(hex)) {
    return { error: `'\\${letter}' must be followed by ${digits} hexadecimal digits` };
  }
  const code = parseInt(hex, 16);
  if (code > 0x10ffff) return { error: `'\\${letter}${hex}' is not a Unicode code point` };
  // \uD83D\uDE00 (a surrogate pair written as two escapes) concatenates into one code point.
  return { value: String.fromCodePoint(code), length: 2 + digits };
}

/**
 * The value of a block scalar from its lines (indentation already removed; empty lines are ''):
 * `|` keeps line breaks, `>` folds them (§8.1.3), then the chomping indicator decides what happens to
 * the final break and trailing empty lines (§8.1.1.2). `lastLineHasBreak` is false when the scalar's
 * last line ends the file without a line break.
 */
export function blockScalarValue(
  lines: readonly string[],
  folded: boolean,
  chomping: Chomping,
  lastLineHasBreak: boolean,
): string {
  let last = lines.length - 1;
  while (last >= 0 && lines[last] === '') last--;
  const trailingEmpty = lines.length - 1 - last;
  if (last < 0) return chomping === 'keep' ? '\n'.repeat(trailingEmpty) : '';
  const content = lines.slice(0, last + 1);
  const text = folded ? foldLines(content) : content.join('\n');
  if (chomping === 'strip') return text;
  const finalBreak = trailingEmpty > 0 || lastLineHasBreak ? '\n' : '';
  return chomping === 'clip' ? text + finalBreak : text + finalBreak + '\n'.repeat(trailingEmpty);
}

/**
 * Line folding of `>` content (§6.5, §8.1.3): a single break between two "normal" lines becomes a
 * space; n empty lines between them become n breaks; breaks around more-indented lines (starting with
 * a space or tab) are kept as they are.
 */
function foldLines(lines: readonly string[]): string {
  let out = '';
  let previous: 'none' | 'normal' | 'more' = 'none';
  let empty = 0;
  for (const line of lines) {
    if (line === '') {
      empty++;
      continue;
    }
    const kind = line[0] === ' ' || line[0] === '\t' ? 'more' : 'normal';
    if (previous === 'none') out += '\n'.repeat(empty);
    else if (previous === 'normal' && kind === 'normal') out += empty === 0 ? ' ' : '\n'.repeat(empty);
    else out += '\n'.repeat(empty + 1);
    out += line;
    previous = kind;
    empty = 0;
  }
  return out;
}

/**
 * The content lines of a block scalar whose header is on the line before `first` (0-based), with the
 * content indentation removed ('' for empty lines), and the index of the first line after it.
 * `parent` is the 0-based indentation of the collection the scalar belongs to (-1 at top level);
 * `explicit` the header's indentation digit, 0 when absent.
 */
export function readBlockScalarLines(
  state: SourceState,
  first: number,
  parent: number,
  explicit: number,
): { body: string[]; next: number } {
  const lines = state.lines;
  let indent = parent + explicit;
  if (explicit === 0) {
    // Auto-detection (§8.1.1.1): the first non-empty line sets the indentation; leading empty lines
    // must not be indented more than it. No such line more indented than the parent: empty content.
    indent = parent + 1;
    let widest = { spaces: 0, line: 0 };
    for (let k = first; k < lines.length; k++) {
      const content = lines[k] as string;
      const spaces = leadingSpaces(content);
      if (spaces === content.length) {
        if (spaces > widest.spaces) widest = { spaces, line: k + 1 };
        continue;
      }
      if (spaces > parent) {
        if (widest.spaces > spaces) {
          fail(state, 'this leading empty line of the block scalar is indented more than its first line', widest.line, spaces + 1);
        }
        indent = spaces;
      }
      break;
    }
  }
  const body: string[] = [];
  let k = first;
  for (; k < lines.length; k++) {
    const content = lines[k] as string;
    // Document markers end a top-level block scalar whose content is not indented (§9.1.4).
    if (isMarker(content, '---') || isMarker(content, '...')) break;
    const spaces = leadingSpaces(content);
    // A line indented less than the content ends the scalar, unless it is empty (only spaces).
    if (spaces >= indent) body.push(content.slice(indent));
    else if (spaces === content.length) body.push('');
    else break;
  }
  return { body, next: k };
}

function leadingSpaces(line: string): number {
  let n = 0;
  while (line[n] === ' ') n++;
  return n;
}
