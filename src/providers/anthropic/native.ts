// anthropic.claude.v1 serving POST /v1/messages natively (issue 15): the client's Messages body goes upstream as
// is, only `model` rewritten (no double translation); anthropic-version / anthropic-beta come in ProviderCall.headers
// and win over the preset's. The answer is Anthropic's own JSON or event stream, relayed by the endpoint.
import type { SseEvent } from '../../lib/sse.ts';
import type { HttpTransport } from '../http/client.ts';
import { upstreamError } from '../http/upstream-failure.ts';
import { brokenJsonAnswer } from '../json-answer.ts';
import type { ProviderCall, ProviderResponse, SseResponse } from '../provider.ts';

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
  // A gateway may answer 200 with Anthropic's error envelope: a failed attempt, not a message.
  if (res.body.includes('"type":"error"') && res.body.toString('utf8').trimStart().startsWith('{"type":"error"')) {
    throw upstreamError(id, `${res.status} error answer`);
  }
  return res;
}

/**
 * Anthropic may answer 200 and then `event: error` (overloaded_error) before message_start: nothing reached the
 * client yet, so that is an ordinary failed attempt and the router fails over.
 */
async function checkFirstEvent(res: SseResponse, id: string): Promise<SseResponse> {
  const first = await res.events.next();
  if (first.done !== true && (first.value.event === 'error' || first.value.data.startsWith('{"type":"error"'))) {
    res.close();
    throw upstreamError(id, `error event before message_start: ${first.value.data.slice(0, 200)}`, 529);
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
