// C6: what /mesh/clients shows of spend is rounded to the nano-dollar at display; the limiter's own sums, which
// budgets are checked against, stay as added.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClientLimiter } from '../../src/clients/limits.ts';
import { ClientRegistry } from '../../src/clients/registry.ts';
import { clientStatus } from '../../src/clients/status.ts';
import { keyDigest } from '../../src/config/schema/clients.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { LocalWindowCounters } from '../../src/lib/window-counters.ts';

function setup() {
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
  const limiter = new ClientLimiter(new LocalWindowCounters(clock), clock);
  const registry = new ClientRegistry([{
    name: 'app', key_sha256: keyDigest('key-of-app-0123456789'), pools: null, rpm: null, tpm: null, max_concurrent: null,
    budget: { daily: 2, monthly: 100 }, metadata: {},
  }]);
  const client = registry.get('app') ?? assert.fail('app');
  const spend = (cost: number): void => {
    const admitted = limiter.admit(client, { estimatedTokens: 0 });
    assert.ok(admitted.ok);
    admitted.release({ tokensIn: 1, tokensOut: 1, cost });
  };
  return { clock, limiter, client, spend };
}

test('spend, remaining budget and cost total show the decimal a float sum stands for', () => {
  const { clock, limiter, client, spend } = setup();
  for (let i = 0; i < 16; i++) spend(0.1);
  assert.equal(limiter.usage(client).spend_daily, 1.6000000000000003); // the sum as added: not rounded in place
  const status = clientStatus(client, limiter, clock.now());
  assert.equal(status.usage.day.spend, 1.6);
  assert.equal(status.usage.day.remaining, 0.4); // 2 - 1.6000000000000003 is 0.3999999999999997
  assert.equal(status.usage.month.spend, 1.6);
  assert.equal(status.usage.month.remaining, 98.4);
  assert.equal(status.totals.cost, 1.6);
  assert.equal(JSON.stringify(status.usage.day), JSON.stringify({ start: '2026-01-01T00:00:00.000Z', reset_at: '2026-01-02T00:00:00.000Z', spend: 1.6, remaining: 0.4 }));
});

test('a request costing a fraction of a micro-dollar still shows', () => {
  const { clock, limiter, client, spend } = setup();
  spend(2e-8); // one token at $0.02 per million
  const status = clientStatus(client, limiter, clock.now());
  assert.equal(status.usage.day.spend, 2e-8);
  assert.equal(status.totals.cost, 2e-8);
  assert.equal(status.usage.day.remaining, 1.99999998);
});
