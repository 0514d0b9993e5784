// A client over its rpm on the sum of two instances (issue 13, "How it is checked"), through the built CLI
// and a real redis-server: one client key with rpm N, requests spread over both instances; between N and
// N + the documented overshoot bound are accepted, the rest answered 429 in OpenAI shape with the
// x-ratelimit-* headers. Without sharing, each instance would accept N (2N in all).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { keyDigest } from '../../src/config/schema/clients.ts';
import { errorOf, postJson, type Reply } from '../helpers/proxy.ts';
import { RedisServer, skipWithoutRedis } from '../helpers/redis-server.ts';
import { startCli, tempDir, writeConfig } from '../observability/spawn.ts';

const KEY = 'mm-shared-client-0123456789abcdef';
const RPM = 60;
/** The default flush_interval: the storage section below is the minimal one (connector and url only). */
const FLUSH_MS = 100;

function yaml(redisUrl: string): string {
  return `
proxy: {host: 127.0.0.1, drain_timeout: 2s}
providers:
  sim: {connector: modelmesh.simulated.v1}
models:
  sim.chat: {provider: sim, capabilities: [chat-completion]}
pools:
  chat: {models: [sim.chat]}
clients:
  app: {key_sha256: ${keyDigest(KEY)}, rpm: ${RPM}}
storage: {connector: modelmesh.redis.v1, url: ${JSON.stringify(redisUrl)}}
`;
}

test(`a client with rpm ${RPM} over two instances: ${RPM}..${RPM}+bound accepted on the sum, the rest 429 with x-ratelimit headers`, skipWithoutRedis(), async (t) => {
  const redis = await RedisServer.start();
  t.after(() => redis.close());
  const config = writeConfig(tempDir(t), yaml(redis.url()));
  const [a, b] = await Promise.all([startCli(t, config), startCli(t, config)]);
  // rpm counts per UTC minute: start well inside one, so the burst below never spans two windows.
  const intoMinute = Date.now() % 60_000;
  if (intoMinute > 55_000) await delay(60_000 - intoMinute + 100);

  // One request every 5 ms, alternating: each instance takes 100 requests/s. Documented bound: (N-1) x what
  // one other instance accepts in two flush intervals = 1 x 100/s x 2 x 100 ms = 20 (+ 2 for a round trip).
  const bound = 22;
  const replies: Promise<Reply>[] = [];
  for (let i = 0; i < 3 * RPM; i++) {
    replies.push(postJson(`${(i % 2 === 0 ? a : b).url}/v1/chat/completions`, { model: 'chat', messages: [{ role: 'user', content: 'hi' }] }, { authorization: `Bearer ${KEY}` }));
    await delay(5);
  }
  const all = await Promise.all(replies);
  const accepted = all.filter((r) => r.status === 200);
  const refused = all.filter((r) => r.status === 429);
  assert.equal(accepted.length + refused.length, all.length, `only 200 and 429: ${[...new Set(all.map((r) => r.status))].join(',')}`);
  assert.ok(accepted.length >= RPM, `at least the rpm accepted (${accepted.length})`);
  assert.ok(accepted.length <= RPM + bound, `at most ${RPM} + ${bound} accepted on the sum of both (${accepted.length})`);

  const reply = refused.at(-1);
  assert.ok(reply !== undefined);
  const error = errorOf(reply);
  assert.equal(error.code, 'rate_limit_exceeded');
  assert.equal(error.type, 'requests');
  assert.match(error.message, new RegExp(`client app on requests per min \\(RPM\\): Limit ${RPM}`));
  assert.equal(reply.headers['x-ratelimit-limit-requests'], String(RPM));
  assert.equal(reply.headers['x-ratelimit-remaining-requests'], '0');
  assert.ok(Number(reply.headers['retry-after']) >= 1, 'retry-after set');
  assert.match(String(reply.headers['x-ratelimit-reset-requests']), /^\d+(\.\d+)?m?s$/);
  // Both instances refuse: the decision is on the total, not on each instance's half.
  const refusedBy = new Set(all.flatMap((r, i) => (r.status === 429 ? [i % 2] : [])));
  assert.deepEqual([...refusedBy].sort(), [0, 1], 'both instances refused requests');
  const acceptedOnA = all.filter((r, i) => r.status === 200 && i % 2 === 0).length;
  assert.ok(acceptedOnA < RPM, `a alone accepted less than the rpm (${acceptedOnA})`);
});
