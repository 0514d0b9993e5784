import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { MeshError } from '../../src/errors.ts';
import {
  MultipartParser,
  encodeMultipart,
  formField,
  parseBoundary,
  parseMultipart,
  type FormData,
  type FormPart,
} from '../../src/lib/multipart.ts';

const BOUNDARY = '----formdata-undici-0123456789012';
const CT = `multipart/form-data; boundary=${BOUNDARY}`;

/** Deterministic pseudo-random generator (LCG) so chunkings are reproducible. */
function rng(seed: number): (n: number) => number {
  let s = seed;
  return (n) => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return 1 + (s % n);
  };
}

// A tricky file: every byte value, then near-boundaries that must stay data.
const FILE = Buffer.concat([
  Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
  Buffer.from(`\r\n--${BOUNDARY.slice(0, 10)}`, 'latin1'),
  Buffer.from('RIFF\x00\x01\r\n\r\n--', 'latin1'),
  Buffer.from(`\r\n-${BOUNDARY}`, 'latin1'),
  Buffer.from(`\r\r\n--${BOUNDARY.slice(0, -1)}X`, 'latin1'),
  Buffer.from(Array.from({ length: 256 }, (_, i) => 255 - i)),
  Buffer.from(`\r\n--${BOUNDARY.slice(0, 20)}`, 'latin1'), // ends right before the real delimiter
]);

/** Byte for byte what openai-node (undici FormData) sends for a transcription. */
const SDK_BODY = Buffer.concat([
  Buffer.from(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a b.wav"\r\nContent-Type: audio/wav\r\n\r\n`,
  ),
  FILE,
  Buffer.from(
    `\r\n--${BOUNDARY}\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-1` +
      `\r\n--${BOUNDARY}\r\nContent-Disposition: form-data; name="response_format"\r\n\r\nverbose_json` +
      `\r\n--${BOUNDARY}\r\nContent-Disposition: form-data; name="timestamp_granularities[]"\r\n\r\nword` +
      `\r\n--${BOUNDARY}\r\nContent-Disposition: form-data; name="timestamp_granularities[]"\r\n\r\nsegment` +
      `\r\n--${BOUNDARY}--\r\n`,
  ),
]);

const SDK_PARTS: FormPart[] = [
  { name: 'file', filename: 'a b.wav', contentType: 'audio/wav', data: FILE },
  { name: 'model', data: Buffer.from('whisper-1') },
  { name: 'response_format', data: Buffer.from('verbose_json') },
  { name: 'timestamp_granularities[]', data: Buffer.from('word') },
  { name: 'timestamp_granularities[]', data: Buffer.from('segment') },
];

function parseChunks(chunks: Buffer[], boundary = BOUNDARY, options = {}): FormData {
  const parser = new MultipartParser(boundary, options);
  for (const c of chunks) parser.push(c);
  return parser.end();
}

function parseString(body: string, boundary = 'b'): FormData {
  return parseChunks([Buffer.from(body, 'latin1')], boundary);
}

function rejects(fn: () => unknown, code: string, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof MeshError, String(err));
    assert.equal(err.code, code);
    assert.match(err.message, message);
    return true;
  });
}

test('an openai-node transcription form parses whole', () => {
  const form = parseChunks([SDK_BODY]);
  assert.deepEqual(form.parts, SDK_PARTS);
  assert.equal(formField(form, 'model'), 'whisper-1');
  assert.equal(formField(form, 'timestamp_granularities[]'), 'word');
  assert.equal(formField(form, 'file'), undefined); // a file part is not a text field
  assert.equal(formField(form, 'missing'), undefined);
});

test('the same form parses one byte per chunk', () => {
  const chunks = Array.from({ length: SDK_BODY.length }, (_, i) => SDK_BODY.subarray(i, i + 1));
  assert.deepEqual(parseChunks(chunks).parts, SDK_PARTS);
});

test('the same form parses in seeded random-sized chunks, boundaries straddling chunk edges', () => {
  const rand = rng(7);
  for (let round = 0; round < 200; round++) {
    const max = round % 2 === 0 ? 8 : 120;
    const chunks: Buffer[] = [];
    for (let i = 0; i < SDK_BODY.length; ) {
      const n = rand(max);
      chunks.push(SDK_BODY.subarray(i, i + n));
      i += n;
    }
    assert.deepEqual(parseChunks(chunks).parts, SDK_PARTS, `round ${round}`);
  }
  // Every two-chunk split, so each delimiter is cut at every offset once.
  for (let at = 0; at <= SDK_BODY.length; at++) {
    assert.deepEqual(parseChunks([SDK_BODY.subarray(0, at), SDK_BODY.subarray(at)]).parts, SDK_PARTS);
  }
});

