// Flow collections (§7.4, §7.5): `[a, b]` and `{a: 1}`, possibly over several lines, possibly nested; only
// flow nodes inside them (block collections cannot be nested in a flow collection).
import { UNSUPPORTED } from './source.ts';
import {
  atKey, describe, failAt, failIfContinuation, keepLossy, keyName, nested, next, peek, scalarValue,
  type ParseState, type YamlMapping,
} from './parse-state.ts';

/** `[a, b]` or `{a: 1}` (§7.4, §7.5), possibly over several lines, possibly nested. */
export function readFlowCollection(state: ParseState): unknown {
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
