import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/lib/clock.ts';
import { LocalWindowCounters } from '../../src/lib/window-counters.ts';
import { keyDigest } from '../../src/config/schema/clients.ts';
import type { ClientConfig } from '../../src/config/types.ts';
import { ClientLimiter } from '../../src/clients/limits.ts';
import type { Admission, Admitted, Rejected } from '../../src/clients/limits.ts';
import { ClientRegistry } from '../../src/clients/registry.ts';
import type { Client } from '../../src/clients/registry.ts';

function clientConfig(name: string, limits: Partial<ClientConfig> = {}): ClientConfig {
  return {
    name, key_sha256: keyDigest(`key-of-${name}-0123456789`), pools: null, rpm: null, tpm: null, max_concurrent: null,
    budget: { daily: null, monthly: null }, metadata: {}, ...limits,
  };
}

function setup(limits: Partial<ClientConfig>, start = Date.UTC(2026, 0, 1)) {
  const clock = new ManualClock(start);
  const limiter = new ClientLimiter(new LocalWindowCounters(clock), clock);
  const registry = new ClientRegistry([clientConfig('limited', limits), clientConfig('free')]);
  const get = (name: string): Client => registry.get(name) ?? assert.fail(name);
  return { clock, limiter, limited: get('limited'), free: get('free') };
}

function ok(a: Admission): Admitted {
  assert.ok(a.ok, a.ok ? '' : `refused: ${a.reason}`);
  return a;
}

function refused(a: Admission): Rejected {
  assert.ok(!a.ok, 'expected a refusal');
  return a;
}

const ONE = { estimatedTokens: 0 };

describe('rpm', () => {
  test('the limited client gets a 429 at exactly rpm+1, with OpenAI headers; the unlimited one is unaffected', () => {
    const { clock, limiter, limited, free } = setup({ rpm: 3 });
    const remaining = [1, 2, 3].map(() => ok(limiter.admit(limited, ONE)).headers['x-ratelimit-remaining-requests']);
    assert.deepEqual(remaining, ['2', '1', '0']);
    clock.advance(45_500);
    for (let i = 0; i < 50; i++) assert.deepEqual(ok(limiter.admit(free, ONE)).headers, {});
    const r = refused(limiter.admit(limited, ONE));
    assert.equal(r.reason, 'rpm');
    assert.equal(r.retryAfterSeconds, 15);
    assert.equal(r.error.status, 429);
    assert.deepEqual(r.error.toJSON().error, {
      message: 'Rate limit reached for client limited on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 14.5s.',
      type: 'requests',
      param: null,
      code: 'rate_limit_exceeded',
    });
    assert.deepEqual(r.error.headers, {
      'x-ratelimit-limit-requests': '3',
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-reset-requests': '14.5s',
      'retry-after': '15',
      'retry-after-ms': '14500',
    });
    assert.deepEqual(r.headers, r.error.headers);
    assert.deepEqual(limiter.usage(limited).rejections, { rpm: 1, tpm: 0, concurrency: 0, budget: 0 });
    assert.equal(limiter.usage(free).requests_total, 50);
  });

  test('the next minute frees rpm; headers count down the minute', () => {
    const { clock, limiter, limited } = setup({ rpm: 2 });
    ok(limiter.admit(limited, ONE));
    ok(limiter.admit(limited, ONE));
    clock.advance(59_999);
    refused(limiter.admit(limited, ONE));
    assert.equal(limiter.headersFor(limited)['x-ratelimit-reset-requests'], '1ms');
    clock.advance(1);
    assert.equal(ok(limiter.admit(limited, ONE)).headers['x-ratelimit-reset-requests'], '1m0s');
    assert.equal(limiter.usage(limited).requests_minute, 1);
    assert.equal(limiter.usage(limited).requests_total, 3);
  });
});