test('parseMultipart reads a stream; preamble, epilogue and transport padding are ignored', async () => {
  const body = Buffer.concat([
    Buffer.from('This is the preamble.\r\n'),
    SDK_BODY.subarray(0, SDK_BODY.length - 2),
    Buffer.from('   \r\nThis is the epilogue --b--\r\n'),
  ]);
  const form = await parseMultipart(Readable.from([body.subarray(0, 100), body.subarray(100)]), CT);
  assert.deepEqual(form.parts, SDK_PARTS);

  const padded = parseString('--b \t\r\nContent-Disposition: form-data; name=x\r\n\r\n1\r\n--b--');
  assert.deepEqual(padded.parts, [{ name: 'x', data: Buffer.from('1') }]);
});

test('parseBoundary: unquoted, quoted, case-insensitive, other parameters', () => {
  assert.equal(parseBoundary(CT), BOUNDARY);
  assert.equal(parseBoundary('multipart/form-data; boundary="X Y"'), 'X Y');
  assert.equal(parseBoundary('Multipart/Form-Data; charset=utf-8; BOUNDARY=abc'), 'abc');
  assert.equal(parseBoundary('multipart/form-data;boundary="a;b=c"; x=y'), 'a;b=c');
  assert.equal(parseBoundary('multipart/form-data; flag; boundary=z'), 'z');
  assert.equal(parseBoundary('multipart/form-data; boundary=z; trailing-flag'), 'z');
  assert.equal(parseBoundary(`multipart/form-data; boundary=${'a'.repeat(70)}`), 'a'.repeat(70));
});

