// Observability through the built CLI: JSONL request log and routing records line by line, no secret in any
// output, /metrics in the exposition format behind the proxy's auth, and a dead webhook that neither slows
// requests nor goes unnoticed (its drop counter rises).
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { closedPort, json, startFakeUpstream } from '../helpers/fake-upstream.ts';
import { closeServer, listen } from '../helpers/listen.ts';
import { postJson, request } from '../helpers/proxy.ts';
import { parseExposition } from './exposition.ts';
import { eventually, median, startCli, tempDir, writeConfig } from './spawn.ts';

const KEY = 'sk-e2e-upstream-key-5f3a9c1d7e';
const TOKEN = 'proxy-token-e2e-8b2d4f6a0c';
const ADMIN = 'admin-token-e2e-1a2b3c4d5e';

function jsonl(path: string): Record<string, unknown>[] {
  const text = readFileSync(path, 'utf8');
  assert.ok(text.endsWith('\n'));
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

test('request log (summary) and routing records, line by line, for a failover', async (t) => {
  const dir = tempDir(t);
  const config = writeConfig(dir, `
proxy: {host: 127.0.0.1}
providers:
  down: {connector: openai.llm.v1, base_url: "http://127.0.0.1:${await closedPort()}/v1", api_key: sk-test}
  sim: {connector: modelmesh.simulated.v1}
models:
  down.gpt: {provider: down, capabilities: [chat-completion]}
  sim.chat: {provider: sim, capabilities: [chat-completion]}
pools:
  chat: {models: [down.gpt, sim.chat], retry: {max_attempts: 1}, deactivation: {retry_limit: 1}, recovery: {cooldown: 1h}}
observability:
  routing: {connector: modelmesh.local-file.v1, path: logs/routing.jsonl}
  logging: {connector: modelmesh.local-file.v1, path: logs/requests.jsonl, level: summary}
`);
  const running = await startCli(t, config);
  const res = await postJson(`${running.url}/v1/chat/completions`, { model: 'chat', messages: [{ role: 'user', content: 'hi' }] }, { 'x-request-id': 'e2e-1' });
  assert.equal(res.status, 200);
  await running.stop(); // the stop flushes the buffered lines

  const [log, ...more] = jsonl(join(dir, 'logs', 'requests.jsonl'));
  assert.equal(more.length, 0);
  assert.deepEqual(Object.keys(log ?? {}).sort(), [
    'attempts', 'candidates', 'client', 'cost', 'endpoint', 'error', 'excluded', 'kind', 'latency_ms', 'model', 'outcome', 'pool', 'provider',
    'request_id', 'requested', 'status', 'stream', 'tokens_in', 'tokens_out', 'ts', 'ttfb_ms',
  ]);
  assert.equal(log?.['request_id'], 'e2e-1');
  assert.equal(log?.['pool'], 'chat');
  assert.equal(log?.['model'], 'sim.chat');
  assert.equal(log?.['outcome'], 'success');
  assert.equal(log?.['stream'], false);
  const attempts = log?.['attempts'] as { model: string; outcome: string; reason: string | null }[];
  assert.deepEqual(attempts.map((a) => [a.model, a.outcome]), [['down.gpt', 'failure'], ['sim.chat', 'success']]);
  assert.match(String(attempts[0]?.reason), /refused|ECONNREFUSED/i);

  const routing = jsonl(join(dir, 'logs', 'routing.jsonl'));
  assert.deepEqual(routing.map((r) => r['type']), ['model_standby', 'rotation', 'decision']);
  assert.equal(routing[0]?.['model'], 'down.gpt');
  assert.deepEqual(routing[2]?.['candidates'], ['down.gpt', 'sim.chat']);
  assert.equal(routing[2]?.['rotations'], 1);
});

test('a configured secret and the client token never appear in logs, records, /metrics, /mesh/status, errors or stderr', async (t) => {
  const up = await startFakeUpstream();
  t.after(() => up.close());
  // The worst upstream: it echoes the key it was sent in its error message.
  up.handle(json(401, { error: { message: `Incorrect API key provided: ${KEY}`, type: 'invalid_request_error', code: 'invalid_api_key' } }));
  const dir = tempDir(t);
  const config = writeConfig(dir, `
proxy:
  host: 127.0.0.1
  auth: {enabled: true, tokens: ["\${secrets:PROXY_TOKEN}"]}
  admin: {tokens: ["\${secrets:ADMIN_TOKEN}"]}
  metrics: true
providers:
  leaky: {connector: openai.llm.v1, base_url: "${up.url}", api_key: "\${secrets:TEST_KEY}"}
models:
  leaky.gpt: {provider: leaky, capabilities: [chat-completion]}
pools:
  chat: {models: [leaky.gpt], retry: {max_attempts: 1}}
observability:
  routing: {connector: modelmesh.console.v1}
  logging: {connector: modelmesh.local-file.v1, path: requests.jsonl, level: full}
  statistics: {connector: modelmesh.local-file.v1, path: stats.jsonl, flush_interval: 100ms}
`);
  const running = await startCli(t, config, { TEST_KEY: KEY, PROXY_TOKEN: TOKEN, ADMIN_TOKEN: ADMIN });
  const auth = { authorization: `Bearer ${TOKEN}` };
  const bodies: string[] = [];
  const chat = await postJson(`${running.url}/v1/chat/completions`, { model: 'chat', messages: [{ role: 'user', content: `echo ${KEY} and ${TOKEN}` }] }, auth);
  bodies.push(chat.body);
  assert.ok(chat.status >= 400, chat.body);
  assert.equal(up.requests[0]?.headers.authorization, `Bearer ${KEY}`, 'the key did reach the upstream');
  const metrics = await request(`${running.url}/metrics`, { headers: auth });
  assert.equal(metrics.status, 200);
  bodies.push(metrics.body);
  for (const path of ['/mesh/status', '/mesh/models', '/mesh/providers']) {
    bodies.push((await request(`${running.url}${path}`, { headers: { authorization: `Bearer ${ADMIN}` } })).body);
  }
  await new Promise((r) => setTimeout(r, 300)); // a statistics flush or two
  await running.stop();
  const outputs: [string, string][] = [
    ['stdout', running.stdout()], ['stderr', running.stderr()],
    ['requests.jsonl', readFileSync(join(dir, 'requests.jsonl'), 'utf8')], ['stats.jsonl', readFileSync(join(dir, 'stats.jsonl'), 'utf8')],
    ...bodies.map((b, i): [string, string] => [`response ${i}`, b]),
  ];
  const leaks: string[] = [];
  for (const [name, text] of outputs) {
    for (const [what, secret] of [['upstream key', KEY], ['proxy token', TOKEN], ['admin token', ADMIN]] as const) {
      if (text.includes(secret)) leaks.push(`${name} leaks the ${what}: ${text.slice(Math.max(0, text.indexOf(secret) - 200), text.indexOf(secret) + 40)}`);
    }
  }
  assert.deepEqual(leaks, []);
  const [logged] = jsonl(join(dir, 'requests.jsonl'));
  const content = ((logged?.['request_body'] as { messages: { content: string }[] }).messages[0])?.content;
  assert.equal(content, 'echo [REDACTED] and [REDACTED]', 'the full request log keeps the body, redacted');
  const console = running.stdout().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { kind: string; type: string });
  assert.ok(console.some((r) => r.type === 'decision'), 'console routing records on stdout');
  assert.ok(console.every((r) => r.kind === 'routing'));
});

