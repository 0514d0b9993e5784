// Client keys through the proxy (issue 12, "How it is checked"): several clients against a scripted upstream.
// Limits answer 429 with OpenAI's headers at the right count while an unlimited client is unaffected; a budget
// stops a client at the boundary and the next UTC day frees it (injected clock); a disallowed pool is a 404
// that never reaches the upstream; /v1/models lists what the key may use; admin and metrics name clients.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { keyDigest } from '../../src/config/schema/clients.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { ModelMesh } from '../../src/mesh/mesh.ts';
import { ProxyServer } from '../../src/proxy/proxy-server.ts';
import { json, startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.ts';
import { errorOf, postJson, request, type Reply } from '../helpers/proxy.ts';

const KEYS = {
  limited: 'mm-limited-0123456789abcdefghijkl',
  free: 'mm-free-0123456789abcdefghijklmnop',
  narrow: 'mm-narrow-0123456789abcdefghijklmn',
  thrifty: 'mm-thrifty-0123456789abcdefghijklm',
  tokens: 'mm-tokens-0123456789abcdefghijklmn',
  single: 'mm-single-0123456789abcdefghijklmn',
};
const ADMIN = 'admin-token-0123456789';

/** 1,000 prompt + 1,000 completion tokens at $5 per 1M each: $0.01 per answer. */
function completion(): object {
  return {
    id: 'c1', object: 'chat.completion', created: 1, model: 'up-chat',
    choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 1000, completion_tokens: 1000, total_tokens: 2000 },
  };
}

function config(up: FakeUpstream, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    proxy: { host: '127.0.0.1', port: 0, admin: { tokens: [ADMIN] }, metrics: true },
    providers: { up: { connector: 'openai.llm.v1', base_url: up.url, api_key: 'sk-upstream-secret-value' } },
    models: {
      'up.chat': { provider: 'up', capabilities: ['chat-completion'], pricing: { input_per_1m: 5, output_per_1m: 5 } },
      'up.embed': { provider: 'up', capabilities: ['text-embeddings'] },
    },
    pools: { chat: { models: ['up.chat'], aliases: ['gpt'] }, other: { models: ['up.chat'] } },
    clients: {
      limited: { key_sha256: keyDigest(KEYS.limited), rpm: 3 },
      free: { key_sha256: keyDigest(KEYS.free), metadata: { team: 'infra' } },
      narrow: { key_sha256: keyDigest(KEYS.narrow), pools: ['gpt', 'up.embed'] },
      thrifty: { key_sha256: keyDigest(KEYS.thrifty), budget: { daily: 0.02 } },
      tokens: { key_sha256: keyDigest(KEYS.tokens), tpm: 5000 },
      single: { key_sha256: keyDigest(KEYS.single), max_concurrent: 1 },
    },
    ...extra,
  };
}

async function start(t: TestContext, raw: Record<string, unknown>, clock = new ManualClock(Date.UTC(2026, 2, 10, 12, 0, 0))) {
  const mesh = ModelMesh.fromConfig(raw, { env: {}, clock });
  const server = new ProxyServer(mesh);
  await server.start();
  t.after(() => server.stop());
  const url = `http://127.0.0.1:${server.getStatus().port}`;
  const chat = (key: string | null, model = 'chat', extra: Record<string, unknown> = {}): Promise<Reply> =>
    postJson(`${url}/v1/chat/completions`, { model, messages: [{ role: 'user', content: 'hi' }], ...extra }, key === null ? {} : { authorization: `Bearer ${key}` });
  return { mesh, server, url, clock, chat };
}

async function upstream(t: TestContext): Promise<FakeUpstream> {
  const up = await startFakeUpstream();
  t.after(() => up.close());
  up.handle(json(200, completion()));
  return up;
}

test('rpm: the limited client gets 429 at request 4 with OpenAI headers; the unlimited one is unaffected', async (t) => {
  const up = await upstream(t);
  const { chat } = await start(t, config(up));
  for (const remaining of ['2', '1', '0']) {
    const ok = await chat(KEYS.limited);
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['x-ratelimit-limit-requests'], '3');
    assert.equal(ok.headers['x-ratelimit-remaining-requests'], remaining);
    assert.equal(ok.headers['x-ratelimit-reset-requests'], '1m0s'); // the clock stands at a full minute
  }
  for (let i = 0; i < 10; i++) {
    const free = await chat(KEYS.free);
    assert.equal(free.status, 200);
    assert.equal(free.headers['x-ratelimit-limit-requests'], undefined);
  }
  const refused = await chat(KEYS.limited);
  assert.equal(refused.status, 429);
  assert.equal(refused.headers['retry-after'], '60');
  assert.equal(refused.headers['x-ratelimit-remaining-requests'], '0');
  const err = errorOf(refused);
  assert.equal(err.code, 'rate_limit_exceeded');
  assert.equal(err.type, 'requests');
  assert.match(err.message, /^Rate limit reached for client limited on requests per min \(RPM\): Limit 3, Used 3, Requested 1\./);
  assert.equal(up.requests.length, 13); // the refused request never reached the upstream
  // Every other answer to a limited client carries the headers too: a 400 from validation, /v1/models.
  const invalid = await postJson(`${(await start(t, config(up))).url}/v1/chat/completions`, { model: 'chat' }, { authorization: `Bearer ${KEYS.limited}` });
  assert.equal(invalid.status, 400);
  assert.equal(invalid.headers['x-ratelimit-remaining-requests'], '3');
});