describe('tpm', () => {
  test('estimates in flight count; released requests count what the upstream reported', () => {
    const { limiter, limited } = setup({ tpm: 1000 });
    const first = ok(limiter.admit(limited, { estimatedTokens: 600 }));
    assert.deepEqual(first.headers, {
      'x-ratelimit-limit-tokens': '1000',
      'x-ratelimit-remaining-tokens': '400',
      'x-ratelimit-reset-tokens': '1m0s',
    });
    const r = refused(limiter.admit(limited, { estimatedTokens: 500 }));
    assert.equal(r.reason, 'tpm');
    assert.equal(r.error.type, 'tokens');
    assert.match(r.error.message, /tokens per min \(TPM\): Limit 1000, Used 600, Requested 500\. Please try again in 60s\./);
    first.release({ tokensIn: 200, tokensOut: 100, cost: 0 });
    const second = ok(limiter.admit(limited, { estimatedTokens: 500 }));
    assert.equal(second.headers['x-ratelimit-remaining-tokens'], '200');
    const usage = limiter.usage(limited);
    assert.deepEqual([usage.tokens_minute, usage.tokens_in, usage.tokens_out], [300, 200, 100]);
  });

  test('a request larger than tpm on its own is refused as too large, without retry-after', () => {
    const { limiter, limited } = setup({ tpm: 1000 });
    const r = refused(limiter.admit(limited, { estimatedTokens: 1001 }));
    assert.equal(r.reason, 'tpm');
    assert.equal(r.retryAfterSeconds, 0);
    assert.equal(r.error.headers['retry-after'], undefined);
    assert.equal(r.error.headers['x-should-retry'], 'false');
    assert.match(r.error.message, /^Request too large for client limited on tokens per min \(TPM\): Limit 1000, Requested 1001\./);
  });

  test('rpm and tpm together: all six x-ratelimit headers on every answer', () => {
    const { limiter, limited } = setup({ rpm: 10, tpm: 100 });
    assert.deepEqual(Object.keys(limiter.headersFor(limited)).sort(), [
      'x-ratelimit-limit-requests', 'x-ratelimit-limit-tokens', 'x-ratelimit-remaining-requests',
      'x-ratelimit-remaining-tokens', 'x-ratelimit-reset-requests', 'x-ratelimit-reset-tokens',
    ]);
  });
});

describe('concurrency', () => {
  test('max_concurrent refuses the next one until a release; a second release frees nothing', () => {
    const { limiter, limited } = setup({ max_concurrent: 2 });
    const a = ok(limiter.admit(limited, ONE));
    ok(limiter.admit(limited, ONE));
    const r = refused(limiter.admit(limited, ONE));
    assert.equal(r.reason, 'concurrency');
    assert.equal(r.retryAfterSeconds, 1);
    assert.equal(r.error.code, 'rate_limit_exceeded');
    assert.equal(limiter.usage(limited).concurrent, 2);
    a.release();
    a.release();
    assert.equal(limiter.usage(limited).concurrent, 1);
    ok(limiter.admit(limited, ONE));
    refused(limiter.admit(limited, ONE));
    assert.deepEqual(limiter.usage(limited).rejections, { rpm: 0, tpm: 0, concurrency: 2, budget: 0 });
  });
});

describe('budgets', () => {
  const lateOnJan1 = Date.UTC(2026, 0, 1, 23, 0, 0);

  test('a daily budget stops at the boundary and the next UTC day frees it', () => {
    const { clock, limiter, limited, free } = setup({ budget: { daily: 1, monthly: null } }, lateOnJan1);
    for (let i = 0; i < 4; i++) ok(limiter.admit(limited, ONE)).release({ tokensIn: 10, tokensOut: 5, cost: 0.3 });
    const r = refused(limiter.admit(limited, ONE));
    assert.equal(r.reason, 'budget_daily');
    assert.equal(r.retryAfterSeconds, 3600);
    assert.equal(r.error.status, 429);
    assert.equal(r.error.code, 'insufficient_quota');
    assert.equal(r.error.type, 'insufficient_quota');
    assert.equal(r.error.headers['x-should-retry'], 'false');
    assert.match(r.error.message, /^You exceeded your current quota: client limited has spent \$1\.20 of its daily budget of \$1\.00\. It resets at 2026-01-02T00:00:00\.000Z/);
    ok(limiter.admit(free, ONE));
    clock.set(Date.UTC(2026, 0, 2) - 1);
    refused(limiter.admit(limited, ONE));
    clock.set(Date.UTC(2026, 0, 2));
    ok(limiter.admit(limited, ONE)).release({ tokensIn: 0, tokensOut: 0, cost: 0.1 });
    const usage = limiter.usage(limited);
    assert.equal(usage.spend_daily, 0.1);
    assert.ok(Math.abs(usage.spend_monthly - 1.3) < 1e-9);
    assert.equal(usage.rejections.budget, 2);
  });

  test('an estimated cost that would cross the budget is refused; reservations in flight count', () => {
    const { limiter, limited } = setup({ budget: { daily: 1, monthly: null } });
    ok(limiter.admit(limited, ONE)).release({ tokensIn: 0, tokensOut: 0, cost: 0.5 });
    const held = ok(limiter.admit(limited, { estimatedTokens: 0, estimatedCost: 0.3 }));
    assert.equal(refused(limiter.admit(limited, { estimatedTokens: 0, estimatedCost: 0.3 })).reason, 'budget_daily');
    held.release({ tokensIn: 0, tokensOut: 0, cost: 0.1 });
    ok(limiter.admit(limited, { estimatedTokens: 0, estimatedCost: 0.3 }));
  });

  test('a monthly budget outranks rpm and frees on the 1st', () => {
    const { clock, limiter, limited } = setup({ rpm: 1, budget: { daily: null, monthly: 2 } }, Date.UTC(2026, 0, 31, 23, 59));
    ok(limiter.admit(limited, ONE)).release({ tokensIn: 0, tokensOut: 0, cost: 2 });
    const r = refused(limiter.admit(limited, ONE));
    assert.equal(r.reason, 'budget_monthly');
    assert.equal(r.retryAfterSeconds, 60);
    assert.match(r.error.message, /monthly budget of \$2\.00\. It resets at 2026-02-01T00:00:00\.000Z/);
    clock.set(Date.UTC(2026, 1, 1));
    ok(limiter.admit(limited, ONE));
  });
});