test('/metrics: exposition format, behind the proxy auth, counting the traffic', async (t) => {
  const dir = tempDir(t);
  const config = writeConfig(dir, `
proxy:
  host: 127.0.0.1
  auth: {enabled: true, tokens: [t0ken-metrics]}
  metrics: {enabled: true, path: /prom}
providers:
  sim: {connector: modelmesh.simulated.v1}
models:
  sim.chat: {provider: sim, capabilities: [chat-completion]}
`);
  const running = await startCli(t, config);
  const auth = { authorization: 'Bearer t0ken-metrics' };
  for (let i = 0; i < 3; i++) assert.equal((await postJson(`${running.url}/v1/chat/completions`, { model: 'text-generation', messages: [{ role: 'user', content: 'x' }] }, auth)).status, 200);
  assert.equal((await request(`${running.url}/prom`)).status, 401);
  assert.equal((await request(`${running.url}/metrics`, { headers: auth })).status, 404, 'only the configured path');
  const res = await request(`${running.url}/prom`, { headers: auth });
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
  const families = parseExposition(res.body);
  const sample = families.get('modelmesh_requests_total')?.samples.find((s) => s.labels['model'] === 'sim.chat' && s.labels['outcome'] === 'success');
  assert.equal(sample?.value, 3);
  assert.equal(families.get('modelmesh_request_duration_seconds')?.samples.find((s) => s.name.endsWith('_count'))?.value, 3);
  assert.equal(families.get('modelmesh_model_up')?.samples[0]?.value, 1);
  await running.stop();
});

async function latencies(url: string, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const res = await postJson(`${url}/v1/chat/completions`, { model: 'text-generation', messages: [{ role: 'user', content: `m${i}` }] });
    out.push(performance.now() - t0);
    assert.equal(res.status, 200);
  }
  return out;
}

function webhookConfig(url: string | null): string {
  return `
proxy: {host: 127.0.0.1, metrics: true, drain_timeout: 2s}
providers:
  sim: {connector: modelmesh.simulated.v1, latency: 5ms}
models:
  sim.chat: {provider: sim, capabilities: [chat-completion]}
${url === null ? '' : `observability:
  routing: {connector: modelmesh.webhook.v1, url: "${url}", batch_size: 5, flush_interval: 100ms}
  logging: {connector: modelmesh.webhook.v1, url: "${url}", batch_size: 5, flush_interval: 100ms, level: full}`}
`;
}

test('a webhook that is down or hangs does not slow requests, and its drop counter rises', async (t) => {
  const hanging = createServer(() => undefined); // accepts, never answers
  const hangingUrl = await listen(hanging);
  t.after(() => closeServer(hanging));
  const N = 40;
  const runs: Record<string, number> = {};
  for (const [name, url] of [['none', null], ['down', `http://127.0.0.1:${await closedPort()}/hook`], ['hanging', `${hangingUrl}/hook`]] as const) {
    const running = await startCli(t, writeConfig(tempDir(t), webhookConfig(url)));
    await latencies(running.url, 5); // warm-up
    runs[name] = median(await latencies(running.url, N));
    if (name === 'down') {
      const dropped = async (): Promise<number> => {
        const text = (await request(`${running.url}/metrics`)).body;
        const families = parseExposition(text);
        return (families.get('modelmesh_observability_dropped_total')?.samples ?? []).reduce((sum, s) => sum + s.value, 0);
      };
      await eventually(async () => (await dropped()) > 0, 20_000, 'webhook drops counted');
    }
    const exit = await running.stop();
    assert.equal(exit.code, 0, running.stderr());
  }
  const base = runs['none'] ?? 0;
  for (const name of ['down', 'hanging']) {
    const m = runs[name] ?? 0;
    assert.ok(m <= base * 3 + 25, `median with a ${name} webhook ${m.toFixed(1)} ms vs ${base.toFixed(1)} ms without`);
  }
});
