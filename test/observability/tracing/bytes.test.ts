// The byte writers behind the span JSON: the same text JSON.stringify and String() give, for awkward input too.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { byteTarget, putDigits, putDouble, putInteger, putJsonString, textOf } from '../../../src/observability/tracing/bytes.ts';

const written = (put: (t: ReturnType<typeof byteTarget>) => void, size = 4): string => {
  const t = byteTarget(size); // small, so that every writer has to grow it
  put(t);
  return textOf(t);
};

describe('bytes', () => {
  it('writes JSON strings exactly as JSON.stringify does', () => {
    const cases = ['', 'plain ascii', 'quote " backslash \\', 'nul \u0000 unit \u001f del \u007f', 'é 漢字 😀', 'lone \ud800 and \udc00', 'line\u2028sep', 'x'.repeat(5000)];
    for (const s of cases) assert.equal(written((t) => putJsonString(t, s)), JSON.stringify(s), JSON.stringify(s).slice(0, 40));
  });

  it('writes integers and doubles as JSON text, never NaN or Infinity', () => {
    for (const n of [0, 7, 10, 99, 1234567890, Number.MAX_SAFE_INTEGER, -42, 1e21, 2.9]) {
      assert.equal(written((t) => putInteger(t, n)), String(Math.trunc(n)));
    }
    assert.equal(written((t) => putInteger(t, Number.NaN)), '0');
    assert.equal(written((t) => putDigits(t, 42, 6)), '000042');
    assert.equal(written((t) => putDigits(t, 1234567, 6)), '1234567');
    for (const d of [0, 0.00042, 1.5e-7, 123.456, -3]) assert.equal(written((t) => putDouble(t, d)), JSON.stringify(d));
    assert.equal(written((t) => putDouble(t, Number.POSITIVE_INFINITY)), '0');
  });
});
