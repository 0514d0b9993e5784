import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { MeshError } from '../../src/errors.ts';
import { SseParser, formatSseError, formatSseEvent, type SseEvent } from '../../src/lib/sse.ts';
import { sseEvents } from '../helpers/sse.ts';

/** The stream terminator on the wire; compared with `=== '[DONE]'` by openai-node v7. */
const SSE_DONE = 'data: [DONE]\n\n';

const b = (s: string): Buffer => Buffer.from(s, 'utf8');

/** Feeds `chunks` to a fresh parser and returns every event, including end(). */
function parse(...chunks: (string | Buffer)[]): SseEvent[] {
  const parser = new SseParser();
  const out: SseEvent[] = [];
  for (const c of chunks) out.push(...parser.push(typeof c === 'string' ? b(c) : c));
  out.push(...parser.end());
  return out;
}

function bytewise(input: Buffer): SseEvent[] {
  return parse(...Array.from({ length: input.length }, (_, i) => input.subarray(i, i + 1)));
}

const OPENAI_STREAM = [
  '{"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}',
  '{"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"Héllo 😀"},"logprobs":null,"finish_reason":null}]}',
  '{"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}',
  '{"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}',
  '[DONE]',
];
const OPENAI_BYTES = b(`: keep-alive\n\n${OPENAI_STREAM.map((d) => `data: ${d}\n\n`).join('')}`);

test('every line ending: LF, CR, CRLF and mixed', () => {
  const expected = [{ data: 'a\nb' }, { data: 'c' }];
  assert.deepEqual(parse('data: a\ndata: b\n\ndata: c\n\n'), expected);
  assert.deepEqual(parse('data: a\rdata: b\r\rdata: c\r\r'), expected);
  assert.deepEqual(parse('data: a\r\ndata: b\r\n\r\ndata: c\r\n\r\n'), expected);
  assert.deepEqual(parse('data: a\rdata: b\r\n\ndata: c\n\r'), expected);
});

test('CRLF split exactly between CR and LF across chunks is one line ending', () => {
  assert.deepEqual(parse('data: a\r', '\ndata: b\r', '\n\r', '\n'), [{ data: 'a\nb' }]);
  // A CR at a chunk end followed by a chunk without LF: CR alone ended the line.
  assert.deepEqual(parse('data: a\r', 'data: b\r', '\r'), [{ data: 'a\nb' }]);
  // An empty chunk between CR and LF does not lose the pending LF skip.
  assert.deepEqual(parse('data: x\r', '', '\n\n'), [{ data: 'x' }]);
});

test('a multi-byte UTF-8 character split across chunks is decoded intact', () => {
  for (const ch of ['é', '😀', '中']) {
    const bytes = b(`data: a${ch}b\n\n`);
    const at = bytes.indexOf(b(ch)) + 1; // split after the first byte of the character
    assert.deepEqual(parse(bytes.subarray(0, at), bytes.subarray(at)), [{ data: `a${ch}b` }]);
    assert.deepEqual(bytewise(bytes), [{ data: `a${ch}b` }]);
  }
});

test('a realistic OpenAI stream fed one byte at a time equals one chunk', () => {
  const whole = parse(OPENAI_BYTES);
  assert.deepEqual(
    whole.map((e) => e.data),
    OPENAI_STREAM,
  );
  assert.deepEqual(bytewise(OPENAI_BYTES), whole);
  // CRLF variant, fed byte by byte, too.
  assert.deepEqual(bytewise(b(OPENAI_BYTES.toString().replace(/\n/g, '\r\n'))), whole);
});

test('random-sized chunks give the same events (seeded)', () => {
  let seed = 42;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return 1 + (seed % n);
  };
  const expected = parse(OPENAI_BYTES);
  for (let round = 0; round < 20; round++) {
    const chunks: Buffer[] = [];
    for (let i = 0; i < OPENAI_BYTES.length; ) {
      const n = rand(40);
      chunks.push(OPENAI_BYTES.subarray(i, i + n));
      i += n;
    }
    assert.deepEqual(parse(...chunks), expected);
  }
});

