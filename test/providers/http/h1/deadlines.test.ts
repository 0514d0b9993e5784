import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProviderTimeouts } from '../../../../src/config/types.ts';
import { Deadlines, shortestTimeout, timeoutOf, timeoutOn, type Deadline } from '../../../../src/providers/http/h1/deadlines.ts';

const wait = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test('Deadlines: the earliest armed deadline fires once, never before its time', async () => {
  const fired: Array<[Deadline, number]> = [];
  const start = Date.now();
  const d = new Deadlines((what) => fired.push([what, Date.now() - start]), 10);
  d.arm('total', 80);
  d.arm('first byte', 30);
  await wait(120);
  assert.deepEqual(fired.map((f) => f[0]), ['first byte', 'total']);
  assert.ok((fired[0]?.[1] ?? 0) >= 30 && (fired[1]?.[1] ?? 0) >= 80);
  d.stop();
});

test('Deadlines: touch() moves a running idle deadline on; clear() and stop() cancel', async () => {
  const fired: Deadline[] = [];
  const d = new Deadlines((what) => fired.push(what), 40);
  d.arm('idle', 40);
  for (let i = 0; i < 4; i++) {
    await wait(20);
    d.touch();
  }
  // On a copy: deepEqual asserts the type of what it is given, and `fired` is pushed to again below.
  assert.deepEqual([...fired], []); // 80ms of data every 20ms: never idle for 40
  await wait(70);
  assert.deepEqual([...fired], ['idle']);
  d.arm('connect', 20);
  d.clear('connect');
  d.touch(); // idle is no longer running: nothing restarts it
  const other = new Deadlines((what) => fired.push(what), 20);
  other.arm('total', 20);
  other.stop();
  await wait(50);
  assert.deepEqual(fired, ['idle']);
});

test('shortestTimeout: the shortest timeout that is on; 0 and non-finite ones are off', () => {
  const t = { connect: 5000, first_byte: 0, idle: 2000, total: Infinity } as unknown as ProviderTimeouts;
  assert.equal(shortestTimeout(t), 2000);
  assert.equal(shortestTimeout({ connect: 0, first_byte: 0, idle: 0, total: 0 } as unknown as ProviderTimeouts), Infinity);
  assert.equal(timeoutOf(t, 'first byte'), 0);
  assert.equal(timeoutOn(0), false);
  assert.equal(timeoutOn(1), true);
});
