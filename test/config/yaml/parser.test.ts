import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../../src/config/errors.ts';
import { parseYaml } from '../../../src/config/yaml/parser.ts';

/** Joins lines with LF so block scalars and indentation are easy to read in the tables. */
const doc = (...lines: string[]): string => lines.join('\n') + '\n';

// ---------------------------------------------------------------------------------------------
// Table 1: accepted documents -> expected values.
// ---------------------------------------------------------------------------------------------

const ACCEPTED: Array<[name: string, text: string, expected: unknown]> = [
  // Documents that hold nothing.
  ['empty document', '', null],
  ['only comments and blank lines', doc('# a comment', '', '   # indented comment'), null],
  ['only a document start marker', doc('---'), null],
  ['only an end marker', doc('...'), null],
  ['document start marker then content', doc('# header', '--- # comment', 'a: 1'), { a: 1 }],
  ['document end marker then comments', doc('a: 1', '...', '# trailing comment'), { a: 1 }],
  ['byte order mark and CRLF line breaks', '\uFEFFa: 1\r\nb:\r\n  - x\r\n', { a: 1, b: ['x'] }],
  ['CR line breaks', 'a: 1\rb: 2', { a: 1, b: 2 }],
  ['top-level scalar', 'hello', 'hello'],
  ['top-level flow sequence', '[1, two]', [1, 'two']],

  // Block mappings and sequences.
  ['nested block mappings', doc('a:', '  b:', '    c: deep', '  d: 2', 'e: 3'), { a: { b: { c: 'deep' }, d: 2 }, e: 3 }],
  ['keys keep document order', doc('z: 1', 'a: 2', 'm: 3'), { z: 1, a: 2, m: 3 }],
  ['indented block sequence under a key', doc('list:', '  - a', '  - b'), { list: ['a', 'b'] }],
  ['sequence at the same indentation as its key', doc('list:', '- a', '- b', 'next: 1'), { list: ['a', 'b'], next: 1 }],
  [
    'sequence of mappings',
    doc('- name: a', '  weight: 2', '- name: b', '  tags: [x]'),
    [{ name: 'a', weight: 2 }, { name: 'b', tags: ['x'] }],
  ],
  [
    'same-indentation sequence of mappings inside a sequence item',
    doc('- key:', '  - k: 1', '    j: 2', '  - z', '- last'),
    [{ key: [{ k: 1, j: 2 }, 'z'] }, 'last'],
  ],
  ['nested compact sequences', doc('- - a', '  - b', '- - - c'), [['a', 'b'], [['c']]]],
  ['sequence item on the next line', doc('-', '  a: 1', '-', '  - x'), [{ a: 1 }, ['x']]],
  ['empty sequence items', doc('- ', '-', '- # comment', '- x'), [null, null, null, 'x']],
  ['indentation of four and one spaces', doc('a:', '    b:', '     - 1', '    c: 2'), { a: { b: [1], c: 2 } }],
  ['mapping at a non-zero top-level indentation', doc('  a: 1', '  b: 2'), { a: 1, b: 2 }],
  ['scalar on the line after its key', doc('a:', '  value'), { a: 'value' }],
  ['comments between entries', doc('a:', '  # about b', '  b: 1', '', '# about c', 'c: 2'), { a: { b: 1 }, c: 2 }],
  ['white space before the colon', doc('key   : value'), { key: 'value' }],
  ['tab as separator after the colon', 'a:\tb', { a: 'b' }],

  // Empty values.
  ['empty value is null', doc('a:', 'b: 1'), { a: null, b: 1 }],
  ['empty value at the end', doc('a: 1', 'b:'), { a: 1, b: null }],
  ['empty value with a comment', doc('a:   # nothing', 'b:'), { a: null, b: null }],
  ['empty value inside a nested mapping', doc('a:', '  b:', 'c: 1'), { a: { b: null }, c: 1 }],

  // Flow collections.
  ['flow sequence', doc('a: [x, y, z]'), { a: ['x', 'y', 'z'] }],
  ['empty flow collections', doc('a: []', 'b: {}', 'c: [ ]', 'd: { }'), { a: [], b: {}, c: [], d: {} }],
  ['nested flow collections', doc('a: [a, b, [c, d]]', 'b: {a: 1, b: {c: [x]}}'), { a: ['a', 'b', ['c', 'd']], b: { a: 1, b: { c: ['x'] } } }],
  ['flow collections over several lines', doc('a: [', '  one,  # first', '  two,', ']', 'b: {x: 1,', '  y: 2}'), { a: ['one', 'two'], b: { x: 1, y: 2 } }],
  ['trailing comma', doc('a: [1, 2,]', 'b: {a: 1,}'), { a: [1, 2], b: { a: 1 } }],
  ['flow mapping without spaces around values', doc('a: {x: 1,y: [2,3]}'), { a: { x: 1, y: [2, 3] } }],
  ['JSON-like flow mapping', '{"a":1, "b":[true, null], "c":{"d":"e"}}', { a: 1, b: [true, null], c: { d: 'e' } }],
  ['flow mapping key without a value', doc('a: {x, y: 1, z:}'), { a: { x: null, y: 1, z: null } }],
  ['single-pair mapping in a flow sequence', doc('a: [x: 1, y]'), { a: [{ x: 1 }, 'y'] }],
  ['flow sequence of flow mappings as a sequence item', doc('- [{a: 1}, {b: 2}]'), [[{ a: 1 }, { b: 2 }]]],
  ['URLs and colons inside flow', doc('a: [http://127.0.0.1:8080/v1, "x: y", a:b]'), { a: ['http://127.0.0.1:8080/v1', 'x: y', 'a:b'] }],
  ['plain scalars with spaces in flow', doc('a: [hello world, b c ]'), { a: ['hello world', 'b c'] }],
  ['flow sequence as the root of a mapping value on the next line', doc('a:', '  [1, 2]'), { a: [1, 2] }],

  // Plain scalars and core schema resolution (YAML 1.2 §10.3.2).
  ['null forms', doc('a: null', 'b: Null', 'c: NULL', 'd: ~', 'e:'), { a: null, b: null, c: null, d: null, e: null }],
  ['booleans', doc('- true', '- True', '- TRUE', '- false', '- False', '- FALSE'), [true, true, true, false, false, false]],
  ['YAML 1.1 booleans stay strings', doc('- yes', '- no', '- on', '- off', '- y', '- tRue'), ['yes', 'no', 'on', 'off', 'y', 'tRue']],
  ['decimal integers', doc('- 0', '- 42', '- -17', '- +5', '- 007'), [0, 42, -17, 5, 7]],
  ['hexadecimal and octal integers', doc('- 0x1F', '- 0xff', '- -0x10', '- 0o17', '- +0o7'), [31, 255, -16, 15, 7]],
  ['floats', doc('- 1.5', '- -2e3', '- .5', '- 1.', '- +1.25E+2', '- 0.0'), [1.5, -2000, 0.5, 1, 125, 0]],
  ['infinities and NaN', doc('- .inf', '- -.inf', '- +.Inf', '- .INF', '- .nan', '- .NaN'), [Infinity, -Infinity, Infinity, Infinity, NaN, NaN]],
  [
    'strings that look almost like numbers',
    doc('- 500ms', '- 30s', '- 1.2.3', '- 1_000', '- 0x', '- 0o8', '- 1e', '- 12:30', '- .5.', '- inf', '- nan'),
    ['500ms', '30s', '1.2.3', '1_000', '0x', '0o8', '1e', '12:30', '.5.', 'inf', 'nan'],
  ],
  ['dotted names', doc('model: openai.llm.v1'), { model: 'openai.llm.v1' }],
  ['plain scalars with inner spaces and trailing spaces', 'a: hello   world   ', { a: 'hello   world' }],
  ['plain scalars starting with indicator characters', doc('- -1', '- -x', '- ?x', '- :x', '- a]b', '- x,y'), [-1, '-x', '?x', ':x', 'a]b', 'x,y']],
  ['indicator characters inside plain scalars', doc('a: b&c*d!e|f>g%h@i`j', 'b: 50%'), { a: 'b&c*d!e|f>g%h@i`j', b: '50%' }],
  ['URL with a port', doc('url: http://127.0.0.1:8080'), { url: 'http://127.0.0.1:8080' }],
  ['tab inside a plain scalar', 'a: x\ty', { a: 'x\ty' }],

  // Comments.
  ['comment after values', doc('a: 1 # one', 'b: text # note', 'c:', '- x # after an item'), { a: 1, b: 'text', c: ['x'] }],
  ['# not preceded by white space is content', doc('url: http://x/#frag', 'color: a#b'), { url: 'http://x/#frag', color: 'a#b' }],
  ['# inside quotes is content', doc(`a: "x # y"`, `b: 'p # q' # real comment`), { a: 'x # y', b: 'p # q' }],
  ['comment after a flow collection and a key', doc('a: [1] # c', 'b: # c', '  c: 2'), { a: [1], b: { c: 2 } }],

  // Quoted scalars.
  ['quoted scalars are always strings', doc(`- "1"`, `- 'true'`, `- "null"`, `- ''`, `- "~"`), ['1', 'true', 'null', '', '~']],
  ['single-quoted escape', doc(`a: 'it''s'`, `b: 'back\\slash'`), { a: "it's", b: 'back\\slash' }],
  [
    'double-quoted escapes',
    doc(String.raw`a: "q\" b\\ n\n t\t r\r z\0 s\/"`, String.raw`b: "\x41\u00e9\U0001F600"`),
    { a: 'q" b\\ n\n t\t r\r z\0 s/', b: 'Aé😀' },
  ],
  ['other YAML escapes', doc(String.raw`a: "\a\b\e\f\v\ \N\_\L\P\	"`), { a: '\x07\b\x1b\f\v \x85\xa0\u2028\u2029\t' }],
  ['escaped surrogate pair', doc(String.raw`a: "\uD83D\uDE00"`), { a: '😀' }],
  ['": " inside quotes', doc(`a: "b: c"`, `b: 'x: y'`), { a: 'b: c', b: 'x: y' }],
  ['quoted value followed by a comment', doc(`a: "x" # c`), { a: 'x' }],

  // Keys.
  [
    'keys with dots, slashes, dashes and ${...}',
    doc('openai.llm.v1: 1', '/v1/models: 2', 'text-generation: 3', '${HOME}/x: 4', 'a b: 5'),
    { 'openai.llm.v1': 1, '/v1/models': 2, 'text-generation': 3, '${HOME}/x': 4, 'a b': 5 },
  ],
  ['quoted keys', doc(`"a: b": 1`, `'c d': 2`, `"": 3`, `"<<": 4`), { 'a: b': 1, 'c d': 2, '': 3, '<<': 4 }],
  ['keys are the text as written', doc('1: a', '007: b', 'true: c', '~: d'), { '1': 'a', '007': 'b', true: 'c', '~': 'd' }],
  ['constructor and prototype are ordinary keys', doc('constructor: 1', 'prototype: 2'), { constructor: 1, prototype: 2 }],
  ['values containing ${...}', doc('api_key: ${OPENAI_API_KEY}'), { api_key: '${OPENAI_API_KEY}' }],

  // Block scalars (§8.1).
  ['literal, clip', doc('a: |', '  line 1', '    indented', '  line 3', '', 'b: 1'), { a: 'line 1\n  indented\nline 3\n', b: 1 }],
  ['literal, strip', doc('a: |-', '  x', '  y', '', ''), { a: 'x\ny' }],
  ['literal, keep', doc('a: |+', '  x', '', '', 'b: 1'), { a: 'x\n\n\n', b: 1 }],
  ['literal with inner blank lines', doc('a: |', '  x', '', '  y'), { a: 'x\n\ny\n' }],
  ['literal with leading blank lines', doc('a: |', '', '  x'), { a: '\nx\n' }],
  ['literal keeps # lines as content', doc('a: |', '  # not a comment', '# a comment', 'b: 2'), { a: '# not a comment\n', b: 2 }],
  ['literal with a header comment', doc('a: | # about a', '  x'), { a: 'x\n' }],
  ['literal with an explicit indentation indicator', doc('a: |2', '    indented', '  base'), { a: '  indented\nbase\n' }],
  ['indicators in either order', doc('a: |-2', '   x', 'b: >+1', '  y'), { a: ' x', b: ' y\n' }],
  ['empty literal', doc('a: |', 'b: |-', 'c: |+', '', 'd: 1'), { a: '', b: '', c: '\n', d: 1 }],
  ['literal at the end of input without a final line break', 'a: |\n  x', { a: 'x' }],
  ['literal keeps spaces beyond the indentation on blank lines', doc('a: |', '  x', '    ', '  y'), { a: 'x\n  \ny\n' }],
  ['folded, clip', doc('a: >', '  one', '  two', '', '  three', 'b: 1'), { a: 'one two\nthree\n', b: 1 }],
  ['folded, strip', doc('a: >-', '  one', '  two', ''), { a: 'one two' }],
  ['folded, keep', doc('a: >+', '  one', '  two', '', ''), { a: 'one two\n\n\n' }],
  [
    'folded keeps more-indented lines and blank lines (spec example 8.10)',
    doc('>', '', ' folded', ' line', '', ' next', ' line', '   * bullet', '', '   * list', '   * lines', '', ' last', ' line', '', '# Comment'),
    '\nfolded line\nnext line\n  * bullet\n\n  * list\n  * lines\n\nlast line\n',
  ],
  ['block scalars as sequence items', doc('- |', '  lit', '- >-', '  fol', '  ded', '- x'), ['lit\n', 'fol ded', 'x']],
  ['block scalar in a compact mapping in a sequence', doc('- k: |', '    v', '  j: 1'), [{ k: 'v\n', j: 1 }]],
  ['block scalar as the whole document', doc('|', '  text'), 'text\n'],
  ['block scalar ended by a document end marker', doc('--- ', '|', 'text', '...'), 'text\n'],

  // A realistic config.
  [
    'multi-section config',
    doc(
      '# ModelMesh config',
      'proxy:',
      '  listen: 127.0.0.1:8080',
      '  request_timeout: 30s',
      '  api_keys: ["${MESH_KEY_1}", \'${MESH_KEY_2}\']',
      '  max_body: 10MiB',
      'providers:',
      '  openai:',
      '    base_url: https://api.openai.com/v1   # upstream',
      '    api_key: ${OPENAI_API_KEY}',
      '    headers: {OpenAI-Organization: org-123}',
      '  local:',
      '    base_url: http://127.0.0.1:11434/v1',
      'models:',
      '  openai.llm.v1:',
      '    provider: openai',
      '    model: gpt-4o-mini',
      '    capabilities: [chat, tools, vision]',
      '    cost: {input: 0.15, output: 0.6}',
      '    enabled: true',
      '  local.llm.v1:',
      '    provider: local',
      '    model: "llama3:8b"',
      '    max_tokens: 0x1000',
      'pools:',
      '  text-generation:',
      '    strategy: priority',
      '    models:',
      '    - openai.llm.v1',
      '    - local.llm.v1',
      '    retry: {attempts: 3, backoff: 500ms}',
      '    system_prompt: >-',
      '      You are a helpful',
      '      assistant.',
      'routes:',
      '  /v1/models: {pool: text-generation}',
      '  /v1/chat/completions:',
      '    pool: text-generation',
      '    fallback: ~',
    ),
    {
      proxy: {
        listen: '127.0.0.1:8080',
        request_timeout: '30s',
        api_keys: ['${MESH_KEY_1}', '${MESH_KEY_2}'],
        max_body: '10MiB',
      },
      providers: {
        openai: {
          base_url: 'https://api.openai.com/v1',
          api_key: '${OPENAI_API_KEY}',
          headers: { 'OpenAI-Organization': 'org-123' },
        },
        local: { base_url: 'http://127.0.0.1:11434/v1' },
      },
      models: {
        'openai.llm.v1': {
          provider: 'openai',
          model: 'gpt-4o-mini',
          capabilities: ['chat', 'tools', 'vision'],
          cost: { input: 0.15, output: 0.6 },
          enabled: true,
        },
        'local.llm.v1': { provider: 'local', model: 'llama3:8b', max_tokens: 4096 },
      },
      pools: {
        'text-generation': {
          strategy: 'priority',
          models: ['openai.llm.v1', 'local.llm.v1'],
          retry: { attempts: 3, backoff: '500ms' },
          system_prompt: 'You are a helpful assistant.',
        },
      },
      routes: {
        '/v1/models': { pool: 'text-generation' },
        '/v1/chat/completions': { pool: 'text-generation', fallback: null },
      },
    },
  ],
];

