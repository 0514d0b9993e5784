import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RespError, RespParser, RespProtocolError, encodeCommand, type RespValue } from '../../../src/storage/redis/resp.ts';

test('encodeCommand writes an array of bulk strings, byte lengths for UTF-8 and Buffers as they are', () => {
  assert.equal(encodeCommand(['SET', 'k', 'é', 42]).toString(), '*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\né\r\n$2\r\n42\r\n');
  const binary = encodeCommand(['SET', Buffer.from([0, 13, 10, 255])]);
  assert.deepEqual([...binary.subarray(-8)], [0x34, 0x0d, 0x0a, 0, 13, 10, 255, 0x0d, 0x0a].slice(1));
  assert.equal(encodeCommand([]).toString(), '*0\r\n');
  assert.equal(encodeCommand(['']).toString(), '*1\r\n$0\r\n\r\n');
});

/** Each reply as Redis sends it, and what the parser must return for it. */
const REPLIES: [string, RespValue][] = [
  ['+OK\r\n', 'OK'],
  ['+\r\n', ''],
  ['-ERR unknown command\r\n', new RespError('ERR unknown command')],
  ['-NOSCRIPT No matching script. Please use EVAL.\r\n', new RespError('NOSCRIPT No matching script. Please use EVAL.')],
  [':0\r\n', 0],
  [':-42\r\n', -42],
  [':1764660000000\r\n', 1764660000000],
  ['$5\r\nhello\r\n', 'hello'],
  ['$0\r\n\r\n', ''],
  ['$-1\r\n', null],
  ['$4\r\na\r\nb\r\n', 'a\r\nb'],
  ['$3\r\n€\r\n', '€'],
  ['*-1\r\n', null],
  ['*0\r\n', []],
  ['*3\r\n$3\r\nfoo\r\n:7\r\n$-1\r\n', ['foo', 7, null]],
  ['*2\r\n*2\r\n+a\r\n*0\r\n\r\n'.slice(0, -2) + '*1\r\n-WRONGTYPE bad\r\n', [['a', []], [new RespError('WRONGTYPE bad')]]],
  ['*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nhi\r\n!\r\n', ['message', 'ch', 'hi\r\n!']],
  ['*1\r\n*1\r\n*1\r\n*-1\r\n', [[[null]]]],
];
const STREAM = Buffer.from(REPLIES.map(([wire]) => wire).join(''));
const EXPECTED = REPLIES.map(([, value]) => value);

test('every reply parses alone and a pipelined stream parses in order', () => {
  for (const [wire, value] of REPLIES) assert.deepEqual(new RespParser().push(Buffer.from(wire)), [value], wire);
  assert.deepEqual(new RespParser().push(STREAM), EXPECTED);
});

test('the stream split in two at every byte boundary gives the same replies', () => {
  for (let at = 0; at <= STREAM.length; at++) {
    const parser = new RespParser();
    const got = [...parser.push(STREAM.subarray(0, at)), ...parser.push(STREAM.subarray(at))];
    assert.deepEqual(got, EXPECTED, `split at byte ${at}`);
    assert.equal(parser.idle, true);
  }
});

test('the stream fed one byte at a time, and in three pieces at every pair of boundaries, gives the same replies', () => {
  const parser = new RespParser();
  const got: RespValue[] = [];
  for (let i = 0; i < STREAM.length; i++) got.push(...parser.push(STREAM.subarray(i, i + 1)));
  assert.deepEqual(got, EXPECTED);
  // Every reply alone, cut at every pair of positions: catches state kept wrongly across two partial pushes.
  for (const [wire, value] of REPLIES) {
    const bytes = Buffer.from(wire);
    for (let a = 0; a <= bytes.length; a++) {
      for (let b = a; b <= bytes.length; b++) {
        const p = new RespParser();
        const out = [...p.push(bytes.subarray(0, a)), ...p.push(bytes.subarray(a, b)), ...p.push(bytes.subarray(b))];
        assert.deepEqual(out, [value], `${JSON.stringify(wire)} cut at ${a},${b}`);
      }
    }
  }
});

test('a large bulk string arriving in many chunks is held, not re-parsed, and comes out whole', () => {
  const body = 'x'.repeat(200_000);
  const wire = Buffer.from(`$${body.length}\r\n${body}\r\n+after\r\n`);
  const parser = new RespParser();
  const got: RespValue[] = [];
  for (let i = 0; i < wire.length; i += 1000) got.push(...parser.push(wire.subarray(i, i + 1000)));
  assert.deepEqual(got, [body, 'after']);
});

test('an error reply is a RespError value with its code, not an exception', () => {
  const [reply] = new RespParser().push(Buffer.from('-WRONGPASS invalid username-password pair\r\n-lowercase message\r\n'));
  assert.ok(reply instanceof RespError);
  assert.equal(reply.code, 'WRONGPASS');
  assert.equal(reply.message, 'WRONGPASS invalid username-password pair');
  assert.equal(new RespError('lowercase message').code, 'ERR');
});

test('bytes that are not RESP2 throw RespProtocolError', () => {
  for (const bad of ['?x\r\n', ':12a\r\n', '$-2\r\n', '$3\r\nabcde', '*-5\r\n', '$x\r\n']) {
    assert.throws(() => new RespParser().push(Buffer.from(bad)), RespProtocolError, bad);
  }
  assert.throws(() => new RespParser({ maxBulkBytes: 10 }).push(Buffer.from('$11\r\n')), /out of range/);
  assert.throws(() => new RespParser({ maxLineBytes: 8 }).push(Buffer.from('+123456789')), /too long/);
  assert.throws(() => new RespParser({ maxDepth: 2 }).push(Buffer.from('*1\r\n*1\r\n*1\r\n')), /too deep/);
});
