// Issue 11.1: a client can never take a model down. Only failures that came back from the upstream
// exchange count against a model; the proxy's own faults are a 500 (logged once) with no state change, and
// input made to break recursive code (JSON nested thousands of levels deep) is a 400 before any routing.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { MAX_JSON_DEPTH, nestingBeyond } from '../../src/lib/json-syntax.ts';
import { json, startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.ts';
import { captureLogger, errorOf, postJson, request, startProxy, type StartedProxy } from '../helpers/proxy.ts';

const OK = { id: 'c', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }] };

async function setup(t: TestContext): Promise<{ up: FakeUpstream; proxy: StartedProxy; records: ReturnType<typeof captureLogger>['records'] }> {
  const up = await startFakeUpstream();
  t.after(() => up.close());
  up.handle(json(200, OK));
  const { logger, records } = captureLogger();
  const proxy = await startProxy({
    providers: { up: { connector: 'openai.llm.v1', base_url: up.url, api_key: 'sk-test' } },
    models: { 'up.chat': { provider: 'up', capabilities: ['chat-completion'] } },
    pools: { 'text-generation': { deactivation: { retry_limit: 3 }, retry: { max_attempts: 2 } } },
  }, { logger });
  t.after(() => proxy.close());
  return { up, proxy, records };
}

/** A chat body whose `metadata` nests `depth` arrays (as text: JSON.stringify itself overflows at 5,000). */
function nestedChat(depth: number): string {
  return `{"model":"text-generation","messages":[{"role":"user","content":"hi"}],"metadata":${'['.repeat(depth)}"x"${']'.repeat(depth)}}`;
}

function post(url: string, body: string): ReturnType<typeof request> {
  return request(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
}

test('a body nested 5,000 levels deep is a 400 naming the problem: no upstream call, the model stays active', async (t) => {
  const { up, proxy } = await setup(t);
  for (let i = 0; i < 3; i++) {
    const reply = await post(proxy.url, nestedChat(5_000));
    assert.equal(reply.status, 400);
    assert.equal(errorOf(reply).code, 'invalid_json');
    assert.match(errorOf(reply).message, new RegExp(`deeper than ${MAX_JSON_DEPTH} levels`));
  }
  assert.equal(up.requests.length, 0);
  const s = proxy.mesh.state.model('up.chat');
  assert.equal(s.status, 'active');
  assert.equal(s.consecutive_failures, 0);
  const after = await postJson(`${proxy.url}/v1/chat/completions`, { model: 'text-generation', messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(after.status, 200);
});

test('nesting up to the limit passes through to the upstream untouched', async (t) => {
  const { up, proxy } = await setup(t);
  const reply = await post(proxy.url, nestedChat(MAX_JSON_DEPTH - 1));
  assert.equal(reply.status, 200);
  assert.equal(up.requests.length, 1);
});

test('an internal error in a connector is a 500 internal_error, logged once, never counted against the model', async (t) => {
  const { up, proxy, records } = await setup(t);
  const provider = proxy.mesh.registry.providers.get('up');
  assert.ok(provider);
  const call = provider.call.bind(provider);
  let broken = true;
  provider.call = (c) => (broken ? Promise.reject(new RangeError('Maximum call stack size exceeded')) : call(c));
  for (let i = 0; i < 4; i++) {
    const reply = await postJson(`${proxy.url}/v1/chat/completions`, { model: 'text-generation', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(reply.status, 500);
    assert.equal(errorOf(reply).code, 'internal_error');
    assert.equal(reply.headers['x-modelmesh-attempts'], undefined);
  }
  assert.equal(up.requests.length, 0);
  const s = proxy.mesh.state.model('up.chat');
  assert.equal(s.status, 'active');
  assert.equal(s.consecutive_failures, 0);
  assert.deepEqual(s.recent, []);
  assert.equal(records.filter((r) => r.level === 'error' && r.msg === 'unhandled error').length, 4);
  broken = false;
  assert.equal((await postJson(`${proxy.url}/v1/chat/completions`, { model: 'text-generation', messages: [{ role: 'user', content: 'hi' }] })).status, 200);
});

test('nestingBeyond: brackets inside strings do not count; the offset is the first bracket too deep', () => {
  assert.equal(nestingBeyond('[[["[[[[["]]]', 3), -1);
  assert.equal(nestingBeyond('{"a":[[1]]}', 2), 6);
  assert.equal(nestingBeyond('"\\"[[[["', 1), -1);
  assert.equal(nestingBeyond('[]'.repeat(1000), 1), -1);
});