for (const [name, text, expected] of ACCEPTED) {
  test(`accepts: ${name}`, () => {
    assert.deepEqual(parseYaml(text), expected);
  });
}

test('mappings are plain objects with keys in document order', () => {
  const value = parseYaml(doc('b: 1', 'a: 2', 'c: {z: 1, y: 2}')) as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(value), Object.prototype);
  assert.deepEqual(Object.keys(value), ['b', 'a', 'c']);
  assert.deepEqual(Object.keys(value['c'] as object), ['z', 'y']);
});

// ---------------------------------------------------------------------------------------------
// Table 2: rejected documents -> line, column, message fragment.
// ---------------------------------------------------------------------------------------------

const REJECTED: Array<[name: string, text: string, line: number, column: number, fragment: string]> = [
  // Indentation.
  ['tab indentation', doc('a:', '\tb: 1'), 2, 1, 'tabs are not allowed for indentation'],
  ['tab after space indentation', doc('a:', '  \tb: 1'), 2, 3, 'tabs are not allowed for indentation'],
  ['tab after a sequence dash', doc('-\tkey: 1'), 1, 2, 'tabs are not allowed for indentation'],
  ['key less indented than its siblings', doc('a:', '    b: 1', '  c: 2'), 3, 3, 'inconsistent indentation: expected column 1'],
  ['key more indented than its siblings', doc('a:', '  b: 1', '   c: 2'), 3, 4, 'inconsistent indentation: expected column 3'],
  ['mapping under a scalar value', doc('a: 1', '  b: 2'), 2, 3, 'inconsistent indentation'],
  ['sequence item less indented than its siblings', doc('a:', '    - 1', '  - 2'), 3, 3, 'inconsistent indentation'],
  ['sequence item more indented than its siblings', doc('- a: 1', '  b: 2', ' - c'), 3, 2, 'inconsistent indentation: expected column 1'],
  ['key indented under a scalar sequence item', doc('- 1', '  b: 2'), 2, 3, 'inconsistent indentation'],
  ['top-level mapping followed by a less indented key', doc('  a: 1', 'b: 2'), 2, 1, 'expected column 3'],
  ['sequence item where a key is expected', doc('a: 1', '- b'), 2, 1, "a block sequence item ('- ') cannot be mixed with the mapping keys"],
  ['key where a sequence item is expected', doc('- a', 'b: 1'), 2, 1, 'a mapping key cannot be mixed with the block sequence items'],
  ['scalar where a key is expected', doc('a: 1', 'b'), 2, 1, "expected a 'key: value' entry"],
  ['scalar where a sequence item is expected', doc('- a', 'b'), 2, 1, "expected a '- ' item"],
  ['sequence on the same line as its key', doc('a: - b'), 1, 4, 'a block sequence cannot start on the same line'],
  ['mapping on the same line as its key', doc('a: b: c'), 1, 4, 'a mapping cannot start on the same line'],
  ['mapping on the same line as a key in a sequence item', doc('- a: b: c'), 1, 6, 'a mapping cannot start on the same line'],

  // Multi-line scalars.
  ['multi-line plain scalar', doc('a: one', '  two'), 2, 3, 'multi-line plain scalars are not supported'],
  ['multi-line plain scalar at the top', doc('one', 'two'), 2, 1, 'multi-line plain scalars are not supported'],
  ['multi-line plain scalar that looks like an item', doc('a: b', '  - c'), 2, 3, 'multi-line plain scalars are not supported'],
  ['multi-line plain scalar in a flow collection', doc('a: [one', '  two]'), 2, 3, 'multi-line plain scalars are not supported'],
  ['multi-line double-quoted scalar', doc('a: "one', '  two"'), 1, 4, 'unterminated double-quoted scalar'],
  ['multi-line single-quoted scalar', doc("a: 'one", "  two'"), 1, 4, 'unterminated single-quoted scalar'],
  ['escaped line break', doc('a: "one\\'), 1, 8, 'escaped line breaks'],

  // Keys.
  ['duplicate key', doc('a: 1', 'b: 2', 'a: 3'), 3, 1, "duplicate key 'a' (first defined on line 1)"],
  ['duplicate key in a nested mapping', doc('x:', '  a: 1', '  a: 2'), 3, 3, "duplicate key 'a'"],
  ['duplicate key quoted and plain', doc('a: 1', '"a": 2'), 2, 1, "duplicate key 'a'"],
  ['duplicate key in a flow mapping', doc('x: {a: 1, a: 2}'), 1, 11, "duplicate key 'a'"],
  ['__proto__ key', doc('__proto__:', '  polluted: true'), 1, 1, "the key '__proto__' is not allowed"],
  ['quoted __proto__ key', doc('a:', '  "__proto__": {polluted: true}'), 2, 3, "the key '__proto__' is not allowed"],
  ['__proto__ key in a flow mapping', doc('a: {__proto__: {polluted: true}}'), 1, 5, "the key '__proto__' is not allowed"],
  ['__proto__ key in a flow sequence pair', doc('a: [__proto__: 1]'), 1, 5, "the key '__proto__' is not allowed"],
  ['merge key', doc('a:', '  <<: {b: 1}'), 2, 3, 'merge keys (<<) are not supported by the ModelMesh YAML subset'],
  ['complex key', doc('? a', ': b'), 1, 1, "complex keys ('? key') are not supported"],
  ['flow sequence as a key', doc('[a, b]: c'), 1, 1, 'flow collections as mapping keys (complex keys) are not supported'],
  ['flow mapping as a key in a flow mapping', doc('x: {[a]: b}'), 1, 5, 'complex keys'],
  ['flow collection as a key in a flow sequence', doc('x: [{a: 1}: b]'), 1, 5, 'complex keys'],
  ['empty key', doc(': value'), 1, 1, 'empty mapping keys are not supported'],
  ['empty key in a flow mapping', doc('a: {: b}'), 1, 5, 'empty mapping keys are not supported'],
  ['empty key in a flow sequence', doc('a: [: b]'), 1, 5, 'empty mapping keys are not supported'],
  ['? at the start of a plain scalar in flow', doc('a: {?b: c}'), 1, 5, "cannot start with '?'"],

  // Features outside the subset.
  ['anchor', doc('a: &anchor 1'), 1, 4, 'anchors (&name) are not supported by the ModelMesh YAML subset'],
  ['alias', doc('a: 1', 'b: *a'), 2, 4, 'aliases (*name) are not supported by the ModelMesh YAML subset'],
  ['local tag', doc('a: !foo 1'), 1, 4, 'tags (!tag, !!type) are not supported'],
  ['core tag', doc('a: !!str 1'), 1, 4, 'tags (!tag, !!type) are not supported'],
  ['anchor on a sequence item', doc('- &x a'), 1, 3, 'anchors (&name) are not supported'],
  ['directive', doc('%YAML 1.2', '---', 'a: 1'), 1, 1, 'directives (%YAML, %TAG) are not supported'],
  ['second document', doc('a: 1', '---', 'b: 2'), 2, 1, 'multiple documents are not supported'],
  ['two document start markers', doc('---', '---'), 2, 1, 'multiple documents are not supported'],
  ['content after the end marker', doc('a: 1', '...', 'b: 2'), 3, 1, "content after the document end marker '...'"],
  ['content on the --- line', doc('--- a: 1'), 1, 5, "content on the same line as '---' is not supported"],
  ['reserved indicator @', doc('a: @x'), 1, 4, "'@' is reserved"],
  ['reserved indicator `', doc('a: `x`'), 1, 4, "'`' is reserved"],
  ['plain scalar starting with %', doc('a: %x'), 1, 4, "cannot start with '%'"],
  ['plain scalar starting with ,', doc('a: ,x'), 1, 4, "cannot start with ','"],

  // Quoted scalars.
  ['unterminated double quote', doc('a: "abc'), 1, 4, 'unterminated double-quoted scalar'],
  ['unterminated single quote', doc("a: 'abc''"), 1, 4, 'unterminated single-quoted scalar'],
  ['garbage after a quoted scalar', doc('a: "abc" def'), 1, 10, "unexpected 'def' after the quoted scalar"],
  ['garbage glued to a quoted scalar', doc('a: "abc"def'), 1, 9, "unexpected 'd' after the quoted scalar"],
  ['quoted key glued to its value', doc('"a":b'), 1, 4, "unexpected ':' after the quoted scalar"],
  ['garbage after a plain value on the line', doc('- [a] b'), 1, 7, "unexpected 'b' after the flow collection"],
  ['unknown escape', doc('a: "\\q"'), 1, 5, "unknown escape sequence '\\q'"],
  ['short \\x escape', doc('a: "\\x4"'), 1, 5, "'\\x' must be followed by 2 hexadecimal digits"],
  ['non-hex \\u escape', doc('a: "\\u00zz"'), 1, 5, "'\\u' must be followed by 4 hexadecimal digits"],
  ['\\U escape beyond Unicode', doc('a: "\\U00110000"'), 1, 5, 'is not a Unicode code point'],

  // Flow collections.
  ['unterminated flow sequence', doc('a: [1, 2', 'b: 3'), 1, 4, "unterminated flow sequence: missing ']'"],
  ['unterminated flow mapping', doc('a: {x: 1'), 1, 4, "unterminated flow mapping: missing '}'"],
  ['unterminated inner flow collection', doc('a: [1, [2, 3]'), 1, 4, "missing ']'"],
  ['flow collection cut by a document marker', doc('a: [1,', '---', ']'), 1, 4, 'unterminated flow sequence before the document marker'],
  ['mismatched brackets', doc('a: [1, 2}'), 1, 9, "'}' does not close the '['"],
  ['closing bracket without an opening one', doc('a: ]'), 1, 4, "unexpected ']': no flow collection is open"],
  ['garbage after a flow collection', doc('a: [1, 2] x'), 1, 11, "unexpected 'x' after the flow collection"],
  ['garbage after a flow mapping', doc('a: {b: 1}, c'), 1, 10, "cannot start with ','"],
  ['${...} unquoted inside a flow collection', doc('keys: [${KEY}]'), 1, 9, "'{' cannot appear in a plain scalar inside a flow collection; quote the value"],
  ['comment glued to a flow collection', doc('a: [1]#c'), 1, 7, 'a comment must be preceded by a space'],
  ['missing comma', doc('a: ["1" 2]'), 1, 9, "expected ',' or ']' in the flow collection, found '2'"],
  ['missing comma in a flow mapping', doc('a: {b: "1" c: 2}'), 1, 12, "expected ',' or '}'"],
  ['empty entry', doc('a: [1, , 2]'), 1, 8, 'empty entries are not allowed'],
  ['block sequence entry in flow', doc('a: [- 1]'), 1, 5, "block sequence entries ('- ') are not allowed inside flow collections"],
  ['block scalar in flow', doc('a: [|, x]'), 1, 5, 'block scalars (| and >) cannot be used inside flow collections'],
  ['[ glued inside a plain scalar in flow', doc('a: [b[c]]'), 1, 6, "'[' cannot appear in a plain scalar inside a flow collection"],
  ['non-scalar as a flow mapping key', doc('a: {b: 1, ]'), 1, 11, "']' does not close the '{'"],

  // Block scalars.
  ['block scalar without key or dash on its line', doc('a:', '  |', '  text'), 2, 3, "a block scalar (| or >) must follow 'key:' or '- '"],
  ['bad block scalar header', doc('a: |x', '  text'), 1, 5, "unexpected 'x' in the block scalar header"],
  ['indentation indicator 0', doc('a: |0', '  text'), 1, 5, "unexpected '0' in the block scalar header"],
  ['comment glued to the header', doc('a: |#c', '  text'), 1, 5, "unexpected '#' in the block scalar header"],
  ['two chomping indicators', doc('a: |+-', '  text'), 1, 6, "unexpected '-' in the block scalar header"],
  ['leading empty line more indented than the content', doc('a: |', '     ', '  text'), 2, 3, 'leading empty line of the block scalar'],
  ['block scalar content less indented than its indicator says', doc('a: |4', '  text'), 2, 3, 'inconsistent indentation'],

  // Numbers we cannot represent.
  ['integer beyond 2^53', doc('a: 12345678901234567890'), 1, 4, 'too large to be represented exactly'],
  ['hex integer beyond 2^53', doc('a: 0xFFFFFFFFFFFFFFFF'), 1, 4, 'too large to be represented exactly'],
];