test('parseBoundary rejects missing and invalid boundaries', () => {
  rejects(() => parseBoundary('multipart/form-data'), 'invalid_multipart', /no boundary/);
  rejects(() => parseBoundary('multipart/form-data; boundary='), 'invalid_multipart', /boundary is invalid/);
  rejects(() => parseBoundary('multipart/form-data; boundary=""'), 'invalid_multipart', /boundary is invalid/);
  rejects(() => parseBoundary(`multipart/form-data; boundary=${'a'.repeat(71)}`), 'invalid_multipart', /invalid/);
  rejects(() => parseBoundary('multipart/form-data; boundary="ends "'), 'invalid_multipart', /invalid/);
  rejects(() => parseBoundary('application/json'), 'invalid_multipart', /must be multipart\/form-data/);
  const err = (() => {
    try {
      parseBoundary('text/plain');
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  assert.ok(err instanceof MeshError);
  assert.equal(err.param, null);
  assert.equal(err.status, 400);
  assert.throws(() => new MultipartParser('a\r\nb'), MeshError);
});

test('Content-Disposition parameters: quoted, unquoted, escapes, %22; filename* ignored', () => {
  const text = [
      '--b',
      'content-disposition: form-data; name=plain',
      '',
      'v1',
      '--b',
      'Content-Disposition: FORM-DATA; filename="q \\"x\\" C:\\dir\\f.wav"; name="q;uoted"',
      'Content-Type:  audio/mpeg ',
      'X-Ignored: yes',
      '',
      'v2',
      '--b',
      'Content-Disposition: form-data; name="a%22b%0D%0Ac"; filename="%22.mp3"',
      '',
      '',
      '--b',
      "Content-Disposition: form-data; name=\"f\"; filename*=UTF-8''%C3%A9t%C3%A9.wav; filename=\"été.wav\"",
      '',
      'v4',
      '--b',
      'Content-Disposition: form-data; name="g"; flag; filename = ok.wav ;x="unterminated',
      '',
      'v5',
      '--b',
      'Content-Disposition: form-data; name=""',
      '',
      'v6',
      '--b',
      'Content-Disposition: form-data; name="ünï"',
      '',
      'é',
      '--b--',
    ].join('\r\n');
  const form = parseChunks([Buffer.from(text, 'utf8')], 'b');
  assert.deepEqual(
    form.parts.map((p) => [p.name, p.filename, p.contentType, p.data.toString('latin1')]),
    [
      ['plain', undefined, undefined, 'v1'],
      ['q;uoted', 'q "x" C:\\dir\\f.wav', 'audio/mpeg', 'v2'],
      ['a"b\r\nc', '".mp3', undefined, ''],
      ['f', 'été.wav', undefined, 'v4'],
      ['g', 'ok.wav', undefined, 'v5'],
      ['', undefined, undefined, 'v6'],
      ['ünï', undefined, undefined, 'Ã©'], // header decoded as UTF-8; data kept as raw bytes
    ],
  );
  assert.equal(formField(form, 'ünï'), 'é');
});

test('round trip: encode then parse preserves names, filenames, types, order and bytes', async () => {
  const parts: FormPart[] = [
    ...SDK_PARTS,
    { name: 'we"ird\r\nname', filename: 'C:\\x "y".wav', contentType: 'audio/x-wav; codec=1', data: FILE },
    { name: 'empty', data: Buffer.alloc(0) },
    { name: 'ünicode', filename: '', data: Buffer.from('€') },
  ];
  const { contentType, body, length } = encodeMultipart({ parts });
  assert.match(contentType, /^multipart\/form-data; boundary=----ModelMeshFormBoundary[0-9a-f]{32}$/);
  assert.equal(length, body.reduce((n, c) => n + c.length, 0));
  assert.ok(body.includes(FILE), 'the file buffer is passed through, not copied');
  const parsed = await parseMultipart(Readable.from(body), contentType);
  assert.deepEqual(parsed.parts, parts);

  const swapped = encodeMultipart({
    parts: parsed.parts.map((p) => (p.name === 'model' ? { ...p, data: Buffer.from('gpt-4o-transcribe') } : p)),
  });
  const again = await parseMultipart(Readable.from(swapped.body), swapped.contentType);
  assert.equal(formField(again, 'model'), 'gpt-4o-transcribe');
  assert.deepEqual(again.parts.filter((p) => p.name !== 'model'), parts.filter((p) => p.name !== 'model'));

  assert.notEqual(encodeMultipart({ parts }).contentType, contentType); // fresh boundary each time
  const none = encodeMultipart({ parts: [] });
  assert.deepEqual(parseChunks(none.body, parseBoundary(none.contentType)).parts, []);
  assert.throws(() => encodeMultipart({ parts: [{ name: 'x', contentType: 'a\r\nB: c', data: FILE }] }), MeshError);
});

test('maxBytes exceeded throws body_too_large at once', async () => {
  const parser = new MultipartParser(BOUNDARY, { maxBytes: 1000 });
  parser.push(SDK_BODY.subarray(0, 600));
  rejects(() => parser.push(SDK_BODY.subarray(600, 1200)), 'body_too_large', /1000 bytes/);

  let pulled = 0;
  async function* source(): AsyncGenerator<Buffer> {
    for (let i = 0; i < SDK_BODY.length; i += 100) {
      pulled++;
      yield SDK_BODY.subarray(i, i + 100);
    }
  }
  await assert.rejects(parseMultipart(source(), CT, { maxBytes: 300 }), { code: 'body_too_large' });
  assert.equal(pulled, 4); // stopped reading right after the limit was crossed
});

test('maxParts exceeded throws invalid_multipart', () => {
  rejects(() => parseChunks([SDK_BODY], BOUNDARY, { maxParts: 4 }), 'invalid_multipart', /more than 4 parts/);
});

test('malformed bodies throw invalid_multipart naming the problem', () => {
  const cd = 'Content-Disposition: form-data; name="x"';
  const cases: [string, RegExp][] = [
    ['', /No multipart boundary/],
    ['just some garbage without a boundary\r\n', /No multipart boundary/],
    ['--b', /without the closing boundary/],
    [`--b\r\n${cd}\r\n\r\nvalue`, /without the closing boundary/],
    [`--b\r\n${cd}\r\n\r\nvalue\r\n--b`, /without the closing boundary/],
    [`--b\r\n${cd}`, /without the closing boundary/],
    [`--bX\r\n${cd}\r\n\r\n1\r\n--b--`, /Unexpected bytes after a multipart boundary/],
    [`--b-X`, /Unexpected bytes after a multipart boundary/],
    [`--b\rX`, /Expected CRLF after a multipart boundary/],
    ['--b\r\n\r\nno headers\r\n--b--', /no Content-Disposition/],
    ['--b\r\nContent-Type: text/plain\r\n\r\n1\r\n--b--', /no Content-Disposition/],
    ['--b\r\nContent-Disposition: form-data; filename="a"\r\n\r\n1\r\n--b--', /has no name/],
    ['--b\r\nContent-Disposition: attachment; name="a"\r\n\r\n1\r\n--b--', /not form-data/],
    [`--b\r\n${cd}\r\nno colon here\r\n\r\n1\r\n--b--`, /Malformed multipart part header/],
    [`--b\r\n${cd}\r\n: empty name\r\n\r\n1\r\n--b--`, /Malformed multipart part header/],
    [`--b\r\n${cd}\r\n\tfolded\r\n\r\n1\r\n--b--`, /Malformed multipart part header/],
  ];
  for (const [body, message] of cases) rejects(() => parseString(body), 'invalid_multipart', message);
});

test('a header section over 16 KiB is rejected, whole or streamed', () => {
  const big = `--b\r\nContent-Disposition: form-data; name="x"\r\nX-Pad: ${'p'.repeat(17 * 1024)}\r\n\r\n1\r\n--b--`;
  rejects(() => parseString(big), 'invalid_multipart', /headers exceed 16384 bytes/);
  const bytes = Buffer.from(big);
  const chunks = Array.from({ length: Math.ceil(bytes.length / 1000) }, (_, i) =>
    bytes.subarray(i * 1000, i * 1000 + 1000),
  );
  rejects(() => parseChunks(chunks, 'b'), 'invalid_multipart', /headers exceed/);
  // Just under the limit is fine, and a terminator found past the limit in one chunk is not.
  const ok = `--b\r\nContent-Disposition: form-data; name="x"\r\nX-Pad: ${'p'.repeat(16 * 1024 - 60)}\r\n\r\n1\r\n--b--`;
  assert.equal(parseString(ok).parts.length, 1);
  const over = `--b\r\nContent-Disposition: form-data; name="x"\r\nX-Pad: ${'p'.repeat(16 * 1024 - 48)}\r\n\r\n1\r\n--b--`;
  rejects(() => parseString(over), 'invalid_multipart', /headers exceed/);
});
