// anthropic.claude.v1 serving POST /v1/messages natively (issue 15): the client's Messages body goes upstream as
// is, only `model` rewritten (no double translation); anthropic-version / anthropic-beta come in ProviderCall.headers
// and win over the preset's. The answer is Anthropic's own JSON or event stream, relayed by the endpoint.
import type { MeshError } from '../../errors.ts';
import type { SseEvent } from '../../lib/sse.ts';
import { errorEnvelope } from '../error-answer.ts';
import type { HttpTransport } from '../http/client.ts';
import { upstreamError } from '../http/upstream-failure.ts';
import { brokenJsonAnswer } from '../json-answer.ts';
import type { ProviderCall, ProviderResponse, SseResponse } from '../provider.ts';
import { anthropicError } from './stream.ts';

export async function nativeMessages(transport: HttpTransport, id: string, call: ProviderCall): Promise<ProviderResponse> {
  call.body['model'] = call.model.name;
  const res = await transport.request({
    path: '/messages',
    headers: { ...call.headers, 'content-type': 'application/json', 'x-request-id': call.requestId },
    body: Buffer.from(JSON.stringify(call.body), 'utf8'),
    mode: call.mode === 'sse' ? 'sse' : 'buffer',
    signal: call.signal,
  });
  if (res.kind === 'sse') return checkFirstEvent(res, id);
  if (res.kind !== 'buffer') throw upstreamError(id, 'unexpected response mode');
  const broken = brokenJsonAnswer(id, res.status, res.body);
  if (broken !== null) throw broken;
  // A gateway may answer 200 with Anthropic's error envelope (however it is spaced or ordered): a failed
  // attempt, not a message. Its error type gives the status (overloaded_error 529 counts against the model,
  // invalid_request_error 400 stays the request's fault).
  const envelope = errorEnvelope(res.body);
  if (envelope !== null) throw failure(id, envelope, `${res.status} error answer`);
  return res;
}

/** An error envelope or event as the attempt's failure: `"<status> <message> (<where>)"`, status from its type. */
function failure(id: string, payload: unknown, where: string): MeshError {
  const err = anthropicError(id, payload);
  const reason = `${err.upstream?.reason ?? 'error'} (${where})`;
  return upstreamError(id, reason, err.upstream?.status ?? 0);
}

const ERROR_TOKEN = '"error"';
const PING_TOKEN = '"ping"';

/** The event's `type`: its `event:` line, else its data's `type` (parsed only when the data names it). */
function typeOf(event: SseEvent, token: string): unknown {
  if (event.event !== undefined) return event.event;
  if (!event.data.includes(token)) return undefined;
  try {
    const parsed: unknown = JSON.parse(event.data);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>)['type'] : undefined;
  } catch {
    return undefined;
  }
}

function parsed(data: string): unknown {
  try {
    return JSON.parse(data);
  } catch {
    return undefined;
  }
}

/**
 * Anthropic may answer 200 and then `event: error` (overloaded_error) before message_start: nothing reached the
 * client yet, so that is an ordinary failed attempt and the router fails over. Keep-alive `ping`s may come
 * first (a gateway's, or Anthropic's while it waits): they are read past, not relayed (the client's connection
 * is not open yet, and a flood of them would be held in memory), and the decision is taken on the first other
 * event. A stream that ends before one is a failed attempt too.
 */
async function checkFirstEvent(res: SseResponse, id: string): Promise<SseResponse> {
  let first: IteratorResult<SseEvent>;
  try {
    do first = await res.events.next();
    while (first.done !== true && typeOf(first.value, PING_TOKEN) === 'ping');
  } catch (err) {
    res.close();
    throw err;
  }
  if (first.done === true) {
    res.close();
    throw upstreamError(id, 'stream ended before message_start');
  }
  if (typeOf(first.value, ERROR_TOKEN) === 'error') {
    res.close();
    throw failure(id, parsed(first.value.data), `error event before message_start: ${first.value.data.slice(0, 200)}`);
  }
  const rest = res.events;
  let pending: IteratorResult<SseEvent> | undefined = first;
  const events: AsyncIterator<SseEvent> = {
    next: (): Promise<IteratorResult<SseEvent>> => {
      const p = pending;
      pending = undefined;
      return p !== undefined ? Promise.resolve(p) : rest.next();
    },
  };
  return { ...res, events };
}