for (const [name, text, line, column, fragment] of REJECTED) {
  test(`rejects: ${name}`, () => {
    assert.throws(
      () => parseYaml(text),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
        assert.equal(err.code, 'config_invalid');
        assert.ok(err.message.includes(fragment), `message ${JSON.stringify(err.message)} lacks ${JSON.stringify(fragment)}`);
        assert.deepEqual(err.location, { line, column }, err.message);
        return true;
      },
    );
  });
}

// ---------------------------------------------------------------------------------------------
// Error format and safety.
// ---------------------------------------------------------------------------------------------

test('error message: file:line:column, the source line, and a caret under the column', () => {
  assert.throws(
    () => parseYaml(doc('proxy:', '  listen: &x 8080'), 'mesh.yaml'),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(
        err.message,
        [
          'mesh.yaml:2:11: anchors (&name) are not supported by the ModelMesh YAML subset; quote the value if \'&\' is meant literally',
          '    listen: &x 8080',
          '            ^',
        ].join('\n'),
      );
      // A config problem is not an HTTP answer (issue 10.6): no status and no OpenAI error type.
      assert.equal('status' in err, false);
      assert.equal('type' in err, false);
      return true;
    },
  );
});

test('an error on a line holding a credential shows where, never the value (a broken file is not redacted yet)', () => {
  const cases: [string, string][] = [
    ['  api_key: "sk-live-1234567890abcdef', '    api_key: [REDACTED]'],
    ['  api_key: sk-proj-abc: x', '    api_key: [REDACTED]'],
    ['  token: &sk-live-1234567890abcdef', '    token: [REDACTED]'],
    ['  headers: {authorization: "Bearer abc123', '    headers: {authorization: [REDACTED]'],
    ['  name: *Zq3xVb7nWm2Lp9Rt4Ks8Jh6Gd1', '(line not shown: it may hold a credential)'],
  ];
  for (const [line, shown] of cases) {
    assert.throws(() => parseYaml(doc('providers:', '  p:', `  ${line}`), 'mesh.yaml'), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      const secret = /(sk-[\w-]+|abc123|Zq3xVb7nWm2Lp9Rt4Ks8Jh6Gd1)/.exec(line)?.[1] ?? '';
      assert.ok(!err.message.includes(secret), err.message);
      assert.match(err.message, /^mesh\.yaml:3:\d+: /);
      assert.equal(err.message.split('\n')[1], `  ${shown}`, err.message);
      return true;
    }, line);
  }
});