test('comments and keep-alive heartbeats are ignored', () => {
  assert.deepEqual(parse(': keep-alive\n\n:\n\ndata: x\n: mid-event comment\ndata: y\n\n'), [{ data: 'x\ny' }]);
});

test('event and id are captured per event', () => {
  assert.deepEqual(parse('event: response.created\nid: 7\ndata: {}\n\ndata: 2\n\n'), [
    { data: '{}', event: 'response.created', id: '7' },
    { data: '2' },
  ]);
  // An empty event name is the default type; an empty id is kept; an id with NUL is ignored.
  assert.deepEqual(parse('event:\nid:\ndata: x\n\nid: a\0b\ndata: y\n\n'), [{ data: 'x', id: '' }, { data: 'y' }]);
});

test('field without colon: `data` alone is an empty data line', () => {
  assert.deepEqual(parse('data\n\n'), [{ data: '' }]);
  assert.deepEqual(parse('data\ndata\n\n'), [{ data: '\n' }]);
  assert.deepEqual(parse('data: a\ndata\n\n'), [{ data: 'a\n' }]);
  assert.deepEqual(parse('data:\n\n'), [{ data: '' }]);
});

test('only one leading space is stripped, and only a space', () => {
  assert.deepEqual(parse('data:  two\n\ndata:none\n\ndata:\ttab\n\ndata: a: b\n\n'), [
    { data: ' two' },
    { data: 'none' },
    { data: '\ttab' },
    { data: 'a: b' },
  ]);
});

test('events without data lines are not dispatched; unknown fields and retry ignored', () => {
  assert.deepEqual(parse('event: ping\n\nid: 1\n\nretry: 1000\n\nfoo: bar\n\n\n\n'), []);
  assert.deepEqual(parse('retry: 10\nfoo: bar\ndata: d\nDATA: no\n\n'), [{ data: 'd' }]);
});

test('an unfinished trailing event is discarded by end()', () => {
  const parser = new SseParser();
  assert.deepEqual(parser.push(b('data: done\n\ndata: partial\n')), [{ data: 'done' }]);
  assert.ok(parser.buffered > 0);
  assert.deepEqual(parser.end(), []);
  assert.equal(parser.buffered, 0);
  assert.deepEqual(parse('data: no blank line'), []);
});

test('a UTF-8 BOM at stream start is skipped, even split; elsewhere it is data', () => {
  const bom = Buffer.from([0xef, 0xbb, 0xbf]);
  assert.deepEqual(parse(Buffer.concat([bom, b('data: x\n\n')])), [{ data: 'x' }]);
  assert.deepEqual(parse(bom.subarray(0, 1), bom.subarray(1, 2), Buffer.alloc(0), bom.subarray(2), b('data: x\n\n')), [
    { data: 'x' },
  ]);
  assert.deepEqual(parse(bom.subarray(0, 2), b('data: x\n\n')), []); // not a BOM: garbage field name
  assert.deepEqual(parse(b('data: \uFEFFx\n\n')), [{ data: '\uFEFFx' }]);
  const parser = new SseParser();
  parser.push(bom.subarray(0, 2));
  assert.equal(parser.buffered, 2);
});

test('[DONE] is an ordinary data event', () => {
  assert.deepEqual(parse(SSE_DONE), [{ data: '[DONE]' }]);
  // The connectors end a stream with the event { data: '[DONE]' }: formatted, it is exactly the terminator.
  assert.equal(formatSseEvent({ data: '[DONE]' }), SSE_DONE);
});

