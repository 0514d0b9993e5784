// The observability service: the three streams to JSONL files / console, fields per request-log level,
// redaction of every line, statistics snapshots on the interval and at stop, reloads.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ManualClock } from '../../src/lib/clock.ts';
import type { RequestEvent } from '../../src/mesh/events.ts';
import { ModelMesh } from '../../src/mesh/mesh.ts';
import { createObservabilityService, type ObservabilityService } from '../../src/observability/service.ts';
import { STAT_NAMES } from '../../src/observability/stats.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const SECRET = 'sk-unit-secret-0123456789abcdef';

function setup(observability: Record<string, unknown>, clock = new ManualClock()) {
  const mesh = ModelMesh.fromConfig({
    providers: {
      sim: { connector: 'modelmesh.simulated.v1' },
      up: { connector: 'openai.llm.v1', base_url: 'http://127.0.0.1:9/v1', api_key: '${secrets:TEST_KEY}' },
    },
    models: {
      'sim.chat': { provider: 'sim', capabilities: ['chat-completion'] },
      'up.gpt': { provider: 'up', capabilities: ['chat-completion'] },
    },
    pools: { chat: { models: ['up.gpt', 'sim.chat'] } },
    observability,
  }, { clock, env: { TEST_KEY: SECRET } });
  return { mesh, clock, obs: createObservabilityService(mesh) };
}

function event(clock: ManualClock, over: Partial<RequestEvent> = {}): RequestEvent {
  return {
    type: 'request', at: clock.now(), requestId: 'req_1', endpoint: 'chat', requested: 'chat', pool: 'chat',
    candidates: ['up.gpt', 'sim.chat'], excluded: ['x.y: standby (cooldown)'],
    attempts: [
      { model: 'up.gpt', provider: 'up', status: 401, outcome: 'failure', reason: `401 Incorrect API key provided: ${SECRET}`, latency_ms: 3 },
      { model: 'sim.chat', provider: 'sim', status: 200, outcome: 'success', reason: null, latency_ms: 7 },
    ],
    model: 'sim.chat', provider: 'sim', outcome: 'success', status: 200, error: null, stream: true,
    latency_ms: 12.345, ttfb_ms: 4.2, tokens_in: 11, tokens_out: 22, cost: 0.001, client: null, ...over,
  };
}

function lines(path: string): Record<string, unknown>[] {
  const text = readFileSync(path, 'utf8');
  assert.ok(text.endsWith('\n'), 'whole lines only');
  return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
}

const METADATA = ['kind', 'ts', 'request_id', 'endpoint', 'requested', 'pool', 'model', 'provider', 'client', 'status', 'outcome', 'latency_ms', 'ttfb_ms', 'stream'];
const SUMMARY = [...METADATA, 'tokens_in', 'tokens_out', 'cost', 'attempts', 'candidates', 'excluded', 'error'];
const FULL = [...SUMMARY, 'request_body', 'response_body'];

for (const [level, keys] of [['metadata', METADATA], ['summary', SUMMARY], ['full', FULL]] as const) {
  test(`request log at ${level}: exactly its fields, one JSON line per request, secrets redacted`, async (t) => {
    const path = join(tempDir(t), 'logs', 'requests.jsonl');
    const { mesh, clock, obs } = setup({ logging: { connector: 'modelmesh.local-file.v1', path, level } });
    await obs.start?.();
    assert.equal(mesh.events.wantsBodies, level === 'full');
    const bodies = level === 'full'
      ? { request_body: { model: 'chat', api_key: 'client-key-abcdef', messages: [{ role: 'user', content: `my key is ${SECRET}` }] }, response_body: { id: 'x', echo: SECRET } }
      : {};
    mesh.events.emit(event(clock, bodies));
    mesh.events.emit(event(clock, { requestId: 'req_2', outcome: 'failure', status: 502, model: null, provider: null, error: `upstream said ${SECRET}` }));
    mesh.events.emit({ type: 'rotation', at: clock.now(), requestId: 'req_1', pool: 'chat', from: 'up.gpt', to: 'sim.chat', reason: '401' });
    await obs.flush();
    const text = readFileSync(path, 'utf8');
    assert.ok(!text.includes(SECRET), text);
    const records = lines(path);
    assert.equal(records.length, 2, 'only request events reach the request log');
    assert.deepEqual(Object.keys(records[0] ?? {}), keys);
    const [first, second] = records;
    assert.equal(first?.['kind'], 'request');
    assert.equal(first?.['request_id'], 'req_1');
    assert.equal(first?.['ts'], '2026-01-01T00:00:00.000Z');
    assert.equal(first?.['stream'], true);
    assert.equal(first?.['latency_ms'], 12.3);
    assert.equal(second?.['outcome'], 'failure');
    assert.equal(second?.['model'], null);
    if (level !== 'metadata') {
      assert.match(String(second?.['error']), /\[REDACTED\]/);
      assert.equal((first?.['attempts'] as unknown[]).length, 2);
    }
    if (level === 'full') {
      const body = first?.['request_body'] as { api_key: string; messages: { content: string }[] };
      assert.equal(body.api_key, '[REDACTED]', 'credential-named keys are blanked whatever their value');
      assert.equal(body.messages[0]?.content, 'my key is [REDACTED]');
      assert.deepEqual(first?.['response_body'], { id: 'x', echo: '[REDACTED]' });
    }
    await obs.stop?.();
    assert.equal(mesh.events.wantsBodies, false);
  });
}

