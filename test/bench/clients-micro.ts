// Micro-benchmark of the client-key path (issue 12 §7): lookup + admit + release with 1,000 clients configured,
// every limit on. Not part of `npm test`. Run: node --import tsx test/bench/clients-micro.ts
import { performance } from 'node:perf_hooks';
import { keyDigest } from '../../src/config/schema/clients.ts';
import type { ClientConfig } from '../../src/config/types.ts';
import { ClientLimiter } from '../../src/clients/limits.ts';
import { ClientRegistry } from '../../src/clients/registry.ts';
import { systemClock } from '../../src/lib/clock.ts';
import { LocalWindowCounters } from '../../src/lib/window-counters.ts';

const CLIENTS = 1000;
const N = Number(process.env['N'] ?? 300_000);
const keys = Array.from({ length: CLIENTS }, (_, i) => `mm-bench-client-${i}-0123456789abcdef`);
const configs: ClientConfig[] = keys.map((key, i) => ({
  name: `app${i}`, key_sha256: keyDigest(key), pools: ['text-generation'], rpm: 1e9, tpm: 1e12, max_concurrent: 1e6,
  budget: { daily: 1e9, monthly: 1e9 }, metadata: {},
}));
const registry = new ClientRegistry(configs);
const limiter = new ClientLimiter(new LocalWindowCounters(systemClock), systemClock);
const actual = { tokensIn: 120, tokensOut: 40, cost: 0.0001 };

function run(label: string, fn: (i: number) => void): void {
  for (let i = 0; i < 20_000; i++) fn(i); // warm-up
  const start = performance.now();
  for (let i = 0; i < N; i++) fn(i);
  const us = ((performance.now() - start) * 1000) / N;
  process.stdout.write(`${label.padEnd(44)} ${us.toFixed(2)} µs/request\n`);
}

run('lookup (sha256 + Map + timingSafeEqual)', (i) => {
  if (registry.lookup(keys[i % CLIENTS] ?? '') === undefined) throw new Error('miss');
});
run('lookup + allows + admit (its headers) + release', (i) => {
  const client = registry.lookup(keys[i % CLIENTS] ?? '');
  if (client === undefined || !registry.allows(client, 'text-generation', 'text-generation')) throw new Error('refused');
  const a = limiter.admit(client, { estimatedTokens: 200 });
  if (!a.ok) throw new Error(a.reason);
  a.release(actual);
});
run('the same + a second headersFor', (i) => {
  const client = registry.lookup(keys[i % CLIENTS] ?? '');
  if (client === undefined || !registry.allows(client, 'text-generation', 'text-generation')) throw new Error('refused');
  const a = limiter.admit(client, { estimatedTokens: 200 });
  if (!a.ok) throw new Error(a.reason);
  limiter.headersFor(client);
  a.release(actual);
});
run('lookup of an unknown key', (i) => {
  if (registry.lookup(`unknown-${i}`) !== undefined) throw new Error('hit');
});