describe('snapshot and restore', () => {
  test('totals and today\'s spend survive a restart; yesterday\'s spend does not', () => {
    const { clock, limiter, limited } = setup({ budget: { daily: 1, monthly: null }, rpm: 5 });
    ok(limiter.admit(limited, ONE)).release({ tokensIn: 100, tokensOut: 20, cost: 0.75 });
    ok(limiter.admit(limited, ONE)).release({ tokensIn: 1, tokensOut: 2, cost: 0.25 });
    refused(limiter.admit(limited, ONE));
    const saved: unknown = JSON.parse(JSON.stringify(limiter.snapshot()));

    const restart = () => {
      const fresh = new ClientLimiter(new LocalWindowCounters(clock), clock);
      fresh.restore(saved);
      return fresh;
    };
    const again = restart();
    assert.deepEqual(again.usage(limited), {
      requests_minute: 0, tokens_minute: 0, concurrent: 0, spend_daily: 1, spend_monthly: 1,
      requests_total: 2, tokens_in: 101, tokens_out: 22, cost_total: 1, rejections: { rpm: 0, tpm: 0, concurrency: 0, budget: 1 },
    });
    assert.equal(refused(again.admit(limited, ONE)).reason, 'budget_daily');

    clock.set(Date.UTC(2026, 0, 2, 8));
    const tomorrow = restart();
    assert.equal(tomorrow.usage(limited).spend_daily, 0);
    assert.equal(tomorrow.usage(limited).spend_monthly, 1);
    assert.equal(tomorrow.usage(limited).requests_total, 2);
    ok(tomorrow.admit(limited, ONE));
  });

  test('malformed snapshots and entries are ignored', () => {
    const { limiter, limited } = setup({});
    for (const bad of [null, 42, { version: 2, clients: {} }, { version: 1, clients: [] }]) limiter.restore(bad);
    limiter.restore({ version: 1, clients: { limited: { requests_total: -5, tokens_in: 'x', cost_total: 3, spend: null }, other: 7 } });
    const usage = limiter.usage(limited);
    assert.deepEqual([usage.requests_total, usage.tokens_in, usage.cost_total], [0, 0, 3]);
  });
});

test('usage of a client never seen is zeros; reported nonsense counts as nothing', () => {
  const { limiter, free } = setup({});
  assert.equal(limiter.usage('nobody').requests_total, 0);
  ok(limiter.admit(free, { estimatedTokens: Number.NaN, estimatedCost: -1 })).release({ tokensIn: Number.NaN, tokensOut: -3, cost: Infinity });
  const usage = limiter.usage(free);
  assert.deepEqual([usage.tokens_in, usage.tokens_out, usage.cost_total, usage.spend_daily], [0, 0, 0, 0]);
  // A NaN estimate reserved nothing: a tpm client still fits a normal request afterwards.
  const { limiter: l2, limited } = setup({ tpm: 100 });
  l2.admit(limited, { estimatedTokens: Number.NaN });
  ok(l2.admit(limited, { estimatedTokens: 100 }));
});