test('maxEventBytes: one oversized event throws upstream_error', () => {
  const parser = new SseParser({ maxEventBytes: 16 });
  assert.deepEqual(parser.push(b('data: 0123456789\n\n')), [{ data: '0123456789' }]);
  assert.throws(() => parser.push(b('data: 0123456789\ndata: 0123456789\n')), (err: unknown) => {
    assert.ok(err instanceof MeshError);
    assert.equal(err.code, 'upstream_error');
    return true;
  });
  // An unfinished line counts too (a stream that never sends a line ending).
  const p2 = new SseParser({ maxEventBytes: 16 });
  p2.push(b('data: 0123456'));
  assert.throws(() => p2.push(b('789abcdef')), { code: 'upstream_error' });
});

test('sseEvents iterates a Readable of Buffers and strings', async () => {
  const half = Math.floor(OPENAI_BYTES.length / 2) + 3;
  const source = Readable.from([OPENAI_BYTES.subarray(0, half), OPENAI_BYTES.subarray(half), 'data: tail\n\n']);
  const events: SseEvent[] = [];
  for await (const e of sseEvents(source)) events.push(e);
  assert.deepEqual(
    events.map((e) => e.data),
    [...OPENAI_STREAM, 'tail'],
  );
});

test('sseEvents propagates source errors and enforces maxEventBytes', async () => {
  async function* failing(): AsyncGenerator<Buffer> {
    yield b('data: 1\n\n');
    throw new Error('socket hang up');
  }
  const seen: string[] = [];
  await assert.rejects(async () => {
    for await (const e of sseEvents(failing())) seen.push(e.data);
  }, /socket hang up/);
  assert.deepEqual(seen, ['1']);

  const big = Readable.from([b(`data: ${'x'.repeat(100)}`)]);
  await assert.rejects(async () => {
    for await (const e of sseEvents(big, { maxEventBytes: 50 })) seen.push(e.data);
  }, (err: unknown) => err instanceof MeshError && err.code === 'upstream_error');
});

test('formatSseEvent writes OpenAI framing and splits data on CR, LF and CRLF', () => {
  assert.equal(formatSseEvent({ data: '{"a":1}' }), 'data: {"a":1}\n\n');
  assert.equal(formatSseEvent({ data: '' }), 'data: \n\n');
  assert.equal(formatSseEvent({ data: 'a\nb\r\nc\rd' }), 'data: a\ndata: b\ndata: c\ndata: d\n\n');
  assert.equal(formatSseEvent({ data: 'x', event: 'error', id: '3' }), 'event: error\nid: 3\ndata: x\n\n');
  for (const event of [{ data: 'a\n\nb', event: 'e', id: '1' }, { data: ' lead\n' }, { data: '' }]) {
    const expected: SseEvent = { data: event.data.replace(/\r\n|\r/g, '\n') };
    if ('event' in event) Object.assign(expected, { event: event.event, id: event.id });
    assert.deepEqual(parse(formatSseEvent(event)), [expected]);
  }
});

test('formatSseEvent rejects CR or LF in event and id', () => {
  assert.throws(() => formatSseEvent({ data: 'x', event: 'a\nb' }), MeshError);
  assert.throws(() => formatSseEvent({ data: 'x', event: 'a\rb' }), MeshError);
  assert.throws(() => formatSseEvent({ data: 'x', id: '1\r\n' }), MeshError);
});

test('formatSseError is the in-band OpenAI error event', () => {
  const line = formatSseError('Upstream failed: 503 overloaded', 'upstream_error');
  assert.equal(
    line,
    'data: {"error":{"message":"Upstream failed: 503 overloaded","type":"server_error","param":null,"code":"upstream_error"}}\n\n',
  );
  const [event] = parse(formatSseError('bad\nthing'));
  assert.deepEqual(JSON.parse(event?.data ?? ''), {
    error: { message: 'bad\nthing', type: 'server_error', param: null, code: null },
  });
  assert.match(formatSseError('m', null, 'rate_limit_error'), /"type":"rate_limit_error"/);
});