test('a budget stops the client at the boundary and the next UTC day frees it', async (t) => {
  const up = await upstream(t);
  const clock = new ManualClock(Date.UTC(2026, 2, 10, 23, 0, 0));
  const { chat, server, mesh } = await start(t, config(up), clock);
  assert.equal((await chat(KEYS.thrifty)).status, 200);
  assert.equal((await chat(KEYS.thrifty)).status, 200); // $0.02 spent: exactly the budget
  const spent = await chat(KEYS.thrifty);
  assert.equal(spent.status, 429);
  const err = errorOf(spent);
  assert.equal(err.code, 'insufficient_quota');
  assert.equal(err.type, 'insufficient_quota');
  assert.match(err.message, /client thrifty has spent \$0\.02 of its daily budget of \$0\.02\. It resets at 2026-03-11T00:00:00\.000Z/);
  assert.equal(spent.headers['retry-after'], '3600');
  assert.equal(spent.headers['x-should-retry'], 'false');
  assert.equal(up.requests.length, 2);
  assert.equal((await chat(KEYS.free)).status, 200); // others are unaffected
  const status = mesh.clientLimiter.usage('thrifty');
  assert.equal(status.rejections.budget, 1);
  clock.advance(3_600_000); // 00:00 UTC the next day
  assert.equal((await chat(KEYS.thrifty)).status, 200);
  void server;
});

test('a budget refuses, before any upstream call, a request whose prompt plus max_tokens cannot fit', async (t) => {
  const up = await upstream(t);
  const { chat } = await start(t, config(up));
  assert.equal((await chat(KEYS.thrifty)).status, 200); // $0.01 of $0.02 spent
  // 4,000 output tokens cost at least $0.02 at $5 per 1M: more than the $0.01 left, whichever model answers.
  const big = await chat(KEYS.thrifty, 'chat', { max_tokens: 4000 });
  assert.equal(big.status, 429);
  assert.equal(errorOf(big).code, 'insufficient_quota');
  assert.equal(up.requests.length, 1);
  assert.equal((await chat(KEYS.thrifty, 'chat', { max_tokens: 100 })).status, 200); // $0.0005 fits
});

