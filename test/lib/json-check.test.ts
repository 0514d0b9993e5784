// isJsonText against the reference, JSON.parse: the same verdict on valid texts, on every way a text can be
// broken, and on random mutations of real answers.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { found, isJsonText, MAX_DEPTH } from '../../src/lib/json-check.ts';

function reference(text: Buffer): boolean {
  try {
    JSON.parse(text.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

const check = (text: string | Buffer): boolean | null => {
  const buf = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  return isJsonText(buf, 0, buf.length);
};

const ANSWER = JSON.stringify({
  id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hi "there" \\ \n\t é 漢字 😀 \u0001', refusal: null }, logprobs: null, finish_reason: 'stop' }],
  usage: { prompt_tokens: 9, completion_tokens: 52, total_tokens: 61, cost: -1.5e-7, ok: true, no: false, list: [[], {}, [1, [2, [3]]], 0, -0, 0.5, 1E+3] },
});

describe('isJsonText', () => {
  it('accepts valid texts of every kind', () => {
    for (const t of [ANSWER, '{}', '[]', ' {"a" : [ 1 , 2 ] } \n', '"s"', '0', '-0.0e-0', 'true', 'false', 'null', '"\\u00e9\\/\\b\\f\\n\\r\\t"', '[{"":{}}]']) {
      assert.equal(check(t), true, t);
      assert.equal(reference(Buffer.from(t)), true, t);
    }
  });

  it('rejects what JSON.parse rejects', () => {
    const broken = ['', ' ', '{', '}', '{"a"}', '{"a":}', '{"a":1,}', '[1,]', '[,1]', '{,}', '{"a":1 "b":2}', '{a:1}', "{'a':1}",
      '01', '1.', '.5', '-', '+1', '1e', '1e+', '0x1', 'NaN', 'Infinity', 'tru', 'nul', 'truex', '"\\x"', '"\\u12"', '"\\u12g4"',
      '"a\nb"', '"unterminated', '{"a":1}}', '[1]]', '{} {}', '{"a":[1}', '[{"a":1]', '\u00a0{}', '{"a":1}x', '"\\'];
    for (const t of broken) {
      assert.equal(reference(Buffer.from(t)), false, `reference accepts ${JSON.stringify(t)}`);
      assert.equal(check(t), false, JSON.stringify(t));
    }
  });

  it('agrees with JSON.parse on random cuts and byte changes of a real answer', () => {
    const base = Buffer.from(ANSWER, 'utf8');
    const bytes = Buffer.from('{}[]",:\\ 0123456789.eE+-tfnulrsa\u0001\n', 'latin1');
    let seed = 42;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let k = 0; k < 5000; k++) {
      const b = Buffer.from(base);
      const mutated = k % 3 === 0 ? b.subarray(0, rand(b.length)) : b;
      if (k % 3 !== 0) for (let m = 0; m <= k % 2; m++) mutated[rand(mutated.length)] = bytes[rand(bytes.length)] as number;
      assert.equal(isJsonText(mutated, 0, mutated.length), reference(mutated), mutated.toString('latin1'));
    }
  });

  it('checks only the range it is given, and leaves nesting past MAX_DEPTH to the caller', () => {
    const buf = Buffer.from('xx{"a":1}yy');
    assert.equal(isJsonText(buf, 2, 9), true);
    assert.equal(isJsonText(buf, 2, 10), false);
    const deep = '['.repeat(MAX_DEPTH + 1) + ']'.repeat(MAX_DEPTH + 1);
    assert.equal(check(deep), null);
    assert.equal(check('['.repeat(MAX_DEPTH) + ']'.repeat(MAX_DEPTH)), true);
  });

  it('says where a member of the top-level object is, the last one winning, never one nested deeper', () => {
    const buf = Buffer.from('{"b":1, "a":{"b":[2]}, "b" : {"x":[1,{"b":3}]} ,"c":null}');
    assert.equal(isJsonText(buf, 0, buf.length, Buffer.from('"b"')), true);
    assert.equal(buf.toString('utf8', found.start, found.end).trim(), '{"x":[1,{"b":3}]}');
    assert.equal(isJsonText(buf, 0, buf.length, Buffer.from('"zz"')), true);
    assert.equal(found.start, -1);
    const scalar = Buffer.from('{"n": 42}');
    assert.equal(isJsonText(scalar, 0, scalar.length, Buffer.from('"n"')), true);
    assert.equal(scalar.toString('utf8', found.start, found.end).trim(), '42');
  });
});
