// Fault suite, broken upstreams (issue 11): a pool of two upstreams where one dies, hangs, resets before or
// in the middle of its answer, answers garbage or truncated JSON under a 200, or answers 429/500/503. Every
// client request is still answered 200, by the healthy upstream; and with both healthy, one upstream dying in
// the middle of a run (in-flight requests cut) fails no client request either.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { destroy, hang, json, startFakeUpstream, text, type Behaviour, type FakeUpstream } from '../helpers/fake-upstream.ts';
import { postJson, startProxy, type Reply } from '../helpers/proxy.ts';
import { assertNone, meshFor, n, pool, size, summary } from './common.ts';

function chatAnswer(content: string): object {
  return { id: 'c', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } };
}
const EMBED = { object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.5, 0.25] }], model: 'e', usage: { prompt_tokens: 1, total_tokens: 1 } };

/** Answers like a real upstream: chat or embeddings by path, `content` naming who answered, after `ms`. */
function healthy(content: string, ms = 0): Behaviour {
  return async (req, res) => {
    if (ms > 0) await delay(ms);
    const body = JSON.stringify(req.url?.endsWith('/embeddings') ? { ...EMBED, model: content } : chatAnswer(content));
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
}

/** 200 with a Content-Length, half the body, then the socket is destroyed. */
const resetMidBody: Behaviour = (_req, res) => {
  const body = JSON.stringify(chatAnswer('never'));
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.write(body.slice(0, 20));
  setTimeout(() => res.socket?.destroy(), 5);
};

const FAULTS: [string, Behaviour | 'dead'][] = [
  ['dead (connection refused)', 'dead'],
  ['hangs (first byte timeout)', hang()],
  ['resets before answering', destroy()],
  ['resets mid-body', resetMidBody],
  ['HTML under 200 application/json', text(200, '<html>502 oops</html>', 'application/json')],
  ['truncated JSON under 200', json(200, '{"id":"x","choices":[tru')],
  ['429 with Retry-After', json(429, { error: { message: 'slow down', type: 'rate_limit_error', param: null, code: null } }, { 'retry-after': '1' })],
  ['500', json(500, { error: { message: 'boom', type: 'server_error', param: null, code: null } })],
  ['503', json(503, { error: { message: 'overloaded', type: 'server_error', param: null, code: null } })],
];

const POOLS = {
  'text-generation': { strategy: 'round-robin', retry: { max_attempts: 2, initial_delay: '1ms', max_delay: '5ms' } },
  embeddings: { strategy: 'round-robin', retry: { max_attempts: 2, initial_delay: '1ms', max_delay: '5ms' } },
};

async function pair(t: { after: (fn: () => Promise<void>) => void }): Promise<[FakeUpstream, FakeUpstream]> {
  const a = await startFakeUpstream();
  const b = await startFakeUpstream();
  t.after(() => a.close());
  t.after(() => b.close());
  return [a, b];
}

/** One client request, chat or embeddings by `i`; a failure is described, a 200 answered by `from` is null. */
async function call(url: string, i: number, from: RegExp): Promise<string | null> {
  const reply: Reply | Error = i % 3 === 2
    ? await postJson(`${url}/v1/embeddings`, { model: 'embeddings', input: `text ${i}` }).catch((err: Error) => err)
    : await postJson(`${url}/v1/chat/completions`, { model: 'text-generation', messages: [{ role: 'user', content: `hi ${i}` }] }).catch((err: Error) => err);
  if (reply instanceof Error) return `#${i}: ${reply.message}`;
  if (reply.status !== 200) return `#${i}: ${reply.status} ${reply.body.slice(0, 200)}`;
  if (!from.test(reply.body)) return `#${i}: answered by the wrong upstream: ${reply.body.slice(0, 120)}`;
  return null;
}

test('one of two upstreams broken (dead, hanging, resetting, garbage, 429, 5xx): 0 failed client requests', async (t) => {
  const each = size(8, 150);
  const failures: string[] = [];
  const brokenCalls: string[] = [];
  for (const [name, fault] of FAULTS) {
    const [a, b] = await pair(t);
    b.handle(healthy('from-b'));
    if (fault === 'dead') await a.close();
    else a.handle(fault);
    const proxy = await startProxy(meshFor([a, b], { pools: POOLS, timeouts: { first_byte: '300ms', idle: '300ms' } }));
    await pool(each, 4, async (i) => {
      const problem = await call(proxy.url, i, /from-b/);
      if (problem !== null) failures.push(`${name} ${problem}`);
    });
    brokenCalls.push(`${name} ${a.requests.length}`);
    await proxy.close();
  }
  const total = each * FAULTS.length;
  summary(t, `broken upstreams ${FAULTS.length} kinds × ${n(each)} requests = ${n(total)}, one of two upstreams broken → ` +
    `${n(total - failures.length)} answered 200 by the healthy one, ${n(failures.length)} failed client requests`);
  assertNone(failures, 'client requests failed while one upstream was broken');
  // Each broken upstream was really tried (except the dead one, which has no listener to count).
  for (const line of brokenCalls.slice(1)) assert.doesNotMatch(line, / 0$/, `${line}: the broken upstream was never tried`);
});

test('one of two upstreams dies mid-run, in-flight requests cut: 0 failed client requests', async (t) => {
  const [a, b] = await pair(t);
  a.handle(healthy('from-a', 15));
  b.handle(healthy('from-b', 15));
  const proxy = await startProxy(meshFor([a, b], { pools: POOLS }));
  t.after(() => proxy.close());
  const total = size(120, 3_000);
  const failures: string[] = [];
  let done = 0;
  let killedAt = -1;
  await pool(total, 8, async (i) => {
    const problem = await call(proxy.url, i, /from-[ab]/);
    if (problem !== null) failures.push(problem);
    if (++done === Math.floor(total / 3)) {
      killedAt = done;
      await a.close(); // drops a's in-flight connections and stops listening
    }
  });
  const servedByA = a.requests.length;
  summary(t, `upstream dies mid-run: ${n(total)} requests over a pool of 2, one upstream killed after ${n(killedAt)} ` +
    `(${n(servedByA)} calls had reached it) → ${n(total - failures.length)} answered 200, ${n(failures.length)} failed client requests`);
  assertNone(failures, 'client requests failed when an upstream died mid-run');
  assert.ok(servedByA > 0 && b.requests.length > total / 2);
});
