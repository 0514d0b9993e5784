// The connector of every OpenAI-compatible preset (DESIGN §8): bodies pass through, only `model` is
// rewritten to the upstream name (DESIGN §4.7); multipart forms are re-encoded with the same swap.
import type { MeshError } from '../errors.ts';
import { encodeMultipart, formField } from '../lib/multipart.ts';
import type { FormData } from '../lib/multipart.ts';
import { inBandError, type SseEvent } from '../lib/sse.ts';
import type { Endpoint, ProviderCall, ProviderResponse, SseResponse } from './provider.ts';
import { HttpConnector } from './http/connector.ts';
import { chatErrorAnswer } from './error-answer.ts';
import { streamOfAnswer } from './unstreamed.ts';
import { brokenJsonAnswer } from './json-answer.ts';
import { upstreamError } from './http/upstream-failure.ts';
import type { TransportRequest } from './http/transport-request.ts';

/** Path of each endpoint below the base URL (wire §2–§6; openai-node `buildURL`). */
export const ENDPOINT_PATHS: Readonly<Record<Endpoint, string>> = {
  chat: '/chat/completions',
  embeddings: '/embeddings',
  speech: '/audio/speech',
  transcriptions: '/audio/transcriptions',
  translations: '/audio/translations',
  images: '/images/generations',
  responses: '/responses',
  messages: '/messages',
  completions: '/completions',
  moderations: '/moderations',
  'image-edits': '/images/edits',
};

/** The form with the text part `model` set to `name` (appended when missing); every other part unchanged, in order. */
export function withModel(form: FormData, name: string): FormData {
  let found = false;
  const parts = form.parts.map((p) => {
    if (p.name !== 'model' || p.filename !== undefined) return p;
    found = true;
    return { ...p, data: Buffer.from(name, 'utf8') };
  });
  if (!found) parts.push({ name: 'model', data: Buffer.from(name, 'utf8') });
  return { parts };
}

/** Endpoints whose models may answer a streaming request without streaming (TransportRequest.unstreamed). */
const UNSTREAMED_OK: ReadonlySet<Endpoint> = new Set(['transcriptions', 'translations', 'speech']);

export class OpenAiCompatibleProvider extends HttpConnector {
  /** A 2xx that is not a complete JSON object is a failed attempt (issue 11.3): retried, rotated, counted. */
  readonly #checkJson = (body: Buffer, status: number): MeshError | null => brokenJsonAnswer(this.id, status, body);
  /** A chat answer may also be a gateway's 200 `{"error":…}`: a failed attempt too (error-answer.ts). */
  readonly #checkChat = (body: Buffer, status: number): MeshError | null => brokenJsonAnswer(this.id, status, body) ?? chatErrorAnswer(this.id, status, body);

  /**
   * Not `async`: a buffered answer is the transport's own promise, checked by the exchange before it
   * resolves (TransportRequest.check): no promise of ours in between (issue 16). A failure to build the
   * request throws here, which the attempt loop awaiting this call takes as a rejection.
   */
  call(call: ProviderCall): Promise<ProviderResponse> {
    // A literal, not `{ ...call.headers, … }`: a property after a spread is defined through V8's slow path (issue 16).
    const headers: Record<string, string> = { 'x-request-id': call.requestId };
    let body: Buffer | Buffer[];
    if (call.form !== null) {
      const encoded = encodeMultipart(withModel(call.form, call.model.name));
      headers['content-type'] = encoded.contentType;
      body = encoded.body;
    } else {
      // The body belongs to this request; setting `model` on every attempt keeps it right across models.
      call.body['model'] = call.model.name;
      headers['content-type'] = 'application/json';
      body = Buffer.from(JSON.stringify(call.body), 'utf8');
    }
    if (call.mode === 'sse') headers['accept'] = 'text/event-stream';
    // Per-attempt extras (traceparent); the connector's own headers win. A loop, not a spread: hot path.
    const extra = call.headers;
    if (extra !== undefined) for (const name in extra) if (headers[name] === undefined) headers[name] = extra[name] as string;
    // Also for a streaming chat or completions request: a whole answer to it is checked like a buffered one.
    const whole = call.mode === 'sse' && (call.endpoint === 'chat' || call.endpoint === 'completions');
    const checked = (call.mode === 'buffer' || whole) && expectsJson(call);
    const own = checked ? (call.endpoint === 'chat' || whole ? this.#checkChat : this.#checkJson) : undefined;
    const endpointCheck = call.check;
    // The endpoint's check after ours, its refusal a failed attempt of this provider (no closure without one).
    const check = endpointCheck === undefined || own === undefined ? own : (body: Buffer, status: number): MeshError | null => {
      const problem = own(body, status) ?? endpointCheck(body);
      return typeof problem === 'string' ? upstreamError(this.id, `${status} answer: ${problem}`) : problem;
    };
    const request: TransportRequest = { path: ENDPOINT_PATHS[call.endpoint], headers, body, mode: call.mode, signal: call.signal, check };
    // Audio models may answer a streaming request whole (whisper-1 ignores stream=true, tts-1 has no SSE); a
    // chat or completions model's whole JSON answer becomes the stream asked for (unstreamed.ts).
    if (call.mode === 'sse' && UNSTREAMED_OK.has(call.endpoint)) request.unstreamed = true;
    else if (whole) request.unstreamed = 'json';
    if (call.mode === 'bytes') {
      // JSON instead of audio: read whole, and a 200 `{"error":…}` is a failed attempt before the commit.
      request.bufferJson = true;
      request.check = this.#checkChat;
    }
    const answer = this.transport.request(request);
    if (call.mode !== 'sse') return answer;
    const endpoint = call.endpoint;
    return answer.then((res): ProviderResponse | Promise<ProviderResponse> =>
      res.kind === 'sse' ? this.#checkFirstEvent(res)
        : whole && res.kind === 'buffer' ? streamOfAnswer(res, endpoint === 'chat' ? 'chat' : 'completions') : res);
  }

  /**
   * Some gateways (OpenRouter) answer 200 and then send the failure as the first event
   * `data: {"error":{...}}`. Before anything reached the client that is an ordinary failed attempt,
   * so it is turned into a rejection and the router can fail over (DESIGN §4 streaming rule).
   */
  async #checkFirstEvent(res: SseResponse): Promise<SseResponse> {
    const first = await res.events.next();
    if (first.done !== true) {
      const failure = inBandError(first.value.data);
      if (failure !== undefined) {
        res.close();
        throw upstreamError(this.id, failure.reason, failure.status);
      }
    }
    const rest = res.events;
    let pending: IteratorResult<SseEvent> | undefined = first;
    const events = {
      next: (): Promise<IteratorResult<SseEvent>> => {
        const p = pending;
        pending = undefined;
        return p !== undefined ? Promise.resolve(p) : rest.next();
      },
      // The first event goes through next() (already resolved); after it, what the upstream iterator has ready.
      takeReady: (): SseEvent | undefined => (pending === undefined ? rest.takeReady?.() : undefined),
      return: (): Promise<IteratorResult<SseEvent>> => {
        pending = undefined;
        res.close();
        return Promise.resolve({ done: true, value: undefined });
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
    return { ...res, events };
  }

}

/** Formats of the audio-to-text endpoints answered as plain text (wire §5); every other buffered answer is JSON. */
const TEXT_FORMATS: ReadonlySet<string> = new Set(['text', 'srt', 'vtt']);

function expectsJson(call: ProviderCall): boolean {
  if (call.form === null) return true;
  const format = formField(call.form, 'response_format');
  return format === undefined || !TEXT_FORMATS.has(format);
}