test('nesting deeper than 128 levels is an error at its position, not a stack overflow', () => {
  const flow = `capabilities: ${'['.repeat(3000)}${']'.repeat(3000)}\n`;
  assert.throws(() => parseYaml(flow, 'mesh.yaml'), (err: unknown) => err instanceof ConfigError && /^mesh\.yaml:1:\d+: nesting deeper than 128 levels/.test(err.message));
  const block = Array.from({ length: 300 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n') + '\n';
  assert.throws(() => parseYaml(block), (err: unknown) => err instanceof ConfigError && /nesting deeper than 128 levels/.test(err.message));
  const fine = `a: ${'['.repeat(100)}1${']'.repeat(100)}\n`;
  assert.doesNotThrow(() => parseYaml(fine));
});

test('error message defaults to "config" as the file name', () => {
  assert.throws(() => parseYaml('a: 1\na: 2\n'), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.message, "config:2:1: duplicate key 'a' (first defined on line 1)\n  a: 2\n  ^");
    return true;
  });
});

test('the caret stays aligned under tabs that precede the error column', () => {
  assert.throws(() => parseYaml('a:\t[1]\tx\n'), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.deepEqual(err.location, { line: 1, column: 8 });
    assert.equal(err.message.split('\n')[2], '    \t   \t^');
    return true;
  });
});

test('__proto__ keys never pollute Object.prototype', () => {
  const attempts = [
    '__proto__:\n  polluted: yes\n',
    '"__proto__": {polluted: yes}\n',
    'a: [{__proto__: {polluted: yes}}]\n',
    '- __proto__:\n    polluted: yes\n',
  ];
  for (const text of attempts) {
    assert.throws(() => parseYaml(text), ConfigError);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  }
  // A nested `constructor` / `prototype` key is data, not a way into prototypes either.
  const value = parseYaml('constructor:\n  prototype:\n    polluted: yes\n') as Record<string, unknown>;
  assert.deepEqual(value, { constructor: { prototype: { polluted: 'yes' } } });
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
});
