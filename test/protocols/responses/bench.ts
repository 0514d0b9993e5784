// Micro-benchmark of the Responses translation (issue 14 §5: at most 1.3x the proxy CPU of the same chat
// request). Not a test: run `node --import tsx test/protocols/responses/bench.ts`. Measures, per request, the
// extra work a Responses request does over a chat one on a chat-only upstream: JSON.parse of the client body
// and JSON.stringify of the upstream body happen for chat too, so they are shown as the baseline.
import { performance } from 'node:perf_hooks';
import { needsOf, toChatRequest } from '../../../src/protocols/responses/request.ts';
import { fromChatCompletion } from '../../../src/protocols/responses/response.ts';
import { ChatToResponsesStream, encodeEvents } from '../../../src/protocols/responses/stream.ts';
import { newId } from '../../../src/protocols/responses/ids.ts';

const schema = (n: number): Record<string, unknown> => ({
  type: 'object',
  properties: Object.fromEntries(Array.from({ length: n }, (_, i) => [`p${i}`, { type: 'string', description: `parameter ${i}` }])),
  required: ['p0'],
  additionalProperties: false,
});
/** A Codex-like turn: long instructions, a tool round trip in the input, five function tools. */
const body = {
  model: 'smart',
  instructions: 'You are a coding agent. '.repeat(80),
  input: [
    { role: 'user', content: [{ type: 'input_text', text: 'Fix the failing test in src/app.ts, please. '.repeat(4) }] },
    { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Let me look at the file.', annotations: [] }] },
    { type: 'function_call', call_id: 'call_1', name: 'shell', arguments: '{"command":["cat","src/app.ts"]}' },
    { type: 'function_call_output', call_id: 'call_1', output: 'export function add(a, b) { return a - b; }\n'.repeat(20) },
    { role: 'user', content: 'Go on.' },
  ],
  tools: Array.from({ length: 5 }, (_, i) => ({ type: 'function', name: `tool_${i}`, description: `Tool number ${i}`, parameters: schema(4), strict: false })),
  tool_choice: 'auto',
  parallel_tool_calls: false,
  max_output_tokens: 1024,
  temperature: 0.2,
  store: true,
};
const raw = JSON.stringify(body);
const chatAnswer = JSON.stringify({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  model: 'up',
  choices: [{ index: 0, message: { role: 'assistant', content: 'The subtraction should be an addition; here is the fix. '.repeat(6), tool_calls: [{ id: 'call_2', type: 'function', function: { name: 'tool_1', arguments: '{"p0":"src/app.ts","p1":"return a + b;"}' } }] }, finish_reason: 'tool_calls' }],
  usage: { prompt_tokens: 900, completion_tokens: 120, total_tokens: 1020 },
});

function time(label: string, n: number, fn: () => void): number {
  for (let i = 0; i < 2000; i++) fn();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) fn();
  const us = ((performance.now() - t0) * 1000) / n;
  process.stdout.write(`${label.padEnd(58)} ${us.toFixed(2).padStart(8)} us\n`);
  return us;
}

const N = 20_000;
const base = time('baseline: JSON.parse(body) + JSON.stringify(body) (chat does this too)', N, () => void JSON.stringify(JSON.parse(raw)));
const baseAnswer = time('baseline: JSON.parse(answer) + JSON.stringify(answer)', N, () => void JSON.stringify(JSON.parse(chatAnswer)));
const parsedBody = JSON.parse(raw) as Record<string, unknown>;
const parsedAnswer: unknown = JSON.parse(chatAnswer);
const needs = time('needsOf(body)', N, () => void needsOf(parsedBody));
const t = toChatRequest(parsedBody, null);
const req = time('toChatRequest(body)', N, () => void toChatRequest(parsedBody, null));
const res = time('fromChatCompletion(answer)', N, () => void fromChatCompletion(parsedAnswer, { id: newId('resp'), model: 'smart', createdAt: 1, echo: t.echo }));
const out = time('JSON.stringify(response object)', N, () => void JSON.stringify(fromChatCompletion(parsedAnswer, { id: 'resp_x', model: 'smart', createdAt: 1, echo: t.echo })));
const words = Array.from({ length: 100 }, (_, i) => ({ choices: [{ index: 0, delta: { content: `w${i} ` }, finish_reason: null }] }));
time('stream: 100 text deltas, start..end, encoded (per stream)', 2000, () => {
  const s = new ChatToResponsesStream({ id: 'resp_x', model: 'smart', createdAt: 1, echo: t.echo });
  let text = encodeEvents(s.start());
  for (const w of words) text += encodeEvents(s.push(w));
  text += encodeEvents(s.end());
});
process.stdout.write(`\nsync translation total (needsOf + toChatRequest + fromChatCompletion + stringify of the Response): ${(needs + req + out).toFixed(2)} us\n`);
process.stdout.write(`(fromChatCompletion alone ${res.toFixed(2)} us; JSON baselines ${base.toFixed(2)} + ${baseAnswer.toFixed(2)} us)\n`);

// The bench's sync scenario body (a one-line prompt): the whole translated round trip, answer parse included
// (the chat relay reads usage from the answer's tail without parsing it).
const small = JSON.parse('{"model":"smart","input":"Hello!","max_output_tokens":16}') as Record<string, unknown>;
const smallAnswer = JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: 'up', choices: [{ index: 0, message: { role: 'assistant', content: 'Hello! How can I help you today?' }, finish_reason: 'stop' }], usage: { prompt_tokens: 9, completion_tokens: 9, total_tokens: 18 } });
const total = time('small body: needsOf + toChatRequest + stringify(chat) + parse(answer) + fromChatCompletion + stringify', N, () => {
  needsOf(small);
  const tr = toChatRequest(small, null);
  JSON.stringify(tr.chat);
  JSON.stringify(fromChatCompletion(JSON.parse(smallAnswer), { id: newId('resp'), model: 'smart', createdAt: 1, echo: tr.echo }));
});
const chatOnly = time('small body, chat path equivalent: stringify(chat body)', N, () => void JSON.stringify({ model: 'smart', messages: [{ role: 'user', content: 'Hello!' }], max_tokens: 16 }));
process.stdout.write(`small body: ${(total - chatOnly).toFixed(2)} us more than the chat path (README: ~118 us proxy CPU per chat request)\n`);
