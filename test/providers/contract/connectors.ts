// The three connectors (OpenAI-compatible, Anthropic, simulated) behind one harness, so the contract suite
// (contract.test.ts) runs the same checks over each (as hono runs router/common.case.test.ts over every
// router). HTTP connectors talk to the scripted fake upstream; the simulated one is driven by its knobs.
import type { ModelConfig, ProviderConfig } from '../../../src/config/types.ts';
import { AnthropicProvider } from '../../../src/providers/anthropic/index.ts';
import { OpenAiCompatibleProvider } from '../../../src/providers/openai-compatible.ts';
import { presetFor } from '../../../src/providers/presets.ts';
import type { Provider } from '../../../src/providers/provider.ts';
import { SimulatedProvider } from '../../../src/providers/simulated/index.ts';
import { hang, json, providerConfig, sse, startFakeUpstream, type Behaviour, type FakeUpstream } from '../../helpers/fake-upstream.ts';

/** What a scenario expects of the failure it scripts. */
export interface ExpectedFailure {
  status: number;
  reason: RegExp;
}

/** Usage the scripted answer carries, in OpenAI terms. */
export interface ExpectedUsage {
  prompt_tokens: number;
  completion_tokens: number;
}

export interface Harness {
  provider: Provider;
  model: ModelConfig;
  /** Upstream requests still open (0 once every request ended or was destroyed); always 0 without sockets. */
  openRequests(): number;
  close(): Promise<void>;
}

export interface Connector {
  name: string;
  /** A stream whose first event comes `ms` after the answer's headers. */
  firstEventAfter(ms: number): Promise<Harness>;
  /** A stream that fails before its first event. */
  failsBeforeFirstEvent(): Promise<Harness & { expected: ExpectedFailure }>;
  /** A non-2xx answer (or its simulated equivalent). */
  failsWithStatus(): Promise<Harness & { expected: ExpectedFailure }>;
  /** No answer at all until the call is cancelled. */
  neverAnswers(): Promise<Harness>;
  /** A buffered answer that reports usage; `usage === null`: positive counts, whatever they are. */
  answersWithUsage(stream: boolean): Promise<Harness & { usage: ExpectedUsage | null }>;
}

function model(id: string, name: string): ModelConfig {
  return {
    id, provider: 'p', name, capabilities: ['chat-completion'],
    delivery: { synchronous: true, streaming: true, batch: false },
    features: { tool_calling: null, structured_output: null, json_mode: null, system_prompt: null, grounding: null, logprobs: null, fine_tunable: null },
    constraints: { context_window: null, max_output_tokens: null, max_images: null, max_file_size: null, supported_languages: null },
    pricing: { input_per_1m: 0, output_per_1m: 0 },
  };
}

/** 200 event-stream headers at once, then `blocks` after `ms` (0: never, the stream stays silent). */
function delayedStream(blocks: readonly string[], ms: number): Behaviour {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.flushHeaders();
    const timer = setTimeout(() => res.end(blocks.join('')), ms);
    res.on('close', () => clearTimeout(timer));
  };
}

/** 200 event-stream headers, then the socket dropped before any event. */
const dropBeforeFirstEvent: Behaviour = (_req, res) => {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  res.flushHeaders();
  setImmediate(() => res.socket?.destroy());
};

/** Counts requests the fake upstream has open (a response not yet closed). */
async function upstream(behaviour: Behaviour): Promise<{ up: FakeUpstream; open(): number }> {
  const up = await startFakeUpstream();
  let open = 0;
  up.handle((req, res, recorded) => {
    open++;
    res.on('close', () => open--);
    return behaviour(req, res, recorded);
  });
  return { up, open: () => open };
}

