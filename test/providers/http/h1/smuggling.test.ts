// Response smuggling through our HTTP/1.1 client: an upstream answer with two different Content-Length
// values, whose longer reading holds a whole second answer. Kept on the socket, those bytes would be read as
// the answer to the next request sent on it (another client's). The answer is refused as malformed, the
// socket is not reused, and the next request gets its own answer.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { postJson, startProxy } from '../../../helpers/proxy.ts';
import { pause, startRawUpstream } from './raw-upstream.ts';

const answer = (id: string): string => JSON.stringify({ id, object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: id }, finish_reason: 'stop' }] });
const http = (body: string): string => `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`;

test('two different Content-Length values: refused as malformed, never read as the next request\'s answer', async (t) => {
  const smuggled = http(answer('SMUGGLED'));
  const up = await startRawUpstream(async (socket, req) => {
    if (req.connection === 0 && req.onConnection === 0) {
      socket.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\ncontent-length: ${2 + smuggled.length}\r\n\r\n{}`);
      await pause(5);
      socket.write(smuggled);
      return;
    }
    await pause(20);
    socket.write(http(answer('real')));
  });
  t.after(() => up.close());
  const proxy = await startProxy({
    providers: { a: { connector: 'openai.llm.v1', base_url: up.url, api_key: 'sk-test-key-0000', max_sockets: 1 } },
    models: { 'a.m': { provider: 'a', capabilities: ['chat-completion'] } },
    pools: { p: { models: ['a.m'], retry: { max_attempts: 1 } } },
  });
  t.after(() => proxy.close());
  const ask = () => postJson(`${proxy.url}/v1/chat/completions`, { model: 'p', messages: [{ role: 'user', content: 'hi' }] });
  const [first, second] = await Promise.all([ask(), ask()]);
  assert.equal(first.status, 502, first.body);
  assert.match(first.body, /conflicting content-length/);
  assert.equal(second.status, 200, second.body);
  assert.match(second.body, /"id":"real"/);
  assert.ok(!second.body.includes('SMUGGLED'));
});