test('routing stream: a decision per request plus transitions and rotations, in order', async (t) => {
  const path = join(tempDir(t), 'routing.jsonl');
  const { mesh, clock, obs } = setup({ routing: { connector: 'modelmesh.local-file.v1', path } });
  await obs.start?.();
  mesh.state.holdModel('up.gpt', 'up', { reason: 'auth failure', until: clock.now() + 60_000, cause: 'failure', pool: 'chat', manual: false });
  mesh.events.emit({ type: 'rotation', at: clock.now(), requestId: 'req_1', pool: 'chat', from: 'up.gpt', to: 'sim.chat', reason: '401 unauthorized' });
  mesh.events.emit(event(clock));
  clock.advance(60_000);
  mesh.state.isModelActive('up.gpt', 'up');
  mesh.state.holdProvider('up', { reason: 'outage', until: null, cause: 'auth', pool: null, manual: false });
  mesh.state.releaseProvider('up', 'manual');
  mesh.events.emit({ type: 'quota_reset', at: clock.now(), model: 'up.gpt', window: 'daily' });
  await obs.stop?.();
  const records = lines(path);
  assert.deepEqual(records.map((r) => r['type']), ['model_standby', 'rotation', 'decision', 'model_active', 'provider_standby', 'provider_active', 'quota_reset']);
  assert.ok(records.every((r) => r['kind'] === 'routing' && typeof r['ts'] === 'string'));
  const [standby, rotation, decision] = records;
  assert.equal(standby?.['until'], '2026-01-01T00:01:00.000Z');
  assert.equal(standby?.['reason'], 'auth failure');
  assert.equal(rotation?.['from'], 'up.gpt');
  assert.deepEqual(decision?.['candidates'], ['up.gpt', 'sim.chat']);
  assert.equal(decision?.['rotations'], 1);
  assert.equal(decision?.['model'], 'sim.chat');
  assert.ok(!readFileSync(path, 'utf8').includes(SECRET));
});

test('console sink: JSON lines on the injected writer (stdout by default), batched per event-loop turn', async () => {
  const clock = new ManualClock();
  const mesh = ModelMesh.fromConfig({ observability: { routing: { connector: 'modelmesh.console.v1' } } }, { clock, env: {} });
  const writes: string[] = [];
  const obs = createObservabilityService(mesh, { write: (text) => void writes.push(text) });
  await obs.start?.();
  for (let i = 0; i < 5; i++) mesh.events.emit(event(clock, { requestId: `r${i}` }));
  assert.equal(writes.length, 0, 'nothing written inside the listener');
  await new Promise((r) => setImmediate(r));
  await obs.flush();
  assert.equal(writes.length, 1);
  const parsed = (writes[0] ?? '').trimEnd().split('\n').map((l) => JSON.parse(l) as { request_id: string });
  assert.deepEqual(parsed.map((p) => p.request_id), ['r0', 'r1', 'r2', 'r3', 'r4']);
  await obs.stop?.();
});

test('statistics: a record per model, provider and pool every flush_interval and at stop', async (t) => {
  const path = join(tempDir(t), 'stats.jsonl');
  const { mesh, clock, obs } = setup({ statistics: { connector: 'modelmesh.local-file.v1', path, flush_interval: '30s' } });
  await obs.start?.();
  mesh.events.emit(event(clock));
  clock.advance(30_000);
  await new Promise((r) => setImmediate(r));
  await obs.flush();
  const first = lines(path);
  assert.deepEqual(first.map((r) => `${String(r['scope'])}:${String(r['id'])}`).sort(), ['model:sim.chat', 'model:up.gpt', 'pool:chat', 'provider:sim', 'provider:up']);
  for (const r of first) for (const name of STAT_NAMES) assert.equal(typeof r[name], 'number', `${name} in ${JSON.stringify(r)}`);
  const pool = first.find((r) => r['scope'] === 'pool');
  assert.equal(pool?.['requests_total'], 1);
  assert.equal(pool?.['tokens_out'], 22);
  assert.equal(pool?.['uptime_ms'], 30_000);
  mesh.events.emit(event(clock));
  await obs.stop?.();
  const all = lines(path);
  assert.equal(all.length, 10, 'the stop wrote the final snapshot');
  assert.equal(all.filter((r) => r['scope'] === 'pool').at(-1)?.['requests_total'], 2);
});

test('statistics exist without any sink configured (for /metrics)', () => {
  const { mesh, clock, obs } = setup({});
  mesh.events.emit(event(clock));
  assert.equal(obs.stats.snapshot().pools['chat']?.requests_total, 1);
});

