import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ParseError, ResponseParser } from '../../../../src/providers/http/h1/parser.ts';
import type { ResponseHead } from '../../../../src/providers/http/h1/parser.ts';

interface Seen {
  heads: ResponseHead[];
  body: string;
  ends: boolean[];
}

function run(pieces: readonly Buffer[], noBody = false): Seen & { parser: ResponseParser } {
  const seen: Seen = { heads: [], body: '', ends: [] };
  const parser = new ResponseParser();
  parser.start({ onHead: (h) => seen.heads.push(h), onBody: (b) => (seen.body += b.toString('latin1')), onEnd: (r) => seen.ends.push(r) }, noBody);
  for (const p of pieces) parser.push(p);
  return { ...seen, parser };
}

/** Every way to cut `raw` in two, and in three around each byte, gives the same result as one piece. */
function everySplit(raw: string, check: (s: Seen) => void): void {
  const buf = Buffer.from(raw, 'latin1');
  check(run([buf]));
  for (let i = 1; i < buf.length; i++) {
    check(run([buf.subarray(0, i), buf.subarray(i)]));
    check(run([buf.subarray(0, i - 1), buf.subarray(i - 1, i), buf.subarray(i)]));
  }
  check(run([...buf].map((b) => Buffer.from([b])))); // one byte per read
}

const CHUNKED = 'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n' +
  '7;name=value;flag\r\ndata: 1\r\n' + 'A \r\n\n\ndata: 22\r\n' + '3;x="q;uoted"\r\n\n\n\n\r\n' + '0;last\r\nX-Trailer: t\r\nX-Other: u\r\n\r\n';