function http(name: string, make: (url: string) => Provider, wire: {
  chunks: string[];
  failure: Behaviour;
  expected: ExpectedFailure;
  usageBody: unknown;
  usageStream: string[];
  modelName: string;
}): Connector {
  const harness = async (behaviour: Behaviour): Promise<Harness> => {
    const { up, open } = await upstream(behaviour);
    const provider = make(up.url);
    return {
      provider, model: model(`p.${wire.modelName}`, wire.modelName), openRequests: open,
      async close() {
        provider.close();
        await up.close();
      },
    };
  };
  const usage = { prompt_tokens: 9, completion_tokens: 2 };
  return {
    name,
    firstEventAfter: (ms) => harness(delayedStream(wire.chunks, ms)),
    async failsBeforeFirstEvent() {
      return { ...(await harness(dropBeforeFirstEvent)), expected: { status: 0, reason: /./ } };
    },
    async failsWithStatus() {
      return { ...(await harness(wire.failure)), expected: wire.expected };
    },
    neverAnswers: () => harness(hang()),
    async answersWithUsage(stream) {
      return { ...(await harness(stream ? sse(wire.usageStream, { done: false }) : json(200, wire.usageBody))), usage };
    },
  };
}

const ev = (data: { type: string } & Record<string, unknown>): string => `event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`;
const chunk = (delta: object, extra: object = {}): string =>
  `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'gpt-up', choices: [{ index: 0, delta, finish_reason: null }], ...extra })}\n\n`;

const openai = http('openai-compatible', (url) => {
  const preset = presetFor('openai.llm.v1');
  if (preset === undefined) throw new Error('no openai preset');
  return new OpenAiCompatibleProvider(providerConfig('openai.llm.v1', url), preset);
}, {
  modelName: 'gpt-up',
  chunks: [chunk({ role: 'assistant', content: 'Hi' }), 'data: [DONE]\n\n'],
  failure: json(503, { error: { message: 'overloaded', type: 'server_error' } }),
  expected: { status: 503, reason: /^503 overloaded/ },
  usageBody: {
    id: 'c1', object: 'chat.completion', created: 1, model: 'gpt-up',
    choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 },
  },
  usageStream: [
    chunk({ role: 'assistant', content: 'Hi' }),
    `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'gpt-up', choices: [], usage: { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 } })}\n\n`,
    'data: [DONE]\n\n',
  ],
});

const ANTHROPIC_STREAM = [
  ev({ type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-up', content: [], stop_reason: null, usage: { input_tokens: 9, output_tokens: 1 } } }),
  ev({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
  ev({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hi' } }),
  ev({ type: 'content_block_stop', index: 0 }),
  ev({ type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 2 } }),
  ev({ type: 'message_stop' }),
];

const anthropic = http('anthropic', (url) => {
  const preset = presetFor('anthropic.claude.v1');
  if (preset === undefined) throw new Error('no anthropic preset');
  return new AnthropicProvider(providerConfig('anthropic.claude.v1', url), preset);
}, {
  modelName: 'claude-up',
  chunks: ANTHROPIC_STREAM,
  failure: json(529, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }),
  expected: { status: 529, reason: /^529 .*Overloaded/ },
  usageBody: {
    id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-up',
    content: [{ type: 'text', text: 'Hi' }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 9, output_tokens: 2 },
  },
  usageStream: ANTHROPIC_STREAM,
});

function simulatedWith(knobs: Partial<ProviderConfig['simulated']>): Harness {
  const base = providerConfig('modelmesh.simulated.v1', null);
  const provider = new SimulatedProvider({ ...base, simulated: { ...base.simulated, ...knobs } });
  return {
    provider, model: model('sim.chat', 'sim-chat'), openRequests: () => 0,
    async close() {
      provider.close();
    },
  };
}

/** The simulated connector's stand-ins: its latency is the wait before the first event. */
const simulated: Connector = {
  name: 'simulated',
  firstEventAfter: async (ms) => simulatedWith({ latency: ms }),
  failsBeforeFirstEvent: async () => ({ ...simulatedWith({ failure_rate: 1 }), expected: { status: 503, reason: /^503 simulated failure$/ } }),
  failsWithStatus: async () => ({ ...simulatedWith({ failure_rate: 1 }), expected: { status: 503, reason: /^503 simulated failure$/ } }),
  neverAnswers: async () => simulatedWith({ latency: 60_000 }),
  answersWithUsage: async () => ({ ...simulatedWith({}), usage: null }),
};

export const CONNECTORS: readonly Connector[] = [openai, anthropic, simulated];