test('a log file ending in a partial line (a crash mid-write) gets a newline first: no glued records', async (t) => {
  const path = join(tempDir(t), 'requests.jsonl');
  writeFileSync(path, '{"kind":"request","request_id":"old"}\n{"kind":"requ');
  const { mesh, clock, obs } = setup({ logging: { connector: 'modelmesh.local-file.v1', path } });
  await obs.start?.();
  mesh.events.emit(event(clock));
  await obs.stop?.();
  const text = readFileSync(path, 'utf8').split('\n');
  assert.equal(text[1], '{"kind":"requ');
  assert.equal((JSON.parse(text[2] ?? '') as { request_id: string }).request_id, 'req_1');
});

test('an unwritable log path drops records, counts them and warns; requests are unaffected', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'file'), 'x');
  const { mesh, clock, obs } = setup({ logging: { connector: 'modelmesh.local-file.v1', path: join(dir, 'file', 'requests.jsonl') } });
  const warnings: string[] = [];
  mesh.logger = { ...mesh.logger, warn: (msg) => void warnings.push(msg) };
  await obs.start?.();
  mesh.events.emit(event(clock));
  await obs.flush();
  assert.equal(obs.dropped.logging, 1);
  assert.ok(warnings.some((w) => w.includes('dropped')));
  await obs.stop?.();
});

test('reload: a changed observability section swaps sinks; the old one is flushed and closed', async (t) => {
  const dir = tempDir(t);
  const { mesh, clock, obs } = setup({ routing: { connector: 'modelmesh.local-file.v1', path: join(dir, 'a.jsonl') } });
  await obs.start?.();
  mesh.events.emit(event(clock, { requestId: 'before' }));
  const next = setup({ routing: { connector: 'modelmesh.local-file.v1', path: join(dir, 'b.jsonl') }, logging: { connector: 'modelmesh.local-file.v1', path: join(dir, 'b.jsonl'), level: 'full' } }).mesh.config;
  mesh.reload(next);
  (obs as ObservabilityService).reload?.(next);
  assert.equal(mesh.events.wantsBodies, true);
  mesh.events.emit(event(clock, { requestId: 'after' }));
  await obs.stop?.();
  assert.deepEqual(lines(join(dir, 'a.jsonl')).map((r) => r['request_id']), ['before']);
  // routing and logging share the file: one sink, both kinds of record
  assert.deepEqual(lines(join(dir, 'b.jsonl')).map((r) => `${String(r['kind'])}:${String(r['request_id'])}`), ['routing:after', 'request:after']);
});

test('console sink: when stdout is not being read (8 MiB pending), records are dropped and counted, not buffered', async () => {
  const clock = new ManualClock();
  const mesh = ModelMesh.fromConfig({ observability: { routing: { connector: 'modelmesh.console.v1' } } }, { clock, env: {} });
  const writes: string[] = [];
  let pending = 9 * 1024 * 1024;
  const obs = createObservabilityService(mesh, { write: (text) => void writes.push(text), pending: () => pending });
  await obs.start?.();
  mesh.events.emit(event(clock, { requestId: 'lost' }));
  await new Promise((r) => setImmediate(r));
  await obs.flush();
  assert.equal(writes.length, 0);
  assert.ok(obs.dropped.routing >= 1, JSON.stringify(obs.dropped));
  pending = 0;
  mesh.events.emit(event(clock, { requestId: 'kept' }));
  await new Promise((r) => setImmediate(r));
  await obs.flush();
  assert.match(writes.join(''), /"request_id":"kept"/);
  await obs.stop?.();
});

test('a secret that JSON escapes (quotes, backslashes) is redacted from request and routing lines too', async (t) => {
  const dir = tempDir(t);
  const odd = 'sk-"odd"\\secret-0123456789';
  const mesh = ModelMesh.fromConfig({
    providers: { up: { connector: 'openai.llm.v1', base_url: 'http://127.0.0.1:9/v1', api_key: '${secrets:ODD}' } },
    models: { 'up.gpt': { provider: 'up', capabilities: ['chat-completion'] } },
    observability: {
      logging: { connector: 'modelmesh.local-file.v1', path: join(dir, 'requests.jsonl'), level: 'summary' },
      routing: { connector: 'modelmesh.local-file.v1', path: join(dir, 'routing.jsonl') },
    },
  }, { clock: new ManualClock(), env: { ODD: odd } });
  const obs = createObservabilityService(mesh);
  await obs.start?.();
  const clock = new ManualClock();
  mesh.events.emit(event(clock, { error: `upstream echoed ${odd}`, attempts: [{ model: 'up.gpt', provider: 'up', status: 401, outcome: 'failure', reason: `401 bad key ${odd}`, latency_ms: 3 }] }));
  await obs.stop?.();
  for (const file of ['requests.jsonl', 'routing.jsonl']) {
    const text = readFileSync(join(dir, file), 'utf8');
    const [record] = lines(join(dir, file));
    assert.match(String(record?.['error']), /^upstream echoed \[REDACTED\]$/, file);
    assert.match(String((record?.['attempts'] as { reason: string }[])[0]?.reason), /^401 bad key \[REDACTED\]$/, file);
    assert.ok(!text.includes('odd'), `${file}: no part of the secret`);
  }
});