describe('h1 response parser', () => {
  test('chunked with extensions and trailers, cut at every byte', () => {
    everySplit(CHUNKED, (s) => {
      assert.equal(s.heads.length, 1);
      assert.equal(s.heads[0]?.headers['content-type'], 'text/event-stream');
      assert.equal(s.body, 'data: 1\n\ndata: 22\n\n\n');
      assert.deepEqual(s.ends, [true]);
    });
  });

  test('content-length body and 1xx interim answers (100, 103) before the final one, cut at every byte', () => {
    const raw = 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>; rel=preload\r\n\r\n' +
      'HTTP/1.1 201 Created\r\nContent-Length: 11\r\nX-A: 1\r\nx-a: 2\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Type: a\r\nContent-Type: b\r\n\r\nhello world';
    everySplit(raw, (s) => {
      assert.equal(s.heads.length, 1);
      const h = s.heads[0] as ResponseHead;
      assert.equal(h.status, 201);
      assert.equal(h.reason, 'Created');
      assert.equal(h.headers['link'], undefined, 'interim headers are not the answer');
      assert.equal(h.headers['x-a'], '1, 2');
      assert.deepEqual(h.headers['set-cookie'], ['a=1', 'b=2']);
      assert.equal(h.headers['content-type'], 'a');
      assert.equal(s.body, 'hello world');
      assert.deepEqual(s.ends, [true]);
    });
  });

  test('Connection: close and HTTP/1.0 answers are complete but not reusable', () => {
    assert.deepEqual(run([Buffer.from('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok')]).ends, [false]);
    assert.deepEqual(run([Buffer.from('HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok')]).ends, [false]);
    assert.deepEqual(run([Buffer.from('HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nok')]).ends, [true]);
  });

  test('a close-delimited body ends at EOF; a length or chunked body cut by EOF does not', () => {
    const s = run([Buffer.from('HTTP/1.1 200 OK\r\n\r\nsome'), Buffer.from(' more')]);
    assert.equal(s.body, 'some more');
    assert.deepEqual(s.ends, []);
    assert.equal(s.parser.eof(), true);
    assert.deepEqual(s.ends, [false]);
    assert.equal(run([Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nsome')]).parser.eof(), false);
    assert.equal(run([Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nsome\r\n')]).parser.eof(), false);
  });

  test('no body for HEAD, 204 and 304 whatever the headers say; bytes after the end make it not reusable', () => {
    assert.deepEqual(run([Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n')], true).ends, [true]);
    assert.deepEqual(run([Buffer.from('HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n')]).ends, [true]);
    assert.deepEqual(run([Buffer.from('HTTP/1.1 304 Not Modified\r\n\r\n')]).ends, [true]);
    assert.deepEqual(run([Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA')]).ends, [false]);
  });

  test('Transfer-Encoding wins over Content-Length, and such an answer is never reused', () => {
    const s = run([Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n')]);
    assert.equal(s.body, 'ok');
    assert.deepEqual(s.ends, [false]);
  });

  test('bare LF line ends and folded header lines are read', () => {
    const s = run([Buffer.from('HTTP/1.1 200 OK\nX-Long: a\n  b\nContent-Length: 1\n\nz')]);
    assert.equal(s.heads[0]?.headers['x-long'], 'a b');
    assert.equal(s.body, 'z');
  });

  test('malformed answers throw ParseError', () => {
    const bad = [
      'HTTP/2 200 OK\r\n\r\n',
      'SSH-2.0-OpenSSH\r\n\r\n',
      'HTTP/1.1 200 OK\r\nno colon here\r\n\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n',
      // Response smuggling: the second length would frame the next answer on this socket.
      'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\n{}',
      'HTTP/1.1 200 OK\r\nContent-Length: 2, 40\r\n\r\n{}',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokXX',
      'HTTP/1.1 101 Switching Protocols\r\n\r\n',
      `HTTP/1.1 200 OK\r\nX: ${'a'.repeat(70_000)}`,
    ];
    for (const raw of bad) assert.throws(() => run([Buffer.from(raw)]), ParseError, raw.slice(0, 40));
  });

  test('a repeated Content-Length with the same value is one length (RFC 9110 §8.6)', () => {
    const s = run([Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok')]);
    assert.equal(s.body, 'ok');
    assert.deepEqual(s.ends, [true]);
  });

  test('header names: lower-cased whatever their case, a bad one refused every time, after good ones were remembered', () => {
    for (let round = 0; round < 2; round++) {
      const h = run([Buffer.from('HTTP/1.1 200 OK\r\nX-RateLimit-Remaining-Requests: 9\r\nx-ratelimit-remaining-requests: 8\r\nCONTENT-type: a/b\r\nContent-Length: 0\r\n\r\n')]).heads[0];
      assert.equal(h?.headers['x-ratelimit-remaining-requests'], '9, 8');
      assert.equal(h?.headers['content-type'], 'a/b');
      for (const line of ['Bad Name: x', 'X(y): 1', ': empty name']) {
        assert.throws(() => run([Buffer.from(`HTTP/1.1 200 OK\r\n${line}\r\nContent-Length: 0\r\n\r\n`)]), /bad header line/, line);
      }
    }
    // Keep-alive decided from Connection in any case and list form.
    const ends = (connection: string): boolean[] => run([Buffer.from(`HTTP/1.1 200 OK\r\nConnection: ${connection}\r\nContent-Length: 0\r\n\r\n`)]).ends;
    assert.deepEqual([ends('close'), ends('Close'), ends('keep-alive'), ends('upgrade, close'), ends('keep-alive, CLOSE')], [[false], [false], [true], [false], [false]]);
  });

  test('chunk sizes read from the bytes: upper and lower hex, 12 digits at most, a CR only before LF, cut at every byte', () => {
    const head = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n';
    everySplit(`${head}00000000000B\r\nhello world\r\na\nabcdefghij\r\n0\r\n\r\n`, (s) => {
      assert.equal(s.body, 'hello worldabcdefghij');
      assert.deepEqual(s.ends, [true]);
    });
    for (const line of ['0000000000001', '1\r\r', '-1', ' 1', '1x']) {
      assert.throws(() => run([Buffer.from(`${head}${line}\r\nx\r\n0\r\n\r\n`)]), ParseError, line);
    }
  });

  test('after stop() bytes are ignored', () => {
    const s = run([Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab')]);
    s.parser.stop();
    s.parser.push(Buffer.from('cd'));
    assert.equal(s.body, 'ab');
    assert.deepEqual(s.ends, []);
  });
});