test('client usage survives a restart through the state file; a file from before client keys still loads', async (t) => {
  const up = await upstream(t);
  const dir = mkdtempSync(join(tmpdir(), 'modelmesh-clients-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'state.json');
  writeFileSync(path, `${JSON.stringify({ version: 1, saved_at: 0, models: {}, providers: {} })}\n`);
  const raw = config(up, { storage: { path, sync_policy: 'sync-on-boundary' } });
  const clock = new ManualClock(Date.UTC(2026, 2, 10, 12, 0, 0));
  const first = await start(t, raw, clock);
  assert.equal((await first.chat(KEYS.thrifty)).status, 200);
  assert.equal((await first.chat(KEYS.thrifty)).status, 200);
  await first.server.stop();
  const saved = JSON.parse(readFileSync(path, 'utf8')) as { clients: { clients: Record<string, { spend: { daily: number } }> } };
  assert.equal(saved.clients.clients['thrifty']?.spend.daily, 0.02);
  assert.doesNotMatch(readFileSync(path, 'utf8'), /mm-thrifty/);

  const second = await start(t, raw, clock);
  const refused = await second.chat(KEYS.thrifty); // a restart does not refill the budget
  assert.equal(refused.status, 429);
  assert.equal(errorOf(refused).code, 'insufficient_quota');
  assert.equal(second.mesh.clientLimiter.usage('thrifty').requests_total, 2);
});

test('tpm counts what the upstream reported; max_concurrent refuses a second request in flight', async (t) => {
  const up = await upstream(t);
  const { chat } = await start(t, config(up));
  const first = await chat(KEYS.tokens);
  assert.equal(first.status, 200);
  assert.equal(first.headers['x-ratelimit-limit-tokens'], '5000');
  const second = await chat(KEYS.tokens);
  // 2000 reported by the first answer, and this request's own estimate (its prompt) reserved while in flight.
  const remaining = Number(second.headers['x-ratelimit-remaining-tokens']);
  assert.ok(remaining < 3000 && remaining >= 2990, String(remaining));
  await chat(KEYS.tokens);
  // 6000 reported by now: over the limit.
  const over = await chat(KEYS.tokens);
  assert.equal(over.status, 429);
  assert.equal(errorOf(over).type, 'tokens');
  // One request alone larger than tpm: "Request too large", not worth retrying.
  const large = await chat(KEYS.tokens, 'chat', { max_tokens: 9000 });
  assert.equal(large.status, 429);
  assert.match(errorOf(large).message, /^Request too large for client tokens/);

  // A slow answer keeps the first request of `single` in flight while the second arrives.
  up.handle(async (req, res, recorded) => {
    await new Promise((r) => setTimeout(r, 300));
    await json(200, completion())(req, res, recorded);
  });
  const pending = chat(KEYS.single);
  for (let i = 0; i < 100 && up.requests.length < 4; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(up.requests.length, 4);
  const busy = await chat(KEYS.single);
  assert.equal(busy.status, 429);
  assert.match(errorOf(busy).message, /^Concurrency limit reached for client single: Limit 1/);
  assert.equal(busy.headers['retry-after'], '1');
  assert.equal((await pending).status, 200);
  assert.equal((await chat(KEYS.single)).status, 200); // the slot is free again once the answer is over
});

test('allow-list: a disallowed pool or unknown name is a 404 that never reaches the upstream; /v1/models lists only what the key may use', async (t) => {
  const up = await upstream(t);
  const { chat, url } = await start(t, config(up));
  const auth = { authorization: `Bearer ${KEYS.narrow}` };
  for (const name of ['other', 'up.chat', 'no-such-pool']) {
    const reply = await chat(KEYS.narrow, name);
    assert.equal(reply.status, 404, name);
    const err = errorOf(reply);
    assert.equal(err.code, 'model_not_found');
    assert.equal(err.message, `The model \`${name}\` does not exist or you do not have access to it.`);
  }
  assert.equal(up.requests.length, 0);
  assert.equal((await chat(KEYS.narrow, 'chat')).status, 200); // `gpt` allows its pool under every name
  assert.equal((await chat(KEYS.narrow, 'gpt')).status, 200);

  const listed = await request(`${url}/v1/models`, { headers: auth });
  assert.deepEqual(listed.json.data.map((m: { id: string }) => m.id).sort(), ['chat', 'gpt', 'up.embed']);
  const all = await request(`${url}/v1/models`, { headers: { authorization: `Bearer ${KEYS.free}` } });
  assert.ok(all.json.data.some((m: { id: string }) => m.id === 'other'));
  assert.equal((await request(`${url}/v1/models/other`, { headers: auth })).status, 404);
  assert.equal((await request(`${url}/v1/models/gpt`, { headers: auth })).status, 200);
});

test('keys: unknown or missing is a 401 (even with proxy.auth off); x-api-key works; proxy.auth.tokens stay anonymous', async (t) => {
  const up = await upstream(t);
  const raw = config(up);
  (raw['proxy'] as Record<string, unknown>)['auth'] = { enabled: true, tokens: ['anon-token-0123456789'] };
  const { chat, url } = await start(t, raw);
  const missing = await chat(null);
  assert.equal(missing.status, 401);
  assert.equal(errorOf(missing).code, 'invalid_api_key');
  const wrong = await chat('mm-nobody-0123456789abcdefghijklmn');
  assert.equal(wrong.status, 401);
  assert.doesNotMatch(wrong.body, /mm-nobody/);
  const viaHeader = await postJson(`${url}/v1/chat/completions`, { model: 'chat', messages: [{ role: 'user', content: 'hi' }] }, { 'x-api-key': KEYS.limited });
  assert.equal(viaHeader.status, 200);
  assert.equal(viaHeader.headers['x-ratelimit-remaining-requests'], '2');
  assert.equal((await chat('anon-token-0123456789')).status, 200);
  assert.equal(up.requests.length, 2);
});

test('attribution: admin answers, /metrics and the request log name the client; no key value appears anywhere', async (t) => {
  const up = await upstream(t);
  const dir = mkdtempSync(join(tmpdir(), 'modelmesh-clients-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string): Record<string, unknown> => ({ connector: 'modelmesh.local-file.v1', path: join(dir, name) });
  const raw = config(up, {
    observability: { routing: file('routing.jsonl'), logging: { ...file('requests.jsonl'), level: 'full' }, statistics: file('stats.jsonl') },
  });
  const { server, url } = await start(t, raw);
  const post = (key: string, model = 'chat'): Promise<Reply> =>
    postJson(`${url}/v1/chat/completions`, { model, messages: [{ role: 'user', content: 'hi' }] }, { authorization: `Bearer ${key}` });
  for (let i = 0; i < 4; i++) await post(KEYS.limited); // 3 answered, 1 refused (rpm)
  await post(KEYS.narrow, 'other'); // refused: not allowed
  await post(KEYS.free);
  await post('mm-nobody-0123456789abcdefghijklmn');

  const admin = { authorization: `Bearer ${ADMIN}` };
  const list = await request(`${url}/mesh/clients`, { headers: admin });
  assert.equal(list.status, 200);
  assert.deepEqual(list.json.data.map((c: { name: string }) => c.name), ['limited', 'free', 'narrow', 'thrifty', 'tokens', 'single']);
  const one = await request(`${url}/mesh/clients/limited`, { headers: admin });
  assert.equal(one.json.key_id, keyDigest(KEYS.limited).slice(0, 8));
  assert.deepEqual(one.json.limits, { rpm: 3, tpm: null, max_concurrent: null, budget: { daily: null, monthly: null } });
  assert.deepEqual(one.json.usage.minute, { start: '2026-03-10T12:00:00.000Z', reset_at: '2026-03-10T12:01:00.000Z', requests: 3, tokens: 6000 });
  assert.equal(one.json.usage.day.spend, 0.03);
  assert.deepEqual(one.json.totals, { requests: 3, tokens_in: 3000, tokens_out: 3000, cost: 0.03 });
  assert.equal(one.json.rejections.rpm, 1);
  assert.equal((await request(`${url}/mesh/clients/nobody`, { headers: admin })).status, 404);
  assert.equal((await request(`${url}/mesh/clients`, { headers: { authorization: `Bearer ${KEYS.free}` } })).status, 401);

  const metrics = await request(`${url}/metrics`, { headers: { authorization: `Bearer ${KEYS.free}` } });
  assert.match(metrics.body, /^modelmesh_client_requests_total\{client="limited",outcome="success"\} 3$/m);
  assert.match(metrics.body, /^modelmesh_client_requests_total\{client="free",outcome="success"\} 1$/m);
  assert.match(metrics.body, /^modelmesh_client_tokens_total\{client="limited",direction="input"\} 3000$/m);
  assert.match(metrics.body, /^modelmesh_client_cost_usd_total\{client="limited"\} 0\.03$/m);
  assert.match(metrics.body, /^modelmesh_client_rejections_total\{client="limited",reason="rpm"\} 1$/m);
  assert.match(metrics.body, /^modelmesh_client_rejections_total\{client="narrow",reason="model_not_allowed"\} 1$/m);
  assert.match(metrics.body, /^modelmesh_client_rejections_total\{client="",reason="unknown_key"\} 1$/m);

  await server.stop(); // flushes the logs
  const text = ['routing.jsonl', 'requests.jsonl', 'stats.jsonl'].map((name) => readFileSync(join(dir, name), 'utf8')).join('');
  const records = text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  const logged = records.filter((r) => r['kind'] === 'request');
  assert.deepEqual(logged.map((r) => r['client']), ['limited', 'limited', 'limited', 'free']);
  assert.ok(records.some((r) => r['kind'] === 'routing' && r['type'] === 'decision' && r['client'] === 'free'));
  assert.ok(records.some((r) => r['kind'] === 'statistics' && r['scope'] === 'client' && r['id'] === 'limited' && r['requests_total'] === 3));
  const everything = [text, list.body, one.body, metrics.body].join('\n');
  for (const key of [...Object.values(KEYS), 'mm-nobody-0123456789abcdefghijklmn']) assert.ok(!everything.includes(key), `key leaked: ${key}`);
  assert.ok(!everything.includes('sk-upstream-secret-value'));
});

test('a request that fails upstream frees its max_concurrent slot', async (t) => {
  const up = await upstream(t);
  const { chat } = await start(t, config(up));
  up.handle(json(400, { error: { message: 'bad request upstream', type: 'invalid_request_error', param: null, code: null } }));
  const failed = await chat(KEYS.single);
  assert.equal(failed.status, 400);
  up.handle(json(200, completion()));
  assert.equal((await chat(KEYS.single)).status, 200, 'the slot of the failed request is free');
  assert.equal((await chat(KEYS.single)).status, 200);
});
