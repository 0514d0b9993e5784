// The lifetime of one routed request (src/mesh/route/request-scope.ts): the deadline, the client's abort,
// committed() and release(), on a manual clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MeshError } from '../../../src/errors.ts';
import { CancelToken } from '../../../src/lib/cancel.ts';
import { ManualClock, systemClock } from '../../../src/lib/clock.ts';
import { RequestScope } from '../../../src/mesh/route/request-scope.ts';

test('the deadline aborts the signal with a timeout error and is told apart from the client leaving', () => {
  const clock = new ManualClock();
  const client = new CancelToken();
  const scope = new RequestScope(client, clock, 1000);
  clock.advance(999);
  assert.equal(scope.signal.aborted, false);
  clock.advance(1);
  assert.equal(scope.signal.aborted, true);
  assert.equal(scope.deadlineHit, true);
  assert.equal(scope.clientGone, false);
  assert.ok(scope.signal.reason instanceof MeshError);
  assert.equal((scope.signal.reason as MeshError).code, 'timeout');
  assert.match((scope.signal.reason as MeshError).message, /request deadline of 1000ms exceeded/);
});

test('the client going away aborts the signal with a cancelled error, not a deadline', () => {
  const clock = new ManualClock();
  const client = new CancelToken();
  const scope = new RequestScope(client, clock, 1000);
  client.abort();
  assert.equal(scope.signal.aborted, true);
  assert.equal(scope.clientGone, true);
  assert.equal(scope.deadlineHit, false);
  assert.equal((scope.signal.reason as MeshError).code, 'cancelled');
  scope.release();
  assert.equal(clock.pending, 0);
});

test('a client already gone when the scope opens aborts it at once (a real AbortSignal works too)', () => {
  const controller = new AbortController();
  controller.abort();
  const scope = new RequestScope(controller.signal, new ManualClock(), 1000);
  assert.equal(scope.signal.aborted, true);
  assert.equal((scope.signal.reason as MeshError).code, 'cancelled');
});

test('committed() stops the deadline; release() also stops listening to the client', () => {
  const clock = new ManualClock();
  const client = new CancelToken();
  const scope = new RequestScope(client, clock, 1000);
  scope.committed();
  assert.equal(clock.pending, 0);
  clock.advance(5000);
  assert.equal(scope.signal.aborted, false);
  assert.equal(scope.deadlineHit, false);
  scope.release();
  client.abort();
  assert.equal(scope.signal.aborted, false, 'a released scope no longer follows the client');
});

test('deadline 0 is no deadline (as 0 is for proxy.timeouts.request), not one exceeded at once', () => {
  const clock = new ManualClock();
  const scope = new RequestScope(new CancelToken(), clock, 0);
  assert.equal(clock.pending, 0, 'no timer');
  clock.advance(10 * 24 * 3_600_000);
  assert.equal(scope.signal.aborted, false);
  assert.equal(scope.deadlineHit, false);
  scope.release();
});

test('a deadline past what a Node timer holds (2^31-1 ms) does not fire early on the system clock', async () => {
  const scope = new RequestScope(new CancelToken(), systemClock, 30 * 24 * 3_600_000);
  await new Promise((resolve) => setTimeout(resolve, 20)); // an overflowing timer fires after 1 ms
  assert.equal(scope.signal.aborted, false);
  scope.release();
});
