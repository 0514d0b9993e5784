// Native or translated, per attempt (issues 14, 15): a request in another protocol (Responses, Anthropic Messages)
// goes as is to a model whose provider speaks that protocol, and as its chat translation to every other model.
import type { MeshError } from '../../errors.ts';
import type { CancelSignal } from '../../lib/cancel.ts';
import type { FormData } from '../../lib/multipart.ts';
import type { AnswerCheck, Endpoint, ProviderCall, ResponseMode } from '../../providers/provider.ts';
import type { ModelEntry } from '../types.ts';

/** RouteRequest.translated: the chat call for non-native models, or why there is none. */
export type Translated = { body: Record<string, unknown>; mode: ResponseMode; only?: boolean } | { error: MeshError };

/** The parts of a RouteRequest (request.ts) an attempt's call is built from. */
export interface AttemptRequest {
  endpoint: Endpoint;
  body: Record<string, unknown>;
  form: FormData | null;
  mode: ResponseMode;
  requestId: string;
  translated?: Translated;
  headers?: Readonly<Record<string, string>>;
  nativeHeaders?: Readonly<Record<string, string>>;
  check?: AnswerCheck;
}

/** Whether `model` gets the client's body as is (true) or the translated chat call, for this request. */
export function isNative(req: AttemptRequest, model: ModelEntry): boolean {
  const t = req.translated;
  if (t === undefined) return true;
  if ('body' in t && t.only === true) return false;
  return model.provider.speaks?.(req.endpoint, model.config) === true;
}

/** The call one attempt sends: native body, or the translated chat call (endpoint 'chat'). */
export function attemptCall(req: AttemptRequest, model: ModelEntry, signal: CancelSignal): ProviderCall {
  const t = req.translated;
  // One literal, `headers` set after it: a spread in the literal is V8's slow path, on every attempt.
  let call: ProviderCall;
  let headers = req.headers;
  if (t === undefined || isNative(req, model)) {
    if (req.nativeHeaders !== undefined && t !== undefined) headers = { ...req.headers, ...req.nativeHeaders };
    call = { endpoint: req.endpoint, model: model.config, body: req.body, form: req.form, mode: req.mode, signal, requestId: req.requestId };
    if (req.check !== undefined) call.check = req.check;
  } else {
    // Not reached for `{ error }`: such models are not eligible.
    const chat = 'body' in t ? t : { body: {}, mode: req.mode };
    call = { endpoint: 'chat', model: model.config, body: chat.body, form: req.form, mode: chat.mode, signal, requestId: req.requestId };
  }
  if (headers !== undefined) call.headers = headers;
  return call;
}
